// SPDX-License-Identifier: GPL-2.0
/* Copyright (C) 2026 The ktun authors. */
/*
 * TUNSETIFF, TUNSETQUEUE and their inverse: creating a device or finding an
 * existing one, attaching a file to it as a queue, taking queues in and out
 * of service, and detaching files on close or when the device goes away.
 * Everything here runs under rtnl.
 */
#include <linux/capability.h>
#include <linux/cred.h>
#include <linux/module.h>
#include <linux/poll.h>
#include <linux/rtnetlink.h>
#include <linux/security.h>

#include "ktun.h"

/* The device's flags as TUNGETIFF and sysfs tun_flags report them. */
unsigned int ktun_iff_flags(const struct ktun_dev *kdev)
{
	return READ_ONCE(kdev->flags) & KTUN_IFF_VISIBLE;
}

/*
 * May the current task attach to @kdev? The stock rule: an owner and a group
 * that are set must both match, unless the task is an admin of the
 * device's namespace. A device with neither set is open to all.
 */
static bool may_attach(const struct ktun_dev *kdev)
{
	const struct cred *cred = current_cred();

	if ((!uid_valid(kdev->owner) || uid_eq(cred->euid, kdev->owner)) &&
	    (!gid_valid(kdev->group) || in_egroup_p(kdev->group)))
		return true;
	return ns_capable(dev_net(kdev->dev)->user_ns, CAP_NET_ADMIN);
}

/*
 * Puts @kfile in service as the last queue of @kdev; it is whole when seen.
 * Every attach passes the LSM's check here, as every stock tun_attach().
 */
static int enable(struct ktun_dev *kdev, struct ktun_file *kfile)
{
	struct net_device *dev = kdev->dev;
	unsigned int n = kdev->numqueues;
	int ret;

	ASSERT_RTNL();
	ret = security_tun_dev_attach(kfile->sk, kdev->security);
	if (ret)
		return ret;
	if (n + kdev->numdisabled >= 1 && !(kdev->flags & IFF_MULTI_QUEUE) &&
	    !kfile->disabled)
		return -EBUSY;
	/* TUNSETIFF allocates 256; "ip link add numtxqueues N" may give fewer. */
	if (!kfile->disabled &&
	    n + kdev->numdisabled >= min(dev->num_tx_queues, dev->num_rx_queues))
		return -E2BIG;
	ret = ktun_queue_resize(kfile, dev->tx_queue_len);
	if (ret)
		return ret;
	/* Both counts or neither: the core undoes the first on failure. */
	ret = netif_set_real_num_queues(dev, n + 1, n + 1);
	if (ret)
		return ret;

	if (kfile->disabled) {
		list_del_init(&kfile->disabled_node);
		kdev->numdisabled--;
		kfile->disabled = false;
		ktun_napi_start(kfile);
	} else {
		/* A new attachment: writes framed before it must not land
		 * here (pkt.c). Published by the rcu_assign_pointer() below.
		 */
		WRITE_ONCE(kfile->attach_gen, kfile->attach_gen + 1);
	}
	kfile->index = n;
	rcu_assign_pointer(kdev->queues[n], kfile);
	WRITE_ONCE(kdev->numqueues, n + 1);
	rcu_assign_pointer(kfile->kdev, kdev);
	return 0;
}

/*
 * Takes @kfile out of @kdev->queues[], moving the last queue into its slot.
 * Transmits may still be using it until the caller's grace period ends.
 */
static void unpublish(struct ktun_dev *kdev, struct ktun_file *kfile)
{
	unsigned int last = kdev->numqueues - 1;
	struct ktun_file *moved = rtnl_dereference(kdev->queues[last]);

	ASSERT_RTNL();
	rcu_assign_pointer(kdev->queues[kfile->index], moved);
	moved->index = kfile->index;
	RCU_INIT_POINTER(kdev->queues[last], NULL);
	WRITE_ONCE(kdev->numqueues, last);
}

static void count_tx_dropped(struct net_device *dev, unsigned int n)
{
	while (n--)
		dev_core_stats_tx_dropped_inc(dev);
}

