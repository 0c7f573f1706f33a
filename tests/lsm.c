// SPDX-License-Identifier: GPL-2.0
/* Copyright (C) 2026 The ktun authors. */
/*
 * The LSM hooks of a TUN/TAP driver (security_tun_dev_*): each is called
 * where stock calls it, so a security module's "no" stops the same
 * operations. Checked with the BPF LSM: a program on one hook refuses
 * (EPERM) for this test's process only, and the test sees which of create,
 * attach to an existing device, and TUNSETQUEUE fail; and that every
 * device's blob is freed. The same tests run against stock. Skipped where the BPF LSM is not active
 * (/sys/kernel/security/lsm).
 *
 *   test process --TUNSETIFF/TUNSETQUEUE--> driver --security_tun_dev_X()-->
 *       BPF LSM program on X: -EPERM if the caller is this test, else 0
 */

#include <sys/mount.h>
#include <linux/bpf.h>
#include <linux/btf.h>

#include "util.h"

/* Whether the BPF LSM is among the active ones (mounts securityfs if need be). */
static int bpf_lsm_active(void)
{
	char buf[512] = "";
	int fd = open("/sys/kernel/security/lsm", O_RDONLY | O_CLOEXEC);
	ssize_t n;
	char *tok, *save;

	if (fd < 0 && errno == ENOENT &&
	    !mount("securityfs", "/sys/kernel/security", "securityfs", 0, NULL))
		fd = open("/sys/kernel/security/lsm", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	for (tok = strtok_r(buf, ",\n", &save); tok; tok = strtok_r(NULL, ",\n", &save))
		if (!strcmp(tok, "bpf"))
			return 1;
	return 0;
}

/* The bytes of a btf_type's kind-specific tail. */
static size_t btf_tail(const struct btf_type *t)
{
	unsigned int vlen = BTF_INFO_VLEN(t->info);

	switch (BTF_INFO_KIND(t->info)) {
	case BTF_KIND_INT:
	case BTF_KIND_VAR:
	case BTF_KIND_DECL_TAG:
		return 4;
	case BTF_KIND_ARRAY:
		return sizeof(struct btf_array);
	case BTF_KIND_STRUCT:
	case BTF_KIND_UNION:
		return vlen * sizeof(struct btf_member);
	case BTF_KIND_ENUM:
		return vlen * sizeof(struct btf_enum);
	case BTF_KIND_FUNC_PROTO:
		return vlen * sizeof(struct btf_param);
	case BTF_KIND_DATASEC:
		return vlen * sizeof(struct btf_var_secinfo);
	case BTF_KIND_ENUM64:
		return vlen * sizeof(struct btf_enum64);
	default:
		return 0;
	}
}

/* The vmlinux BTF id of function @name, or 0 if there is none. */
static unsigned int vmlinux_func_id(const char *name)
{
	static uint8_t *btf;
	static size_t len;
	const struct btf_header *h;
	const uint8_t *p, *end;
	const char *strs;
	unsigned int id = 1;

	if (!btf) {
		int fd = open("/sys/kernel/btf/vmlinux", O_RDONLY | O_CLOEXEC);
		ssize_t n;

		if (fd < 0)
			SKIP("no vmlinux BTF: %s", kt_errname(errno));
		btf = malloc(64 << 20);
		ASSERT_TRUE(btf != NULL);
		while ((n = read(fd, btf + len, (64 << 20) - len)) > 0)
			len += n;
		close(fd);
	}
	h = (const struct btf_header *)btf;
	ASSERT_EQ(h->magic, BTF_MAGIC);
	p = btf + h->hdr_len + h->type_off;
	end = p + h->type_len;
	strs = (const char *)btf + h->hdr_len + h->str_off;
	while (p < end) {
		const struct btf_type *t = (const struct btf_type *)p;

		if (BTF_INFO_KIND(t->info) == BTF_KIND_FUNC && !strcmp(strs + t->name_off, name))
			return id;
		p += sizeof(*t) + btf_tail(t);
		id++;
	}
	return 0;
}

static long sys_bpf(int cmd, union bpf_attr *attr)
{
	return syscall(SYS_bpf, cmd, attr, sizeof(*attr));
}

/* Loads @prog for LSM hook @hook and attaches it; returns the fd holding it. */
static int attach_prog(const char *hook, const struct bpf_insn *prog, unsigned int n)
{
	static char log[4096];
	union bpf_attr a;
	char fn[64];
	int pfd, lfd;

	snprintf(fn, sizeof(fn), "bpf_lsm_%s", hook);
	memset(&a, 0, sizeof(a));
	a.prog_type = BPF_PROG_TYPE_LSM;
	a.expected_attach_type = BPF_LSM_MAC;
	a.attach_btf_id = vmlinux_func_id(fn);
	if (!a.attach_btf_id)
		FAIL("no function %s in vmlinux BTF", fn);
	a.insns = (unsigned long)prog;
	a.insn_cnt = n;
	a.license = (unsigned long)"GPL";
	a.log_buf = (unsigned long)log;
	a.log_size = sizeof(log);
	a.log_level = 1;
	pfd = sys_bpf(BPF_PROG_LOAD, &a);
	if (pfd < 0)
		FAIL("loading the program for %s: %s\n%s", hook, kt_errname(errno), log);
	memset(&a, 0, sizeof(a));
	a.raw_tracepoint.prog_fd = pfd;
	lfd = sys_bpf(BPF_RAW_TRACEPOINT_OPEN, &a);
	if (lfd < 0)
		FAIL("attaching the program to %s: %s", hook, kt_errname(errno));
	close(pfd);
	return lfd;
}

/*
 * Puts a program on LSM hook @hook that returns -EPERM when the calling
 * process is this one and 0 otherwise. Returns the fd holding it attached.
 */
static int deny_on(const char *hook)
{
	struct bpf_insn prog[] = {
		{ .code = BPF_JMP | BPF_CALL, .imm = BPF_FUNC_get_current_pid_tgid },
		{ .code = BPF_ALU64 | BPF_RSH | BPF_K, .dst_reg = BPF_REG_0, .imm = 32 },
		{ .code = BPF_JMP | BPF_JNE | BPF_K, .dst_reg = BPF_REG_0, .off = 2,
		  .imm = getpid() },
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = -EPERM },
		{ .code = BPF_JMP | BPF_EXIT },
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};

	return attach_prog(hook, prog, sizeof(prog) / sizeof(prog[0]));
}

