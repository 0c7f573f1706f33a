// SPDX-License-Identifier: GPL-2.0
/* Copyright (C) 2026 The ktun authors. */
/*
 * The configuration ioctls of an attached fd, each with its bad inputs:
 * persistence, owner and group and who may attach because of them, link
 * type, ifindex, carrier, namespaces, sndbuf, hardware address, the
 * IFF_NO_CARRIER/IFF_NAPI/IFF_NAPI_FRAGS flags, and what sysfs, fdinfo and
 * "ip -d link" report. Every pointer-taking ioctl gets a bad pointer.
 *
 *   stack: socket 10.71.0.1 <--> dev (10.71.0.1/24) <--> app fd (peer 10.71.0.2)
 *
 * Unprivileged callers are forked children that drop to uid/gid 65534 (and
 * with it every capability) after root opened the node for them: the node
 * itself is root-only, what is tested is the driver's own rule.
 */

#include <grp.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <linux/sockios.h>

#include "net.h"

#define A4	"10.71.0.1/24"
#define LOCAL4	"10.71.0.1"
#define PEER4	"10.71.0.2"

#define NOBODY	65534
#define GROUP_X	4242		/* a group nobody is in unless given it */

/* Stock's TUNGETFEATURES: IFF_TUN | IFF_TAP | IFF_NO_CARRIER | TUN_FEATURES. */
#define STOCK_FEATURES	(IFF_TUN | IFF_TAP | IFF_NO_CARRIER | IFF_NO_PI | \
			 IFF_ONE_QUEUE | IFF_VNET_HDR | IFF_MULTI_QUEUE | \
			 IFF_NAPI | IFF_NAPI_FRAGS)
/* What sysfs tun_flags and TUNGETIFF show of the flags a device was made with. */
#define SHOWN_FLAGS	(STOCK_FEATURES & ~IFF_NO_CARRIER)

static const uint8_t peer_mac[6] = { 0x02, 0x6b, 0x74, 0x00, 0x00, 0x02 };

/* A page nobody may touch: the bad pointer for EFAULT checks. */
static void *bad_ptr(void)
{
	static void *p;

	if (!p) {
		p = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		ASSERT_TRUE(p != MAP_FAILED);
	}
	return p;
}

/* /sys/class/net/@dev/@attr as a string, the trailing newline kept. */
static char *sysfs_str(const char *dev, const char *attr, char *buf, size_t size)
{
	char path[128];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/sys/class/net/%s/%s", dev, attr);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		FAIL("open %s: %s", path, kt_errname(errno));
	n = read(fd, buf, size - 1);
	if (n < 0)
		FAIL("read %s: %s", path, kt_errname(errno));
	close(fd);
	buf[n] = '\0';
	return buf;
}

static void expect_sysfs(const char *dev, const char *attr, const char *want)
{
	char buf[64];

	if (strcmp(sysfs_str(dev, attr, buf, sizeof(buf)), want))
		FAIL_CHECK("/sys/class/net/%s/%s: \"%.*s\", expected \"%.*s\"", dev, attr,
			   (int)strcspn(buf, "\n"), buf, (int)strcspn(want, "\n"), want);
}

static int getiff(int fd, struct ifreq *ifr)
{
	memset(ifr, 0, sizeof(*ifr));
	return ioctl(fd, TUNGETIFF, ifr);
}

static struct ktun_link_info link_info(const char *name)
{
	struct ktun_link_info li;
	int ret = ktun_link_info(name, &li);

	if (ret)
		FAIL("rtnetlink info of %s: %s", name, kt_errname(-ret));
	return li;
}

/* Creates @name with @flags, persistent, nobody attached; returns nothing. */
static void make_persistent(char *name, const char *tag, int flags, long owner, long group)
{
	int fd = kt_attach(kt_ifname(name, tag), flags, NULL);

	kt_cleanup_dev(name);
	if (owner >= 0)
		ASSERT_OK(ioctl(fd, TUNSETOWNER, (unsigned long)owner));
	if (group >= 0)
		ASSERT_OK(ioctl(fd, TUNSETGROUP, (unsigned long)group));
	kt_set_persist(fd, 1);
	close(fd);
}

static void unpersist(const char *name, int flags)
{
	int fd = kt_attach(name, flags, NULL);

	kt_set_persist(fd, 0);
	close(fd);
	EXPECT_FALSE(kt_exists(name));
}

/*
 * Runs @fn(@fd, @name) in a child that has become uid and gid NOBODY, with
 * @extra as its one supplementary group (0: none), and so no capability.
 * Its checks count for the test; returns once it is reaped.
 */
static void run_unpriv(void (*fn)(int fd, const char *name), int fd, const char *name,
		       gid_t extra)
{
	int st;
	pid_t pid = fork();

	ASSERT_OK(pid);
	if (!pid) {
		if (setgroups(extra ? 1 : 0, &extra) ||
		    setresgid(NOBODY, NOBODY, NOBODY) ||
		    setresuid(NOBODY, NOBODY, NOBODY))
			FAIL("dropping privileges: %s", kt_errname(errno));
		fn(fd, name);
		_exit(0);
	}
	ASSERT_EQ(waitpid(pid, &st, 0), pid);
	if (!WIFEXITED(st) || WEXITSTATUS(st))
		FAIL_CHECK("unprivileged child ended with status 0x%x", st);
}

