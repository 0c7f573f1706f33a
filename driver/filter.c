// SPDX-License-Identifier: GPL-2.0
/* Copyright (C) 2026 The ktun authors. */
/*
 * Transmit filters of TAP devices: the destination-address filter of
 * TUNSETTXFILTER and the classic BPF program of TUNATTACHFILTER. Both are
 * checked on every transmitted frame before it is queued for the reader.
 *
 * Each filter is an object published under RCU and replaced whole, so the
 * transmit path never sees one half-updated. The stock driver attaches the
 * BPF program to each queue's socket; ktun has one per device, which is
 * what the program was given for.
 */
#include <linux/crc32.h>
#include <linux/etherdevice.h>
#include <linux/filter.h>
#include <linux/slab.h>

#include "ktun.h"

/* As stock: the first 8 addresses match exactly, further multicast ones by hash. */
#define KTUN_FLT_EXACT	8

static u32 mc_hash(const u8 *addr)
{
	return ether_crc(ETH_ALEN, addr) >> 26;
}

static void replace_txfilter(struct ktun_dev *kdev, struct ktun_txfilter *new)
{
	struct ktun_txfilter *old;

	old = rcu_replace_pointer(kdev->txfilter, new, lockdep_rtnl_is_held());
	if (old)
		kfree_rcu(old, rcu);
}

/*
 * TUNSETTXFILTER's argument, read and built before rtnl is taken: the
 * filter in a->txfilter (NULL: accept every frame) and in
 * a->txfilter_count what the call returns, the number of exact-match
 * addresses installed, as stock. A zero count, or a unicast address beyond
 * the exact ones, leaves the device accepting every frame.
 */
int ktun_filter_prepare_tx(void __user *arg, struct ktun_ioctl_arg *a)
{
	struct tun_filter uf;
	struct ktun_txfilter *f;
	u8 (*addr)[ETH_ALEN];
	unsigned int n;
	int ret = 0;

	if (copy_from_user(&uf, arg, sizeof(uf)))
		return -EFAULT;
	if (uf.flags & ~TUN_FLT_ALLMULTI)
		return -EINVAL;
	if (!uf.count)
		return 0;

	addr = memdup_user(arg + sizeof(uf), (size_t)uf.count * ETH_ALEN);
	if (IS_ERR(addr))
		return PTR_ERR(addr);
	f = kzalloc(sizeof(*f), GFP_KERNEL);
	if (!f) {
		ret = -ENOMEM;
		goto out;
	}
	for (n = 0; n < uf.count && n < KTUN_FLT_EXACT; n++)
		ether_addr_copy(f->addr[n], addr[n]);
	f->count = n;
	for (; n < uf.count; n++) {
		u32 h;

		if (!is_multicast_ether_addr(addr[n])) {
			kfree(f);
			goto out;
		}
		h = mc_hash(addr[n]);
		f->mask[h >> 5] |= 1U << (h & 31);
	}
	if (uf.flags & TUN_FLT_ALLMULTI)
		memset(f->mask, 0xff, sizeof(f->mask));
	a->txfilter = f;
	a->txfilter_count = f->count;
out:
	kfree(addr);
	return ret;
}

/* TUNSETTXFILTER, under rtnl: installs what was prepared. */
int ktun_filter_set_tx(struct ktun_dev *kdev, struct ktun_ioctl_arg *a)
{
	ASSERT_RTNL();
	if (!(kdev->flags & IFF_TAP))
		return -EINVAL;
	if (a->copy_err)
		return a->copy_err;
	replace_txfilter(kdev, a->txfilter);
	a->txfilter = NULL;
	return a->txfilter_count;
}

static void free_bpf(struct ktun_bpf *b)
{
	bpf_prog_destroy(b->prog);
	kfree(b);
}

static void free_bpf_rcu(struct rcu_head *head)
{
	free_bpf(container_of(head, struct ktun_bpf, rcu));
}

static void replace_bpf(struct ktun_dev *kdev, struct ktun_bpf *new)
{
	struct ktun_bpf *old;

	old = rcu_replace_pointer(kdev->bpf, new, lockdep_rtnl_is_held());
	if (old)
		call_rcu(&old->rcu, free_bpf_rcu);
}

/*
 * TUNATTACHFILTER's program, copied in and checked and compiled before
 * rtnl is taken (into a->bpf). The sock_fprog is kept as given, for
 * TUNGETFILTER.
 */
