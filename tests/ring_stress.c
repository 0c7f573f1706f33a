// SPDX-License-Identifier: GPL-2.0
/* Copyright (C) 2026 The ktun authors. */
/*
 * Litmus-style stress of the rings' ordering and wakeups: sequence-numbered
 * packets through each direction while the application alternates between
 * busy polling (no system calls), sleeping in poll(), and pausing, at
 * random. Checks: no loss, no duplicate, no reordering, and no stall: a
 * poll() that times out after a second while packets are owed is a missed
 * wakeup (the NEED_WAKEUP handshake or the poll wakeup lost a race).
 *
 *   rx: sender thread --sendmmsg--> stack --> dev --> rx ring --> consumer
 *   tx: producer --> tx ring --> dev (NAPI) --> stack --> receiver thread
 *
 * Each direction runs until KTUN_STRESS_PACKETS packets (default 500000) or
 * KTUN_STRESS_SECONDS (default 30) have passed, whichever comes first, and
 * then checks that everything sent arrived: under TCG on a busy machine the
 * time bound ends it, on a quiet one the count. KTUN_STRESS_SEED: the seed.
 * The sender keeps at most WINDOW packets in flight, fewer than the ring
 * and the qdisc hold together, so nothing may be dropped anywhere: every
 * gap is a bug.
 */
#include <pthread.h>
#include <stdatomic.h>

#include "net.h"
#include "ktun_ring.h"

#define A4	"10.64.0.1/24"
#define LOCAL4	"10.64.0.1"
#define PEER4	"10.64.0.2"
#define PORT	7000
#define SLOTS	256
#define WINDOW	600	/* < SLOTS + the qdisc's 1000 */
#define PAYLOAD	16

static unsigned long stress_packets(void)
{
	const char *e = getenv("KTUN_STRESS_PACKETS");

	return e && atol(e) > 0 ? (unsigned long)atol(e) : 500000;
}

static double stress_deadline(void)
{
	const char *e = getenv("KTUN_STRESS_SECONDS");
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9 + (e && atoi(e) > 0 ? atoi(e) : 30);
}

static int past(double deadline)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9 > deadline;
}

static unsigned int stress_seed(void)
{
	const char *e = getenv("KTUN_STRESS_SEED");

	return e && *e ? (unsigned int)atoi(e) : (unsigned int)time(NULL);
}

struct stress {
	char name[IFNAMSIZ];
	int fd;
	struct ktun_ring *r;
	unsigned long n;
	unsigned int seed;
	atomic_ulong sent;	/* accepted by the stack / submitted to the ring */
	atomic_ulong got;	/* seen, in order */
	atomic_int stop;
	atomic_int done;	/* the sending side has stopped: sent is final */
	double deadline;
	int sock;
};

static void stress_dev(struct stress *s, const char *tag)
{
	struct ktun_ring_config c = { SLOTS, 2048, SLOTS, 2048 };

	memset(s, 0, sizeof(*s));
	s->n = stress_packets();
	s->seed = stress_seed();
	s->fd = kt_attach(kt_ifname(s->name, tag), IFF_TUN | IFF_NO_PI, NULL);
	kt_dev_up(s->name, A4, NULL);
	/* a plain FIFO: it drops only on overflow, and then tells the sender */
	RUN("tc qdisc replace dev %s root pfifo limit 1000", s->name);
	ASSERT_OK(ktun_ring_setup(s->fd, &c, &s->r));
	s->deadline = stress_deadline();
	kt_note("%s: up to %lu packets, seed %u\n", s->name, s->n, s->seed);
	/* the time bound, the drain after it, and a margin */
	alarm((unsigned int)(s->deadline - stress_deadline()) + 30 + 60);
}

/* The application's mood for the next stretch: 0 spin, 1 poll, 2 nap. */
static int mood(unsigned int *seed)
{
	int r = rand_r(seed) % 32;

	return r < 20 ? 0 : r < 31 ? 1 : 2;
}

/* ---- rx: stack to application ---- */