/* The ns inode behind fd @nsfd, or of /proc/self/ns/net if @nsfd < 0. */
static ino_t ns_ino(int nsfd)
{
	struct stat st;

	if (nsfd < 0)
		ASSERT_OK(stat("/proc/self/ns/net", &st));
	else
		ASSERT_OK(fstat(nsfd, &st));
	return st.st_ino;
}

/* ---- flags, features, and how they are reported ---- */

TEST(features_exact)
{
	unsigned int f = 0;
	int fd = kt_open_node(0);

	ASSERT_OK(ioctl(fd, TUNGETFEATURES, &f));
	EXPECT_EQ(f, STOCK_FEATURES);
	EXPECT_ERRNO(ioctl(fd, TUNGETFEATURES, bad_ptr()), EFAULT);
	close(fd);
}

/* TUNGETIFF and sysfs tun_flags give back what TUNSETIFF was given. */
TEST(getiff_flags_roundtrip)
{
	static const int flags[] = {
		IFF_TUN, IFF_TUN | IFF_NO_PI, IFF_TAP, IFF_TAP | IFF_NO_PI,
		IFF_TUN | IFF_ONE_QUEUE, IFF_TAP | IFF_VNET_HDR | IFF_NO_PI,
		IFF_TUN | IFF_MULTI_QUEUE | IFF_NO_PI, IFF_TAP | IFF_MULTI_QUEUE,
		IFF_TUN | IFF_NAPI, IFF_TAP | IFF_NAPI | IFF_NAPI_FRAGS | IFF_NO_PI,
		IFF_TUN | IFF_NO_CARRIER, IFF_TAP | IFF_TUN_EXCL | IFF_VNET_HDR,
	};
	char name[IFNAMSIZ], want[32];
	struct ifreq ifr;
	unsigned int i;
	int fd;

	for (i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
		int shown = flags[i] & SHOWN_FLAGS;

		fd = kt_attach(kt_ifname(name, "g"), flags[i], NULL);
		ASSERT_OK(getiff(fd, &ifr));
		EXPECT_STREQ(ifr.ifr_name, name);
		/* IFF_NOFILTER (no socket filter) is IFF_NO_PI's bit */
		if ((ifr.ifr_flags & 0xffff) != (shown | IFF_NOFILTER))
			FAIL_CHECK("flags 0x%x: TUNGETIFF says 0x%x, expected 0x%x",
				   flags[i], ifr.ifr_flags & 0xffff, shown | IFF_NOFILTER);
		snprintf(want, sizeof(want), "0x%x\n", shown);
		expect_sysfs(name, "tun_flags", want);
		EXPECT_ERRNO(ioctl(fd, TUNGETIFF, bad_ptr()), EFAULT);
		close(fd);
	}
}

TEST(persist_visible)
{
	char name[IFNAMSIZ];
	struct ifreq ifr;
	int fd = kt_attach(kt_ifname(name, "p"), IFF_TUN | IFF_NO_PI, NULL);

	kt_cleanup_dev(name);
	expect_sysfs(name, "tun_flags", "0x1001\n");
	EXPECT_EQ(link_info(name).persist, 0);
	kt_set_persist(fd, 1);
	expect_sysfs(name, "tun_flags", "0x1801\n");
	EXPECT_EQ(link_info(name).persist, 1);
	ASSERT_OK(getiff(fd, &ifr));
	EXPECT_TRUE(ifr.ifr_flags & IFF_PERSIST);
	/* any non-zero argument means on */
	kt_set_persist(fd, 0);
	ASSERT_OK(ioctl(fd, TUNSETPERSIST, 0x100UL));
	expect_sysfs(name, "tun_flags", "0x1801\n");
	kt_set_persist(fd, 0);
	expect_sysfs(name, "tun_flags", "0x1001\n");
	ASSERT_OK(getiff(fd, &ifr));
	EXPECT_FALSE(ifr.ifr_flags & IFF_PERSIST);
	close(fd);
	EXPECT_FALSE(kt_exists(name));
}

TEST(owner_group)
{
	char name[IFNAMSIZ];
	struct ktun_link_info li;
	int fd = kt_attach(kt_ifname(name, "o"), IFF_TAP | IFF_NO_PI, NULL);

	expect_sysfs(name, "owner", "-1\n");
	expect_sysfs(name, "group", "-1\n");
	li = link_info(name);
	EXPECT_EQ(li.owner, -1);	/* not reported while unset */
	EXPECT_EQ(li.group, -1);

	ASSERT_OK(ioctl(fd, TUNSETOWNER, 1234UL));
	ASSERT_OK(ioctl(fd, TUNSETGROUP, 4321UL));
	expect_sysfs(name, "owner", "1234\n");
	expect_sysfs(name, "group", "4321\n");
	li = link_info(name);
	EXPECT_EQ(li.owner, 1234);
	EXPECT_EQ(li.group, 4321);
	ASSERT_OK(ioctl(fd, TUNSETOWNER, 0UL));
	expect_sysfs(name, "owner", "0\n");

	/* (uid_t)-1 is no uid: refused, the old value stays */
	EXPECT_ERRNO(ioctl(fd, TUNSETOWNER, (unsigned long)(uid_t)-1), EINVAL);
	EXPECT_ERRNO(ioctl(fd, TUNSETGROUP, (unsigned long)(gid_t)-1), EINVAL);
	expect_sysfs(name, "owner", "0\n");
	expect_sysfs(name, "group", "4321\n");
	close(fd);
}

