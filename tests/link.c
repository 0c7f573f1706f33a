// SPDX-License-Identifier: GPL-2.0
/* Copyright (C) 2026 The ktun authors. */
/*
 * Devices made over rtnetlink ("ip link add NAME type ktun", beyond the
 * stock driver, which refuses it): each IFLA_TUN_* attribute, attaching
 * with TUNSETIFF afterwards and the owner/group rule doing so, who may
 * create, delete, moves between namespaces, the module reference a
 * persistent device holds, and attributes the kernel must refuse.
 *
 *   rtnetlink RTM_NEWLINK kind ktun --> dev (persistent, no file)
 *   app: open node, TUNSETIFF NAME  --> attached as to any persistent device
 *
 * Unprivileged callers are forked children that drop to uid/gid 65534.
 * Against the stock driver only the refusal is checked.
 */

#include <grp.h>
#include <sched.h>
#include <libmnl/libmnl.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>

#include "net.h"

#define NOBODY	65534
#define GROUP_X	4242

/* Creates @name with @cfg; must succeed, and is deleted after the test. */
static void link_add(const char *name, const struct ktun_link_config *cfg)
{
	char msg[256];
	int ret = ktun_link_add(name, cfg, msg, sizeof(msg));

	if (ret)
		FAIL("ip link add %s type %s: %s (%s)", name, ktun_link_kind(),
		     kt_errname(-ret), msg);
	kt_cleanup_dev(name);
}

static struct ktun_link_info info_of(const char *name)
{
	struct ktun_link_info li;
	int ret = ktun_link_info(name, &li);

	if (ret)
		FAIL("link info of %s: %s", name, kt_errname(-ret));
	return li;
}

static unsigned int tun_flags(const char *name)
{
	return kt_sysfs(name, "tun_flags");
}

/* The module's reference count: persistent devices each hold one. */
static long module_refs(void)
{
	unsigned long long v = 0;
	char path[] = "/sys/module/ktun/refcnt";
	FILE *f = fopen(path, "r");

	if (!f)
		return -1;
	if (fscanf(f, "%llu", &v) != 1)
		v = 0;
	fclose(f);
	return v;
}

static void skip_on_stock(void)
{
	if (kt_stock())
		SKIP("the stock driver makes no devices over rtnetlink");
}

/* ---- what the stock driver does ---- */

TEST(stock_refuses)
{
	struct ktun_link_config cfg;
	char name[IFNAMSIZ];

	if (!kt_stock())
		SKIP("for the stock driver");
	ktun_link_config_init(&cfg);
	EXPECT_EQ(ktun_link_add(kt_ifname(name, "s"), &cfg, NULL, 0), -EOPNOTSUPP);
	EXPECT_FALSE(kt_exists(name));
}

/* ---- creating, and what each attribute selects ---- */

TEST(add_tun_default)
{
	struct ktun_link_config cfg;
	struct ktun_link_info li;
	char name[IFNAMSIZ];

	skip_on_stock();
	ktun_link_config_init(&cfg);
	link_add(kt_ifname(name, "t"), &cfg);
	li = info_of(name);
	EXPECT_STREQ(li.kind, ktun_link_kind());
	EXPECT_EQ(li.type, IFF_TUN);
	EXPECT_EQ(li.pi, 0);
	EXPECT_EQ(li.vnet_hdr, 0);
	EXPECT_EQ(li.persist, 1);
	EXPECT_EQ(li.multi_queue, 0);
	EXPECT_EQ(li.owner, -1);
	EXPECT_EQ(li.group, -1);
	EXPECT_EQ(li.maxqueues, 1);
	EXPECT_EQ(tun_flags(name), IFF_TUN | IFF_NO_PI | IFF_PERSIST);
	EXPECT_EQ(kt_sysfs(name, "mtu"), 1500);
	EXPECT_EQ(kt_sysfs(name, "type"), 65534);	/* ARPHRD_NONE */
	/* nobody attached: no carrier once up */
	kt_up(name);
	EXPECT_EQ(kt_carrier(name), 0);
}

