/* SPDX-License-Identifier: GPL-2.0 */
/* Copyright (C) 2026 The ktun authors. */
/*
 * ktun: a TUN/TAP driver. The core objects, the locking rules, and the map of
 * which file owns which function.
 *
 * Two objects, one per side:
 *   struct ktun_dev   the interface: the private data of a net_device.
 *   struct ktun_file  one open file of the character device; once attached,
 *                     one queue of the interface, holding the packets the
 *                     stack transmitted until the application reads them.
 *
 * Locking and lifetime
 * --------------------
 * rtnl_lock protects the attachment between the two: kdev->queues[],
 * kdev->numqueues, the disabled list, kfile->kdev, kfile->attach_gen,
 * kfile->index and kfile->disabled, and every configuration field of a
 * ktun_dev (flags, owner, group, vnet_hdr_sz, filters). Every ioctl that
 * touches a device runs under rtnl, as do attach and detach, so they are
 * serialised against each other and against netdev registration and
 * deletion. No user memory is touched under rtnl: an ioctl copies its
 * argument in before taking it and its result out after dropping it
 * (struct ktun_ioctl_arg), so a buffer that faults slowly (FUSE,
 * userfaultfd) stalls only its own caller.
 *
 * An attached file is enabled (in kdev->queues[], fed by transmit) or, on a
 * multi-queue device after TUNSETQUEUE/IFF_DETACH_QUEUE, disabled (on
 * kdev->disabled: still attached for read, write and ioctl, but fed
 * nothing). Configuration the data path reads (flags, vnet_hdr_sz) is
 * written with WRITE_ONCE and read once per packet with READ_ONCE; the
 * filters are RCU-published objects, replaced whole, never edited.
 *
 * The data path takes no lock of ours:
 *   - kdev->queues[i] and kfile->kdev are RCU pointers. The transmit path
 *     (softirq, rcu_read_lock_bh) picks a queue through kdev->queues[];
 *     read() and write() (process context) find their device through
 *     kfile->kdev under rcu_read_lock and never hold a reference to it
 *     across a sleep or a user copy: a write copies the packet first and
 *     looks the device up again under rcu_read_lock_bh to inject it. The
 *     file may have been re-attached in between (TUNSETIFF after a
 *     delete), so the write captures kfile->attach_gen with the framing
 *     and injects only if it is unchanged. attach_gen is bumped before
 *     kfile->kdev is published (rcu_assign_pointer orders it); readers
 *     load kfile->kdev, then smp_rmb(), then attach_gen.
 *   - Each queue is a ptr_ring: multi-producer (ndo_start_xmit on any CPU,
 *     serialised by the ring's producer lock), multi-consumer (readers of
 *     one fd, and the purge on detach, serialised by its consumer lock).
 *
 * Publishing and retiring: a ktun_file is published in kdev->queues[] only
 * after its ring is sized, and kfile->kdev is set last. Detach clears both
 * pointers under rtnl, then waits for a grace period (synchronize_net), and
 * only then purges the ring and wakes sleepers, so no transmit can refill a
 * ring after its purge. The net_device, and with it the ktun_dev, is freed
 * by the core after unregister_netdevice, which runs ndo_uninit (detaching
 * every queue the same way) and a grace period before the free.
 *
 * eBPF programs (ebpf.c) belong to the device: published under rtnl with
 * rcu_assign_pointer, run under RCU on transmit, and the replaced one's
 * reference dropped at once (the BPF core frees after a grace period).
 * They live until the device is unregistered (ndo_uninit).
 *
 * NAPI (napi.c, IFF_NAPI): each file attached with IFF_NAPI owns a NAPI
 * instance of its device, added at attach, disabled by IFF_DETACH_QUEUE,
 * re-enabled by IFF_ATTACH_QUEUE, and on close or delete disabled, then
 * after the caller's synchronize_net deleted (netif_napi_del waits another
 * grace period before the file may be freed). State changes run under
 * rtnl. Writers queue on kfile->napi_queue under its lock, which also
 * guards kfile->napi_live: once stop clears it no write queues again, and
 * a writer between queueing and napi_schedule() is inside RCU with BHs
 * off, which the grace period before netif_napi_del waits out. The frags
 * path holds kfile->napi_frags_lock from napi_get_frags() to
 * napi_gro_frags(), across the user copy; stop takes it too.
 *
 * A ktun_file lives as long as its struct file. Lock order: rtnl_lock, then
 * napi_frags_lock, then a ptr_ring's locks or napi_queue.lock; these nest
 * in nothing else of ours. Where both of one queue's locks are held
 * (ktun_queue_len(), for ethtool statistics, like ptr_ring_resize()),
 * the consumer lock comes first.
 *
 * Shared-memory rings (ring.h has the detail, docs/rings.md the pictures):
 *   - kfile->rings is an RCU pointer, written under rtnl: KTUN_RING_SETUP
 *     publishes a pair on an attached file; a new setup after a re-attach
 *     replaces a dead pair and frees it after synchronize_net(); release
 *     frees the last one. ndo_start_xmit, kicks, poll, mmap and the stats
 *     find the pair under rcu_read_lock.
 *   - Detach kills the pair (ktun_ring_kill(): state DEAD, under rtnl,
 *     before the detach's grace period) and retires it after the grace
 *     period (ktun_ring_retire(): napi_disable, netif_napi_del, DEAD in
 *     the shared headers, a queue it stopped woken), so no transmit or
 *     kick can reach a pair whose NAPI is gone.
 *   - ring->rx_lock (BHs off) serialises the rx ring's producers
 *     (transmit on any CPU, kicks); ring->state_lock (irqsave) guards the
 *     flags the kernel publishes and nests inside rx_lock. The tx ring's
 *     consumer is the pair's NAPI poll, serialised by NAPI itself.
 *   - Ring memory (struct ktun_ring_mem) is refcounted by the pair and by
 *     every VMA mapping it, and freed, with its RLIMIT_MEMLOCK charge, by
 *     the last put, whatever the order of munmap, close and delete. A VMA
 *     also holds its struct file, so release() runs after the last munmap.
 */
