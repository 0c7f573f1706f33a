// SPDX-License-Identifier: GPL-2.0
/* Copyright (C) 2026 The ktun authors. */
/*
 * What GRO gives a TCP stream written in MSS-sized packets: per target, a
 * sender thread plays a TCP peer through the device, writing full-sized
 * segments of one connection as fast as the receiver's window allows and
 * reading the stack's ACKs back from the same fd; a TCP socket in the stack
 * reads the stream. The figure is Mbit/s the socket received.
 *
 *	sender --write() segments--> [kbenchT] --(NAPI, GRO)--> TCP 10.77.T.1:9000
 *	(10.77.T.2:port)   <--read() ACKs--                      receiver (read)
 *
 * --napi attaches with IFF_NAPI; --gro-flush-ns N sets the device's
 * gro_flush_timeout, which lets GRO hold a flow open across writes (see
 * driver/napi.c). The sender is a minimal TCP: MSS and window scaling in
 * its SYN and nothing else, go-back-N after three duplicate ACKs or 200 ms
 * without progress.
 */
#include <poll.h>
#include <netinet/tcp.h>

#include "bench.h"

#define ISN	1000000u

struct sender {
	struct bench_target *t;
	uint16_t sport;
	struct bench_gate *gate;
	size_t mss;
	uint32_t una, nxt, ack;
	uint32_t wnd;
	unsigned int wshift;	/* the receiver's window scale */
	unsigned char pkt[BENCH_BUF];
	size_t len;
	struct bench_count sent;
};

struct receiver {
	int sock;
	struct bench_count bytes;
};

struct state {
	struct sender s[BENCH_MAXT];
	struct receiver r[BENCH_MAXT];
	/* IP InReceives at the last two samples: packets the stack took in */
	unsigned long long in_prev, in_now;
};

/* /proc/net/snmp's Ip InReceives: one per packet, however many segments. */
static unsigned long long ip_in_receives(void)
{
	char names[1024], vals[1024];
	unsigned long long v = 0;
	FILE *f = fopen("/proc/net/snmp", "re");

	if (!f)
		return 0;
	while (fgets(names, sizeof(names), f) && fgets(vals, sizeof(vals), f)) {
		char *n, *x, *sn, *sv;

		if (strncmp(names, "Ip: ", 4))
			continue;
		for (n = strtok_r(names, " \n", &sn), x = strtok_r(vals, " \n", &sv);
		     n && x; n = strtok_r(NULL, " \n", &sn), x = strtok_r(NULL, " \n", &sv))
			if (!strcmp(n, "InReceives"))
				v = strtoull(x, NULL, 10);
		break;
	}
	fclose(f);
	return v;
}

static uint16_t csum_add16(uint16_t csum, uint16_t old, uint16_t new)
{
	/* RFC 1624: HC' = ~(~HC + ~m + m'); @csum as stored, @old, @new as numbers. */
	uint32_t sum = (uint16_t)~ntohs(csum) + (uint16_t)~old + new;

	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return htons((uint16_t)~sum);
}

/* Rewrites the pre-built segment's sequence number and its checksum. */
static void set_seq(struct sender *s, uint32_t seq)
{
	struct tcphdr *th = (struct tcphdr *)(s->pkt + sizeof(struct iphdr));
	uint32_t old = ntohl(th->seq);

	th->check = csum_add16(th->check, old >> 16, seq >> 16);
	th->check = csum_add16(th->check, old & 0xffff, seq & 0xffff);
	th->seq = htonl(seq);
}

static void write_ctl(struct sender *s, uint32_t seq, uint8_t flags)
{
	unsigned char buf[64];
	size_t n = ktun_tcp4(buf, bench_addr(s->t->idx, 2), bench_addr(s->t->idx, 1),
			     s->sport, BENCH_PORT, seq, s->ack, flags, 65535, NULL, 0);

	if (bench_dev_write(s->t, 0, buf, n) != (ssize_t)n)
		bench_die("%s: write: %s", s->t->label, strerror(errno));
}

/*
 * The SYN: MSS and window scaling (our shift 0), so that the receiver may
 * open its window past 64 KiB and more than one GRO packet is in flight.
 */
static void write_syn(struct sender *s)
{
	static const unsigned char opts[8] = { 2, 4, 0x05, 0xb4, 1, 3, 3, 0 };
	unsigned char buf[128], sum[128];
	struct iphdr *ip = (struct iphdr *)buf;
	struct tcphdr *th;
	size_t n = ktun_tcp4(buf, bench_addr(s->t->idx, 2), bench_addr(s->t->idx, 1),
			     s->sport, BENCH_PORT, ISN, 0, TH_SYN, 65535, opts, sizeof(opts));

	/* ktun_tcp4() took the options for payload: make them the header's. */
	th = (struct tcphdr *)(buf + sizeof(*ip));
	th->doff = (sizeof(*th) + sizeof(opts)) / 4;
	th->check = 0;
	memcpy(sum, &ip->saddr, 8);
	sum[8] = 0;
	sum[9] = IPPROTO_TCP;
	sum[10] = 0;
	sum[11] = n - sizeof(*ip);
	memcpy(sum + 12, th, n - sizeof(*ip));
	th->check = ktun_csum(sum, 12 + n - sizeof(*ip), 0);
	if (bench_dev_write(s->t, 0, buf, n) != (ssize_t)n)
		bench_die("%s: write: %s", s->t->label, strerror(errno));
}

