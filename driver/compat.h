/* SPDX-License-Identifier: GPL-2.0 */
/* Copyright (C) 2026 The ktun authors. */
/*
 * The one place that knows kernel versions. ktun targets Debian's 6.1 and
 * 6.12 kernels; every API that differs between them gets a wrapper here.
 */
#ifndef _KTUN_COMPAT_H
#define _KTUN_COMPAT_H

#include <linux/fs.h>
#include <linux/if_tun.h>
#include <linux/netdevice.h>
#include <linux/version.h>
#include <linux/virtio_net.h>

/* 6.11 moved "lockless transmit" from a feature bit to a device field. */
static inline void ktun_set_lltx(struct net_device *dev)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 11, 0)
	dev->lltx = true;
#else
	dev->features |= NETIF_F_LLTX;
#endif
}

/* 6.12 dropped no_llseek: a NULL .llseek now means "not seekable". */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 12, 0)
#define ktun_no_llseek	NULL
#else
#define ktun_no_llseek	no_llseek
#endif

/*
 * 6.6 lets the core allocate and free the per-CPU counters of a device
 * (dev->pcpu_stat_type). Before it the driver does both: in ndo_init, and
 * in the destructor that runs after the last RCU reader.
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 6, 0)
static inline void ktun_stats_setup(struct net_device *dev)
{
	dev->pcpu_stat_type = NETDEV_PCPU_STAT_TSTATS;
}

static inline int ktun_stats_alloc(struct net_device *dev)
{
	return 0;
}

static inline void ktun_stats_free(struct net_device *dev)
{
}
#else
static inline void ktun_stats_setup(struct net_device *dev)
{
}

static inline int ktun_stats_alloc(struct net_device *dev)
{
	dev->tstats = netdev_alloc_pcpu_stats(struct pcpu_sw_netstats);
	return dev->tstats ? 0 : -ENOMEM;
}

static inline void ktun_stats_free(struct net_device *dev)
{
	free_percpu(dev->tstats);
}
#endif

/*
 * UDP segmentation offload (USO): 6.2 added TUN_F_USO4/TUN_F_USO6 to
 * TUNSETOFFLOAD and VIRTIO_NET_HDR_GSO_UDP_L4 to the virtio-net helpers
 * (virtio_net_hdr_to_skb/_from_skb). Before it both are refused, as by the
 * stock driver of that kernel, and programs fall back (wireguard-go does).
 */
#ifdef TUN_F_USO4
#define KTUN_HAVE_USO		true
#define KTUN_F_USO		(TUN_F_USO4 | TUN_F_USO6)
#define KTUN_NETIF_F_USO	NETIF_F_GSO_UDP_L4
#define KTUN_GSO_UDP_L4		VIRTIO_NET_HDR_GSO_UDP_L4
#else
#define KTUN_HAVE_USO		false
#define KTUN_F_USO		0
#define KTUN_NETIF_F_USO	0
/* The virtio spec's value: vnet.c refuses headers that name it. */
#define KTUN_GSO_UDP_L4		5
#endif

#endif /* _KTUN_COMPAT_H */
