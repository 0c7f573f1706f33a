// SPDX-License-Identifier: GPL-2.0
/* Copyright (C) 2026 The ktun authors. */
/*
 * The fuzzer's ioctls: every one of <linux/if_tun.h> and the socket ioctls
 * ktun handles, with boundary and hostile arguments and bad pointers, and
 * unknown numbers.
 */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <linux/filter.h>
#include <linux/if_tun.h>
#include <linux/sockios.h>

#include "ktun.h"
#include "fuzz.h"

/* ---- every other ioctl ------------------------------------------------------ */

enum fz_arg {
	A_VAL,		/* the value itself */
	A_INT_IN,	/* a pointer to an int the driver reads */
	A_OUT,		/* a buffer the driver writes */
	A_IFREQ_IN,	/* an ifreq with a hardware address */
	A_TXF,		/* struct tun_filter and its addresses */
	A_FPROG,	/* struct sock_fprog and its program */
};

struct fz_ioc {
	unsigned long cmd;
	const char *name;
	enum fz_arg arg;
	fz_eset allow;		/* besides EBADFD (detached) and EFAULT (bad pointer) */
	int unattached_ok;	/* works on any file, so never EBADFD */
};

#define IOC(c, a, e, u)	{ c, #c, a, e, u }
static const struct fz_ioc iocs[] = {
	IOC(TUNSETNOCSUM, A_VAL, 0, 0),
	IOC(TUNSETDEBUG, A_VAL, 0, 0),
	IOC(TUNSETLINK, A_VAL, E(EBUSY), 0),
	IOC(TUNGETFEATURES, A_OUT, 0, 1),
	IOC(TUNSETOFFLOAD, A_VAL, E(EINVAL), 0),
	IOC(TUNSETTXFILTER, A_TXF, E(EINVAL) | E(ENOMEM), 0),
	IOC(TUNGETIFF, A_OUT, 0, 0),
	IOC(TUNGETSNDBUF, A_OUT, 0, 0),
	IOC(TUNSETSNDBUF, A_INT_IN, E(EINVAL), 0),
	IOC(TUNATTACHFILTER, A_FPROG, E(EINVAL) | E(ENOMEM), 0),
	IOC(TUNDETACHFILTER, A_VAL, E(EINVAL), 0),
	IOC(TUNGETVNETHDRSZ, A_OUT, 0, 0),
	IOC(TUNSETVNETHDRSZ, A_INT_IN, E(EINVAL), 0),
	IOC(TUNSETIFINDEX, A_INT_IN, E(EPERM) | E(EINVAL), 1),
	IOC(TUNGETFILTER, A_OUT, E(EINVAL), 0),
	IOC(TUNSETVNETLE, A_INT_IN, 0, 0),
	IOC(TUNGETVNETLE, A_OUT, 0, 0),
	IOC(TUNSETVNETBE, A_INT_IN, E(EINVAL), 0),
	IOC(TUNGETVNETBE, A_OUT, E(EINVAL), 0),
	IOC(TUNSETSTEERINGEBPF, A_INT_IN, E(EINVAL) | E(EBADF), 0),
	IOC(TUNSETFILTEREBPF, A_INT_IN, E(EINVAL) | E(EBADF), 0),
	IOC(TUNSETCARRIER, A_INT_IN, E(EPERM), 0),
	IOC(TUNGETDEVNETNS, A_VAL, 0, 0),
	IOC(SIOCGSKNS, A_VAL, 0, 1),
	IOC(SIOCGIFHWADDR, A_OUT, 0, 0),
	IOC(SIOCSIFHWADDR, A_IFREQ_IN, E(EINVAL) | E(EADDRNOTAVAIL) | E(EOPNOTSUPP) | E(EBUSY), 0),
	IOC(FIOASYNC, A_INT_IN, 0, 1),
};

static long ioc_value(struct fz_rng *r, unsigned long cmd)
{
	static const long links[] = { 1, 0xfffe, 778, 776, 0xffff, 0, 1, 0xfffe };
	static const long ints[] = {
		0, 1, -1, 2, 10, 12, 20, 4096, 0x7fffffff, (int)0x80000000, 100000,
	};

	switch (cmd) {
	case TUNSETLINK:
		return FZ_PICK(r, links);
	case TUNSETOFFLOAD:
		return fz_chance(r, 80) ? (long)fz_below(r, 0x20) : (long)fz_rand(r);
	case TUNSETVNETHDRSZ:
		return fz_chance(r, 70) ? 10 + 2 * (long)fz_below(r, 2) : FZ_PICK(r, ints);
	default:
		return fz_chance(r, 85) ? FZ_PICK(r, ints) : (long)fz_rand(r);
	}
}

/* A classic BPF program: accept, drop, a real one, or broken. */
static size_t ioc_prog(struct fz_rng *r, struct sock_filter *f)
{
	size_t i, n;

	switch (fz_below(r, 5)) {
	case 0:
		f[0] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, 0xffffffff);
		return 1;
	case 1:
		f[0] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, 0);
		return 1;
	case 2:	/* drop IPv6 frames */
		f[0] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 12);
		f[1] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0x86dd, 0, 1);
		f[2] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, 0);
		f[3] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, 0xffff);
		return 4;
	case 3:	/* a jump out of the program */
		f[0] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JA, 1000, 0, 0);
		f[1] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, 0);
		return 2;
	default:
		n = 1 + fz_below(r, 8);
		for (i = 0; i < n; i++) {
			f[i].code = fz_rand(r);
			f[i].jt = fz_below(r, 4);
			f[i].jf = fz_below(r, 4);
			f[i].k = fz_chance(r, 50) ? fz_below(r, 64) : (uint32_t)fz_rand(r);
		}
		return n;
	}
}

