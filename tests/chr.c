// SPDX-License-Identifier: GPL-2.0
/* Copyright (C) 2026 The ktun authors. */
/*
 * The character device's contract: what open, TUNSETIFF and the other
 * ioctls accept and refuse, device names, and every way a write can be bad.
 */

#include <sys/mman.h>

#include "net.h"

#define A4	"10.61.0.1/24"
#define PEER4	"10.61.0.2"
#define LOCAL4	"10.61.0.1"

/* An ioctl number in the TUN range that no driver defines. */
#define KT_BOGUS_IOCTL		_IO('T', 0xf0)
#define KT_BOGUS_IOCTL_RW	_IOWR('T', 0xf1, int)

TEST(features_before_attach)
{
	unsigned int f = 0;
	int fd = kt_open_node(0);

	ASSERT_OK(ioctl(fd, TUNGETFEATURES, &f));
	EXPECT_TRUE(f & IFF_TUN);
	EXPECT_TRUE(f & IFF_TAP);
	EXPECT_TRUE(f & IFF_NO_PI);
	EXPECT_TRUE(f & IFF_ONE_QUEUE);
	/* and still after attaching */
	ASSERT_OK(kt_setiff(fd, NULL, IFF_TUN | IFF_NO_PI, NULL));
	f = 0;
	EXPECT_OK(ioctl(fd, TUNGETFEATURES, &f));
	EXPECT_TRUE(f & IFF_TUN);
	close(fd);
}

TEST(io_before_attach_ebadfd)
{
	char buf[64] = { 0x45 };
	int fd = kt_open_node(0);

	EXPECT_ERRNO(read(fd, buf, sizeof(buf)), EBADFD);
	EXPECT_ERRNO(write(fd, buf, sizeof(buf)), EBADFD);
	close(fd);

	fd = kt_open_node(O_NONBLOCK);
	EXPECT_ERRNO(read(fd, buf, sizeof(buf)), EBADFD);
	close(fd);
}

TEST(ioctl_before_attach_ebadfd)
{
	struct ifreq ifr;
	int fd = kt_open_node(0), v = 0;

	memset(&ifr, 0, sizeof(ifr));
	EXPECT_ERRNO(ioctl(fd, TUNSETPERSIST, 1UL), EBADFD);
	EXPECT_ERRNO(ioctl(fd, TUNGETIFF, &ifr), EBADFD);
	EXPECT_ERRNO(ioctl(fd, KT_BOGUS_IOCTL, 0UL), EBADFD);
	EXPECT_ERRNO(ioctl(fd, KT_BOGUS_IOCTL_RW, &v), EBADFD);
	close(fd);
}

/* Attaches with @flags under a fresh name and checks the interface it made. */
static void check_attach(int flags, const char *tag, unsigned int arphrd)
{
	char name[IFNAMSIZ], got[IFNAMSIZ] = "";
	struct ifreq ifr;
	int fd;

	kt_ifname(name, tag);
	fd = kt_attach(name, flags, got);
	EXPECT_STREQ(got, name);
	EXPECT_TRUE(kt_exists(name));
	EXPECT_EQ(kt_sysfs(name, "type"), arphrd);
	/* TUN's own default; TAP keeps Ethernet's (1000 on stock) */
	if (arphrd == 65534)
		EXPECT_EQ(kt_sysfs(name, "tx_queue_len"), TUN_READQ_SIZE);

	memset(&ifr, 0, sizeof(ifr));
	EXPECT_OK(ioctl(fd, TUNGETIFF, &ifr));
	EXPECT_STREQ(ifr.ifr_name, name);
	/* IFF_NO_PI is not checked: TUNGETIFF reports IFF_NOFILTER, the same bit */
	EXPECT_EQ(ifr.ifr_flags & TUN_TYPE_MASK, flags & TUN_TYPE_MASK);
	close(fd);
	EXPECT_FALSE(kt_exists(name));
}

TEST(attach_tun)
{
	check_attach(IFF_TUN | IFF_NO_PI, "u", 65534);	/* ARPHRD_NONE */
	check_attach(IFF_TUN, "u", 65534);
}

