// SPDX-License-Identifier: GPL-2.0
/* Copyright (C) 2026 The ktun authors. */
/*
 * A hostile application against the rings: a thread scribbles random
 * indices, lengths, flags and packet bytes into the shared memory while
 * traffic flows both ways, and every order of munmap, close, device
 * delete, queue detach, re-attach, fork and exit is tried with the rings
 * mapped. What must hold: every call returns a value or an errno, a ring
 * that was corrupted shows ERROR and answers EBADMSG, packet bytes alone
 * never corrupt a ring, the mappings stay readable until unmapped, and the
 * kernel log stays clean (vm/run fails the run on any splat; rmmod at the
 * end of the suite reports leaked objects).
 *
 *   sender --> stack --> dev --> rx ring --> app (peek/release) -\
 *   app (reserve/submit) --> tx ring --> dev --> stack           |- scribbler
 *                                                 writes anywhere in both maps
 */
#include <pthread.h>
#include <stdatomic.h>
#include <sys/mman.h>

#include "net.h"
#include "ktun_ring.h"

#define A4	"10.65.0.1/24"
#define LOCAL4	"10.65.0.1"
#define PEER4	"10.65.0.2"

enum target {
	T_BYTES = 1,		/* packet bytes in the slots only */
	T_DESC = 2,		/* desc len and flags */
	T_INDEX = 4,		/* producer, consumer, flags words */
};

struct hostile {
	char name[IFNAMSIZ];
	int fd, sock, l2, vnet;
	struct ktun_ring *r;
	void *map[2];
	size_t size[2];
	const struct ktun_ring_layout *l[2];
	int targets;
	unsigned int seed;
	atomic_int stop;
	unsigned long scribbles;
};

/* A name from the parent, for forked children (their counters are copies). */
static char name_override[IFNAMSIZ];

static void hostile_dev(struct hostile *h, const char *tag, int flags)
{
	const struct ktun_ring_setup *s;
	int i;

	memset(h, 0, sizeof(*h));
	if (tag)
		kt_ifname(h->name, tag);
	else
		snprintf(h->name, IFNAMSIZ, "%s", name_override);
	h->fd = kt_attach(h->name, flags, NULL);
	h->l2 = kt_l2_of(flags);
	h->vnet = flags & IFF_VNET_HDR ? 10 : 0;
	kt_dev_up(h->name, A4, NULL);
	if (h->l2 >= KT_ETH)
		kt_neigh(h->name, PEER4);
	h->sock = kt_udp_bind(LOCAL4, 0);
	kt_nonblock(h->sock);
	ASSERT_OK(ktun_ring_setup(h->fd, NULL, &h->r));
	s = ktun_ring_info(h->r);
	h->l[0] = &s->rx;
	h->l[1] = &s->tx;
	/* our own mappings, to scribble through */
	for (i = 0; i < 2; i++) {
		h->size[i] = h->l[i]->mmap_size;
		h->map[i] = mmap(NULL, h->size[i], PROT_READ | PROT_WRITE, MAP_SHARED,
				 h->fd, h->l[i]->mmap_offset);
		ASSERT_TRUE(h->map[i] != MAP_FAILED);
	}
}

static uint32_t nasty(unsigned int *seed)
{
	static const uint32_t v[] = {
		0, 1, 7, 8, 255, 256, 257, 2047, 2048, 2049, 65535, 65536,
		0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff,
	};
	int r = rand_r(seed);

	return r & 1 ? v[(r >> 1) % 16] : (uint32_t)rand_r(seed) * 2654435761u;
}

static void *scribbler(void *arg)
{
	struct hostile *h = arg;
	unsigned int seed = h->seed;

	while (!atomic_load(&h->stop)) {
		int w = rand_r(&seed) & 1;
		const struct ktun_ring_layout *l = h->l[w];
		uint8_t *m = h->map[w];
		int what = rand_r(&seed) % 3;

		if (what == 0 && (h->targets & T_BYTES)) {
			size_t slot = rand_r(&seed) % l->slots;
			size_t off = rand_r(&seed) % 64;	/* the headers */

			m[l->data + slot * l->slot_size + off] = rand_r(&seed);
		} else if (what == 1 && (h->targets & T_DESC)) {
			uint32_t *d = (uint32_t *)(m + l->desc) +
				      2 * (rand_r(&seed) % l->slots) + (rand_r(&seed) & 1);

			*(volatile uint32_t *)d = nasty(&seed);
		} else if (what == 2 && (h->targets & T_INDEX)) {
			uint32_t offs[3] = { l->producer, l->consumer, l->flags };
			uint32_t off = offs[rand_r(&seed) % 3];

			*(volatile uint32_t *)(m + off) = nasty(&seed);
		} else {
			continue;
		}
		h->scribbles++;
		if (!(h->scribbles % 64))
			usleep(100);
	}
	return NULL;
}

