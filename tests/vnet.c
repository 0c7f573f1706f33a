// SPDX-License-Identifier: GPL-2.0
/* Copyright (C) 2026 The ktun authors. */
/*
 * IFF_VNET_HDR: the virtio-net header in front of every packet. Its size
 * and byte order ioctls, TUNSETOFFLOAD and the features it turns on, what
 * a read says of checksum-offloaded and TSO packets the stack sends, what a
 * write may ask of the stack (checksum, GSO), and every malformed header.
 *
 *   stack: sockets on 10.73.0.1 --> dev (10.73.0.1/24) --> app fd: header + packet
 *   app:   header + packet from 10.73.0.2 --> dev --> sockets on 10.73.0.1
 *
 * For TCP the test itself is the peer at 10.73.0.2: it answers a SYN, or
 * opens a connection with one, by writing hand-made segments.
 */

#include <netinet/tcp.h>
#include <sys/mman.h>
#include <linux/virtio_net.h>

#include "net.h"

#define A4	"10.73.0.1/24"
#define LOCAL4	"10.73.0.1"
#define PEER4	"10.73.0.2"

#define VH	sizeof(struct virtio_net_hdr)

static const uint8_t peer_mac[6] = { 0x02, 0x6b, 0x74, 0x00, 0x00, 0x02 };

/* ---- packets ---- */

static uint32_t sum16(const void *p, size_t len, uint32_t sum)
{
	const uint8_t *b = p;

	for (; len > 1; b += 2, len -= 2)
		sum += b[0] << 8 | b[1];
	if (len)
		sum += b[0] << 8;
	return sum;
}

static uint16_t fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return sum;
}

/* The IPv4 pseudo header's sum for @proto and @len bytes of transport. */
static uint32_t pseudo4(const uint8_t *ip, int proto, size_t len)
{
	return sum16(ip + 12, 8, proto + len);
}

/*
 * An IPv4 TCP segment from @src:@sport to @dst:@dport into @b; with
 * @partial the checksum field holds only the pseudo header's sum, as a
 * NEEDS_CSUM header wants. Returns its length.
 */
static size_t tcp4(uint8_t *b, const char *src, int sport, const char *dst, int dport,
		   uint32_t seq, uint32_t ack, int flags, const uint8_t *opt, size_t optlen,
		   const void *data, size_t len, int partial)
{
	struct iphdr *ip = (struct iphdr *)b;
	struct tcphdr *th = (struct tcphdr *)(b + 20);
	size_t tlen = 20 + optlen + len;
	struct in_addr s = kt_in4(src), d = kt_in4(dst);

	memset(b, 0, 40);
	ip->version = 4;
	ip->ihl = 5;
	ip->tot_len = htons(20 + tlen);
	ip->id = htons(seq & 0xffff);
	ip->frag_off = htons(0x4000);
	ip->ttl = 64;
	ip->protocol = IPPROTO_TCP;
	ip->saddr = s.s_addr;
	ip->daddr = d.s_addr;
	ip->check = ktun_csum(ip, 20, 0);
	th->source = htons(sport);
	th->dest = htons(dport);
	th->seq = htonl(seq);
	th->ack_seq = htonl(ack);
	th->doff = (20 + optlen) / 4;
	((uint8_t *)th)[13] = flags;
	th->window = htons(65535);
	memcpy(b + 40, opt, optlen);
	memcpy(b + 40 + optlen, data, len);
	if (partial)
		th->check = htons(fold(pseudo4(b, IPPROTO_TCP, tlen)));
	else
		th->check = ktun_csum(th, tlen, pseudo4(b, IPPROTO_TCP, tlen));
	return 20 + tlen;
}

#define F_FIN	0x01
#define F_SYN	0x02
#define F_RST	0x04
#define F_PSH	0x08
#define F_ACK	0x10

static const uint8_t mss1460[4] = { 2, 4, 0x05, 0xb4 };

/* ---- the device ---- */

FIXTURE(vnet) {
	char name[IFNAMSIZ];
	int fd;
	int l2;			/* framing after the header */
	int sock;
	uint8_t mac[6];
};

FIXTURE_SETUP(vnet)
{
	self->fd = self->sock = -1;
}

FIXTURE_TEARDOWN(vnet)
{
	if (self->sock >= 0)
		close(self->sock);
	if (self->fd >= 0)
		close(self->fd);
}

/* The device with @flags | IFF_VNET_HDR, offloads @offload (-1: none set), up. */
static void vnet_dev(struct kt_fx_vnet *self, int flags, long offload)
{
	self->fd = kt_attach(kt_ifname(self->name, "v"), flags | IFF_VNET_HDR, NULL);
	self->l2 = kt_l2_of(flags);
	if (offload >= 0)
		ASSERT_OK(ioctl(self->fd, TUNSETOFFLOAD, (unsigned long)offload));
	kt_dev_up(self->name, A4, NULL);
	if (self->l2 >= KT_ETH) {
		kt_mac(self->name, self->mac);
		RUN("ip neigh replace %s lladdr 02:6b:74:00:00:02 dev %s nud permanent",
		    PEER4, self->name);
	}
}

/* Where the IP header starts in a frame after the virtio-net header. */
static size_t ip_off(struct kt_fx_vnet *self)
{
	return self->l2 >= KT_ETH ? 14 : 0;
}