TEST(attach_tap)
{
	check_attach(IFF_TAP | IFF_NO_PI, "a", 1);	/* ARPHRD_ETHER */
	check_attach(IFF_TAP, "a", 1);
}

TEST(one_queue_accepted)
{
	check_attach(IFF_TUN | IFF_NO_PI | IFF_ONE_QUEUE, "q", 65534);
	check_attach(IFF_TAP | IFF_ONE_QUEUE, "q", 1);
}

TEST(link_kind)
{
	char name[IFNAMSIZ], cmd[128], out[4096], want[64];
	int fd = kt_attach(kt_ifname(name, "k"), IFF_TUN | IFF_NO_PI, NULL);

	snprintf(cmd, sizeof(cmd), "ip -j -d link show dev %s", name);
	ASSERT_EQ(kt_capture(out, sizeof(out), cmd), 0);
	snprintf(want, sizeof(want), "\"info_kind\":\"%s\"", kt_link_kind());
	if (!strstr(out, want))
		FAIL_CHECK("%s: no %s in: %.300s", cmd, want, out);
	close(fd);
}

/* Attaches with a template or no name; the name must follow @prefix<N>. */
static void check_template(const char *req, int flags, const char *prefix)
{
	char got[IFNAMSIZ] = "", *end;
	size_t pl = strlen(prefix);
	int fd = kt_attach(req, flags, got);

	if (strncmp(got, prefix, pl) || !got[pl] || (strtoul(got + pl, &end, 10), *end))
		FAIL_CHECK("name \"%s\" for \"%s\": expected %s<N>", got, req ? req : "(null)", prefix);
	EXPECT_TRUE(kt_exists(got));
	close(fd);
	EXPECT_FALSE(kt_exists(got));
}

TEST(name_templates)
{
	char tmpl[32], prefix[16];

	check_template("tun%d", IFF_TUN | IFF_NO_PI, "tun");
	check_template("tap%d", IFF_TAP | IFF_NO_PI, "tap");
	check_template("", IFF_TUN | IFF_NO_PI, "tun");
	check_template("", IFF_TAP, "tap");
	check_template(NULL, IFF_TUN, "tun");
	snprintf(prefix, sizeof(prefix), "kt%dt", kt_test_pid % 100000);
	snprintf(tmpl, sizeof(tmpl), "%.10s%%d", prefix);
	check_template(tmpl, IFF_TAP | IFF_NO_PI, prefix);
}

/* Two templates in use at once get different names. */
TEST(name_templates_distinct)
{
	char a[IFNAMSIZ], b[IFNAMSIZ];
	int fa = kt_attach("tun%d", IFF_TUN | IFF_NO_PI, a);
	int fb = kt_attach("tun%d", IFF_TUN | IFF_NO_PI, b);

	EXPECT_NE(strcmp(a, b), 0);
	close(fa);
	close(fb);
}

TEST(name_invalid)
{
	static const char *const bad[] = { "kt/x", "kt x", "kt:x", "..", "." };
	unsigned int i;
	int fd;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		fd = kt_open_node(0);
		errno = 0;
		if (kt_setiff(fd, bad[i], IFF_TUN | IFF_NO_PI, NULL) != -1 || errno != EINVAL)
			FAIL_CHECK("TUNSETIFF \"%s\": %s, expected EINVAL",
				   bad[i], errno ? kt_errname(errno) : "accepted");
		close(fd);
	}
	/* the fd is still usable after a refused name */
	fd = kt_open_node(0);
	EXPECT_ERRNO(kt_setiff(fd, "kt/y", IFF_TAP, NULL), EINVAL);
	EXPECT_OK(kt_setiff(fd, NULL, IFF_TAP, NULL));
	close(fd);
}

