/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/* Copyright (C) 2026 The ktun authors. */
/*
 * ktun's own ABI. Everything else ktun speaks is <linux/if_tun.h>, unchanged:
 * this header holds only what ktun adds to it.
 */
#ifndef _UAPI_LINUX_KTUN_H
#define _UAPI_LINUX_KTUN_H

/* The character device ktun serves unless loaded with compat=1. */
#define KTUN_DEVICE_PATH	"/dev/net/ktun"
/* The node it serves with compat=1, in place of the stock driver. */
#define KTUN_COMPAT_PATH	"/dev/net/tun"

#endif
