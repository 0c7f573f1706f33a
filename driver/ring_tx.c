// SPDX-License-Identifier: GPL-2.0
/* Copyright (C) 2026 The ktun authors. */
/*
 * The tx ring: packets the application puts in its ring, framed as for
 * write(), handed to the stack in batches by this pair's NAPI instance
 * (GRO, then lists to the stack). A kick (KTUN_RING_KICK, poll()) schedules
 * the poll; while the application keeps producing, the poll keeps itself
 * scheduled and no kick is needed. When it finds the ring empty it sets
 * KTUN_RING_F_NEED_WAKEUP and stops.
 *
 * Producer: the application. Consumer: ktun_ring_tx_poll(), softirq, one
 * CPU at a time (NAPI's rule); it alone writes tx.head and the tx counters.
 *
 * Every packet is copied out of the ring before any of its headers is
 * checked, and the checks run on the copy: the tun_pi and virtio-net
 * headers are copied into locals, the packet into its skb.
 */
#include <linux/etherdevice.h>
#include <linux/netdevice.h>
#include <linux/poll.h>
#include <linux/skbuff.h>
#include <linux/uio.h>
#include <linux/virtio_net.h>

#include "ring.h"

/* Up to this many bytes an skb comes from the NAPI fragment cache. */
#define TX_SMALL	2048
/* How much of a larger packet goes in the linear part. */
#define TX_LINEAR	256

/* Copies @len bytes of packet from the ring into a new skb. Softirq. */
static struct sk_buff *tx_copy(struct ktun_ring *ring, const u8 *src, u32 len)
{
	struct sk_buff *skb;
	u32 linear;
	int err;

	if (len <= TX_SMALL) {
		skb = napi_alloc_skb(&ring->napi, len);
		if (likely(skb))
			skb_put_data(skb, src, len);
		return skb;
	}
	linear = TX_LINEAR;
	skb = alloc_skb_with_frags(NET_SKB_PAD + NET_IP_ALIGN + linear,
				   len - linear, PAGE_ALLOC_COSTLY_ORDER, &err,
				   GFP_ATOMIC);
	if (!skb)
		return NULL;
	skb_reserve(skb, NET_SKB_PAD + NET_IP_ALIGN);
	skb_put(skb, linear);
	skb->data_len = len - linear;
	skb->len += len - linear;
	if (skb_store_bits(skb, 0, src, len)) {
		kfree_skb(skb);
		return NULL;
	}
	return skb;
}

enum tx_verdict { TX_OK, TX_INVALID, TX_DROP };

/*
 * Turns one ring entry (@len bytes at @src, len already bounded by the slot
 * size) into an skb for the stack, as ktun_pkt_write() does for a write.
 */
static enum tx_verdict tx_build(struct ktun_ring *ring, const u8 *src, u32 len,
				struct sk_buff **out)
{
	struct tun_pi pi = { 0, htons(ETH_P_IP) };
	struct net_device *dev = ring->dev;
	unsigned int iff = ring->iff;
	struct virtio_net_hdr vnet;
	struct sk_buff *skb;
	size_t rest = len;
	u32 off = 0;

	if (!(iff & IFF_NO_PI)) {
		if (rest < sizeof(pi))
			return TX_INVALID;
		memcpy(&pi, src, sizeof(pi));
		off = sizeof(pi);
		rest -= sizeof(pi);
	}
	if (iff & IFF_VNET_HDR) {
		struct kvec kv = { (void *)(src + off), rest };
		struct iov_iter from;

		iov_iter_kvec(&from, ITER_SOURCE, &kv, 1, rest);
		/* Copies the header into vnet and checks the copy. */
		if (ktun_vnet_parse(&from, &rest, ring->vnet_hdr_sz,
				    ktun_ring_vnet_le(ring),
				    iff & IFF_TAP ? ETH_HLEN : 0, &vnet))
			return TX_INVALID;
		off += ring->vnet_hdr_sz;
	}
	if (rest > KTUN_MAX_PACKET || (iff & IFF_TAP ? rest < ETH_HLEN : !rest))
		return TX_INVALID;

	skb = tx_copy(ring, src + off, rest);
	if (unlikely(!skb))
		return TX_DROP;
	/* From here on only the copy is read. */
	if (iff & IFF_TUN) {
		skb->protocol = ktun_pkt_tun_proto(skb, iff, pi.proto);
		if (!skb->protocol)
			goto err_invalid;
		skb_reset_mac_header(skb);
		skb_reset_network_header(skb);
	}
	skb->dev = dev;
	if ((iff & IFF_VNET_HDR) &&
	    ktun_vnet_apply(skb, &vnet, ktun_ring_vnet_le(ring)))
		goto err_invalid;
	if (iff & IFF_TAP)
		skb->protocol = eth_type_trans(skb, dev);
	*out = skb;
	return TX_OK;

err_invalid:
	kfree_skb(skb);
	return TX_INVALID;
}

/* The queue index to record, as ktun_pkt_write() records it. */
static int tx_rx_queue(struct ktun_ring *ring)
{
	struct ktun_dev *kdev = netdev_priv(ring->dev);
	u16 index = READ_ONCE(ring->kfile->index);

	return index < READ_ONCE(kdev->numqueues) ? index : -1;
}

