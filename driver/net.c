// SPDX-License-Identifier: GPL-2.0
/* Copyright (C) 2026 The ktun authors. */
/*
 * The net_device side: device setup for both types, transmit into the
 * per-file queues, statistics, and the notifier that resizes the queues
 * with txqueuelen. The link kind is link.c's, ethtool is ethtool.c's.
 */
#include <linux/etherdevice.h>
#include <linux/if_arp.h>
#include <linux/module.h>
#include <linux/netfilter.h>
#include <linux/security.h>
#include <linux/virtio_net.h>
#include <net/rtnetlink.h>

#include "ktun.h"

#define KTUN_MIN_MTU	68

static int ktun_net_init_dev(struct net_device *dev)
{
	struct ktun_dev *kdev = netdev_priv(dev);
	int ret;

	ret = ktun_stats_alloc(dev);
	if (ret)
		return ret;
	/* Freed by ktun_net_destruct(), which a failed register runs too. */
	ret = security_tun_dev_alloc_security(&kdev->security);
	if (ret) {
		ktun_stats_free(dev);
		return ret;
	}
	ktun_obj_created();
	return 0;
}

/* Runs inside unregister_netdevice, under rtnl: detach every file first. */
static void ktun_net_uninit_dev(struct net_device *dev)
{
	struct ktun_dev *kdev = netdev_priv(dev);

	ktun_iff_detach_all(kdev);
	ktun_filter_uninit(kdev);
	ktun_ebpf_uninit(kdev);
}

/* The last word on a device: after uninit and a grace period. */
static void ktun_net_destruct(struct net_device *dev)
{
	struct ktun_dev *kdev = netdev_priv(dev);

	security_tun_dev_free_security(kdev->security);
	ktun_stats_free(dev);
	ktun_obj_destroyed();
}

static int ktun_net_open(struct net_device *dev)
{
	netif_tx_start_all_queues(dev);
	return 0;
}

static int ktun_net_stop(struct net_device *dev)
{
	netif_tx_stop_all_queues(dev);
	return 0;
}

/*
 * Softirq (or process context with BHs off), any CPU, no lock of ours: the
 * queue is found through RCU and may be detaching; a packet with no queue
 * to go to is dropped and counted.
 */
static netdev_tx_t ktun_net_xmit(struct sk_buff *skb, struct net_device *dev)
{
	struct ktun_dev *kdev = netdev_priv(dev);
	u16 txq = skb_get_queue_mapping(skb);
	struct ktun_file *kfile;
	struct ktun_ring *ring;

	rcu_read_lock();
	/*
	 * The core caps the mapping at real_num_tx_queues, which trails
	 * numqueues while a queue retires (iff.c): a stale one is dropped,
	 * as by stock, and never indexes past the queues in use.
	 */
	if (unlikely(txq >= READ_ONCE(kdev->numqueues)))
		goto drop;
	kfile = rcu_dereference(kdev->queues[txq]);
	if (unlikely(!kfile))
		goto drop;
	if (unlikely(rcu_access_pointer(kdev->txfilter) ||
		     rcu_access_pointer(kdev->bpf)) &&
	    !ktun_filter_xmit(kdev, skb))
		goto drop;
	if (unlikely(rcu_access_pointer(kdev->filter_prog)) &&
	    !ktun_ebpf_filter(kdev, skb))
		goto drop;
	/* An rx ring takes the packet instead of the queue (ring_rx.c). */
	ring = rcu_dereference(kfile->rings);
	if (ring && ktun_ring_rx_xmit(ring, skb)) {
		rcu_read_unlock();
		return NETDEV_TX_OK;
	}
	/* Pages lent by userspace must not stay lent for an unbounded time. */
	if (unlikely(skb_orphan_frags_rx(skb, GFP_ATOMIC)))
		goto drop;
	skb_tx_timestamp(skb);
	/* The reader may hold the skb indefinitely: release the sender's
	 * socket memory and conntrack entry now.
	 */
	skb_orphan(skb);
	nf_reset_ct(skb);
	if (unlikely(!ktun_queue_push(kfile, skb)))
		goto drop;
	rcu_read_unlock();
	return NETDEV_TX_OK;

drop:
	rcu_read_unlock();
	dev_core_stats_tx_dropped_inc(dev);
	kfree_skb(skb);
	return NET_XMIT_DROP;
}