/* ifr_name holds 16 bytes; the kernel uses the first 15, it is no error. */
TEST(name_truncated_to_15)
{
	char full[32], want[IFNAMSIZ], got[IFNAMSIZ] = "";
	struct ifreq ifr;
	int fd = kt_open_node(0);

	snprintf(full, sizeof(full), "kt%05dxxxxxxxxxxxxx", kt_test_pid % 100000);
	full[IFNAMSIZ] = '\0';
	ASSERT_EQ(strlen(full), IFNAMSIZ + 0);
	memcpy(want, full, IFNAMSIZ - 1);
	want[IFNAMSIZ - 1] = '\0';
	memset(&ifr, 0, sizeof(ifr));
	memcpy(ifr.ifr_name, full, IFNAMSIZ);	/* no terminating NUL */
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
	ASSERT_OK(ioctl(fd, TUNSETIFF, &ifr));
	memcpy(got, ifr.ifr_name, IFNAMSIZ);
	got[IFNAMSIZ - 1] = '\0';
	EXPECT_STREQ(got, want);
	EXPECT_EQ(strnlen(ifr.ifr_name, IFNAMSIZ), IFNAMSIZ - 1);
	EXPECT_TRUE(kt_exists(want));
	close(fd);
}

TEST(second_setiff_eexist)
{
	char name[IFNAMSIZ], other[IFNAMSIZ];
	int fd = kt_attach(kt_ifname(name, "e"), IFF_TUN | IFF_NO_PI, NULL);

	EXPECT_ERRNO(kt_setiff(fd, name, IFF_TUN | IFF_NO_PI, NULL), EEXIST);
	EXPECT_ERRNO(kt_setiff(fd, kt_ifname(other, "e"), IFF_TUN | IFF_NO_PI, NULL), EEXIST);
	EXPECT_ERRNO(kt_setiff(fd, NULL, IFF_TAP, NULL), EEXIST);
	EXPECT_FALSE(kt_exists(other));
	/* the first attachment is untouched */
	EXPECT_TRUE(kt_exists(name));
	EXPECT_OK(ioctl(fd, TUNSETPERSIST, 0UL));
	close(fd);
	EXPECT_FALSE(kt_exists(name));
}

TEST(attach_other_type_einval)
{
	char tun[IFNAMSIZ], tap[IFNAMSIZ];
	int a = kt_attach(kt_ifname(tun, "o"), IFF_TUN | IFF_NO_PI, NULL);
	int b = kt_attach(kt_ifname(tap, "o"), IFF_TAP | IFF_NO_PI, NULL);
	int fd;

	/* detach both so only the type can be the reason for refusal */
	kt_cleanup_dev(tun);
	kt_cleanup_dev(tap);
	kt_set_persist(a, 1);
	kt_set_persist(b, 1);
	close(a);
	close(b);

	fd = kt_open_node(0);
	EXPECT_ERRNO(kt_setiff(fd, tun, IFF_TAP | IFF_NO_PI, NULL), EINVAL);
	EXPECT_ERRNO(kt_setiff(fd, tap, IFF_TUN | IFF_NO_PI, NULL), EINVAL);
	EXPECT_ERRNO(kt_setiff(fd, tap, IFF_TUN, NULL), EINVAL);
	/* and the right type attaches on the same fd */
	EXPECT_OK(kt_setiff(fd, tap, IFF_TAP | IFF_NO_PI, NULL));
	kt_set_persist(fd, 0);
	close(fd);
	EXPECT_FALSE(kt_exists(tap));

	fd = kt_attach(tun, IFF_TUN | IFF_NO_PI, NULL);
	kt_set_persist(fd, 0);
	close(fd);
	EXPECT_FALSE(kt_exists(tun));
}

/* A name taken by an interface of another kind is not ours to attach. */
TEST(attach_foreign_einval)
{
	int fd = kt_open_node(0);

	EXPECT_ERRNO(kt_setiff(fd, "lo", IFF_TUN | IFF_NO_PI, NULL), EINVAL);
	EXPECT_ERRNO(kt_setiff(fd, "lo", IFF_TAP | IFF_NO_PI, NULL), EINVAL);
	EXPECT_TRUE(kt_exists("lo"));
	close(fd);
}

