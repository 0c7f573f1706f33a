// SPDX-License-Identifier: GPL-2.0
/* Copyright (C) 2026 The ktun authors. */
/*
 * Shared-memory rings: setup, the feature query, statistics, kicks, mmap,
 * and lifetime. The data paths are ring_rx.c (stack to application) and
 * ring_tx.c (application to stack); docs/rings.md has the pictures.
 *
 * Lifetime. A ring pair (struct ktun_ring) belongs to one attachment of a
 * file: KTUN_RING_SETUP publishes it in kfile->rings under rtnl; detach
 * (close, device delete, re-attach after delete) kills it
 * (ktun_ring_kill(), under rtnl, before the detach's grace period) and
 * retires it (ktun_ring_retire(), after the grace period: NAPI off, DEAD
 * published, the stopped queue woken). A dead pair stays in kfile->rings,
 * so its counters and state can still be read, until the file is released
 * or a new setup replaces it. Its memory (struct ktun_ring_mem) is
 * refcounted: one reference from the pair, one from each VMA, so it stays
 * mapped whatever the order of munmap, close, delete, fork and exit; the
 * last reference frees it and uncharges RLIMIT_MEMLOCK.
 */
#include <linux/capability.h>
#include <linux/mm.h>
#include <linux/poll.h>
#include <linux/rtnetlink.h>
#include <linux/sched/signal.h>
#include <linux/sched/user.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/vmalloc.h>
#include <linux/virtio_net.h>

#include "ring.h"

/* Offsets inside one ring mapping; the layout answer reports them. */
#define RING_OFF_PRODUCER	0
#define RING_OFF_CONSUMER	128
#define RING_OFF_FLAGS		256
#define RING_OFF_DESC		PAGE_SIZE

static size_t ring_desc_bytes(u32 slots)
{
	return PAGE_ALIGN((size_t)slots * sizeof(struct ktun_ring_desc));
}

static size_t ring_map_bytes(u32 slots, u32 slot_size)
{
	return RING_OFF_DESC + ring_desc_bytes(slots) +
	       (size_t)slots * slot_size;
}

static bool ring_size_ok(u32 slots, u32 slot_size)
{
	if (!slots)
		return true;
	return is_power_of_2(slots) && slots >= KTUN_RING_MIN_SLOTS &&
	       slots <= KTUN_RING_MAX_SLOTS && is_power_of_2(slot_size) &&
	       slot_size >= KTUN_RING_MIN_SLOT_SIZE &&
	       slot_size <= KTUN_RING_MAX_SLOT_SIZE &&
	       (u64)slots * slot_size <= KTUN_RING_MAX_DATA;
}

/* RLIMIT_MEMLOCK, as AF_XDP charges its umem; CAP_IPC_LOCK is exempt. */
static int ring_mem_charge(struct ktun_ring_mem *mem)
{
	unsigned long limit = rlimit(RLIMIT_MEMLOCK) >> PAGE_SHIFT;
	unsigned long pages = mem->size >> PAGE_SHIFT, old, new;
	struct user_struct *user;

	if (capable(CAP_IPC_LOCK))
		return 0;
	user = get_uid(current_user());
	old = atomic_long_read(&user->locked_vm);
	do {
		new = old + pages;
		if (new > limit) {
			free_uid(user);
			return -ENOBUFS;
		}
	} while (!atomic_long_try_cmpxchg(&user->locked_vm, &old, new));
	mem->user = user;
	mem->pages = pages;
	return 0;
}

static void ring_mem_release(struct kref *ref)
{
	struct ktun_ring_mem *mem = container_of(ref, struct ktun_ring_mem, ref);

	if (mem->user) {
		atomic_long_sub(mem->pages, &mem->user->locked_vm);
		free_uid(mem->user);
	}
	vfree(mem->base);
	kfree(mem);
	ktun_obj_destroyed();
}

static void ring_mem_put(struct ktun_ring_mem *mem)
{
	if (mem)
		kref_put(&mem->ref, ring_mem_release);
}

static struct ktun_ring_mem *ring_mem_alloc(size_t size)
{
	struct ktun_ring_mem *mem;
	int ret;