/* After a queue left service: wait out transmits, then drop what it held. */
static void retire_queue(struct ktun_dev *kdev, struct ktun_file *kfile)
{
	struct net_device *dev = kdev->dev;

	synchronize_net();
	count_tx_dropped(dev, ktun_queue_purge(kfile));
	/* Shrinking allocates nothing and cannot fail. */
	if (kdev->numqueues)
		netif_set_real_num_queues(dev, kdev->numqueues, kdev->numqueues);
}

/* TUNSETQUEUE: take a queue of a multi-queue device out of or into service. */
int ktun_iff_set_queue(struct ktun_file *kfile, unsigned int flags)
{
	struct ktun_dev *kdev = rtnl_dereference(kfile->kdev);
	int ret;

	ASSERT_RTNL();
	if (!kdev)
		return -EINVAL;
	if (flags & IFF_ATTACH_QUEUE) {
		/* The file was let in by TUNSETIFF; as stock, only the LSM is
		 * asked again.
		 */
		if (!kfile->disabled)
			return -EINVAL;
		ret = security_tun_dev_attach_queue(kdev->security);
		if (ret)
			return ret;
		ret = enable(kdev, kfile);
	} else if (flags & IFF_DETACH_QUEUE) {
		if (!(kdev->flags & IFF_MULTI_QUEUE) || kfile->disabled)
			return -EINVAL;
		unpublish(kdev, kfile);
		kfile->disabled = true;
		list_add_tail(&kfile->disabled_node, &kdev->disabled);
		kdev->numdisabled++;
		ktun_napi_stop(kfile);
		retire_queue(kdev, kfile);
		ret = 0;
	} else {
		return -EINVAL;
	}
	if (!ret)
		netdev_state_change(kdev->dev);
	return ret;
}

/*
 * Called on close: 1. leave service, 2. unpublish, 3. wait and purge. A
 * device left with no file loses its carrier, and goes away unless
 * persistent.
 */
void ktun_iff_detach(struct ktun_file *kfile)
{
	struct ktun_dev *kdev;
	struct net_device *dev;

	rtnl_lock();
	kdev = rtnl_dereference(kfile->kdev);
	if (!kdev)
		goto out;
	dev = kdev->dev;

	if (kfile->disabled) {
		list_del_init(&kfile->disabled_node);
		kdev->numdisabled--;
		kfile->disabled = false;
	} else {
		unpublish(kdev, kfile);
	}
	RCU_INIT_POINTER(kfile->kdev, NULL);
	ktun_napi_stop(kfile);
	ktun_ring_kill(kfile);
	retire_queue(kdev, kfile);
	ktun_napi_del(kfile);
	ktun_ring_retire(kfile);

	if (!kdev->numqueues && !kdev->numdisabled) {
		netif_carrier_off(dev);
		if (!(kdev->flags & IFF_PERSIST)) {
			unregister_netdevice(dev);
			goto out;
		}
	}
	netdev_state_change(dev);
out:
	rtnl_unlock();
}

/*
 * The device is being unregistered (ip link del, namespace exit, rmmod):
 * from ndo_uninit. Open files stay open, detached; their sleepers wake and
 * every later call on them fails with EBADFD, except the ones an
 * unattached file may make (TUNSETIFF attaches it afresh, as on stock;
 * TUNSETIFINDEX, TUNGETFEATURES, SIOCGSKNS).
 */
