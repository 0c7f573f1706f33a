// SPDX-License-Identifier: GPL-2.0
/* Copyright (C) 2026 The ktun authors. */
/*
 * Module init and exit, parameters, and the object ledger that lets a test
 * check that every device and file ktun created was destroyed.
 */
#include <linux/atomic.h>
#include <linux/module.h>
#include <net/rtnetlink.h>

#include "ktun.h"

bool ktun_compat;
module_param_named(compat, ktun_compat, bool, 0444);
MODULE_PARM_DESC(compat, "Serve /dev/net/tun and link kind \"tun\" in place of the stock driver");

static atomic_t live_objects = ATOMIC_INIT(0);

/* Every ktun_dev and ktun_file is counted from creation to destruction. */
void ktun_obj_created(void)
{
	atomic_inc(&live_objects);
}

void ktun_obj_destroyed(void)
{
	WARN_ON_ONCE(atomic_dec_return(&live_objects) < 0);
}

static int __init ktun_init(void)
{
	int ret;

	ret = ktun_link_init();
	if (ret)
		return ret;
	ret = ktun_net_init();
	if (ret)
		goto err_link;
	ret = ktun_chr_init();
	if (ret)
		goto err_net;
	pr_info("ktun " KTUN_VERSION " loaded, serving %s\n",
		ktun_compat ? "/dev/net/tun" : "/dev/net/ktun");
	return 0;

err_net:
	ktun_net_uninit();
err_link:
	ktun_link_uninit();
	return ret;
}

static void __exit ktun_exit(void)
{
	int leaked;

	ktun_chr_uninit();
	ktun_net_uninit();
	ktun_link_uninit();
	/* Netdevs are freed after rcu callbacks; let them run first. */
	rcu_barrier();
	leaked = atomic_read(&live_objects);
	WARN(leaked, "ktun: leaked %d objects\n", leaked);
}

module_init(ktun_init);
module_exit(ktun_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("ktun: TUN/TAP virtual network driver");
MODULE_AUTHOR("The ktun authors");
MODULE_VERSION(KTUN_VERSION);
/*
 * Autoload. "ip link ... type ktun" asks for rtnl-link-ktun. The devname
 * alias names the node for kmod, but /dev/net/ktun has a dynamic minor, so
 * depmod writes no static node for it and opening it cannot load us:
 * "modprobe ktun" (or modules-load.d) does. No char-major alias: aliases
 * are fixed at build time, and char-major-10-200 (TUN_MINOR) is ours only
 * with compat=1; next to devname:net/ktun it would even make kmod create
 * /dev/net/ktun as stock tun's node. The packaged modprobe.d file
 * (debian/ktun-dkms.modprobe, man ktun(4)) maps it to ktun compat=1.
 */
MODULE_ALIAS("devname:net/ktun");
MODULE_ALIAS_RTNL_LINK("ktun");
