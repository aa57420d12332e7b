savedcmd_/work/main/relay_rs_core.o := RUST_MODFILE=/work/main/relay_rs_core rustc --edition=2021 -Zbinary_dep_depinfo=y -Astable_features -Aunused_features -Dnon_ascii_idents -Dunsafe_op_in_unsafe_fn -Wmissing_docs -Wrust_2018_idioms -Wunreachable_pub -Wclippy::all -Aclippy::collapsible_if -Aclippy::collapsible_match -Wclippy::ignored_unit_patterns -Wclippy::mut_mut -Wclippy::needless_bitwise_bool -Aclippy::needless_lifetimes -Wclippy::no_mangle_with_rust_abi -Wclippy::undocumented_unsafe_blocks -Aclippy::uninlined_format_args -Wclippy::unnecessary_safety_comment -Wclippy::unnecessary_safety_doc -Aclippy::unwrap_or_default -Wrustdoc::missing_crate_level_docs -Wrustdoc::unescaped_backticks -Cpanic=abort -Cembed-bitcode=n -Clto=n -Cforce-unwind-tables=n -Ccodegen-units=1 -Csymbol-mangling-version=v0 -Crelocation-model=static -Zfunction-sections=n -Wclippy::float_arithmetic --target=./scripts/target.json -Ctarget-feature=-sse,-sse2,-sse3,-ssse3,-sse4.1,-sse4.2,-avx,-avx2 -Zcf-protection=branch -Cjump-tables=n -Ztune-cpu=generic -Cno-redzone=y -Ccode-model=kernel -Copt-level=2 -Cdebug-assertions=n -Coverflow-checks=y  --cfg MODULE  @./include/generated/rustc_cfg -Zallow-features=arbitrary_self_types,lint_reasons,used_with_arg -Zcrate-attr=no_std -Zcrate-attr='feature(arbitrary_self_types,lint_reasons,used_with_arg)' -Zunstable-options --extern kernel --crate-type rlib -L ./rust/ --crate-name relay_rs_core --sysroot=/dev/null --out-dir /work/main/ --emit=dep-info=/work/main/.relay_rs_core.o.d --emit=obj=/work/main/relay_rs_core.o /work/main/relay_rs.rs 

source_/work/main/relay_rs_core.o := /work/main/relay_rs.rs

deps_/work/main/relay_rs_core.o := \
    $(wildcard include/config/KUNIT) \
  /work/main/bindings/mod.rs \
  /work/main/buffer/mod.rs \
  /work/main/buffer/ring.rs \
  /work/main/channel/mod.rs \
  /work/main/channel/api.rs \
  /work/main/channel/callbacks.rs \
  /work/main/compat/mod.rs \
  /work/main/compat/cpu.rs \
  /work/main/compat/debugfs.rs \
  /work/main/compat/fs.rs \
  /work/main/compat/irq_work.rs \
  /work/main/compat/percpu.rs \
  /work/main/compat/poll.rs \
  /work/main/compat/vmap.rs \
  /work/main/fileops/mod.rs \
  /work/main/tests/kunit_rs.rs \
  /work/main/bindings/bindings_generated.rs \
  ./rust/libcore.rmeta \
  ./rust/libkernel.rmeta \
  ./rust/libffi.rmeta \
  ./rust/libcompiler_builtins.rmeta \
  ./rust/libmacros.so \
  ./rust/libbindings.rmeta \
  ./rust/libuapi.rmeta \
  ./rust/libbuild_error.rmeta \

/work/main/relay_rs_core.o: $(deps_/work/main/relay_rs_core.o)

$(deps_/work/main/relay_rs_core.o):
