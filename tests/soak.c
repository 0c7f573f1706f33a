// SPDX-License-Identifier: GPL-2.0
/* Copyright (C) 2026 The ktun authors. */
/*
 * The soak: minutes of mixed traffic and lifecycle churn, in a network
 * namespace of its own, while the kernel's slab usage is sampled.
 *
 *   three long-lived devices (TUN, TAP, two-queue TUN), each with readers
 *   on every queue, a writer (datagrams to a closed local port, so the
 *   stack answers through the device) and a stack-side sender;
 *   a churn thread creating, configuring, using and closing or deleting
 *   devices, toggling persistence and taking the second queue of the
 *   multi-queue device out of service and back.
 *
 * What must hold: every call succeeds (or fails as it may: EAGAIN on an
 * empty queue), the unreclaimable slab settles (at the end, quiesced, it is
 * within a bound of what it was after warm-up, quiesced the same way), and
 * a kmemleak scan after teardown, where the kernel has kmemleak, is empty.
 *
 * Runs only when KTUN_SOAK_SECONDS is set (the debug lane sets it); else
 * it skips at once.
 */
#include <sched.h>

#include "net.h"

#define NDEV		3
#define KMEMLEAK	"/sys/kernel/debug/kmemleak"

static struct {
	int fd[NDEV][2];
	char name[NDEV][IFNAMSIZ];
	volatile int stop, pause;
	int paused;		/* threads idling */
	int nthreads;
	unsigned long writes, reads, sends, creates, deletes, queue_flips;
} sk;

#define COUNT(f)	__atomic_add_fetch(&sk.f, 1, __ATOMIC_RELAXED)

/* Idles while the main thread samples a quiet kernel; false when done. */
static int soak_running(void)
{
	if (sk.pause) {
		__atomic_add_fetch(&sk.paused, 1, __ATOMIC_SEQ_CST);
		while (sk.pause && !sk.stop)
			usleep(10000);
		__atomic_sub_fetch(&sk.paused, 1, __ATOMIC_SEQ_CST);
	}
	return !sk.stop;
}

static void *soak_reader(void *arg)
{
	int fd = (int)(long)arg;
	char buf[2048];

	while (soak_running()) {
		if (kt_read_wait(fd, buf, sizeof(buf), 50) >= 0)
			COUNT(reads);
		else if (errno != ETIMEDOUT && errno != EAGAIN)
			FAIL_CHECK("read: %s", kt_errname(errno));
	}
	return NULL;
}

/* Datagrams from the peer to a closed port: the stack answers through us. */
static void *soak_writer(void *arg)
{
	int k = (int)(long)arg, l2 = k == 1 ? KT_ETH : KT_RAW;
	char src[32], dst[32], name[IFNAMSIZ];
	uint8_t pkt[1600], mac[6] = { 0 };
	struct ifreq ifr;
	size_t len;
	int n = 0;

	memset(&ifr, 0, sizeof(ifr));
	snprintf(name, sizeof(name), "sk%d", k % 10);
	if (l2 == KT_ETH && !kt_ifreq(SIOCGIFHWADDR, name, &ifr))
		memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	snprintf(src, sizeof(src), "10.78.%d.2", k);
	snprintf(dst, sizeof(dst), "10.78.%d.1", k);
	while (soak_running()) {
		len = kt_build_udp(pkt, l2, mac, kt_peer_mac, src, 4000 + n % 100, dst, 9,
				   pkt + 600, 4 + n % 900);
		if (write(sk.fd[k][0], pkt, len) != (ssize_t)len)
			FAIL_CHECK("write on %s: %s", sk.name[k], kt_errname(errno));
		COUNT(writes);
		if (++n % 64 == 0)
			usleep(1000);
	}
	return NULL;
}

static void *soak_sender(void *arg)
{
	int s = kt_udp_bind("0.0.0.0", 0), n = 0;
	char dst[32], payload[1400] = "soak";

	(void)arg;
	while (soak_running()) {
		snprintf(dst, sizeof(dst), "10.78.%d.2", n % NDEV);
		if (sendto(s, payload, 8 + n % 1300, MSG_DONTWAIT,
			   (struct sockaddr *)&(struct sockaddr_in){
				.sin_family = AF_INET, .sin_port = htons(5000 + n % 50),
				.sin_addr = kt_in4(dst) }, sizeof(struct sockaddr_in)) >= 0)
			COUNT(sends);
		if (++n % 64 == 0)
			usleep(1000);
	}
	close(s);
	return NULL;
}

