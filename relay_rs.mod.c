#include <linux/module.h>
#include <linux/export-internal.h>
#include <linux/compiler.h>

MODULE_INFO(name, KBUILD_MODNAME);

__visible struct module __this_module
__section(".gnu.linkonce.this_module") = {
	.name = KBUILD_MODNAME,
	.init = init_module,
#ifdef CONFIG_MODULE_UNLOAD
	.exit = cleanup_module,
#endif
	.arch = MODULE_ARCH_INIT,
};

KSYMTAB_FUNC(relay_rs_open, "_gpl", "");
KSYMTAB_FUNC(relay_rs_close, "_gpl", "");
KSYMTAB_FUNC(relay_rs_flush, "_gpl", "");
KSYMTAB_FUNC(relay_rs_reset, "_gpl", "");
KSYMTAB_FUNC(relay_rs_subbufs_consumed, "_gpl", "");
KSYMTAB_FUNC(relay_rs_buf_full, "_gpl", "");
KSYMTAB_FUNC(relay_rs_switch_subbuf, "_gpl", "");
KSYMTAB_FUNC(relay_rs_write, "_gpl", "");
KSYMTAB_FUNC(__relay_rs_write, "_gpl", "");
KSYMTAB_FUNC(relay_rs_reserve, "_gpl", "");
KSYMTAB_FUNC(relay_rs_stats, "_gpl", "");
KSYMTAB_DATA(relay_rs_file_operations, "_gpl", "");

MODULE_INFO(depends, "");

