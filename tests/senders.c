// SPDX-License-Identifier: GPL-2.0
/* Copyright (C) 2026 The ktun authors. */
/*
 * Seed scenario 5: several senders at once, one device, one fd shared by
 * several app threads that read and write concurrently.
 *
 *   3 sender threads: UDP sockets --> 10.68.0.2:7000+i --> dev --> fd
 *   2 reader threads: read fd (non-blocking, poll), check every packet
 *   2 writer threads: forge 10.68.0.2:5000 -> 10.68.0.1:9100 --> write fd
 *   1 receiver thread: socket 10.68.0.1:9100, checks every datagram
 *
 * for KTUN_STRESS_SECS (default 3) seconds: a duration for the workload,
 * nothing is timed. Then the books must balance: packets read == tx_packets
 * delta, writes accepted == rx_packets delta, sent == read + tx_dropped
 * delta; every packet whole; and the device still works afterwards.
 */

#include <time.h>

#include "net.h"

#define A4	"10.68.0.1/24"
#define LOCAL4	"10.68.0.1"
#define PEER4	"10.68.0.2"
#define NSEND	3
#define NREAD	2
#define NWRITE	2
#define MAGIC	0x6b74756eu

struct msg {
	uint32_t magic;
	uint32_t who;
	uint64_t seq;
};

static struct {
	int fd, sock;
	int stop_senders;		/* senders and writers */
	int stop_readers;		/* readers and the receiver */
	long sent, read, bad_read, written, write_err, received, bad_recv;
	int last_write_errno;
} st;

static long inc(long *c)
{
	return __atomic_add_fetch(c, 1, __ATOMIC_RELAXED);
}

static long get(long *c)
{
	return __atomic_load_n(c, __ATOMIC_RELAXED);
}

static int stopped(int *f)
{
	return __atomic_load_n(f, __ATOMIC_ACQUIRE);
}

static void *sender(void *arg)
{
	long id = (long)arg;
	struct msg m = { MAGIC, id, 0 };
	struct sockaddr_storage ss;
	socklen_t sl = kt_sockaddr(&ss, PEER4, 7000 + id);
	int s = kt_udp_bind(LOCAL4, 0);

	while (!stopped(&st.stop_senders)) {
		m.seq++;
		if (sendto(s, &m, sizeof(m), 0, (struct sockaddr *)&ss, sl) == sizeof(m))
			inc(&st.sent);
	}
	close(s);
	return NULL;
}

static void *reader(void *arg)
{
	struct pollfd p = { .fd = st.fd, .events = POLLIN };
	uint8_t buf[2048];
	struct kt_pkt pkt;
	struct msg m;

	(void)arg;
	while (!stopped(&st.stop_readers)) {
		ssize_t n = read(st.fd, buf, sizeof(buf));

		if (n < 0) {
			if (errno != EAGAIN)
				FAIL("read on the shared fd: %s", kt_errname(errno));
			poll(&p, 1, 50);
			continue;
		}
		inc(&st.read);
		if (kt_parse(buf, n, KT_RAW, &pkt) || pkt.proto != IPPROTO_UDP ||
		    pkt.dport < 7000 || pkt.dport >= 7000 + NSEND || pkt.dlen != sizeof(m) ||
		    !kt_udp_csum_ok(&pkt)) {
			inc(&st.bad_read);
			continue;
		}
		memcpy(&m, pkt.data, sizeof(m));
		if (m.magic != MAGIC || m.who != pkt.dport - 7000u)
			inc(&st.bad_read);
	}
	return NULL;
}

static void *writer(void *arg)
{
	long id = (long)arg;
	struct msg m = { MAGIC, 100 + id, 0 };
	uint8_t buf[256];

	while (!stopped(&st.stop_senders)) {
		size_t n;

		m.seq++;
		n = kt_build_udp(buf, KT_RAW, NULL, NULL, PEER4, 5000, LOCAL4, 9100, &m, sizeof(m));
		if (write(st.fd, buf, n) == (ssize_t)n) {
			inc(&st.written);
		} else {
			st.last_write_errno = errno;
			inc(&st.write_err);
		}
	}
	return NULL;
}

static void *receiver(void *arg)
{
	struct pollfd p = { .fd = st.sock, .events = POLLIN };
	struct msg m;

	(void)arg;
	while (!stopped(&st.stop_readers)) {
		ssize_t n = recv(st.sock, &m, sizeof(m) + 1, MSG_DONTWAIT);

		if (n < 0) {
			poll(&p, 1, 50);
			continue;
		}
		inc(&st.received);
		if (n != sizeof(m) || m.magic != MAGIC || m.who < 100 || m.who >= 100 + NWRITE)
			inc(&st.bad_recv);
	}
	return NULL;
}

