// SPDX-License-Identifier: GPL-2.0
/* Copyright (C) 2026 The ktun authors. */
/*
 * IFF_NAPI and IFF_NAPI_FRAGS: written packets go through a NAPI instance
 * of the writing file and GRO. GRO shows as fewer, larger packets on a
 * packet socket of the device: the stack's view after GRO. It keeps a flow
 * open across writes only while the device's gro_flush_timeout allows (the
 * core's rule, as on stock), so the tests set one. Then every ordering of
 * attach, IFF_DETACH_QUEUE, IFF_ATTACH_QUEUE, close, delete and re-attach
 * with NAPI on, also while another thread writes: nothing may splat or
 * leak (the runner checks the kernel log and ktun's object ledger).
 *
 *   app: writes from 10.74.0.2 --> dev (10.74.0.1/24, NAPI, GRO) --> stack
 *        packet socket on dev: what the stack received, after GRO
 */
#include <pthread.h>
#include <netinet/in.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>

#include "net.h"

#define A4	"10.74.0.1/24"
#define LOCAL4	"10.74.0.1"
#define PEER4	"10.74.0.2"
#define NAPI_TUN	(IFF_TUN | IFF_NO_PI | IFF_NAPI)
#define NAPI_TAP	(IFF_TAP | IFF_NO_PI | IFF_NAPI)
#define FRAGS_TAP	(NAPI_TAP | IFF_NAPI_FRAGS)

/* What a test writes: framing and the device's MAC when it is a TAP. */
struct wr {
	int fd;
	int l2;
	uint8_t mac[6];
};

static struct wr wr_open(const char *name, int flags)
{
	struct wr w = { .fd = kt_attach(name, flags, NULL), .l2 = kt_l2_of(flags) };

	kt_nonblock(w.fd);
	if (w.l2 == KT_ETH)
		kt_mac(name, w.mac);
	return w;
}

/* The Ethernet header, when there is one, in front of @ip_len bytes at @buf+14. */
static size_t frame(const struct wr *w, uint8_t *buf, size_t ip_len)
{
	if (w->l2 != KT_ETH)
		return ip_len;
	memcpy(buf, w->mac, 6);
	memcpy(buf + 6, kt_peer_mac, 6);
	buf[12] = 0x08;
	buf[13] = 0x00;
	return ETH_HLEN + ip_len;
}

static ssize_t write_tcp(const struct wr *w, int dport, uint32_t seq, size_t len)
{
	static uint8_t payload[2048];
	uint8_t buf[2200];
	size_t off = w->l2 == KT_ETH ? ETH_HLEN : 0, n;

	memset(payload, 'g', len);
	n = ktun_tcp4(buf + off, kt_in4(PEER4), kt_in4(LOCAL4), 40000, dport,
		      seq, 1, 0x10, 65535, payload, len);
	return write(w->fd, buf, frame(w, buf, n));
}

static ssize_t write_udp(const struct wr *w, int dport, const void *data, size_t len)
{
	static uint8_t buf[70000];
	size_t off = w->l2 == KT_ETH ? ETH_HLEN : 0, n;

	n = ktun_udp4(buf + off, kt_in4(PEER4), kt_in4(LOCAL4), 1000, dport, data, len);
	return write(w->fd, buf, frame(w, buf, n));
}

/* A packet socket on @name: every packet it receives, as the stack does. */
static int packet_socket(const char *name)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET,
				   .sll_protocol = htons(ETH_P_IP),
				   .sll_ifindex = (int)if_nametoindex(name) };
	int s = socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC, htons(ETH_P_IP));

	ASSERT_OK(s);
	ASSERT_OK(bind(s, (struct sockaddr *)&sll, sizeof(sll)));
	return s;
}

/*
 * Receives the TCP packets to @dport the stack took in until @bytes of
 * payload came; returns how many packets carried them.
 */
static int count_received(int s, int dport, size_t bytes)
{
	static uint8_t buf[70000];
	size_t got = 0;
	int n = 0;

	while (got < bytes) {
		struct sockaddr_ll from;
		socklen_t fl = sizeof(from);
		struct pollfd p = { .fd = s, .events = POLLIN };
		ssize_t len;

		if (poll(&p, 1, KT_WAIT_MS) != 1)
			FAIL("%zu of %zu bytes received in %d packets", got, bytes, n);
		len = recvfrom(s, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&from, &fl);
		ASSERT_GE(len, 0);
		if (from.sll_pkttype == PACKET_OUTGOING || len < 40 ||
		    buf[9] != IPPROTO_TCP || (buf[22] << 8 | buf[23]) != dport)
			continue;
		got += (size_t)(buf[2] << 8 | buf[3]) - 40;
		n++;
	}
	EXPECT_EQ(got, bytes);
	return n;
}

