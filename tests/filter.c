// SPDX-License-Identifier: GPL-2.0
/* Copyright (C) 2026 The ktun authors. */
/*
 * Transmit filters of TAP devices: the destination-address filter of
 * TUNSETTXFILTER (exact addresses, multicast hash, ALLMULTI, off) and the
 * classic BPF program of TUNATTACHFILTER / TUNDETACHFILTER / TUNGETFILTER,
 * with their bad inputs. What a filter drops never reaches the fd and is
 * counted in tx_dropped.
 *
 *   stack: socket on 10.74.0.1 --> tap (10.74.0.1/24) --> app fd
 *          peers A 10.74.0.2 (02:6b:74:00:00:0a), B 10.74.0.3 (..:0b):
 *          permanent neighbours, so no ARP unless a test wants one
 *          multicast groups 239.1.2.x, sent out of the tap
 */

#include <sys/mman.h>
#include <linux/filter.h>

#include "net.h"

#define A4	"10.74.0.1/24"
#define LOCAL4	"10.74.0.1"
#define PEER_A	"10.74.0.2"
#define PEER_B	"10.74.0.3"
#define PEER_C	"10.74.0.9"	/* no neighbour entry: the stack asks by ARP */

static const uint8_t mac_a[6] = { 0x02, 0x6b, 0x74, 0x00, 0x00, 0x0a };

FIXTURE(tap) {
	char name[IFNAMSIZ];
	int fd;
	int sock;
};

FIXTURE_SETUP(tap)
{
	self->fd = self->sock = -1;
}

FIXTURE_TEARDOWN(tap)
{
	if (self->sock >= 0)
		close(self->sock);
	if (self->fd >= 0)
		close(self->fd);
}

static void tap_up(struct kt_fx_tap *self)
{
	struct in_addr local = kt_in4(LOCAL4);

	self->fd = kt_attach(kt_ifname(self->name, "f"), IFF_TAP | IFF_NO_PI, NULL);
	kt_nonblock(self->fd);
	kt_dev_up(self->name, A4, NULL);
	RUN("ip neigh replace %s lladdr 02:6b:74:00:00:0a dev %s nud permanent",
	    PEER_A, self->name);
	RUN("ip neigh replace %s lladdr 02:6b:74:00:00:0b dev %s nud permanent",
	    PEER_B, self->name);
	self->sock = kt_udp_bind(LOCAL4, 0);
	ASSERT_OK(setsockopt(self->sock, IPPROTO_IP, IP_MULTICAST_IF, &local, sizeof(local)));
}

static void send_to(struct kt_fx_tap *self, const char *dst, int port)
{
	kt_udp_send(self->sock, dst, port, "filter", 6);
}

/* The multicast MAC of 239.1.2.@g. */
static void group_mac(int g, uint8_t mac[6])
{
	static const uint8_t base[6] = { 0x01, 0x00, 0x5e, 0x01, 0x02, 0x00 };

	memcpy(mac, base, 6);
	mac[5] = g;
}

static const char *group_ip(int g)
{
	static char s[32];

	snprintf(s, sizeof(s), "239.1.2.%d", g);
	return s;
}

/*
 * Sends one datagram to each of @dsts (ports 9000, 9001, ...), then a
 * marker to A on port 9999 when @marker; reads until the marker (or, with
 * no marker, until the last port) and returns a mask of the ports 9000 +
 * i that came through.
 */
static unsigned int send_and_see(struct kt_fx_tap *self, const char *const *dsts, int n,
				 int marker)
{
	unsigned int seen = 0;
	uint8_t buf[2048];
	struct kt_pkt p;
	int i, last = marker ? 9999 : 9000 + n - 1;

	for (i = 0; i < n; i++)
		send_to(self, dsts[i], 9000 + i);
	if (marker)
		send_to(self, PEER_A, 9999);
	for (i = 0; i < 1000; i++) {
		ssize_t len = kt_read_wait(self->fd, buf, sizeof(buf), KT_WAIT_MS);

		if (len < 0)
			FAIL("waiting for the datagram to port %d: %s", last, kt_errname(errno));
		if (kt_parse(buf, len, KT_ETH, &p) || p.proto != IPPROTO_UDP)
			continue;
		if (p.dport >= 9000 && p.dport < 9000 + n)
			seen |= 1u << (p.dport - 9000);
		if (p.dport == last)
			return seen;
	}
	FAIL("no datagram to port %d among 1000 frames", last);
}

