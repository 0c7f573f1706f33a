// SPDX-License-Identifier: GPL-2.0
/* Copyright (C) 2026 The ktun authors. */
/*
 * The fuzzer's operations on the fds of the pool: open and close, TUNSETIFF
 * with every flag mix and odd names, TUNSETQUEUE, persist and owner/group
 * toggles, write and read of every kind of frame and buffer, poll and
 * epoll, and forks that act on inherited fds and die.
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
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <linux/filter.h>
#include <linux/if_tun.h>
#include <linux/sockios.h>

#include "ktun.h"
#include "fuzz.h"

/* ---- open, close, attach ------------------------------------------------- */

void fz_op_open(struct fz_thread *t)
{
	static const int modes[] = {
		O_RDWR, O_RDWR, O_RDWR, O_RDWR, O_RDWR, O_RDWR, O_RDWR, O_RDWR,
		O_RDWR, O_RDWR, O_RDWR, O_RDWR, O_RDWR, O_RDWR, O_RDWR, O_RDWR,
		O_RDWR, O_RDWR, O_RDONLY, O_WRONLY,
	};
	struct fz_slot *s = &fz_slots[fz_below(&t->rng, FZ_SLOTS)];
	int ns = fz_chance(&t->rng, 10), mode = FZ_PICK(&t->rng, modes), fd, err;

	if (pthread_rwlock_trywrlock(&s->lock))
		return;
	if (s->fd >= 0) {
		pthread_rwlock_unlock(&s->lock);
		return;
	}
	fz_what(t, "open %s mode %d in netns %c", ktun_path(), mode, "AB"[ns]);
	if (ns)
		setns(fz_ns[1], CLONE_NEWNET);
	fd = open(ktun_path(), mode | O_NONBLOCK | O_CLOEXEC);
	err = fd < 0 ? errno : 0;
	if (ns)
		setns(fz_ns[0], CLONE_NEWNET);
	if (fd >= 0) {
		s->fd = fd;
		s->mode = mode;
		s->flags = s->flags_ever = 0;
		s->vnet_sz = 10;
	}
	pthread_rwlock_unlock(&s->lock);
	fz_done(t, FZ_OPEN, err, 0);
}

void fz_op_close(struct fz_thread *t)
{
	struct fz_slot *s = &fz_slots[fz_below(&t->rng, FZ_SLOTS)];
	int err;

	if (pthread_rwlock_trywrlock(&s->lock))
		return;
	if (s->fd < 0) {
		pthread_rwlock_unlock(&s->lock);
		return;
	}
	fz_what(t, "close fd %d", s->fd);
	err = close(s->fd) ? errno : 0;
	s->fd = -1;
	pthread_rwlock_unlock(&s->lock);
	fz_done(t, FZ_CLOSE, err, 0);
}

/* TUNSETIFF flags: mostly sane mixes, now and then anything. */
static int iff_flags(struct fz_rng *r)
{
	static const int extra[] = {
		IFF_NO_PI, IFF_VNET_HDR, IFF_MULTI_QUEUE, IFF_NO_CARRIER,
		IFF_ONE_QUEUE, IFF_TUN_EXCL, IFF_NAPI, IFF_NAPI_FRAGS,
		IFF_PERSIST, IFF_ATTACH_QUEUE, IFF_DETACH_QUEUE, 0x0004, 0x0080,
	};
	static const int pct[] = { 50, 30, 30, 10, 10, 8, 10, 4, 3, 3, 3, 2, 2 };
	int f, i;

	if (fz_chance(r, 3))
		return (int)fz_rand(r);
	i = fz_below(r, 100);
	f = i < 46 ? IFF_TUN : i < 92 ? IFF_TAP : i < 96 ? IFF_TUN | IFF_TAP : 0;
	for (i = 0; i < (int)(sizeof(extra) / sizeof(extra[0])); i++)
		if (fz_chance(r, pct[i]))
			f |= extra[i];
	return f;
}

