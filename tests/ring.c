// SPDX-License-Identifier: GPL-2.0
/* Copyright (C) 2026 The ktun authors. */
/*
 * The shared-memory rings, functionally: the ABI's checks, order and
 * completeness both ways, framing byte for byte as read()/write() for each
 * flag set, every queue of a multi-queue device, flow control on a full rx
 * ring, counters, and what read(), write() and poll() do on a ring queue.
 *
 *   stack: socket bound to 10.63.0.1 --> dev (10.63.0.1/24) --> rx ring --> app
 *   app:   datagrams from 10.63.0.2 --> tx ring --> dev --> socket
 */
#include <netinet/tcp.h>
#include <linux/virtio_net.h>
#include <sys/mman.h>

#include "net.h"
#include "ktun_ring.h"

#define A4	"10.63.0.1/24"
#define LOCAL4	"10.63.0.1"
#define PEER4	"10.63.0.2"
#define VH	((int)sizeof(struct virtio_net_hdr))

FIXTURE(ring) {
	char name[IFNAMSIZ];
	int fd;
	int l2;			/* kt_l2 of the flags */
	int vnet;		/* bytes of virtio-net header */
	int sock;
	uint8_t mac[6];
	struct ktun_ring *r;
};

FIXTURE_SETUP(ring)
{
	self->fd = self->sock = -1;
	self->r = NULL;
	if (kt_stock())
		SKIP("rings are ktun's own");
}

FIXTURE_TEARDOWN(ring)
{
	ktun_ring_free(self->r);
	if (self->fd >= 0)
		close(self->fd);
	if (self->sock >= 0)
		close(self->sock);
}

static void ring_dev(struct kt_fx_ring *self, int flags, long offload)
{
	self->fd = kt_attach(kt_ifname(self->name, "r"), flags, NULL);
	self->l2 = kt_l2_of(flags);
	self->vnet = flags & IFF_VNET_HDR ? VH : 0;
	if (offload >= 0)
		ASSERT_OK(ioctl(self->fd, TUNSETOFFLOAD, (unsigned long)offload));
	kt_dev_up(self->name, A4, NULL);
	if (self->l2 >= KT_ETH) {
		kt_mac(self->name, self->mac);
		kt_neigh(self->name, PEER4);
	}
	self->sock = kt_udp_bind(LOCAL4, 0);
}

static void ring_up(struct kt_fx_ring *self, uint32_t slots, uint32_t slot_size)
{
	struct ktun_ring_config c = { slots, slot_size, slots, slot_size };

	ASSERT_OK(ktun_ring_setup(self->fd, &c, &self->r));
}

/* Datagram @seq: 4 bytes of sequence number, then a pattern, @len in all. */
static void fill(uint8_t *d, uint32_t seq, size_t len)
{
	size_t i;

	memcpy(d, &seq, 4);
	for (i = 4; i < len; i++)
		d[i] = (uint8_t)(seq + i);
}

static void stack_send(struct kt_fx_ring *self, int port, uint32_t seq, size_t len)
{
	static uint8_t d[65536];

	fill(d, seq, len);
	kt_udp_send(self->sock, PEER4, port, d, len);
}

/*
 * Takes the next UDP datagram to @port off the rx ring, waiting up to the
 * guard; copies its frame to @out (if not NULL) and parses it into @p.
 * Returns the frame length (after the vnet header, which goes to @h).
 */
static size_t ring_next(struct kt_fx_ring *self, int port, uint8_t *out,
			struct kt_pkt *p, struct virtio_net_hdr *h)
{
	static uint8_t copy[KTUN_RING_MAX_SLOT_SIZE];
	struct ktun_ring_pkt pkt;
	int i;

	/* the slot is the kernel's again after the release: parse a copy */
	if (!out)
		out = copy;
	for (i = 0; i < 100000; i++) {
		if (!ktun_ring_rx_peek(self->r, &pkt, 1)) {
			int w = ktun_ring_wait(self->r, KTUN_RING_WAIT_RX, KT_WAIT_MS);

			if (w < 0)
				FAIL("waiting on the rx ring: %s", kt_errname(-w));
			if (!w)
				FAIL("nothing on the rx ring for %d ms", KT_WAIT_MS);
			continue;
		}
		memcpy(out, pkt.data, pkt.len);
		if (h && self->vnet)
			memcpy(h, pkt.data, VH);
		if (!kt_parse((uint8_t *)pkt.data + self->vnet, pkt.len - self->vnet,
			      self->l2, p) && p->proto == IPPROTO_UDP && p->dport == port) {
			kt_parse(out + self->vnet, pkt.len - self->vnet, self->l2, p);
			ktun_ring_rx_release(self->r, 1);
			return pkt.len;
		}
		ktun_ring_rx_release(self->r, 1);
	}
	FAIL("no datagram to port %d on the rx ring", port);
}

