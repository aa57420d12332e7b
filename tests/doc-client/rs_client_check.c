// SPDX-License-Identifier: GPL-2.0
/*
 * Verifies what rust_api_client wrote, as read back (with cat) from its
 * relay files: every record intact (magic, length, FNV-1a checksum, the
 * payload pattern), each stream's sequence numbers strictly increasing and
 * below what was attempted, each stream in one file (for a per-CPU channel:
 * the file of the CPU the record says it was written on), and
 * attempted = read + lost for the channel, from the client's summary.
 *
 * Usage: rs_client_check SUMMARY CHAN [--percpu] FILE...
 * SUMMARY holds the module's log lines without prefix:
 *   chan CHAN attempted A lost L ...
 *   stream CHAN S attempted N
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAGIC 0x31535244u
#define HDR 24
#define MAX_REC (HDR + 200)
#define NSTREAMS (3 * 64)

static unsigned long attempted[NSTREAMS], nread[NSTREAMS];
static long long last_seq[NSTREAMS];
static int stream_file[NSTREAMS];

static uint32_t get32(const unsigned char *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get64(const unsigned char *p)
{
	return get32(p) | (uint64_t)get32(p + 4) << 32;
}

static uint32_t fnv1a(uint32_t h, const unsigned char *p, size_t n)
{
	while (n--)
		h = (h ^ *p++) * 0x01000193u;
	return h;
}

static unsigned char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	unsigned char *buf = NULL;
	size_t cap = 0, n = 0, r;

	if (!f)
		return NULL;
	do {
		if (n == cap) {
			cap = cap ? 2 * cap : 1 << 16;
			buf = realloc(buf, cap);
			if (!buf)
				exit(2);
		}
		r = fread(buf + n, 1, cap - n, f);
		n += r;
	} while (r);
	fclose(f);
	*len = n;
	return buf;
}

static int file_cpu(const char *path)
{
	size_t n = strlen(path);

	while (n && path[n - 1] >= '0' && path[n - 1] <= '9')
		n--;
	return atoi(path + n);
}

int main(int argc, char **argv)
{
	unsigned long chan_attempted = 0, chan_lost = 0, total_read = 0, sum = 0;
	int percpu = 0, errors = 0, have_chan = 0, i, first;
	char line[512], name[128];
	FILE *s;

	if (argc < 4) {
		fprintf(stderr, "usage: %s SUMMARY CHAN [--percpu] FILE...\n", argv[0]);
		return 2;
	}
	s = fopen(argv[1], "r");
	if (!s) {
		perror(argv[1]);
		return 2;
	}
	while (fgets(line, sizeof(line), s)) {
		unsigned long a, l;
		int id;

		if (sscanf(line, "chan %127s attempted %lu lost %lu", name, &a, &l) == 3 &&
		    !strcmp(name, argv[2])) {
			chan_attempted = a;
			chan_lost = l;
			have_chan = 1;
		} else if (sscanf(line, "stream %127s %d attempted %lu", name, &id, &a) == 3 &&
			   !strcmp(name, argv[2]) && id >= 0 && id < NSTREAMS) {
			attempted[id] = a;
			sum += a;
		}
	}
	fclose(s);
	if (!have_chan) {
		fprintf(stderr, "no summary line for channel %s\n", argv[2]);
		return 1;
	}
	if (sum != chan_attempted) {
		printf("streams sum to %lu, channel attempted %lu\n", sum, chan_attempted);
		errors++;
	}
	for (i = 0; i < NSTREAMS; i++) {
		last_seq[i] = -1;
		stream_file[i] = -1;
	}
	first = 3;
	if (argc > 3 && !strcmp(argv[3], "--percpu")) {
		percpu = 1;
		first = 4;
	}
	for (i = first; i < argc; i++) {
		size_t len = 0, pos = 0;
		unsigned long recs = 0;
		unsigned char *b = slurp(argv[i], &len);
		int cpu = file_cpu(argv[i]);

		if (!b) {
			printf("%s: %s\n", argv[i], strerror(errno));
			errors++;
			continue;
		}
		while (pos < len) {
			const unsigned char *r = b + pos;
			uint32_t rlen, sum32;
			unsigned int stream, rcpu, k;
			uint64_t seq;

			if (len - pos < HDR || get32(r) != MAGIC) {
				printf("%s: bad record at %zu\n", argv[i], pos);
				errors++;
				break;
			}
			stream = r[4] | r[5] << 8;
			rcpu = r[6] | r[7] << 8;
			seq = get64(r + 8);
			rlen = get32(r + 16);
			if (rlen < HDR || rlen > MAX_REC || rlen > len - pos || stream >= NSTREAMS) {
				printf("%s: bad length %u / stream %u at %zu\n", argv[i], rlen, stream, pos);
				errors++;
				break;
			}
			sum32 = fnv1a(fnv1a(0x811c9dc5u, r, 20), r + HDR, rlen - HDR);
			if (sum32 != get32(r + 20)) {
				printf("%s: checksum mismatch at %zu (stream %u seq %llu)\n",
				       argv[i], pos, stream, (unsigned long long)seq);
				errors++;
			}
			for (k = HDR; k < rlen; k++)
				if (r[k] != (unsigned char)(seq + 31 * (k - HDR) + stream)) {
					printf("%s: payload mismatch at %zu\n", argv[i], pos + k);
					errors++;
					break;
				}
			if (seq >= attempted[stream] || (long long)seq <= last_seq[stream]) {
				printf("%s: stream %u seq %llu out of order (last %lld, attempted %lu)\n",
				       argv[i], stream, (unsigned long long)seq, last_seq[stream],
				       attempted[stream]);
				errors++;
			}
			if (stream_file[stream] >= 0 && stream_file[stream] != i) {
				printf("%s: stream %u also in %s\n", argv[i], stream,
				       argv[stream_file[stream]]);
				errors++;
			}
			if (percpu && (int)rcpu != cpu) {
				printf("%s: record of CPU %u (stream %u seq %llu)\n", argv[i], rcpu,
				       stream, (unsigned long long)seq);
				errors++;
			}
			stream_file[stream] = i;
			last_seq[stream] = (long long)seq;
			nread[stream]++;
			recs++;
			pos += rlen;
		}
		printf("%s: %lu records, %zu bytes\n", argv[i], recs, len);
		total_read += recs;
		free(b);
	}
	for (i = 0; i < NSTREAMS; i++)
		if (attempted[i])
			printf("stream %d: attempted %lu read %lu\n", i, attempted[i], nread[i]);
	printf("%s: attempted %lu read %lu lost %lu (read + lost = %lu)\n", argv[2],
	       chan_attempted, total_read, chan_lost, total_read + chan_lost);
	if (total_read + chan_lost != chan_attempted) {
		printf("%s: conservation broken\n", argv[2]);
		errors++;
	}
	if (!total_read) {
		printf("%s: nothing read\n", argv[2]);
		errors++;
	}
	printf("%s: %s\n", argv[2], errors ? "FAILED" : "ok");
	return errors ? 1 : 0;
}