/* Legitimate traffic both ways for @ms, through the library. */
static void traffic(struct hostile *h, int ms)
{
	static uint8_t frame[256], d[64];
	struct timespec t0, t;
	struct ktun_ring_pkt p[32];
	size_t flen;
	int i;

	memset(d, 0x5a, sizeof(d));
	memset(frame, 0, sizeof(frame));
	flen = h->vnet + kt_build_udp(frame + h->vnet, h->l2, kt_peer_mac, kt_peer_mac,
				      PEER4, 5000, LOCAL4, 9, d, sizeof(d));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		unsigned int n;

		clock_gettime(CLOCK_MONOTONIC, &t);
		if ((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000 > ms)
			break;
		for (i = 0; i < 8; i++)
			kt_udp_send(h->sock, PEER4, 7000 + i, d, sizeof(d));
		n = ktun_ring_rx_peek(h->r, p, 32);
		/* touch what the (maybe lying) ring says is there */
		for (unsigned int k = 0; k < n; k++)
			if (p[k].len)
				((volatile uint8_t *)p[k].data)[p[k].len - 1];
		ktun_ring_rx_release(h->r, n);
		n = ktun_ring_tx_reserve(h->r, p, 32);
		for (unsigned int k = 0; k < n; k++) {
			memcpy(p[k].data, frame, flen);
			p[k].len = flen;
		}
		/* submit may refuse: a scribbled state, never a crash */
		ktun_ring_tx_submit(h->r, p, n);
		poll(&(struct pollfd){ .fd = h->fd, .events = POLLIN | POLLOUT }, 1, 1);
		ioctl(h->fd, KTUN_RING_KICK, KTUN_KICK_RX | KTUN_KICK_TX);
	}
}

static void scribble_run(int flags, int targets, const char *tag)
{
	struct ktun_ring_stats st;
	struct hostile *h = calloc(1, sizeof(*h));
	pthread_t th;
	int round, state, k;

	if (kt_stock())
		SKIP("rings are ktun's own");
	for (round = 0; round < 3; round++) {
		hostile_dev(h, tag, flags);
		h->targets = targets;
		h->seed = (unsigned int)time(NULL) + round;
		kt_note("%s round %d: seed %u\n", h->name, round, h->seed);
		ASSERT_OK(pthread_create(&th, NULL, scribbler, h));
		traffic(h, 1500);
		atomic_store(&h->stop, 1);
		pthread_join(th, NULL);
		/* settle: a last kick and drain */
		ioctl(h->fd, KTUN_RING_KICK, KTUN_KICK_RX | KTUN_KICK_TX);
		ASSERT_OK(ktun_ring_stats(h->r, &st));
		state = ktun_ring_state(h->r);
		kt_note("%lu scribbles, state %s, rx %llu/%llu inv, tx %llu/%llu inv\n",
			h->scribbles, state ? kt_errname(-state) : "ok",
			(unsigned long long)st.rx.packets, (unsigned long long)st.rx.invalid,
			(unsigned long long)st.tx.packets, (unsigned long long)st.tx.invalid);
		if (targets == T_BYTES) {
			/* garbage packets are refused one by one, the ring lives */
			EXPECT_EQ(state, 0);
			EXPECT_OK(ioctl(h->fd, KTUN_RING_KICK, KTUN_KICK_TX));
		} else if (ioctl(h->fd, KTUN_RING_KICK, KTUN_KICK_TX) < 0) {
			/* the kernel's word, not the (scribbled) flags word */
			EXPECT_EQ(errno, EBADMSG);
			EXPECT_GE(st.rx.invalid + st.tx.invalid, 1);
			k = poll(&(struct pollfd){ .fd = h->fd, .events = POLLIN }, 1, 0);
			EXPECT_EQ(k, 1);
		}
		/* the device still works for write() */
		EXPECT_OK(ioctl(h->fd, TUNGETIFF, &(struct ifreq){ 0 }));
		ktun_ring_free(h->r);
		munmap(h->map[0], h->size[0]);
		munmap(h->map[1], h->size[1]);
		close(h->sock);
		close(h->fd);
	}
	free(h);
}