/* Puts Ethernet framing in front of IP packet @ip (@len) into @out, if TAP. */
static size_t frame(struct kt_fx_vnet *self, uint8_t *out, const uint8_t *ip, size_t len)
{
	size_t off = ip_off(self);

	if (off) {
		memcpy(out, self->mac, 6);
		memcpy(out + 6, peer_mac, 6);
		out[12] = 0x08;
		out[13] = 0x00;
	}
	memmove(out + off, ip, len);
	return off + len;
}

/* Writes header @h and frame @f (@len bytes); returns write()'s result. */
static ssize_t write_hdr(int fd, const struct virtio_net_hdr *h, size_t hsz,
			 const void *f, size_t len)
{
	static uint8_t buf[70000];

	memset(buf, 0, hsz);
	memcpy(buf, h, VH);
	memcpy(buf + hsz, f, len);
	return write(fd, buf, hsz + len);
}

/*
 * Reads until a TCP or UDP packet to/from @port arrives (others are the
 * stack's own); returns its frame's length after the header of @hsz bytes,
 * the header in @h and the frame at @buf + @hsz.
 */
static size_t read_port(struct kt_fx_vnet *self, int proto, int port, uint8_t *buf,
			size_t size, size_t hsz, struct virtio_net_hdr *h)
{
	int i;

	for (i = 0; i < 1000; i++) {
		ssize_t n = kt_read_wait(self->fd, buf, size, KT_WAIT_MS);
		const uint8_t *ip = buf + hsz + ip_off(self);

		if (n < 0)
			FAIL("waiting for a packet of port %d: %s", port, kt_errname(errno));
		if ((size_t)n < hsz + ip_off(self) + 24 || ip[0] != 0x45 || ip[9] != proto)
			continue;
		if ((ip[20] << 8 | ip[21]) != port && (ip[22] << 8 | ip[23]) != port)
			continue;
		memcpy(h, buf, VH);
		return n - hsz;
	}
	FAIL("no packet of port %d among 1000", port);
}

/* ---- the ioctls ---- */

TEST_F(vnet, hdrsz_get_set)
{
	int v = 0;

	vnet_dev(self, IFF_TUN | IFF_NO_PI, -1);
	ASSERT_OK(ioctl(self->fd, TUNGETVNETHDRSZ, &v));
	EXPECT_EQ(v, 10);
	v = 9;
	EXPECT_ERRNO(ioctl(self->fd, TUNSETVNETHDRSZ, &v), EINVAL);
	v = 0;
	EXPECT_ERRNO(ioctl(self->fd, TUNSETVNETHDRSZ, &v), EINVAL);
	v = -12;
	EXPECT_ERRNO(ioctl(self->fd, TUNSETVNETHDRSZ, &v), EINVAL);
	v = 0;
	ASSERT_OK(ioctl(self->fd, TUNGETVNETHDRSZ, &v));
	EXPECT_EQ(v, 10);
	v = 12;
	ASSERT_OK(ioctl(self->fd, TUNSETVNETHDRSZ, &v));
	v = 0;
	ASSERT_OK(ioctl(self->fd, TUNGETVNETHDRSZ, &v));
	EXPECT_EQ(v, 12);
	v = 10;
	ASSERT_OK(ioctl(self->fd, TUNSETVNETHDRSZ, &v));
	EXPECT_ERRNO(ioctl(self->fd, TUNSETVNETHDRSZ, (void *)-4096L), EFAULT);
	EXPECT_ERRNO(ioctl(self->fd, TUNGETVNETHDRSZ, (void *)-4096L), EFAULT);
}

/* A 12-byte header: the two bytes after the virtio-net header are skipped, both ways. */
TEST_F(vnet, hdrsz_12_skips_extra)
{
	struct virtio_net_hdr h = { 0 };
	uint8_t pkt[256], buf[2048];
	int v = 12, s;
	size_t n;

	vnet_dev(self, IFF_TUN | IFF_NO_PI, -1);
	ASSERT_OK(ioctl(self->fd, TUNSETVNETHDRSZ, &v));
	s = kt_udp_bind(LOCAL4, 7700);
	n = kt_build_udp(pkt, KT_RAW, NULL, NULL, PEER4, 5000, LOCAL4, 7700, "twelve", 6);
	memset(buf, 0xee, 12);		/* the extra bytes: garbage, ignored */
	memset(buf, 0, VH);
	memcpy(buf + 12, pkt, n);
	EXPECT_EQ(write(self->fd, buf, 12 + n), 12 + n);
	EXPECT_EQ(kt_recv_wait(s, buf, sizeof(buf)), 6);

	kt_udp_send(s, PEER4, 7701, "back", 4);
	n = read_port(self, IPPROTO_UDP, 7701, buf, sizeof(buf), 12, &h);
	EXPECT_EQ(n, 28 + 4);
	EXPECT_EQ(buf[12], 0x45);
	EXPECT_EQ(h.gso_type, VIRTIO_NET_HDR_GSO_NONE);
	close(s);
}