TEST(tun_excl_ebusy)
{
	char name[IFNAMSIZ], fresh[IFNAMSIZ];
	int a = kt_attach(kt_ifname(name, "x"), IFF_TUN | IFF_NO_PI, NULL);
	int fd = kt_open_node(0);

	kt_cleanup_dev(name);
	kt_set_persist(a, 1);
	close(a);
	EXPECT_ERRNO(kt_setiff(fd, name, IFF_TUN | IFF_NO_PI | IFF_TUN_EXCL, NULL), EBUSY);
	/* a new name with IFF_TUN_EXCL is fine */
	EXPECT_OK(kt_setiff(fd, kt_ifname(fresh, "x"), IFF_TUN | IFF_NO_PI | IFF_TUN_EXCL, NULL));
	close(fd);
	EXPECT_FALSE(kt_exists(fresh));

	fd = kt_attach(name, IFF_TUN | IFF_NO_PI, NULL);
	kt_set_persist(fd, 0);
	close(fd);
	EXPECT_FALSE(kt_exists(name));
}

/* A single-queue device takes one fd at a time. */
TEST(attach_busy_ebusy)
{
	char name[IFNAMSIZ];
	int a = kt_attach(kt_ifname(name, "b"), IFF_TUN | IFF_NO_PI, NULL);
	int fd = kt_open_node(0);

	EXPECT_ERRNO(kt_setiff(fd, name, IFF_TUN | IFF_NO_PI, NULL), EBUSY);
	close(a);
	EXPECT_FALSE(kt_exists(name));
	close(fd);
}

TEST(no_type_einval)
{
	int fd = kt_open_node(0);
	char name[IFNAMSIZ];

	EXPECT_ERRNO(kt_setiff(fd, kt_ifname(name, "n"), IFF_NO_PI, NULL), EINVAL);
	EXPECT_ERRNO(kt_setiff(fd, name, 0, NULL), EINVAL);
	EXPECT_FALSE(kt_exists(name));
	close(fd);
}

TEST(tun_and_tap_einval)
{
	char name[IFNAMSIZ];
	int fd;

	if (kt_stock())
		SKIP("skipped (stock accepts IFF_TUN|IFF_TAP as TUN)");
	fd = kt_open_node(0);
	EXPECT_ERRNO(kt_setiff(fd, kt_ifname(name, "w"), IFF_TUN | IFF_TAP | IFF_NO_PI, NULL), EINVAL);
	EXPECT_ERRNO(kt_setiff(fd, NULL, IFF_TUN | IFF_TAP, NULL), EINVAL);
	EXPECT_FALSE(kt_exists(name));
	/* the fd stays usable */
	EXPECT_OK(kt_setiff(fd, name, IFF_TUN | IFF_NO_PI, NULL));
	close(fd);
}

TEST(unknown_flags_einval)
{
	static const int bad[] = { 0x0004, 0x0008, 0x0080 };
	char name[IFNAMSIZ];
	unsigned int i;
	int fd;

	if (kt_stock())
		SKIP("skipped (stock accepts unknown flag bits)");
	kt_ifname(name, "f");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		fd = kt_open_node(0);
		errno = 0;
		if (kt_setiff(fd, name, IFF_TUN | IFF_NO_PI | bad[i], NULL) != -1 || errno != EINVAL)
			FAIL_CHECK("TUNSETIFF with flag 0x%04x: %s, expected EINVAL",
				   bad[i], errno ? kt_errname(errno) : "accepted");
		close(fd);
		EXPECT_FALSE(kt_exists(name));
	}
}

TEST(unknown_ioctl_einval)
{
	char name[IFNAMSIZ];
	int fd = kt_attach(kt_ifname(name, "i"), IFF_TUN | IFF_NO_PI, NULL), v = 0;
	struct ifreq ifr;

	EXPECT_ERRNO(ioctl(fd, KT_BOGUS_IOCTL, 0UL), EINVAL);
	EXPECT_ERRNO(ioctl(fd, KT_BOGUS_IOCTL_RW, &v), EINVAL);
	/* the attachment survives */
	memset(&ifr, 0, sizeof(ifr));
	EXPECT_OK(ioctl(fd, TUNGETIFF, &ifr));
	EXPECT_STREQ(ifr.ifr_name, name);
	close(fd);
}

