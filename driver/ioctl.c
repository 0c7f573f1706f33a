// SPDX-License-Identifier: GPL-2.0
/* Copyright (C) 2026 The ktun authors. */
/*
 * The configuration ioctls of an attached file: everything in
 * <linux/if_tun.h> that acts on the device behind the file, with the stock
 * driver's semantics and errnos. Called under rtnl by the dispatch in chr.c.
 */
#include <linux/capability.h>
#include <linux/module.h>
#include <linux/proc_fs.h>
#include <linux/proc_ns.h>
#include <linux/rtnetlink.h>
#include <linux/virtio_net.h>

#include "ktun.h"

static int set_persist(struct ktun_dev *kdev, unsigned long arg)
{
	/* A persistent device keeps the module loaded, as with stock tun. */
	if (arg && !(kdev->flags & IFF_PERSIST)) {
		WRITE_ONCE(kdev->flags, kdev->flags | IFF_PERSIST);
		__module_get(THIS_MODULE);
	} else if (!arg && (kdev->flags & IFF_PERSIST)) {
		WRITE_ONCE(kdev->flags, kdev->flags & ~IFF_PERSIST);
		module_put(THIS_MODULE);
	} else {
		return 0;
	}
	netdev_state_change(kdev->dev);
	return 0;
}

static int get_int(void __user *argp, int *val)
{
	return get_user(*val, (int __user *)argp) ? -EFAULT : 0;
}

static int put_int(void __user *argp, int val)
{
	return put_user(val, (int __user *)argp) ? -EFAULT : 0;
}

static int set_vnet_hdr_sz(struct ktun_dev *kdev, void __user *argp)
{
	int sz, ret;

	ret = get_int(argp, &sz);
	if (ret)
		return ret;
	if (sz < (int)sizeof(struct virtio_net_hdr))
		return -EINVAL;
	WRITE_ONCE(kdev->vnet_hdr_sz, sz);
	return 0;
}

static int set_vnet_le(struct ktun_dev *kdev, void __user *argp)
{
	int le, ret;

	ret = get_int(argp, &le);
	if (ret)
		return ret;
	WRITE_ONCE(kdev->flags, le ? kdev->flags | KTUN_VNET_LE :
				     kdev->flags & ~KTUN_VNET_LE);
	return 0;
}

static int set_sndbuf(struct ktun_dev *kdev, void __user *argp)
{
	int sndbuf, ret;

	ret = get_int(argp, &sndbuf);
	if (ret)
		return ret;
	if (sndbuf <= 0)
		return -EINVAL;
	/* Kept and reported. A written packet is in the stack before write()
	 * returns, so ktun has no send queue for this to bound.
	 */
	kdev->sndbuf = sndbuf;
	return 0;
}

static int set_carrier(struct ktun_dev *kdev, void __user *argp)
{
	int carrier, ret;

	ret = get_int(argp, &carrier);
	if (ret)
		return ret;
	return ktun_net_change_carrier(kdev->dev, !!carrier);
}

static int get_hwaddr(struct ktun_dev *kdev, struct ifreq *ifr,
		      void __user *argp, int ifreq_len)
{
	struct net_device *dev = kdev->dev;

	/* Under rtnl, which every address change also holds. */
	memset(&ifr->ifr_hwaddr, 0, sizeof(ifr->ifr_hwaddr));
	ifr->ifr_hwaddr.sa_family = dev->type;
	memcpy(ifr->ifr_hwaddr.sa_data, dev->dev_addr,
	       min_t(size_t, dev->addr_len,
		     sizeof(struct sockaddr) - offsetof(struct sockaddr, sa_data)));
	return copy_to_user(argp, ifr, ifreq_len) ? -EFAULT : 0;
}

/*
 * ktun offers no eBPF steering or filter programs: "none" (-1) is what
 * every device has, and any program is refused.
 */
static int set_ebpf(void __user *argp)
{
	int fd, ret;

	ret = get_int(argp, &fd);
	if (ret)
		return ret;
	return fd == -1 ? 0 : -EINVAL;
}

static int get_devnetns(struct ktun_dev *kdev)
{
	struct net *net = dev_net(kdev->dev);

	if (!ns_capable(net->user_ns, CAP_NET_ADMIN))
		return -EPERM;
	return open_related_ns(&net->ns, get_net_ns);
}

long ktun_ioctl_attached(struct ktun_file *kfile, struct ktun_dev *kdev,
			 unsigned int cmd, unsigned long arg,
			 struct ifreq *ifr, int ifreq_len)
{
	void __user *argp = (void __user *)arg;
	struct net_device *dev = kdev->dev;
	kuid_t owner;
	kgid_t group;

	ASSERT_RTNL();
	switch (cmd) {
	case TUNGETIFF:
		strscpy(ifr->ifr_name, dev->name, IFNAMSIZ);
		ifr->ifr_flags = ktun_iff_flags(kdev);
		/* As stock: IFF_NOFILTER while no filter is attached. It is
		 * IFF_NO_PI's bit too: stock has the same ambiguity.
		 */
		if (!ktun_filter_attached(kdev))
			ifr->ifr_flags |= IFF_NOFILTER;
		if (kfile->disabled)
			ifr->ifr_flags |= IFF_DETACH_QUEUE;
		return copy_to_user(argp, ifr, ifreq_len) ? -EFAULT : 0;

	case TUNSETPERSIST:
		return set_persist(kdev, arg);

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
		return ktun_filter_set_tx(kdev, argp);

	case SIOCGIFHWADDR:
		return get_hwaddr(kdev, ifr, argp, ifreq_len);

	case SIOCSIFHWADDR:
		return dev_set_mac_address_user(dev, &ifr->ifr_hwaddr, NULL);

	case TUNGETSNDBUF:
		return put_int(argp, kdev->sndbuf);

	case TUNSETSNDBUF:
		return set_sndbuf(kdev, argp);

	case TUNGETVNETHDRSZ:
		return put_int(argp, kdev->vnet_hdr_sz);

	case TUNSETVNETHDRSZ:
		return set_vnet_hdr_sz(kdev, argp);

	case TUNGETVNETLE:
		return put_int(argp, !!(kdev->flags & KTUN_VNET_LE));

	case TUNSETVNETLE:
		return set_vnet_le(kdev, argp);

	case TUNATTACHFILTER:
		return ktun_filter_attach(kdev, argp);

	case TUNDETACHFILTER:
		if (!(kdev->flags & IFF_TAP))
			return -EINVAL;
		ktun_filter_detach(kdev);
		return 0;

	case TUNGETFILTER:
		return ktun_filter_get(kdev, argp);

	case TUNSETCARRIER:
		return set_carrier(kdev, argp);

	case TUNGETDEVNETNS:
		return get_devnetns(kdev);

	case TUNSETSTEERINGEBPF:
	case TUNSETFILTEREBPF:
		return set_ebpf(argp);

	default:
		/* Including TUNSETVNETBE/TUNGETVNETBE, which stock builds
		 * without (CONFIG_TUN_VNET_CROSS_LE).
		 */
		return -EINVAL;
	}
}