TEST_F(vnet, vnet_le_be)
{
	int v = -1;

	vnet_dev(self, IFF_TAP | IFF_NO_PI, -1);
	ASSERT_OK(ioctl(self->fd, TUNGETVNETLE, &v));
	EXPECT_EQ(v, 0);
	v = 1;
	ASSERT_OK(ioctl(self->fd, TUNSETVNETLE, &v));
	v = -1;
	ASSERT_OK(ioctl(self->fd, TUNGETVNETLE, &v));
	EXPECT_EQ(v, 1);
	v = 5;		/* any non-zero is on, reported as 1 */
	ASSERT_OK(ioctl(self->fd, TUNSETVNETLE, &v));
	ASSERT_OK(ioctl(self->fd, TUNGETVNETLE, &v));
	EXPECT_EQ(v, 1);
	v = 0;
	ASSERT_OK(ioctl(self->fd, TUNSETVNETLE, &v));
	v = -1;
	ASSERT_OK(ioctl(self->fd, TUNGETVNETLE, &v));
	EXPECT_EQ(v, 0);
	EXPECT_ERRNO(ioctl(self->fd, TUNSETVNETLE, (void *)-4096L), EFAULT);
	EXPECT_ERRNO(ioctl(self->fd, TUNGETVNETLE, (void *)-4096L), EFAULT);
	/* big-endian headers are not built into this kernel's config */
	v = 1;
	EXPECT_ERRNO(ioctl(self->fd, TUNSETVNETBE, &v), EINVAL);
	EXPECT_ERRNO(ioctl(self->fd, TUNGETVNETBE, &v), EINVAL);
}

/* The offload features as "ethtool -k" reports them. */
struct feats {
	int csum, tso4, tso6, ecn;
};

static struct feats features(const char *name)
{
	char cmd[96], out[8192];
	struct feats f;

	snprintf(cmd, sizeof(cmd), "ethtool -k %s", name);
	ASSERT_EQ(kt_capture(out, sizeof(out), cmd), 0);
	f.csum = !!strstr(out, "tx-checksum-ip-generic: on");
	f.tso4 = !!strstr(out, "tx-tcp-segmentation: on");
	f.tso6 = !!strstr(out, "tx-tcp6-segmentation: on");
	f.ecn = !!strstr(out, "tx-tcp-ecn-segmentation: on");
	return f;
}

TEST_F(vnet, offload_combinations)
{
	static const struct {
		unsigned int arg;
		struct feats want;
	} ok[] = {
		{ 0, { 0, 0, 0, 0 } },
		{ TUN_F_CSUM, { 1, 0, 0, 0 } },
		{ TUN_F_CSUM | TUN_F_TSO4, { 1, 1, 0, 0 } },
		{ TUN_F_CSUM | TUN_F_TSO6, { 1, 0, 1, 0 } },
		{ TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6, { 1, 1, 1, 0 } },
		{ TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO_ECN, { 1, 1, 0, 1 } },
		{ TUN_F_CSUM | TUN_F_TSO6 | TUN_F_TSO_ECN, { 1, 0, 1, 1 } },
		{ TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN, { 1, 1, 1, 1 } },
		{ TUN_F_CSUM | TUN_F_UFO, { 1, 0, 0, 0 } },
		{ TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN | TUN_F_UFO, { 1, 1, 1, 1 } },
		{ 0, { 0, 0, 0, 0 } },
	};
	static const unsigned long bad[] = {
		TUN_F_TSO4, TUN_F_TSO6, TUN_F_TSO4 | TUN_F_TSO6, TUN_F_TSO_ECN, TUN_F_UFO,
		TUN_F_TSO4 | TUN_F_TSO_ECN, TUN_F_CSUM | TUN_F_TSO_ECN,
		0x20, 0x40, TUN_F_CSUM | 0x20, TUN_F_CSUM | TUN_F_TSO4 | 0x100, 0x80000000UL,
	};
	unsigned int i;
	struct feats f;

	vnet_dev(self, IFF_TAP | IFF_NO_PI, -1);
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		ASSERT_OK(ioctl(self->fd, TUNSETOFFLOAD, (unsigned long)ok[i].arg));
		f = features(self->name);
		if (memcmp(&f, &ok[i].want, sizeof(f)))
			FAIL_CHECK("TUNSETOFFLOAD 0x%x: csum %d tso4 %d tso6 %d ecn %d, expected %d %d %d %d",
				   ok[i].arg, f.csum, f.tso4, f.tso6, f.ecn, ok[i].want.csum,
				   ok[i].want.tso4, ok[i].want.tso6, ok[i].want.ecn);
	}
	ASSERT_OK(ioctl(self->fd, TUNSETOFFLOAD, (unsigned long)(TUN_F_CSUM | TUN_F_TSO4)));
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		errno = 0;
		if (ioctl(self->fd, TUNSETOFFLOAD, bad[i]) != -1 || errno != EINVAL)
			FAIL_CHECK("TUNSETOFFLOAD 0x%lx: %s, expected EINVAL", bad[i],
				   errno ? kt_errname(errno) : "accepted");
	}
	/* a refused call changes nothing */
	f = features(self->name);
	EXPECT_TRUE(f.csum && f.tso4 && !f.tso6);
}

/*
 * Deliberate difference: without IFF_VNET_HDR there is no header to
 * describe an offloaded packet, so ktun keeps the features off; stock turns
 * them on and finishes such packets in software on read.
 */
TEST(offload_without_vnet_hdr)
{
	char name[IFNAMSIZ];
	int fd = kt_attach(kt_ifname(name, "n"), IFF_TAP | IFF_NO_PI, NULL);
	struct feats f;

	ASSERT_OK(ioctl(fd, TUNSETOFFLOAD, (unsigned long)(TUN_F_CSUM | TUN_F_TSO4)));
	f = features(name);
	if (kt_stock()) {
		EXPECT_TRUE(f.csum && f.tso4);
	} else {
		EXPECT_FALSE(f.csum || f.tso4);
	}
	EXPECT_ERRNO(ioctl(fd, TUNSETOFFLOAD, (unsigned long)TUN_F_TSO4), EINVAL);
	close(fd);
}