static void *rx_sender(void *arg)
{
	struct stress *s = arg;
	struct sockaddr_storage ss;
	socklen_t sl = kt_sockaddr(&ss, PEER4, PORT);
	uint8_t buf[32][PAYLOAD];
	struct mmsghdr m[32];
	struct iovec iov[32];
	unsigned long seq = 0;

	memset(m, 0, sizeof(m));
	for (int i = 0; i < 32; i++) {
		iov[i] = (struct iovec){ buf[i], PAYLOAD };
		m[i].msg_hdr.msg_iov = &iov[i];
		m[i].msg_hdr.msg_iovlen = 1;
		m[i].msg_hdr.msg_name = &ss;
		m[i].msg_hdr.msg_namelen = sl;
	}
	while (seq < s->n && !atomic_load(&s->stop) && !past(s->deadline)) {
		unsigned long room = WINDOW - (seq - atomic_load(&s->got));
		int k = room < 32 ? (int)room : 32, sent;

		if (seq + k > s->n)
			k = s->n - seq;
		if (k <= 0) {
			sched_yield();
			continue;
		}
		for (int i = 0; i < k; i++) {
			uint64_t v = seq + i;

			memcpy(buf[i], &v, 8);
			memset(buf[i] + 8, 0xa5, PAYLOAD - 8);
		}
		/* never blocking, so that sent is what the stack holds */
		sent = sendmmsg(s->sock, m, k, MSG_DONTWAIT);
		if (sent < 0) {
			/* a full qdisc or socket says so, and sends nothing */
			if (errno == ENOBUFS || errno == EAGAIN) {
				sched_yield();
				continue;
			}
			FAIL("sendmmsg: %s", kt_errname(errno));
		}
		seq += sent;
		atomic_store(&s->sent, seq);
	}
	atomic_store(&s->done, 1);
	return NULL;
}

TEST(rx_litmus)
{
	struct stress s;
	struct ktun_ring_pkt p[64];
	unsigned long expect = 0, stalls = 0;
	pthread_t th;
	struct kt_pkt kp;

	if (kt_stock())
		SKIP("rings are ktun's own");
	stress_dev(&s, "sr");
	s.sock = kt_udp_bind(LOCAL4, 0);
	ASSERT_OK(pthread_create(&th, NULL, rx_sender, &s));
	while (!atomic_load(&s.done) || expect < atomic_load(&s.sent)) {
		int m = mood(&s.seed), spins = 1 + rand_r(&s.seed) % 2000;
		unsigned int n, i;

		if (m == 2)
			usleep(rand_r(&s.seed) % 1000);
		for (; spins > 0; spins--) {
			n = ktun_ring_rx_peek(s.r, p, 1 + rand_r(&s.seed) % 64);
			if (!n) {
				if (atomic_load(&s.done) && expect == atomic_load(&s.sent))
					break;
				if (m != 1)
					continue;
				/* sleep until woken; a second without a wakeup
				 * while packets are owed is a stall
				 */
				n = ktun_ring_wait(s.r, KTUN_RING_WAIT_RX, 1000);
				ASSERT_GE((int)n, 0);
				if (!n && atomic_load(&s.sent) > expect) {
					struct ktun_ring_stats st;

					stalls++;
					ktun_ring_stats(s.r, &st);
					FAIL_CHECK("stall: no wakeup for 1 s with %lu packets owed (got %lu; ring %llu packets, %llu stops, %llu drops)",
						   atomic_load(&s.sent) - expect, expect,
						   (unsigned long long)st.rx.packets,
						   (unsigned long long)st.rx.stops,
						   (unsigned long long)st.rx.drops);
				}
				continue;
			}
			for (i = 0; i < n; i++) {
				uint64_t v;

				if (kt_parse(p[i].data, p[i].len, KT_RAW, &kp) ||
				    kp.proto != IPPROTO_UDP || kp.dport != PORT)
					continue;
				memcpy(&v, kp.data, 8);
				if (v != expect) {
					atomic_store(&s.stop, 1);
					FAIL("rx: got %llu, expected %lu (%s)",
					     (unsigned long long)v, expect,
					     v < expect ? "duplicate or reordered" : "lost");
				}
				expect++;
			}
			ktun_ring_rx_release(s.r, n);
			atomic_store(&s.got, expect);
		}
		if (stalls > 3)
			break;
	}
	atomic_store(&s.stop, 1);
	pthread_join(th, NULL);
	kt_note("rx: %lu packets in order\n", expect);
	EXPECT_EQ(expect, atomic_load(&s.sent));
	EXPECT_GT(expect, 0);
	EXPECT_EQ(kt_stat(s.name, "tx_dropped"), 0);
	{
		struct ktun_ring_stats st;

		ASSERT_OK(ktun_ring_stats(s.r, &st));
		kt_note("rx: %llu packets, %llu stops, %llu wakeups, %llu drops\n",
			(unsigned long long)st.rx.packets, (unsigned long long)st.rx.stops,
			(unsigned long long)st.rx.wakeups, (unsigned long long)st.rx.drops);
		EXPECT_EQ(st.rx.drops, 0);
		EXPECT_EQ(st.rx.invalid, 0);
	}
	ktun_ring_free(s.r);
	close(s.sock);
	close(s.fd);
}

/* ---- tx: application to stack ---- */

