// SPDX-License-Identifier: GPL-2.0
/*
 * Compiled and run by build.rs on the build host: prints, as Rust const
 * assertions, what include/uapi/relay_rs.h says about the ioctl numbers and
 * the layout of its structures. src/uapi.rs includes the output, so
 * relay-consumer does not build if its #[repr(C)] types or ioctl numbers
 * differ from the header's.
 */
#include <stddef.h>
#include <stdio.h>
#include <relay_rs.h>

#define sizeof_field(type, field) sizeof(((type *)0)->field)

static void value(const char *rust, unsigned long long c)
{
	printf("const _: () = assert!(%s == %llu, \"%s differs from include/uapi/relay_rs.h\");\n",
	       rust, c, rust);
}

static void shape(const char *rust, const char *c, size_t size, size_t align)
{
	printf("const _: () = assert!(size_of::<%s>() == %zu && align_of::<%s>() == %zu, \"%s: size or alignment differs from include/uapi/relay_rs.h's struct %s\");\n",
	       rust, size, rust, align, rust, c);
}

static void field(const char *rust, const char *name, size_t offset, size_t size)
{
	printf("const _: () = assert!(offset_of!(%s, %s) == %zu && field_size(|s: &%s| &s.%s) == %zu, \"%s.%s: offset or size differs from include/uapi/relay_rs.h\");\n",
	       rust, name, offset, rust, name, size, rust, name);
}

#define SHAPE(rust, c) shape(#rust, #c, sizeof(struct c), _Alignof(struct c))
#define FIELD(rust, c, name) \
	field(#rust, #name, offsetof(struct c, name), sizeof_field(struct c, name))

int main(void)
{
	value("MAGIC", RELAY_RS_IOC_MAGIC);
	value("INFO", RELAY_RS_IOC_INFO);
	value("PADDING", RELAY_RS_IOC_PADDING);
	value("CONSUMED", RELAY_RS_IOC_CONSUMED);
	value("DELIVERY", RELAY_RS_IOC_DELIVERY);

	SHAPE(BufInfo, relay_rs_buf_info);
	FIELD(BufInfo, relay_rs_buf_info, subbuf_size);
	FIELD(BufInfo, relay_rs_buf_info, n_subbufs);
	FIELD(BufInfo, relay_rs_buf_info, alloc_size);
	FIELD(BufInfo, relay_rs_buf_info, produced);
	FIELD(BufInfo, relay_rs_buf_info, consumed);
	FIELD(BufInfo, relay_rs_buf_info, bytes_consumed);
	FIELD(BufInfo, relay_rs_buf_info, offset);
	FIELD(BufInfo, relay_rs_buf_info, finalized);

	SHAPE(Padding, relay_rs_padding);
	FIELD(Padding, relay_rs_padding, first);
	FIELD(Padding, relay_rs_padding, count);
	FIELD(Padding, relay_rs_padding, padding);
	return ferror(stdout) || fclose(stdout);
}