static int set_txfilter(int fd, unsigned int flags, const uint8_t (*addr)[6], int count)
{
	static uint8_t buf[sizeof(struct tun_filter) + 64 * 6];
	struct tun_filter *f = (struct tun_filter *)buf;

	f->flags = flags;
	f->count = count;
	memcpy(f->addr, addr, count * 6);
	return ioctl(fd, TUNSETTXFILTER, f);
}

TEST_F(tap, txfilter_exact)
{
	static const char *const dsts[] = { PEER_A, PEER_B };
	unsigned long long drops;

	tap_up(self);
	EXPECT_EQ(send_and_see(self, dsts, 2, 0), 3);
	ASSERT_EQ(set_txfilter(self->fd, 0, &mac_a, 1), 1);
	drops = kt_stat(self->name, "tx_dropped");
	EXPECT_EQ(send_and_see(self, dsts, 2, 1), 1);
	EXPECT_EQ(kt_stat(self->name, "tx_dropped"), drops + 1);
	/* a count of 0 switches it off */
	ASSERT_EQ(set_txfilter(self->fd, 0, NULL, 0), 0);
	EXPECT_EQ(send_and_see(self, dsts, 2, 1), 3);
}

/* Linux's ether_crc(): the bit-reversed CRC-32 (no final inversion). */
static unsigned int mc_hash(const uint8_t *addr)
{
	uint32_t crc = ~0u, rev = 0;
	int i, b;

	for (i = 0; i < 6; i++) {
		crc ^= addr[i];
		for (b = 0; b < 8; b++)
			crc = (crc >> 1) ^ (crc & 1 ? 0xedb88320 : 0);
	}
	for (b = 0; b < 32; b++)
		rev |= ((crc >> b) & 1) << (31 - b);
	return rev >> 26;
}

/* Beyond the 8 exact addresses, multicast ones go into a 64-bit hash. */
TEST_F(tap, txfilter_multicast_hash)
{
	uint8_t addrs[9][6];
	const char *dsts[3];
	char g1[32], g2[32];
	int i, other;

	tap_up(self);
	memcpy(addrs[0], mac_a, 6);
	for (i = 1; i < 8; i++) {
		memcpy(addrs[i], mac_a, 6);
		addrs[i][5] = 0x40 + i;
	}
	group_mac(1, addrs[8]);
	/* a group whose hash differs from group 1's */
	for (other = 2; other < 255; other++) {
		uint8_t mac[6];

		group_mac(other, mac);
		if (mc_hash(mac) != mc_hash(addrs[8]))
			break;
	}
	snprintf(g1, sizeof(g1), "%s", group_ip(1));
	snprintf(g2, sizeof(g2), "%s", group_ip(other));
	dsts[0] = g1;
	dsts[1] = g2;
	dsts[2] = PEER_B;
	ASSERT_EQ(set_txfilter(self->fd, 0, (const uint8_t (*)[6])addrs, 9), 8);
	EXPECT_EQ(send_and_see(self, dsts, 3, 1), 1);

	/* a multicast address among the exact ones matches exactly */
	group_mac(other, addrs[7]);
	ASSERT_EQ(set_txfilter(self->fd, 0, (const uint8_t (*)[6])addrs, 8), 8);
	EXPECT_EQ(send_and_see(self, dsts, 3, 1), 2);

	/* a unicast address beyond the exact ones leaves no filter at all */
	addrs[8][0] = 0x02;
	ASSERT_EQ(set_txfilter(self->fd, 0, (const uint8_t (*)[6])addrs, 9), 0);
	EXPECT_EQ(send_and_see(self, dsts, 3, 1), 7);
}

TEST_F(tap, txfilter_allmulti)
{
	static const char *const dsts[] = { "239.1.2.5", "239.1.2.77", PEER_B };

	tap_up(self);
	ASSERT_EQ(set_txfilter(self->fd, TUN_FLT_ALLMULTI, &mac_a, 1), 1);
	EXPECT_EQ(send_and_see(self, dsts, 3, 1), 3);
	ASSERT_EQ(set_txfilter(self->fd, 0, &mac_a, 1), 1);
	EXPECT_EQ(send_and_see(self, dsts, 3, 1), 0);
}