	mem = kzalloc(sizeof(*mem), GFP_KERNEL_ACCOUNT);
	if (!mem)
		return ERR_PTR(-ENOMEM);
	kref_init(&mem->ref);
	mem->size = size;
	ret = ring_mem_charge(mem);
	if (ret)
		goto err_free;
	mem->base = vmalloc_user(size);
	if (!mem->base) {
		ret = -ENOMEM;
		goto err_uncharge;
	}
	ktun_obj_created();
	return mem;

err_uncharge:
	if (mem->user) {
		atomic_long_sub(mem->pages, &mem->user->locked_vm);
		free_uid(mem->user);
	}
err_free:
	kfree(mem);
	return ERR_PTR(ret);
}

static int ring_dir_init(struct ktun_ring_dir *dir, u32 slots, u32 slot_size,
			 u64 mmap_offset, struct ktun_ring_layout *l)
{
	struct ktun_ring_mem *mem;
	u8 *base;

	memset(l, 0, sizeof(*l));
	if (!slots)
		return 0;
	mem = ring_mem_alloc(ring_map_bytes(slots, slot_size));
	if (IS_ERR(mem))
		return PTR_ERR(mem);
	base = mem->base;
	dir->mem = mem;
	dir->producer = (u32 *)(base + RING_OFF_PRODUCER);
	dir->consumer = (u32 *)(base + RING_OFF_CONSUMER);
	dir->flags = (u32 *)(base + RING_OFF_FLAGS);
	dir->desc = (struct ktun_ring_desc *)(base + RING_OFF_DESC);
	dir->data = base + RING_OFF_DESC + ring_desc_bytes(slots);
	dir->mask = slots - 1;
	dir->slot_size = slot_size;
	atomic64_set(&dir->wakeups, 0);

	l->mmap_offset = mmap_offset;
	l->mmap_size = mem->size;
	l->producer = RING_OFF_PRODUCER;
	l->consumer = RING_OFF_CONSUMER;
	l->flags = RING_OFF_FLAGS;
	l->desc = RING_OFF_DESC;
	l->data = RING_OFF_DESC + ring_desc_bytes(slots);
	l->slots = slots;
	l->slot_size = slot_size;
	return 0;
}

/* Frees a pair that is unpublished, or dead and past a grace period. */
static void ring_free(struct ktun_ring *ring)
{
	if (!ring)
		return;
	ring_mem_put(ring->rx.mem);
	ring_mem_put(ring->tx.mem);
	kfree(ring);
	ktun_obj_destroyed();
}

bool ktun_ring_vnet_le(const struct ktun_ring *ring)
{
	return ring->vnet_le || virtio_legacy_is_little_endian();
}

/*
 * Stores a direction's flags word: our private flags with @set added and
 * @clear removed, plus the pair's state. Any context; BHs may be on.
 */
void ktun_ring_publish_flags(struct ktun_ring *ring, struct ktun_ring_dir *dir,
			     u32 set, u32 clear)
{
	unsigned long irqflags;

	spin_lock_irqsave(&ring->state_lock, irqflags);
	dir->kflags = (dir->kflags | set) & ~clear;
	WRITE_ONCE(*dir->flags, dir->kflags | ring->state);
	spin_unlock_irqrestore(&ring->state_lock, irqflags);
}

static void ring_set_state(struct ktun_ring *ring, u32 state)
{
	unsigned long irqflags;

	spin_lock_irqsave(&ring->state_lock, irqflags);
	WRITE_ONCE(ring->state, ring->state | state);
	if (ring->rx.mem)
		WRITE_ONCE(*ring->rx.flags, ring->rx.kflags | ring->state);
	if (ring->tx.mem)
		WRITE_ONCE(*ring->tx.flags, ring->tx.kflags | ring->state);
	spin_unlock_irqrestore(&ring->state_lock, irqflags);
}

/*
 * A corrupt index or desc in @dir: the pair stops for good, the application
 * sees KTUN_RING_F_ERROR and EBADMSG. Any context.
 */
void ktun_ring_fail(struct ktun_ring *ring, struct ktun_ring_dir *dir)
{
	WRITE_ONCE(dir->invalid, dir->invalid + 1);
	if (!(READ_ONCE(ring->state) & KTUN_RING_F_ERROR))
		net_dbg_ratelimited("ktun: corrupt %s ring, stopped\n",
				    dir == &ring->rx ? "rx" : "tx");
	ring_set_state(ring, KTUN_RING_F_ERROR);
	wake_up_interruptible_poll(&ring->kfile->wq, EPOLLERR);
}