#ifndef _KTUN_H
#define _KTUN_H

#include <linux/filter.h>
#include <linux/if_tun.h>
#include <linux/mutex.h>
#include <linux/netdevice.h>
#include <linux/ptr_ring.h>
#include <linux/uidgid.h>
#include <linux/wait.h>

#include "compat.h"

/* As the stock driver: one queue per fd, at most this many per device. */
#define KTUN_MAX_QUEUES		256

/* The largest IP packet; an interface's MTU may not exceed it. */
#define KTUN_MAX_MTU		65535
/* The largest packet a write may carry, after the headers ktun strips. */
#define KTUN_MAX_PACKET		(KTUN_MAX_MTU + VLAN_ETH_HLEN)

#define KTUN_TYPE_MASK		(IFF_TUN | IFF_TAP)

/* Internal flag bits, above the 16 the ABI uses. */
#define KTUN_VNET_LE		BIT(30)	/* TUNSETVNETLE */
#define KTUN_ATTACHED		BIT(31)	/* a snapshot from an attached file */

/* TUNSETIFF flags ktun understands; any other bit is rejected. */
#define KTUN_IFF_ALL		(IFF_TUN | IFF_TAP | IFF_NAPI | IFF_NAPI_FRAGS | \
				 IFF_NO_CARRIER | IFF_NO_PI | IFF_ONE_QUEUE | \
				 IFF_VNET_HDR | IFF_TUN_EXCL | IFF_MULTI_QUEUE | \
				 IFF_ATTACH_QUEUE | IFF_DETACH_QUEUE | \
				 IFF_PERSIST)

/* The flags a TUNSETIFF may change on an existing device (stock rule). */
#define KTUN_IFF_FEATURES	(IFF_NO_PI | IFF_ONE_QUEUE | IFF_VNET_HDR | \
				 IFF_MULTI_QUEUE | IFF_NAPI | IFF_NAPI_FRAGS)

/* What TUNGETFEATURES reports, and sysfs tun_flags shows at most. */
#define KTUN_IFF_SUPPORTED	(IFF_TUN | IFF_TAP | IFF_NO_CARRIER | \
				 KTUN_IFF_FEATURES)
#define KTUN_IFF_VISIBLE	(KTUN_TYPE_MASK | IFF_PERSIST | KTUN_IFF_FEATURES)

