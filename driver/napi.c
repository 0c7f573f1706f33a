// SPDX-License-Identifier: GPL-2.0
/* Copyright (C) 2026 The ktun authors. */
/*
 * IFF_NAPI and IFF_NAPI_FRAGS: written packets enter the stack through a
 * NAPI instance of the writing file, and so through GRO.
 *
 * IFF_NAPI: a write queues its skb on kfile->napi_queue and schedules the
 * file's NAPI; the poll runs when the writer re-enables BHs, hands every
 * queued skb to napi_gro_receive() and completes, which flushes GRO. Each
 * BH-off section of the write path is thus one burst: a single write(), as
 * with stock, or many packets queued in one section. With the device's
 * gro_flush_timeout set, GRO keeps a flow open across bursts (the core's
 * rule: until the next jiffy, at most the timeout), which is what lets
 * MSS-sized writes leave the device as fewer, larger packets.
 *
 * IFF_NAPI_FRAGS (TAP only, CAP_NET_ADMIN, checked in iff.c): the write
 * builds its frame in the NAPI's own skb (napi_get_frags(): the head in
 * the linear part, the rest in page fragments) and feeds it to
 * napi_gro_frags() at once.
 *
 * As with stock, the mode is a property of the file, taken from the flags
 * of the TUNSETIFF that attached it. The NAPI's life, all under rtnl:
 *   attach          ktun_napi_add():   netif_napi_add_tx, napi_enable, live
 *   IFF_DETACH_QUEUE ktun_napi_stop(): not live, napi_disable, purge
 *   IFF_ATTACH_QUEUE ktun_napi_start(): napi_enable, live
 *   close, delete   ktun_napi_stop(), the caller's grace period, then
 *                   ktun_napi_del():   netif_napi_del
 * so a queue detached with IFF_DETACH_QUEUE is deleted too when its file
 * closes or its device goes: the leak syzkaller found in stock. A write on
 * such a queue fails with EBUSY, as on stock.
 */
#include <linux/etherdevice.h>
#include <linux/netdevice.h>
#include <linux/rtnetlink.h>
#include <linux/skbuff.h>
#include <linux/uio.h>

#include "ktun.h"

/* Packets a NAPI queue holds at most; beyond, writes are dropped, counted. */
#define KTUN_NAPI_BACKLOG	1024
/* How much of a frame the frags path puts in the linear part. */
#define KTUN_NAPI_HEAD		256

/* Softirq, one poll per NAPI at a time; the writers are the producers. */
static int ktun_napi_poll(struct napi_struct *napi, int budget)
{
	struct ktun_file *kfile = container_of(napi, struct ktun_file, napi);
	struct sk_buff_head batch;
	struct sk_buff *skb;
	int done = 0;

	__skb_queue_head_init(&batch);
	spin_lock(&kfile->napi_queue.lock);
	skb_queue_splice_tail_init(&kfile->napi_queue, &batch);
	spin_unlock(&kfile->napi_queue.lock);

	while (done < budget && (skb = __skb_dequeue(&batch))) {
		napi_gro_receive(napi, skb);
		done++;
	}
	if (!skb_queue_empty(&batch)) {
		/* Over budget: back in front, for the next poll. */
		spin_lock(&kfile->napi_queue.lock);
		skb_queue_splice(&batch, &kfile->napi_queue);
		spin_unlock(&kfile->napi_queue.lock);
	}
	if (done < budget)
		napi_complete_done(napi, done);
	return done;
}

void ktun_napi_init(struct ktun_file *kfile)
{
	skb_queue_head_init(&kfile->napi_queue);
	mutex_init(&kfile->napi_frags_lock);
}

/* A file attached to @kdev by a TUNSETIFF with @flags; under rtnl. */
void ktun_napi_add(struct ktun_dev *kdev, struct ktun_file *kfile,
		   unsigned int flags)
{
	ASSERT_RTNL();
	if (!(flags & IFF_NAPI) || kfile->napi_mode)
		return;
	netif_napi_add_tx(kdev->dev, &kfile->napi, ktun_napi_poll);
	WRITE_ONCE(kfile->napi_mode, flags & (IFF_NAPI | IFF_NAPI_FRAGS));
	kfile->napi_enabled = false;
	ktun_napi_start(kfile);
}

/* Back in service (IFF_ATTACH_QUEUE); under rtnl. */
void ktun_napi_start(struct ktun_file *kfile)
{
	ASSERT_RTNL();
	if (!kfile->napi_mode || kfile->napi_enabled)
		return;
	napi_enable(&kfile->napi);
	kfile->napi_enabled = true;
	spin_lock_bh(&kfile->napi_queue.lock);
	kfile->napi_live = true;
	spin_unlock_bh(&kfile->napi_queue.lock);
}

/*
 * Out of service: no write queues after this, no poll runs, and what was
 * queued is dropped. A writer may still be about to napi_schedule(), a
 * no-op on a disabled NAPI; the NAPI must outlive it, so ktun_napi_del()
 * waits for a grace period after this. Under rtnl; sleeps.
 */
