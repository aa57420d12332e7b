// SPDX-License-Identifier: GPL-2.0
/*
 * mmap_consumer - an mmap consumer of one relay_rs per-CPU relay file,
 * written from the protocol documented in include/uapi/relay_rs.h only.
 *
 * Usage: mmap_consumer FILE OUT [PAUSE_MS]
 *
 * Maps FILE, and for every batch of completed sub-buffers: takes their
 * padding, copies their data, hands them back, drops the copies the
 * kernel says were overwritten and appends the others to OUT, in order.
 * Stops once poll() reports POLLHUP and a pass finds produced == consumed.
 * PAUSE_MS, if given, is slept after each sub-buffer copy, before the
 * batch is handed back, so that a test can make the producer lap us.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "../../include/uapi/relay_rs.h"

struct consumer {
	int fd;
	int out;
	const unsigned char *map;
	__u64 subbuf_size;
	__u64 n_subbufs;
	__u64 alloc_size;
	unsigned long pause_ms;

	/* one batch: at most n_subbufs copies */
	unsigned char *copy;	/* n_subbufs * subbuf_size bytes */
	__u64 *padding;		/* filled by RELAY_RS_IOC_PADDING */
	size_t *len;		/* data bytes of each copy */
	unsigned char *bad;	/* padding/bytes_consumed out of range */

	unsigned long long kept;
	unsigned long long dropped;
	unsigned long long bytes;
};

static void die(const char *what, int err)
{
	fprintf(stderr, "mmap_consumer: %s: %s\n", what, strerror(err));
	exit(1);
}

static void pause_ms(unsigned long ms)
{
	struct timespec ts, rem;

	if (!ms)
		return;
	ts.tv_sec = (time_t)(ms / 1000);
	ts.tv_nsec = (long)(ms % 1000) * 1000000L;
	while (nanosleep(&ts, &rem) < 0) {
		if (errno != EINTR)
			die("nanosleep", errno);
		ts = rem;
	}
}

static void write_all(int fd, const unsigned char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			die("write OUT", errno);
		}
		if (w == 0)
			die("write OUT", EIO);
		p += w;
		n -= (size_t)w;
	}
}

static void get_info(struct consumer *c, struct relay_rs_buf_info *info)
{
	memset(info, 0, sizeof(*info));
	if (ioctl(c->fd, RELAY_RS_IOC_INFO, info) < 0)
		die("RELAY_RS_IOC_INFO", errno);
	if (info->produced < info->consumed)
		die("RELAY_RS_IOC_INFO: produced < consumed", EPROTO);
	if (c->map && (info->subbuf_size != c->subbuf_size ||
		       info->n_subbufs != c->n_subbufs ||
		       info->alloc_size != c->alloc_size))
		die("RELAY_RS_IOC_INFO: buffer geometry changed", EPROTO);
}

/*
 * One pass of steps 2-5. Returns 0 if nothing was left to consume
 * (produced == consumed), 1 if a batch was handed back.
 */
static int one_pass(struct consumer *c)
{
	struct relay_rs_buf_info info;
	struct relay_rs_padding pad;
	__u64 avail, count, first, skipped, handed, gone, i;
	int r;

	/* 2. the completed sub-buffers not handed back: [consumed, produced) */
	get_info(c, &info);
	avail = info.produced - info.consumed;
	if (!avail)
		return 0;

	/*
	 * 3. at most n_subbufs of them: if lapped (overwrite mode), take
	 * the newest n_subbufs and skip the older ones, which are gone.
	 */
	count = avail < c->n_subbufs ? avail : c->n_subbufs;
	first = info.produced - count;
	skipped = avail - count;

	memset(&pad, 0, sizeof(pad));
	pad.first = first;
	pad.count = count;
	pad.padding = (__u64)(uintptr_t)c->padding;
	if (ioctl(c->fd, RELAY_RS_IOC_PADDING, &pad) < 0)
		die("RELAY_RS_IOC_PADDING", errno);

	/* 4. copy each one's data out of the mapping before using it */
	for (i = 0; i < count; i++) {
		__u64 s = first + i;
		const unsigned char *src;
		__u64 start = 0, end;

		src = c->map + (size_t)((s % c->n_subbufs) * c->subbuf_size);
		c->bad[i] = 0;
		if (c->padding[i] > c->subbuf_size) {
			c->bad[i] = 1;
			end = 0;
		} else {
			end = c->subbuf_size - c->padding[i];
		}
		/* read() already took bytes_consumed bytes of `consumed` */
		if (s == info.consumed && info.bytes_consumed) {
			if (info.bytes_consumed > end) {
				c->bad[i] = 1;
				start = end;
			} else {
				start = info.bytes_consumed;
			}
		}
		c->len[i] = (size_t)(end - start);
		memcpy(c->copy + (size_t)(i * c->subbuf_size), src + start,
		       c->len[i]);
		pause_ms(c->pause_ms);
	}

	/*
	 * 5. hand back all of [consumed, produced) as read in step 2,
	 * skipped ones included. [consumed, consumed + R) were overwritten:
	 * the skipped ones, then the first R - skipped of our copies.
	 */
	handed = avail;
	r = ioctl(c->fd, RELAY_RS_IOC_CONSUMED, &handed);
	if (r < 0)
		die("RELAY_RS_IOC_CONSUMED", errno);
	if ((__u64)r > avail)
		die("RELAY_RS_IOC_CONSUMED: dropped more than handed back",
		    EPROTO);
	if ((__u64)r < skipped)
		die("RELAY_RS_IOC_CONSUMED: dropped fewer than were skipped",
		    EPROTO);
	gone = (__u64)r - skipped;

	/* skipped unseen + copies dropped because the ioctl said so */
	c->dropped += skipped + gone;

	for (i = gone; i < count; i++) {
		if (c->bad[i])
			die("RELAY_RS_IOC_PADDING: padding or bytes_consumed out of range",
			    EPROTO);
		write_all(c->out, c->copy + (size_t)(i * c->subbuf_size),
			  c->len[i]);
		c->kept++;
		c->bytes += c->len[i];
	}
	return 1;
}