/*
 * "ip -d link show" prints the IFLA_TUN_* attributes for link kind "tun"
 * only: under its own kind (ktun) the same attributes are checked through
 * rtnetlink instead.
 */
static void expect_ip_details(const char *name, const char *want)
{
	char cmd[128], out[4096];

	if (strcmp(kt_link_kind(), "tun"))
		return;
	snprintf(cmd, sizeof(cmd), "ip -d link show dev %s", name);
	ASSERT_EQ(kt_capture(out, sizeof(out), cmd), 0);
	if (!strstr(out, want))
		FAIL_CHECK("%s: no \"%s\" in: %s", cmd, want, out);
	if (!strstr(want, " user ") && strstr(out, " user "))
		FAIL_CHECK("%s shows an owner that was never set: %s", cmd, out);
}

TEST(ip_link_details)
{
	char name[IFNAMSIZ];
	struct ktun_link_info li;
	int fd = kt_attach(kt_ifname(name, "d"), IFF_TAP | IFF_VNET_HDR | IFF_NO_PI, NULL);

	expect_ip_details(name, "tun type tap pi off vnet_hdr on persist off");
	li = link_info(name);
	EXPECT_STREQ(li.kind, kt_link_kind());
	EXPECT_EQ(li.type, IFF_TAP);
	EXPECT_EQ(li.pi, 0);
	EXPECT_EQ(li.vnet_hdr, 1);
	EXPECT_EQ(li.persist, 0);
	EXPECT_EQ(li.multi_queue, 0);
	EXPECT_EQ(li.numqueues, -1);	/* reported for multi-queue devices only */

	ASSERT_OK(ioctl(fd, TUNSETOWNER, 1234UL));
	ASSERT_OK(ioctl(fd, TUNSETGROUP, 4321UL));
	kt_cleanup_dev(name);
	kt_set_persist(fd, 1);
	expect_ip_details(name, "tun type tap pi off vnet_hdr on persist on user 1234 group 4321");
	li = link_info(name);
	EXPECT_EQ(li.persist, 1);
	EXPECT_EQ(li.owner, 1234);
	EXPECT_EQ(li.group, 4321);
	kt_set_persist(fd, 0);
	close(fd);

	fd = kt_attach(kt_ifname(name, "d"), IFF_TUN | IFF_MULTI_QUEUE, NULL);
	expect_ip_details(name, "tun type tun pi on vnet_hdr off multi_queue numqueues 1 "
			  "numdisabled 0 persist off");
	li = link_info(name);
	EXPECT_EQ(li.type, IFF_TUN);
	EXPECT_EQ(li.pi, 1);
	EXPECT_EQ(li.multi_queue, 1);
	EXPECT_EQ(li.numqueues, 1);
	EXPECT_EQ(li.numdisabled, 0);
	close(fd);
}

TEST(fdinfo_iff)
{
	char name[IFNAMSIZ], path[64], buf[512], want[64];
	int fd = kt_open_node(0), ffd;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	ffd = open(path, O_RDONLY | O_CLOEXEC);
	ASSERT_OK(ffd);
	n = read(ffd, buf, sizeof(buf) - 1);
	ASSERT_GT(n, 0);
	buf[n] = '\0';
	close(ffd);
	if (!strstr(buf, "\niff:\t\n"))
		FAIL_CHECK("unattached fdinfo: %s", buf);

	ASSERT_OK(kt_setiff(fd, kt_ifname(name, "f"), IFF_TAP | IFF_NO_PI, NULL));
	ffd = open(path, O_RDONLY | O_CLOEXEC);
	ASSERT_OK(ffd);
	n = read(ffd, buf, sizeof(buf) - 1);
	ASSERT_GT(n, 0);
	buf[n] = '\0';
	close(ffd);
	snprintf(want, sizeof(want), "\niff:\t%s\n", name);
	if (!strstr(buf, want))
		FAIL_CHECK("fdinfo has no \"iff:\\t%s\": %s", name, buf);
	close(fd);
}

/* Every device ioctl on an fd that never attached: EBADFD, before any copy. */
TEST(unattached_ebadfd)
{
	static const unsigned long cmds[] = {
		TUNSETNOCSUM, TUNSETDEBUG, TUNSETOWNER, TUNSETGROUP, TUNSETLINK,
		TUNSETOFFLOAD, TUNSETTXFILTER, TUNGETSNDBUF, TUNSETSNDBUF,
		TUNGETVNETHDRSZ, TUNSETVNETHDRSZ, TUNGETVNETLE, TUNSETVNETLE,
		TUNATTACHFILTER, TUNDETACHFILTER, TUNGETFILTER, TUNSETCARRIER,
		TUNGETDEVNETNS, SIOCGIFHWADDR, SIOCSIFHWADDR,
	};
	char arg[256];
	unsigned int i;
	int fd = kt_open_node(0);

	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		memset(arg, 0, sizeof(arg));
		*(int *)arg = 1;
		errno = 0;
		if (ioctl(fd, cmds[i], arg) != -1 || errno != EBADFD)
			FAIL_CHECK("ioctl 0x%lx unattached: %s, expected EBADFD", cmds[i],
				   errno ? kt_errname(errno) : "accepted");
	}
	close(fd);
}

/* ---- who may attach ---- */

