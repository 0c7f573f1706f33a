// SPDX-License-Identifier: GPL-2.0
/* Copyright (C) 2026 The ktun authors. */
/*
 * The character device: /dev/net/ktun, or /dev/net/tun with compat=1.
 * open, close, read, write, poll, mmap and the ioctl dispatch. Each open file is a
 * struct ktun_file; TUNSETIFF attaches it to a device (iff.c).
 */
#include <linux/compat.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/poll.h>
#include <linux/proc_fs.h>
#include <linux/proc_ns.h>
#include <linux/rtnetlink.h>
#include <linux/sched.h>
#include <linux/seq_file.h>
#include <linux/sockios.h>
#include <net/net_namespace.h>

#include "ktun.h"

static int ktun_chr_open(struct inode *inode, struct file *file)
{
	struct ktun_file *kfile;
	int ret;

	kfile = kzalloc(sizeof(*kfile), GFP_KERNEL);
	if (!kfile)
		return -ENOMEM;
	ret = ktun_queue_init(kfile);
	if (ret)
		goto err_free;
	ktun_napi_init(kfile);
	kfile->net = get_net(current->nsproxy->net_ns);
	ret = ktun_lsm_file_init(kfile);
	if (ret)
		goto err_net;
	file->private_data = kfile;
	ktun_obj_created();
	return stream_open(inode, file);

err_net:
	put_net(kfile->net);
	ktun_queue_uninit(kfile);
err_free:
	kfree(kfile);
	return ret;
}

/* Teardown of a file: detach (which may delete the device), then free. */
static int ktun_chr_release(struct inode *inode, struct file *file)
{
	struct ktun_file *kfile = file->private_data;

	ktun_iff_detach(kfile);
	ktun_lsm_file_uninit(kfile);
	ktun_ring_release(kfile);
	ktun_queue_uninit(kfile);
	put_net(kfile->net);
	kfree(kfile);
	ktun_obj_destroyed();
	return 0;
}

static bool nonblocking(const struct kiocb *iocb)
{
	return (iocb->ki_filp->f_flags & O_NONBLOCK) ||
	       (iocb->ki_flags & IOCB_NOWAIT);
}

/*
 * With an rx ring the stack's packets go there: read() returns what the
 * packet queue still held from before the setup, then EBUSY.
 */
static ssize_t ktun_chr_read_iter(struct kiocb *iocb, struct iov_iter *to)
{
	struct ktun_file *kfile = iocb->ki_filp->private_data;
	ssize_t ret;

	if (likely(!ktun_ring_rx_active(kfile)))
		return ktun_pkt_read(kfile, to, nonblocking(iocb));
	ret = ktun_pkt_read(kfile, to, true);
	return ret == -EAGAIN ? -EBUSY : ret;
}

static ssize_t ktun_chr_write_iter(struct kiocb *iocb, struct iov_iter *from)
{
	return ktun_pkt_write(iocb->ki_filp->private_data, from);
}

/*
 * EPOLLIN while a packet is queued; EPOLLOUT while the interface is up, as
 * stock: a write to a down one fails with EIO. A writer waiting for
 * EPOLLOUT is woken by NETDEV_UP (ktun_iff_wake_writers()), which comes
 * after IFF_UP is set; its wakeup takes kfile->wq's lock, which orders it
 * against our poll_wait() and the check after.
 */
static __poll_t ktun_chr_poll(struct file *file, poll_table *wait)
{
	struct ktun_file *kfile = file->private_data;
	struct ktun_dev *kdev;
	__poll_t mask = 0;

	poll_wait(file, &kfile->wq, wait);
	/* Pairs with the barrier in ktun_queue_push(). */
	smp_mb();
	rcu_read_lock();
	kdev = rcu_dereference(kfile->kdev);
	if (!kdev)
		mask = EPOLLERR;
	else if (READ_ONCE(kdev->dev->flags) & IFF_UP)
		mask = EPOLLOUT | EPOLLWRNORM;
	rcu_read_unlock();
	if (mask == EPOLLERR)
		return mask;
	if (ktun_ring_poll(kfile, &mask))
		return mask;
	if (ktun_queue_readable(kfile))
		mask |= EPOLLIN | EPOLLRDNORM;
	return mask;
}

static int ktun_chr_mmap(struct file *file, struct vm_area_struct *vma)
{
	return ktun_ring_mmap(file->private_data, vma);
}

static int ktun_chr_fasync(int fd, struct file *file, int on)
{
	struct ktun_file *kfile = file->private_data;

	return fasync_helper(fd, file, on, &kfile->fasync);
}

static int set_ifindex(struct ktun_file *kfile, const struct ktun_ioctl_arg *a)
{
	if (a->copy_err)
		return a->copy_err;
	if (a->val < 0)
		return -EINVAL;
	kfile->ifindex = a->val;
	return 0;
}

/*
 * The dispatch. rtnl is held for the call but never across a user copy:
 * the argument is copied in before and the result out after (ioctl.c).
 */