/* The errno of a pair's state, for calls on it. */
static int ring_state_errno(const struct ktun_ring *ring)
{
	u32 state = READ_ONCE(ring->state);

	if (state & KTUN_RING_F_DEAD)
		return -EBADFD;
	if (state & KTUN_RING_F_ERROR)
		return -EBADMSG;
	return 0;
}

/* Under rtnl: the pair is unpublished from transmit by the detach. */
void ktun_ring_kill(struct ktun_file *kfile)
{
	struct ktun_ring *ring = rtnl_dereference(kfile->rings);

	ASSERT_RTNL();
	if (!ring)
		return;
	/* Kicks that see this after the grace period leave NAPI alone. */
	WRITE_ONCE(ring->state, ring->state | KTUN_RING_F_DEAD);
}

/*
 * Under rtnl, after the detach's grace period: no transmit or kick can see
 * the pair as live any more. Turns NAPI off, publishes DEAD, wakes pollers.
 */
void ktun_ring_retire(struct ktun_file *kfile)
{
	struct ktun_ring *ring = rtnl_dereference(kfile->rings);

	ASSERT_RTNL();
	if (!ring || !ring->napi_on)
		return;
	napi_disable(&ring->napi);
	netif_napi_del(&ring->napi);
	ring->napi_on = false;
	ktun_ring_rx_retire(ring);
	ring_set_state(ring, KTUN_RING_F_DEAD);
	wake_up_interruptible_poll(&kfile->wq, EPOLLERR | EPOLLHUP);
}

/* On release, after detach: nothing else can reach the pair. */
void ktun_ring_release(struct ktun_file *kfile)
{
	ring_free(rcu_dereference_protected(kfile->rings, true));
	RCU_INIT_POINTER(kfile->rings, NULL);
}

static int ring_setup(struct ktun_file *kfile, void __user *argp)
{
	struct ktun_ring_setup p;
	struct ktun_ring *ring, *old = NULL;
	struct ktun_dev *kdev;
	unsigned int flags;
	int ret, hdr;

	if (copy_from_user(&p, argp, sizeof(p)))
		return -EFAULT;
	if (p.version != KTUN_RING_VERSION || p.flags ||
	    memchr_inv(p.reserved, 0, sizeof(p.reserved)) ||
	    (!p.rx_slots && !p.tx_slots) ||
	    !ring_size_ok(p.rx_slots, p.rx_slot_size) ||
	    !ring_size_ok(p.tx_slots, p.tx_slot_size))
		return -EINVAL;

	ring = kzalloc(sizeof(*ring), GFP_KERNEL_ACCOUNT);
	if (!ring)
		return -ENOMEM;
	ktun_obj_created();
	ring->kfile = kfile;
	spin_lock_init(&ring->state_lock);
	spin_lock_init(&ring->rx_lock);
	ret = ring_dir_init(&ring->rx, p.rx_slots, p.rx_slot_size,
			    KTUN_RING_OFF_RX, &p.rx);
	if (ret)
		goto err_free;
	ret = ring_dir_init(&ring->tx, p.tx_slots, p.tx_slot_size,
			    KTUN_RING_OFF_TX, &p.tx);
	if (ret)
		goto err_free;

	rtnl_lock();
	kdev = rtnl_dereference(kfile->kdev);
	ret = -EBADFD;
	if (!kdev)
		goto err_unlock;
	old = rtnl_dereference(kfile->rings);
	ret = -EBUSY;
	if (old && !(old->state & KTUN_RING_F_DEAD))
		goto err_unlock;
	/* Frozen here: later TUNSETIFF/TUNSETVNET* do not reframe a ring. */
	flags = READ_ONCE(kdev->flags);
	ring->iff = flags & (KTUN_TYPE_MASK | IFF_NO_PI | IFF_VNET_HDR);
	ring->vnet_le = flags & KTUN_VNET_LE;
	ring->vnet_hdr_sz = flags & IFF_VNET_HDR ? READ_ONCE(kdev->vnet_hdr_sz) : 0;
	hdr = ring->vnet_hdr_sz + (flags & IFF_NO_PI ? 0 : sizeof(struct tun_pi));
	ret = -EINVAL;
	if ((ring->rx.mem && hdr + ETH_HLEN > (int)ring->rx.slot_size) ||
	    (ring->tx.mem && hdr + ETH_HLEN > (int)ring->tx.slot_size))
		goto err_unlock;
	p.iff_flags = ring->iff;
	p.vnet_hdr_sz = ring->vnet_hdr_sz;
	p.vnet_le = ring->vnet_le;
	ring->dev = kdev->dev;
	netif_napi_add(ring->dev, &ring->napi, ktun_ring_tx_poll);
	napi_enable(&ring->napi);
	ring->napi_on = true;
	/* The tx ring starts idle: the first submission kicks. */
	if (ring->tx.mem)
		ktun_ring_publish_flags(ring, &ring->tx, KTUN_RING_F_NEED_WAKEUP, 0);
	rcu_assign_pointer(kfile->rings, ring);
	rtnl_unlock();

	/* A reader asleep on the packet queue learns that rings took over. */
	ktun_queue_wake(kfile, EPOLLIN);
	if (old) {
		synchronize_net();
		ring_free(old);
	}
	/* The rings are live whether or not the answer reaches the caller;
	 * KTUN_RING_SETUP again says EBUSY, and the offsets are fixed.
	 */
	if (copy_to_user(argp, &p, sizeof(p)))
		return -EFAULT;
	return 0;

err_unlock:
	rtnl_unlock();
err_free:
	ring_free(ring);
	return ret;
}