/* Puts one frame on the tx ring, waiting for a slot. */
static void ring_put(struct kt_fx_ring *self, const void *f, size_t len)
{
	struct ktun_ring_pkt pkt;
	int i;

	for (i = 0; i < 1000; i++) {
		if (ktun_ring_tx_reserve(self->r, &pkt, 1) == 1) {
			memcpy(pkt.data, f, len);
			pkt.len = len;
			ASSERT_OK(ktun_ring_tx_submit(self->r, &pkt, 1));
			return;
		}
		ASSERT_GE(ktun_ring_wait(self->r, KTUN_RING_WAIT_TX, KT_WAIT_MS), 0);
	}
	FAIL("the tx ring stayed full");
}

/* A frame from PEER4:5000 to LOCAL4:@port carrying datagram @seq, for write(). */
static size_t app_frame(struct kt_fx_ring *self, uint8_t *buf, int port,
			uint32_t seq, size_t len)
{
	static uint8_t d[65536];

	memset(buf, 0, self->vnet);
	fill(d, seq, len);
	return self->vnet + kt_build_udp(buf + self->vnet, self->l2, self->mac,
					 kt_peer_mac, PEER4, 5000, LOCAL4, port, d, len);
}

static int rx_sock(const char *addr, int port)
{
	int s = kt_udp_bind(addr, port), big = 8 << 20;

	/* room for every datagram a test sends before it reads */
	ASSERT_OK(setsockopt(s, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof(big)));

	kt_nonblock(s);
	return s;
}

/* ---- the ABI ---- */

TEST(features_on_any_fd)
{
	struct ktun_ring_features f;
	int fd;

	if (kt_stock()) {
		fd = kt_open_node(0);
		EXPECT_TRUE(ktun_ring_features(fd, &f) < 0);
		close(fd);
		return;
	}
	fd = kt_open_node(0);
	ASSERT_OK(ktun_ring_features(fd, &f));
	EXPECT_EQ(f.version, KTUN_RING_VERSION);
	EXPECT_EQ(f.min_slots, KTUN_RING_MIN_SLOTS);
	EXPECT_EQ(f.max_slots, KTUN_RING_MAX_SLOTS);
	EXPECT_EQ(f.min_slot_size, KTUN_RING_MIN_SLOT_SIZE);
	EXPECT_EQ(f.max_slot_size, KTUN_RING_MAX_SLOT_SIZE);
	EXPECT_EQ(f.setup_flags, 0);
	close(fd);
}

static int raw_setup(int fd, struct ktun_ring_setup *s)
{
	return ioctl(fd, KTUN_RING_SETUP, s);
}