#define SEGS	32
#define MSS	1000

/* SEGS MSS-sized in-order segments of one flow; how many packets arrive. */
static int burst(const char *name, int flags, int timeout_ns)
{
	char path[64], val[32];
	struct wr w;
	int s, i, n;

	w = wr_open(name, flags);
	kt_dev_up(name, A4, NULL);
	snprintf(path, sizeof(path), "/sys/class/net/%s/gro_flush_timeout", name);
	snprintf(val, sizeof(val), "%d", timeout_ns);
	kt_write_file(path, val);
	s = packet_socket(name);
	for (i = 0; i < SEGS; i++)
		ASSERT_EQ(write_tcp(&w, 5001, 1000 + i * MSS, MSS), 40 + MSS + (w.l2 == KT_ETH ? 14 : 0));
	n = count_received(s, 5001, SEGS * MSS);
	EXPECT_EQ(kt_stat(name, "rx_packets"), SEGS);
	close(s);
	close(w.fd);
	return n;
}

/*
 * GRO merges segments of one flow written back to back: the stack sees
 * fewer packets than were written, with every byte. (How many depends on
 * how many jiffies the burst spans: at least two writes share one.)
 */
TEST(gro_coalesces_tun)
{
	char name[IFNAMSIZ];
	int n = burst(kt_ifname(name, "g"), NAPI_TUN, 20000000);

	kt_note("%d segments arrived as %d packets\n", SEGS, n);
	EXPECT_LT(n, SEGS);
}

TEST(gro_coalesces_tap)
{
	char name[IFNAMSIZ];
	int n;

	/* Seen on Debian's 6.1: afterwards /sys/module/tun/refcnt stays at
	 * 1 for good (seemingly a socket of a closed file never freed), and the
	 * runner's rmmod fails. ktun has no socket per file to lose.
	 */
	if (kt_stock())
		SKIP("stock keeps a reference to its module after GRO merges TAP writes");
	n = burst(kt_ifname(name, "g"), NAPI_TAP, 20000000);

	kt_note("%d segments arrived as %d packets\n", SEGS, n);
	EXPECT_LT(n, SEGS);
}

/* Without IFF_NAPI, no GRO: every segment arrives on its own. */
TEST(no_napi_no_gro)
{
	char name[IFNAMSIZ];

	EXPECT_EQ(burst(kt_ifname(name, "n"), IFF_TUN | IFF_NO_PI, 20000000), SEGS);
}

/* Datagrams through the frags path arrive whole, small to multi-page. */
TEST(frags_tap_delivers)
{
	static const size_t sizes[] = { 1, 100, 1400, 3000, 9000, 20000 };
	static uint8_t data[20000], got[20000];
	char name[IFNAMSIZ];
	struct wr w;
	unsigned int i;
	int s;

	w = wr_open(kt_ifname(name, "f"), FRAGS_TAP);
	kt_dev_up(name, A4, NULL);
	s = kt_udp_bind(LOCAL4, 5002);
	for (i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 7);
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		ssize_t n;

		ASSERT_EQ(write_udp(&w, 5002, data, sizes[i]), (ssize_t)(14 + 28 + sizes[i]));
		n = kt_recv_wait(s, got, sizeof(got));
		EXPECT_EQ(n, (ssize_t)sizes[i]);
		if (n == (ssize_t)sizes[i])
			EXPECT_EQ(memcmp(got, data, n), 0);
	}
	EXPECT_EQ(kt_stat(name, "rx_packets"), sizeof(sizes) / sizeof(sizes[0]));
	close(s);
	close(w.fd);
}

/* Frames too short or malformed are refused as without NAPI. */
TEST(frags_tap_short)
{
	char name[IFNAMSIZ];
	uint8_t buf[64] = { 0 };
	struct wr w = wr_open(kt_ifname(name, "f"), FRAGS_TAP);

	kt_dev_up(name, A4, NULL);
	EXPECT_ERRNO(write(w.fd, buf, 13), EINVAL);
	/* An Ethernet header and nothing the stack wants: taken, then dropped. */
	EXPECT_EQ(write(w.fd, buf, 14), 14);
	EXPECT_EQ(write(w.fd, buf, 60), 60);
	close(w.fd);
}