static int ring_features(void __user *argp)
{
	struct ktun_ring_features f = {
		.version	= KTUN_RING_VERSION,
		.min_slots	= KTUN_RING_MIN_SLOTS,
		.max_slots	= KTUN_RING_MAX_SLOTS,
		.min_slot_size	= KTUN_RING_MIN_SLOT_SIZE,
		.max_slot_size	= KTUN_RING_MAX_SLOT_SIZE,
		.max_data	= KTUN_RING_MAX_DATA,
	};

	return copy_to_user(argp, &f, sizeof(f)) ? -EFAULT : 0;
}

static void dir_stats(struct ktun_ring_dir *dir, struct ktun_ring_dir_stats *s)
{
	s->packets = READ_ONCE(dir->packets);
	s->bytes = READ_ONCE(dir->bytes);
	s->drops = READ_ONCE(dir->drops);
	s->invalid = READ_ONCE(dir->invalid);
	s->wakeups = atomic64_read(&dir->wakeups);
	s->stops = READ_ONCE(dir->stops);
}

static int ring_stats(struct ktun_file *kfile, void __user *argp)
{
	struct ktun_ring_stats s;
	struct ktun_ring *ring;

	memset(&s, 0, sizeof(s));
	rcu_read_lock();
	ring = rcu_dereference(kfile->rings);
	if (ring) {
		dir_stats(&ring->rx, &s.rx);
		dir_stats(&ring->tx, &s.tx);
	}
	rcu_read_unlock();
	if (!ring)
		return -ENXIO;
	return copy_to_user(argp, &s, sizeof(s)) ? -EFAULT : 0;
}

/* Process context, any number of callers at once; no lock of ours held. */
static int ring_kick(struct ktun_file *kfile, unsigned long what)
{
	struct ktun_ring *ring;
	int ret;

	if (what & ~(unsigned long)(KTUN_KICK_RX | KTUN_KICK_TX))
		return -EINVAL;
	rcu_read_lock();
	ring = rcu_dereference(kfile->rings);
	ret = -ENXIO;
	if (!ring)
		goto out;
	ret = ring_state_errno(ring);
	if (ret)
		goto out;
	if ((what & KTUN_KICK_RX) && ring->rx.mem)
		ktun_ring_rx_kick(ring);
	if ((what & KTUN_KICK_TX) && ring->tx.mem)
		ktun_ring_tx_kick(ring);
out:
	rcu_read_unlock();
	return ret;
}

/* The ring ioctls; they take rtnl only for setup. Returns -ENOIOCTLCMD
 * for anything else.
 */