/* NAPI poll context: moves up to @budget entries to the stack. */
static int tx_drain(struct ktun_ring *ring, int budget)
{
	struct ktun_ring_dir *tx = &ring->tx;
	struct net_device *dev = ring->dev;
	u32 size = tx->mask + 1, avail, n, i, slot, len, flags;
	bool up = READ_ONCE(dev->flags) & IFF_UP;
	int queue = tx_rx_queue(ring);
	struct sk_buff *skb;

	/* Pairs with the application's store-release of producer. */
	avail = smp_load_acquire(tx->producer) - tx->head;
	if (unlikely(avail > size)) {
		ktun_ring_fail(ring, tx);
		return 0;
	}
	n = min_t(u32, avail, budget);
	for (i = 0; i < n; i++) {
		slot = (tx->head + i) & tx->mask;
		len = READ_ONCE(tx->desc[slot].len);
		flags = READ_ONCE(tx->desc[slot].flags);
		if (unlikely(flags || len > tx->slot_size)) {
			ktun_ring_fail(ring, tx);
			break;
		}
		if (unlikely(!up)) {
			WRITE_ONCE(tx->drops, tx->drops + 1);
			dev_core_stats_rx_dropped_inc(dev);
			continue;
		}
		switch (tx_build(ring, tx->data + (size_t)slot * tx->slot_size,
				 len, &skb)) {
		case TX_OK:
			break;
		case TX_INVALID:
			WRITE_ONCE(tx->invalid, tx->invalid + 1);
			DEV_STATS_INC(dev, rx_frame_errors);
			dev_core_stats_rx_dropped_inc(dev);
			continue;
		default:
			WRITE_ONCE(tx->drops, tx->drops + 1);
			dev_core_stats_rx_dropped_inc(dev);
			continue;
		}
		if (queue >= 0)
			skb_record_rx_queue(skb, queue);
		WRITE_ONCE(tx->packets, tx->packets + 1);
		WRITE_ONCE(tx->bytes, tx->bytes + len);
		dev_sw_netstats_rx_add(dev, skb->len);
		napi_gro_receive(&ring->napi, skb);
	}
	if (!i)
		return 0;
	WRITE_ONCE(tx->head, tx->head + i);
	/* Every copy out of these slots is done before they are handed back. */
	smp_store_release(tx->consumer, tx->head);
	/* Pairs with the smp_mb() in ktun_chr_poll(), as on the rx side. */
	smp_mb();
	if (waitqueue_active(&ring->kfile->wq)) /* ordered by the smp_mb() */
		wake_up_interruptible_poll(&ring->kfile->wq,
					   EPOLLOUT | EPOLLWRNORM);
	return i;
}

static bool tx_pending(struct ktun_ring *ring)
{
	return READ_ONCE(*ring->tx.producer) != READ_ONCE(ring->tx.head);
}

/*
 * The ring went empty and the poll completed: ask for a kick. The flag
 * store, the full barrier and the producer reload pair with the
 * application's producer store, full fence and flags load (lib/ring.c
 * kick_if_asked()): either we see the new entries and go on, or it sees
 * the flag and kicks.
 */
static void tx_idle(struct ktun_ring *ring)
{
	ktun_ring_publish_flags(ring, &ring->tx, KTUN_RING_F_NEED_WAKEUP, 0);
	smp_mb(); /* flag store before producer reload; see above */
	if (tx_pending(ring) && !READ_ONCE(ring->state)) {
		ktun_ring_publish_flags(ring, &ring->tx, 0,
					KTUN_RING_F_NEED_WAKEUP);
		napi_schedule(&ring->napi);
	}
}

/* The NAPI poll of a ring pair. Softirq, one CPU at a time. */
int ktun_ring_tx_poll(struct napi_struct *napi, int budget)
{
	struct ktun_ring *ring = container_of(napi, struct ktun_ring, napi);
	int done = 0;

	if (likely(ring->tx.mem && !READ_ONCE(ring->state)))
		done = tx_drain(ring, budget);
	if (done < budget && napi_complete_done(napi, done) &&
	    ring->tx.mem && !READ_ONCE(ring->state))
		tx_idle(ring);
	return done;
}

/*
 * A kick: process context, under rcu_read_lock, the pair not dead. Runs
 * the poll on this CPU when BHs come back on.
 */
void ktun_ring_tx_kick(struct ktun_ring *ring)
{
	atomic64_inc(&ring->tx.wakeups);
	local_bh_disable();
	if (napi_schedule_prep(&ring->napi)) {
		/* Running now: entries seen by the poll need no flag. */
		ktun_ring_publish_flags(ring, &ring->tx, 0,
					KTUN_RING_F_NEED_WAKEUP);
		__napi_schedule(&ring->napi);
	}
	local_bh_enable();
}

/* For poll(): is a slot free? */
bool ktun_ring_tx_writable(struct ktun_ring *ring)
{
	return READ_ONCE(*ring->tx.producer) - READ_ONCE(ring->tx.head) <=
	       ring->tx.mask;
}

/* poll()'s kick: only when entries wait, so idle polling stays cheap. */
void ktun_ring_tx_poll_kick(struct ktun_ring *ring)
{
	if (tx_pending(ring))
		ktun_ring_tx_kick(ring);
}