static long ktun_ioctl(struct file *file, unsigned int cmd,
		       unsigned long arg, int ifreq_len)
{
	struct ktun_file *kfile = file->private_data;
	void __user *argp = (void __user *)arg;
	struct ktun_ioctl_arg a;
	struct ktun_dev *kdev;
	long ret;
	int err;

	/* The ring ioctls take rtnl themselves, and only where needed. */
	ret = ktun_ring_ioctl(kfile, cmd, arg);
	if (ret != -ENOIOCTLCMD)
		return ret;

	/* These work on any file, attached or not. */
	if (cmd == TUNGETFEATURES)
		return put_user(KTUN_IFF_SUPPORTED, (unsigned int __user *)argp);
	if (cmd == SIOCGSKNS) {
		if (!ns_capable(kfile->net->user_ns, CAP_NET_ADMIN))
			return -EPERM;
		return open_related_ns(&kfile->net->ns, get_net_ns);
	}

	ret = ktun_ioctl_copy_in(cmd, argp, ifreq_len, &a);
	if (ret)
		return ret;

	rtnl_lock();
	kdev = rtnl_dereference(kfile->kdev);
	switch (cmd) {
	case TUNSETIFF:
		ret = -EEXIST;
		if (kdev)
			break;
		ret = ktun_iff_set(kfile, &a.ifr);
		if (!ret)
			a.out = KTUN_OUT_IFREQ;
		break;
	case TUNSETQUEUE:
		ret = ktun_iff_set_queue(kfile, (u16)a.ifr.ifr_flags);
		break;
	case TUNSETIFINDEX:
		ret = kdev ? -EPERM : set_ifindex(kfile, &a);
		break;
	default:
		ret = kdev ? ktun_ioctl_attached(kfile, kdev, cmd, arg, &a) :
			     -EBADFD;
		break;
	}
	rtnl_unlock();

	if (ret >= 0) {
		err = ktun_ioctl_copy_out(argp, ifreq_len, &a);
		if (err)
			ret = err;
	}
	ktun_ioctl_release(&a);
	return ret;
}

static long ktun_chr_ioctl(struct file *file, unsigned int cmd,
			   unsigned long arg)
{
	return ktun_ioctl(file, cmd, arg, sizeof(struct ifreq));
}

#ifdef CONFIG_COMPAT
/* 32-bit programs: pointers need widening, and their ifreq is shorter. */
static long ktun_chr_compat_ioctl(struct file *file, unsigned int cmd,
				  unsigned long arg)
{
	switch (cmd) {
	case TUNSETIFF:
	case TUNGETIFF:
	case TUNSETTXFILTER:
	case TUNGETSNDBUF:
	case TUNSETSNDBUF:
	case SIOCGIFHWADDR:
	case SIOCSIFHWADDR:
		arg = (unsigned long)compat_ptr(arg);
		break;
	default:
		arg = (compat_ulong_t)arg;
		break;
	}
	return ktun_ioctl(file, cmd, arg, sizeof(struct compat_ifreq));
}
#endif

/* The "iff:" line of /proc/<pid>/fdinfo, as ip tuntap show reads it. */
static void ktun_chr_show_fdinfo(struct seq_file *m, struct file *file)
{
	struct ktun_file *kfile = file->private_data;
	struct ktun_dev *kdev;
	char name[IFNAMSIZ] = "";

	/* rtnl keeps the name stable while we copy it. */
	rtnl_lock();
	kdev = rtnl_dereference(kfile->kdev);
	if (kdev)
		strscpy(name, kdev->dev->name, IFNAMSIZ);
	rtnl_unlock();
	seq_printf(m, "iff:\t%s\n", name);
}

static const struct file_operations ktun_fops = {
	.owner		= THIS_MODULE,
	.llseek		= ktun_no_llseek,
	.read_iter	= ktun_chr_read_iter,
	.write_iter	= ktun_chr_write_iter,
	.poll		= ktun_chr_poll,
	.mmap		= ktun_chr_mmap,
	.unlocked_ioctl	= ktun_chr_ioctl,
#ifdef CONFIG_COMPAT
	.compat_ioctl	= ktun_chr_compat_ioctl,
#endif
	.open		= ktun_chr_open,
	.release	= ktun_chr_release,
	.fasync		= ktun_chr_fasync,
	.show_fdinfo	= ktun_chr_show_fdinfo,
};

static struct miscdevice ktun_miscdev = {
	.fops		= &ktun_fops,
};

int ktun_chr_init(void)
{
	int ret;

	if (ktun_compat) {
		ktun_miscdev.minor = TUN_MINOR;
		ktun_miscdev.name = "tun";
		ktun_miscdev.nodename = "net/tun";
	} else {
		ktun_miscdev.minor = MISC_DYNAMIC_MINOR;
		ktun_miscdev.name = "ktun";
		ktun_miscdev.nodename = "net/ktun";
	}
	ret = misc_register(&ktun_miscdev);
	if (ret)
		pr_err("ktun: cannot register /dev/%s (%d)%s\n",
		       ktun_miscdev.nodename, ret,
		       ktun_compat ? ": the node is taken; unload the stock tun module first" : "");
	return ret;
}

void ktun_chr_uninit(void)
{
	misc_deregister(&ktun_miscdev);
}
