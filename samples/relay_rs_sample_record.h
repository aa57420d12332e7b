/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Record format of the relay_rs samples and tests: self-describing,
 * checksummed records so that user space can verify every byte read back.
 * tools/relay-check implements the same format.
 */
#ifndef _RELAY_RS_SAMPLE_RECORD_H
#define _RELAY_RS_SAMPLE_RECORD_H

#include <linux/types.h>
#include <linux/string.h>

#define RRS_MAGIC	0x31535252	/* "RRS1" little-endian */
#define RRS_HDR_LEN	24

/*
 * Timestamped records (the samples' timestamps=1): magic "RRT1", the same
 * 24-byte header, then a __le64 timestamp (ktime_get_ns(), CLOCK_MONOTONIC,
 * taken as the record is filled), then the payload. csum covers the
 * timestamp and the payload; payload byte i is rrs_payload_byte(cpu, seq, i)
 * as in RRS1 records, counted from the end of the timestamp. Readers that
 * know only RRS1 stop at the first RRT1 record (bad magic); the samples
 * write RRT1 only when asked.
 */
#define RRS_MAGIC_TS	0x31545252	/* "RRT1" little-endian */
#define RRS_TS_HDR_LEN	32

struct rrs_record {
	__le32 magic;
	__le32 len;		/* whole record, header included */
	__le32 cpu;
	__le32 csum;		/* FNV-1a over the payload */
	__le64 seq;		/* per-CPU sequence number */
	u8 payload[];
};

static inline u8 rrs_payload_byte(u32 cpu, u64 seq, u32 i)
{
	return (u8)(seq * 31 + i * 7 + cpu);
}

static inline u32 rrs_fnv1a(const u8 *p, size_t len)
{
	u32 h = 2166136261u;

	while (len--) {
		h ^= *p++;
		h *= 16777619u;
	}
	return h;
}

/* Fills @rec (of @len >= RRS_HDR_LEN bytes) with record @seq of @cpu. */
static inline void rrs_fill(struct rrs_record *rec, u32 len, u32 cpu, u64 seq)
{
	u32 i, n = len - RRS_HDR_LEN;

	for (i = 0; i < n; i++)
		rec->payload[i] = rrs_payload_byte(cpu, seq, i);
	rec->magic = cpu_to_le32(RRS_MAGIC);
	rec->len = cpu_to_le32(len);
	rec->cpu = cpu_to_le32(cpu);
	rec->seq = cpu_to_le64(seq);
	rec->csum = cpu_to_le32(rrs_fnv1a(rec->payload, n));
}

/* Fills @rec (of @len >= RRS_TS_HDR_LEN bytes) with record @seq of @cpu, at @ts. */
static inline void rrs_fill_ts(struct rrs_record *rec, u32 len, u32 cpu, u64 seq, u64 ts)
{
	__le64 *stamp = (__le64 *)rec->payload;
	u8 *payload = rec->payload + sizeof(*stamp);
	u32 i, n = len - RRS_TS_HDR_LEN;

	for (i = 0; i < n; i++)
		payload[i] = rrs_payload_byte(cpu, seq, i);
	*stamp = cpu_to_le64(ts);
	rec->magic = cpu_to_le32(RRS_MAGIC_TS);
	rec->len = cpu_to_le32(len);
	rec->cpu = cpu_to_le32(cpu);
	rec->seq = cpu_to_le64(seq);
	rec->csum = cpu_to_le32(rrs_fnv1a(rec->payload, len - RRS_HDR_LEN));
}

#endif /* _RELAY_RS_SAMPLE_RECORD_H */
