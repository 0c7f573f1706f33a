/* SPDX-License-Identifier: GPL-2.0 */
/* Copyright (C) 2026 The ktun authors. */
/*
 * Interface configuration in-process, over rtnetlink and ioctls: in the
 * test VM every exec (sh, ip) costs the better part of a second, so the
 * tests configure devices themselves. Each call returns 0 or -errno.
 */
#ifndef KT_NL_H
#define KT_NL_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <linux/if_addr.h>
#include <linux/neighbour.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

struct kt_nlreq {
	struct nlmsghdr n;
	union {
		struct ifinfomsg ifi;
		struct ifaddrmsg ifa;
		struct ndmsg nd;
	};
	char attrs[256];
};

static inline void kt_nl_attr(struct kt_nlreq *r, int type, const void *data, size_t len)
{
	struct rtattr *rta = (struct rtattr *)((char *)r + NLMSG_ALIGN(r->n.nlmsg_len));

	rta->rta_type = type;
	rta->rta_len = RTA_LENGTH(len);
	memcpy(RTA_DATA(rta), data, len);
	r->n.nlmsg_len = NLMSG_ALIGN(r->n.nlmsg_len) + RTA_ALIGN(rta->rta_len);
}

/* Sends @r and waits for the kernel's acknowledgement. */
static inline int kt_nl_talk(struct kt_nlreq *r)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	char buf[4096];
	int s, ret;
	ssize_t n;

	s = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (s < 0)
		return -errno;
	r->n.nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
	r->n.nlmsg_seq = 1;
	if (sendto(s, r, r->n.nlmsg_len, 0, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		ret = -errno;
		goto out;
	}
	for (;;) {
		struct nlmsghdr *h = (struct nlmsghdr *)buf;

		n = recv(s, buf, sizeof(buf), 0);
		if (n < 0) {
			ret = -errno;
			goto out;
		}
		for (; NLMSG_OK(h, (size_t)n); h = NLMSG_NEXT(h, n)) {
			if (h->nlmsg_type == NLMSG_ERROR) {
				ret = ((struct nlmsgerr *)NLMSG_DATA(h))->error;
				goto out;
			}
		}
	}
out:
	close(s);
	return ret;
}

static inline int kt_nl_ifindex(const char *ifname)
{
	int i = if_nametoindex(ifname);

	return i ? i : -ENODEV;
}

/* Adds IPv4 or IPv6 "address/prefix" to @ifname; IPv6 without DAD. */
static inline int kt_nl_addr_add(const char *ifname, const char *cidr)
{
	struct kt_nlreq r;
	char addr[64], *slash;
	unsigned char bin[16];
	int idx = kt_nl_ifindex(ifname), v6 = !!strchr(cidr, ':');
	__u32 flags = IFA_F_NODAD;

	if (idx < 0)
		return idx;
	snprintf(addr, sizeof(addr), "%s", cidr);
	slash = strchr(addr, '/');
	if (!slash)
		return -EINVAL;
	*slash = '\0';
	if (inet_pton(v6 ? AF_INET6 : AF_INET, addr, bin) != 1)
		return -EINVAL;
	memset(&r, 0, sizeof(r));
	r.n.nlmsg_len = NLMSG_LENGTH(sizeof(struct ifaddrmsg));
	r.n.nlmsg_type = RTM_NEWADDR;
	r.n.nlmsg_flags = NLM_F_CREATE | NLM_F_EXCL;
	r.ifa.ifa_family = v6 ? AF_INET6 : AF_INET;
	r.ifa.ifa_prefixlen = atoi(slash + 1);
	r.ifa.ifa_index = idx;
	kt_nl_attr(&r, IFA_LOCAL, bin, v6 ? 16 : 4);
	kt_nl_attr(&r, IFA_ADDRESS, bin, v6 ? 16 : 4);
	if (v6)
		kt_nl_attr(&r, IFA_FLAGS, &flags, sizeof(flags));
	return kt_nl_talk(&r);
}

static inline int kt_nl_link_del(const char *ifname)
{
	struct kt_nlreq r;
	int idx = kt_nl_ifindex(ifname);

	if (idx < 0)
		return idx;
	memset(&r, 0, sizeof(r));
	r.n.nlmsg_len = NLMSG_LENGTH(sizeof(struct ifinfomsg));
	r.n.nlmsg_type = RTM_DELLINK;
	r.ifi.ifi_family = AF_UNSPEC;
	r.ifi.ifi_index = idx;
	return kt_nl_talk(&r);
}

/* A permanent neighbour entry: @addr (IPv4 or IPv6) is at @mac on @ifname. */
static inline int kt_nl_neigh_add(const char *ifname, const char *addr, const unsigned char mac[6])
{
	struct kt_nlreq r;
	unsigned char bin[16];
	int idx = kt_nl_ifindex(ifname), v6 = !!strchr(addr, ':');

	if (idx < 0)
		return idx;
	if (inet_pton(v6 ? AF_INET6 : AF_INET, addr, bin) != 1)
		return -EINVAL;
	memset(&r, 0, sizeof(r));
	r.n.nlmsg_len = NLMSG_LENGTH(sizeof(struct ndmsg));
	r.n.nlmsg_type = RTM_NEWNEIGH;
	r.n.nlmsg_flags = NLM_F_CREATE | NLM_F_REPLACE;
	r.nd.ndm_family = v6 ? AF_INET6 : AF_INET;
	r.nd.ndm_ifindex = idx;
	r.nd.ndm_state = NUD_PERMANENT;
	kt_nl_attr(&r, NDA_DST, bin, v6 ? 16 : 4);
	kt_nl_attr(&r, NDA_LLADDR, mac, 6);
	return kt_nl_talk(&r);
}

/* An ioctl on struct ifreq for @ifname, through a throw-away socket. */
static inline int kt_ifreq(unsigned long cmd, const char *ifname, struct ifreq *ifr)
{
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), ret = 0;

	if (s < 0)
		return -errno;
	snprintf(ifr->ifr_name, IFNAMSIZ, "%s", ifname);
	if (ioctl(s, cmd, ifr))
		ret = -errno;
	close(s);
	return ret;
}

static inline int kt_nl_set_up(const char *ifname, int up)
{
	struct ifreq ifr;
	int ret;

	memset(&ifr, 0, sizeof(ifr));
	ret = kt_ifreq(SIOCGIFFLAGS, ifname, &ifr);
	if (ret)
		return ret;
	if (up)
		ifr.ifr_flags |= IFF_UP;
	else
		ifr.ifr_flags &= ~IFF_UP;
	return kt_ifreq(SIOCSIFFLAGS, ifname, &ifr);
}

static inline int kt_nl_set_mtu(const char *ifname, int mtu)
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_mtu = mtu;
	return kt_ifreq(SIOCSIFMTU, ifname, &ifr);
}

static inline int kt_nl_set_mac(const char *ifname, const unsigned char mac[6])
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_hwaddr.sa_family = 1;	/* ARPHRD_ETHER */
	memcpy(ifr.ifr_hwaddr.sa_data, mac, 6);
	return kt_ifreq(SIOCSIFHWADDR, ifname, &ifr);
}

#endif