TEST(scribble_bytes_tun) { scribble_run(IFF_TUN | IFF_NO_PI, T_BYTES, "hb"); }
TEST(scribble_bytes_tap_vnet) { scribble_run(IFF_TAP | IFF_NO_PI | IFF_VNET_HDR, T_BYTES, "hv"); }
TEST(scribble_bytes_tun_pi_vnet) { scribble_run(IFF_TUN | IFF_VNET_HDR, T_BYTES, "hp"); }
TEST(scribble_desc) { scribble_run(IFF_TUN | IFF_NO_PI, T_DESC, "hd"); }
TEST(scribble_index) { scribble_run(IFF_TUN | IFF_NO_PI, T_INDEX, "hi"); }
TEST(scribble_all_tap) { scribble_run(IFF_TAP, T_BYTES | T_DESC | T_INDEX, "ha"); }

/* ---- lifetime: every order of munmap, close, delete; fork; exit ---- */

enum op { OP_MUNMAP, OP_CLOSE, OP_DELETE, OP_N };

static const char *const op_name[OP_N] = { "munmap", "close", "delete" };

/* Reads every page of a mapping: it must not fault while mapped. */
static uint32_t touch(const void *m, size_t size)
{
	uint32_t sum = 0;

	for (size_t o = 0; o < size; o += 4096)
		sum += *(const volatile uint32_t *)((const uint8_t *)m + o);
	return sum;
}

/*
 * One order: set up, map both rings, have traffic, then perform @ops in
 * turn; with @forked a child holds the mappings and the fd through it all
 * and exits (@child_first: before the parent starts) or after.
 */