/*
 * TUNSETOFFLOAD bits ktun accepts: 6.1's set, plus USO on kernels that have
 * it (compat.h). UFO is accepted and ignored.
 */
#define KTUN_F_ALL		(TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | \
				 TUN_F_TSO_ECN | TUN_F_UFO | KTUN_F_USO)

/* The TAP transmit filter of TUNSETTXFILTER; replaced whole under RCU. */
struct ktun_txfilter {
	struct rcu_head		rcu;
	unsigned int		count;		/* exact addresses */
	u32			mask[2];	/* multicast hash */
	u8			addr[8][ETH_ALEN];
};

/* A classic BPF filter of TUNATTACHFILTER, as given and as compiled. */
struct ktun_bpf {
	struct rcu_head		rcu;
	struct bpf_prog		*prog;
	struct sock_fprog	fprog;
};

struct ktun_dev {
	struct net_device	*dev;
	/* under rtnl; read with READ_ONCE on the data path */
	unsigned int		flags;
	int			vnet_hdr_sz;
	unsigned int		numqueues;
	/* under rtnl */
	unsigned int		numdisabled;
	struct list_head	disabled;
	kuid_t			owner;
	kgid_t			group;
	int			sndbuf;
	netdev_features_t	offload_features;
	/* RCU; written under rtnl */
	struct ktun_txfilter __rcu *txfilter;
	struct ktun_bpf __rcu	*bpf;
	/* the LSM's blob (security_tun_dev_*); from ndo_init to destruct */
	void			*security;
	/* RCU; written under rtnl: eBPF programs of ebpf.c */
	struct bpf_prog __rcu	*steering_prog;
	struct bpf_prog __rcu	*filter_prog;
	/* RCU; written under rtnl. Slots [0, numqueues) are in use. */
	struct ktun_file __rcu	*queues[KTUN_MAX_QUEUES];
};

struct ktun_file {
	/* RCU; written under rtnl. NULL when not attached. */
	struct ktun_dev __rcu	*kdev;
	/* under rtnl, read with READ_ONCE: bumped on every attach (see top) */
	unsigned int		attach_gen;
	/* under rtnl: this file's slot in kdev->queues[], when enabled */
	u16			index;
	/* under rtnl: attached but taken out of service by IFF_DETACH_QUEUE */
	bool			disabled;
	/* under rtnl: the entry on kdev->disabled */
	struct list_head	disabled_node;
	/* under rtnl: the batch ktun_iff_detach_all() is retiring */
	struct ktun_file	*retiring_next;
	/* under rtnl: TUNSETIFINDEX for the next device this file creates */
	int			ifindex;
	/* the namespace the file was opened in: where TUNSETIFF looks */
	struct net		*net;
	/* packets from the stack; has its own producer and consumer locks */
	struct ptr_ring		ring;
	/* readers and pollers; woken on transmit and on detach */
	wait_queue_head_t	wq;
	struct fasync_struct	*fasync;
	/* what security_tun_dev_attach() labels (lsm.c); lives with the file */
	struct sock		*sk;
	/* napi.c: IFF_NAPI. Under rtnl; the mode is written with WRITE_ONCE
	 * and read once per write.
	 */
	u8			napi_mode;	/* 0, IFF_NAPI[|IFF_NAPI_FRAGS] */
	bool			napi_enabled;
	/* under napi_queue.lock; cleared under napi_frags_lock too */
	bool			napi_live;
	/* written skbs for the poll; its lock: writers vs poll vs stop */
	struct sk_buff_head	napi_queue;
	/* protects napi.skb: one IFF_NAPI_FRAGS writer at a time */
	struct mutex		napi_frags_lock;
	struct napi_struct	napi;
	/* RCU; written under rtnl: the shared-memory rings, if set up */
	struct ktun_ring __rcu	*rings;
};

/*
 * One ioctl's argument and result (chr.c, ioctl.c): copied in and prepared
 * before rtnl is taken, copied out after it is dropped. A failure to read
 * the argument is kept in copy_err and reported after the checks of the
 * device's state, in the order stock reports them.
 */