TEST_F(tap, txfilter_bad_input)
{
	struct tun_filter *f;
	uint8_t *page;
	char tun[IFNAMSIZ];
	int tfd;

	tap_up(self);
	EXPECT_ERRNO(ioctl(self->fd, TUNSETTXFILTER, NULL), EFAULT);
	/* the header readable, the addresses it announces not */
	page = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_TRUE(page != MAP_FAILED);
	ASSERT_OK(mprotect(page + 4096, 4096, PROT_NONE));
	f = (struct tun_filter *)(page + 4096 - sizeof(*f) - 6);
	f->flags = 0;
	f->count = 3;
	memcpy(f->addr, mac_a, 6);
	EXPECT_ERRNO(ioctl(self->fd, TUNSETTXFILTER, f), EFAULT);
	f->count = 0xffff;
	EXPECT_ERRNO(ioctl(self->fd, TUNSETTXFILTER, f), EFAULT);
	f->count = 1;
	EXPECT_EQ(ioctl(self->fd, TUNSETTXFILTER, f), 1);
	munmap(page, 8192);

	/* unknown filter flags: stock ignores them, ktun refuses */
	errno = 0;
	if (kt_stock())
		EXPECT_EQ(set_txfilter(self->fd, 0x2, &mac_a, 1), 1);
	else
		EXPECT_ERRNO(set_txfilter(self->fd, 0x2, &mac_a, 1), EINVAL);

	/* TUN has no Ethernet addresses to filter */
	tfd = kt_attach(kt_ifname(tun, "u"), IFF_TUN | IFF_NO_PI, NULL);
	EXPECT_ERRNO(set_txfilter(tfd, 0, &mac_a, 1), EINVAL);
	EXPECT_ERRNO(set_txfilter(tfd, 0, NULL, 0), EINVAL);
	EXPECT_ERRNO(ioctl(tfd, TUNSETTXFILTER, NULL), EINVAL);
	close(tfd);
}

/* ---- classic BPF ---- */

static struct sock_filter arp_only[] = {
	BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 12),
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0x0806, 0, 1),
	BPF_STMT(BPF_RET | BPF_K, 0xffff),
	BPF_STMT(BPF_RET | BPF_K, 0),
};

/* Reads until an ARP frame; fails if a UDP one to @port comes first. */
static void expect_arp_not_udp(struct kt_fx_tap *self, int port)
{
	uint8_t buf[2048];
	struct kt_pkt p;
	int i;

	for (i = 0; i < 1000; i++) {
		ssize_t n = kt_read_wait(self->fd, buf, sizeof(buf), KT_WAIT_MS);

		if (n < 0)
			FAIL("waiting for an ARP request: %s", kt_errname(errno));
		if (n >= 14 && buf[12] == 0x08 && buf[13] == 0x06)
			return;
		if (!kt_parse(buf, n, KT_ETH, &p) && p.proto == IPPROTO_UDP && p.dport == port)
			FAIL("a UDP datagram passed the ARP-only filter");
	}
	FAIL("no ARP request among 1000 frames");
}

TEST_F(tap, bpf_accept_arp_only)
{
	struct sock_fprog prog = { 4, arp_only }, got = { 0 };
	static const char *const dsts[] = { PEER_B };
	unsigned long long drops;

	tap_up(self);
	ASSERT_OK(ioctl(self->fd, TUNGETFILTER, &got));
	EXPECT_EQ(got.len, 0);
	ASSERT_OK(ioctl(self->fd, TUNATTACHFILTER, &prog));
	ASSERT_OK(ioctl(self->fd, TUNGETFILTER, &got));
	EXPECT_EQ(got.len, 4);
	EXPECT_TRUE(got.filter == arp_only);

	drops = kt_stat(self->name, "tx_dropped");
	send_to(self, PEER_A, 9100);		/* dropped */
	send_to(self, PEER_C, 9101);		/* makes the stack ask for C */
	expect_arp_not_udp(self, 9100);
	EXPECT_GE(kt_stat(self->name, "tx_dropped"), drops + 1);

	/* a refused program leaves the old one in force */
	prog.len = 0;
	EXPECT_ERRNO(ioctl(self->fd, TUNATTACHFILTER, &prog), EINVAL);
	send_to(self, PEER_A, 9102);
	send_to(self, PEER_C, 9103);
	expect_arp_not_udp(self, 9102);

	/*
	 * (What TUNGETFILTER says after the refused program differs: stock
	 * reports the refused one, ktun the one in force. Not checked.)
	 */
	prog.len = 4;
	ASSERT_OK(ioctl(self->fd, TUNATTACHFILTER, &prog));
	ASSERT_OK(ioctl(self->fd, TUNDETACHFILTER, 0UL));
	kt_drain(self->fd);
	EXPECT_EQ(send_and_see(self, dsts, 1, 1), 1);
	/* after a detach, stock still reports the old program; ktun reports none */
	memset(&got, 0, sizeof(got));
	ASSERT_OK(ioctl(self->fd, TUNGETFILTER, &got));
	if (kt_stock())
		EXPECT_EQ(got.len, 4);
	else
		EXPECT_EQ(got.len, 0);
}

