// SPDX-License-Identifier: GPL-2.0
/* Copyright (C) 2026 The ktun authors. */
/*
 * Packets across the boundary: write() turns a user buffer into an skb and
 * hands it to the stack; read() turns a queued skb into a user buffer. The
 * framing (the tun_pi header, TUN or TAP) is decided here and nowhere else.
 *
 * Neither path holds a device reference while it copies: each looks the
 * device up under RCU before and after, and treats a vanished device as a
 * detached file (EBADFD).
 */
#include <linux/etherdevice.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/skbuff.h>
#include <linux/uio.h>
#include <linux/virtio_net.h>

#include "ktun.h"

/* Headroom for the stack in front of a written packet. */
#define KTUN_RX_PAD	(NET_SKB_PAD + NET_IP_ALIGN)
/* How much of a large written packet goes in the linear part. */
#define KTUN_RX_LINEAR	256

/* What one packet's framing depends on, read once per packet. */
struct framing {
	unsigned int	flags;		/* 0: not attached */
	int		vnet_hdr_sz;
};

static void framing_of(struct ktun_file *kfile, struct framing *f)
{
	struct ktun_dev *kdev;

	f->flags = 0;
	rcu_read_lock();
	kdev = rcu_dereference(kfile->kdev);
	if (kdev) {
		f->flags = READ_ONCE(kdev->flags) | KTUN_ATTACHED;
		f->vnet_hdr_sz = READ_ONCE(kdev->vnet_hdr_sz);
	}
	rcu_read_unlock();
}

static bool vnet_le(const struct framing *f)
{
	return (f->flags & KTUN_VNET_LE) || virtio_legacy_is_little_endian();
}

enum drop { DROP_RX, DROP_RX_FRAME, DROP_TX };

/*
 * Counts a packet lost on the way in or out, against the device @kfile is
 * attached to, if it still is: the caller holds no reference to it.
 */
static void count_drop(struct ktun_file *kfile, enum drop what)
{
	struct ktun_dev *kdev;

	rcu_read_lock();
	kdev = rcu_dereference(kfile->kdev);
	if (kdev) {
		if (what == DROP_TX) {
			dev_core_stats_tx_dropped_inc(kdev->dev);
		} else {
			if (what == DROP_RX_FRAME)
				DEV_STATS_INC(kdev->dev, rx_frame_errors);
			dev_core_stats_rx_dropped_inc(kdev->dev);
		}
	}
	rcu_read_unlock();
}

/*
 * Small packets are copied into the task's page fragment and wrapped with
 * build_skb(): no kmalloc per packet. Larger ones get page fragments.
 */
static struct sk_buff *copy_in(struct iov_iter *from, size_t len, int *err)
{
	unsigned int buflen = SKB_DATA_ALIGN(KTUN_RX_PAD + len) +
			      SKB_DATA_ALIGN(sizeof(struct skb_shared_info));
	struct sk_buff *skb;

	*err = -ENOMEM;
	if (buflen <= PAGE_SIZE) {
		struct page_frag *pf = &current->task_frag;
		void *buf;

		if (unlikely(!skb_page_frag_refill(buflen, pf, GFP_KERNEL)))
			return NULL;
		buf = page_address(pf->page) + pf->offset;
		if (unlikely(!copy_from_iter_full(buf + KTUN_RX_PAD, len, from))) {
			*err = -EFAULT;
			return NULL;
		}
		skb = build_skb(buf, buflen);
		if (unlikely(!skb))
			return NULL;
		get_page(pf->page);
		pf->offset += buflen;
		skb_reserve(skb, KTUN_RX_PAD);
		skb_put(skb, len);
	} else {
		size_t linear = min_t(size_t, len, KTUN_RX_LINEAR);

		skb = alloc_skb_with_frags(KTUN_RX_PAD + linear, len - linear,
					   PAGE_ALLOC_COSTLY_ORDER, err,
					   GFP_KERNEL);
		if (unlikely(!skb))
			return NULL;
		skb_reserve(skb, KTUN_RX_PAD);
		skb_put(skb, linear);
		skb->data_len = len - linear;
		skb->len += len - linear;
		if (unlikely(skb_copy_datagram_from_iter(skb, 0, from, len))) {
			kfree_skb(skb);
			*err = -EFAULT;
			return NULL;
		}
	}
	*err = 0;
	return skb;
}