void ktun_napi_stop(struct ktun_file *kfile)
{
	ASSERT_RTNL();
	if (!kfile->napi_enabled)
		return;
	/* A frags writer holds the NAPI's skb under this lock, across its
	 * user copy: a stalled copy stalls this, under rtnl. Only admins
	 * (CAP_NET_ADMIN) have IFF_NAPI_FRAGS, as with stock.
	 */
	mutex_lock(&kfile->napi_frags_lock);
	spin_lock_bh(&kfile->napi_queue.lock);
	kfile->napi_live = false;
	spin_unlock_bh(&kfile->napi_queue.lock);
	napi_disable(&kfile->napi);
	kfile->napi_enabled = false;
	mutex_unlock(&kfile->napi_frags_lock);
	skb_queue_purge(&kfile->napi_queue);
}

/*
 * The file leaves its device: after ktun_napi_stop() and a grace period.
 * netif_napi_del() drops what GRO still held and waits for another grace
 * period before the file, which holds the NAPI, may be freed.
 */
void ktun_napi_del(struct ktun_file *kfile)
{
	ASSERT_RTNL();
	if (!kfile->napi_mode)
		return;
	WARN_ON_ONCE(kfile->napi_enabled);
	netif_napi_del(&kfile->napi);
	WRITE_ONCE(kfile->napi_mode, 0);
}

/*
 * The write path, BHs off, under RCU, with the file attached: queues @skb
 * for the poll, which runs when the caller re-enables BHs. -EBUSY if the
 * queue is out of service, as stock; @skb is then the caller's.
 */
int ktun_napi_receive(struct ktun_file *kfile, struct sk_buff *skb)
{
	struct sk_buff_head *q = &kfile->napi_queue;

	spin_lock(&q->lock);
	if (unlikely(!kfile->napi_live)) {
		spin_unlock(&q->lock);
		return -EBUSY;
	}
	if (unlikely(skb_queue_len(q) >= KTUN_NAPI_BACKLOG)) {
		spin_unlock(&q->lock);
		dev_core_stats_rx_dropped_inc(skb->dev);
		kfree_skb(skb);
		return 0;
	}
	__skb_queue_tail(q, skb);
	spin_unlock(&q->lock);
	napi_schedule(&kfile->napi);
	return 0;
}

/*
 * IFF_NAPI_FRAGS, process context: builds a @len-byte frame from @from in
 * the NAPI's skb. On success the frags lock is held until
 * ktun_napi_frags_receive() or ktun_napi_frags_abort().
 */
struct sk_buff *ktun_napi_frags_alloc(struct ktun_file *kfile,
				      struct iov_iter *from, size_t len,
				      int *err)
{
	size_t head = min_t(size_t, len, KTUN_NAPI_HEAD), rest = len - head;
	struct sk_buff *skb;
	unsigned int i;
	bool live;

	if (DIV_ROUND_UP(rest, PAGE_SIZE) > MAX_SKB_FRAGS) {
		*err = -EMSGSIZE;
		return NULL;
	}
	mutex_lock(&kfile->napi_frags_lock);
	/* Live under this lock: added, enabled, and staying so until unlock. */
	spin_lock_bh(&kfile->napi_queue.lock);
	live = kfile->napi_live && (kfile->napi_mode & IFF_NAPI_FRAGS);
	spin_unlock_bh(&kfile->napi_queue.lock);
	*err = -EBUSY;
	if (!live)
		goto err_unlock;
	*err = -ENOMEM;
	local_bh_disable();
	skb = napi_get_frags(&kfile->napi);
	local_bh_enable();
	if (!skb)
		goto err_unlock;
	if (__skb_grow(skb, head))
		goto err_free;
	skb_put(skb, head);
	for (i = 0; rest; i++) {
		unsigned int sz = min_t(size_t, rest, PAGE_SIZE);
		void *frag = netdev_alloc_frag(sz);
		struct page *page;

		if (!frag)
			goto err_free;
		page = virt_to_head_page(frag);
		skb_fill_page_desc(skb, i, page, frag - page_address(page), sz);
		skb->len += sz;
		skb->data_len += sz;
		skb->truesize += sz;
		rest -= sz;
	}
	if (skb_copy_datagram_from_iter(skb, 0, from, len)) {
		*err = -EFAULT;
		goto err_free;
	}
	*err = 0;
	return skb;

err_free:
	napi_free_frags(&kfile->napi);
err_unlock:
	mutex_unlock(&kfile->napi_frags_lock);
	return NULL;
}

/*
 * Hands the frame of ktun_napi_frags_alloc(), its data at the Ethernet
 * header, to GRO, and flushes. BHs off, under RCU; the frags lock stays
 * held for ktun_napi_frags_done() (or _abort() on error: -EBUSY).
 */
int ktun_napi_frags_receive(struct ktun_file *kfile)
{
	if (unlikely(!napi_schedule_prep(&kfile->napi)))
		return -EBUSY;
	napi_gro_frags(&kfile->napi);
	napi_complete(&kfile->napi);
	return 0;
}

void ktun_napi_frags_abort(struct ktun_file *kfile)
{
	napi_free_frags(&kfile->napi);
	mutex_unlock(&kfile->napi_frags_lock);
}

void ktun_napi_frags_done(struct ktun_file *kfile)
{
	mutex_unlock(&kfile->napi_frags_lock);
}
