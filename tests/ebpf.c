// SPDX-License-Identifier: GPL-2.0
/* Copyright (C) 2026 The ktun authors. */
/*
 * eBPF steering and filter programs (TUNSETSTEERINGEBPF, TUNSETFILTEREBPF)
 * with real programs, hand-assembled and loaded through bpf(2): the queue a
 * steering program picks (its result cut to 16 bits, modulo the queues),
 * what a filter program keeps (0: drop, N: the first N bytes), replacing
 * and detaching, that programs belong to the device (kept with nobody
 * attached to a persistent one, released when it goes), and the errnos of
 * wrong program types and bad fds. Every test also runs against stock.
 *
 *   stack: UDP socket --> dev (10.73.0.1/24, queues q0..qN-1) --> fds
 */
#include <linux/bpf.h>

#include "net.h"

#define A4	"10.73.0.1/24"
#define MQ_TUN	(IFF_TUN | IFF_NO_PI | IFF_MULTI_QUEUE)

static long sys_bpf(int cmd, union bpf_attr *attr)
{
	return syscall(__NR_bpf, cmd, attr, sizeof(*attr));
}

/* Instructions, spelled out: the kernel's BPF_* helper macros are not uapi. */
#define I_MOV_IMM(dst, k) \
	((struct bpf_insn){ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = (dst), .imm = (k) })
#define I_MOV_REG(dst, src) \
	((struct bpf_insn){ .code = BPF_ALU64 | BPF_MOV | BPF_X, .dst_reg = (dst), .src_reg = (src) })
#define I_LD_ABS_B(off) \
	((struct bpf_insn){ .code = BPF_LD | BPF_ABS | BPF_B, .imm = (off) })
#define I_EXIT() \
	((struct bpf_insn){ .code = BPF_JMP | BPF_EXIT })

static int prog_load(int type, const struct bpf_insn *insns, unsigned int n)
{
	static char log[4096];
	union bpf_attr attr;
	int fd;

	memset(&attr, 0, sizeof(attr));
	attr.prog_type = type;
	attr.insns = (uintptr_t)insns;
	attr.insn_cnt = n;
	attr.license = (uintptr_t)"GPL";
	attr.log_buf = (uintptr_t)log;
	attr.log_size = sizeof(log);
	attr.log_level = 1;
	fd = sys_bpf(BPF_PROG_LOAD, &attr);
	if (fd < 0)
		FAIL("BPF_PROG_LOAD: %s: %s", kt_errname(errno), log);
	return fd;
}

/* A socket-filter program (or of @type) that returns @k. */
static int prog_ret_type(int type, int k)
{
	const struct bpf_insn insns[] = { I_MOV_IMM(0, k), I_EXIT() };

	return prog_load(type, insns, 2);
}

static int prog_ret(int k)
{
	return prog_ret_type(BPF_PROG_TYPE_SOCKET_FILTER, k);
}

/* Returns the packet's byte at @off (on TUN, 19: the last of the IPv4 dst). */
static int prog_byte(int off)
{
	const struct bpf_insn insns[] = { I_MOV_REG(6, 1), I_LD_ABS_B(off), I_EXIT() };

	return prog_load(BPF_PROG_TYPE_SOCKET_FILTER, insns, 3);
}

static unsigned int prog_id(int fd)
{
	struct bpf_prog_info info;
	union bpf_attr attr;

	memset(&info, 0, sizeof(info));
	memset(&attr, 0, sizeof(attr));
	attr.info.bpf_fd = fd;
	attr.info.info_len = sizeof(info);
	attr.info.info = (uintptr_t)&info;
	ASSERT_OK(sys_bpf(BPF_OBJ_GET_INFO_BY_FD, &attr));
	return info.id;
}

/* Whether a program with @id still exists (someone holds a reference). */
static int prog_alive(unsigned int id)
{
	union bpf_attr attr;
	int fd;

	memset(&attr, 0, sizeof(attr));
	attr.prog_id = id;
	fd = sys_bpf(BPF_PROG_GET_FD_BY_ID, &attr);
	if (fd >= 0) {
		close(fd);
		return 1;
	}
	if (errno != ENOENT)
		FAIL("BPF_PROG_GET_FD_BY_ID: %s", kt_errname(errno));
	return 0;
}