/*
 * The protocol of a TUN packet: from the tun_pi header if there is one,
 * else from the IP version. Shared with the tx ring (ring_tx.c); @skb is
 * the kernel's copy of the packet. An IP packet shorter than its fixed header is
 * refused here rather than left for the stack to discard.
 */
__be16 ktun_pkt_tun_proto(const struct sk_buff *skb, unsigned int flags,
			  __be16 pi_proto)
{
	__be16 proto = pi_proto;

	if (flags & IFF_NO_PI) {
		switch (skb->data[0] >> 4) {
		case 4:
			proto = htons(ETH_P_IP);
			break;
		case 6:
			proto = htons(ETH_P_IPV6);
			break;
		default:
			return 0;
		}
	}
	if (proto == htons(ETH_P_IP) && skb->len < sizeof(struct iphdr))
		return 0;
	if (proto == htons(ETH_P_IPV6) && skb->len < sizeof(struct ipv6hdr))
		return 0;
	return proto;
}

/* Process context; writes never block. Returns bytes consumed or -errno. */
ssize_t ktun_pkt_write(struct ktun_file *kfile, struct iov_iter *from)
{
	size_t total = iov_iter_count(from), len = total;
	struct tun_pi pi = { 0, htons(ETH_P_IP) };
	struct virtio_net_hdr vnet;
	struct ktun_dev *kdev;
	struct net_device *dev;
	struct framing f;
	struct sk_buff *skb;
	unsigned int flags;
	int err;

	framing_of(kfile, &f);
	flags = f.flags;
	if (!flags)
		return -EBADFD;

	if (!(flags & IFF_NO_PI)) {
		if (len < sizeof(pi))
			goto err_inval;
		if (!copy_from_iter_full(&pi, sizeof(pi), from)) {
			err = -EFAULT;
			goto err_count;
		}
		len -= sizeof(pi);
	}
	if (flags & IFF_VNET_HDR) {
		err = ktun_vnet_parse(from, &len, f.vnet_hdr_sz, vnet_le(&f),
				      flags & IFF_TAP ? ETH_HLEN : 0, &vnet);
		if (err)
			goto err_frame;
	}
	if (len > KTUN_MAX_PACKET) {
		err = -EMSGSIZE;
		goto err_count;
	}
	if (flags & IFF_TAP ? len < ETH_HLEN : len == 0)
		goto err_inval;

	skb = copy_in(from, len, &err);
	if (!skb)
		goto err_count;

	if (flags & IFF_TUN) {
		skb->protocol = ktun_pkt_tun_proto(skb, flags, pi.proto);
		if (!skb->protocol) {
			kfree_skb(skb);
			goto err_inval;
		}
		skb_reset_mac_header(skb);
		skb_reset_network_header(skb);
	}

	local_bh_disable();
	rcu_read_lock();
	kdev = rcu_dereference(kfile->kdev);
	if (unlikely(!kdev)) {
		err = -EBADFD;
		goto err_unlock;
	}
	dev = kdev->dev;
	if (unlikely(!(dev->flags & IFF_UP))) {
		dev_core_stats_rx_dropped_inc(dev);
		err = -EIO;
		goto err_unlock;
	}
	skb->dev = dev;
	/* Before eth_type_trans(): offsets in the header count from the frame. */
	if ((flags & IFF_VNET_HDR) && ktun_vnet_apply(skb, &vnet, vnet_le(&f))) {
		DEV_STATS_INC(dev, rx_frame_errors);
		dev_core_stats_rx_dropped_inc(dev);
		err = -EINVAL;
		goto err_unlock;
	}
	if (flags & IFF_TAP)
		skb->protocol = eth_type_trans(skb, dev);
	/* A disabled queue's index is stale: RPS would warn about it. */
	if (READ_ONCE(kfile->index) < READ_ONCE(kdev->numqueues))
		skb_record_rx_queue(skb, READ_ONCE(kfile->index));
	dev_sw_netstats_rx_add(dev, len);
	/* Straight into the stack on this CPU, as a NIC's poll would. */
	netif_receive_skb(skb);
	rcu_read_unlock();
	local_bh_enable();
	return total;

err_unlock:
	rcu_read_unlock();
	local_bh_enable();
	kfree_skb(skb);
	return err;
err_frame:
	count_drop(kfile, DROP_RX_FRAME);
	return err;
err_inval:
	err = -EINVAL;
err_count:
	count_drop(kfile, DROP_RX);
	return err;
}