int ktun_filter_prepare_bpf(void __user *arg, struct ktun_ioctl_arg *a)
{
	struct sock_fprog_kern kprog;
	struct ktun_bpf *b;
	int ret;

	b = kzalloc(sizeof(*b), GFP_KERNEL);
	if (!b)
		return -ENOMEM;
	if (copy_from_user(&b->fprog, arg, sizeof(b->fprog))) {
		ret = -EFAULT;
		goto err_free;
	}
	/* What bpf_prog_create() checks too; here it bounds the copy. */
	if (!b->fprog.filter || !b->fprog.len || b->fprog.len > BPF_MAXINSNS) {
		ret = -EINVAL;
		goto err_free;
	}
	kprog.len = b->fprog.len;
	kprog.filter = memdup_user(b->fprog.filter,
				   (size_t)kprog.len * sizeof(*kprog.filter));
	if (IS_ERR(kprog.filter)) {
		ret = PTR_ERR(kprog.filter);
		goto err_free;
	}
	ret = bpf_prog_create(&b->prog, &kprog);
	kfree(kprog.filter);
	if (ret)
		goto err_free;
	a->bpf = b;
	return 0;

err_free:
	kfree(b);
	return ret;
}

/* TUNATTACHFILTER, under rtnl: installs what was compiled. */
int ktun_filter_attach(struct ktun_dev *kdev, struct ktun_ioctl_arg *a)
{
	ASSERT_RTNL();
	if (!(kdev->flags & IFF_TAP))
		return -EINVAL;
	if (a->copy_err)
		return a->copy_err;
	replace_bpf(kdev, a->bpf);
	a->bpf = NULL;
	return 0;
}

/* Frees what was prepared for an ioctl and not installed. No rtnl. */
void ktun_filter_release(struct ktun_ioctl_arg *a)
{
	kfree(a->txfilter);
	if (a->bpf)
		free_bpf(a->bpf);
}

/* TUNDETACHFILTER, under rtnl. */
void ktun_filter_detach(struct ktun_dev *kdev)
{
	ASSERT_RTNL();
	replace_bpf(kdev, NULL);
}

/* Under rtnl: is a BPF program attached? (TUNGETIFF's IFF_NOFILTER) */
bool ktun_filter_attached(struct ktun_dev *kdev)
{
	return rcu_access_pointer(kdev->bpf);
}

/*
 * TUNGETFILTER, under rtnl: the sock_fprog as it was given, or an empty
 * one, in @out for the caller to copy out after rtnl. Field by field into
 * a zeroed struct: its padding must not carry what the attacher had there.
 */
int ktun_filter_get(struct ktun_dev *kdev, struct sock_fprog *out)
{
	struct ktun_bpf *b = rtnl_dereference(kdev->bpf);

	if (!(kdev->flags & IFF_TAP))
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	if (b) {
		out->len = b->fprog.len;
		out->filter = b->fprog.filter;
	}
	return 0;
}

/* On device teardown, under rtnl. */
void ktun_filter_uninit(struct ktun_dev *kdev)
{
	replace_txfilter(kdev, NULL);
	replace_bpf(kdev, NULL);
}

static bool txfilter_pass(const struct ktun_txfilter *f,
			  const struct sk_buff *skb)
{
	const struct ethhdr *eh = (const struct ethhdr *)skb->data;
	unsigned int i;
	u32 h;

	if (skb_headlen(skb) < ETH_HLEN)
		return false;
	for (i = 0; i < f->count; i++)
		if (ether_addr_equal(eh->h_dest, f->addr[i]))
			return true;
	if (!is_multicast_ether_addr(eh->h_dest))
		return false;
	h = mc_hash(eh->h_dest);
	return f->mask[h >> 5] & (1U << (h & 31));
}

/*
 * Transmit path, under rcu_read_lock. Returns false if the frame is to be
 * dropped; a BPF verdict shorter than the frame trims it.
 */
bool ktun_filter_xmit(struct ktun_dev *kdev, struct sk_buff *skb)
{
	const struct ktun_txfilter *f = rcu_dereference(kdev->txfilter);
	const struct ktun_bpf *b = rcu_dereference(kdev->bpf);
	unsigned int len;

	if (f && !txfilter_pass(f, skb))
		return false;
	if (b) {
		len = bpf_prog_run_save_cb(b->prog, skb);
		if (!len)
			return false;
		if (len < skb->len && pskb_trim(skb, len))
			return false;
	}
	return true;
}