static void try_create(int fd, const char *name)
{
	EXPECT_ERRNO(kt_setiff(fd, name, IFF_TUN | IFF_NO_PI, NULL), EPERM);
	EXPECT_ERRNO(kt_setiff(fd, NULL, IFF_TAP, NULL), EPERM);
	/* the namespace fd wants CAP_NET_ADMIN too */
	EXPECT_ERRNO(ioctl(fd, SIOCGSKNS, 0UL), EPERM);
}

TEST(unpriv_create_eperm)
{
	char name[IFNAMSIZ];
	int fd = kt_open_node(0);

	run_unpriv(try_create, fd, kt_ifname(name, "c"), 0);
	EXPECT_FALSE(kt_exists(name));
	/* the fd root opened is still good for root */
	EXPECT_OK(kt_setiff(fd, name, IFF_TUN | IFF_NO_PI, NULL));
	close(fd);
}

static void try_napi_frags(int fd, const char *name)
{
	/* the capability is checked before the device is even looked up */
	EXPECT_ERRNO(kt_setiff(fd, name, IFF_TAP | IFF_NAPI | IFF_NAPI_FRAGS | IFF_NO_PI, NULL),
		     EPERM);
}

TEST(unpriv_napi_frags_eperm)
{
	char name[IFNAMSIZ];
	int fd = kt_open_node(0);

	make_persistent(name, "n", IFF_TAP | IFF_NO_PI, NOBODY, -1);
	run_unpriv(try_napi_frags, fd, name, 0);
	close(fd);
	unpersist(name, IFF_TAP | IFF_NO_PI);
}

static void attach_ok(int fd, const char *name)
{
	struct ifreq ifr;

	EXPECT_OK(kt_setiff(fd, name, IFF_TAP | IFF_NO_PI, NULL));
	EXPECT_OK(getiff(fd, &ifr));
	EXPECT_STREQ(ifr.ifr_name, name);
	/* attached, but namespace fds still want CAP_NET_ADMIN */
	EXPECT_ERRNO(ioctl(fd, TUNGETDEVNETNS, 0UL), EPERM);
	EXPECT_ERRNO(ioctl(fd, SIOCGSKNS, 0UL), EPERM);
}

static void attach_eperm(int fd, const char *name)
{
	EXPECT_ERRNO(kt_setiff(fd, name, IFF_TAP | IFF_NO_PI, NULL), EPERM);
	/* and the fd is still unattached */
	EXPECT_ERRNO(ioctl(fd, TUNSETPERSIST, 0UL), EBADFD);
}

/* A persistent TAP with @owner/@group (-1: unset); a child with @extra tries it. */
static void check_unpriv_attach(long owner, long group, gid_t extra, int allowed)
{
	char name[IFNAMSIZ];
	int fd = kt_open_node(0);

	make_persistent(name, "u", IFF_TAP | IFF_NO_PI, owner, group);
	run_unpriv(allowed ? attach_ok : attach_eperm, fd, name, extra);
	close(fd);
	ASSERT_TRUE(kt_exists(name));
	unpersist(name, IFF_TAP | IFF_NO_PI);
}

TEST(unpriv_owner_match)
{
	check_unpriv_attach(NOBODY, -1, 0, 1);
}

TEST(unpriv_group_match)
{
	check_unpriv_attach(-1, GROUP_X, GROUP_X, 1);
}

TEST(unpriv_owner_and_group_match)
{
	check_unpriv_attach(NOBODY, GROUP_X, GROUP_X, 1);
}

TEST(unpriv_other_owner_eperm)
{
	check_unpriv_attach(1234, -1, 0, 0);
}

TEST(unpriv_other_group_eperm)
{
	check_unpriv_attach(-1, GROUP_X, 0, 0);
}

TEST(unpriv_neither_matches_eperm)
{
	check_unpriv_attach(1234, GROUP_X, 0, 0);
}

/*
 * Stock's rule is "every owner or group that is set must match": a set
 * group the caller is not in refuses it even when the owner matches...
 */
TEST(unpriv_owner_match_group_mismatch_eperm)
{
	check_unpriv_attach(NOBODY, GROUP_X, 0, 0);
}

/* ...and a device with neither set is open to anyone who can open the node. */
TEST(unpriv_unowned_attach)
{
	check_unpriv_attach(-1, -1, 0, 1);
}

/* ---- link type, ifindex, carrier ---- */

/* What stock sets addr_len to for a TUNSETLINK type. */
static const struct {
	unsigned int type, addr_len;
} link_types[] = {
	{ 1, 6 },	/* ETHER */
	{ 778, 4 },	/* IPGRE */
	{ 768, 4 },	/* TUNNEL */
	{ 776, 4 },	/* SIT */
	{ 769, 16 },	/* TUNNEL6 */
	{ 823, 16 },	/* IP6GRE */
	{ 774, 6 },	/* FDDI */
	{ 6, 6 },	/* IEEE802 */
	{ 512, 0 },	/* PPP */
	{ 825, 8 },	/* 6LOWPAN */
	{ 804, 8 },	/* IEEE802154 */
	{ 780, 6 },	/* HIPPI */
	{ 270, 5 },	/* ROSE */
	{ 773, 1 },	/* LOCALTLK */
	{ 0xfffe, 0 },	/* NONE */
};

