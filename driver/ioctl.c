// SPDX-License-Identifier: GPL-2.0
/* Copyright (C) 2026 The ktun authors. */
/*
 * The configuration ioctls of an attached file: everything in
 * <linux/if_tun.h> that acts on the device behind the file, with the stock
 * driver's semantics and errnos. Called under rtnl by the dispatch in chr.c,
 * which copies each argument in before (ktun_ioctl_copy_in) and each result
 * out after (ktun_ioctl_copy_out): nothing here touches user memory.
 */
#include <linux/capability.h>
#include <linux/module.h>
#include <linux/proc_fs.h>
#include <linux/proc_ns.h>
#include <linux/rtnetlink.h>
#include <linux/virtio_net.h>

#include "ktun.h"

static int set_vnet_hdr_sz(struct ktun_dev *kdev, const struct ktun_ioctl_arg *a)
{
	if (a->copy_err)
		return a->copy_err;
	if (a->val < (int)sizeof(struct virtio_net_hdr))
		return -EINVAL;
	WRITE_ONCE(kdev->vnet_hdr_sz, a->val);
	return 0;
}

static int set_vnet_le(struct ktun_dev *kdev, const struct ktun_ioctl_arg *a)
{
	if (a->copy_err)
		return a->copy_err;
	WRITE_ONCE(kdev->flags, a->val ? kdev->flags | KTUN_VNET_LE :
					 kdev->flags & ~KTUN_VNET_LE);
	return 0;
}

static int set_sndbuf(struct ktun_dev *kdev, const struct ktun_ioctl_arg *a)
{
	if (a->copy_err)
		return a->copy_err;
	if (a->val <= 0)
		return -EINVAL;
	/* Kept and reported. A written packet is in the stack before write()
	 * returns, so ktun has no send queue for this to bound.
	 */
	kdev->sndbuf = a->val;
	return 0;
}

static int set_carrier(struct ktun_dev *kdev, const struct ktun_ioctl_arg *a)
{
	if (a->copy_err)
		return a->copy_err;
	return ktun_net_change_carrier(kdev->dev, !!a->val);
}

static int get_hwaddr(struct ktun_dev *kdev, struct ktun_ioctl_arg *a)
{
	struct net_device *dev = kdev->dev;
	struct ifreq *ifr = &a->ifr;

	/* Under rtnl, which every address change also holds. */
	memset(&ifr->ifr_hwaddr, 0, sizeof(ifr->ifr_hwaddr));
	ifr->ifr_hwaddr.sa_family = dev->type;
	memcpy(ifr->ifr_hwaddr.sa_data, dev->dev_addr,
	       min_t(size_t, dev->addr_len,
		     sizeof(struct sockaddr) - offsetof(struct sockaddr, sa_data)));
	a->out = KTUN_OUT_IFREQ;
	return 0;
}

/* An int for the caller to copy out after rtnl. */
static int put_int(struct ktun_ioctl_arg *a, int val)
{
	a->val = val;
	a->out = KTUN_OUT_INT;
	return 0;
}

static int get_devnetns(struct ktun_dev *kdev)
{
	struct net *net = dev_net(kdev->dev);

	if (!ns_capable(net->user_ns, CAP_NET_ADMIN))
		return -EPERM;
	return open_related_ns(&net->ns, get_net_ns);
}

/* The commands whose argument is an int to read. */
static bool takes_int(unsigned int cmd)
{
	switch (cmd) {
	case TUNSETIFINDEX:
	case TUNSETVNETHDRSZ:
	case TUNSETVNETLE:
	case TUNSETSNDBUF:
	case TUNSETCARRIER:
	case TUNSETSTEERINGEBPF:
	case TUNSETFILTEREBPF:
		return true;
	default:
		return false;
	}
}

/*
 * Before rtnl: reads (and for the filters, builds) everything @cmd takes
 * from the user into @a. An ifreq that cannot be read fails the call at
 * once, as before any check; other failures wait in a->copy_err.
 */
int ktun_ioctl_copy_in(unsigned int cmd, void __user *argp, int ifreq_len,
		       struct ktun_ioctl_arg *a)
{
	memset(a, 0, sizeof(*a));
	if (cmd == TUNSETIFF || cmd == TUNSETQUEUE ||
	    _IOC_TYPE(cmd) == SOCK_IOC_TYPE)
		return copy_from_user(&a->ifr, argp, ifreq_len) ? -EFAULT : 0;
	if (takes_int(cmd))
		a->copy_err = get_user(a->val, (int __user *)argp) ? -EFAULT : 0;
	else if (cmd == TUNSETTXFILTER)
		a->copy_err = ktun_filter_prepare_tx(argp, a);
	else if (cmd == TUNATTACHFILTER)
		a->copy_err = ktun_filter_prepare_bpf(argp, a);
	return 0;
}

