// SPDX-License-Identifier: GPL-2.0
/* Copyright (C) 2026 The ktun authors. */
/*
 * The rtnl_link_ops: the link kind ("ktun", or "tun" in compat mode) that
 * lets "ip link del" remove a device and rmmod remove them all, and, beyond
 * the stock driver, "ip link add NAME type ktun" create one. A device made
 * here is persistent and has no file attached; an application attaches with
 * TUNSETIFF as to any persistent device. IFLA_INFO_DATA takes the
 * IFLA_TUN_* attributes that "ip -d link show" prints (attrs.c fills them).
 * Creation itself is iff.c's ktun_iff_register(), shared with TUNSETIFF.
 */
#include <linux/if_link.h>
#include <linux/module.h>
#include <linux/security.h>
#include <net/netlink.h>
#include <net/rtnetlink.h>

#include "ktun.h"

/* The booleans are 0 or 1; the queue counts are for reading only. */
static const struct nla_policy ktun_link_policy[IFLA_TUN_MAX + 1] = {
	[IFLA_TUN_OWNER]	= { .type = NLA_U32 },
	[IFLA_TUN_GROUP]	= { .type = NLA_U32 },
	[IFLA_TUN_TYPE]		= NLA_POLICY_RANGE(NLA_U8, IFF_TUN, IFF_TAP),
	[IFLA_TUN_PI]		= NLA_POLICY_MAX(NLA_U8, 1),
	[IFLA_TUN_VNET_HDR]	= NLA_POLICY_MAX(NLA_U8, 1),
	[IFLA_TUN_PERSIST]	= NLA_POLICY_MAX(NLA_U8, 1),
	[IFLA_TUN_MULTI_QUEUE]	= NLA_POLICY_MAX(NLA_U8, 1),
	[IFLA_TUN_NUM_QUEUES]	= {
		.type = NLA_REJECT,
		.reject_message = "the number of queues is the number of attached files",
	},
	[IFLA_TUN_NUM_DISABLED_QUEUES] = {
		.type = NLA_REJECT,
		.reject_message = "the number of disabled queues is set by TUNSETQUEUE",
	},
};

static struct nlattr *link_data(struct nlattr *tb[])
{
	return tb[IFLA_LINKINFO] ?
	       nla_find_nested(tb[IFLA_LINKINFO], IFLA_INFO_DATA) : NULL;
}

static bool link_flag(struct nlattr *data[], int type)
{
	return data && data[type] && nla_get_u8(data[type]);
}

static bool too_many_queues(struct nlattr *a, struct netlink_ext_ack *extack)
{
	if (!a || nla_get_u32(a) <= KTUN_MAX_QUEUES)
		return false;
	NL_SET_ERR_MSG_ATTR(extack, a, "a ktun device has at most 256 queues");
	return true;
}

/*
 * The core parses IFLA_INFO_DATA liberally and silently drops attributes
 * above our maxtype; look at the raw nest so that nothing is ignored.
 */
static int ktun_link_validate(struct nlattr *tb[], struct nlattr *data[],
			      struct netlink_ext_ack *extack)
{
	struct nlattr *nest = link_data(tb), *a;
	struct user_namespace *ns = current_user_ns();
	int rem;

	if (nest) {
		nla_for_each_nested(a, nest, rem) {
			if (!nla_type(a) || nla_type(a) > IFLA_TUN_MAX) {
				NL_SET_ERR_MSG_ATTR(extack, a,
						    "unknown IFLA_TUN_* attribute");
				return -EINVAL;
			}
		}
	}
	if (too_many_queues(tb[IFLA_NUM_TX_QUEUES], extack) ||
	    too_many_queues(tb[IFLA_NUM_RX_QUEUES], extack))
		return -EINVAL;
	if (!data)
		return 0;
	if (data[IFLA_TUN_PERSIST] && !nla_get_u8(data[IFLA_TUN_PERSIST])) {
		NL_SET_ERR_MSG_ATTR(extack, data[IFLA_TUN_PERSIST],
				    "a device made over rtnetlink is persistent; TUNSETPERSIST 0 after attaching makes it go with its last file");
		return -EINVAL;
	}
	if (data[IFLA_TUN_OWNER] &&
	    !uid_valid(make_kuid(ns, nla_get_u32(data[IFLA_TUN_OWNER])))) {
		NL_SET_ERR_MSG_ATTR(extack, data[IFLA_TUN_OWNER],
				    "owner has no mapping in this user namespace");
		return -EINVAL;
	}
	if (data[IFLA_TUN_GROUP] &&
	    !gid_valid(make_kgid(ns, nla_get_u32(data[IFLA_TUN_GROUP])))) {
		NL_SET_ERR_MSG_ATTR(extack, data[IFLA_TUN_GROUP],
				    "group has no mapping in this user namespace");
		return -EINVAL;
	}
	return 0;
}

