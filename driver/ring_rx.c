// SPDX-License-Identifier: GPL-2.0
/* Copyright (C) 2026 The ktun authors. */
/*
 * The rx ring: packets the stack transmits on a queue, framed as read()
 * would frame them, into the application's ring instead of the packet
 * queue. Flow control: when the ring fills, the interface's transmit
 * queue is stopped and KTUN_RING_F_NEED_WAKEUP asks the application for a
 * kick once it has consumed; the kick restarts the queue.
 *
 * Producer: ktun_ring_rx_xmit(), multi-producer (ndo_start_xmit on any CPU,
 * BHs off), serialised by ring->rx_lock. Consumer: the application.
 */
#include <linux/netdevice.h>
#include <linux/poll.h>
#include <linux/skbuff.h>
#include <linux/uio.h>
#include <linux/virtio_net.h>

#include "ring.h"

/*
 * Writes @skb into @dst (slot_size bytes of shared memory) as read() would
 * return it. Returns the length, or 0 if the packet does not fit or cannot
 * be described by the frozen framing.
 */
static u32 rx_frame(struct ktun_ring *ring, struct sk_buff *skb, u8 *dst)
{
	u32 room = ring->rx.slot_size, off = 0;

	if (!(ring->iff & IFF_NO_PI))
		off += sizeof(struct tun_pi);
	off += ring->vnet_hdr_sz;
	if (skb->len > room - off)
		return 0;

	off = 0;
	if (!(ring->iff & IFF_NO_PI)) {
		struct tun_pi pi = { 0, skb->protocol };

		memcpy(dst, &pi, sizeof(pi));
		off = sizeof(pi);
	}
	if (ring->iff & IFF_VNET_HDR) {
		struct kvec kv = { dst + off, ring->vnet_hdr_sz };
		struct iov_iter to;

		/* What the header does not use reads as zeroes, not stale. */
		memset(dst + off, 0, ring->vnet_hdr_sz);
		iov_iter_kvec(&to, ITER_DEST, &kv, 1, kv.iov_len);
		if (ktun_vnet_emit(&to, skb, ring->vnet_hdr_sz,
				   ktun_ring_vnet_le(ring)))
			return 0;
		off += ring->vnet_hdr_sz;
	}
	if (skb_copy_bits(skb, 0, dst + off, skb->len))
		return 0;
	return off + skb->len;
}

/* Under rx_lock: is there a free slot? A corrupt consumer index says no. */
static bool rx_has_room(struct ktun_ring_dir *rx)
{
	/* Pairs with the application's store-release of consumer: it has
	 * finished with the slots it frees.
	 */
	u32 used = rx->head - smp_load_acquire(rx->consumer);

	return used < rx->mask + 1;
}

/* Under rx_lock. */
static void rx_restart(struct ktun_ring *ring)
{
	ring->rx_stopped = false;
	ktun_ring_publish_flags(ring, &ring->rx, 0, KTUN_RING_F_NEED_WAKEUP);
	netif_tx_wake_queue(netdev_get_tx_queue(ring->dev, ring->stopped_txq));
}

/*
 * Under rx_lock, the ring full: stop the queue and ask for a kick. The
 * flag store, the full barrier and the index reload pair with the
 * application's consumer store, full fence and flags load (lib/ring.c
 * kick_if_asked()): either we see its new consumer and restart at once,
 * or it sees our flag and kicks.
 */
static void rx_stop(struct ktun_ring *ring, u16 qi)
{
	netif_tx_stop_queue(netdev_get_tx_queue(ring->dev, qi));
	ring->rx_stopped = true;
	ring->stopped_txq = qi;
	WRITE_ONCE(ring->rx.stops, ring->rx.stops + 1);
	ktun_ring_publish_flags(ring, &ring->rx, KTUN_RING_F_NEED_WAKEUP, 0);
	smp_mb(); /* flag store before consumer reload; see above */
	if (rx_has_room(&ring->rx))
		rx_restart(ring);
}

/*
 * ndo_start_xmit into the ring; consumes @skb unless the pair has no rx
 * ring (returns false: the packet queue takes it). Multi-producer, BHs off,
 * under rcu_read_lock (the caller found the ring through kfile->rings).
 */