/* An attached, up TUN (or TAP) device for the write tests. */
FIXTURE(dev) {
	char name[IFNAMSIZ];
	int fd;
};

FIXTURE_SETUP(dev)
{
	self->fd = -1;
}

FIXTURE_TEARDOWN(dev)
{
	if (self->fd >= 0)
		close(self->fd);
}

static void dev_open(struct kt_fx_dev *self, int flags)
{
	self->fd = kt_attach(kt_ifname(self->name, "w"), flags, NULL);
	kt_dev_up(self->name, A4, NULL);
}

/* A valid IPv4 UDP datagram framed as @l2, to a port nobody listens on. */
static size_t good_packet(void *buf, int l2, const char *dev)
{
	uint8_t mac[6] = { 0 }, peer[6] = { 0x02, 0, 0, 0, 0, 0x02 };

	if (l2 >= KT_ETH)
		kt_mac(dev, mac);
	return kt_build_udp(buf, l2, mac, peer, PEER4, 4000, LOCAL4, 9, "hello", 5);
}

TEST_F(dev, write_zero_len_einval)
{
	static const int flags[] = { IFF_TUN | IFF_NO_PI, IFF_TUN, IFF_TAP | IFF_NO_PI, IFF_TAP };
	char buf[8] = { 0 };
	unsigned int i;

	for (i = 0; i < 4; i++) {
		dev_open(self, flags[i]);
		errno = 0;
		if (write(self->fd, buf, 0) != -1 || errno != EINVAL)
			FAIL_CHECK("zero-length write, flags 0x%x: %s, expected EINVAL",
				   flags[i], errno ? kt_errname(errno) : "accepted");
		EXPECT_EQ(kt_stat(self->name, "rx_packets"), 0);
		close(self->fd);
		self->fd = -1;
	}
}

TEST_F(dev, write_short_pi_einval)
{
	uint8_t buf[4] = { 0, 0, 0x08, 0x00 };
	size_t n;

	dev_open(self, IFF_TUN);
	for (n = 1; n < 4; n++)
		EXPECT_ERRNO(write(self->fd, buf, n), EINVAL);
	close(self->fd);
	dev_open(self, IFF_TAP);
	EXPECT_ERRNO(write(self->fd, buf, 3), EINVAL);
	EXPECT_EQ(kt_stat(self->name, "rx_packets"), 0);
}

TEST_F(dev, write_bad_ip_version_einval)
{
	uint8_t buf[128];
	size_t n;
	int v;

	dev_open(self, IFF_TUN | IFF_NO_PI);
	n = good_packet(buf, KT_RAW, self->name);
	for (v = 0; v < 16; v++) {
		unsigned long long drops = kt_stat(self->name, "rx_dropped") +
					   kt_stat(self->name, "rx_frame_errors");

		if (v == 4 || v == 6)
			continue;
		buf[0] = v << 4 | 5;
		errno = 0;
		if (write(self->fd, buf, n) != -1 || errno != EINVAL)
			FAIL_CHECK("IP version %d: %s, expected EINVAL", v,
				   errno ? kt_errname(errno) : "accepted");
		EXPECT_EQ(kt_stat(self->name, "rx_dropped") +
			  kt_stat(self->name, "rx_frame_errors"), drops + 1);
	}
	EXPECT_EQ(kt_stat(self->name, "rx_packets"), 0);
	/* a good one still goes through */
	buf[0] = 0x45;
	EXPECT_EQ(write(self->fd, buf, n), n);
	EXPECT_EQ(kt_stat(self->name, "rx_packets"), 1);
}

