// SPDX-License-Identifier: GPL-2.0
/* Copyright (C) 2026 The ktun authors. */
/*
 * Per-file packet queues: the packets the stack transmitted to one queue of
 * the interface, waiting for the application's read().
 *
 * Producers: ndo_start_xmit, softirq, any CPU (the ring's producer lock).
 * Consumers: read() in process context, several threads of one fd at once,
 * and the purge on detach (the ring's consumer lock).
 */
#include <linux/poll.h>
#include <linux/sched/signal.h>
#include <linux/skbuff.h>

#include "ktun.h"

static void free_skb(void *ptr)
{
	kfree_skb(ptr);
}

int ktun_queue_init(struct ktun_file *kfile)
{
	init_waitqueue_head(&kfile->wq);
	/* Sized when the file attaches, from the device's tx_queue_len. */
	return ptr_ring_init(&kfile->ring, 0, GFP_KERNEL);
}

void ktun_queue_uninit(struct ktun_file *kfile)
{
	ptr_ring_cleanup(&kfile->ring, free_skb);
}

/* Process context, under rtnl; the file is not published yet or detached. */
int ktun_queue_resize(struct ktun_file *kfile, unsigned int size)
{
	ASSERT_RTNL();
	return ptr_ring_resize(&kfile->ring, size, GFP_KERNEL, free_skb);
}

/*
 * Multi-producer, softirq. Returns false when the queue is full; the caller
 * drops and counts. The wakeup pairs with the prepare_to_wait() in
 * ktun_queue_pop(): the full barrier orders our store to the ring before
 * the check for sleepers, as their queueing is ordered before their check
 * of the ring by set_current_state().
 */
bool ktun_queue_push(struct ktun_file *kfile, struct sk_buff *skb)
{
	if (ptr_ring_produce(&kfile->ring, skb))
		return false;
	smp_mb(); /* ring store before sleeper check; see above */
	if (waitqueue_active(&kfile->wq)) /* ordered by the smp_mb() */
		wake_up_interruptible_poll(&kfile->wq, EPOLLIN | EPOLLRDNORM);
	kill_fasync(&kfile->fasync, SIGIO, POLL_IN);
	return true;
}

/*
 * Multi-consumer, process context. Sleeps until a packet arrives unless
 * @nonblock; returns NULL with *err set to -EAGAIN, -ERESTARTSYS, or
 * -EBADFD when the file was detached from its device while waiting.
 */
struct sk_buff *ktun_queue_pop(struct ktun_file *kfile, bool nonblock,
			       int *err)
{
	DEFINE_WAIT(wait);
	struct sk_buff *skb;

	skb = ptr_ring_consume(&kfile->ring);
	if (skb || nonblock) {
		*err = skb ? 0 : -EAGAIN;
		return skb;
	}

	*err = 0;
	for (;;) {
		prepare_to_wait_exclusive(&kfile->wq, &wait, TASK_INTERRUPTIBLE);
		skb = ptr_ring_consume(&kfile->ring);
		if (skb)
			break;
		if (!rcu_access_pointer(kfile->kdev)) {
			*err = -EBADFD;
			break;
		}
		/* Rings took over (KTUN_RING_SETUP wakes us). */
		if (ktun_ring_rx_active(kfile)) {
			*err = -EBUSY;
			break;
		}
		if (signal_pending(current)) {
			*err = -ERESTARTSYS;
			break;
		}
		schedule();
	}
	finish_wait(&kfile->wq, &wait);
	return skb;
}

bool ktun_queue_readable(struct ktun_file *kfile)
{
	return !ptr_ring_empty(&kfile->ring);
}

/* Drops every queued packet; returns how many. */
unsigned int ktun_queue_purge(struct ktun_file *kfile)
{
	struct sk_buff *skb;
	unsigned int n = 0;

	while ((skb = ptr_ring_consume(&kfile->ring))) {
		kfree_skb(skb);
		n++;
	}
	return n;
}

/* Wakes every sleeper, for a state change rather than a packet. */
void ktun_queue_wake(struct ktun_file *kfile, __poll_t events)
{
	__wake_up(&kfile->wq, TASK_INTERRUPTIBLE, 0, poll_to_key(events));
	kill_fasync(&kfile->fasync, SIGIO, POLL_HUP);
}

/* Wakes writers waiting for EPOLLOUT: the interface came up. */
void ktun_queue_wake_writers(struct ktun_file *kfile)
{
	__wake_up(&kfile->wq, TASK_INTERRUPTIBLE, 0,
		  poll_to_key(EPOLLOUT | EPOLLWRNORM | EPOLLWRBAND));
	kill_fasync(&kfile->fasync, SIGIO, POLL_OUT);
}

/*
 * For statistics: the packets waiting and the queue's size. Takes both of
 * the ring's locks (consumer first, as ptr_ring_resize does), so the count
 * is exact at that instant. Under rtnl, so the ring is not being resized.
 */
void ktun_queue_len(struct ktun_file *kfile, u64 *queued, u64 *capacity)
{
	struct ptr_ring *r = &kfile->ring;

	ASSERT_RTNL();
	spin_lock_bh(&r->consumer_lock);
	spin_lock(&r->producer_lock);
	*capacity = r->size;
	if (!r->size)
		*queued = 0;
	else if (r->producer == r->consumer_head)
		*queued = r->queue[r->producer] ? r->size : 0;
	else
		*queued = (r->producer - r->consumer_head + r->size) % r->size;
	spin_unlock(&r->producer_lock);
	spin_unlock_bh(&r->consumer_lock);
}