/* The BPF core frees a program after a grace period: wait for it. */
static int prog_released(unsigned int id)
{
	int i;

	for (i = 0; i < KT_WAIT_MS / 10; i++) {
		if (!prog_alive(id))
			return 1;
		usleep(10000);
	}
	return 0;
}

static int set_prog(int fd, unsigned long cmd, int prog)
{
	return ioctl(fd, cmd, &prog);
}

/* Sends one datagram from the stack to 10.73.0.@host, port @port. */
static void send_to(int s, int host, int port)
{
	char dst[32];

	snprintf(dst, sizeof(dst), "10.73.0.%d", host);
	kt_udp_send(s, dst, port, "steer me", 8);
}

/* Which of @fds the datagram to @port arrived on; the others stay empty. */
static int arrived_on(const int *fds, int n, int port)
{
	char buf[2048];
	struct kt_pkt p;
	int i, found = -1;

	for (i = 0; i < n; i++) {
		struct pollfd pf = { .fd = fds[i], .events = POLLIN };

		if (poll(&pf, 1, 0) != 1)
			continue;
		kt_read_udp(fds[i], KT_RAW, port, buf, sizeof(buf), &p);
		if (found >= 0)
			FAIL_CHECK("datagram to port %d on queues %d and %d", port, found, i);
		found = i;
	}
	return found;
}

/* Waits until one of @fds is readable; returns which, -1 on timeout. */
static int wait_any(const int *fds, int n)
{
	struct pollfd pf[8];
	int i;

	for (i = 0; i < n; i++)
		pf[i] = (struct pollfd){ .fd = fds[i], .events = POLLIN };
	if (poll(pf, n, KT_WAIT_MS) <= 0)
		return -1;
	for (i = 0; i < n; i++)
		if (pf[i].revents & POLLIN)
			return i;
	return -1;
}

static int steer_one(const int *fds, int n, int s, int host, int port)
{
	send_to(s, host, port);
	if (wait_any(fds, n) < 0)
		FAIL("datagram to port %d reached no queue", port);
	return arrived_on(fds, n, port);
}

/* Three queues: the program's result modulo 3, per packet, cut to u16. */
TEST(steering_picks_queue)
{
	char name[IFNAMSIZ];
	int fds[3], i, s, prog;

	kt_ifname(name, "s");
	for (i = 0; i < 3; i++) {
		fds[i] = kt_attach(name, MQ_TUN, NULL);
		kt_nonblock(fds[i]);
	}
	kt_dev_up(name, A4, NULL);
	s = kt_udp_bind("10.73.0.1", 0);

	/* A constant: every packet to one queue, whatever its flow. */
	prog = prog_ret(1);
	ASSERT_OK(set_prog(fds[0], TUNSETSTEERINGEBPF, prog));
	close(prog);
	for (i = 0; i < 4; i++)
		EXPECT_EQ(steer_one(fds, 3, s, 2 + i, 6000 + i), 1);
	/* 5 % 3 */
	prog = prog_ret(5);
	ASSERT_OK(set_prog(fds[2], TUNSETSTEERINGEBPF, prog));
	close(prog);
	EXPECT_EQ(steer_one(fds, 3, s, 2, 6010), 2);
	/* 0x10003: stock takes the low 16 bits, 3, then 3 % 3 */
	prog = prog_ret(0x10003);
	ASSERT_OK(set_prog(fds[1], TUNSETSTEERINGEBPF, prog));
	close(prog);
	EXPECT_EQ(steer_one(fds, 3, s, 2, 6011), 0);
	/* From the packet: the last byte of the destination, modulo 3. */
	prog = prog_byte(19);
	ASSERT_OK(set_prog(fds[0], TUNSETSTEERINGEBPF, prog));
	close(prog);
	for (i = 4; i < 10; i++)
		EXPECT_EQ(steer_one(fds, 3, s, i, 6020 + i), i % 3);
	/* With a queue fewer, the same program: modulo 2. */
	close(fds[2]);
	for (i = 4; i < 8; i++)
		EXPECT_EQ(steer_one(fds, 2, s, i, 6040 + i), i % 2);
	/* -1: back to flow hashing; a packet still reaches some queue. */
	ASSERT_OK(set_prog(fds[0], TUNSETSTEERINGEBPF, -1));
	EXPECT_GE(steer_one(fds, 2, s, 7, 6050), 0);
	close(s);
	close(fds[0]);
	close(fds[1]);
}