struct ktun_ioctl_arg {
	struct ifreq		ifr;		/* ifreq commands: in and out */
	int			val;		/* int commands: in and out */
	int			copy_err;
	struct sock_fprog	fprog;		/* TUNGETFILTER's result */
	struct ktun_txfilter	*txfilter;	/* TUNSETTXFILTER's, built */
	int			txfilter_count;	/* and what it returns */
	struct ktun_bpf		*bpf;		/* TUNATTACHFILTER's, compiled */
	enum { KTUN_OUT_NONE, KTUN_OUT_IFREQ, KTUN_OUT_INT,
	       KTUN_OUT_FPROG }	out;		/* what goes back to the user */
};

/* main.c */
extern bool ktun_compat;
void ktun_obj_created(void);
void ktun_obj_destroyed(void);

/* chr.c: the character device */
int ktun_chr_init(void);
void ktun_chr_uninit(void);

/* ioctl.c: configuration of an attached file's device */
int ktun_ioctl_copy_in(unsigned int cmd, void __user *argp, int ifreq_len,
		       struct ktun_ioctl_arg *a);
long ktun_ioctl_attached(struct ktun_file *kfile, struct ktun_dev *kdev,
			 unsigned int cmd, unsigned long arg,
			 struct ktun_ioctl_arg *a);
int ktun_ioctl_copy_out(void __user *argp, int ifreq_len,
			const struct ktun_ioctl_arg *a);
void ktun_ioctl_release(struct ktun_ioctl_arg *a);

/* iff.c: creating devices, attaching and detaching files */
int ktun_iff_set(struct ktun_file *kfile, struct ifreq *ifr);
int ktun_iff_set_queue(struct ktun_file *kfile, unsigned int flags);
void ktun_iff_detach(struct ktun_file *kfile);
void ktun_iff_detach_all(struct ktun_dev *kdev);
void ktun_iff_wake_writers(struct ktun_dev *kdev);
int ktun_iff_register(struct net_device *dev, unsigned int flags,
		      kuid_t owner, kgid_t group);
bool ktun_iff_set_persist(struct ktun_dev *kdev, bool on);
unsigned int ktun_iff_flags(const struct ktun_dev *kdev);

/* lsm.c: the socket of a file that the LSM hooks label */
int ktun_lsm_file_init(struct ktun_file *kfile);
void ktun_lsm_file_uninit(struct ktun_file *kfile);

/* net.c: the net_device side */
bool ktun_net_is_ours(const struct net_device *dev);
void ktun_net_setup(struct net_device *dev);
void ktun_net_set_type(struct net_device *dev, unsigned int type);
int ktun_net_set_link_type(struct net_device *dev, unsigned short type);
int ktun_net_change_carrier(struct net_device *dev, bool on);
int ktun_net_init(void);
void ktun_net_uninit(void);

/* link.c: the link kind; "ip link add" creation over rtnetlink */
extern struct rtnl_link_ops ktun_link_ops;
int ktun_link_init(void);
void ktun_link_uninit(void);

/* ethtool.c: driver info, link, per-queue statistics */
extern const struct ethtool_ops ktun_ethtool_ops;

/* attrs.c: what tools read: sysfs and IFLA_TUN_* attributes */
extern const struct attribute_group ktun_attr_group;
size_t ktun_attrs_get_size(const struct net_device *dev);
int ktun_attrs_fill_info(struct sk_buff *skb, const struct net_device *dev);

/* queue.c: per-file packet queues */
int ktun_queue_init(struct ktun_file *kfile);
void ktun_queue_uninit(struct ktun_file *kfile);
int ktun_queue_resize(struct ktun_file *kfile, unsigned int size);
bool ktun_queue_push(struct ktun_file *kfile, struct sk_buff *skb);
struct sk_buff *ktun_queue_pop(struct ktun_file *kfile, bool nonblock,
			       int *err);
bool ktun_queue_readable(struct ktun_file *kfile);
unsigned int ktun_queue_purge(struct ktun_file *kfile);
void ktun_queue_wake(struct ktun_file *kfile, __poll_t events);
void ktun_queue_wake_writers(struct ktun_file *kfile);
void ktun_queue_len(struct ktun_file *kfile, u64 *queued, u64 *capacity);