/* A steering program's choice; else one flow, one queue, in order. */
static u16 ktun_net_select_queue(struct net_device *dev, struct sk_buff *skb,
				 struct net_device *sb_dev)
{
	struct ktun_dev *kdev = netdev_priv(dev);
	unsigned int n = READ_ONCE(kdev->numqueues);
	u16 queue;

	if (unlikely(rcu_access_pointer(kdev->steering_prog)) &&
	    ktun_ebpf_select_queue(kdev, skb, &queue))
		return queue;
	return n > 1 ? reciprocal_scale(skb_get_hash(skb), n) : 0;
}

static netdev_features_t ktun_net_fix_features(struct net_device *dev,
					       netdev_features_t features)
{
	return ktun_vnet_fix_features(netdev_priv(dev), features);
}

/* "ip link set carrier on" needs a reader to be true. */
int ktun_net_change_carrier(struct net_device *dev, bool on)
{
	struct ktun_dev *kdev = netdev_priv(dev);

	if (on && !kdev->numqueues)
		return -EPERM;
	if (on)
		netif_carrier_on(dev);
	else
		netif_carrier_off(dev);
	return 0;
}

static void ktun_net_set_rx_mode(struct net_device *dev)
{
	/* Everything the application writes is accepted: no filter to set. */
}

static const struct net_device_ops ktun_tun_ops = {
	.ndo_init		= ktun_net_init_dev,
	.ndo_uninit		= ktun_net_uninit_dev,
	.ndo_open		= ktun_net_open,
	.ndo_stop		= ktun_net_stop,
	.ndo_start_xmit		= ktun_net_xmit,
	.ndo_select_queue	= ktun_net_select_queue,
	.ndo_get_stats64	= dev_get_tstats64,
	.ndo_fix_features	= ktun_net_fix_features,
	.ndo_change_carrier	= ktun_net_change_carrier,
};

static const struct net_device_ops ktun_tap_ops = {
	.ndo_init		= ktun_net_init_dev,
	.ndo_uninit		= ktun_net_uninit_dev,
	.ndo_open		= ktun_net_open,
	.ndo_stop		= ktun_net_stop,
	.ndo_start_xmit		= ktun_net_xmit,
	.ndo_select_queue	= ktun_net_select_queue,
	.ndo_get_stats64	= dev_get_tstats64,
	.ndo_fix_features	= ktun_net_fix_features,
	.ndo_change_carrier	= ktun_net_change_carrier,
	.ndo_set_rx_mode	= ktun_net_set_rx_mode,
	.ndo_set_mac_address	= eth_mac_addr,
	.ndo_validate_addr	= eth_validate_addr,
};

/* What both types share; alloc_netdev_mqs() calls it before the type is set. */
void ktun_net_setup(struct net_device *dev)
{
	struct ktun_dev *kdev = netdev_priv(dev);

	kdev->dev = dev;
	kdev->owner = INVALID_UID;
	kdev->group = INVALID_GID;
	kdev->vnet_hdr_sz = sizeof(struct virtio_net_hdr);
	kdev->sndbuf = INT_MAX;
	INIT_LIST_HEAD(&kdev->disabled);
	dev->ethtool_ops = &ktun_ethtool_ops;
	dev->needs_free_netdev = true;
	dev->priv_destructor = ktun_net_destruct;
	dev->tx_queue_len = TUN_READQ_SIZE;
	/* ktun_net_set_type() sets the rest once the type is known. */
	dev->netdev_ops = &ktun_tun_ops;
}