TEST(setlink_type)
{
	char name[IFNAMSIZ];
	unsigned int i;
	int fd = kt_attach(kt_ifname(name, "l"), IFF_TUN | IFF_NO_PI, NULL);

	EXPECT_EQ(kt_sysfs(name, "type"), 0xfffe);
	for (i = 0; i < sizeof(link_types) / sizeof(link_types[0]); i++) {
		ASSERT_OK(ioctl(fd, TUNSETLINK, (unsigned long)link_types[i].type));
		EXPECT_EQ(kt_sysfs(name, "type"), link_types[i].type);
		if (kt_sysfs(name, "addr_len") != link_types[i].addr_len)
			FAIL_CHECK("TUNSETLINK %u: addr_len %llu, expected %u (stock)",
				   link_types[i].type, kt_sysfs(name, "addr_len"),
				   link_types[i].addr_len);
	}
	/* only while down */
	RUN("ip link set dev %s up", name);
	EXPECT_ERRNO(ioctl(fd, TUNSETLINK, 1UL), EBUSY);
	EXPECT_EQ(kt_sysfs(name, "type"), 0xfffe);
	RUN("ip link set dev %s down", name);
	EXPECT_OK(ioctl(fd, TUNSETLINK, 1UL));
	EXPECT_EQ(kt_sysfs(name, "type"), 1);
	close(fd);
	EXPECT_FALSE(kt_exists(name));
}

/* An ifindex nobody has, high enough to be clear of the ones handed out. */
static int free_ifindex(void)
{
	int idx = 30000 + kt_test_pid % 20000;

	while (if_indextoname(idx, (char[IFNAMSIZ]){ 0 }))
		idx++;
	return idx;
}

TEST(setifindex)
{
	char name[IFNAMSIZ];
	int fd = kt_open_node(0), idx = free_ifindex(), neg = -1, v;

	EXPECT_ERRNO(ioctl(fd, TUNSETIFINDEX, &neg), EINVAL);
	EXPECT_ERRNO(ioctl(fd, TUNSETIFINDEX, bad_ptr()), EFAULT);
	ASSERT_OK(ioctl(fd, TUNSETIFINDEX, &idx));
	ASSERT_OK(kt_setiff(fd, kt_ifname(name, "i"), IFF_TUN | IFF_NO_PI, NULL));
	EXPECT_EQ(if_nametoindex(name), idx);
	EXPECT_EQ(kt_sysfs(name, "ifindex"), idx);
	/* too late once attached, whatever the value */
	v = idx + 1;
	EXPECT_ERRNO(ioctl(fd, TUNSETIFINDEX, &v), EPERM);
	EXPECT_ERRNO(ioctl(fd, TUNSETIFINDEX, &neg), EPERM);
	EXPECT_ERRNO(ioctl(fd, TUNSETIFINDEX, bad_ptr()), EPERM);
	close(fd);

	/* 0 means "pick one" */
	fd = kt_open_node(0);
	v = 0;
	ASSERT_OK(ioctl(fd, TUNSETIFINDEX, &v));
	ASSERT_OK(kt_setiff(fd, name, IFF_TAP | IFF_NO_PI, NULL));
	EXPECT_NE(if_nametoindex(name), 0);
	close(fd);
}

TEST(setcarrier)
{
	char name[IFNAMSIZ];
	int fd = kt_attach(kt_ifname(name, "r"), IFF_TUN | IFF_NO_PI, NULL), v;

	kt_dev_up(name, A4, NULL);
	EXPECT_EQ(kt_carrier(name), 1);
	v = 0;
	ASSERT_OK(ioctl(fd, TUNSETCARRIER, &v));
	EXPECT_EQ(kt_carrier(name), 0);
	v = 1;
	ASSERT_OK(ioctl(fd, TUNSETCARRIER, &v));
	EXPECT_EQ(kt_carrier(name), 1);
	v = 0;
	ASSERT_OK(ioctl(fd, TUNSETCARRIER, &v));
	v = 7;		/* any non-zero value is on */
	ASSERT_OK(ioctl(fd, TUNSETCARRIER, &v));
	EXPECT_EQ(kt_carrier(name), 1);
	EXPECT_ERRNO(ioctl(fd, TUNSETCARRIER, bad_ptr()), EFAULT);
	EXPECT_EQ(kt_carrier(name), 1);
	close(fd);
}

TEST(no_carrier_flag)
{
	char name[IFNAMSIZ], buf[2048];
	struct kt_pkt p;
	int fd = kt_attach(kt_ifname(name, "m"), IFF_TUN | IFF_NO_PI | IFF_NO_CARRIER, NULL);
	int v = 1, s;

	kt_dev_up(name, A4, NULL);
	EXPECT_EQ(kt_carrier(name), 0);
	ASSERT_OK(ioctl(fd, TUNSETCARRIER, &v));
	EXPECT_EQ(kt_carrier(name), 1);
	/*
	 * And then it carries traffic, once linkwatch has noticed the carrier
	 * and swapped the noop qdisc for a real one (deferred work): until
	 * then datagrams are dropped before the driver, so send until one
	 * comes through; the hang guard bounds it.
	 */
	s = kt_udp_bind(LOCAL4, 0);
	for (;;) {
		ssize_t n;

		kt_udp_send(s, PEER4, 7100, "carrier", 7);
		n = kt_read_wait(fd, buf, sizeof(buf), 100);
		if (n < 0 && errno == ETIMEDOUT)
			continue;
		ASSERT_GT(n, 0);
		if (!kt_parse(buf, n, KT_RAW, &p) && p.proto == IPPROTO_UDP && p.dport == 7100)
			break;
	}
	EXPECT_EQ(p.dlen, 7);
	close(s);
	close(fd);
}