TEST_F(ring, setup_checks)
{
	struct ktun_ring_setup s, good = {
		.version = KTUN_RING_VERSION,
		.rx_slots = 64, .rx_slot_size = 2048,
		.tx_slots = 64, .tx_slot_size = 2048,
	};
	static const uint32_t bad_slots[] = { 1, 4, 63, 65, 65536, 3 << 10 };
	static const uint32_t bad_sizes[] = { 0, 1024, 2047, 3000, 262144 };
	struct ktun_ring *r2;
	unsigned int i;
	int fd;

	/* not attached */
	fd = kt_open_node(0);
	s = good;
	EXPECT_ERRNO(raw_setup(fd, &s), EBADFD);
	EXPECT_ERRNO(ioctl(fd, KTUN_RING_KICK, KTUN_KICK_TX), ENXIO);
	close(fd);

	ring_dev(self, IFF_TUN | IFF_NO_PI, -1);
	s = good; s.version = 2;
	EXPECT_ERRNO(raw_setup(self->fd, &s), EINVAL);
	s = good; s.flags = 1;
	EXPECT_ERRNO(raw_setup(self->fd, &s), EINVAL);
	s = good; s.reserved[6] = 1;
	EXPECT_ERRNO(raw_setup(self->fd, &s), EINVAL);
	s = good; s.rx_slots = s.tx_slots = 0;
	EXPECT_ERRNO(raw_setup(self->fd, &s), EINVAL);
	for (i = 0; i < sizeof(bad_slots) / sizeof(bad_slots[0]); i++) {
		s = good; s.tx_slots = bad_slots[i];
		EXPECT_ERRNO(raw_setup(self->fd, &s), EINVAL);
	}
	for (i = 0; i < sizeof(bad_sizes) / sizeof(bad_sizes[0]); i++) {
		s = good; s.rx_slot_size = bad_sizes[i];
		EXPECT_ERRNO(raw_setup(self->fd, &s), EINVAL);
	}
	/* more than KTUN_RING_MAX_DATA */
	s = good; s.rx_slots = 32768; s.rx_slot_size = 4096;
	EXPECT_ERRNO(raw_setup(self->fd, &s), EINVAL);
	/* unknown kick bits */
	EXPECT_ERRNO(ioctl(self->fd, KTUN_RING_KICK, 4UL), EINVAL);
	/* no rings yet */
	EXPECT_ERRNO(ioctl(self->fd, KTUN_RING_KICK, KTUN_KICK_TX), ENXIO);

	ring_up(self, 64, 2048);
	s = good;
	EXPECT_ERRNO(raw_setup(self->fd, &s), EBUSY);
	EXPECT_EQ(ktun_ring_setup(self->fd, NULL, &r2), -EBUSY);
	EXPECT_EQ(ktun_ring_info(self->r)->iff_flags, IFF_TUN | IFF_NO_PI);
	EXPECT_EQ(ktun_ring_info(self->r)->rx.slots, 64);
	EXPECT_EQ(ktun_ring_info(self->r)->tx.mmap_offset, KTUN_RING_OFF_TX);
	EXPECT_EQ(ktun_ring_state(self->r), 0);
}

TEST_F(ring, mmap_checks)
{
	const struct ktun_ring_setup *s;
	void *m;

	ring_dev(self, IFF_TUN | IFF_NO_PI, -1);
	/* no rings: nothing to map */
	m = mmap(NULL, 4096, PROT_READ, MAP_SHARED, self->fd, 0);
	EXPECT_TRUE(m == MAP_FAILED && errno == ENXIO);
	ring_up(self, 64, 2048);
	s = ktun_ring_info(self->r);
	/* too long, a wrong offset, private */
	m = mmap(NULL, s->rx.mmap_size + 4096, PROT_READ, MAP_SHARED, self->fd, 0);
	EXPECT_TRUE(m == MAP_FAILED && errno == EINVAL);
	m = mmap(NULL, 4096, PROT_READ, MAP_SHARED, self->fd, 4096);
	EXPECT_TRUE(m == MAP_FAILED && errno == EINVAL);
	m = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, self->fd, 0);
	EXPECT_TRUE(m == MAP_FAILED && errno == EINVAL);
	/* a second, shorter mapping of the same ring sees the same memory */
	m = mmap(NULL, 4096, PROT_READ, MAP_SHARED, self->fd, KTUN_RING_OFF_TX);
	ASSERT_TRUE(m != MAP_FAILED);
	EXPECT_EQ(((uint32_t *)m)[s->tx.flags / 4] & KTUN_RING_F_NEED_WAKEUP,
		  KTUN_RING_F_NEED_WAKEUP);
	munmap(m, 4096);
}

/* ---- order and completeness ---- */

static void check_seq(struct kt_fx_ring *self, const struct kt_pkt *p, uint32_t seq,
		      size_t len)
{
	uint8_t want[2048];

	(void)self;
	fill(want, seq, len);
	if (p->dlen != len || memcmp(p->data, want, len))
		FAIL("datagram %u: wrong length %zu or bytes", seq, p->dlen);
}

static void rx_order(struct kt_fx_ring *self, int flags)
{
	struct ktun_ring_stats st;
	struct kt_pkt p;
	uint32_t i, n = 200;

	ring_dev(self, flags, -1);
	ring_up(self, 256, 2048);
	for (i = 0; i < n; i++)
		stack_send(self, 7100, i, 100 + i);
	for (i = 0; i < n; i++) {
		ring_next(self, 7100, NULL, &p, NULL);
		check_seq(self, &p, i, 100 + i);
	}
	ASSERT_OK(ktun_ring_stats(self->r, &st));
	EXPECT_GE(st.rx.packets, n);
	EXPECT_EQ(st.rx.drops, 0);
	EXPECT_EQ(st.rx.invalid, 0);
	EXPECT_EQ(kt_stat(self->name, "tx_dropped"), 0);
}