/* After rtnl: what the call hands back, if it succeeded. */
int ktun_ioctl_copy_out(void __user *argp, int ifreq_len,
			const struct ktun_ioctl_arg *a)
{
	switch (a->out) {
	case KTUN_OUT_IFREQ:
		return copy_to_user(argp, &a->ifr, ifreq_len) ? -EFAULT : 0;
	case KTUN_OUT_INT:
		return put_user(a->val, (int __user *)argp) ? -EFAULT : 0;
	case KTUN_OUT_FPROG:
		return copy_to_user(argp, &a->fprog, sizeof(a->fprog)) ? -EFAULT : 0;
	default:
		return 0;
	}
}

void ktun_ioctl_release(struct ktun_ioctl_arg *a)
{
	ktun_filter_release(a);
}

long ktun_ioctl_attached(struct ktun_file *kfile, struct ktun_dev *kdev,
			 unsigned int cmd, unsigned long arg,
			 struct ktun_ioctl_arg *a)
{
	struct net_device *dev = kdev->dev;
	int ret;
	kuid_t owner;
	kgid_t group;

	ASSERT_RTNL();
	switch (cmd) {
	case TUNGETIFF:
		strscpy(a->ifr.ifr_name, dev->name, IFNAMSIZ);
		a->ifr.ifr_flags = ktun_iff_flags(kdev);
		/* As stock: IFF_NOFILTER while no filter is attached. It is
		 * IFF_NO_PI's bit too: stock has the same ambiguity.
		 */
		if (!ktun_filter_attached(kdev))
			a->ifr.ifr_flags |= IFF_NOFILTER;
		if (kfile->disabled)
			a->ifr.ifr_flags |= IFF_DETACH_QUEUE;
		a->out = KTUN_OUT_IFREQ;
		return 0;

	case TUNSETPERSIST:
		if (ktun_iff_set_persist(kdev, arg))
			netdev_state_change(dev);
		return 0;

	case TUNSETOWNER:
		owner = make_kuid(current_user_ns(), arg);
		if (!uid_valid(owner))
			return -EINVAL;
		kdev->owner = owner;
		netdev_state_change(dev);
		return 0;

	case TUNSETGROUP:
		group = make_kgid(current_user_ns(), arg);
		if (!gid_valid(group))
			return -EINVAL;
		kdev->group = group;
		netdev_state_change(dev);
		return 0;

	case TUNSETLINK:
		return ktun_net_set_link_type(dev, arg);

	case TUNSETNOCSUM:
	case TUNSETDEBUG:
		/* Accepted and ignored, as by the stock driver. */
		return 0;

	case TUNSETOFFLOAD:
		return ktun_vnet_set_offload(kdev, arg);

	case TUNSETTXFILTER:
		return ktun_filter_set_tx(kdev, a);

	case SIOCGIFHWADDR:
		return get_hwaddr(kdev, a);

	case SIOCSIFHWADDR:
		return dev_set_mac_address_user(dev, &a->ifr.ifr_hwaddr, NULL);

	case TUNGETSNDBUF:
		return put_int(a, kdev->sndbuf);

	case TUNSETSNDBUF:
		return set_sndbuf(kdev, a);

	case TUNGETVNETHDRSZ:
		return put_int(a, kdev->vnet_hdr_sz);

	case TUNSETVNETHDRSZ:
		return set_vnet_hdr_sz(kdev, a);

	case TUNGETVNETLE:
		return put_int(a, !!(kdev->flags & KTUN_VNET_LE));

	case TUNSETVNETLE:
		return set_vnet_le(kdev, a);

	case TUNATTACHFILTER:
		return ktun_filter_attach(kdev, a);

	case TUNDETACHFILTER:
		if (!(kdev->flags & IFF_TAP))
			return -EINVAL;
		ktun_filter_detach(kdev);
		return 0;

	case TUNGETFILTER:
		ret = ktun_filter_get(kdev, &a->fprog);
		if (!ret)
			a->out = KTUN_OUT_FPROG;
		return ret;

	case TUNSETCARRIER:
		return set_carrier(kdev, a);

	case TUNGETDEVNETNS:
		return get_devnetns(kdev);

	case TUNSETSTEERINGEBPF:
		return ktun_ebpf_set(kdev, &kdev->steering_prog, a);

	case TUNSETFILTEREBPF:
		return ktun_ebpf_set(kdev, &kdev->filter_prog, a);

	default:
		/* Including TUNSETVNETBE/TUNGETVNETBE, which stock builds
		 * without (CONFIG_TUN_VNET_CROSS_LE).
		 */
		return -EINVAL;
	}
}