TEST(add_tap_pi_vnet)
{
	struct ktun_link_config cfg;
	struct ktun_link_info li;
	char name[IFNAMSIZ];

	skip_on_stock();
	ktun_link_config_init(&cfg);
	cfg.type = IFF_TAP;
	cfg.pi = 1;
	cfg.vnet_hdr = 1;
	link_add(kt_ifname(name, "a"), &cfg);
	li = info_of(name);
	EXPECT_EQ(li.type, IFF_TAP);
	EXPECT_EQ(li.pi, 1);
	EXPECT_EQ(li.vnet_hdr, 1);
	EXPECT_EQ(li.persist, 1);
	EXPECT_EQ(tun_flags(name), IFF_TAP | IFF_VNET_HDR | IFF_PERSIST);
	EXPECT_EQ(kt_sysfs(name, "type"), 1);		/* ARPHRD_ETHER */
	EXPECT_EQ(kt_sysfs(name, "tx_queue_len"), 1000);
}

/* Unnamed, a device is called as TUNSETIFF would call it. */
static int find_new(const struct ktun_link_info *li, void *arg)
{
	char *out = arg;

	if (!strncmp(li->name, "tap", 3) && li->type == IFF_TAP && !kt_exists(out)) {
		snprintf(out, IFNAMSIZ, "%s", li->name);
		return 1;
	}
	return 0;
}

TEST(add_unnamed_tap)
{
	struct ktun_link_config cfg;
	char name[IFNAMSIZ] = "";
	int before, ret;

	skip_on_stock();
	ktun_link_config_init(&cfg);
	cfg.type = IFF_TAP;
	/* Only this test makes tap%d devices; take note of any already there. */
	before = ktun_link_list(NULL, find_new, name);
	ASSERT_EQ(before, 0);
	ret = ktun_link_add(NULL, &cfg, NULL, 0);
	ASSERT_OK(ret);
	ASSERT_EQ(ktun_link_list(NULL, find_new, name), 1);
	kt_cleanup_dev(name);
	EXPECT_EQ(info_of(name).type, IFF_TAP);
	EXPECT_OK(ktun_link_del(name));
}

TEST(add_existing_eexist)
{
	struct ktun_link_config cfg;
	char name[IFNAMSIZ];

	skip_on_stock();
	ktun_link_config_init(&cfg);
	link_add(kt_ifname(name, "e"), &cfg);
	EXPECT_EQ(ktun_link_add(name, &cfg, NULL, 0), -EEXIST);
	/* a device made by TUNSETIFF is found the same way */
	EXPECT_EQ(ktun_link_add("lo", &cfg, NULL, 0), -EEXIST);
}

/* ---- attaching afterwards ---- */

TEST(attach_after_create)
{
	struct ktun_link_config cfg;
	char name[IFNAMSIZ], pkt[64], buf[256];
	struct in_addr src, dst;
	struct ifreq ifr;
	struct kt_pkt p;
	int fd, s;

	skip_on_stock();
	ktun_link_config_init(&cfg);
	link_add(kt_ifname(name, "c"), &cfg);
	fd = kt_attach(name, IFF_TUN | IFF_NO_PI, NULL);
	memset(&ifr, 0, sizeof(ifr));
	ASSERT_OK(ioctl(fd, TUNGETIFF, &ifr));
	EXPECT_STREQ(ifr.ifr_name, name);
	EXPECT_EQ(ifr.ifr_flags & (IFF_TUN | IFF_NO_PI | IFF_PERSIST),
		  IFF_TUN | IFF_NO_PI | IFF_PERSIST);
	kt_dev_up(name, "10.73.0.1/24", NULL);
	EXPECT_EQ(kt_carrier(name), 1);
	/* traffic flows: a packet from the stack reaches the reader */
	s = kt_udp_bind("10.73.0.1", 0);
	kt_udp_send(s, "10.73.0.2", 7007, "hello", 5);
	EXPECT_EQ(kt_read_udp(fd, 0, 7007, buf, sizeof(buf), &p), 33);
	close(s);
	/* and one written reaches the stack */
	inet_pton(AF_INET, "10.73.0.2", &src);
	inet_pton(AF_INET, "10.73.0.1", &dst);
	EXPECT_EQ(write(fd, pkt, ktun_udp4(pkt, src, dst, 9, 9, "x", 1)), 29);
	EXPECT_EQ(kt_stat(name, "rx_packets"), 1);
	close(fd);
	/* persistent: still there, carrier gone */
	EXPECT_TRUE(kt_exists(name));
	EXPECT_EQ(kt_carrier(name), 0);
	/* and the attacher's flags took over, as on any persistent device */
	fd = kt_attach(name, IFF_TUN | IFF_VNET_HDR, NULL);
	EXPECT_EQ(tun_flags(name), IFF_TUN | IFF_VNET_HDR | IFF_PERSIST);
	close(fd);
}