static void lifetime(const int *ops, int forked, int child_first)
{
	struct hostile *h = calloc(1, sizeof(*h));
	int mapped = 1, open_ = 1, i, st, pipefd[2];
	pid_t child = -1;

	hostile_dev(h, "lf", IFF_TUN | IFF_NO_PI);
	/* so that close does not delete it: delete is a step of its own */
	kt_set_persist(h->fd, 1);
	h->targets = 0;
	traffic(h, 50);
	ASSERT_OK(pipe(pipefd));
	if (forked) {
		child = fork();
		ASSERT_GE(child, 0);
		if (!child) {
			char c;

			close(pipefd[1]);
			if (!child_first)
				read(pipefd[0], &c, 1);
			touch(h->map[0], h->size[0]);
			touch(h->map[1], h->size[1]);
			/* the child's own calls on the shared fd */
			ioctl(h->fd, KTUN_RING_KICK, KTUN_KICK_TX);
			_exit(0);
		}
		if (child_first) {
			ASSERT_EQ(waitpid(child, &st, 0), child);
			child = -1;
		}
	}
	for (i = 0; i < OP_N; i++) {
		switch (ops[i]) {
		case OP_MUNMAP:
			ktun_ring_free(h->r);
			h->r = NULL;
			munmap(h->map[0], h->size[0]);
			munmap(h->map[1], h->size[1]);
			mapped = 0;
			break;
		case OP_CLOSE:
			close(h->fd);
			open_ = 0;
			break;
		case OP_DELETE:
			kt_del(h->name);
			break;
		}
		if (mapped) {
			uint32_t f = ((uint32_t *)h->map[0])[h->l[0]->flags / 4];

			touch(h->map[0], h->size[0]);
			touch(h->map[1], h->size[1]);
			if (ops[i] == OP_DELETE)
				EXPECT_EQ(f & KTUN_RING_F_DEAD, KTUN_RING_F_DEAD);
		}
		if (open_ && h->r && ops[i] == OP_DELETE)
			EXPECT_EQ(ktun_ring_state(h->r), -EBADFD);
	}
	close(pipefd[1]);
	if (child > 0) {
		ASSERT_EQ(waitpid(child, &st, 0), child);
		EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
	close(pipefd[0]);
	close(h->sock);
	free(h);
}

TEST(lifetime_orders)
{
	static const int perms[6][OP_N] = {
		{ 0, 1, 2 }, { 0, 2, 1 }, { 1, 0, 2 }, { 1, 2, 0 }, { 2, 0, 1 }, { 2, 1, 0 },
	};
	int p, f;

	if (kt_stock())
		SKIP("rings are ktun's own");
	for (p = 0; p < 6; p++) {
		for (f = 0; f < 3; f++) {
			kt_note("%s, %s, %s; %s\n", op_name[perms[p][0]], op_name[perms[p][1]],
				op_name[perms[p][2]],
				f == 0 ? "no fork" : f == 1 ? "child exits first" : "child exits last");
			lifetime(perms[p], f > 0, f == 1);
		}
	}
}

/* A process that dies with its rings set up, mapped and busy. */
TEST(exit_with_everything_held)
{
	char name[IFNAMSIZ];
	int i, st;

	if (kt_stock())
		SKIP("rings are ktun's own");
	for (i = 0; i < 4; i++) {
		pid_t c;

		kt_ifname(name, "ex");
		memcpy(name_override, name, IFNAMSIZ);
		c = fork();

		ASSERT_GE(c, 0);
		if (!c) {
			struct hostile *h = calloc(1, sizeof(*h));

			hostile_dev(h, NULL, i & 1 ? IFF_TAP : IFF_TUN | IFF_NO_PI);
			if (i & 2) {
				kt_set_persist(h->fd, 1);
				kt_cleanup_dev(h->name);
			}
			traffic(h, 100);
			_exit(i & 2 ? 3 : 0);
		}
		ASSERT_EQ(waitpid(c, &st, 0), c);
	}
}

/*
 * Re-attach after delete: the old pair is dead but its mapping readable;
 * a new setup on the re-attached fd makes a new pair that works; the old
 * mapping still holds the old memory until unmapped, after the close.
 */
TEST(reattach_new_rings)
{
	struct hostile *h = calloc(1, sizeof(*h));
	struct ktun_ring *r2;
	char name2[IFNAMSIZ];

	if (kt_stock())
		SKIP("rings are ktun's own");
	hostile_dev(h, "ra", IFF_TUN | IFF_NO_PI);
	traffic(h, 50);
	kt_del(h->name);
	EXPECT_EQ(ktun_ring_state(h->r), -EBADFD);
	ASSERT_OK(kt_setiff(h->fd, kt_ifname(name2, "rb"), IFF_TAP | IFF_NO_PI, NULL));
	ASSERT_OK(ktun_ring_setup(h->fd, NULL, &r2));
	EXPECT_EQ(ktun_ring_info(r2)->iff_flags, IFF_TAP | IFF_NO_PI);
	EXPECT_EQ(ktun_ring_state(r2), 0);
	EXPECT_EQ(ktun_ring_state(h->r), -EBADFD);
	/* a mapping holds the file: closing the fd alone detaches nothing */
	close(h->fd);
	EXPECT_EQ(ktun_ring_state(r2), 0);
	EXPECT_TRUE(kt_exists(name2));
	touch(h->map[0], h->size[0]);
	ktun_ring_free(r2);
	ktun_ring_free(h->r);
	munmap(h->map[0], h->size[0]);
	munmap(h->map[1], h->size[1]);
	/* the last munmap released the file: the device went with it */
	EXPECT_FALSE(kt_exists(name2));
	close(h->sock);
	free(h);
}

/*
 * A multi-queue device: a queue taken out of service keeps its tx ring;
 * back in service its rx ring gets packets again; its peers are unaffected.
 */
TEST(detach_queue_keeps_rings)
{
	char name[IFNAMSIZ];
	struct ktun_ring *r[2];
	struct ktun_ring_stats st;
	struct ifreq ifr;
	int fd[2], q;

	if (kt_stock())
		SKIP("rings are ktun's own");
	fd[0] = kt_attach(kt_ifname(name, "dq"), IFF_TUN | IFF_NO_PI | IFF_MULTI_QUEUE, NULL);
	fd[1] = kt_attach(name, IFF_TUN | IFF_NO_PI | IFF_MULTI_QUEUE, NULL);
	kt_dev_up(name, A4, NULL);
	for (q = 0; q < 2; q++)
		ASSERT_OK(ktun_ring_setup(fd[q], NULL, &r[q]));
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_DETACH_QUEUE;
	ASSERT_OK(ioctl(fd[0], TUNSETQUEUE, &ifr));
	EXPECT_EQ(ktun_ring_state(r[0]), 0);
	EXPECT_EQ(ktun_ring_kick(r[0]), 0);
	ifr.ifr_flags = IFF_ATTACH_QUEUE;
	ASSERT_OK(ioctl(fd[0], TUNSETQUEUE, &ifr));
	EXPECT_EQ(ktun_ring_state(r[0]), 0);
	for (q = 0; q < 2; q++) {
		ASSERT_OK(ktun_ring_stats(r[q], &st));
		EXPECT_EQ(st.rx.invalid + st.tx.invalid, 0);
		ktun_ring_free(r[q]);
		close(fd[q]);
	}
}