void fz_op_setiff(struct fz_thread *t)
{
	struct fz_slot *s = fz_slot_get(t, 0);
	struct ifreq ifr, *arg = &ifr;
	fz_eset allow = E(EEXIST) | E(EINVAL) | E(EBUSY) | E(E2BIG) | E(ENFILE);
	const char *name;
	int err;

	if (!s)
		return;
	memset(&ifr, 0, sizeof(ifr));
	name = fz_pool_name(&t->rng);
	/* All IFNAMSIZ bytes, unterminated, when the name is that long. */
	memcpy(ifr.ifr_name, name, strnlen(name, IFNAMSIZ));
	ifr.ifr_flags = iff_flags(&t->rng);
	if (fz_chance(&t->rng, 4)) {
		arg = fz_bad_ptr(&t->rng);
		allow |= E(EFAULT);
	}
	fz_what(t, "TUNSETIFF fd %d name \"%.16s\" flags 0x%x%s", s->fd, name,
		(unsigned short)ifr.ifr_flags, arg != &ifr ? " bad pointer" : "");
	err = ioctl(s->fd, TUNSETIFF, arg) ? errno : 0;
	/*
	 * The device's framing is its first queue's: a later attach with other
	 * flags gets the device's, which TUNGETIFF tells.
	 */
	if (!err) {
		int asked = ifr.ifr_flags;

		/* Its IFF_NO_PI bit is also IFF_NOFILTER: keep what we asked. */
		if (!ioctl(s->fd, TUNGETIFF, &ifr))
			ifr.ifr_flags = (ifr.ifr_flags & ~IFF_NO_PI) | (asked & IFF_NO_PI);
		__atomic_store_n(&s->flags, (unsigned short)ifr.ifr_flags, __ATOMIC_RELAXED);
		__atomic_or_fetch(&s->flags_ever, (unsigned short)ifr.ifr_flags, __ATOMIC_RELAXED);
	}
	fz_slot_put(s);
	fz_done(t, FZ_SETIFF, err, allow);
}

void fz_op_setqueue(struct fz_thread *t)
{
	static const int qflags[] = {
		IFF_ATTACH_QUEUE, IFF_DETACH_QUEUE, IFF_ATTACH_QUEUE,
		IFF_DETACH_QUEUE, IFF_ATTACH_QUEUE | IFF_DETACH_QUEUE, 0,
		IFF_TUN, 0xffff,
	};
	struct fz_slot *s = fz_slot_get(t, 1);
	struct ifreq ifr, *arg = &ifr;
	fz_eset allow = E(EINVAL) | E(EBUSY) | E(E2BIG);
	int err;

	if (!s)
		return;
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = FZ_PICK(&t->rng, qflags);
	if (fz_chance(&t->rng, 4)) {
		arg = fz_bad_ptr(&t->rng);
		allow |= E(EFAULT);
	}
	fz_what(t, "TUNSETQUEUE fd %d flags 0x%x%s", s->fd,
		(unsigned short)ifr.ifr_flags, arg != &ifr ? " bad pointer" : "");
	err = ioctl(s->fd, TUNSETQUEUE, arg) ? errno : 0;
	fz_slot_put(s);
	fz_done(t, FZ_SETQUEUE, err, allow);
}

void fz_op_persist(struct fz_thread *t)
{
	static const unsigned long vals[] = { 0, 1, 0, 1, 2, ~0UL };
	struct fz_slot *s = fz_slot_get(t, 1);
	unsigned long v = FZ_PICK(&t->rng, vals);
	int err;

	if (!s)
		return;
	fz_what(t, "TUNSETPERSIST fd %d %#lx", s->fd, v);
	err = ioctl(s->fd, TUNSETPERSIST, v) ? errno : 0;
	fz_slot_put(s);
	fz_done(t, FZ_PERSIST, err, E(EBADFD));
}

void fz_op_owner(struct fz_thread *t)
{
	static const unsigned long ids[] = { 0, 1000, 65534, 0xffffffffUL, ~0UL, 0x7fffffff };
	struct fz_slot *s = fz_slot_get(t, 1);
	unsigned long cmd = fz_chance(&t->rng, 50) ? TUNSETOWNER : TUNSETGROUP;
	unsigned long v = fz_chance(&t->rng, 80) ? FZ_PICK(&t->rng, ids) : fz_rand(&t->rng);
	int err;

	if (!s)
		return;
	fz_what(t, "%s fd %d %#lx", cmd == TUNSETOWNER ? "TUNSETOWNER" : "TUNSETGROUP",
		s->fd, v);
	err = ioctl(s->fd, cmd, v) ? errno : 0;
	fz_slot_put(s);
	fz_done(t, FZ_OWNER, err, E(EBADFD) | E(EINVAL));
}

/* ---- packets ---------------------------------------------------------------- */

/* Splits @len bytes at @base into up to four segments, some empty. */
static int split_iov(struct fz_rng *r, struct iovec *iov, void *base, size_t len)
{
	int n = 1 + fz_below(r, 4), i;
	size_t off = 0, cut;

	for (i = 0; i < n - 1; i++) {
		cut = fz_below(r, len - off + 1);
		iov[i].iov_base = (char *)base + off;
		iov[i].iov_len = cut;
		off += cut;
	}
	iov[i].iov_base = (char *)base + off;
	iov[i].iov_len = len - off;
	return n;
}