TEST(attach_wrong_type_or_mq_einval)
{
	struct ktun_link_config cfg;
	char name[IFNAMSIZ];
	int fd = kt_open_node(0);

	skip_on_stock();
	ktun_link_config_init(&cfg);
	cfg.type = IFF_TAP;
	link_add(kt_ifname(name, "w"), &cfg);
	EXPECT_ERRNO(kt_setiff(fd, name, IFF_TUN | IFF_NO_PI, NULL), EINVAL);
	EXPECT_ERRNO(kt_setiff(fd, name, IFF_TAP | IFF_NO_PI | IFF_MULTI_QUEUE, NULL), EINVAL);
	EXPECT_ERRNO(kt_setiff(fd, name, IFF_TAP | IFF_NO_PI | IFF_TUN_EXCL, NULL), EBUSY);
	EXPECT_OK(kt_setiff(fd, name, IFF_TAP | IFF_NO_PI, NULL));
	close(fd);
}

TEST(add_multi_queue)
{
	struct ktun_link_config cfg;
	struct ktun_link_info li;
	char name[IFNAMSIZ];
	int fd[3], i;

	skip_on_stock();
	ktun_link_config_init(&cfg);
	cfg.multi_queue = 1;
	link_add(kt_ifname(name, "m"), &cfg);
	li = info_of(name);
	EXPECT_EQ(li.multi_queue, 1);
	EXPECT_EQ(li.numqueues, 0);
	EXPECT_EQ(li.numdisabled, 0);
	EXPECT_EQ(li.maxqueues, 256);
	EXPECT_EQ(tun_flags(name), IFF_TUN | IFF_NO_PI | IFF_MULTI_QUEUE | IFF_PERSIST);
	for (i = 0; i < 3; i++)
		fd[i] = kt_attach(name, IFF_TUN | IFF_NO_PI | IFF_MULTI_QUEUE, NULL);
	EXPECT_EQ(info_of(name).numqueues, 3);
	EXPECT_EQ(kt_sysfs(name, "queues/tx-2/tx_maxrate"), 0);
	for (i = 0; i < 3; i++)
		close(fd[i]);
	EXPECT_EQ(info_of(name).numqueues, 0);
	EXPECT_TRUE(kt_exists(name));
}

/* numtxqueues/numrxqueues bound how many files may attach. */
TEST(queues_bounded)
{
	struct ktun_link_config cfg;
	char name[IFNAMSIZ];
	int a, b, c;

	skip_on_stock();
	ktun_link_config_init(&cfg);
	cfg.multi_queue = 1;
	cfg.queues = 2;
	link_add(kt_ifname(name, "q"), &cfg);
	EXPECT_EQ(info_of(name).maxqueues, 2);
	a = kt_attach(name, IFF_TUN | IFF_NO_PI | IFF_MULTI_QUEUE, NULL);
	b = kt_attach(name, IFF_TUN | IFF_NO_PI | IFF_MULTI_QUEUE, NULL);
	c = kt_open_node(0);
	EXPECT_ERRNO(kt_setiff(c, name, IFF_TUN | IFF_NO_PI | IFF_MULTI_QUEUE, NULL), E2BIG);
	close(a);
	EXPECT_OK(kt_setiff(c, name, IFF_TUN | IFF_NO_PI | IFF_MULTI_QUEUE, NULL));
	close(b);
	close(c);
}

