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
	kfile->net = get_net(current->nsproxy->net_ns);
	file->private_data = kfile;
	ktun_obj_created();
	return stream_open(inode, file);

err_free:
	kfree(kfile);
	return ret;
}

/* Teardown of a file: detach (which may delete the device), then free. */
static int ktun_chr_release(struct inode *inode, struct file *file)
{
	struct ktun_file *kfile = file->private_data;

	ktun_iff_detach(kfile);
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

static __poll_t ktun_chr_poll(struct file *file, poll_table *wait)
{
	struct ktun_file *kfile = file->private_data;
	__poll_t mask = EPOLLOUT | EPOLLWRNORM;

	poll_wait(file, &kfile->wq, wait);
	/* Pairs with the barrier in ktun_queue_push(). */
	smp_mb();
	if (!rcu_access_pointer(kfile->kdev))
		return EPOLLERR;
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

static int set_ifindex(struct ktun_file *kfile, void __user *argp)
{
	int ifindex;

	if (get_user(ifindex, (int __user *)argp))
		return -EFAULT;
	if (ifindex < 0)
		return -EINVAL;
	kfile->ifindex = ifindex;
	return 0;
}

static long ktun_ioctl(struct file *file, unsigned int cmd,
		       unsigned long arg, int ifreq_len)
{
	struct ktun_file *kfile = file->private_data;
	void __user *argp = (void __user *)arg;
	struct ktun_dev *kdev;
	struct ifreq ifr;
	long ret;

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

	memset(&ifr, 0, sizeof(ifr));
	if ((cmd == TUNSETIFF || cmd == TUNSETQUEUE ||
	     _IOC_TYPE(cmd) == SOCK_IOC_TYPE) &&
	    copy_from_user(&ifr, argp, ifreq_len))
		return -EFAULT;

	rtnl_lock();
	kdev = rtnl_dereference(kfile->kdev);
	switch (cmd) {
	case TUNSETIFF:
		ret = -EEXIST;
		if (kdev)
			break;
		ret = ktun_iff_set(kfile, &ifr);
		if (!ret && copy_to_user(argp, &ifr, ifreq_len))
			ret = -EFAULT;
		break;
	case TUNSETQUEUE:
		ret = ktun_iff_set_queue(kfile, (u16)ifr.ifr_flags);
		break;
	case TUNSETIFINDEX:
		ret = kdev ? -EPERM : set_ifindex(kfile, argp);
		break;
	default:
		ret = kdev ? ktun_ioctl_attached(kfile, kdev, cmd, arg, &ifr,
						 ifreq_len) : -EBADFD;
		break;
	}
	rtnl_unlock();
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
