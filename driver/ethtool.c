// SPDX-License-Identifier: GPL-2.0
/* Copyright (C) 2026 The ktun authors. */
/*
 * ethtool: driver info, link state, and per-queue statistics for
 * "ethtool -S" (and ktunctl): "queues", how many are in service (always
 * there: the core warns about an empty set), then for each of them
 * q<N>_queued, the packets the stack transmitted that its reader has not
 * read yet, and q<N>_capacity, how many the queue holds (txqueuelen). The interface's
 * packet and byte counters stay in /sys/class/net/<dev>/statistics.
 */
#include <linux/ethtool.h>
#include <linux/rtnetlink.h>
#include <net/rtnetlink.h>

#include "ktun.h"

static const char ktun_qstat_names[][ETH_GSTRING_LEN] = {
	"queued",
	"capacity",
};

#define KTUN_QSTATS	ARRAY_SIZE(ktun_qstat_names)

static void ktun_get_drvinfo(struct net_device *dev,
			     struct ethtool_drvinfo *info)
{
	struct ktun_dev *kdev = netdev_priv(dev);

	strscpy(info->driver, ktun_link_ops.kind, sizeof(info->driver));
	strscpy(info->version, KTUN_VERSION, sizeof(info->version));
	strscpy(info->bus_info, kdev->flags & IFF_TAP ? "tap" : "tun",
		sizeof(info->bus_info));
}

/* The ethtool ioctl and netlink paths hold rtnl across each request. */
static int ktun_get_sset_count(struct net_device *dev, int sset)
{
	struct ktun_dev *kdev = netdev_priv(dev);

	ASSERT_RTNL();
	if (sset != ETH_SS_STATS)
		return -EOPNOTSUPP;
	return 1 + kdev->numqueues * KTUN_QSTATS;
}

static void ktun_get_strings(struct net_device *dev, u32 sset, u8 *data)
{
	struct ktun_dev *kdev = netdev_priv(dev);
	unsigned int q, i;

	ASSERT_RTNL();
	if (sset != ETH_SS_STATS)
		return;
	strscpy(data, "queues", ETH_GSTRING_LEN);
	data += ETH_GSTRING_LEN;
	for (q = 0; q < kdev->numqueues; q++)
		for (i = 0; i < KTUN_QSTATS; i++) {
			snprintf(data, ETH_GSTRING_LEN, "q%u_%s", q,
				 ktun_qstat_names[i]);
			data += ETH_GSTRING_LEN;
		}
}

static void ktun_get_ethtool_stats(struct net_device *dev,
				   struct ethtool_stats *stats, u64 *data)
{
	struct ktun_dev *kdev = netdev_priv(dev);
	unsigned int q;

	ASSERT_RTNL();
	*data++ = kdev->numqueues;
	for (q = 0; q < kdev->numqueues; q++) {
		struct ktun_file *kfile = rtnl_dereference(kdev->queues[q]);

		ktun_queue_len(kfile, &data[0], &data[1]);
		data += KTUN_QSTATS;
	}
}

const struct ethtool_ops ktun_ethtool_ops = {
	.get_drvinfo		= ktun_get_drvinfo,
	.get_link		= ethtool_op_get_link,
	.get_sset_count		= ktun_get_sset_count,
	.get_strings		= ktun_get_strings,
	.get_ethtool_stats	= ktun_get_ethtool_stats,
};