/* ---- owner, group and who may do what ---- */

static void drop_privileges(gid_t extra)
{
	if (setgroups(extra ? 1 : 0, &extra) ||
	    setresgid(NOBODY, NOBODY, NOBODY) ||
	    setresuid(NOBODY, NOBODY, NOBODY))
		FAIL("dropping privileges: %s", kt_errname(errno));
}

/* A child, as nobody with @extra, tries TUNSETIFF on @name through @fd. */
static void unpriv_attach(int fd, const char *name, gid_t extra, int want_errno)
{
	pid_t pid = fork();
	int st;

	ASSERT_OK(pid);
	if (!pid) {
		drop_privileges(extra);
		if (want_errno)
			EXPECT_ERRNO(kt_setiff(fd, name, IFF_TUN | IFF_NO_PI, NULL), want_errno);
		else
			EXPECT_OK(kt_setiff(fd, name, IFF_TUN | IFF_NO_PI, NULL));
		_exit(0);
	}
	ASSERT_EQ(waitpid(pid, &st, 0), pid);
	EXPECT_TRUE(WIFEXITED(st) && !WEXITSTATUS(st));
}

TEST(owner_group)
{
	struct ktun_link_config cfg;
	struct ktun_link_info li;
	char name[IFNAMSIZ];
	int fd;

	skip_on_stock();
	ktun_link_config_init(&cfg);
	cfg.owner = NOBODY;
	cfg.group = GROUP_X;
	link_add(kt_ifname(name, "o"), &cfg);
	li = info_of(name);
	EXPECT_EQ(li.owner, NOBODY);
	EXPECT_EQ(li.group, GROUP_X);
	EXPECT_EQ(kt_sysfs(name, "owner"), NOBODY);
	EXPECT_EQ(kt_sysfs(name, "group"), GROUP_X);
	/* the stock rule: a set owner and a set group must both match */
	fd = kt_open_node(0);
	unpriv_attach(fd, name, 0, EPERM);
	unpriv_attach(fd, name, GROUP_X, 0);
	close(fd);
}

TEST(other_owner_eperm)
{
	struct ktun_link_config cfg;
	char name[IFNAMSIZ];
	int fd;

	skip_on_stock();
	ktun_link_config_init(&cfg);
	cfg.owner = 1234;
	link_add(kt_ifname(name, "p"), &cfg);
	fd = kt_open_node(0);
	unpriv_attach(fd, name, GROUP_X, EPERM);
	close(fd);
	/* root (CAP_NET_ADMIN) may always */
	close(kt_attach(name, IFF_TUN | IFF_NO_PI, NULL));
}

TEST(unpriv_create_and_delete_eperm)
{
	struct ktun_link_config cfg;
	char name[IFNAMSIZ], other[IFNAMSIZ];
	pid_t pid;
	int st;

	skip_on_stock();
	ktun_link_config_init(&cfg);
	cfg.owner = NOBODY;
	link_add(kt_ifname(name, "u"), &cfg);
	kt_ifname(other, "v");
	pid = fork();
	ASSERT_OK(pid);
	if (!pid) {
		drop_privileges(0);
		EXPECT_EQ(ktun_link_add(other, &cfg, NULL, 0), -EPERM);
		/* owning a device is no licence to delete it */
		EXPECT_EQ(ktun_link_del(name), -EPERM);
		_exit(0);
	}
	ASSERT_EQ(waitpid(pid, &st, 0), pid);
	EXPECT_TRUE(WIFEXITED(st) && !WEXITSTATUS(st));
	EXPECT_FALSE(kt_exists(other));
	EXPECT_TRUE(kt_exists(name));
}