bool ktun_ring_rx_xmit(struct ktun_ring *ring, struct sk_buff *skb)
{
	struct ktun_ring_dir *rx = &ring->rx;
	u16 qi = skb_get_queue_mapping(skb);
	u32 size = rx->mask + 1, used, slot, len;
	struct ktun_file *kfile = ring->kfile;
	unsigned int skb_len;

	if (!rx->mem)
		return false;
	/* Offloads are off without the header, but a packet queued before
	 * they went off may still need finishing: as read() does.
	 */
	if (!(ring->iff & IFF_VNET_HDR)) {
		if (unlikely(skb_is_gso(skb)))
			goto drop;
		if (unlikely(skb->ip_summed == CHECKSUM_PARTIAL) &&
		    skb_checksum_help(skb))
			goto drop;
	}

	spin_lock(&ring->rx_lock);
	if (unlikely(READ_ONCE(ring->state)))
		goto drop_unlock;
	/* Pairs with the application's store-release of consumer. */
	used = rx->head - smp_load_acquire(rx->consumer);
	if (unlikely(used > size)) {
		ktun_ring_fail(ring, rx);
		goto drop_unlock;
	}
	if (unlikely(used == size)) {
		/* Another CPU got past the stopped queue, or the queue was
		 * restarted (ndo_open) under a full ring: stop it again.
		 */
		rx_stop(ring, qi);
		goto drop_unlock;
	}
	slot = rx->head & rx->mask;
	len = rx_frame(ring, skb, rx->data + (size_t)slot * rx->slot_size);
	if (unlikely(!len))
		goto drop_unlock;
	WRITE_ONCE(rx->desc[slot].len, len);
	WRITE_ONCE(rx->desc[slot].flags, 0);
	WRITE_ONCE(rx->head, rx->head + 1);
	/* Slot and desc before the index the application acquires. */
	smp_store_release(rx->producer, rx->head);
	WRITE_ONCE(rx->packets, rx->packets + 1);
	WRITE_ONCE(rx->bytes, rx->bytes + len);
	if (used + 1 == size)
		rx_stop(ring, qi);
	spin_unlock(&ring->rx_lock);

	skb_len = skb->len;
	dev_sw_netstats_tx_add(ring->dev, 1, skb_len);
	consume_skb(skb);
	if (netdev_xmit_more())
		return true;
	/* Pairs with the smp_mb() in ktun_chr_poll() after poll_wait(): our
	 * producer store is ordered before the sleeper check, as the
	 * poller's queueing is before its readiness check.
	 */
	smp_mb(); /* producer store before sleeper check; see above */
	if (waitqueue_active(&kfile->wq)) { /* ordered by the smp_mb() */
		atomic64_inc(&rx->wakeups);
		wake_up_interruptible_poll(&kfile->wq, EPOLLIN | EPOLLRDNORM);
	}
	return true;

drop_unlock:
	WRITE_ONCE(rx->drops, rx->drops + 1);
	spin_unlock(&ring->rx_lock);
	dev_core_stats_tx_dropped_inc(ring->dev);
	kfree_skb(skb);
	return true;
drop:
	spin_lock(&ring->rx_lock);
	WRITE_ONCE(rx->drops, rx->drops + 1);
	spin_unlock(&ring->rx_lock);
	dev_core_stats_tx_dropped_inc(ring->dev);
	kfree_skb(skb);
	return true;
}

/* A kick (ioctl or poll), process context: restart a stopped queue. */
void ktun_ring_rx_kick(struct ktun_ring *ring)
{
	spin_lock_bh(&ring->rx_lock);
	if (ring->rx_stopped && !READ_ONCE(ring->state) &&
	    rx_has_room(&ring->rx))
		rx_restart(ring);
	spin_unlock_bh(&ring->rx_lock);
}

/* For poll(): are there entries the application has not consumed? */
bool ktun_ring_rx_readable(struct ktun_ring *ring)
{
	return READ_ONCE(*ring->rx.consumer) != READ_ONCE(ring->rx.head);
}

/* Under rtnl, after the grace period of a detach: a queue we stopped runs. */
void ktun_ring_rx_retire(struct ktun_ring *ring)
{
	ASSERT_RTNL();
	spin_lock_bh(&ring->rx_lock);
	if (ring->rx_stopped) {
		ring->rx_stopped = false;
		if (netif_running(ring->dev) &&
		    ring->stopped_txq < ring->dev->real_num_tx_queues)
			netif_tx_wake_queue(netdev_get_tx_queue(ring->dev,
								ring->stopped_txq));
	}
	spin_unlock_bh(&ring->rx_lock);
}