/* Creates, uses and drops a device; flips the multi-queue device's queue. */
static void *soak_churn(void *arg)
{
	static const int kinds[] = {
		IFF_TUN | IFF_NO_PI, IFF_TAP | IFF_NO_PI, IFF_TUN | IFF_MULTI_QUEUE,
		IFF_TAP | IFF_NO_PI | IFF_MULTI_QUEUE,
	};
	struct ifreq ifr;
	char name[IFNAMSIZ], cidr[32];
	uint8_t pkt[256];
	int n = 0, fd, fd2, i;
	size_t len;

	(void)arg;
	while (soak_running()) {
		int flags = kinds[n % 4];

		snprintf(name, sizeof(name), "skc%d", n % 7);
		fd = ktun_open(name, flags, NULL);
		if (fd < 0) {
			FAIL_CHECK("creating %s: %s", name, kt_errname(-fd));
			break;
		}
		COUNT(creates);
		fd2 = flags & IFF_MULTI_QUEUE ? ktun_open(name, flags, NULL) : -1;
		snprintf(cidr, sizeof(cidr), "10.79.%d.1/24", n % 7);
		kt_dev_up(name, cidr, NULL);
		len = kt_build_udp(pkt, kt_l2_of(flags), (const uint8_t *)"\xff\xff\xff\xff\xff\xff",
				   kt_peer_mac, "10.79.0.2", 1, "10.79.0.1", 9, "churn", 5);
		for (i = 0; i < 8; i++)
			if (write(fd, pkt, len) < 0 && errno != EINVAL)
				FAIL_CHECK("write on %s: %s", name, kt_errname(errno));
		if (n % 3 == 0) {
			ASSERT_OK(ioctl(fd, TUNSETPERSIST, 1UL));
			close(fd);
			if (fd2 >= 0)
				close(fd2);
			kt_del(name);
			COUNT(deletes);
		} else {
			close(fd);
			if (fd2 >= 0)
				close(fd2);
		}
		memset(&ifr, 0, sizeof(ifr));
		ifr.ifr_flags = n % 2 ? IFF_ATTACH_QUEUE : IFF_DETACH_QUEUE;
		if (!ioctl(sk.fd[2][1], TUNSETQUEUE, &ifr))
			COUNT(queue_flips);
		n++;
	}
	/* Leave the second queue in service, as it began. */
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_ATTACH_QUEUE;
	ioctl(sk.fd[2][1], TUNSETQUEUE, &ifr);
	return NULL;
}

/* /proc/meminfo's @key in kB. */
static long meminfo(const char *key)
{
	char line[128];
	long v = -1;
	FILE *f = fopen("/proc/meminfo", "re");

	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, key, strlen(key)) && line[strlen(key)] == ':')
			v = atol(line + strlen(key) + 1);
	if (f)
		fclose(f);
	return v;
}

/* Unreclaimable slab with every thread idle, the RCU backlog and caches gone. */
static long quiet_slab(void)
{
	int fd;

	sk.pause = 1;
	while (__atomic_load_n(&sk.paused, __ATOMIC_SEQ_CST) < sk.nthreads)
		usleep(10000);
	sleep(2);
	fd = open("/proc/sys/vm/drop_caches", O_WRONLY | O_CLOEXEC);
	if (fd >= 0) {
		if (write(fd, "3", 1) < 0)
			kt_note("drop_caches: %s\n", kt_errname(errno));
		close(fd);
	}
	sleep(1);
	return meminfo("SUnreclaim");
}

/* Scans twice (an object must be seen unreferenced twice); the report text. */
static int kmemleak_report(char *out, size_t size)
{
	ssize_t n = 0;
	int fd, i;

	for (i = 0; i < 2; i++) {
		sleep(6);	/* older than kmemleak's minimum age */
		kt_write_file(KMEMLEAK, "scan");
	}
	fd = open(KMEMLEAK, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, out, size - 1);
	close(fd);
	out[n > 0 ? n : 0] = '\0';
	return n > 0;
}