void ktun_iff_detach_all(struct ktun_dev *kdev)
{
	struct ktun_file *kfile, *tmp, *batch = NULL;

	ASSERT_RTNL();
	/* 1. Unpublish every queue and unlink every disabled file. */
	while (kdev->numqueues) {
		kfile = rtnl_dereference(kdev->queues[0]);
		unpublish(kdev, kfile);
		kfile->retiring_next = batch;
		batch = kfile;
	}
	list_for_each_entry_safe(kfile, tmp, &kdev->disabled, disabled_node) {
		list_del_init(&kfile->disabled_node);
		kfile->disabled = false;
		kfile->retiring_next = batch;
		batch = kfile;
	}
	kdev->numdisabled = 0;
	for (kfile = batch; kfile; kfile = kfile->retiring_next) {
		RCU_INIT_POINTER(kfile->kdev, NULL);
		ktun_napi_stop(kfile);
		ktun_ring_kill(kfile);
	}
	/* 2. Wait until no transmit, read or write can see them. */
	synchronize_net();
	/* 3. Purge and wake. The files cannot be released meanwhile: their
	 * release takes rtnl, which we hold.
	 */
	for (kfile = batch; kfile; kfile = kfile->retiring_next) {
		ktun_napi_del(kfile);
		ktun_queue_purge(kfile);
		ktun_ring_retire(kfile);
		ktun_queue_wake(kfile, EPOLLERR | EPOLLHUP);
	}
	/* 4. A persistent device held the module; it no longer needs to. */
	ktun_iff_set_persist(kdev, false);
}

/*
 * NETDEV_UP, under rtnl: every attached file may write again; wake the
 * writers that poll() told to wait for EPOLLOUT.
 */
void ktun_iff_wake_writers(struct ktun_dev *kdev)
{
	struct ktun_file *kfile;
	unsigned int i;

	ASSERT_RTNL();
	for (i = 0; i < kdev->numqueues; i++)
		ktun_queue_wake_writers(rtnl_dereference(kdev->queues[i]));
	list_for_each_entry(kfile, &kdev->disabled, disabled_node)
		ktun_queue_wake_writers(kfile);
}

static int attach_existing(struct ktun_file *kfile, struct net_device *dev,
			   unsigned int flags)
{
	struct ktun_dev *kdev = netdev_priv(dev);
	unsigned int old_flags;
	bool first;
	int ret;

	if (flags & IFF_TUN_EXCL)
		return -EBUSY;
	if (!ktun_net_is_ours(dev) ||
	    (kdev->flags & KTUN_TYPE_MASK) != (flags & KTUN_TYPE_MASK))
		return -EINVAL;
	if (!!(flags & IFF_MULTI_QUEUE) != !!(kdev->flags & IFF_MULTI_QUEUE))
		return -EINVAL;
	if (!may_attach(kdev))
		return -EPERM;
	ret = security_tun_dev_open(kdev->security);
	if (ret)
		return ret;

	/*
	 * The first queue of a device sets its features, as with stock tun,
	 * and before the queue is published: a packet the stack offloaded
	 * for the previous owner must not reach a reader that cannot take it
	 * (read() copes if one still does, from a transmit already past the
	 * feature check).
	 */
	old_flags = kdev->flags;
	first = !kdev->numqueues && !kdev->numdisabled;
	if (first) {
		WRITE_ONCE(kdev->flags, (old_flags & ~KTUN_IFF_FEATURES) |
					(flags & KTUN_IFF_FEATURES));
		netdev_update_features(dev);
	}
	ret = enable(kdev, kfile);
	if (ret) {
		if (first) {
			WRITE_ONCE(kdev->flags, old_flags);
			netdev_update_features(dev);
		}
		return ret;
	}
	netdev_state_change(dev);
	return 0;
}

/*
 * The one way a device comes to be, for TUNSETIFF and for "ip link add"
 * (link.c): @dev was allocated with ktun_net_setup() and has its namespace,
 * name and ifindex; this gives it its type, flags, owner and group and
 * registers it, without carrier until a file attaches. On failure the
 * caller frees @dev.
 */
int ktun_iff_register(struct net_device *dev, unsigned int flags,
		      kuid_t owner, kgid_t group)
{
	struct ktun_dev *kdev = netdev_priv(dev);
	int ret;

	ASSERT_RTNL();
	dev->rtnl_link_ops = &ktun_link_ops;
	dev->sysfs_groups[0] = &ktun_attr_group;
	ktun_net_set_type(dev, flags & KTUN_TYPE_MASK);
	kdev->flags |= flags & KTUN_IFF_FEATURES;
	kdev->owner = owner;
	kdev->group = group;
	/* Register one queue, not all 256: each in use gets sysfs objects. */
	ret = netif_set_real_num_queues(dev, 1, 1);
	if (ret)
		return ret;
	netif_carrier_off(dev);
	return register_netdevice(dev);
}