static int stress_secs(void)
{
	const char *e = getenv("KTUN_STRESS_SECS");
	int s = e ? atoi(e) : 0;

	return s > 0 ? s : 3;
}

TEST(shared_fd_concurrent)
{
	unsigned long long tx0, rx0, drop0, txd, tx, rx;
	pthread_t snd[NSEND], rd[NREAD], wr[NWRITE], rcv;
	struct timespec dur = { stress_secs(), 0 }, tick = { 0, 10 * 1000 * 1000 };
	char name[IFNAMSIZ], buf[2048];
	struct kt_pkt p;
	long i;
	int s;

	st.fd = kt_attach(kt_ifname(name, "s"), IFF_TUN | IFF_NO_PI, NULL);
	kt_dev_up(name, A4, NULL);
	kt_nonblock(st.fd);
	st.sock = kt_udp_bind(LOCAL4, 9100);
	tx0 = kt_stat(name, "tx_packets");
	rx0 = kt_stat(name, "rx_packets");
	drop0 = kt_stat(name, "tx_dropped");

	ASSERT_EQ(pthread_create(&rcv, NULL, receiver, NULL), 0);
	for (i = 0; i < NREAD; i++)
		ASSERT_EQ(pthread_create(&rd[i], NULL, reader, (void *)i), 0);
	for (i = 0; i < NWRITE; i++)
		ASSERT_EQ(pthread_create(&wr[i], NULL, writer, (void *)i), 0);
	for (i = 0; i < NSEND; i++)
		ASSERT_EQ(pthread_create(&snd[i], NULL, sender, (void *)i), 0);

	nanosleep(&dur, NULL);	/* the workload's length, not an ordering */

	__atomic_store_n(&st.stop_senders, 1, __ATOMIC_RELEASE);
	for (i = 0; i < NSEND; i++)
		ASSERT_EQ(pthread_join(snd[i], NULL), 0);
	for (i = 0; i < NWRITE; i++)
		ASSERT_EQ(pthread_join(wr[i], NULL), 0);
	/*
	 * Every datagram sent is now read, queued, dropped, or on its way
	 * out of the qdisc: let the readers drain until the sum is complete.
	 */
	for (;;) {
		txd = kt_stat(name, "tx_dropped") - drop0;
		if (get(&st.read) + txd >= (unsigned long long)get(&st.sent) && !kt_readable(st.fd))
			break;
		nanosleep(&tick, NULL);
	}
	__atomic_store_n(&st.stop_readers, 1, __ATOMIC_RELEASE);
	for (i = 0; i < NREAD; i++)
		ASSERT_EQ(pthread_join(rd[i], NULL), 0);
	ASSERT_EQ(pthread_join(rcv, NULL), 0);

	tx = kt_stat(name, "tx_packets") - tx0;
	rx = kt_stat(name, "rx_packets") - rx0;
	txd = kt_stat(name, "tx_dropped") - drop0;
	kt_note("%ld sent, %ld read, %llu dropped; %ld written, %ld received\n",
		st.sent, st.read, txd, st.written, st.received);

	EXPECT_GT(st.sent, 0);
	EXPECT_GT(st.read, 0);
	EXPECT_GT(st.written, 0);
	EXPECT_GT(st.received, 0);
	EXPECT_EQ(st.bad_read, 0);
	EXPECT_EQ(st.bad_recv, 0);
	if (st.write_err)
		FAIL_CHECK("%ld writes failed, the last with %s", st.write_err,
			   kt_errname(st.last_write_errno));
	EXPECT_EQ(tx, st.read);
	EXPECT_EQ(rx, st.written);
	EXPECT_EQ(st.read + txd, st.sent);
	EXPECT_LE(st.received, st.written);

	/* the device still works, both ways */
	s = kt_udp_bind(LOCAL4, 0);
	kt_udp_send(s, PEER4, 7999, "after", 5);
	kt_read_udp(st.fd, KT_RAW, 7999, buf, sizeof(buf), &p);
	EXPECT_EQ(p.dlen, 5);
	{
		uint8_t frame[128], got[16];
		size_t n = kt_build_udp(frame, KT_RAW, NULL, NULL, PEER4, 5000, LOCAL4, 9100,
					"after", 5);

		while (recv(st.sock, got, sizeof(got), MSG_DONTWAIT) >= 0)
			;
		ASSERT_EQ(write(st.fd, frame, n), n);
		EXPECT_EQ(kt_recv_wait(st.sock, got, sizeof(got)), 5);
	}
	close(s);
	close(st.sock);
	close(st.fd);
}