/* ---- reading what the stack offloaded ---- */

/* Finishes the checksum a NEEDS_CSUM header asks for, in place. */
static void finish_csum(uint8_t *f, size_t len, const struct virtio_net_hdr *h)
{
	uint16_t c;

	ASSERT_LE(h->csum_start + h->csum_offset + 2u, len);
	c = ktun_csum(f + h->csum_start, len - h->csum_start, 0);
	memcpy(f + h->csum_start + h->csum_offset, &c, 2);
}

static void check_udp_csum_partial(struct kt_fx_vnet *self, int flags)
{
	struct virtio_net_hdr h;
	uint8_t buf[4096], data[300];
	struct kt_pkt p;
	size_t n;

	vnet_dev(self, flags, TUN_F_CSUM);
	self->sock = kt_udp_bind(LOCAL4, 0);
	memset(data, 0x5a, sizeof(data));
	kt_udp_send(self->sock, PEER4, 7800, data, sizeof(data));
	n = read_port(self, IPPROTO_UDP, 7800, buf, sizeof(buf), VH, &h);
	EXPECT_EQ(h.flags, VIRTIO_NET_HDR_F_NEEDS_CSUM);
	EXPECT_EQ(h.gso_type, VIRTIO_NET_HDR_GSO_NONE);
	EXPECT_EQ(h.csum_start, ip_off(self) + 20);
	EXPECT_EQ(h.csum_offset, 6);
	finish_csum(buf + VH, n, &h);
	ASSERT_EQ(kt_parse(buf + VH, n, self->l2, &p), 0);
	EXPECT_TRUE(kt_udp_csum_ok(&p));
	EXPECT_EQ(p.dlen, sizeof(data));
}

TEST_F(vnet, read_udp_needs_csum_tun)
{
	check_udp_csum_partial(self, IFF_TUN | IFF_NO_PI);
}

TEST_F(vnet, read_udp_needs_csum_tap)
{
	check_udp_csum_partial(self, IFF_TAP | IFF_NO_PI);
}

/* Without offloads the header says nothing and the packet is complete. */
TEST_F(vnet, read_no_offload_plain)
{
	struct virtio_net_hdr h, zero = { 0 };
	uint8_t buf[4096];
	struct kt_pkt p;
	size_t n;

	vnet_dev(self, IFF_TUN | IFF_NO_PI, -1);
	self->sock = kt_udp_bind(LOCAL4, 0);
	kt_udp_send(self->sock, PEER4, 7801, "plain", 5);
	n = read_port(self, IPPROTO_UDP, 7801, buf, sizeof(buf), VH, &h);
	EXPECT_EQ(memcmp(&h, &zero, VH), 0);
	ASSERT_EQ(kt_parse(buf + VH, n, self->l2, &p), 0);
	EXPECT_TRUE(kt_udp_csum_ok(&p));
}

/* No room for the header: EINVAL, and the packet is gone. */
TEST_F(vnet, read_shorter_than_header_einval)
{
	uint8_t buf[64];

	vnet_dev(self, IFF_TUN | IFF_NO_PI, -1);
	self->sock = kt_udp_bind(LOCAL4, 0);
	kt_udp_send(self->sock, PEER4, 7802, "x", 1);
	ASSERT_EQ(poll(&(struct pollfd){ .fd = self->fd, .events = POLLIN }, 1, KT_WAIT_MS), 1);
	EXPECT_ERRNO(read(self->fd, buf, VH - 1), EINVAL);
}

/*
 * TSO: a TCP connection from the stack, the test playing the peer. After
 * the handshake, a 20000-byte send leaves as GSO packets larger than the
 * MTU, described as TCPV4 with gso_size the MSS the peer announced.
 */
TEST_F(vnet, read_tso_tcp)
{
	static uint8_t buf[70000];
	struct virtio_net_hdr h = { 0 }, zero = { 0 };
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(7900) };
	struct linger lg = { 1, 0 };
	uint8_t pkt[256], data[20000];
	uint32_t isn;
	int s, i, gso = 0, sport;
	size_t n;

	vnet_dev(self, IFF_TUN | IFF_NO_PI, TUN_F_CSUM | TUN_F_TSO4);
	s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	ASSERT_OK(s);
	self->sock = s;
	sa.sin_addr = kt_in4(PEER4);
	EXPECT_ERRNO(connect(s, (struct sockaddr *)&sa, sizeof(sa)), EINPROGRESS);

	n = read_port(self, IPPROTO_TCP, 7900, buf, sizeof(buf), VH, &h);
	ASSERT_EQ(buf[VH + 33] & F_SYN, F_SYN);
	sport = buf[VH + 20] << 8 | buf[VH + 21];
	memcpy(&isn, buf + VH + 24, 4);
	isn = ntohl(isn);
	n = tcp4(pkt, PEER4, 7900, LOCAL4, sport, 1000, isn + 1, F_SYN | F_ACK, mss1460, 4,
		 NULL, 0, 0);
	ASSERT_EQ(write_hdr(self->fd, &zero, VH, pkt, n), VH + n);
	ASSERT_EQ(poll(&(struct pollfd){ .fd = s, .events = POLLOUT }, 1, KT_WAIT_MS), 1);

	memset(data, 0x33, sizeof(data));
	ASSERT_EQ(send(s, data, sizeof(data), 0), sizeof(data));
	for (i = 0; i < 40 && !gso; i++) {
		n = read_port(self, IPPROTO_TCP, 7900, buf, sizeof(buf), VH, &h);
		if (n <= 40)
			continue;	/* the handshake's ACK */
		if (n > 1500) {
			gso++;
			EXPECT_EQ(h.gso_type, VIRTIO_NET_HDR_GSO_TCPV4);
			EXPECT_EQ(h.gso_size, 1460);
			EXPECT_EQ(h.flags, VIRTIO_NET_HDR_F_NEEDS_CSUM);
			EXPECT_EQ(h.csum_start, 20);
			EXPECT_EQ(h.csum_offset, 16);
			EXPECT_GE(h.hdr_len, 40);
			EXPECT_EQ((n - 40) % 1460, 0);
		} else {
			EXPECT_EQ(h.gso_type, VIRTIO_NET_HDR_GSO_NONE);
		}
	}
	EXPECT_GT(gso, 0);
	setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
}