/*
 * Process context. One packet per call; a buffer too small gets the head
 * of the packet, and TUN_PKT_STRIP in its tun_pi when it has one.
 */
ssize_t ktun_pkt_read(struct ktun_file *kfile, struct iov_iter *to,
		      bool nonblock)
{
	size_t avail = iov_iter_count(to);
	struct tun_pi pi = { 0, 0 };
	struct ktun_dev *kdev;
	struct sk_buff *skb;
	struct framing f;
	unsigned int flags;
	size_t total;
	int err;

	if (!rcu_access_pointer(kfile->kdev))
		return -EBADFD;
	if (!avail)
		return 0;

	skb = ktun_queue_pop(kfile, nonblock, &err);
	if (!skb)
		return err;
	framing_of(kfile, &f);
	flags = f.flags;
	if (!flags) {
		err = -EBADFD;
		goto err_free;
	}
	if (!(flags & IFF_VNET_HDR)) {
		/* Offloads are off without the header (vnet.c), but a packet
		 * queued before they went off may still need finishing.
		 */
		if (unlikely(skb_is_gso(skb))) {
			err = -EINVAL;
			goto err_free;
		}
		if (unlikely(skb->ip_summed == CHECKSUM_PARTIAL) &&
		    skb_checksum_help(skb)) {
			err = -EINVAL;
			goto err_free;
		}
	}

	total = skb->len + (flags & IFF_VNET_HDR ? f.vnet_hdr_sz : 0);
	if (!(flags & IFF_NO_PI)) {
		total += sizeof(pi);
		if (avail < sizeof(pi)) {
			err = -EINVAL;
			goto err_free;
		}
		if (avail < total)
			pi.flags = TUN_PKT_STRIP;
		pi.proto = skb->protocol;
		if (copy_to_iter(&pi, sizeof(pi), to) != sizeof(pi)) {
			err = -EFAULT;
			goto err_free;
		}
	}
	if (flags & IFF_VNET_HDR) {
		err = ktun_vnet_emit(to, skb, f.vnet_hdr_sz, vnet_le(&f));
		if (err)
			goto err_free;
	}
	if (skb_copy_datagram_iter(skb, 0, to,
				   min_t(size_t, skb->len, iov_iter_count(to)))) {
		err = -EFAULT;
		goto err_free;
	}

	rcu_read_lock();
	kdev = rcu_dereference(kfile->kdev);
	if (kdev) {
		preempt_disable();
		dev_sw_netstats_tx_add(kdev->dev, 1, skb->len);
		preempt_enable();
	}
	rcu_read_unlock();
	consume_skb(skb);
	/* As stock: at most the buffer; TUN_PKT_STRIP marks a cut with tun_pi. */
	return min(total, avail);

err_free:
	count_drop(kfile, DROP_TX);
	kfree_skb(skb);
	return err;
}