/* Reads the datagram to @port from @fd; returns its length on the wire. */
static ssize_t read_len(int fd, int port)
{
	char buf[2048];
	ssize_t n;
	int i;

	for (i = 0; i < 100; i++) {
		n = kt_read_wait(fd, buf, sizeof(buf), KT_WAIT_MS);
		if (n < 0)
			FAIL("reading: %s", kt_errname(errno));
		/* Trimmed packets parse no further than the UDP header. */
		if (n >= 28 && buf[9] == IPPROTO_UDP &&
		    ((uint8_t)buf[22] << 8 | (uint8_t)buf[23]) == port)
			return n;
	}
	FAIL("no datagram to port %d", port);
}

/* 0 drops, N keeps N bytes, more than the packet keeps it whole. */
TEST(filter_trims_and_drops)
{
	char name[IFNAMSIZ];
	int fd = kt_attach(kt_ifname(name, "f"), IFF_TUN | IFF_NO_PI, NULL), s, prog;
	unsigned long long dropped;
	const int full = 20 + 8 + 8;

	kt_nonblock(fd);
	kt_dev_up(name, A4, NULL);
	s = kt_udp_bind("10.73.0.1", 0);

	prog = prog_ret(28);
	ASSERT_OK(set_prog(fd, TUNSETFILTEREBPF, prog));
	close(prog);
	send_to(s, 2, 7000);
	EXPECT_EQ(read_len(fd, 7000), 28);

	prog = prog_ret(0);
	ASSERT_OK(set_prog(fd, TUNSETFILTEREBPF, prog));
	close(prog);
	dropped = kt_stat(name, "tx_dropped");
	send_to(s, 2, 7001);
	/* Replaced by "keep 1000": the next packet comes whole; 7001 never. */
	prog = prog_ret(1000);
	ASSERT_OK(set_prog(fd, TUNSETFILTEREBPF, prog));
	close(prog);
	send_to(s, 2, 7002);
	EXPECT_EQ(read_len(fd, 7002), full);
	EXPECT_EQ(kt_stat(name, "tx_dropped"), dropped + 1);

	/* A huge (negative as an int) result keeps the packet whole. */
	prog = prog_ret(-1);
	ASSERT_OK(set_prog(fd, TUNSETFILTEREBPF, prog));
	close(prog);
	send_to(s, 2, 7003);
	EXPECT_EQ(read_len(fd, 7003), full);

	prog = prog_ret(30);
	ASSERT_OK(set_prog(fd, TUNSETFILTEREBPF, prog));
	close(prog);
	send_to(s, 2, 7004);
	EXPECT_EQ(read_len(fd, 7004), 30);
	ASSERT_OK(set_prog(fd, TUNSETFILTEREBPF, -1));
	send_to(s, 2, 7005);
	EXPECT_EQ(read_len(fd, 7005), full);
	/* Detaching twice is fine. */
	EXPECT_OK(set_prog(fd, TUNSETFILTEREBPF, -1));
	close(s);
	close(fd);
}

/* A filter applies to TAP frames too, counting from the Ethernet header. */
TEST(filter_tap_frame)
{
	char name[IFNAMSIZ], buf[2048];
	int fd = kt_attach(kt_ifname(name, "t"), IFF_TAP | IFF_NO_PI, NULL), s, prog, i;
	ssize_t n = -1;

	kt_nonblock(fd);
	kt_dev_up(name, A4, NULL);
	kt_neigh(name, "10.73.0.2");
	s = kt_udp_bind("10.73.0.1", 0);
	prog = prog_ret(14 + 28);
	ASSERT_OK(set_prog(fd, TUNSETFILTEREBPF, prog));
	close(prog);
	send_to(s, 2, 7100);
	for (i = 0; i < 100; i++) {
		n = kt_read_wait(fd, buf, sizeof(buf), KT_WAIT_MS);
		ASSERT_GE(n, 0);
		if (n >= 14 + 28 && buf[12] == 0x08 && buf[13] == 0 &&
		    buf[14 + 9] == IPPROTO_UDP)
			break;
	}
	EXPECT_EQ(n, 14 + 28);
	close(s);
	close(fd);
}