TEST(soak)
{
	const char *env = getenv("KTUN_SOAK_SECONDS");
	int secs = env ? atoi(env) : 0, k, i, nthreads = 0;
	int leakcheck = !access(KMEMLEAK, R_OK);
	long base, final, bound, now, t0 = time(NULL), warm;
	pthread_t th[16];
	char report[4096];

	if (secs <= 0)
		SKIP("KTUN_SOAK_SECONDS not set (the debug lane sets it)");
	alarm(secs + 600);
	ASSERT_OK(unshare(CLONE_NEWNET));
	kt_up("lo");
	if (leakcheck)
		kt_write_file(KMEMLEAK, "clear");

	for (k = 0; k < NDEV; k++) {
		static const int flags[NDEV] = {
			IFF_TUN | IFF_NO_PI, IFF_TAP | IFF_NO_PI, IFF_TUN | IFF_NO_PI | IFF_MULTI_QUEUE,
		};
		char cidr[32], peer[32];

		snprintf(sk.name[k], IFNAMSIZ, "sk%d", k);
		sk.fd[k][0] = kt_attach(sk.name[k], flags[k], NULL);
		sk.fd[k][1] = flags[k] & IFF_MULTI_QUEUE ? kt_attach(sk.name[k], flags[k], NULL) : -1;
		snprintf(cidr, sizeof(cidr), "10.78.%d.1/24", k);
		snprintf(peer, sizeof(peer), "10.78.%d.2", k);
		kt_dev_up(sk.name[k], cidr, NULL);
		if (k == 1)
			kt_neigh(sk.name[k], peer);
		for (i = 0; i < 2; i++)
			if (sk.fd[k][i] >= 0) {
				kt_nonblock(sk.fd[k][i]);
				pthread_create(&th[nthreads++], NULL, soak_reader,
					       (void *)(long)sk.fd[k][i]);
			}
		pthread_create(&th[nthreads++], NULL, soak_writer, (void *)(long)k);
	}
	pthread_create(&th[nthreads++], NULL, soak_sender, NULL);
	pthread_create(&th[nthreads++], NULL, soak_churn, NULL);

	sk.nthreads = nthreads;
	warm = secs / 10 > 5 ? secs / 10 : 5;
	sleep(warm);
	base = quiet_slab();
	kt_note("soak: after %ld s of warm-up: SUnreclaim %ld kB\n", warm, base);
	sk.pause = 0;
	while ((now = time(NULL)) - t0 < secs && !kt_res->failed) {
		sleep(secs / 10 > 1 ? (secs / 10 < 30 ? secs / 10 : 30) : 1);
		kt_note("soak: %ld s: Slab %ld kB, SUnreclaim %ld kB, writes %lu reads %lu\n",
			now - t0, meminfo("Slab"), meminfo("SUnreclaim"), sk.writes, sk.reads);
	}
	final = quiet_slab();
	sk.stop = 1;
	for (i = 0; i < nthreads; i++)
		pthread_join(th[i], NULL);
	for (k = 0; k < NDEV; k++)
		for (i = 0; i < 2; i++)
			if (sk.fd[k][i] >= 0)
				close(sk.fd[k][i]);

	/* Growth beyond noise: 10% or 4 MB, whichever is more. */
	bound = base / 10 > 4096 ? base / 10 : 4096;
	EXPECT_LE(final, base + bound);
	if (leakcheck) {
		int r = kmemleak_report(report, sizeof(report));

		if (r > 0)
			FAIL_CHECK("kmemleak reports leaks:\n%.1500s", report);
		EXPECT_GE(r, 0);
	}
	printf("# soak: %.1f minutes, writes %lu, reads %lu, sends %lu, creates %lu, "
	       "deletes %lu, queue flips %lu; SUnreclaim %ld -> %ld kB (bound +%ld); "
	       "kmemleak: %s\n", (time(NULL) - t0) / 60.0, sk.writes, sk.reads, sk.sends,
	       sk.creates, sk.deletes, sk.queue_flips, base, final, bound,
	       !leakcheck ? "absent" : kt_res->failed ? "see above" : "clean");
}