/* ---- writing: what the header asks of the stack ---- */

/*
 * A datagram whose checksum field is wrong: dropped by UDP when the header
 * says nothing, accepted when it says NEEDS_CSUM (the checksum is "still to
 * be computed", so the stack does not check it).
 */
static void check_write_needs_csum(struct kt_fx_vnet *self, int flags)
{
	struct virtio_net_hdr h = { 0 };
	uint8_t ip[256], f[300], buf[256];
	size_t n;

	vnet_dev(self, flags, -1);
	self->sock = kt_udp_bind(LOCAL4, 8000);
	n = kt_build_udp(ip, KT_RAW, NULL, NULL, PEER4, 5000, LOCAL4, 8000, "bad!", 4);
	ip[26] = 0xde;
	ip[27] = 0xad;
	n = frame(self, f, ip, n);
	EXPECT_EQ(write_hdr(self->fd, &h, VH, f, n), VH + n);

	n = kt_build_udp(ip, KT_RAW, NULL, NULL, PEER4, 5000, LOCAL4, 8000, "good!", 5);
	ip[26] = 0xde;
	ip[27] = 0xad;
	n = frame(self, f, ip, n);
	h.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	h.csum_start = ip_off(self) + 20;
	h.csum_offset = 6;
	EXPECT_EQ(write_hdr(self->fd, &h, VH, f, n), VH + n);
	/* the good one arrives, and it is the only one */
	EXPECT_EQ(kt_recv_wait(self->sock, buf, sizeof(buf)), 5);
	EXPECT_EQ(memcmp(buf, "good!", 5), 0);
	EXPECT_ERRNO(recv(self->sock, buf, sizeof(buf), MSG_DONTWAIT), EAGAIN);
	EXPECT_EQ(kt_stat(self->name, "rx_packets"), 2);
}

TEST_F(vnet, write_needs_csum_tun)
{
	check_write_needs_csum(self, IFF_TUN | IFF_NO_PI);
}

TEST_F(vnet, write_needs_csum_tap)
{
	check_write_needs_csum(self, IFF_TAP | IFF_NO_PI);
}

/*
 * A GSO TCP super-packet into an established connection: the test opens it
 * with a SYN of its own, then writes 3000 bytes as one TCPV4 packet with
 * gso_size 1000; the stack's socket reads all of it, in order.
 */
TEST_F(vnet, write_gso_tcp)
{
	struct virtio_net_hdr h = { 0 };
	static uint8_t pkt[4096], buf[4096], data[3000];
	int ls, cs, sport = 4444, got = 0;
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(8100) };
	struct linger lg = { 1, 0 };
	uint32_t isn;
	size_t i, n;

	vnet_dev(self, IFF_TUN | IFF_NO_PI, -1);
	ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ASSERT_OK(ls);
	self->sock = ls;
	sa.sin_addr = kt_in4(LOCAL4);
	ASSERT_OK(bind(ls, (struct sockaddr *)&sa, sizeof(sa)));
	ASSERT_OK(listen(ls, 1));

	n = tcp4(pkt, PEER4, sport, LOCAL4, 8100, 5000, 0, F_SYN, mss1460, 4, NULL, 0, 0);
	ASSERT_EQ(write_hdr(self->fd, &h, VH, pkt, n), VH + n);
	n = read_port(self, IPPROTO_TCP, 8100, buf, sizeof(buf), VH, &h);
	ASSERT_EQ(buf[VH + 33] & (F_SYN | F_ACK), F_SYN | F_ACK);
	memcpy(&isn, buf + VH + 24, 4);
	isn = ntohl(isn);
	memset(&h, 0, sizeof(h));
	n = tcp4(pkt, PEER4, sport, LOCAL4, 8100, 5001, isn + 1, F_ACK, NULL, 0, NULL, 0, 0);
	ASSERT_EQ(write_hdr(self->fd, &h, VH, pkt, n), VH + n);
	ASSERT_EQ(poll(&(struct pollfd){ .fd = ls, .events = POLLIN }, 1, KT_WAIT_MS), 1);
	cs = accept4(ls, NULL, NULL, SOCK_CLOEXEC);
	ASSERT_OK(cs);

	for (i = 0; i < sizeof(data); i++)
		data[i] = i * 7;
	n = tcp4(pkt, PEER4, sport, LOCAL4, 8100, 5001, isn + 1, F_ACK | F_PSH, NULL, 0,
		 data, sizeof(data), 1);
	h.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	h.gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
	h.gso_size = 1000;
	h.hdr_len = 40;
	h.csum_start = 20;
	h.csum_offset = 16;
	ASSERT_EQ(write_hdr(self->fd, &h, VH, pkt, n), VH + n);
	while (got < (int)sizeof(data)) {
		ssize_t r;

		ASSERT_EQ(poll(&(struct pollfd){ .fd = cs, .events = POLLIN }, 1, KT_WAIT_MS), 1);
		r = recv(cs, buf + got, sizeof(data) - got, 0);
		ASSERT_GT(r, 0);
		got += r;
	}
	EXPECT_EQ(memcmp(buf, data, sizeof(data)), 0);
	setsockopt(cs, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(cs);
}