static void set_type(struct net_device *dev, unsigned int type)
{
	if (type == IFF_TAP) {
		ether_setup(dev);
		dev->netdev_ops = &ktun_tap_ops;
		dev->priv_flags &= ~IFF_TX_SKB_SHARING;
		dev->priv_flags |= IFF_LIVE_ADDR_CHANGE;
		eth_hw_addr_random(dev);
	} else {
		dev->netdev_ops = &ktun_tun_ops;
		dev->header_ops = NULL;
		dev->hard_header_len = 0;
		dev->addr_len = 0;
		dev->mtu = ETH_DATA_LEN;
		dev->type = ARPHRD_NONE;
		dev->flags = IFF_POINTOPOINT | IFF_NOARP | IFF_MULTICAST;
		/* TAP keeps ether_setup()'s 1000, as with stock tun. */
		dev->tx_queue_len = TUN_READQ_SIZE;
	}
	/* ether_setup() resets these, so they come after it. */
	dev->min_mtu = KTUN_MIN_MTU;
	dev->max_mtu = KTUN_MAX_MTU - dev->hard_header_len;
	/* Reads copy from fragments too: never make the stack linearise. */
	dev->hw_features = NETIF_F_SG | NETIF_F_FRAGLIST | NETIF_F_HIGHDMA;
	dev->features = dev->hw_features;
	ktun_set_lltx(dev);
	ktun_stats_setup(dev);
}

/* The type of a device is fixed at creation, before registration. */
void ktun_net_set_type(struct net_device *dev, unsigned int type)
{
	struct ktun_dev *kdev = netdev_priv(dev);

	kdev->flags = type;
	set_type(dev, type);
}

/* The hardware address length of each link type TUNSETLINK knows; 0 else. */
static const struct {
	unsigned short type;
	unsigned char len;
} link_addr_lens[] = {
	{ ARPHRD_ETHER, 6 },		{ ARPHRD_IEEE802, 6 },
	{ ARPHRD_FDDI, 6 },		{ ARPHRD_HIPPI, 6 },
	{ ARPHRD_IPGRE, 4 },		{ ARPHRD_TUNNEL, 4 },
	{ ARPHRD_SIT, 4 },		{ ARPHRD_IP6GRE, 16 },
	{ ARPHRD_TUNNEL6, 16 },		{ ARPHRD_IEEE802154, 8 },
	{ ARPHRD_IEEE802154_MONITOR, 8 }, { ARPHRD_6LOWPAN, 8 },
	{ ARPHRD_NETROM, 7 },		{ ARPHRD_ROSE, 5 },
	{ ARPHRD_LOCALTLK, 1 },
};

static unsigned char link_addr_len(unsigned short type)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(link_addr_lens); i++)
		if (link_addr_lens[i].type == type)
			return link_addr_lens[i].len;
	return 0;
}

/* TUNSETLINK: only while down, and only if no listener objects. */
int ktun_net_set_link_type(struct net_device *dev, unsigned short type)
{
	int ret;

	ASSERT_RTNL();
	if (dev->flags & IFF_UP)
		return -EBUSY;
	ret = notifier_to_errno(call_netdevice_notifiers(NETDEV_PRE_TYPE_CHANGE,
							 dev));
	if (ret)
		return ret;
	dev->type = type;
	dev->addr_len = link_addr_len(type);
	call_netdevice_notifiers(NETDEV_POST_TYPE_CHANGE, dev);
	return 0;
}

bool ktun_net_is_ours(const struct net_device *dev)
{
	return dev->rtnl_link_ops == &ktun_link_ops;
}

/*
 * The queue rings follow the interface's txqueuelen, as on a real NIC; and
 * writers waiting for EPOLLOUT wake when the interface comes up.
 */
static int ktun_net_event(struct notifier_block *nb, unsigned long event,
			  void *ptr)
{
	struct net_device *dev = netdev_notifier_info_to_dev(ptr);
	struct ktun_dev *kdev;
	unsigned int i;

	if (!ktun_net_is_ours(dev))
		return NOTIFY_DONE;
	kdev = netdev_priv(dev);
	if (event == NETDEV_UP)
		ktun_iff_wake_writers(kdev);
	if (event != NETDEV_CHANGE_TX_QUEUE_LEN)
		return NOTIFY_DONE;
	for (i = 0; i < kdev->numqueues; i++) {
		struct ktun_file *kfile = rtnl_dereference(kdev->queues[i]);

		if (ktun_queue_resize(kfile, dev->tx_queue_len))
			return notifier_from_errno(-ENOMEM);
	}
	return NOTIFY_DONE;
}

static struct notifier_block ktun_notifier = {
	.notifier_call = ktun_net_event,
};

int ktun_net_init(void)
{
	return register_netdevice_notifier(&ktun_notifier);
}

void ktun_net_uninit(void)
{
	unregister_netdevice_notifier(&ktun_notifier);
}