/* ---- delete, the module reference, namespaces ---- */

TEST(delete_drops_module_ref)
{
	struct ktun_link_config cfg;
	char name[IFNAMSIZ];
	long refs;
	int fd;

	skip_on_stock();
	refs = module_refs();
	if (refs < 0)
		SKIP("no /sys/module/ktun/refcnt");
	ktun_link_config_init(&cfg);
	link_add(kt_ifname(name, "d"), &cfg);
	EXPECT_EQ(module_refs(), refs + 1);
	/* TUNSETPERSIST 0 and 1 move the same reference */
	fd = kt_attach(name, IFF_TUN | IFF_NO_PI, NULL);
	kt_set_persist(fd, 0);
	kt_set_persist(fd, 1);
	close(fd);
	EXPECT_EQ(module_refs(), refs + 1);
	EXPECT_OK(ktun_link_del(name));
	EXPECT_FALSE(kt_exists(name));
	EXPECT_EQ(module_refs(), refs);
	EXPECT_EQ(ktun_link_del(name), -ENODEV);
}

/* Deleted while a file is attached: the file sees EBADFD, as with ioctl-made devices. */
TEST(delete_while_attached)
{
	struct ktun_link_config cfg;
	char name[IFNAMSIZ], buf[64];
	int fd;

	skip_on_stock();
	ktun_link_config_init(&cfg);
	link_add(kt_ifname(name, "x"), &cfg);
	fd = kt_attach(name, IFF_TUN | IFF_NO_PI, NULL);
	EXPECT_OK(ktun_link_del(name));
	EXPECT_FALSE(kt_exists(name));
	EXPECT_ERRNO(read(fd, buf, sizeof(buf)), EBADFD);
	close(fd);
}

/* Unshares a new network namespace and returns an fd to it; stays in ours. */
static int new_netns(void)
{
	int self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC), ns;

	ASSERT_OK(self);
	ASSERT_OK(unshare(CLONE_NEWNET));
	ns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	ASSERT_OK(ns);
	ASSERT_OK(setns(self, CLONE_NEWNET));
	close(self);
	return ns;
}

/* @fn runs in the namespace of @ns, in a child. */
static void in_netns(int ns, void (*fn)(const char *name), const char *name)
{
	pid_t pid = fork();
	int st;

	ASSERT_OK(pid);
	if (!pid) {
		if (setns(ns, CLONE_NEWNET))
			FAIL("setns: %s", kt_errname(errno));
		fn(name);
		_exit(0);
	}
	ASSERT_EQ(waitpid(pid, &st, 0), pid);
	EXPECT_TRUE(WIFEXITED(st) && !WEXITSTATUS(st));
}

/* In the other namespace: the device is there, persistent, usable, deletable. */
static void use_there(const char *name)
{
	struct ktun_link_info li;
	int fd;

	EXPECT_OK(ktun_link_info(name, &li));
	EXPECT_EQ(li.persist, 1);
	EXPECT_STREQ(li.kind, ktun_link_kind());
	fd = ktun_open(name, IFF_TUN | IFF_NO_PI, NULL);
	EXPECT_GE(fd, 0);
	if (fd >= 0)
		close(fd);
	EXPECT_OK(ktun_link_del(name));
	EXPECT_FALSE(kt_exists(name));
}

TEST(netns_move)
{
	struct ktun_link_config cfg;
	char name[IFNAMSIZ];
	int ns;

	skip_on_stock();
	ns = new_netns();
	ktun_link_config_init(&cfg);
	link_add(kt_ifname(name, "n"), &cfg);
	EXPECT_OK(ktun_link_set_netns(name, ns));
	EXPECT_FALSE(kt_exists(name));
	in_netns(ns, use_there, name);
	close(ns);
}