/*
 * A TSO header on a segment no longer than gso_size is no GSO packet:
 * stock takes it as a plain one (virtio_net_hdr_to_skb: "too small packets
 * are not really GSO ones").
 */
TEST_F(vnet, write_gso_small_packet_accepted)
{
	struct virtio_net_hdr h = { 0 };
	uint8_t pkt[512];
	size_t n;

	vnet_dev(self, IFF_TUN | IFF_NO_PI, -1);
	n = tcp4(pkt, PEER4, 4445, LOCAL4, 8101, 1, 0, F_ACK | F_PSH, NULL, 0, "small", 5, 1);
	h.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	h.gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
	h.gso_size = 1448;
	h.hdr_len = 40;
	h.csum_start = 20;
	h.csum_offset = 16;
	EXPECT_EQ(write_hdr(self->fd, &h, VH, pkt, n), VH + n);
	EXPECT_EQ(kt_stat(self->name, "rx_packets"), 1);
}

/*
 * GSO headers ktun refuses and stock lets through to the kernel's
 * flow-dissector fallback: a GSO packet without NEEDS_CSUM, and on TUN a
 * TCP GSO type for the other IP version. Each is EINVAL and counted.
 */
static void check_gso_refused(struct kt_fx_vnet *self, const char *what,
			      const struct virtio_net_hdr *h, const uint8_t *f, size_t n)
{
	unsigned long long errs = kt_stat(self->name, "rx_frame_errors"),
			   drops = kt_stat(self->name, "rx_dropped");
	ssize_t r;

	errno = 0;
	r = write_hdr(self->fd, h, VH, f, n);
	if (kt_stock()) {
		kt_note("stock on %s: %s\n", what, r >= 0 ? "accepted" : kt_errname(errno));
		return;
	}
	if (r != -1 || errno != EINVAL)
		FAIL_CHECK("%s: %s, expected EINVAL", what, r >= 0 ? "accepted" : kt_errname(errno));
	if (kt_stat(self->name, "rx_frame_errors") != errs + 1 ||
	    kt_stat(self->name, "rx_dropped") != drops + 1)
		FAIL_CHECK("%s: not counted in rx_frame_errors and rx_dropped", what);
}

static void check_gso_without_needs_csum(struct kt_fx_vnet *self, int flags)
{
	static uint8_t ip[4096], f[4200], data[3000];
	struct virtio_net_hdr h = { 0 };
	size_t n;

	vnet_dev(self, flags, -1);
	n = tcp4(ip, PEER4, 4446, LOCAL4, 8102, 1, 0, F_ACK | F_PSH, NULL, 0,
		 data, sizeof(data), 0);
	n = frame(self, f, ip, n);
	h.gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
	h.gso_size = 1000;
	h.hdr_len = ip_off(self) + 40;
	check_gso_refused(self, "TCPV4 GSO without NEEDS_CSUM", &h, f, n);
	/* with NEEDS_CSUM the same packet is taken */
	n = tcp4(ip, PEER4, 4446, LOCAL4, 8102, 1, 0, F_ACK | F_PSH, NULL, 0,
		 data, sizeof(data), 1);
	n = frame(self, f, ip, n);
	h.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	h.csum_start = ip_off(self) + 20;
	h.csum_offset = 16;
	EXPECT_EQ(write_hdr(self->fd, &h, VH, f, n), VH + n);
}

TEST_F(vnet, write_gso_without_needs_csum_tun)
{
	check_gso_without_needs_csum(self, IFF_TUN | IFF_NO_PI);
}

TEST_F(vnet, write_gso_without_needs_csum_tap)
{
	check_gso_without_needs_csum(self, IFF_TAP | IFF_NO_PI);
}

/* On TUN the GSO type must be the packet's IP version's. */
TEST_F(vnet, write_gso_type_mismatch_tun)
{
	static uint8_t ip[4096], data[3000];
	struct virtio_net_hdr h = { 0 };
	size_t n;

	vnet_dev(self, IFF_TUN | IFF_NO_PI, -1);
	/* IPv4 TCP called TCPV6 */
	n = tcp4(ip, PEER4, 4447, LOCAL4, 8103, 1, 0, F_ACK | F_PSH, NULL, 0,
		 data, sizeof(data), 1);
	h.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	h.gso_type = VIRTIO_NET_HDR_GSO_TCPV6;
	h.gso_size = 1000;
	h.hdr_len = 40;
	h.csum_start = 20;
	h.csum_offset = 16;
	check_gso_refused(self, "IPv4 packet with TCPV6 GSO", &h, ip, n);

	/* an IPv6 TCP packet (fe80::2 to fe80::1) called TCPV4 */
	memset(ip, 0, 60);
	ip[0] = 0x60;
	ip[4] = (20 + sizeof(data)) >> 8;
	ip[5] = (20 + sizeof(data)) & 0xff;
	ip[6] = IPPROTO_TCP;
	ip[7] = 64;
	ip[8] = 0xfe;
	ip[9] = 0x80;
	ip[23] = 2;
	ip[24] = 0xfe;
	ip[25] = 0x80;
	ip[39] = 1;
	ip[52] = 5 << 4;	/* data offset */
	ip[53] = F_ACK;
	memcpy(ip + 60, data, sizeof(data));
	n = 60 + sizeof(data);
	h.gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
	h.hdr_len = 60;
	h.csum_start = 40;
	check_gso_refused(self, "IPv6 packet with TCPV4 GSO", &h, ip, n);
}

