// SPDX-License-Identifier: GPL-2.0
/* Copyright (C) 2026 The ktun authors. */
/*
 * What the driver holds while a system call sleeps in its user copy: with
 * userfaultfd, a test stops a call exactly at the copy (as a FUSE-backed
 * or userfaultfd buffer would in real life) and checks what happens
 * meanwhile. An ioctl holds no rtnl there; a write holds no device, and
 * a write framed for a device deleted meanwhile enters no other device.
 *
 *   test thread A: ioctl()/write() on a page that faults --> sleeps at the copy
 *   test thread B: another device's TUNGETIFF (takes rtnl), or
 *                  delete + TUNSETIFF on A's fd
 *   main:          fills the page (UFFDIO_COPY): A goes on; checks A's result
 */

#include <sys/mman.h>
#include <linux/filter.h>
#include <linux/userfaultfd.h>

#include "net.h"

/*
 * A page that is not there until the test says so (userfaultfd): a system
 * call copying into or out of it sleeps inside the kernel, at the copy,
 * until kt_uffd_fill(). How a test stops a write or an ioctl exactly at its
 * user copy, to check what the driver holds there. Skips the test when the
 * kernel offers no userfaultfd.
 */
struct kt_uffd {
	int fd;
	uint8_t *page;
	size_t size;
};