/* ---- namespaces ---- */

TEST(devnetns_and_skns)
{
	char name[IFNAMSIZ], ns[32], path[64];
	struct stat st;
	int fd = kt_open_node(0), nsfd;

	/* SIOCGSKNS needs no attachment: it is the fd's own namespace */
	nsfd = ioctl(fd, SIOCGSKNS, 0UL);
	ASSERT_OK(nsfd);
	EXPECT_EQ(ns_ino(nsfd), ns_ino(-1));
	close(nsfd);
	EXPECT_ERRNO(ioctl(fd, TUNGETDEVNETNS, 0UL), EBADFD);

	ASSERT_OK(kt_setiff(fd, kt_ifname(name, "s"), IFF_TUN | IFF_NO_PI, NULL));
	nsfd = ioctl(fd, TUNGETDEVNETNS, 0UL);
	ASSERT_OK(nsfd);
	EXPECT_EQ(ns_ino(nsfd), ns_ino(-1));
	close(nsfd);

	/* the device moves; the fd's namespace stays */
	snprintf(ns, sizeof(ns), "kt%dns", kt_test_pid % 100000);
	RUN("ip netns add %s", ns);
	if (ktun_sh("ip link set dev %s netns %s", name, ns)) {
		ktun_sh("ip netns del %s", ns);
		FAIL("moving %s to netns %s", name, ns);
	}
	EXPECT_FALSE(kt_exists(name));
	snprintf(path, sizeof(path), "/run/netns/%s", ns);
	ASSERT_OK(stat(path, &st));
	nsfd = ioctl(fd, TUNGETDEVNETNS, 0UL);
	EXPECT_OK(nsfd);
	if (nsfd >= 0) {
		EXPECT_EQ(ns_ino(nsfd), st.st_ino);
		close(nsfd);
	}
	nsfd = ioctl(fd, SIOCGSKNS, 0UL);
	EXPECT_OK(nsfd);
	if (nsfd >= 0) {
		EXPECT_EQ(ns_ino(nsfd), ns_ino(-1));
		close(nsfd);
	}
	/* the last close deletes it there */
	close(fd);
	EXPECT_NE(ktun_sh("ip -n %s link show dev %s >/dev/null 2>&1", ns, name), 0);
	RUN("ip netns del %s", ns);
}

/* ---- accepted and ignored ---- */

TEST(debug_nocsum_accepted)
{
	char name[IFNAMSIZ];
	int fd = kt_attach(kt_ifname(name, "x"), IFF_TAP | IFF_NO_PI, NULL);

	EXPECT_OK(ioctl(fd, TUNSETDEBUG, 1UL));
	EXPECT_OK(ioctl(fd, TUNSETDEBUG, 0UL));
	EXPECT_OK(ioctl(fd, TUNSETNOCSUM, 1UL));
	EXPECT_OK(ioctl(fd, TUNSETNOCSUM, 0UL));
	close(fd);
}

/* ---- sndbuf ---- */

TEST(sndbuf)
{
	char name[IFNAMSIZ];
	int fd = kt_attach(kt_ifname(name, "b"), IFF_TUN | IFF_NO_PI, NULL), v = 0, bad;

	ASSERT_OK(ioctl(fd, TUNGETSNDBUF, &v));
	EXPECT_EQ(v, 0x7fffffff);
	v = 65536;
	ASSERT_OK(ioctl(fd, TUNSETSNDBUF, &v));
	v = 0;
	ASSERT_OK(ioctl(fd, TUNGETSNDBUF, &v));
	EXPECT_EQ(v, 65536);
	bad = 0;
	EXPECT_ERRNO(ioctl(fd, TUNSETSNDBUF, &bad), EINVAL);
	bad = -1;
	EXPECT_ERRNO(ioctl(fd, TUNSETSNDBUF, &bad), EINVAL);
	bad = (int)0x80000000;
	EXPECT_ERRNO(ioctl(fd, TUNSETSNDBUF, &bad), EINVAL);
	EXPECT_ERRNO(ioctl(fd, TUNSETSNDBUF, bad_ptr()), EFAULT);
	EXPECT_ERRNO(ioctl(fd, TUNGETSNDBUF, bad_ptr()), EFAULT);
	v = 0;
	ASSERT_OK(ioctl(fd, TUNGETSNDBUF, &v));
	EXPECT_EQ(v, 65536);
	v = 1;
	ASSERT_OK(ioctl(fd, TUNSETSNDBUF, &v));
	ASSERT_OK(ioctl(fd, TUNGETSNDBUF, &v));
	EXPECT_EQ(v, 1);
	close(fd);
}

/* ---- hardware address through the fd ---- */

static void hwaddr_get(int fd, struct ifreq *ifr)
{
	memset(ifr, 0, sizeof(*ifr));
	ASSERT_OK(ioctl(fd, SIOCGIFHWADDR, ifr));
}