TEST(netns_create_there)
{
	struct ktun_link_config cfg;
	char name[IFNAMSIZ];
	int ns;

	skip_on_stock();
	ns = new_netns();
	ktun_link_config_init(&cfg);
	cfg.netns_fd = ns;
	ASSERT_OK(ktun_link_add(kt_ifname(name, "h"), &cfg, NULL, 0));
	EXPECT_FALSE(kt_exists(name));
	in_netns(ns, use_there, name);
	close(ns);
}

/* A namespace that goes away takes its persistent devices, and their references. */
TEST(netns_exit_deletes)
{
	struct ktun_link_config cfg;
	char name[IFNAMSIZ];
	long refs;
	int ns, i;

	skip_on_stock();
	refs = module_refs();
	if (refs < 0)
		SKIP("no /sys/module/ktun/refcnt");
	ns = new_netns();
	ktun_link_config_init(&cfg);
	cfg.netns_fd = ns;
	ASSERT_OK(ktun_link_add(kt_ifname(name, "z"), &cfg, NULL, 0));
	EXPECT_EQ(module_refs(), refs + 1);
	close(ns);
	/* namespace cleanup runs from a workqueue */
	for (i = 0; i < 100 && module_refs() != refs; i++)
		usleep(100 * 1000);
	EXPECT_EQ(module_refs(), refs);
}

/* ---- what the kernel refuses ---- */

/*
 * RTM_NEWLINK for @name of our kind with raw IFLA_INFO_DATA: @add puts the
 * attributes. Returns the errno and the extack message in @msg.
 */
static int raw_add(const char *name, void (*add)(struct nlmsghdr *nlh),
		   uint32_t numtxq, char *msg, size_t msglen)
{
	char buf[1024];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifinfomsg *ifm;
	struct nlattr *info, *data;

	nlh->nlmsg_type = RTM_NEWLINK;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK;
	ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
	ifm->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	if (numtxq)
		mnl_attr_put_u32(nlh, IFLA_NUM_TX_QUEUES, numtxq);
	info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, ktun_link_kind());
	data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
	add(nlh);
	mnl_attr_nest_end(nlh, data);
	mnl_attr_nest_end(nlh, info);
	return ktun_rtnl(nlh, msg, msglen);
}

static void put_unknown(struct nlmsghdr *nlh) { mnl_attr_put_u8(nlh, IFLA_TUN_MAX + 7, 1); }
static void put_unspec(struct nlmsghdr *nlh) { mnl_attr_put_u8(nlh, IFLA_TUN_UNSPEC, 1); }
static void put_type3(struct nlmsghdr *nlh) { mnl_attr_put_u8(nlh, IFLA_TUN_TYPE, 3); }
static void put_type0(struct nlmsghdr *nlh) { mnl_attr_put_u8(nlh, IFLA_TUN_TYPE, 0); }
static void put_pi2(struct nlmsghdr *nlh) { mnl_attr_put_u8(nlh, IFLA_TUN_PI, 2); }
static void put_vnet9(struct nlmsghdr *nlh) { mnl_attr_put_u8(nlh, IFLA_TUN_VNET_HDR, 9); }
static void put_persist0(struct nlmsghdr *nlh) { mnl_attr_put_u8(nlh, IFLA_TUN_PERSIST, 0); }
static void put_numq(struct nlmsghdr *nlh) { mnl_attr_put_u32(nlh, IFLA_TUN_NUM_QUEUES, 4); }
static void put_numdis(struct nlmsghdr *nlh) { mnl_attr_put_u32(nlh, IFLA_TUN_NUM_DISABLED_QUEUES, 0); }
static void put_owner_short(struct nlmsghdr *nlh) { mnl_attr_put_u16(nlh, IFLA_TUN_OWNER, 1); }
static void put_owner_bad(struct nlmsghdr *nlh) { mnl_attr_put_u32(nlh, IFLA_TUN_OWNER, (uint32_t)-1); }
static void put_group_bad(struct nlmsghdr *nlh) { mnl_attr_put_u32(nlh, IFLA_TUN_GROUP, (uint32_t)-1); }
static void put_nothing(struct nlmsghdr *nlh) { (void)nlh; }
static void put_persist1_tap(struct nlmsghdr *nlh)
{
	mnl_attr_put_u8(nlh, IFLA_TUN_PERSIST, 1);
	mnl_attr_put_u8(nlh, IFLA_TUN_TYPE, IFF_TAP);
}