/* A program's return value is how much of the frame to keep. */
TEST_F(tap, bpf_truncate_and_drop)
{
	struct sock_filter keep20[] = { BPF_STMT(BPF_RET | BPF_K, 20) };
	struct sock_filter none[] = { BPF_STMT(BPF_RET | BPF_K, 0) };
	struct sock_fprog prog = { 1, keep20 };
	uint8_t buf[2048];
	unsigned long long drops;
	int i;

	tap_up(self);
	ASSERT_OK(ioctl(self->fd, TUNATTACHFILTER, &prog));
	kt_drain(self->fd);
	send_to(self, PEER_A, 9200);
	for (i = 0; i < 100; i++) {
		ssize_t n = kt_read_wait(self->fd, buf, sizeof(buf), KT_WAIT_MS);

		ASSERT_EQ(n, 20);
		if (buf[12] == 0x08 && buf[13] == 0x00)
			break;
	}
	EXPECT_EQ(memcmp(buf, mac_a, 6), 0);

	prog.filter = none;
	ASSERT_OK(ioctl(self->fd, TUNATTACHFILTER, &prog));
	drops = kt_stat(self->name, "tx_dropped");
	send_to(self, PEER_A, 9201);
	send_to(self, PEER_A, 9202);
	EXPECT_EQ(kt_stat(self->name, "tx_dropped"), drops + 2);
	EXPECT_FALSE(kt_readable(self->fd));
}

TEST_F(tap, bpf_bad_programs)
{
	struct sock_filter no_ret[] = { BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 12) };
	struct sock_filter bad_op[] = { { 0xffff, 0, 0, 0 }, BPF_STMT(BPF_RET | BPF_K, 0) };
	struct sock_filter bad_jump[] = {
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 1, 5, 5),
		BPF_STMT(BPF_RET | BPF_K, 0),
	};
	struct sock_filter bad_mem[] = {
		BPF_STMT(BPF_LD | BPF_MEM, 16),		/* scratch slots are 0..15 */
		BPF_STMT(BPF_RET | BPF_A, 0),
	};
	static struct sock_filter big[4097];
	static const char *const dsts[] = { PEER_B };
	struct sock_fprog cases[] = {
		{ 0, arp_only }, { 1, no_ret }, { 2, bad_op }, { 2, bad_jump }, { 2, bad_mem },
		{ 4097, big }, { 1, NULL },
	};
	struct sock_fprog prog;
	void *bad = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	unsigned int i;

	ASSERT_TRUE(bad != MAP_FAILED);
	for (i = 0; i < 4097; i++)
		big[i] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, 0xffff);
	tap_up(self);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		errno = 0;
		if (ioctl(self->fd, TUNATTACHFILTER, &cases[i]) != -1 || errno != EINVAL)
			FAIL_CHECK("program %u (len %u): %s, expected EINVAL", i, cases[i].len,
				   errno ? kt_errname(errno) : "accepted");
	}
	prog = (struct sock_fprog){ 4, bad };
	EXPECT_ERRNO(ioctl(self->fd, TUNATTACHFILTER, &prog), EFAULT);
	EXPECT_ERRNO(ioctl(self->fd, TUNATTACHFILTER, bad), EFAULT);
	EXPECT_ERRNO(ioctl(self->fd, TUNGETFILTER, bad), EFAULT);
	/*
	 * A long program is fine (stock charges it to the queue socket's
	 * optmem, 20 KiB by default, so 4096 instructions get ENOMEM there).
	 */
	prog = (struct sock_fprog){ 1024, big };
	EXPECT_OK(ioctl(self->fd, TUNATTACHFILTER, &prog));
	EXPECT_OK(ioctl(self->fd, TUNDETACHFILTER, 0UL));
	/* and nothing got in the way of traffic */
	kt_drain(self->fd);
	EXPECT_EQ(send_and_see(self, dsts, 1, 1), 1);
	munmap(bad, 4096);
}