static int setqueue(int fd, int flags)
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = flags;
	return ioctl(fd, TUNSETQUEUE, &ifr);
}

/* A write that the stack takes: 0, or the errno. */
static int wr_errno(const struct wr *w)
{
	return write_udp(w, 9999, "x", 1) < 0 ? errno : 0;
}

static void orderings(int flags)
{
	char name[IFNAMSIZ];
	struct wr a, b;

	flags |= IFF_MULTI_QUEUE;
	/* detach a queue, write on it (EBUSY, as stock), close it: the
	 * detached queue's NAPI must go too.
	 */
	a = wr_open(kt_ifname(name, "o"), flags);
	b = wr_open(name, flags);
	kt_dev_up(name, A4, NULL);
	EXPECT_EQ(wr_errno(&b), 0);
	ASSERT_OK(setqueue(b.fd, IFF_DETACH_QUEUE));
	EXPECT_EQ(wr_errno(&b), EBUSY);
	EXPECT_EQ(wr_errno(&a), 0);
	close(b.fd);
	EXPECT_EQ(wr_errno(&a), 0);
	/* detach, re-attach, write on both */
	b = wr_open(name, flags);
	ASSERT_OK(setqueue(b.fd, IFF_DETACH_QUEUE));
	ASSERT_OK(setqueue(b.fd, IFF_ATTACH_QUEUE));
	EXPECT_EQ(wr_errno(&b), 0);
	EXPECT_EQ(wr_errno(&a), 0);
	/* delete the device with a queue detached; both files outlive it */
	ASSERT_OK(setqueue(a.fd, IFF_DETACH_QUEUE));
	kt_del(name);
	EXPECT_EQ(wr_errno(&a), EBADFD);
	EXPECT_EQ(wr_errno(&b), EBADFD);
	/* a file of a deleted device attaches again, with NAPI again */
	ASSERT_OK(kt_setiff(a.fd, name, flags, NULL));
	kt_dev_up(name, A4, NULL);
	EXPECT_EQ(wr_errno(&a), 0);
	close(b.fd);
	/* persistent: nobody attached, then attached again with NAPI */
	kt_cleanup_dev(name);
	kt_set_persist(a.fd, 1);
	close(a.fd);
	a = wr_open(name, flags);
	EXPECT_EQ(wr_errno(&a), 0);
	/* the last queue detached, then the device deleted under it */
	b = wr_open(name, flags);
	ASSERT_OK(setqueue(a.fd, IFF_DETACH_QUEUE));
	ASSERT_OK(setqueue(b.fd, IFF_DETACH_QUEUE));
	kt_set_persist(a.fd, 0);
	close(a.fd);
	close(b.fd);
	EXPECT_FALSE(kt_exists(name));
}

TEST(orderings_napi_tun)
{
	orderings(NAPI_TUN);
}

TEST(orderings_napi_tap)
{
	orderings(NAPI_TAP);
}

TEST(orderings_napi_frags)
{
	orderings(FRAGS_TAP);
}

struct racer {
	struct wr w;
	volatile int stop;
	int writes;
};

static void *race_writer(void *arg)
{
	struct racer *r = arg;

	while (!r->stop) {
		int e = wr_errno(&r->w);

		if (e == EBADFD)
			break;
		r->writes++;
	}
	return NULL;
}

/* Queue detach/attach and then delete while another thread writes. */
static void race(int flags)
{
	char name[IFNAMSIZ];
	struct racer r = { .stop = 0 };
	pthread_t t;
	int other, i;

	flags |= IFF_MULTI_QUEUE;
	r.w = wr_open(kt_ifname(name, "r"), flags);
	other = kt_attach(name, flags, NULL);
	kt_dev_up(name, A4, NULL);
	ASSERT_OK(pthread_create(&t, NULL, race_writer, &r));
	for (i = 0; i < 200; i++) {
		ASSERT_OK(setqueue(r.w.fd, IFF_DETACH_QUEUE));
		ASSERT_OK(setqueue(r.w.fd, IFF_ATTACH_QUEUE));
	}
	kt_del(name);
	pthread_join(t, NULL);
	EXPECT_GT(r.writes, 0);
	close(other);
	close(r.w.fd);
}

TEST(race_napi)
{
	race(NAPI_TUN);
}

TEST(race_napi_frags)
{
	race(FRAGS_TAP);
}