TEST_F(ring, rx_order_tun) { rx_order(self, IFF_TUN | IFF_NO_PI); }
TEST_F(ring, rx_order_tap_pi) { rx_order(self, IFF_TAP); }

static void tx_order(struct kt_fx_ring *self, int flags)
{
	static uint8_t f[4096], d[4096];
	struct ktun_ring_stats st;
	uint32_t i, n = 300, seq;
	int s = -1;
	ssize_t got;

	ring_dev(self, flags, -1);
	ring_up(self, 64, 2048);
	s = rx_sock(LOCAL4, 7200);
	for (i = 0; i < n; i++)
		ring_put(self, f, app_frame(self, f, 7200, i, 64 + i % 1000));
	for (i = 0; i < n; i++) {
		ASSERT_EQ(poll(&(struct pollfd){ .fd = s, .events = POLLIN }, 1, KT_WAIT_MS), 1);
		got = recv(s, d, sizeof(d), 0);
		ASSERT_EQ(got, 64 + i % 1000);
		memcpy(&seq, d, 4);
		ASSERT_EQ(seq, i);
	}
	ASSERT_OK(ktun_ring_stats(self->r, &st));
	EXPECT_EQ(st.tx.packets, n);
	EXPECT_EQ(st.tx.drops, 0);
	EXPECT_EQ(st.tx.invalid, 0);
	EXPECT_EQ(kt_stat(self->name, "rx_packets"), n);
	close(s);
}

TEST_F(ring, tx_order_tun) { tx_order(self, IFF_TUN | IFF_NO_PI); }
TEST_F(ring, tx_order_tap_pi) { tx_order(self, IFF_TAP); }

/* ---- framing: the ring carries exactly what read() and write() carry ---- */

static void rx_same_as_read(struct kt_fx_ring *self, int flags, long offload)
{
	static uint8_t a[4096], b[4096];
	struct virtio_net_hdr h;
	struct kt_pkt p;
	ssize_t na = -1;
	size_t nb;
	int i;

	ring_dev(self, flags, offload);
	/* read(): skip what the stack sends of its own */
	stack_send(self, 7300, 1, 333);
	for (i = 0; i < 100; i++) {
		na = kt_read_wait(self->fd, a, sizeof(a), KT_WAIT_MS);
		ASSERT_GT(na, 0);
		if (!kt_parse(a + self->vnet, na - self->vnet, self->l2, &p) &&
		    p.proto == IPPROTO_UDP && p.dport == 7300)
			break;
	}
	ring_up(self, 64, 2048);
	EXPECT_ERRNO(read(self->fd, b, sizeof(b)), EBUSY);
	/* the same datagram again */
	stack_send(self, 7300, 1, 333);
	nb = ring_next(self, 7300, b, &p, &h);
	ASSERT_EQ(nb, (size_t)na);
	/* the IP ID (and so the header checksum) differ from datagram to
	 * datagram; everything else must not
	 */
	{
		size_t ip = self->vnet + kt_pi_len(self->l2) + (self->l2 >= KT_ETH ? 14 : 0);

		memset(a + ip + 4, 0, 2);
		memset(b + ip + 4, 0, 2);
		memset(a + ip + 10, 0, 2);
		memset(b + ip + 10, 0, 2);
	}
	for (i = 0; i < (int)nb; i++)
		if (a[i] != b[i])
			FAIL("the ring's frame differs from read()'s at byte %d of %zu: %02x, read() %02x",
			     i, nb, b[i], a[i]);
	if (offload > 0)
		EXPECT_EQ(h.flags, VIRTIO_NET_HDR_F_NEEDS_CSUM);
}

TEST_F(ring, rx_frame_tun) { rx_same_as_read(self, IFF_TUN | IFF_NO_PI, -1); }
TEST_F(ring, rx_frame_tun_pi) { rx_same_as_read(self, IFF_TUN, -1); }
TEST_F(ring, rx_frame_tap) { rx_same_as_read(self, IFF_TAP | IFF_NO_PI, -1); }
TEST_F(ring, rx_frame_tap_pi) { rx_same_as_read(self, IFF_TAP, -1); }
TEST_F(ring, rx_frame_tun_vnet_csum)
{
	rx_same_as_read(self, IFF_TUN | IFF_NO_PI | IFF_VNET_HDR, TUN_F_CSUM);
}
TEST_F(ring, rx_frame_tap_vnet_csum)
{
	rx_same_as_read(self, IFF_TAP | IFF_NO_PI | IFF_VNET_HDR, TUN_F_CSUM);
}