void fz_op_write(struct fz_thread *t)
{
	static const int frames[] = {
		IFF_TUN, IFF_TUN | IFF_NO_PI, IFF_TAP, IFF_TAP | IFF_NO_PI,
		IFF_TUN | IFF_NO_PI | IFF_VNET_HDR, IFF_TAP | IFF_NO_PI | IFF_VNET_HDR,
	};
	struct fz_rng *r = &t->rng;
	struct fz_slot *s = fz_slot_get(t, 1);
	/* EBUSY: a write to a queue taken out of service while IFF_NAPI is
	 * on (its NAPI is disabled), as stock.
	 */
	fz_eset allow = E(EINVAL) | E(EBADFD) | E(EIO) | E(EMSGSIZE) | E(EBUSY);
	struct iovec iov[4];
	int flags, vnet_sz, n, err;
	size_t len;
	ssize_t ret;

	if (!s)
		return;
	flags = fz_load(&s->flags);
	if (!flags || fz_chance(r, 25))
		flags = FZ_PICK(r, frames);
	vnet_sz = fz_chance(r, 90) ? fz_load(&s->vnet_sz) : (int)fz_below(r, 40);
	if (vnet_sz < 0 || vnet_sz > 4096)
		vnet_sz = 10;
	len = fz_frame(r, t->buf, sizeof(t->buf), flags, vnet_sz);
	n = fz_chance(r, 50) ? 1 : split_iov(r, iov, t->buf, len);
	if (n == 1) {
		iov[0].iov_base = t->buf;
		iov[0].iov_len = len;
	}
	if (fz_chance(r, 3)) {
		iov[fz_below(r, n)].iov_base = fz_bad_ptr(r);
		allow |= E(EFAULT);
	}
	if (s->mode == O_RDONLY)
		allow |= E(EBADF);
	if (len > 4096)
		allow |= E(ENOMEM);
	fz_what(t, "write%s fd %d len %zu framing 0x%x vnet %d", n > 1 ? "v" : "",
		s->fd, len, flags, vnet_sz);
	ret = n == 1 && fz_chance(r, 50) ? write(s->fd, iov[0].iov_base, len) :
	      writev(s->fd, iov, n);
	err = ret < 0 ? errno : 0;
	fz_slot_put(s);
	if (ret >= 0 && (size_t)ret != len) {
		fz_what(t, "write returned %zd of %zu", ret, len);
		err = EMSGSIZE;	/* reported as unexpected below */
		allow = 0;
	}
	fz_done(t, FZ_WRITE, err, allow);
}

void fz_op_read(struct fz_thread *t)
{
	static const size_t sizes[] = {
		0, 1, 3, 4, 10, 13, 14, 20, 64, 1500, 2048, 65535, 70000,
	};
	struct fz_rng *r = &t->rng;
	struct fz_slot *s = fz_slot_get(t, 1);
	fz_eset allow = E(EAGAIN) | E(EBADFD);
	size_t len = FZ_PICK(r, sizes);
	struct iovec iov[4];
	int n, err;
	ssize_t ret;

	if (!s)
		return;
	n = fz_chance(r, 60) ? 1 : split_iov(r, iov, t->buf, len);
	if (n == 1) {
		iov[0].iov_base = t->buf;
		iov[0].iov_len = len;
	}
	if (fz_chance(r, 3)) {
		iov[fz_below(r, n)].iov_base = fz_bad_ptr(r);
		allow |= E(EFAULT);
	}
	/*
	 * EINVAL only for a buffer with no room for the tun_pi or the vnet
	 * header: a packet the reader cannot take is not the reader's error.
	 */
	if (len < 4 || (fz_load(&s->flags_ever) & IFF_VNET_HDR))
		allow |= E(EINVAL);
	if (s->mode == O_WRONLY)
		allow |= E(EBADF);
	fz_what(t, "read%s fd %d len %zu", n > 1 ? "v" : "", s->fd, len);
	ret = n == 1 ? read(s->fd, iov[0].iov_base, len) : readv(s->fd, iov, n);
	err = ret < 0 ? errno : 0;
	fz_slot_put(s);
	if (ret > (ssize_t)len) {
		fz_what(t, "read returned %zd into %zu bytes", ret, len);
		err = EMSGSIZE;
		allow = 0;
	}
	fz_done(t, FZ_READ, err, allow);
}

