// SPDX-License-Identifier: GPL-2.0
/* Copyright (C) 2026 The ktun authors. */
/*
 * The socket each file carries for the LSM, and why. The hooks themselves
 * (security_tun_dev_*) are called where the stock driver calls them:
 * _create before a device is made (iff.c), _alloc_security/_free_security
 * with the device (net.c: ndo_init, destructor), _open before an existing
 * device is attached to, _attach_queue on TUNSETQUEUE, and _attach on
 * every attach (iff.c).
 *
 * security_tun_dev_attach() takes the attaching queue's struct sock: stock
 * has one per file, ktun charges packets to none. SELinux writes the
 * device's tun_socket label into that sock's security blob (it cannot take
 * NULL), and a BPF LSM program may refuse the attach on seeing it. So each
 * file gets a minimal sock of its own, allocated as stock's is (sk_alloc()
 * with the LSM's blob) and never used for anything else: no skb carries
 * it, so its label is consulted nowhere, as stock's is not once ip_rcv()
 * orphans what was written. SELinux's permission checks (tun_socket
 * create, relabelfrom/relabelto on open, attach_queue) are made against
 * the device's blob and the caller, exactly as on stock.
 */
#include <linux/module.h>
#include <net/sock.h>

#include "ktun.h"

static struct proto ktun_lsm_proto = {
	.name		= "ktun",
	.owner		= THIS_MODULE,
	.obj_size	= sizeof(struct sock),
};

int ktun_lsm_file_init(struct ktun_file *kfile)
{
	kfile->sk = sk_alloc(kfile->net, AF_UNSPEC, GFP_KERNEL,
			     &ktun_lsm_proto, 0);
	return kfile->sk ? 0 : -ENOMEM;
}

void ktun_lsm_file_uninit(struct ktun_file *kfile)
{
	sk_free(kfile->sk);
}