/* filter.c: TUNSETTXFILTER and classic BPF filters on transmit */
int ktun_filter_prepare_tx(void __user *arg, struct ktun_ioctl_arg *a);
int ktun_filter_set_tx(struct ktun_dev *kdev, struct ktun_ioctl_arg *a);
int ktun_filter_prepare_bpf(void __user *arg, struct ktun_ioctl_arg *a);
int ktun_filter_attach(struct ktun_dev *kdev, struct ktun_ioctl_arg *a);
void ktun_filter_release(struct ktun_ioctl_arg *a);
void ktun_filter_detach(struct ktun_dev *kdev);
int ktun_filter_get(struct ktun_dev *kdev, struct sock_fprog *out);
bool ktun_filter_attached(struct ktun_dev *kdev);
void ktun_filter_uninit(struct ktun_dev *kdev);
bool ktun_filter_xmit(struct ktun_dev *kdev, struct sk_buff *skb);

/* ebpf.c: eBPF steering and filter programs */
int ktun_ebpf_set(struct ktun_dev *kdev, struct bpf_prog __rcu **slot,
		  const struct ktun_ioctl_arg *a);
void ktun_ebpf_uninit(struct ktun_dev *kdev);
bool ktun_ebpf_select_queue(struct ktun_dev *kdev, struct sk_buff *skb,
			    u16 *queue);
bool ktun_ebpf_filter(struct ktun_dev *kdev, struct sk_buff *skb);

/* napi.c: IFF_NAPI and IFF_NAPI_FRAGS on the write path */
void ktun_napi_init(struct ktun_file *kfile);
void ktun_napi_add(struct ktun_dev *kdev, struct ktun_file *kfile,
		   unsigned int flags);
void ktun_napi_start(struct ktun_file *kfile);
void ktun_napi_stop(struct ktun_file *kfile);
void ktun_napi_del(struct ktun_file *kfile);
int ktun_napi_receive(struct ktun_file *kfile, struct sk_buff *skb);
struct sk_buff *ktun_napi_frags_alloc(struct ktun_file *kfile,
				      struct iov_iter *from, size_t len,
				      int *err);
int ktun_napi_frags_receive(struct ktun_file *kfile);
void ktun_napi_frags_abort(struct ktun_file *kfile);
void ktun_napi_frags_done(struct ktun_file *kfile);

/* vnet.c: the virtio-net header and the offloads it carries */
int ktun_vnet_set_offload(struct ktun_dev *kdev, unsigned long arg);
netdev_features_t ktun_vnet_fix_features(struct ktun_dev *kdev,
					 netdev_features_t features);
int ktun_vnet_parse(struct iov_iter *from, size_t *len, int hdr_sz,
		    bool le, unsigned int min_hdr_len, struct virtio_net_hdr *hdr);
int ktun_vnet_apply(struct sk_buff *skb, const struct virtio_net_hdr *hdr,
		    bool le);
int ktun_vnet_emit(struct iov_iter *to, const struct sk_buff *skb,
		   int hdr_sz, bool le);

/* ring.c, ring_rx.c: shared-memory rings (ring.h) */
struct ktun_ring;
long ktun_ring_ioctl(struct ktun_file *kfile, unsigned int cmd,
		     unsigned long arg);
int ktun_ring_mmap(struct ktun_file *kfile, struct vm_area_struct *vma);
bool ktun_ring_poll(struct ktun_file *kfile, __poll_t *mask);
bool ktun_ring_rx_active(struct ktun_file *kfile);
bool ktun_ring_rx_xmit(struct ktun_ring *ring, struct sk_buff *skb);
void ktun_ring_kill(struct ktun_file *kfile);
void ktun_ring_retire(struct ktun_file *kfile);
void ktun_ring_release(struct ktun_file *kfile);

/* pkt.c: packets between user buffers and skbs */
ssize_t ktun_pkt_write(struct ktun_file *kfile, struct iov_iter *from);
ssize_t ktun_pkt_read(struct ktun_file *kfile, struct iov_iter *to,
		      bool nonblock);
__be16 ktun_pkt_tun_proto(const struct sk_buff *skb, unsigned int flags,
			  __be16 pi_proto);

#endif /* _KTUN_H */