/* A frame written with write() and the same frame put on the tx ring reach
 * the socket as the same datagram; a frame write() refuses, the ring
 * refuses too, and both count it as a frame error.
 */
static void tx_same_as_write(struct kt_fx_ring *self, int flags)
{
	static uint8_t f[4096], d1[4096], d2[4096];
	struct ktun_ring_stats st;
	struct virtio_net_hdr *h = (void *)f;
	size_t n;
	ssize_t g1, g2;
	int s;

	ring_dev(self, flags, -1);
	s = rx_sock(LOCAL4, 7400);
	n = app_frame(self, f, 7400, 9, 500);
	ASSERT_EQ(write(self->fd, f, n), n);
	ASSERT_EQ(poll(&(struct pollfd){ .fd = s, .events = POLLIN }, 1, KT_WAIT_MS), 1);
	g1 = recv(s, d1, sizeof(d1), 0);
	ring_up(self, 64, 2048);
	ring_put(self, f, n);
	ASSERT_EQ(poll(&(struct pollfd){ .fd = s, .events = POLLIN }, 1, KT_WAIT_MS), 1);
	g2 = recv(s, d2, sizeof(d2), 0);
	ASSERT_EQ(g1, g2);
	EXPECT_EQ(memcmp(d1, d2, g1), 0);
	/* write() keeps working beside the ring */
	ASSERT_EQ(write(self->fd, f, n), n);
	ASSERT_EQ(poll(&(struct pollfd){ .fd = s, .events = POLLIN }, 1, KT_WAIT_MS), 1);
	EXPECT_EQ(recv(s, d2, sizeof(d2), 0), g1);

	/* a frame both refuse: a bad GSO type, or a TUN packet of version 7 */
	if (self->vnet) {
		h->gso_type = 0x7f;
	} else {
		size_t ipo = kt_pi_len(self->l2) + (self->l2 >= KT_ETH ? 14 : 0);

		if (self->l2 >= KT_ETH)
			h = NULL;	/* a TAP frame of any ethertype is accepted */
		else if (self->l2 == KT_PI)
			f[2] = f[3] = 0;	/* tun_pi protocol 0 */
		else
			f[ipo] = 0x75;
	}
	if (h) {
		unsigned long long fe = kt_stat(self->name, "rx_frame_errors");

		EXPECT_ERRNO(write(self->fd, f, n), EINVAL);
		ring_put(self, f, n);
		/* the kernel drains asynchronously; wait for it */
		for (int i = 0; i < 1000; i++) {
			ASSERT_OK(ktun_ring_stats(self->r, &st));
			if (st.tx.invalid)
				break;
			usleep(1000);
		}
		EXPECT_EQ(st.tx.invalid, 1);
		EXPECT_EQ(st.tx.packets, 1);
		EXPECT_EQ(kt_stat(self->name, "rx_frame_errors"), fe + (self->vnet ? 2 : 1));
		EXPECT_EQ(ktun_ring_state(self->r), 0);
	}
	close(s);
}

TEST_F(ring, tx_frame_tun) { tx_same_as_write(self, IFF_TUN | IFF_NO_PI); }
TEST_F(ring, tx_frame_tun_pi) { tx_same_as_write(self, IFF_TUN); }
TEST_F(ring, tx_frame_tap) { tx_same_as_write(self, IFF_TAP | IFF_NO_PI); }
TEST_F(ring, tx_frame_tap_pi) { tx_same_as_write(self, IFF_TAP); }
TEST_F(ring, tx_frame_tun_vnet) { tx_same_as_write(self, IFF_TUN | IFF_NO_PI | IFF_VNET_HDR); }
TEST_F(ring, tx_frame_tap_vnet) { tx_same_as_write(self, IFF_TAP | IFF_NO_PI | IFF_VNET_HDR); }

/*
 * TSO through the rx ring: a TCP connection from the stack with the test as
 * the peer; a 20000-byte send arrives as GSO packets above the MTU with the
 * header read() would give.
 */
