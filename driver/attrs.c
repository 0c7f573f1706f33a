// SPDX-License-Identifier: GPL-2.0
/* Copyright (C) 2026 The ktun authors. */
/*
 * What tools read about a device: the sysfs attributes tun_flags, owner and
 * group (ip tuntap show lists devices by them), and the IFLA_TUN_*
 * attributes of "ip -d link show". Formats are the stock driver's.
 */
#include <linux/device.h>
#include <linux/rtnetlink.h>
#include <net/netlink.h>

#include "ktun.h"

static struct ktun_dev *to_kdev(struct device *d)
{
	return netdev_priv(to_net_dev(d));
}

static ssize_t tun_flags_show(struct device *d, struct device_attribute *attr,
			      char *buf)
{
	return sysfs_emit(buf, "0x%x\n", ktun_iff_flags(to_kdev(d)));
}

static ssize_t owner_show(struct device *d, struct device_attribute *attr,
			  char *buf)
{
	kuid_t owner = READ_ONCE(to_kdev(d)->owner);

	if (!uid_valid(owner))
		return sysfs_emit(buf, "-1\n");
	return sysfs_emit(buf, "%u\n", from_kuid_munged(current_user_ns(), owner));
}

static ssize_t group_show(struct device *d, struct device_attribute *attr,
			  char *buf)
{
	kgid_t group = READ_ONCE(to_kdev(d)->group);

	if (!gid_valid(group))
		return sysfs_emit(buf, "-1\n");
	return sysfs_emit(buf, "%u\n", from_kgid_munged(current_user_ns(), group));
}

static DEVICE_ATTR_RO(tun_flags);
static DEVICE_ATTR_RO(owner);
static DEVICE_ATTR_RO(group);

static struct attribute *ktun_attrs[] = {
	&dev_attr_tun_flags.attr,
	&dev_attr_owner.attr,
	&dev_attr_group.attr,
	NULL
};

const struct attribute_group ktun_attr_group = {
	.attrs = ktun_attrs,
};

size_t ktun_attrs_get_size(const struct net_device *dev)
{
	return nla_total_size(sizeof(u8)) * 5 +	/* TYPE PI VNET_HDR PERSIST MULTI_QUEUE */
	       nla_total_size(sizeof(u32)) * 4;		/* OWNER GROUP NUM_QUEUES NUM_DISABLED */
}

/* Under rtnl, as rtnetlink dumps are. */
int ktun_attrs_fill_info(struct sk_buff *skb, const struct net_device *dev)
{
	const struct ktun_dev *kdev = netdev_priv(dev);
	unsigned int flags = kdev->flags;

	if (nla_put_u8(skb, IFLA_TUN_TYPE, flags & KTUN_TYPE_MASK) ||
	    (uid_valid(kdev->owner) &&
	     nla_put_u32(skb, IFLA_TUN_OWNER,
			 from_kuid_munged(current_user_ns(), kdev->owner))) ||
	    (gid_valid(kdev->group) &&
	     nla_put_u32(skb, IFLA_TUN_GROUP,
			 from_kgid_munged(current_user_ns(), kdev->group))) ||
	    nla_put_u8(skb, IFLA_TUN_PI, !(flags & IFF_NO_PI)) ||
	    nla_put_u8(skb, IFLA_TUN_VNET_HDR, !!(flags & IFF_VNET_HDR)) ||
	    nla_put_u8(skb, IFLA_TUN_PERSIST, !!(flags & IFF_PERSIST)) ||
	    nla_put_u8(skb, IFLA_TUN_MULTI_QUEUE, !!(flags & IFF_MULTI_QUEUE)))
		return -EMSGSIZE;
	if ((flags & IFF_MULTI_QUEUE) &&
	    (nla_put_u32(skb, IFLA_TUN_NUM_QUEUES, kdev->numqueues) ||
	     nla_put_u32(skb, IFLA_TUN_NUM_DISABLED_QUEUES, kdev->numdisabled)))
		return -EMSGSIZE;
	return 0;
}