static void setup(struct consumer *c)
{
	struct relay_rs_buf_info info;
	void *map;

	get_info(c, &info);
	if (!info.subbuf_size || !info.n_subbufs)
		die("RELAY_RS_IOC_INFO: empty buffer", EPROTO);
	if (info.n_subbufs > SIZE_MAX / info.subbuf_size ||
	    info.alloc_size > SIZE_MAX)
		die("RELAY_RS_IOC_INFO: buffer too large", EOVERFLOW);
	if (info.alloc_size < info.n_subbufs * info.subbuf_size)
		die("RELAY_RS_IOC_INFO: alloc_size < n_subbufs * subbuf_size",
		    EPROTO);
	c->subbuf_size = info.subbuf_size;
	c->n_subbufs = info.n_subbufs;
	c->alloc_size = info.alloc_size;

	map = mmap(NULL, (size_t)c->alloc_size, PROT_READ, MAP_SHARED,
		   c->fd, 0);
	if (map == MAP_FAILED)
		die("mmap", errno);
	c->map = map;

	c->copy = malloc((size_t)(c->n_subbufs * c->subbuf_size));
	c->padding = calloc((size_t)c->n_subbufs, sizeof(*c->padding));
	c->len = calloc((size_t)c->n_subbufs, sizeof(*c->len));
	c->bad = calloc((size_t)c->n_subbufs, sizeof(*c->bad));
	if (!c->copy || !c->padding || !c->len || !c->bad)
		die("malloc", ENOMEM);
}

int main(int argc, char **argv)
{
	struct consumer c;
	int hup;

	memset(&c, 0, sizeof(c));
	if (argc < 3 || argc > 4)
		die("usage: mmap_consumer FILE OUT [PAUSE_MS]", EINVAL);
	if (argc == 4) {
		char *end;

		errno = 0;
		c.pause_ms = strtoul(argv[3], &end, 10);
		if (errno || end == argv[3] || *end || argv[3][0] == '-')
			die("bad PAUSE_MS", errno ? errno : EINVAL);
	}

	c.fd = open(argv[1], O_RDONLY | O_NONBLOCK);
	if (c.fd < 0)
		die("open FILE", errno);
	c.out = open(argv[2], O_WRONLY | O_CREAT | O_APPEND, 0644);
	if (c.out < 0)
		die("open OUT", errno);

	setup(&c);

	for (;;) {
		struct pollfd pfd = { .fd = c.fd, .events = POLLIN };
		int got;

		/* 1. wait for a completed unconsumed sub-buffer, or close */
		if (poll(&pfd, 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			die("poll", errno);
		}
		if (pfd.revents & POLLNVAL)
			die("poll", EBADF);
		hup = !!(pfd.revents & POLLHUP);
		if ((pfd.revents & POLLERR) && !hup)
			die("poll: POLLERR", EIO);

		got = one_pass(&c);
		/* closed, and a pass after that found nothing left */
		if (hup && !got)
			break;
	}

	if (munmap((void *)c.map, (size_t)c.alloc_size) < 0)
		die("munmap", errno);
	if (close(c.fd) < 0)
		die("close FILE", errno);
	if (close(c.out) < 0)
		die("close OUT", errno);
	free(c.copy);
	free(c.padding);
	free(c.len);
	free(c.bad);

	printf("mmap_consumer: kept %llu dropped %llu bytes %llu\n",
	       c.kept, c.dropped, c.bytes);
	if (fflush(stdout) == EOF)
		die("stdout", errno);
	return 0;
}