void fz_op_poll(struct fz_thread *t)
{
	struct fz_rng *r = &t->rng;
	struct fz_slot *s = fz_slot_get(t, -1);
	struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT };
	struct pollfd p;
	fz_eset allow = 0;
	int ret, op;

	if (!s)
		return;
	switch (fz_below(r, 4)) {
	case 0:
	case 1:
		p.fd = s->fd;
		p.events = POLLIN | POLLOUT | POLLPRI;
		fz_what(t, "poll fd %d", s->fd);
		ret = poll(&p, 1, fz_below(r, 3));
		if (ret > 0 && (p.revents & POLLNVAL)) {
			fz_what(t, "poll fd %d: POLLNVAL on an open fd", s->fd);
			ret = -1;
			errno = EBADF;
		}
		break;
	case 2:
		op = fz_below(r, 3);
		op = op == 0 ? EPOLL_CTL_ADD : op == 1 ? EPOLL_CTL_MOD : EPOLL_CTL_DEL;
		if (fz_chance(r, 50))
			ev.events |= EPOLLET;
		fz_what(t, "epoll_ctl %d fd %d", op, s->fd);
		ret = epoll_ctl(t->epfd, op, s->fd, &ev);
		allow = E(EEXIST) | E(ENOENT);
		break;
	default:
		fz_what(t, "fdinfo of fd %d", s->fd);
		snprintf((char *)t->buf2, 64, "/proc/self/fdinfo/%d", s->fd);
		ret = open((char *)t->buf2, O_RDONLY | O_CLOEXEC);
		if (ret >= 0) {
			op = read(ret, t->buf2, 4096) < 0 ? errno : 0;
			close(ret);
			ret = op ? -1 : 0;
			errno = op;
		}
		break;
	}
	fz_slot_put(s);
	if (fz_chance(r, 30)) {
		struct epoll_event evs[4];

		epoll_wait(t->epfd, evs, 4, 0);
	}
	fz_done(t, FZ_POLL, ret < 0 ? errno : 0, allow);
}

/*
 * A child that does a few things with the fds it inherited (raw system
 * calls only: it is a fork of a threaded process) and exits, or is killed,
 * perhaps while blocked in a read of a file of its own.
 */
/* Whether @fd is a file of the driver, not whatever else has the number now. */
static int is_node(int fd, dev_t node)
{
	struct stat st;

	return !fstat(fd, &st) && S_ISCHR(st.st_mode) && st.st_rdev == node;
}

static void fork_child(struct fz_thread *t, int blocked_reader)
{
	struct fz_rng *r = &t->rng;
	struct ifreq ifr;
	struct stat st;
	int i, fd;

	/* A child that cannot end by itself is killed, not waited for forever. */
	alarm(20);
	if (stat(ktun_path(), &st))
		_exit(1);
	if (blocked_reader) {
		const char *name = fz_pool_name(r);

		fd = open(ktun_path(), O_RDWR);
		memset(&ifr, 0, sizeof(ifr));
		memcpy(ifr.ifr_name, name, strnlen(name, IFNAMSIZ - 1));
		ifr.ifr_flags = (fz_chance(r, 50) ? IFF_TUN : IFF_TAP) | IFF_NO_PI |
				(fz_chance(r, 50) ? IFF_MULTI_QUEUE : 0);
		if (fd >= 0 && !ioctl(fd, TUNSETIFF, &ifr))
			for (;;)
				if (read(fd, t->buf, 2048) < 0)
					break;
		_exit(0);
	}
	for (i = 0; i < 8; i++) {
		/* Racy: the number may have been closed or reused meanwhile. */
		fd = __atomic_load_n(&fz_slots[fz_below(r, FZ_SLOTS)].fd, __ATOMIC_RELAXED);
		if (fd < 0 || !is_node(fd, st.st_rdev))
			continue;
		switch (fz_below(r, 6)) {
		case 0:
			if (write(fd, t->buf2, 60) < 0)
				break;
			break;
		case 1:
			if (read(fd, t->buf, sizeof(t->buf)) < 0)
				break;
			break;
		case 2:
			ioctl(fd, TUNSETPERSIST, fz_below(r, 2));
			break;
		case 3:
			memset(&ifr, 0, sizeof(ifr));
			ifr.ifr_flags = fz_chance(r, 50) ? IFF_DETACH_QUEUE : IFF_ATTACH_QUEUE;
			ioctl(fd, TUNSETQUEUE, &ifr);
			break;
		default:
			close(fd);
			break;
		}
	}
	_exit(0);
}

void fz_op_fork(struct fz_thread *t)
{
	struct fz_rng *r = &t->rng;
	int blocked = fz_chance(r, 30), kill_it = blocked || fz_chance(r, 30), st, err = 0;
	struct timespec ts = { 0, (1 + fz_below(r, 4)) * 1000000L };
	pid_t pid;

	fz_what(t, "fork%s%s", blocked ? ", a blocked reader" : "", kill_it ? ", killed" : "");
	pid = fork();
	if (!pid)
		fork_child(t, blocked);
	if (pid < 0) {
		fz_done(t, FZ_FORK, errno, 0);
		return;
	}
	if (kill_it) {
		nanosleep(&ts, NULL);
		kill(pid, SIGKILL);
	}
	if (waitpid(pid, &st, 0) != pid)
		err = errno;
	else if (WIFSIGNALED(st) && WTERMSIG(st) == SIGALRM) {
		fz_what(t, "a forked child still busy with the driver's fds after 20 s");
		err = ETIMEDOUT;
	}
	fz_done(t, FZ_FORK, err, 0);
}