static void kt_uffd_init(struct kt_uffd *u)
{
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_register reg = { .mode = UFFDIO_REGISTER_MODE_MISSING };

	u->size = sysconf(_SC_PAGESIZE);
	u->fd = syscall(SYS_userfaultfd, O_CLOEXEC);
	if (u->fd < 0)
		SKIP("userfaultfd: %s", kt_errname(errno));
	ASSERT_OK(ioctl(u->fd, UFFDIO_API, &api));
	u->page = mmap(NULL, u->size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_TRUE(u->page != MAP_FAILED);
	reg.range.start = (unsigned long)u->page;
	reg.range.len = u->size;
	ASSERT_OK(ioctl(u->fd, UFFDIO_REGISTER, &reg));
}

/* Waits until some task faults on the page: it now sleeps at its copy. */
static void kt_uffd_wait(struct kt_uffd *u)
{
	struct uffd_msg msg;

	ASSERT_EQ(read(u->fd, &msg, sizeof(msg)), sizeof(msg));
	ASSERT_EQ(msg.event, UFFD_EVENT_PAGEFAULT);
}

/* Maps a copy of @src (one page) there: the sleeping copy goes on. */
static void kt_uffd_fill(struct kt_uffd *u, const void *src)
{
	struct uffdio_copy c = {
		.dst = (unsigned long)u->page, .src = (unsigned long)src, .len = u->size,
	};

	ASSERT_OK(ioctl(u->fd, UFFDIO_COPY, &c));
}

static void kt_uffd_uninit(struct kt_uffd *u)
{
	munmap(u->page, u->size);
	close(u->fd);
}

/* ---- ioctls: rtnl is never held across a user copy ---- */

struct uioctl {
	int fd;
	unsigned long cmd;
	void *arg;
	int ret;
	int err;
	int done[2];	/* written to when the call returns */
};

static void *uioctl_main(void *arg)
{
	struct uioctl *c = arg;

	errno = 0;
	c->ret = ioctl(c->fd, c->cmd, c->arg);
	c->err = errno;
	if (write(c->done[1], "d", 1) != 1)
		FAIL("done pipe: %s", kt_errname(errno));
	return NULL;
}

static void uioctl_start(struct uioctl *c, pthread_t *t, int fd, unsigned long cmd, void *arg)
{
	c->fd = fd;
	c->cmd = cmd;
	c->arg = arg;
	ASSERT_OK(pipe2(c->done, O_CLOEXEC));
	ASSERT_EQ(pthread_create(t, NULL, uioctl_main, c), 0);
}

static void uioctl_join(struct uioctl *c, pthread_t t)
{
	ASSERT_EQ(pthread_join(t, NULL), 0);
	close(c->done[0]);
	close(c->done[1]);
}

/*
 * Calls ioctl(@fd, @cmd, @arg_of(page)), where page faults until the test
 * fills it with @content: the call sleeps at its user copy, as it would on
 * a FUSE or userfaultfd buffer. Meanwhile another device's TUNGETIFF, which
 * takes rtnl, must complete (waited for at most KT_WAIT_MS: a guard against
 * the deadlock, not a timing check). Returns the call's result, with errno.
 */
static int ioctl_at_copy(int fd, unsigned long cmd, void *(*arg_of)(uint8_t *page),
			 const void *content, const char *what)
{
	struct uioctl slow = { 0 }, other = { 0 };
	char name[IFNAMSIZ];
	struct ifreq ifr;
	struct kt_uffd u;
	pthread_t ts, to;
	int ofd;

	if (kt_stock())
		SKIP("stock holds rtnl across this copy");
	kt_uffd_init(&u);
	ofd = kt_attach(kt_ifname(name, "o"), IFF_TUN | IFF_NO_PI, NULL);
	uioctl_start(&slow, &ts, fd, cmd, arg_of ? arg_of(u.page) : u.page);
	kt_uffd_wait(&u);
	uioctl_start(&other, &to, ofd, TUNGETIFF, &ifr);
	if (poll(&(struct pollfd){ .fd = other.done[0], .events = POLLIN }, 1, KT_WAIT_MS) != 1)
		FAIL_CHECK("%s: rtnl is held while it sleeps in its user copy", what);
	kt_uffd_fill(&u, content);
	uioctl_join(&slow, ts);
	uioctl_join(&other, to);
	EXPECT_EQ(other.ret, 0);
	close(ofd);
	kt_uffd_uninit(&u);
	errno = slow.err;
	return slow.ret;
}

static uint8_t page_content[65536];

static const uint8_t peer_mac[6] = { 0x02, 0x6b, 0x74, 0x00, 0x00, 0x02 };

static int tap_fd(void)
{
	char name[IFNAMSIZ];

	return kt_attach(kt_ifname(name, "c"), IFF_TAP | IFF_NO_PI, NULL);
}

TEST(rtnl_free_txfilter_copy)
{
	struct tun_filter *f = (struct tun_filter *)page_content;
	int fd = tap_fd();

	f->flags = 0;
	f->count = 1;
	memcpy(f->addr, peer_mac, 6);
	EXPECT_EQ(ioctl_at_copy(fd, TUNSETTXFILTER, NULL, page_content, "TUNSETTXFILTER"), 1);
	close(fd);
}

static struct sock_filter accept_all[] = { BPF_STMT(BPF_RET | BPF_K, 0xffff) };
static struct sock_fprog slow_prog = { 1, NULL };

/* A program in place whose instructions are on the slow page. */
static void *slow_insns(uint8_t *page)
{
	slow_prog.filter = (struct sock_filter *)page;
	return &slow_prog;
}

TEST(rtnl_free_attachfilter_copy)
{
	struct sock_fprog *p = (struct sock_fprog *)page_content, got;
	int fd = tap_fd();

	p->len = 1;
	p->filter = accept_all;
	EXPECT_EQ(ioctl_at_copy(fd, TUNATTACHFILTER, NULL, page_content, "TUNATTACHFILTER"), 0);
	memcpy(page_content, accept_all, sizeof(accept_all));
	EXPECT_EQ(ioctl_at_copy(fd, TUNATTACHFILTER, slow_insns, page_content,
				"TUNATTACHFILTER's program"), 0);
	memset(&got, 0, sizeof(got));
	ASSERT_OK(ioctl(fd, TUNGETFILTER, &got));
	EXPECT_EQ(got.len, 1);
	EXPECT_EQ(ioctl_at_copy(fd, TUNGETFILTER, NULL, page_content, "TUNGETFILTER"), 0);
	close(fd);
}

TEST(rtnl_free_int_copies)
{
	int fd = tap_fd(), v;

	memset(page_content, 0, sizeof(page_content));
	*(int *)page_content = 4096;
	EXPECT_EQ(ioctl_at_copy(fd, TUNSETSNDBUF, NULL, page_content, "TUNSETSNDBUF"), 0);
	ASSERT_OK(ioctl(fd, TUNGETSNDBUF, &v));
	EXPECT_EQ(v, 4096);
	*(int *)page_content = 12;
	EXPECT_EQ(ioctl_at_copy(fd, TUNSETVNETHDRSZ, NULL, page_content, "TUNSETVNETHDRSZ"), 0);
	ASSERT_OK(ioctl(fd, TUNGETVNETHDRSZ, &v));
	EXPECT_EQ(v, 12);
	EXPECT_EQ(ioctl_at_copy(fd, TUNGETSNDBUF, NULL, page_content, "TUNGETSNDBUF"), 0);
	EXPECT_EQ(ioctl_at_copy(fd, TUNGETVNETHDRSZ, NULL, page_content, "TUNGETVNETHDRSZ"), 0);
	close(fd);
}

TEST(rtnl_free_getiff_copy)
{
	int fd = tap_fd();

	EXPECT_EQ(ioctl_at_copy(fd, TUNGETIFF, NULL, page_content, "TUNGETIFF"), 0);
	close(fd);
}

TEST(rtnl_free_setifindex_copy)
{
	int fd = kt_open_node(0);

	*(int *)page_content = 0;
	EXPECT_EQ(ioctl_at_copy(fd, TUNSETIFINDEX, NULL, page_content, "TUNSETIFINDEX"), 0);
	close(fd);
}

/* ---- write: no device is held, and none is mixed up ---- */

struct uwriter {
	int fd;
	const void *buf;
	size_t len;
	ssize_t ret;
	int err;
};

static void *uwrite_main(void *arg)
{
	struct uwriter *w = arg;

	errno = 0;
	w->ret = write(w->fd, w->buf, w->len);
	w->err = errno;
	return NULL;
}

/*
 * A write that sleeps in its user copy while its TAP device is deleted and
 * the fd attaches to a new TUN device (TUNSETIFF after a delete is legal)
 * must not inject its TAP frame into the TUN device: it was framed for a
 * device that is gone, and fails with EBADFD as a write to it would.
 */
TEST(write_framed_for_deleted_device)
{
	char tap[IFNAMSIZ], tun[IFNAMSIZ];
	static uint8_t frame[65536];
	struct uwriter w = { 0 };
	struct kt_uffd u;
	pthread_t t;
	int fd;

	if (kt_stock())
		SKIP("stock holds the device across a write: its delete would wait for it");
	kt_uffd_init(&u);
	fd = kt_attach(kt_ifname(tap, "w"), IFF_TAP | IFF_NO_PI, NULL);
	kt_up(tap);
	w.fd = fd;
	w.buf = u.page;
	w.len = 60;
	ASSERT_EQ(pthread_create(&t, NULL, uwrite_main, &w), 0);
	kt_uffd_wait(&u);

	kt_del(tap);
	ASSERT_OK(kt_setiff(fd, kt_ifname(tun, "w"), IFF_TUN | IFF_NO_PI, NULL));
	kt_up(tun);
	/* an Ethernet frame carrying an IPv4 header */
	memset(frame, 0xff, 12);
	frame[12] = 0x08;
	frame[13] = 0x00;
	frame[14] = 0x45;
	kt_uffd_fill(&u, frame);
	ASSERT_EQ(pthread_join(t, NULL), 0);
	EXPECT_EQ(w.ret, -1);
	EXPECT_EQ(w.err, EBADFD);
	EXPECT_EQ(kt_stat(tun, "rx_packets"), 0);
	/* the fd works on its new device */
	memset(frame, 0, 20);
	frame[0] = 0x45;
	EXPECT_EQ(write(fd, frame, 20), 20);
	EXPECT_EQ(kt_stat(tun, "rx_packets"), 1);
	close(fd);
	kt_uffd_uninit(&u);
}