/*
 * Programs belong to the device: a persistent device keeps them with no
 * file attached, and they are released when the device is deleted.
 */
TEST(programs_live_with_device)
{
	char name[IFNAMSIZ];
	int fd = kt_attach(kt_ifname(name, "p"), IFF_TUN | IFF_NO_PI, NULL), s;
	int filter = prog_ret(28), steer = prog_ret(0);
	unsigned int fid = prog_id(filter), sid = prog_id(steer);

	kt_cleanup_dev(name);
	ASSERT_OK(set_prog(fd, TUNSETFILTEREBPF, filter));
	ASSERT_OK(set_prog(fd, TUNSETSTEERINGEBPF, steer));
	close(filter);
	close(steer);
	EXPECT_TRUE(prog_alive(fid));
	EXPECT_TRUE(prog_alive(sid));
	kt_set_persist(fd, 1);
	close(fd);
	/* Nobody attached: still there, and still in force on re-attach. */
	EXPECT_TRUE(prog_alive(fid));
	EXPECT_TRUE(prog_alive(sid));
	fd = kt_attach(name, IFF_TUN | IFF_NO_PI, NULL);
	kt_nonblock(fd);
	kt_dev_up(name, A4, NULL);
	s = kt_udp_bind("10.73.0.1", 0);
	send_to(s, 2, 7200);
	EXPECT_EQ(read_len(fd, 7200), 28);
	close(s);
	/* A replaced program is released; so are both when the device goes. */
	filter = prog_ret(29);
	ASSERT_OK(set_prog(fd, TUNSETFILTEREBPF, filter));
	EXPECT_TRUE(prog_released(fid));
	fid = prog_id(filter);
	close(filter);
	kt_set_persist(fd, 0);
	kt_del(name);
	EXPECT_TRUE(prog_released(fid));
	EXPECT_TRUE(prog_released(sid));
	close(fd);
}

/* Released when the last file closes a non-persistent device. */
TEST(programs_released_on_last_close)
{
	char name[IFNAMSIZ];
	int fd = kt_attach(kt_ifname(name, "c"), MQ_TUN, NULL);
	int fd2 = kt_attach(name, MQ_TUN, NULL), prog = prog_ret(1);
	unsigned int id = prog_id(prog);

	ASSERT_OK(set_prog(fd, TUNSETSTEERINGEBPF, prog));
	close(prog);
	close(fd);
	EXPECT_TRUE(prog_alive(id));
	close(fd2);
	EXPECT_FALSE(kt_exists(name));
	EXPECT_TRUE(prog_released(id));
}

/* Stock's errnos: EBADF, EINVAL for anything not a socket filter, EFAULT. */
TEST(bad_programs)
{
	static const unsigned long cmds[] = { TUNSETSTEERINGEBPF, TUNSETFILTEREBPF };
	char name[IFNAMSIZ];
	int fd = kt_attach(kt_ifname(name, "e"), IFF_TAP | IFF_NO_PI, NULL);
	int cls = prog_ret_type(BPF_PROG_TYPE_SCHED_CLS, 0), ok = prog_ret(0);
	int closed = dup(fd);
	unsigned int i, id = prog_id(ok);

	close(closed);
	for (i = 0; i < 2; i++) {
		EXPECT_ERRNO(set_prog(fd, cmds[i], cls), EINVAL);
		EXPECT_ERRNO(set_prog(fd, cmds[i], fd), EINVAL);	/* not BPF */
		EXPECT_ERRNO(set_prog(fd, cmds[i], closed), EBADF);
		EXPECT_ERRNO(set_prog(fd, cmds[i], -2), EBADF);
		EXPECT_ERRNO(ioctl(fd, cmds[i], (void *)8), EFAULT);
		/* A refused program leaves the one in place. */
		ASSERT_OK(set_prog(fd, cmds[i], ok));
		EXPECT_ERRNO(set_prog(fd, cmds[i], cls), EINVAL);
	}
	close(ok);
	close(cls);
	EXPECT_TRUE(prog_alive(id));
	close(fd);
	EXPECT_TRUE(prog_released(id));
}
