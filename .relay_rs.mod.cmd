savedcmd_/work/main/relay_rs.mod := printf '%s\n'   relay_rs_core.o bindings/relay_rs_glue.o | awk '!x[$$0]++ { print("/work/main/"$$0) }' > /work/main/relay_rs.mod