static void expect_refused(void (*add)(struct nlmsghdr *nlh), uint32_t numtxq,
			   const char *what, const char *want_msg)
{
	char name[IFNAMSIZ], msg[256];
	int ret = raw_add(kt_ifname(name, "b"), add, numtxq, msg, sizeof(msg));

	if (!ret) {
		kt_cleanup_dev(name);
		FAIL_CHECK("%s: accepted", what);
		return;
	}
	if (ret != -EINVAL && ret != -ERANGE)
		FAIL_CHECK("%s: %s, not EINVAL or ERANGE", what, kt_errname(-ret));
	if (want_msg && !strstr(msg, want_msg))
		FAIL_CHECK("%s: extack \"%s\", not \"%s\"", what, msg, want_msg);
	EXPECT_FALSE(kt_exists(name));
}

TEST(bad_attributes)
{
	skip_on_stock();
	expect_refused(put_unknown, 0, "unknown attribute", "unknown IFLA_TUN_* attribute");
	expect_refused(put_unspec, 0, "IFLA_TUN_UNSPEC", "unknown IFLA_TUN_* attribute");
	expect_refused(put_type3, 0, "TYPE 3", NULL);
	expect_refused(put_type0, 0, "TYPE 0", NULL);
	expect_refused(put_pi2, 0, "PI 2", NULL);
	expect_refused(put_vnet9, 0, "VNET_HDR 9", NULL);
	expect_refused(put_persist0, 0, "PERSIST 0", "persistent");
	expect_refused(put_numq, 0, "NUM_QUEUES", "number of queues");
	expect_refused(put_numdis, 0, "NUM_DISABLED_QUEUES", "disabled queues");
	expect_refused(put_owner_short, 0, "a 2-byte OWNER", NULL);
	expect_refused(put_owner_bad, 0, "OWNER -1", "owner");
	expect_refused(put_group_bad, 0, "GROUP -1", "group");
	expect_refused(put_nothing, 257, "numtxqueues 257", "at most 256 queues");
}

TEST(good_raw_attributes)
{
	char name[IFNAMSIZ], msg[256];

	skip_on_stock();
	ASSERT_OK(raw_add(kt_ifname(name, "g"), put_persist1_tap, 0, msg, sizeof(msg)));
	kt_cleanup_dev(name);
	EXPECT_EQ(info_of(name).type, IFF_TAP);
	EXPECT_EQ(info_of(name).pi, 0);
}

/* No changelink: IFLA_TUN_* on an existing device is refused, the device unchanged. */
static void put_owner_7(struct nlmsghdr *nlh) { mnl_attr_put_u32(nlh, IFLA_TUN_OWNER, 7); }

TEST(change_refused)
{
	struct ktun_link_config cfg;
	char name[IFNAMSIZ], buf[512];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifinfomsg *ifm;
	struct nlattr *info, *data;

	skip_on_stock();
	ktun_link_config_init(&cfg);
	link_add(kt_ifname(name, "k"), &cfg);
	nlh->nlmsg_type = RTM_NEWLINK;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
	ifm->ifi_family = AF_UNSPEC;
	ifm->ifi_index = if_nametoindex(name);
	info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, ktun_link_kind());
	data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
	put_owner_7(nlh);
	mnl_attr_nest_end(nlh, data);
	mnl_attr_nest_end(nlh, info);
	EXPECT_EQ(ktun_rtnl(nlh, NULL, 0), -EOPNOTSUPP);
	EXPECT_EQ(info_of(name).owner, -1);
}