void fz_op_ioctl(struct fz_thread *t)
{
	const struct fz_ioc *c = &iocs[fz_below(&t->rng, sizeof(iocs) / sizeof(iocs[0]))];
	struct fz_slot *s = fz_slot_get(t, 1);
	struct fz_rng *r = &t->rng;
	fz_eset allow = c->allow | (c->unattached_ok ? 0 : E(EBADFD));
	unsigned long arg = 0;
	int bad = c->arg != A_VAL && fz_chance(r, 8), err, v;
	struct sock_fprog fp;
	struct tun_filter *tf;
	struct ifreq ifr;
	long ret;

	if (!s)
		return;
	switch (c->arg) {
	case A_VAL:
		arg = ioc_value(r, c->cmd);
		break;
	case A_INT_IN:
		v = (int)ioc_value(r, c->cmd);
		memcpy(t->buf, &v, sizeof(v));
		arg = (unsigned long)t->buf;
		break;
	case A_OUT:
		arg = (unsigned long)t->buf;
		break;
	case A_IFREQ_IN:
		memset(&ifr, 0, sizeof(ifr));
		ifr.ifr_hwaddr.sa_family = fz_chance(r, 70) ? 1 : fz_chance(r, 50) ? 0xfffe : fz_rand(r);
		for (v = 0; v < 6; v++)
			ifr.ifr_hwaddr.sa_data[v] = fz_rand(r);
		if (fz_chance(r, 60))
			ifr.ifr_hwaddr.sa_data[0] &= ~1;	/* unicast */
		arg = (unsigned long)&ifr;
		break;
	case A_TXF:
		tf = (struct tun_filter *)t->buf;
		tf->flags = fz_chance(r, 80) ? fz_below(r, 2) : (uint16_t)fz_rand(r);
		tf->count = fz_chance(r, 90) ? fz_below(r, 20) : (uint16_t)fz_rand(r);
		for (v = 0; v < 20 * 6; v++)
			((unsigned char *)tf->addr)[v] = fz_chance(r, 50) ? 0x01 : fz_rand(r);
		/* A long list runs past the buffer into whatever follows. */
		if (tf->count * 6 + sizeof(*tf) > sizeof(t->buf))
			allow |= E(EFAULT);
		arg = (unsigned long)tf;
		break;
	case A_FPROG:
		fp.len = ioc_prog(r, (struct sock_filter *)t->buf2);
		fp.filter = (struct sock_filter *)t->buf2;
		if (fz_chance(r, 10))
			fp.len = fz_chance(r, 50) ? 0 : (unsigned short)fz_rand(r);
		if (fz_chance(r, 5)) {
			fp.filter = fz_bad_ptr(r);
			allow |= E(EFAULT);
		}
		arg = (unsigned long)&fp;
		break;
	}
	if (bad) {
		arg = (unsigned long)fz_bad_ptr(r);
		allow |= E(EFAULT);
	}
	fz_what(t, "%s fd %d arg %#lx%s", c->name, s->fd, arg, bad ? " (bad pointer)" : "");
	ret = ioctl(s->fd, c->cmd, arg);
	err = ret < 0 ? errno : 0;
	if (ret >= 0 && (c->cmd == TUNGETDEVNETNS || c->cmd == SIOCGSKNS))
		close(ret);
	if (!err && c->cmd == TUNSETVNETHDRSZ && c->arg == A_INT_IN && !bad)
		__atomic_store_n(&s->vnet_sz, *(int *)t->buf, __ATOMIC_RELAXED);
	fz_slot_put(s);
	fz_done(t, FZ_IOCTL, err, allow);
}

/* Unknown numbers: of the TUN type, of the socket type, or anything. */
void fz_op_badioctl(struct fz_thread *t)
{
	static const unsigned long vfs[] = {
		FIOCLEX, FIONCLEX, FIONBIO, FIOASYNC, FIOQSIZE, TUNSETIFF,
		TUNSETQUEUE, TUNSETPERSIST, TUNSETOWNER, TUNSETGROUP,
	};
	struct fz_rng *r = &t->rng;
	struct fz_slot *s = fz_slot_get(t, -1);
	unsigned long cmd, arg;
	unsigned int type, i;
	fz_eset allow = E(EINVAL) | E(EBADFD);
	int err;

	if (!s)
		return;
	do {
		type = fz_below(r, 3);
		type = type == 0 ? 'T' : type == 1 ? 0x89 : 1 + fz_below(r, 0x50);
		cmd = _IOC(fz_below(r, 4), type, fz_chance(r, 50) ? 190 + fz_below(r, 50) :
			   fz_below(r, 256), fz_chance(r, 50) ? 4 * fz_below(r, 12) :
			   fz_below(r, 1 << 14));
		for (i = 0; i < sizeof(vfs) / sizeof(vfs[0]); i++)
			if (cmd == vfs[i])
				break;
		for (type = 0; i == sizeof(vfs) / sizeof(vfs[0]) &&
		     type < sizeof(iocs) / sizeof(iocs[0]); type++)
			if (cmd == iocs[type].cmd)
				i = 0;
	} while (i < sizeof(vfs) / sizeof(vfs[0]));
	arg = fz_chance(r, 50) ? (unsigned long)t->buf : fz_chance(r, 50) ?
	      (unsigned long)fz_bad_ptr(r) : fz_rand(r);
	/* Socket-type numbers carry an ifreq the dispatch copies in. */
	if (_IOC_TYPE(cmd) == 0x89)
		allow |= E(EFAULT);
	fz_what(t, "ioctl fd %d cmd %#lx arg %#lx", s->fd, cmd, arg);
	err = ioctl(s->fd, cmd, arg) ? errno : 0;
	fz_slot_put(s);
	fz_done(t, FZ_BADIOCTL, err, allow);
}