long ktun_ring_ioctl(struct ktun_file *kfile, unsigned int cmd,
		     unsigned long arg)
{
	void __user *argp = (void __user *)arg;

	switch (cmd) {
	case KTUN_RING_FEATURES:
		return ring_features(argp);
	case KTUN_RING_SETUP:
		return ring_setup(kfile, argp);
	case KTUN_RING_KICK:
		return ring_kick(kfile, arg);
	case KTUN_RING_STATS:
		return ring_stats(kfile, argp);
	}
	return -ENOIOCTLCMD;
}

/* Is @kfile's rx traffic going to a ring (so read() has nothing to read)? */
bool ktun_ring_rx_active(struct ktun_file *kfile)
{
	struct ktun_ring *ring;
	bool active;

	rcu_read_lock();
	ring = rcu_dereference(kfile->rings);
	active = ring && ring->rx.mem && !(READ_ONCE(ring->state) & KTUN_RING_F_DEAD);
	rcu_read_unlock();
	return active;
}

/*
 * poll(): a kick of both rings, then their readiness. Returns false when
 * @kfile has no rings, leaving @mask to the packet queue. The caller has
 * done poll_wait() and a full barrier.
 */
bool ktun_ring_poll(struct ktun_file *kfile, __poll_t *mask)
{
	struct ktun_ring *ring;
	bool ret = true;

	rcu_read_lock();
	ring = rcu_dereference(kfile->rings);
	if (!ring) {
		ret = false;
		goto out;
	}
	if (ring_state_errno(ring)) {
		*mask = EPOLLERR;
		goto out;
	}
	*mask = 0;
	if (ring->rx.mem) {
		ktun_ring_rx_kick(ring);
		if (ktun_ring_rx_readable(ring))
			*mask |= EPOLLIN | EPOLLRDNORM;
	}
	if (ring->tx.mem) {
		ktun_ring_tx_poll_kick(ring);
		if (ktun_ring_tx_writable(ring))
			*mask |= EPOLLOUT | EPOLLWRNORM;
	} else {
		*mask |= EPOLLOUT | EPOLLWRNORM;
	}
	/* Without an rx ring, what read() would return. */
	if (!ring->rx.mem && ktun_queue_readable(kfile))
		*mask |= EPOLLIN | EPOLLRDNORM;
out:
	rcu_read_unlock();
	return ret;
}

static void ring_vma_open(struct vm_area_struct *vma)
{
	struct ktun_ring_mem *mem = vma->vm_private_data;

	kref_get(&mem->ref);
}

static void ring_vma_close(struct vm_area_struct *vma)
{
	ring_mem_put(vma->vm_private_data);
}

static const struct vm_operations_struct ktun_ring_vm_ops = {
	.open	= ring_vma_open,
	.close	= ring_vma_close,
};

/*
 * mmap() of one ring: the offset picks it, the length is at most its
 * size, and the mapping must be shared. The VMA holds the memory, so the
 * mapping outlives detach, delete and a new setup.
 */
int ktun_ring_mmap(struct ktun_file *kfile, struct vm_area_struct *vma)
{
	u64 off = (u64)vma->vm_pgoff << PAGE_SHIFT;
	size_t len = vma->vm_end - vma->vm_start;
	struct ktun_ring_mem *mem = NULL;
	struct ktun_ring *ring;
	int ret;

	if (!(vma->vm_flags & VM_SHARED))
		return -EINVAL;
	rcu_read_lock();
	ring = rcu_dereference(kfile->rings);
	if (ring) {
		/* A dead pair maps too: its header says it is dead. */
		if (off == KTUN_RING_OFF_RX)
			mem = ring->rx.mem;
		else if (off == KTUN_RING_OFF_TX)
			mem = ring->tx.mem;
		/* The pair holds it until after a grace period. */
		if (mem)
			kref_get(&mem->ref);
	}
	rcu_read_unlock();
	if (!mem)
		return ring ? -EINVAL : -ENXIO;
	ret = -EINVAL;
	if (len > mem->size)
		goto err_put;
	ret = remap_vmalloc_range(vma, mem->base, 0);
	if (ret)
		goto err_put;
	vma->vm_private_data = mem;
	vma->vm_ops = &ktun_ring_vm_ops;
	return 0;

err_put:
	ring_mem_put(mem);
	return ret;
}