TEST(hwaddr_tap)
{
	static const uint8_t mac[6] = { 0x02, 0x11, 0x22, 0x33, 0x44, 0x55 };
	static const uint8_t mcast[6] = { 0x01, 0x00, 0x5e, 0x00, 0x00, 0x01 };
	char name[IFNAMSIZ];
	uint8_t sys[6];
	struct ifreq ifr;
	int fd = kt_attach(kt_ifname(name, "h"), IFF_TAP | IFF_NO_PI, NULL);

	hwaddr_get(fd, &ifr);
	kt_mac(name, sys);
	EXPECT_EQ(ifr.ifr_hwaddr.sa_family, 1);	/* ARPHRD_ETHER */
	EXPECT_EQ(memcmp(ifr.ifr_hwaddr.sa_data, sys, 6), 0);

	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_hwaddr.sa_family = 1;
	memcpy(ifr.ifr_hwaddr.sa_data, mac, 6);
	ASSERT_OK(ioctl(fd, SIOCSIFHWADDR, &ifr));
	kt_mac(name, sys);
	EXPECT_EQ(memcmp(sys, mac, 6), 0);
	hwaddr_get(fd, &ifr);
	EXPECT_EQ(memcmp(ifr.ifr_hwaddr.sa_data, mac, 6), 0);

	/* no multicast station address, no other family */
	memcpy(ifr.ifr_hwaddr.sa_data, mcast, 6);
	ifr.ifr_hwaddr.sa_family = 1;
	EXPECT_ERRNO(ioctl(fd, SIOCSIFHWADDR, &ifr), EADDRNOTAVAIL);
	memcpy(ifr.ifr_hwaddr.sa_data, mac, 6);
	ifr.ifr_hwaddr.sa_data[5] = 0x66;
	ifr.ifr_hwaddr.sa_family = AF_INET;
	EXPECT_ERRNO(ioctl(fd, SIOCSIFHWADDR, &ifr), EINVAL);
	kt_mac(name, sys);
	EXPECT_EQ(memcmp(sys, mac, 6), 0);

	EXPECT_ERRNO(ioctl(fd, SIOCGIFHWADDR, bad_ptr()), EFAULT);
	EXPECT_ERRNO(ioctl(fd, SIOCSIFHWADDR, bad_ptr()), EFAULT);

	/* and while up, too (IFF_LIVE_ADDR_CHANGE) */
	kt_dev_up(name, NULL, NULL);
	ifr.ifr_hwaddr.sa_family = 1;
	ASSERT_OK(ioctl(fd, SIOCSIFHWADDR, &ifr));
	kt_mac(name, sys);
	EXPECT_EQ(sys[5], 0x66);
	close(fd);
}

TEST(hwaddr_tun)
{
	static const uint8_t zero[6];
	char name[IFNAMSIZ];
	struct ifreq ifr;
	int fd = kt_attach(kt_ifname(name, "h"), IFF_TUN | IFF_NO_PI, NULL);

	hwaddr_get(fd, &ifr);
	EXPECT_EQ(ifr.ifr_hwaddr.sa_family, 0xfffe);	/* ARPHRD_NONE */
	EXPECT_EQ(memcmp(ifr.ifr_hwaddr.sa_data, zero, 6), 0);
	/* a TUN device has no address to set */
	ifr.ifr_hwaddr.sa_family = 0xfffe;
	ifr.ifr_hwaddr.sa_data[0] = 2;
	EXPECT_ERRNO(ioctl(fd, SIOCSIFHWADDR, &ifr), EOPNOTSUPP);
	close(fd);
}

/* ---- IFF_NAPI, IFF_NAPI_FRAGS ---- */

/* One datagram each way through @fd (device up with A4). */
static void traffic_both_ways(const char *name, int fd, int flags)
{
	int l2 = kt_l2_of(flags), s = kt_udp_bind(LOCAL4, 7200);
	uint8_t buf[2048], mac[6] = { 0 };
	struct kt_pkt p;
	size_t n;

	if (l2 >= KT_ETH) {
		kt_mac(name, mac);
		RUN("ip neigh replace %s lladdr 02:6b:74:00:00:02 dev %s nud permanent",
		    PEER4, name);
	}
	kt_udp_send(s, PEER4, 7201, "out", 3);
	kt_read_udp(fd, l2, 7201, buf, sizeof(buf), &p);
	EXPECT_EQ(p.dlen, 3);
	n = kt_build_udp(buf, l2, mac, peer_mac, PEER4, 7201, LOCAL4, 7200, "in!!", 4);
	EXPECT_EQ(write(fd, buf, n), n);
	EXPECT_EQ(kt_recv_wait(s, buf, sizeof(buf)), 4);
	close(s);
}

TEST(napi_traffic)
{
	static const int flags[] = {
		IFF_TUN | IFF_NO_PI | IFF_NAPI, IFF_TAP | IFF_NO_PI | IFF_NAPI,
		IFF_TAP | IFF_NAPI, IFF_TAP | IFF_NO_PI | IFF_NAPI | IFF_NAPI_FRAGS,
	};
	char name[IFNAMSIZ];
	struct ifreq ifr;
	unsigned int i;
	int fd;

	for (i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
		fd = kt_attach(kt_ifname(name, "z"), flags[i], NULL);
		ASSERT_OK(getiff(fd, &ifr));
		EXPECT_EQ(ifr.ifr_flags & (IFF_NAPI | IFF_NAPI_FRAGS),
			  flags[i] & (IFF_NAPI | IFF_NAPI_FRAGS));
		kt_dev_up(name, A4, NULL);
		traffic_both_ways(name, fd, flags[i]);
		close(fd);
	}
}