/* Puts a program on @hook that adds 1 to slot @slot of array map @map. */
static int count_on(const char *hook, int map, int slot)
{
	struct bpf_insn prog[] = {
		{ .code = BPF_LD | BPF_DW | BPF_IMM, .dst_reg = BPF_REG_1,
		  .src_reg = BPF_PSEUDO_MAP_FD, .imm = map },
		{ 0 },
		{ .code = BPF_ST | BPF_MEM | BPF_W, .dst_reg = BPF_REG_10, .off = -4,
		  .imm = slot },
		{ .code = BPF_ALU64 | BPF_MOV | BPF_X, .dst_reg = BPF_REG_2,
		  .src_reg = BPF_REG_10 },
		{ .code = BPF_ALU64 | BPF_ADD | BPF_K, .dst_reg = BPF_REG_2, .imm = -4 },
		{ .code = BPF_JMP | BPF_CALL, .imm = BPF_FUNC_map_lookup_elem },
		{ .code = BPF_JMP | BPF_JEQ | BPF_K, .dst_reg = BPF_REG_0, .off = 2 },
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_1, .imm = 1 },
		{ .code = BPF_STX | BPF_ATOMIC | BPF_DW, .dst_reg = BPF_REG_0,
		  .src_reg = BPF_REG_1, .imm = BPF_ADD },
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};

	return attach_prog(hook, prog, sizeof(prog) / sizeof(prog[0]));
}

static uint64_t map_get(int map, uint32_t slot)
{
	union bpf_attr a;
	uint64_t v = 0;

	memset(&a, 0, sizeof(a));
	a.map_fd = map;
	a.key = (unsigned long)&slot;
	a.value = (unsigned long)&v;
	ASSERT_OK(sys_bpf(BPF_MAP_LOOKUP_ELEM, &a));
	return v;
}

/* What each operation gives while @hook refuses: 0 or an errno. */
struct outcome {
	int create;		/* TUNSETIFF of a new device */
	int attach;		/* TUNSETIFF of an existing (persistent) one */
	int attach_queue;	/* TUNSETQUEUE IFF_ATTACH_QUEUE */
};

static struct outcome try_all(const char *hook)
{
	char pname[IFNAMSIZ], nname[IFNAMSIZ], mname[IFNAMSIZ];
	struct outcome o = { 0 };
	struct ifreq ifr;
	int pfd, mfd, mfd2, fd, lfd;

	/* prepared before the program goes on */
	pfd = kt_attach(kt_ifname(pname, "p"), IFF_TUN | IFF_NO_PI, NULL);
	kt_set_persist(pfd, 1);
	close(pfd);
	mfd = kt_attach(kt_ifname(mname, "m"), IFF_TUN | IFF_NO_PI | IFF_MULTI_QUEUE, NULL);
	mfd2 = kt_attach(mname, IFF_TUN | IFF_NO_PI | IFF_MULTI_QUEUE, NULL);
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_DETACH_QUEUE;
	ASSERT_OK(ioctl(mfd2, TUNSETQUEUE, &ifr));

	lfd = deny_on(hook);
	fd = kt_open_node(0);
	o.create = kt_setiff(fd, kt_ifname(nname, "n"), IFF_TUN | IFF_NO_PI, NULL) ? errno : 0;
	close(fd);
	fd = kt_open_node(0);
	o.attach = kt_setiff(fd, pname, IFF_TUN | IFF_NO_PI, NULL) ? errno : 0;
	close(fd);
	ifr.ifr_flags = IFF_ATTACH_QUEUE;
	o.attach_queue = ioctl(mfd2, TUNSETQUEUE, &ifr) ? errno : 0;
	close(lfd);