/* With tun_pi the driver goes by pi.proto, not by the first nibble. */
TEST_F(dev, write_pi_proto_as_given)
{
	uint8_t buf[128];
	size_t n;

	dev_open(self, IFF_TUN);
	n = good_packet(buf, KT_PI, self->name);
	EXPECT_EQ(write(self->fd, buf, n), n);
	buf[4] = 0x55;	/* not IPv4, but pi.proto says so: accepted, the stack drops it */
	EXPECT_EQ(write(self->fd, buf, n), n);
	EXPECT_EQ(kt_stat(self->name, "rx_packets"), 2);
}

/*
 * A tun_pi with proto 0 on TUN names no protocol: stock hands the packet
 * to the stack, which drops it, and the write succeeds; ktun refuses it
 * with EINVAL and counts it in rx_dropped (README: differences).
 */
TEST_F(dev, write_pi_proto_0)
{
	unsigned long long drops;
	uint8_t buf[128];
	ssize_t r;
	size_t n;

	dev_open(self, IFF_TUN);
	n = good_packet(buf, KT_PI, self->name);
	buf[2] = buf[3] = 0;
	drops = kt_stat(self->name, "rx_dropped");
	errno = 0;
	r = write(self->fd, buf, n);
	if (kt_stock()) {
		EXPECT_EQ(r, n);
	} else {
		EXPECT_EQ(r, -1);
		EXPECT_EQ(errno, EINVAL);
		EXPECT_EQ(kt_stat(self->name, "rx_dropped"), drops + 1);
		EXPECT_EQ(kt_stat(self->name, "rx_packets"), 0);
	}
}

TEST_F(dev, write_tap_short_frame_einval)
{
	uint8_t buf[64] = { 0 };
	size_t n;

	dev_open(self, IFF_TAP | IFF_NO_PI);
	for (n = 1; n < 14; n++)
		EXPECT_ERRNO(write(self->fd, buf, n), EINVAL);
	close(self->fd);
	dev_open(self, IFF_TAP);
	buf[2] = 0x08;
	EXPECT_ERRNO(write(self->fd, buf, 4 + 13), EINVAL);
	EXPECT_EQ(kt_stat(self->name, "rx_packets"), 0);
}

/* ktun refuses a write no IP packet can fill; stock 6.1 takes it and lets IP trim. */
TEST_F(dev, write_oversized_emsgsize)
{
	static const int flags[] = { IFF_TUN | IFF_NO_PI, IFF_TUN, IFF_TAP | IFF_NO_PI };
	static uint8_t buf[70000];
	unsigned int i;

	if (kt_stock())
		SKIP("skipped (stock accepts a 70000-byte write)");
	for (i = 0; i < 3; i++) {
		dev_open(self, flags[i]);
		memset(buf, 0, sizeof(buf));
		good_packet(buf, kt_l2_of(flags[i]), self->name);
		errno = 0;
		if (write(self->fd, buf, sizeof(buf)) != -1 || errno != EMSGSIZE)
			FAIL_CHECK("70000-byte write, flags 0x%x: %s, expected EMSGSIZE",
				   flags[i], errno ? kt_errname(errno) : "accepted");
		EXPECT_EQ(kt_stat(self->name, "rx_packets"), 0);
		close(self->fd);
		self->fd = -1;
	}
}

/* The largest IP packet there is goes through. */
TEST_F(dev, write_65535_accepted)
{
	static uint8_t buf[65535], data[65535 - 28];

	dev_open(self, IFF_TUN | IFF_NO_PI);
	ASSERT_EQ(good_packet(buf, KT_RAW, self->name), 33);
	ASSERT_EQ(kt_build_udp(buf, KT_RAW, NULL, NULL, PEER4, 4000, LOCAL4, 9,
			       data, sizeof(data)), sizeof(buf));
	EXPECT_EQ(write(self->fd, buf, sizeof(buf)), sizeof(buf));
	EXPECT_EQ(kt_stat(self->name, "rx_packets"), 1);
}

