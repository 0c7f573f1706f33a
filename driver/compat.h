/* SPDX-License-Identifier: GPL-2.0 */
/* Copyright (C) 2026 The ktun authors. */
/*
 * The one place that knows kernel versions. ktun targets Debian's 6.1 and
 * 6.12 kernels; every API that differs between them gets a wrapper here.
 */
#ifndef _KTUN_COMPAT_H
#define _KTUN_COMPAT_H

#include <linux/fs.h>
#include <linux/netdevice.h>
#include <linux/version.h>

/* 6.11 moved "lockless transmit" from a feature bit to a device field. */
static inline void ktun_set_lltx(struct net_device *dev)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 11, 0)
	dev->lltx = true;
#else
	dev->features |= NETIF_F_LLTX;
#endif
}

/* 6.12 dropped no_llseek: a NULL .llseek now means "not seekable". */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 12, 0)
#define ktun_no_llseek	NULL
#else
#define ktun_no_llseek	no_llseek
#endif

#endif /* _KTUN_COMPAT_H */