/* BPF filters are for TAP only. */
TEST(bpf_on_tun_einval)
{
	struct sock_fprog prog = { 4, arp_only }, got;
	char name[IFNAMSIZ];
	int fd = kt_attach(kt_ifname(name, "t"), IFF_TUN | IFF_NO_PI, NULL);

	EXPECT_ERRNO(ioctl(fd, TUNATTACHFILTER, &prog), EINVAL);
	EXPECT_ERRNO(ioctl(fd, TUNDETACHFILTER, 0UL), EINVAL);
	EXPECT_ERRNO(ioctl(fd, TUNGETFILTER, &got), EINVAL);
	close(fd);
}

/*
 * TUNGETIFF reports IFF_NOFILTER exactly while no BPF filter is attached,
 * as stock does. It is IFF_NO_PI's bit: a TAP device that uses tun_pi and
 * has a filter must not be reported as IFF_NO_PI.
 */
TEST_F(tap, getiff_nofilter_follows_filter)
{
	struct sock_fprog prog = { 4, arp_only };
	struct ifreq ifr;

	self->fd = kt_attach(kt_ifname(self->name, "f"), IFF_TAP, NULL);
	memset(&ifr, 0, sizeof(ifr));
	ASSERT_OK(ioctl(self->fd, TUNGETIFF, &ifr));
	EXPECT_EQ(ifr.ifr_flags & IFF_NOFILTER, IFF_NOFILTER);
	ASSERT_OK(ioctl(self->fd, TUNATTACHFILTER, &prog));
	memset(&ifr, 0, sizeof(ifr));
	ASSERT_OK(ioctl(self->fd, TUNGETIFF, &ifr));
	EXPECT_EQ(ifr.ifr_flags & (IFF_NOFILTER | IFF_TAP), IFF_TAP);
	ASSERT_OK(ioctl(self->fd, TUNDETACHFILTER, 0UL));
	memset(&ifr, 0, sizeof(ifr));
	ASSERT_OK(ioctl(self->fd, TUNGETIFF, &ifr));
	EXPECT_EQ(ifr.ifr_flags & IFF_NOFILTER, IFF_NOFILTER);
}

/*
 * TUNGETFILTER hands back a struct sock_fprog whose padding (between len
 * and the pointer) is zero, whatever the program's owner had in its copy
 * and whatever was in the caller's buffer.
 */
TEST_F(tap, getfilter_zeroes_padding)
{
	union { struct sock_fprog f; uint8_t b[sizeof(struct sock_fprog)]; } set, got;
	size_t pad = offsetof(struct sock_fprog, filter), i;

	tap_up(self);
	memset(&set, 0xaa, sizeof(set));
	set.f.len = 4;
	set.f.filter = arp_only;
	ASSERT_OK(ioctl(self->fd, TUNATTACHFILTER, &set));
	memset(&got, 0x55, sizeof(got));
	ASSERT_OK(ioctl(self->fd, TUNGETFILTER, &got));
	EXPECT_EQ(got.f.len, 4);
	EXPECT_TRUE(got.f.filter == arp_only);
	if (kt_stock()) {
		kt_note("stock hands back the attacher's copy, padding and all: not checked\n");
		return;
	}
	for (i = sizeof(got.f.len); i < pad; i++)
		if (got.b[i])
			FAIL_CHECK("padding byte %zu is 0x%x, expected 0", i, got.b[i]);
	/* and with no program: all zero */
	ASSERT_OK(ioctl(self->fd, TUNDETACHFILTER, 0UL));
	memset(&got, 0x55, sizeof(got));
	ASSERT_OK(ioctl(self->fd, TUNGETFILTER, &got));
	for (i = 0; i < sizeof(got); i++)
		if (got.b[i])
			FAIL_CHECK("byte %zu of the empty program is 0x%x", i, got.b[i]);
}