/*
 * A multi-queue device needs its queues allocated with it, as TUNSETIFF
 * does; the data is validated by now but not yet parsed for us. An
 * explicit numtxqueues/numrxqueues bounds how many files may attach.
 */
static struct net_device *ktun_link_alloc(struct nlattr *tb[],
					  const char *ifname,
					  unsigned char name_assign_type,
					  unsigned int txqs, unsigned int rxqs)
{
	struct nlattr *data = link_data(tb), *mq;
	struct net_device *dev;

	mq = data ? nla_find_nested(data, IFLA_TUN_MULTI_QUEUE) : NULL;
	if (mq && nla_get_u8(mq)) {
		if (!tb[IFLA_NUM_TX_QUEUES])
			txqs = KTUN_MAX_QUEUES;
		if (!tb[IFLA_NUM_RX_QUEUES])
			rxqs = KTUN_MAX_QUEUES;
	}
	dev = alloc_netdev_mqs(sizeof(struct ktun_dev), ifname,
			       name_assign_type, ktun_net_setup, txqs, rxqs);
	return dev ?: ERR_PTR(-ENOMEM);
}

/*
 * Under rtnl; the core has checked CAP_NET_ADMIN over the namespace the
 * device goes to, as TUNSETIFF does, and frees @dev if this fails.
 */
static int ktun_link_newlink(struct net *src_net, struct net_device *dev,
			     struct nlattr *tb[], struct nlattr *data[],
			     struct netlink_ext_ack *extack)
{
	struct user_namespace *ns = current_user_ns();
	unsigned int flags = IFF_TUN;
	kuid_t owner = INVALID_UID;
	kgid_t group = INVALID_GID;
	int ret;

	if (data && data[IFLA_TUN_TYPE])
		flags = nla_get_u8(data[IFLA_TUN_TYPE]);
	/* As "ip tuntap add": no tun_pi unless asked for. */
	if (!link_flag(data, IFLA_TUN_PI))
		flags |= IFF_NO_PI;
	if (link_flag(data, IFLA_TUN_VNET_HDR))
		flags |= IFF_VNET_HDR;
	if (link_flag(data, IFLA_TUN_MULTI_QUEUE))
		flags |= IFF_MULTI_QUEUE;
	if (data && data[IFLA_TUN_OWNER])
		owner = make_kuid(ns, nla_get_u32(data[IFLA_TUN_OWNER]));
	if (data && data[IFLA_TUN_GROUP])
		group = make_kgid(ns, nla_get_u32(data[IFLA_TUN_GROUP]));
	/* The LSM hook TUNSETIFF calls before creating a device. */
	ret = security_tun_dev_create();
	if (ret)
		return ret;
	/* Unnamed, the core would call it "ktun%d"; name it as TUNSETIFF. */
	if (!tb[IFLA_IFNAME])
		strscpy(dev->name, flags & IFF_TAP ? "tap%d" : "tun%d",
			sizeof(dev->name));

	ret = ktun_iff_register(dev, flags, owner, group);
	if (ret) {
		NL_SET_ERR_MSG(extack, "registering the device failed");
		return ret;
	}
	ktun_iff_set_persist(netdev_priv(dev), true);
	return 0;
}

struct rtnl_link_ops ktun_link_ops __read_mostly = {
	/* .kind is set at init: "ktun", or "tun" in compat mode. */
	.priv_size	= sizeof(struct ktun_dev),
	.setup		= ktun_net_setup,
	.alloc		= ktun_link_alloc,
	.maxtype	= IFLA_TUN_MAX,
	.policy		= ktun_link_policy,
	.validate	= ktun_link_validate,
	.newlink	= ktun_link_newlink,
	.get_size	= ktun_attrs_get_size,
	.fill_info	= ktun_attrs_fill_info,
};

int ktun_link_init(void)
{
	int ret;

	ktun_link_ops.kind = ktun_compat ? "tun" : "ktun";
	ret = rtnl_link_register(&ktun_link_ops);
	if (ret)
		pr_err("ktun: cannot register link kind \"%s\" (%d)%s\n",
		       ktun_link_ops.kind, ret,
		       ktun_compat ? ": is the stock tun module loaded?" : "");
	return ret;
}

/* Deletes every ktun device in every namespace. */
void ktun_link_uninit(void)
{
	rtnl_link_unregister(&ktun_link_ops);
}