/* The window shift the SYN-ACK announces, 0 if none. */
static unsigned int syn_wscale(const struct tcphdr *th)
{
	const unsigned char *o = (const unsigned char *)(th + 1);
	unsigned int i, len = th->doff * 4 - sizeof(*th);

	for (i = 0; i < len && o[i] != 0;) {
		if (o[i] == 1) {
			i++;
			continue;
		}
		if (i + 1 >= len || o[i + 1] < 2)
			break;
		if (o[i] == 3 && o[i + 1] == 3 && i + 2 < len)
			return o[i + 2] > 14 ? 14 : o[i + 2];
		i += o[i + 1];
	}
	return 0;
}

/*
 * Reads what the stack sent to our port: returns the TCP header of the
 * next one (flags, ack and window) or NULL when nothing is queued.
 */
static const struct tcphdr *read_seg(struct sender *s, unsigned char *buf)
{
	for (;;) {
		ssize_t n = read(s->t->dev.fds[0], buf, BENCH_BUF);
		const struct iphdr *ip = (const void *)buf;
		const struct tcphdr *th;

		if (n < 0) {
			if (errno == EAGAIN)
				return NULL;
			bench_die("%s: read: %s", s->t->label, strerror(errno));
		}
		if (n < 40 || ip->version != 4 || ip->protocol != IPPROTO_TCP)
			continue;
		th = (const void *)(buf + ip->ihl * 4);
		if (ntohs(th->dest) != s->sport)
			continue;
		if (th->rst)
			bench_die("%s: the stack reset the connection", s->t->label);
		return th;
	}
}

static int wait_readable(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, ms) == 1;
}

/* SYN, SYN-ACK, ACK through the device; then the stack accepts. */
static void handshake(struct sender *s, int lsock, struct receiver *r)
{
	unsigned char buf[BENCH_BUF];
	const struct tcphdr *th = NULL;
	int tries;

	for (tries = 0; tries < 10 && !th; tries++) {
		write_syn(s);
		while (!th && wait_readable(s->t->dev.fds[0], 1000)) {
			th = read_seg(s, buf);
			if (th && !(th->syn && th->ack))
				th = NULL;
		}
	}
	if (!th)
		bench_die("%s: no SYN-ACK", s->t->label);
	s->ack = ntohl(th->seq) + 1;
	s->wnd = ntohs(th->window);
	s->wshift = syn_wscale(th);
	s->una = s->nxt = ISN + 1;
	write_ctl(s, s->nxt, TH_ACK);
	r->sock = accept(lsock, NULL, NULL);
	if (r->sock < 0)
		bench_die("accept: %s", strerror(errno));
}

/* Takes in every ACK queued: the window slides, or go back after 3 dups. */
static void take_acks(struct sender *s, int *dups, double *progress)
{
	unsigned char buf[BENCH_BUF];
	const struct tcphdr *th;

	while ((th = read_seg(s, buf))) {
		uint32_t ack = ntohl(th->ack_seq);

		s->wnd = (uint32_t)ntohs(th->window) << s->wshift;
		if ((int32_t)(ack - s->una) > 0 && (int32_t)(ack - s->nxt) <= 0) {
			s->una = ack;
			*dups = 0;
			*progress = bench_now();
		} else if (ack == s->una && s->nxt != s->una && ++*dups == 3) {
			s->nxt = s->una;
			*dups = 0;
		}
	}
}

static void *sender_run(void *arg)
{
	struct sender *s = arg;
	double progress = bench_now();
	int dups = 0;

	bench_pin(0);
	while (bench_gate_wait(s->gate, s->t->idx)) {
		take_acks(s, &dups, &progress);
		if (s->nxt - s->una + s->mss <= s->wnd) {
			set_seq(s, s->nxt);
			if (bench_dev_write(s->t, 0, s->pkt, s->len) != (ssize_t)s->len) {
				atomic_store(&s->t->failed, errno ? errno : EMSGSIZE);
				break;
			}
			s->nxt += s->mss;
			bench_count_add(&s->sent, s->mss);
			continue;
		}
		if (!wait_readable(s->t->dev.fds[0], 10) &&
		    bench_now() - progress > 0.2) {
			s->nxt = s->una;
			progress = bench_now();
		}
	}
	return NULL;
}

/* Runs until cancelled: read() is a cancellation point. */
static void *receiver_run(void *arg)
{
	struct receiver *r = arg;
	static __thread char buf[1 << 18];

	bench_pin(1);
	for (;;) {
		ssize_t n = read(r->sock, buf, sizeof(buf));

		if (n > 0)
			bench_count_add(&r->bytes, n);
		else if (n == 0 || (errno != EINTR && errno != EAGAIN))
			bench_die("receiver: %s", n ? strerror(errno) : "end of stream");
	}
	return NULL;
}