TEST_F(ring, rx_gso_tcp)
{
	struct ktun_ring_config c = { 64, 131072, 64, 2048 };
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(7900) };
	static uint8_t data[20000], pkt[256];
	struct linger lg = { 1, 0 };
	struct ktun_ring_pkt rp;
	struct virtio_net_hdr h;
	uint32_t isn;
	int s, i, gso = 0, sport = 0;

	ring_dev(self, IFF_TUN | IFF_NO_PI | IFF_VNET_HDR, TUN_F_CSUM | TUN_F_TSO4);
	ASSERT_OK(ktun_ring_setup(self->fd, &c, &self->r));
	s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	ASSERT_OK(s);
	sa.sin_addr = kt_in4(PEER4);
	EXPECT_ERRNO(connect(s, (struct sockaddr *)&sa, sizeof(sa)), EINPROGRESS);
	/* the SYN */
	for (i = 0; i < 100 && !sport; i++) {
		uint8_t *ip;

		ASSERT_GT(ktun_ring_wait(self->r, KTUN_RING_WAIT_RX, KT_WAIT_MS), 0);
		while (ktun_ring_rx_peek(self->r, &rp, 1)) {
			ip = (uint8_t *)rp.data + VH;
			if (ip[9] == IPPROTO_TCP && (ip[33] & 0x02) &&
			    (ip[22] << 8 | ip[23]) == 7900) {
				sport = ip[20] << 8 | ip[21];
				memcpy(&isn, ip + 24, 4);
				isn = ntohl(isn);
			}
			ktun_ring_rx_release(self->r, 1);
		}
	}
	ASSERT_NE(sport, 0);
	{
		/* SYN-ACK with MSS 1460, through the tx ring */
		struct tcphdr *th;
		struct iphdr *iph;
		uint8_t *o = pkt + VH;

		memset(pkt, 0, sizeof(pkt));
		iph = (void *)o;
		iph->version = 4; iph->ihl = 5; iph->ttl = 64;
		iph->protocol = IPPROTO_TCP;
		iph->tot_len = htons(44);
		iph->saddr = kt_in4(PEER4).s_addr;
		iph->daddr = kt_in4(LOCAL4).s_addr;
		iph->check = ktun_csum(iph, 20, 0);
		th = (void *)(o + 20);
		th->source = htons(7900);
		th->dest = htons(sport);
		th->seq = htonl(1000);
		th->ack_seq = htonl(isn + 1);
		th->doff = 6; th->syn = 1; th->ack = 1;
		th->window = htons(65535);
		o[40] = 2; o[41] = 4; o[42] = 0x05; o[43] = 0xb4;
		{
			const uint8_t *a = (const uint8_t *)&iph->saddr;
			uint32_t sum = IPPROTO_TCP + 24;
			int k;

			for (k = 0; k < 8; k += 2)
				sum += a[k] << 8 | a[k + 1];
			th->check = ktun_csum(th, 24, sum);
		}
		ring_put(self, pkt, VH + 44);
	}
	ASSERT_EQ(poll(&(struct pollfd){ .fd = s, .events = POLLOUT }, 1, KT_WAIT_MS), 1);
	memset(data, 0x33, sizeof(data));
	ASSERT_EQ(send(s, data, sizeof(data), 0), sizeof(data));
	for (i = 0; i < 200 && !gso; i++) {
		if (!ktun_ring_rx_peek(self->r, &rp, 1)) {
			ASSERT_GT(ktun_ring_wait(self->r, KTUN_RING_WAIT_RX, KT_WAIT_MS), 0);
			continue;
		}
		memcpy(&h, rp.data, VH);
		if (rp.len > VH + 1500) {
			gso++;
			EXPECT_EQ(h.gso_type, VIRTIO_NET_HDR_GSO_TCPV4);
			EXPECT_EQ(h.gso_size, 1460);
			EXPECT_EQ(h.flags, VIRTIO_NET_HDR_F_NEEDS_CSUM);
			EXPECT_EQ(h.csum_start, 20);
			EXPECT_EQ(h.csum_offset, 16);
			EXPECT_EQ((rp.len - VH - 40) % 1460, 0);
		}
		ktun_ring_rx_release(self->r, 1);
	}
	EXPECT_GT(gso, 0);
	setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(s);
}

/* ---- flow control ---- */

/*
 * An 8-slot rx ring and 100 datagrams: the ring fills, the queue stops
 * (NEED_WAKEUP), the rest waits in the qdisc; consuming and kicking lets it
 * all through, in order, none lost.
 */