/*
 * A persistent device outlives its files and holds the module, as with
 * stock tun: TUNSETPERSIST, "ip link add", and unregistration (off) come
 * here. Returns whether anything changed.
 */
bool ktun_iff_set_persist(struct ktun_dev *kdev, bool on)
{
	ASSERT_RTNL();
	if (on == !!(kdev->flags & IFF_PERSIST))
		return false;
	if (on) {
		WRITE_ONCE(kdev->flags, kdev->flags | IFF_PERSIST);
		__module_get(THIS_MODULE);
	} else {
		WRITE_ONCE(kdev->flags, kdev->flags & ~IFF_PERSIST);
		module_put(THIS_MODULE);
	}
	return true;
}

static struct net_device *create(struct ktun_file *kfile, const char *name,
				 unsigned int flags)
{
	unsigned int type = flags & KTUN_TYPE_MASK;
	unsigned int queues = flags & IFF_MULTI_QUEUE ? KTUN_MAX_QUEUES : 1;
	struct net *net = kfile->net;
	struct net_device *dev;
	int ret;

	if (!ns_capable(net->user_ns, CAP_NET_ADMIN))
		return ERR_PTR(-EPERM);
	ret = security_tun_dev_create();
	if (ret)
		return ERR_PTR(ret);
	if (!*name)
		name = type == IFF_TAP ? "tap%d" : "tun%d";

	dev = alloc_netdev_mqs(sizeof(struct ktun_dev), name, NET_NAME_UNKNOWN,
			       ktun_net_setup, queues, queues);
	if (!dev)
		return ERR_PTR(-ENOMEM);
	dev_net_set(dev, net);
	dev->ifindex = kfile->ifindex;
	ret = ktun_iff_register(dev, flags, INVALID_UID, INVALID_GID);
	if (ret)
		goto err_free;
	ret = enable(netdev_priv(dev), kfile);
	if (ret)
		goto err_unregister;
	return dev;

err_unregister:
	/* Freed by the core once rtnl is released. */
	unregister_netdevice(dev);
	return ERR_PTR(ret);
err_free:
	free_netdev(dev);
	return ERR_PTR(ret);
}

/* TUNSETIFF on an unattached file. On success ifr_name holds the real name. */
int ktun_iff_set(struct ktun_file *kfile, struct ifreq *ifr)
{
	unsigned int flags = (u16)ifr->ifr_flags;
	unsigned int type = flags & KTUN_TYPE_MASK;
	struct net_device *dev;
	int ret;

	ASSERT_RTNL();
	if (flags & ~KTUN_IFF_ALL)
		return -EINVAL;
	if (type != IFF_TUN && type != IFF_TAP)
		return -EINVAL;
	if (flags & IFF_NAPI_FRAGS) {
		if (!capable(CAP_NET_ADMIN))
			return -EPERM;
		if (!(flags & IFF_NAPI) || type != IFF_TAP)
			return -EINVAL;
	}

	ifr->ifr_name[IFNAMSIZ - 1] = '\0';
	dev = __dev_get_by_name(kfile->net, ifr->ifr_name);
	if (dev) {
		ret = attach_existing(kfile, dev, flags);
		if (ret)
			return ret;
	} else {
		dev = create(kfile, ifr->ifr_name, flags);
		if (IS_ERR(dev))
			return PTR_ERR(dev);
	}
	/* A write racing with this skips NAPI: harmless. */
	ktun_napi_add(netdev_priv(dev), kfile, flags);

	if (flags & IFF_NO_CARRIER)
		netif_carrier_off(dev);
	else
		netif_carrier_on(dev);
	/* A persistent device may have been stopped while nobody was attached. */
	if (netif_running(dev))
		netif_tx_wake_all_queues(dev);
	strscpy(ifr->ifr_name, dev->name, IFNAMSIZ);
	return 0;
}
