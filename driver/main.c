// SPDX-License-Identifier: GPL-2.0
/* Copyright (C) 2026 The ktun authors. */
/*
 * Module init and exit, parameters, and the object ledger that lets a test
 * check that every device and file ktun created was destroyed.
 */
#include <linux/atomic.h>
#include <linux/module.h>

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