TEST(napi_frags_needs_napi_and_tap)
{
	char name[IFNAMSIZ];
	int fd = kt_open_node(0);

	kt_ifname(name, "y");
	EXPECT_ERRNO(kt_setiff(fd, name, IFF_TAP | IFF_NO_PI | IFF_NAPI_FRAGS, NULL), EINVAL);
	EXPECT_ERRNO(kt_setiff(fd, name, IFF_TUN | IFF_NO_PI | IFF_NAPI | IFF_NAPI_FRAGS, NULL),
		     EINVAL);
	EXPECT_ERRNO(kt_setiff(fd, name, IFF_TUN | IFF_NAPI_FRAGS, NULL), EINVAL);
	EXPECT_FALSE(kt_exists(name));
	EXPECT_OK(kt_setiff(fd, name, IFF_TAP | IFF_NAPI | IFF_NAPI_FRAGS, NULL));
	close(fd);
}

/* ---- bad pointers everywhere ---- */

TEST(efault_unattached)
{
	int fd = kt_open_node(0);

	EXPECT_ERRNO(ioctl(fd, TUNSETIFF, bad_ptr()), EFAULT);
	EXPECT_ERRNO(ioctl(fd, TUNSETIFF, NULL), EFAULT);
	EXPECT_ERRNO(ioctl(fd, TUNSETQUEUE, bad_ptr()), EFAULT);
	EXPECT_ERRNO(ioctl(fd, TUNSETIFINDEX, bad_ptr()), EFAULT);
	EXPECT_ERRNO(ioctl(fd, TUNGETFEATURES, NULL), EFAULT);
	/* still unattached and usable */
	EXPECT_OK(kt_setiff(fd, NULL, IFF_TUN | IFF_NO_PI, NULL));
	close(fd);
}

TEST(efault_attached)
{
	static const unsigned long cmds[] = {
		TUNGETIFF, TUNSETQUEUE, TUNGETSNDBUF, TUNSETSNDBUF,
		TUNGETVNETHDRSZ, TUNSETVNETHDRSZ, TUNGETVNETLE, TUNSETVNETLE,
		TUNSETTXFILTER, TUNATTACHFILTER, TUNGETFILTER, TUNSETCARRIER,
		SIOCGIFHWADDR, SIOCSIFHWADDR, TUNGETFEATURES,
	};
	char name[IFNAMSIZ];
	struct ifreq ifr;
	unsigned int i;
	int fd = kt_attach(kt_ifname(name, "e"), IFF_TAP | IFF_NO_PI, NULL);

	kt_dev_up(name, NULL, NULL);
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		errno = 0;
		if (ioctl(fd, cmds[i], bad_ptr()) != -1 || errno != EFAULT)
			FAIL_CHECK("ioctl 0x%lx with a bad pointer: %s, expected EFAULT",
				   cmds[i], errno ? kt_errname(errno) : "accepted");
	}
	/* nothing changed */
	ASSERT_OK(getiff(fd, &ifr));
	EXPECT_STREQ(ifr.ifr_name, name);
	EXPECT_EQ(kt_carrier(name), 1);
	close(fd);
}

/* Not in this kernel's build of stock (CONFIG_TUN_VNET_CROSS_LE=n): EINVAL. */
TEST(vnet_be_einval)
{
	char name[IFNAMSIZ];
	int fd = kt_attach(kt_ifname(name, "v"), IFF_TAP | IFF_VNET_HDR, NULL), v = 1;

	EXPECT_ERRNO(ioctl(fd, TUNSETVNETBE, &v), EINVAL);
	EXPECT_ERRNO(ioctl(fd, TUNGETVNETBE, &v), EINVAL);
	EXPECT_ERRNO(ioctl(fd, TUNSETVNETBE, bad_ptr()), EINVAL);
	close(fd);
}

/* An ifindex in use: the creation fails, nothing is left, the fd is usable. */
TEST(setifindex_taken_ebusy)
{
	char name[IFNAMSIZ];
	int fd = kt_open_node(0), idx = 1;	/* lo's */

	ASSERT_OK(ioctl(fd, TUNSETIFINDEX, &idx));
	EXPECT_ERRNO(kt_setiff(fd, kt_ifname(name, "t"), IFF_TUN | IFF_NO_PI, NULL), EBUSY);
	EXPECT_FALSE(kt_exists(name));
	EXPECT_ERRNO(ioctl(fd, TUNGETIFF, &(struct ifreq){ 0 }), EBADFD);
	idx = 0;
	ASSERT_OK(ioctl(fd, TUNSETIFINDEX, &idx));
	EXPECT_OK(kt_setiff(fd, name, IFF_TUN | IFF_NO_PI, NULL));
	EXPECT_TRUE(kt_exists(name));
	close(fd);
}

/*
 * eBPF steering and filter programs (TUNSETSTEERINGEBPF, TUNSETFILTEREBPF):
 * a program fd, or -1 for none; an fd that is no BPF program is EINVAL.
 * Real programs are tested in ebpf.c.
 */
TEST(ebpf_programs)
{
	static const unsigned long cmds[] = { TUNSETSTEERINGEBPF, TUNSETFILTEREBPF };
	char name[IFNAMSIZ];
	int fd = kt_attach(kt_ifname(name, "b"), IFF_TAP | IFF_NO_PI, NULL), none = -1, notbpf;
	unsigned int i;

	notbpf = fd;
	for (i = 0; i < 2; i++) {
		EXPECT_OK(ioctl(fd, cmds[i], &none));
		EXPECT_ERRNO(ioctl(fd, cmds[i], &notbpf), EINVAL);
		EXPECT_ERRNO(ioctl(fd, cmds[i], bad_ptr()), EFAULT);
	}
	close(fd);
}