TEST_F(ring, rx_full_stops_queue)
{
	const struct ktun_ring_setup *s;
	struct ktun_ring_stats st;
	struct kt_pkt p;
	uint32_t *flags, i, n = 100;
	void *m;

	ring_dev(self, IFF_TUN | IFF_NO_PI, -1);
	ring_up(self, 8, 2048);
	s = ktun_ring_info(self->r);
	m = mmap(NULL, 4096, PROT_READ, MAP_SHARED, self->fd, 0);
	ASSERT_TRUE(m != MAP_FAILED);
	flags = (uint32_t *)((char *)m + s->rx.flags);
	for (i = 0; i < n; i++)
		stack_send(self, 7500, i, 64);
	EXPECT_EQ(*flags & KTUN_RING_F_NEED_WAKEUP, KTUN_RING_F_NEED_WAKEUP);
	ASSERT_OK(ktun_ring_stats(self->r, &st));
	EXPECT_GE(st.rx.stops, 1);
	for (i = 0; i < n; i++) {
		ring_next(self, 7500, NULL, &p, NULL);
		check_seq(self, &p, i, 64);
	}
	ASSERT_OK(ktun_ring_stats(self->r, &st));
	EXPECT_EQ(st.rx.drops, 0);
	EXPECT_EQ(kt_stat(self->name, "tx_dropped"), 0);
	munmap(m, 4096);
}

/* ---- every queue of a multi-queue device ---- */

TEST_F(ring, multiqueue_both_ways)
{
	enum { Q = 4, N = 400 };
	static uint8_t f[4096], d[4096];
	struct ktun_ring *r[Q];
	struct ktun_ring_stats st;
	uint64_t rx_total = 0;
	int fd[Q], q, s, i, got = 0;
	uint32_t seen[N] = { 0 };
	struct kt_pkt p;
	int spin;

	fd[0] = kt_attach(kt_ifname(self->name, "m"), IFF_TUN | IFF_NO_PI | IFF_MULTI_QUEUE, NULL);
	for (q = 1; q < Q; q++)
		fd[q] = kt_attach(self->name, IFF_TUN | IFF_NO_PI | IFF_MULTI_QUEUE, NULL);
	self->l2 = KT_RAW;
	self->vnet = 0;
	kt_dev_up(self->name, A4, NULL);
	self->sock = kt_udp_bind(LOCAL4, 0);
	for (q = 0; q < Q; q++)
		ASSERT_OK(ktun_ring_setup(fd[q], NULL, &r[q]));

	/* rx: many flows spread over the queues; each queue keeps its order */
	for (i = 0; i < N; i++) {
		uint8_t buf[64];
		int s2 = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(10000 + i % 40) };

		a.sin_addr = kt_in4(LOCAL4);
		ASSERT_OK(bind(s2, (struct sockaddr *)&a, sizeof(a)));
		fill(buf, i, 64);
		kt_udp_send(s2, PEER4, 7600, buf, 64);
		close(s2);
	}
	for (spin = 0; got < N && spin < 100000; spin++) {
		int moved = 0;

		for (q = 0; q < Q; q++) {
			struct ktun_ring_pkt rp[32];
			unsigned int k, n = ktun_ring_rx_peek(r[q], rp, 32);

			for (k = 0; k < n; k++) {
				uint32_t seq;

				if (kt_parse(rp[k].data, rp[k].len, KT_RAW, &p) ||
				    p.proto != IPPROTO_UDP || p.dport != 7600)
					continue;
				memcpy(&seq, p.data, 4);
				if (seq < N && !seen[seq]++)
					got++;
			}
			ktun_ring_rx_release(r[q], n);
			moved += n;
		}
		if (!moved)
			usleep(1000);
	}
	EXPECT_EQ(got, N);
	for (q = 0; q < Q; q++) {
		ASSERT_OK(ktun_ring_stats(r[q], &st));
		rx_total += st.rx.packets;
	}
	EXPECT_GE(rx_total, N);

	/* tx: each queue's ring injects its own sequence */
	s = rx_sock(LOCAL4, 7700);
	for (q = 0; q < Q; q++) {
		for (i = 0; i < 50; i++) {
			struct ktun_ring_pkt tp;
			size_t n = app_frame(self, f, 7700, q * 1000 + i, 100);

			while (ktun_ring_tx_reserve(r[q], &tp, 1) != 1)
				ASSERT_GE(ktun_ring_wait(r[q], KTUN_RING_WAIT_TX, KT_WAIT_MS), 0);
			memcpy(tp.data, f, n);
			tp.len = n;
			ASSERT_OK(ktun_ring_tx_submit(r[q], &tp, 1));
		}
	}
	{
		int last[Q];

		for (q = 0; q < Q; q++)
			last[q] = -1;
		for (i = 0; i < Q * 50; i++) {
			uint32_t seq;

			ASSERT_EQ(poll(&(struct pollfd){ .fd = s, .events = POLLIN }, 1, KT_WAIT_MS), 1);
			ASSERT_EQ(recv(s, d, sizeof(d), 0), 100);
			memcpy(&seq, d, 4);
			q = seq / 1000;
			ASSERT_LT(q, Q);
			EXPECT_EQ((int)(seq % 1000), last[q] + 1);
			last[q] = seq % 1000;
		}
	}
	for (q = 0; q < Q; q++) {
		ASSERT_OK(ktun_ring_stats(r[q], &st));
		EXPECT_EQ(st.tx.packets, 50);
		ktun_ring_free(r[q]);
		close(fd[q]);
	}
	close(s);
}

