// SPDX-License-Identifier: GPL-2.0
/* Copyright (C) 2026 The ktun authors. */
/*
 * eBPF programs of a device, as the stock driver has them: the steering
 * program of TUNSETSTEERINGEBPF picks the queue a transmitted packet goes
 * to, and the filter program of TUNSETFILTEREBPF says how much of it to
 * keep (0 drops it). Both are socket-filter programs, both belong to the
 * device (not to a file): they outlive the detach of any file, persistent
 * devices keep them with nobody attached, and they go with the device.
 *
 * A program is published with rcu_assign_pointer() under rtnl and read on
 * transmit under RCU. The reference a replaced program held is dropped at
 * once: bpf_prog_put() frees a program only after an RCU grace period, so
 * a transmit still running it is safe.
 */
#include <linux/bpf.h>
#include <linux/filter.h>
#include <linux/rtnetlink.h>

#include "ktun.h"

static void replace_prog(struct bpf_prog __rcu **slot, struct bpf_prog *new)
{
	struct bpf_prog *old;

	old = rcu_replace_pointer(*slot, new, lockdep_rtnl_is_held());
	if (old)
		bpf_prog_put(old);
}

/*
 * TUNSETSTEERINGEBPF and TUNSETFILTEREBPF, under rtnl: a program fd, or -1
 * for none. As stock: EBADF for a bad fd, EINVAL for an fd that is not a
 * socket-filter program.
 */
int ktun_ebpf_set(struct ktun_dev *kdev, struct bpf_prog __rcu **slot,
		  const struct ktun_ioctl_arg *a)
{
	struct bpf_prog *prog = NULL;

	ASSERT_RTNL();
	/* The fd was copied in before rtnl (chr.c). */
	if (a->copy_err)
		return a->copy_err;
	if (a->val != -1) {
		prog = bpf_prog_get_type(a->val, BPF_PROG_TYPE_SOCKET_FILTER);
		if (IS_ERR(prog))
			return PTR_ERR(prog);
	}
	replace_prog(slot, prog);
	return 0;
}

/* The device is going away (ndo_uninit, under rtnl). */
void ktun_ebpf_uninit(struct ktun_dev *kdev)
{
	ASSERT_RTNL();
	replace_prog(&kdev->steering_prog, NULL);
	replace_prog(&kdev->filter_prog, NULL);
}

/*
 * ndo_select_queue with a steering program: its result, cut to 16 bits as
 * stock does, modulo the number of queues. Softirq or BHs off; false if
 * there is no program (the caller then hashes the flow).
 */
bool ktun_ebpf_select_queue(struct ktun_dev *kdev, struct sk_buff *skb,
			    u16 *queue)
{
	unsigned int n = READ_ONCE(kdev->numqueues);
	struct bpf_prog *prog;
	u16 ret = 0;

	rcu_read_lock();
	prog = rcu_dereference(kdev->steering_prog);
	if (prog && n)
		ret = bpf_prog_run_clear_cb(prog, skb);
	rcu_read_unlock();
	if (!prog)
		return false;
	*queue = n ? ret % n : 0;
	return true;
}

/*
 * On transmit, under RCU: runs the filter program. Its result is the
 * number of bytes to keep: 0 drops the packet (false), a value at or above
 * the length keeps it whole.
 */
bool ktun_ebpf_filter(struct ktun_dev *kdev, struct sk_buff *skb)
{
	struct bpf_prog *prog = rcu_dereference(kdev->filter_prog);
	unsigned int keep;

	if (!prog)
		return true;
	keep = bpf_prog_run_clear_cb(prog, skb);
	if (!keep)
		return false;
	return !pskb_trim(skb, keep);
}