static void *tx_receiver(void *arg)
{
	struct stress *s = arg;
	uint8_t buf[64][64];
	struct mmsghdr m[64];
	struct iovec iov[64];
	unsigned long expect = 0;

	memset(m, 0, sizeof(m));
	for (int i = 0; i < 64; i++) {
		iov[i] = (struct iovec){ buf[i], sizeof(buf[i]) };
		m[i].msg_hdr.msg_iov = &iov[i];
		m[i].msg_hdr.msg_iovlen = 1;
	}
	while ((!atomic_load(&s->done) || expect < atomic_load(&s->sent)) &&
	       !atomic_load(&s->stop)) {
		struct pollfd pf = { .fd = s->sock, .events = POLLIN };
		int n, i;

		if (poll(&pf, 1, 1000) == 0) {
			/* submitted, not delivered, and a second went by */
			if (atomic_load(&s->sent) > expect)
				FAIL_CHECK("stall: %lu packets on the tx ring for 1 s (got %lu)",
					   atomic_load(&s->sent) - expect, expect);
			continue;
		}
		n = recvmmsg(s->sock, m, 64, MSG_DONTWAIT, NULL);
		for (i = 0; i < n; i++) {
			uint64_t v;

			memcpy(&v, buf[i], 8);
			if (m[i].msg_len != PAYLOAD || v != expect) {
				atomic_store(&s->stop, 1);
				FAIL("tx: got %llu (%u bytes), expected %lu",
				     (unsigned long long)v, m[i].msg_len, expect);
			}
			expect++;
		}
		atomic_store(&s->got, expect);
	}
	return NULL;
}

TEST(tx_litmus)
{
	static uint8_t frame[128], d[PAYLOAD];
	struct ktun_ring_pkt p[64];
	unsigned long seq = 0;
	int big = 64 << 20;
	pthread_t th;
	size_t flen;
	struct stress s;

	if (kt_stock())
		SKIP("rings are ktun's own");
	stress_dev(&s, "st");
	s.sock = kt_udp_bind(LOCAL4, PORT);
	ASSERT_OK(setsockopt(s.sock, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof(big)));
	ASSERT_OK(pthread_create(&th, NULL, tx_receiver, &s));
	memset(d, 0xa5, sizeof(d));
	flen = kt_build_udp(frame, KT_RAW, NULL, NULL, PEER4, 5000, LOCAL4, PORT, d, PAYLOAD);
	while (seq < s.n && !atomic_load(&s.stop) && !past(s.deadline)) {
		int m = mood(&s.seed), spins = 1 + rand_r(&s.seed) % 500;

		if (m == 2)
			usleep(rand_r(&s.seed) % 1000);
		for (; spins > 0 && seq < s.n; spins--) {
			unsigned int want = 1 + rand_r(&s.seed) % 64, n, i;

			/* the receiver's socket is the window, not the ring */
			if (seq - atomic_load(&s.got) > 20000) {
				sched_yield();
				continue;
			}
			if (want > s.n - seq)
				want = s.n - seq;
			n = ktun_ring_tx_reserve(s.r, p, want);
			if (!n) {
				int w;

				if (m != 1)
					continue;
				w = ktun_ring_wait(s.r, KTUN_RING_WAIT_TX, 1000);
				ASSERT_GE(w, 0);
				if (!w)
					FAIL_CHECK("stall: the tx ring stayed full for 1 s");
				continue;
			}
			for (i = 0; i < n; i++) {
				uint64_t v = seq + i;
				uint8_t *ip = p[i].data;

				memcpy(ip, frame, flen);
				/* the payload starts after 20 + 8 bytes; UDP
				 * checksum 0: none
				 */
				memcpy(ip + 28, &v, 8);
				ip[26] = ip[27] = 0;
				p[i].len = flen;
			}
			ASSERT_OK(ktun_ring_tx_submit(s.r, p, n));
			seq += n;
			atomic_store(&s.sent, seq);
		}
	}
	atomic_store(&s.done, 1);
	pthread_join(th, NULL);
	kt_note("tx: %lu packets in order\n", seq);
	EXPECT_EQ(atomic_load(&s.got), seq);
	EXPECT_GT(seq, 0);
	{
		struct ktun_ring_stats st;

		ASSERT_OK(ktun_ring_stats(s.r, &st));
		kt_note("tx: %llu packets, %llu kicks\n",
			(unsigned long long)st.tx.packets, (unsigned long long)st.tx.wakeups);
		EXPECT_EQ(st.tx.packets, seq);
		EXPECT_EQ(st.tx.drops, 0);
		EXPECT_EQ(st.tx.invalid, 0);
	}
	ktun_ring_free(s.r);
	close(s.sock);
	close(s.fd);
}