/* ---- writing: every malformed header ---- */

struct bad_hdr {
	const char *what;
	uint8_t flags, gso_type;
	/* -1: for hdr_len and csum_start the frame's length + 1; for csum_offset
	 * whatever puts the checksum field across the frame's last byte
	 */
	int hdr_len, gso_size, csum_start, csum_offset;
	int stock_counts;	/* stock counts it in rx_frame_errors too (TUN only) */
};

static void check_bad_headers(struct kt_fx_vnet *self, int flags, const struct bad_hdr *bad,
			      unsigned int nbad)
{
	uint8_t ip[256], f[300], buf[256];
	unsigned int i;
	size_t n;

	vnet_dev(self, flags, -1);
	self->sock = kt_udp_bind(LOCAL4, 8200);
	n = kt_build_udp(ip, KT_RAW, NULL, NULL, PEER4, 5000, LOCAL4, 8200, "payload", 7);
	n = frame(self, f, ip, n);
	for (i = 0; i < nbad; i++) {
		unsigned long long errs = kt_stat(self->name, "rx_frame_errors") +
					  kt_stat(self->name, "rx_dropped");
		struct virtio_net_hdr h = {
			.flags = bad[i].flags, .gso_type = bad[i].gso_type,
			.hdr_len = bad[i].hdr_len < 0 ? (int)n + 1 : bad[i].hdr_len,
			.gso_size = bad[i].gso_size,
			.csum_start = bad[i].csum_start < 0 ? (int)n + 1 : bad[i].csum_start,
			.csum_offset = bad[i].csum_offset < 0 ? (int)n - 1 - bad[i].csum_start :
				       bad[i].csum_offset,
		};

		errno = 0;
		if (write_hdr(self->fd, &h, VH, f, n) != -1 || errno != EINVAL)
			FAIL_CHECK("%s: %s, expected EINVAL", bad[i].what,
				   errno ? kt_errname(errno) : "accepted");
		/*
		 * Stock counts only what virtio_net_hdr_to_skb refuses, in an
		 * rx_frame_errors that only its TUN devices report.
		 */
		if ((!kt_stock() || (bad[i].stock_counts && self->l2 < KT_ETH)) &&
		    kt_stat(self->name, "rx_frame_errors") + kt_stat(self->name, "rx_dropped") <= errs)
			FAIL_CHECK("%s: not counted in rx_frame_errors or rx_dropped", bad[i].what);
	}
	EXPECT_EQ(kt_stat(self->name, "rx_packets"), 0);
	/* none reached the socket; a good one does */
	memset(buf, 0, VH);
	EXPECT_EQ(write_hdr(self->fd, (struct virtio_net_hdr *)buf, VH, f, n), VH + n);
	EXPECT_EQ(kt_recv_wait(self->sock, buf, sizeof(buf)), 7);
	EXPECT_ERRNO(recv(self->sock, buf, sizeof(buf), MSG_DONTWAIT), EAGAIN);
}

static const struct bad_hdr bad_common[] = {
	{ "csum_start beyond the packet", VIRTIO_NET_HDR_F_NEEDS_CSUM, 0, 0, 0, -1, 0, 0 },
	{ "csum_start+csum_offset beyond the packet", VIRTIO_NET_HDR_F_NEEDS_CSUM, 0, 0, 0,
	  20, 200, 0 },
	{ "csum field straddling the end", VIRTIO_NET_HDR_F_NEEDS_CSUM, 0, 0, 0, 20, -1, 0 },
	{ "hdr_len beyond the packet", 0, 0, -1, 0, 0, 0, 0 },
	{ "hdr_len 0xffff", 0, 0, 0xffff, 0, 0, 0, 0 },
	{ "gso_size 0", 0, VIRTIO_NET_HDR_GSO_TCPV4, 0, 0, 0, 0, 1 },
	{ "gso_size 0 (UDP)", 0, VIRTIO_NET_HDR_GSO_UDP, 0, 0, 0, 0, 1 },
	{ "gso_type 2", 0, 2, 0, 1000, 0, 0, 1 },
	{ "gso_type 5", 0, 5, 0, 1000, 0, 0, 1 },
	{ "gso_type 0x7f", 0, 0x7f, 0, 1000, 0, 0, 1 },
	{ "ECN bit alone", 0, VIRTIO_NET_HDR_GSO_ECN, 0, 1000, 0, 0, 1 },
	{ "ECN bit alone, no gso_size", 0, VIRTIO_NET_HDR_GSO_ECN, 0, 0, 0, 0, 1 },
};

TEST_F(vnet, write_bad_headers_tun)
{
	check_bad_headers(self, IFF_TUN | IFF_NO_PI, bad_common,
			  sizeof(bad_common) / sizeof(bad_common[0]));
}

