// SPDX-License-Identifier: GPL-2.0
/*
 * Checks what rust_lockless_client.ko wrote: every record of every file
 * (magic, length, FNV-1a checksum, payload), no record twice, each
 * writer's records in order within a file, and attempted = read + lost
 * with lost = full + big and big = the oversized attempts.
 *
 * Usage: ll_client_check SUMMARY NAME FILE...
 * SUMMARY holds the client's kernel-log lines with the "rust_lockless_client: "
 * prefix removed; NAME is the channel's base name.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAGIC 0x314c4c44u
#define HDR 24
#define MAX_REC (HDR + 200)
#define NSTREAMS 65536

struct rec_id {
	uint32_t stream;
	uint64_t seq;
};

static uint32_t get32(const unsigned char *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get64(const unsigned char *p)
{
	return get32(p) | (uint64_t)get32(p + 4) << 32;
}

static uint32_t fnv(uint32_t h, const unsigned char *p, size_t n)
{
	while (n--) {
		h ^= *p++;
		h *= 0x01000193u;
	}
	return h;
}

static int cmp_id(const void *a, const void *b)
{
	const struct rec_id *x = a, *y = b;

	if (x->stream != y->stream)
		return x->stream < y->stream ? -1 : 1;
	if (x->seq != y->seq)
		return x->seq < y->seq ? -1 : 1;
	return 0;
}

static unsigned char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	unsigned char *buf = NULL;
	size_t cap = 0, n = 0, r;

	if (!f)
		return NULL;
	for (;;) {
		if (n == cap) {
			cap = cap ? 2 * cap : 65536;
			buf = realloc(buf, cap);
			if (!buf)
				exit(2);
		}
		r = fread(buf + n, 1, cap - n, f);
		if (!r)
			break;
		n += r;
	}
	fclose(f);
	*len = n;
	return buf;
}

int main(int argc, char **argv)
{
	unsigned long long attempted, lost, full, big, expect_big, none;
	static int64_t last[NSTREAMS];
	struct rec_id *ids = NULL;
	size_t nids = 0, capids = 0, i;
	char line[512], key[128];
	int found = 0, bad = 0, a;
	FILE *s;

	if (argc < 4) {
		fprintf(stderr, "usage: %s SUMMARY NAME FILE...\n", argv[0]);
		return 2;
	}
	s = fopen(argv[1], "r");
	if (!s) {
		perror(argv[1]);
		return 2;
	}
	snprintf(key, sizeof(key), "%s attempted ", argv[2]);
	while (fgets(line, sizeof(line), s)) {
		if (strncmp(line, key, strlen(key)))
			continue;
		if (sscanf(line + strlen(argv[2]),
			   " attempted %llu lost %llu full %llu big %llu expect_big %llu reserve_none %llu",
			   &attempted, &lost, &full, &big, &expect_big, &none) == 6)
			found = 1;
	}
	fclose(s);
	if (!found) {
		printf("%s: no summary line\n", argv[2]);
		return 1;
	}
	if (lost != full + big) {
		printf("%s: lost(FULL|BIG) %llu != lost(FULL) %llu + lost(BIG) %llu\n",
		       argv[2], lost, full, big);
		bad = 1;
	}
	if (big != expect_big) {
		printf("%s: lost(WRT_BIG) %llu, but %llu oversized attempts\n",
		       argv[2], big, expect_big);
		bad = 1;
	}

	for (a = 3; a < argc; a++) {
		size_t len, off = 0, recs = 0;
		unsigned char *buf = slurp(argv[a], &len);

		if (!buf) {
			perror(argv[a]);
			return 2;
		}
		for (i = 0; i < NSTREAMS; i++)
			last[i] = -1;
		while (off < len) {
			const unsigned char *p = buf + off;
			uint32_t rlen, stream, j;
			uint64_t seq;

			if (len - off < HDR || get32(p) != MAGIC) {
				printf("%s: bad record at %zu (of %zu)\n", argv[a], off, len);
				bad = 1;
				break;
			}
			rlen = get32(p + 16);
			stream = p[4] | p[5] << 8;
			seq = get64(p + 8);
			if (rlen < HDR || rlen > MAX_REC || rlen > len - off) {
				printf("%s: bad length %u at %zu\n", argv[a], rlen, off);
				bad = 1;
				break;
			}
			if (fnv(fnv(0x811c9dc5u, p, 20), p + HDR, rlen - HDR) != get32(p + 20)) {
				printf("%s: bad checksum at %zu (stream %#x seq %llu)\n",
				       argv[a], off, stream, (unsigned long long)seq);
				bad = 1;
			}
			for (j = HDR; j < rlen; j++) {
				if (p[j] != (unsigned char)(seq + 31 * (j - HDR) + stream)) {
					printf("%s: bad payload at %zu\n", argv[a], off + j);
					bad = 1;
					break;
				}
			}
			if (last[stream] >= 0 && (int64_t)seq <= last[stream]) {
				printf("%s: stream %#x seq %llu after %lld\n", argv[a], stream,
				       (unsigned long long)seq, (long long)last[stream]);
				bad = 1;
			}
			last[stream] = (int64_t)seq;
			if (nids == capids) {
				capids = capids ? 2 * capids : 4096;
				ids = realloc(ids, capids * sizeof(*ids));
				if (!ids)
					return 2;
			}
			ids[nids].stream = stream;
			ids[nids].seq = seq;
			nids++;
			recs++;
			off += rlen;
		}
		printf("%s: %zu records, %zu bytes\n", argv[a], recs, len);
		free(buf);
	}
	qsort(ids, nids, sizeof(*ids), cmp_id);
	for (i = 1; i < nids; i++) {
		if (!cmp_id(&ids[i - 1], &ids[i])) {
			printf("%s: stream %#x seq %llu read twice\n", argv[2], ids[i].stream,
			       (unsigned long long)ids[i].seq);
			bad = 1;
		}
	}
	printf("%s: attempted %llu read %zu lost %llu (full %llu big %llu) reserve_none %llu\n",
	       argv[2], attempted, nids, lost, full, big, none);
	if (attempted != nids + lost) {
		printf("%s: attempted %llu != read %zu + lost %llu (%lld unaccounted)\n", argv[2],
		       attempted, nids, lost, (long long)(attempted - nids - lost));
		bad = 1;
	}
	free(ids);
	return bad;
}