/* The MTU bounds what the stack sends, not what the app may write. */
TEST_F(dev, write_larger_than_mtu)
{
	static uint8_t buf[9100], data[9000], got[9100];
	size_t n;
	int s;

	dev_open(self, IFF_TUN | IFF_NO_PI);
	s = kt_udp_bind(LOCAL4, 7002);
	n = kt_build_udp(buf, KT_RAW, NULL, NULL, PEER4, 4000, LOCAL4, 7002, data, sizeof(data));
	EXPECT_EQ(write(self->fd, buf, n), n);
	EXPECT_EQ(kt_recv_wait(s, got, sizeof(got)), sizeof(data));
	close(s);
}

TEST_F(dev, write_efault)
{
	static const int flags[] = { IFF_TUN | IFF_NO_PI, IFF_TUN, IFF_TAP | IFF_NO_PI };
	void *bad = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	unsigned int i;

	ASSERT_TRUE(bad != MAP_FAILED);
	for (i = 0; i < 3; i++) {
		dev_open(self, flags[i]);
		EXPECT_ERRNO(write(self->fd, bad, 100), EFAULT);
		EXPECT_ERRNO(write(self->fd, bad, 4000), EFAULT);
		EXPECT_EQ(kt_stat(self->name, "rx_packets"), 0);
		close(self->fd);
		self->fd = -1;
	}
	munmap(bad, 4096);
}

/* A buffer whose tail is unmapped: the copy faults midway. */
TEST_F(dev, write_efault_partial)
{
	uint8_t *p = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	ASSERT_TRUE(p != MAP_FAILED);
	ASSERT_OK(mprotect(p + 4096, 4096, PROT_NONE));
	dev_open(self, IFF_TUN | IFF_NO_PI);
	good_packet(p + 4096 - 100, KT_RAW, self->name);
	EXPECT_ERRNO(write(self->fd, p + 4096 - 100, 300), EFAULT);
	EXPECT_EQ(kt_stat(self->name, "rx_packets"), 0);
	munmap(p, 8192);
}

TEST_F(dev, write_while_down_eio)
{
	static const int flags[] = { IFF_TUN | IFF_NO_PI, IFF_TAP | IFF_NO_PI };
	uint8_t buf[128];
	unsigned int i;
	size_t n;

	for (i = 0; i < 2; i++) {
		dev_open(self, flags[i]);
		n = good_packet(buf, kt_l2_of(flags[i]), self->name);
		kt_down(self->name);
		EXPECT_ERRNO(write(self->fd, buf, n), EIO);
		EXPECT_EQ(kt_stat(self->name, "rx_packets"), 0);
		kt_up(self->name);
		EXPECT_EQ(write(self->fd, buf, n), n);
		EXPECT_EQ(kt_stat(self->name, "rx_packets"), 1);
		close(self->fd);
		self->fd = -1;
	}
}

/* A fresh device is down until someone brings it up: writes get EIO. */
TEST(write_before_up_eio)
{
	char name[IFNAMSIZ];
	uint8_t buf[128];
	int fd = kt_attach(kt_ifname(name, "d"), IFF_TUN | IFF_NO_PI, NULL);
	size_t n = good_packet(buf, KT_RAW, name);

	EXPECT_ERRNO(write(fd, buf, n), EIO);
	close(fd);
}

/* Writes never wait: a device nobody reads from takes a burst at once. */
TEST_F(dev, write_never_blocks)
{
	uint8_t buf[1600];
	size_t n;
	int i, s;

	dev_open(self, IFF_TUN | IFF_NO_PI);
	s = kt_udp_bind(LOCAL4, 7001);	/* bound, never read: the stack drops */
	memset(buf, 0, sizeof(buf));
	n = kt_build_udp(buf, KT_RAW, NULL, NULL, PEER4, 4000, LOCAL4, 7001, buf + 100, 1400);
	for (i = 0; i < 2000; i++) {
		ssize_t w = write(self->fd, buf, n);

		if (w != (ssize_t)n)
			FAIL("write %d of 2000: %zd (%s)", i, w, kt_errname(errno));
	}
	EXPECT_EQ(kt_stat(self->name, "rx_packets"), 2000);
	close(s);
}