TEST_F(vnet, write_bad_headers_tap)
{
	/* on TAP a non-zero hdr_len must cover the Ethernet header (stock rule) */
	static const struct bad_hdr tap_only[] = {
		{ "hdr_len 1", 0, 0, 1, 0, 0, 0, 0 },
		{ "hdr_len 13", 0, 0, 13, 0, 0, 0, 0 },
	};

	check_bad_headers(self, IFF_TAP | IFF_NO_PI, bad_common,
			  sizeof(bad_common) / sizeof(bad_common[0]));
	close(self->fd);
	close(self->sock);
	self->fd = self->sock = -1;
	check_bad_headers(self, IFF_TAP | IFF_NO_PI, tap_only,
			  sizeof(tap_only) / sizeof(tap_only[0]));
}

/* Writes too short to hold the header, or nothing after it. */
TEST_F(vnet, write_shorter_than_header_einval)
{
	uint8_t buf[64] = { 0 };
	size_t n;
	int v = 12;

	vnet_dev(self, IFF_TUN | IFF_NO_PI, -1);
	for (n = 1; n < VH; n++)
		EXPECT_ERRNO(write(self->fd, buf, n), EINVAL);
	EXPECT_ERRNO(write(self->fd, buf, VH), EINVAL);
	ASSERT_OK(ioctl(self->fd, TUNSETVNETHDRSZ, &v));
	EXPECT_ERRNO(write(self->fd, buf, 11), EINVAL);
	buf[12] = 0x45;
	EXPECT_ERRNO(write(self->fd, buf, 12), EINVAL);
	EXPECT_EQ(kt_stat(self->name, "rx_packets"), 0);
	close(self->fd);
	self->fd = -1;
	vnet_dev(self, IFF_TAP | IFF_NO_PI, -1);
	EXPECT_ERRNO(write(self->fd, buf, VH + 13), EINVAL);
}

/*
 * Header flags other than NEEDS_CSUM and DATA_VALID: stock ignores them
 * and takes the packet; ktun refuses the header (EINVAL).
 */
TEST_F(vnet, write_unknown_hdr_flags)
{
	static const uint8_t flags[] = { VIRTIO_NET_HDR_F_RSC_INFO, 0x08, 0x80 };
	struct virtio_net_hdr h = { 0 };
	uint8_t ip[256], buf[64];
	unsigned int i;
	size_t n;

	vnet_dev(self, IFF_TUN | IFF_NO_PI, -1);
	self->sock = kt_udp_bind(LOCAL4, 8300);
	n = kt_build_udp(ip, KT_RAW, NULL, NULL, PEER4, 5000, LOCAL4, 8300, "flag", 4);
	for (i = 0; i < sizeof(flags); i++) {
		ssize_t r;

		h.flags = flags[i];
		errno = 0;
		r = write_hdr(self->fd, &h, VH, ip, n);
		if (kt_stock()) {
			EXPECT_EQ(r, VH + n);
			EXPECT_EQ(kt_recv_wait(self->sock, buf, sizeof(buf)), 4);
		} else if (r != -1 || errno != EINVAL) {
			FAIL_CHECK("header flags 0x%x: %s, expected EINVAL (ktun)", flags[i],
				   r >= 0 ? "accepted" : kt_errname(errno));
		}
	}
	if (!kt_stock())
		kt_note("ktun differs from stock: unknown header flags are refused, stock ignores them\n");
	/* DATA_VALID is known: accepted by both */
	h.flags = VIRTIO_NET_HDR_F_DATA_VALID;
	EXPECT_EQ(write_hdr(self->fd, &h, VH, ip, n), VH + n);
	EXPECT_EQ(kt_recv_wait(self->sock, buf, sizeof(buf)), 4);
}

/* With tun_pi too, the tun_pi comes first, then the virtio-net header. */
TEST_F(vnet, pi_then_header)
{
	struct virtio_net_hdr h = { 0 };
	uint8_t buf[2048], ip[256];
	struct kt_pkt p;
	ssize_t n;
	size_t len;

	vnet_dev(self, IFF_TUN, TUN_F_CSUM);
	self->sock = kt_udp_bind(LOCAL4, 8400);
	len = kt_build_udp(ip, KT_RAW, NULL, NULL, PEER4, 5000, LOCAL4, 8400, "pi+vh", 5);
	buf[0] = buf[1] = 0;
	buf[2] = 0x08;
	buf[3] = 0x00;
	memcpy(buf + 4, &h, VH);
	memcpy(buf + 4 + VH, ip, len);
	EXPECT_EQ(write(self->fd, buf, 4 + VH + len), 4 + VH + len);
	EXPECT_EQ(kt_recv_wait(self->sock, buf, sizeof(buf)), 5);

	kt_udp_send(self->sock, PEER4, 8401, "back", 4);
	for (;;) {
		n = kt_read_wait(self->fd, buf, sizeof(buf), KT_WAIT_MS);
		ASSERT_GT(n, 4 + (ssize_t)VH);
		if (!kt_parse(buf + VH + 4, n - VH - 4, KT_RAW, &p) && p.proto == IPPROTO_UDP &&
		    p.dport == 8401)
			break;
	}
	EXPECT_EQ(buf[2] << 8 | buf[3], 0x0800);
	memcpy(&h, buf + 4, VH);
	EXPECT_EQ(h.flags, VIRTIO_NET_HDR_F_NEEDS_CSUM);
	EXPECT_EQ(h.csum_start, 20);
	EXPECT_EQ(h.csum_offset, 6);
}