	/* and with the program gone, all is as before */
	fd = kt_open_node(0);
	EXPECT_OK(kt_setiff(fd, pname, IFF_TUN | IFF_NO_PI, NULL));
	kt_set_persist(fd, 0);
	close(fd);
	EXPECT_FALSE(kt_exists(pname));
	EXPECT_FALSE(kt_exists(nname));
	if (o.attach_queue) {
		ifr.ifr_flags = IFF_ATTACH_QUEUE;
		EXPECT_OK(ioctl(mfd2, TUNSETQUEUE, &ifr));
	}
	close(mfd2);
	close(mfd);
	return o;
}

static void check_hook(const char *hook, int create, int attach, int attach_queue)
{
	struct outcome o;

	if (!bpf_lsm_active())
		SKIP("the BPF LSM is not active (lsm= on the kernel command line)");
	o = try_all(hook);
	if (o.create != create || o.attach != attach || o.attach_queue != attach_queue)
		FAIL_CHECK("with %s refusing: create %s, attach %s, attach_queue %s; expected %s, %s, %s",
			   hook, kt_errname(o.create), kt_errname(o.attach),
			   kt_errname(o.attach_queue), kt_errname(create), kt_errname(attach),
			   kt_errname(attach_queue));
}

/* tun_dev_create: before a new device is made, only then. */
TEST(hook_create)
{
	check_hook("tun_dev_create", EPERM, 0, 0);
}

/* tun_dev_alloc_security: when a new device gets its blob (ndo_init). */
TEST(hook_alloc_security)
{
	check_hook("tun_dev_alloc_security", EPERM, 0, 0);
}

/* tun_dev_open: before a file attaches to an existing device. */
TEST(hook_open)
{
	check_hook("tun_dev_open", 0, EPERM, 0);
}

/* tun_dev_attach: on every attach, whether creating, attaching or re-enabling. */
TEST(hook_attach)
{
	check_hook("tun_dev_attach", EPERM, EPERM, EPERM);
}

/* tun_dev_attach_queue: on TUNSETQUEUE IFF_ATTACH_QUEUE. */
TEST(hook_attach_queue)
{
	check_hook("tun_dev_attach_queue", 0, 0, EPERM);
}

/*
 * Every device's LSM blob is freed: tun_dev_alloc_security and
 * tun_dev_free_security are called in pairs, also when an attach is
 * refused after the device was registered (create, then unregister).
 * Counted by a program on each hook (all processes: a device may be freed
 * from another context); nothing else makes tun devices meanwhile.
 */
TEST(security_blob_alloc_free_pair)
{
	char n1[IFNAMSIZ], n2[IFNAMSIZ], n3[IFNAMSIZ], n4[IFNAMSIZ];
	union bpf_attr a;
	int map, la, lf, ld, fd1, fd2, fd;
	uint64_t alloc, freed;
	int i;

	if (!bpf_lsm_active())
		SKIP("the BPF LSM is not active (lsm= on the kernel command line)");
	/* 6.12's LSM core allocates and frees the blob itself */
	if (!vmlinux_func_id("bpf_lsm_tun_dev_free_security"))
		SKIP("no tun_dev_free_security hook: the LSM core frees the blob");
	memset(&a, 0, sizeof(a));
	a.map_type = BPF_MAP_TYPE_ARRAY;
	a.key_size = 4;
	a.value_size = 8;
	a.max_entries = 2;
	map = sys_bpf(BPF_MAP_CREATE, &a);
	ASSERT_OK(map);
	la = count_on("tun_dev_alloc_security", map, 0);
	lf = count_on("tun_dev_free_security", map, 1);

	fd1 = kt_attach(kt_ifname(n1, "s"), IFF_TUN | IFF_NO_PI, NULL);
	fd2 = kt_attach(kt_ifname(n2, "s"), IFF_TAP | IFF_NO_PI | IFF_MULTI_QUEUE, NULL);
	fd = kt_attach(kt_ifname(n3, "s"), IFF_TUN | IFF_NO_PI, NULL);
	kt_set_persist(fd, 1);
	close(fd);
	/* refused at attach, after the device was registered */
	ld = deny_on("tun_dev_attach");
	fd = kt_open_node(0);
	EXPECT_ERRNO(kt_setiff(fd, kt_ifname(n4, "s"), IFF_TUN | IFF_NO_PI, NULL), EPERM);
	close(fd);
	close(ld);
	close(fd1);
	close(fd2);
	fd = kt_attach(n3, IFF_TUN | IFF_NO_PI, NULL);
	kt_set_persist(fd, 0);
	close(fd);

	alloc = map_get(map, 0);
	/* devices are freed once rtnl is released; wait for the last */
	for (i = 0; i < 1000 && map_get(map, 1) < alloc; i++)
		usleep(10000);
	freed = map_get(map, 1);
	EXPECT_EQ(alloc, 4);
	EXPECT_EQ(freed, alloc);
	close(la);
	close(lf);
	close(map);
}