/* ---- poll, read, write, and the end of a device ---- */

TEST_F(ring, poll_readiness)
{
	struct pollfd pf;
	struct ktun_ring_pkt p;

	ring_dev(self, IFF_TUN | IFF_NO_PI, -1);
	ring_up(self, 8, 2048);
	pf = (struct pollfd){ .fd = self->fd, .events = POLLIN | POLLOUT };
	ASSERT_EQ(poll(&pf, 1, 0), 1);
	EXPECT_EQ(pf.revents, POLLOUT);
	stack_send(self, 7800, 1, 10);
	pf.revents = 0;
	ASSERT_EQ(poll(&pf, 1, KT_WAIT_MS), 1);
	EXPECT_EQ(pf.revents, POLLIN | POLLOUT);
	while (ktun_ring_rx_peek(self->r, &p, 1))
		ktun_ring_rx_release(self->r, 1);
	EXPECT_EQ(ktun_ring_wait(self->r, KTUN_RING_WAIT_RX, 0), 0);
	/* fill the tx ring without a kick: POLLOUT goes, and poll()'s own
	 * kick drains it so POLLOUT comes back
	 */
	EXPECT_EQ(ktun_ring_tx_reserve(self->r, &p, 1), 1);
}

TEST_F(ring, delete_marks_dead)
{
	struct ktun_ring_stats st;
	struct pollfd pf;
	char buf[64];

	ring_dev(self, IFF_TUN | IFF_NO_PI, -1);
	ring_up(self, 8, 2048);
	stack_send(self, 7810, 1, 10);
	kt_del(self->name);
	EXPECT_EQ(ktun_ring_state(self->r), -EBADFD);
	EXPECT_ERRNO(ioctl(self->fd, KTUN_RING_KICK, KTUN_KICK_TX), EBADFD);
	pf = (struct pollfd){ .fd = self->fd, .events = POLLIN };
	ASSERT_EQ(poll(&pf, 1, 0), 1);
	EXPECT_TRUE(pf.revents & POLLERR);
	EXPECT_ERRNO(read(self->fd, buf, sizeof(buf)), EBADFD);
	/* counters survive; the mapping stays readable */
	ASSERT_OK(ktun_ring_stats(self->r, &st));
	EXPECT_GE(st.rx.packets, 1);
	/* and after re-attaching, new rings can be set up */
	ktun_ring_free(self->r);
	self->r = NULL;
	ASSERT_OK(kt_setiff(self->fd, self->name, IFF_TUN | IFF_NO_PI, NULL));
	ring_up(self, 8, 2048);
	EXPECT_EQ(ktun_ring_state(self->r), 0);
}

TEST_F(ring, tx_only_keeps_read)
{
	struct ktun_ring_config c = { KTUN_RING_NO_RING, 0, 64, 2048 };
	char buf[2048];
	struct kt_pkt p;

	ring_dev(self, IFF_TUN | IFF_NO_PI, -1);
	ASSERT_OK(ktun_ring_setup(self->fd, &c, &self->r));
	stack_send(self, 7820, 5, 50);
	ASSERT_GT(kt_read_udp(self->fd, KT_RAW, 7820, buf, sizeof(buf), &p), 0);
	check_seq(self, &p, 5, 50);
}