static void sample(struct bench_target *t, unsigned long *got,
		   unsigned long *offered, void *arg)
{
	struct state *st = arg;

	*got = bench_count_get(&st->r[t->idx].bytes);
	*offered = bench_count_get(&st->s[t->idx].sent);
	st->in_prev = st->in_now;
	st->in_now = ip_in_receives();
}

static void report(const struct bench_opts *o, struct bench_target *t,
		   int run, double secs, double cpu, unsigned long got,
		   unsigned long offered, void *arg)
{
	struct state *st = arg;
	unsigned long long pkts = st->in_now - st->in_prev;
	double segs = (double)offered / st->s[t->idx].mss;

	/* segs/pkt: segments written per packet the stack took in (GRO). */
	bench_result(o->workload, t, run,
		     "mbps=%.1f wmbps=%.1f segs_per_pkt=%.2f secs=%.2f cpu=%.2f",
		     got * 8 / secs / 1e6, offered * 8 / secs / 1e6,
		     pkts ? segs / pkts : 0.0, secs, cpu);
}

/* Our own options, taken out of argv before bench_setup() sees it. */
static int take_opts(int *argc, char **argv, long *gro_ns)
{
	int napi = 0, i, j;

	for (i = j = 1; i < *argc; i++) {
		if (!strcmp(argv[i], "--napi"))
			napi = 1;
		else if (!strcmp(argv[i], "--gro-flush-ns") && i + 1 < *argc)
			*gro_ns = atol(argv[++i]);
		else
			argv[j++] = argv[i];
	}
	*argc = j;
	argv[j] = NULL;
	return napi;
}

int main(int argc, char **argv)
{
	static const struct bench_ops ops = { sample, report };
	pthread_t st[BENCH_MAXT], rt[BENCH_MAXT];
	static struct state s;
	struct bench_gate gate;
	struct bench_opts o;
	long gro_ns = 0;
	char kind[32];
	int i, napi;

	napi = take_opts(&argc, argv, &gro_ns);
	snprintf(kind, sizeof(kind), "napi-%s", !napi ? "off" : gro_ns ? "gro" : "on");
	/* bench_setup() opens the devices: the flags must be set before. */
	bench_parse(argc, argv, &o, "TCP stream in MSS-sized writes: Mbit/s a TCP socket receives");
	o.tun_flags = napi ? IFF_NAPI : 0;
	snprintf(o.workload, sizeof(o.workload), "%s-%zu-q1", kind, o.size);
	if (o.queues != 1)
		bench_die("one queue only");
	if (o.size < 100)
		bench_die("size must be at least 100 (a full-sized segment)");
	bench_netns();
	bench_open_all(&o);
	bench_gate_init(&gate);

	for (i = 0; i < o.ntargets; i++) {
		struct bench_target *t = &o.t[i];
		struct sender *sd = &s.s[i];
		struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(BENCH_PORT),
					   .sin_addr = bench_addr(t->idx, 1) };
		char path[96], val[32];
		int l, one = 1;

		if (!t->node)
			bench_die("no veth for this workload");
		snprintf(path, sizeof(path), "/sys/class/net/%s/gro_flush_timeout", t->dev.name);
		snprintf(val, sizeof(val), "%ld", gro_ns);
		bench_write_file(path, val);
		fcntl(t->dev.fds[0], F_SETFL, O_NONBLOCK);
		l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (l < 0 || setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
		    bind(l, (struct sockaddr *)&sin, sizeof(sin)) || listen(l, 1))
			bench_die("listen 10.77.%d.1: %s", t->idx, strerror(errno));
		sd->t = t;
		/* A port of its own: bench/inside runs these one after another
		 * in one namespace, where the last run's connection lingers.
		 */
		sd->sport = 20000 + getpid() % 30000;
		sd->gate = &gate;
		sd->mss = o.size - 40;
		handshake(sd, l, &s.r[i]);
		close(l);
		{
			unsigned char payload[BENCH_BUF];

			memset(payload, 'k', sd->mss);
			sd->len = ktun_tcp4(sd->pkt, bench_addr(t->idx, 2), bench_addr(t->idx, 1),
					    sd->sport, BENCH_PORT, sd->nxt, sd->ack, TH_ACK, 65535,
					    payload, sd->mss);
		}
		if (pthread_create(&rt[i], NULL, receiver_run, &s.r[i]) ||
		    pthread_create(&st[i], NULL, sender_run, sd))
			bench_die("pthread_create failed");
	}

	bench_rotate(&o, &gate, &ops, &s);

	for (i = 0; i < o.ntargets; i++) {
		pthread_join(st[i], NULL);
		pthread_cancel(rt[i]);
		pthread_join(rt[i], NULL);
	}
	return 0;
}
