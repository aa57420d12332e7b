/work/main/relay_rs_core.o
/work/main/bindings/relay_rs_glue.o
