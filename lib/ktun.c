// SPDX-License-Identifier: GPL-2.0
/* Copyright (C) 2026 The ktun authors. */
/* libktun: opening devices, shelling out, building packets. */

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/ip.h>
#include <netinet/ip6.h>
#include <netinet/tcp.h>
#include <netinet/udp.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <linux/if_tun.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include "ktun.h"

const char *ktun_path(void)
{
	const char *p = getenv("KTUN_DEV");

	return p && *p ? p : "/dev/net/ktun";
}

int ktun_open(const char *name, int flags, char *out)
{
	struct ifreq ifr;
	int fd, err;

	fd = open(ktun_path(), O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = flags;
	if (name)
		snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		err = -errno;
		close(fd);
		return err;
	}
	if (out)
		memcpy(out, ifr.ifr_name, IFNAMSIZ);
	return fd;
}

int ktun_sh(const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;
	int n, st;

	va_start(ap, fmt);
	n = vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(cmd))
		return -1;
	st = system(cmd);
	if (st == -1 || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

uint16_t ktun_csum(const void *data, size_t len, uint32_t sum)
{
	const uint8_t *p = data;

	while (len > 1) {
		sum += (uint32_t)p[0] << 8 | p[1];
		p += 2;
		len -= 2;
	}
	if (len)
		sum += (uint32_t)p[0] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return htons((uint16_t)~sum);
}

static uint32_t sum16(const void *data, size_t len, uint32_t sum)
{
	const uint8_t *p = data;

	for (; len > 1; p += 2, len -= 2)
		sum += (uint32_t)p[0] << 8 | p[1];
	if (len)
		sum += (uint32_t)p[0] << 8;
	return sum;
}

static uint16_t udp_csum(uint32_t pseudo, const struct udphdr *uh, size_t len)
{
	uint16_t c = ktun_csum(uh, len, pseudo);

	return c ? c : 0xffff;
}

size_t ktun_udp4(void *buf, struct in_addr src, struct in_addr dst,
		 uint16_t sport, uint16_t dport, const void *payload, size_t len)
{
	struct iphdr *ip = buf;
	struct udphdr *uh = (struct udphdr *)(ip + 1);
	size_t ulen = sizeof(*uh) + len;
	uint32_t pseudo;

	memset(ip, 0, sizeof(*ip));
	ip->version = 4;
	ip->ihl = 5;
	ip->ttl = 64;
	ip->protocol = IPPROTO_UDP;
	ip->tot_len = htons(sizeof(*ip) + ulen);
	ip->saddr = src.s_addr;
	ip->daddr = dst.s_addr;
	ip->check = ktun_csum(ip, sizeof(*ip), 0);

	uh->source = htons(sport);
	uh->dest = htons(dport);
	uh->len = htons(ulen);
	uh->check = 0;
	memcpy(uh + 1, payload, len);
	pseudo = sum16(&ip->saddr, 8, IPPROTO_UDP + ulen);
	uh->check = udp_csum(pseudo, uh, ulen);
	return sizeof(*ip) + ulen;
}

size_t ktun_tcp4(void *buf, struct in_addr src, struct in_addr dst,
		 uint16_t sport, uint16_t dport, uint32_t seq, uint32_t ack,
		 uint8_t flags, uint16_t window, const void *payload, size_t len)
{
	struct iphdr *ip = buf;
	struct tcphdr *th = (struct tcphdr *)(ip + 1);
	size_t tlen = sizeof(*th) + len;

	memset(ip, 0, sizeof(*ip) + sizeof(*th));
	ip->version = 4;
	ip->ihl = 5;
	ip->ttl = 64;
	ip->frag_off = htons(IP_DF);
	ip->protocol = IPPROTO_TCP;
	ip->tot_len = htons(sizeof(*ip) + tlen);
	ip->saddr = src.s_addr;
	ip->daddr = dst.s_addr;
	ip->check = ktun_csum(ip, sizeof(*ip), 0);

	th->source = htons(sport);
	th->dest = htons(dport);
	th->seq = htonl(seq);
	th->ack_seq = htonl(ack);
	th->doff = sizeof(*th) / 4;
	((uint8_t *)th)[13] = flags;
	th->window = htons(window);
	memcpy(th + 1, payload, len);
	th->check = ktun_csum(th, tlen, sum16(&ip->saddr, 8, IPPROTO_TCP + tlen));
	return sizeof(*ip) + tlen;
}

size_t ktun_udp6(void *buf, const struct in6_addr *src,
		 const struct in6_addr *dst, uint16_t sport, uint16_t dport,
		 const void *payload, size_t len)
{
	struct ip6_hdr *ip6 = buf;
	struct udphdr *uh = (struct udphdr *)(ip6 + 1);
	size_t ulen = sizeof(*uh) + len;
	uint32_t pseudo;

	memset(ip6, 0, sizeof(*ip6));
	ip6->ip6_flow = htonl(6u << 28);
	ip6->ip6_plen = htons(ulen);
	ip6->ip6_nxt = IPPROTO_UDP;
	ip6->ip6_hlim = 64;
	ip6->ip6_src = *src;
	ip6->ip6_dst = *dst;

	uh->source = htons(sport);
	uh->dest = htons(dport);
	uh->len = htons(ulen);
	uh->check = 0;
	memcpy(uh + 1, payload, len);
	pseudo = sum16(src, 16, 0);
	pseudo = sum16(dst, 16, pseudo);
	pseudo += IPPROTO_UDP + ulen;
	uh->check = udp_csum(pseudo, uh, ulen);
	return sizeof(*ip6) + ulen;
}

int ktun_sysfs_u64(const char *ifname, const char *attr, unsigned long long *val)
{
	char path[256], buf[64], *end;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/sys/class/net/%s/%s", ifname, attr);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	if (n < 0) {
		n = -errno;
		close(fd);
		return n;
	}
	close(fd);
	buf[n] = '\0';
	errno = 0;
	*val = strtoull(buf, &end, 0);
	if (errno || end == buf)
		return -EINVAL;
	return 0;
}

/*
 * One rtnetlink request about @ifname, of @type (RTM_GETLINK, RTM_DELLINK)
 * with @flags; the answer (or the ack) lands in @buf. Returns its length or
 * -errno, an NLMSG_ERROR answer included.
 */
static ssize_t rtnl_ask(const char *ifname, int type, int flags, void *buf, size_t size)
{
	struct {
		struct nlmsghdr nh;
		struct ifinfomsg ifi;
	} req;
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	struct nlmsghdr *nh = buf;
	unsigned int idx = if_nametoindex(ifname);
	ssize_t n;
	int fd;

	if (!idx)
		return -ENODEV;
	memset(&req, 0, sizeof(req));
	req.nh.nlmsg_len = sizeof(req);
	req.nh.nlmsg_type = type;
	req.nh.nlmsg_flags = NLM_F_REQUEST | flags;
	req.nh.nlmsg_seq = 1;
	req.ifi.ifi_family = AF_UNSPEC;
	req.ifi.ifi_index = idx;
	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return -errno;
	if (sendto(fd, &req, sizeof(req), 0, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		n = -errno;
		goto out;
	}
	n = recv(fd, buf, size, 0);
	if (n < 0) {
		n = -errno;
		goto out;
	}
	if (!NLMSG_OK(nh, (size_t)n)) {
		n = -EIO;
		goto out;
	}
	if (nh->nlmsg_type == NLMSG_ERROR) {
		struct nlmsgerr *e = NLMSG_DATA(nh);

		n = e->error;
	}
out:
	close(fd);
	return n;
}

static uint32_t rta_u32(const struct rtattr *a)
{
	uint32_t v = 0;

	memcpy(&v, RTA_DATA(a), RTA_PAYLOAD(a) < sizeof(v) ? RTA_PAYLOAD(a) : sizeof(v));
	return v;
}

static void tun_attrs(const struct rtattr *data, struct ktun_link_info *info)
{
	const struct rtattr *a;
	int len = RTA_PAYLOAD(data);

	for (a = RTA_DATA(data); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
		uint8_t b = *(const uint8_t *)RTA_DATA(a);

		switch (a->rta_type) {
		case IFLA_TUN_TYPE:		info->type = b; break;
		case IFLA_TUN_PI:		info->pi = b; break;
		case IFLA_TUN_VNET_HDR:		info->vnet_hdr = b; break;
		case IFLA_TUN_PERSIST:		info->persist = b; break;
		case IFLA_TUN_MULTI_QUEUE:	info->multi_queue = b; break;
		case IFLA_TUN_OWNER:		info->owner = rta_u32(a); break;
		case IFLA_TUN_GROUP:		info->group = rta_u32(a); break;
		case IFLA_TUN_NUM_QUEUES:	info->numqueues = rta_u32(a); break;
		case IFLA_TUN_NUM_DISABLED_QUEUES: info->numdisabled = rta_u32(a); break;
		}
	}
}

int ktun_link_info(const char *ifname, struct ktun_link_info *info)
{
	static __thread char buf[32768];	/* per thread: callers may race */
	struct nlmsghdr *nh = (struct nlmsghdr *)buf;
	const struct rtattr *a, *li;
	ssize_t n;
	int len, llen;

	memset(info, 0, sizeof(*info));
	info->type = info->pi = info->vnet_hdr = info->persist = info->multi_queue = -1;
	info->owner = info->group = info->numqueues = info->numdisabled = -1;
	n = rtnl_ask(ifname, RTM_GETLINK, 0, buf, sizeof(buf));
	if (n < 0)
		return n;
	if (nh->nlmsg_type != RTM_NEWLINK)
		return -EIO;
	len = IFLA_PAYLOAD(nh);
	for (a = IFLA_RTA(NLMSG_DATA(nh)); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
		if (a->rta_type != IFLA_LINKINFO)
			continue;
		llen = RTA_PAYLOAD(a);
		for (li = RTA_DATA(a); RTA_OK(li, llen); li = RTA_NEXT(li, llen)) {
			if (li->rta_type == IFLA_INFO_KIND)
				snprintf(info->kind, sizeof(info->kind), "%.*s",
					 (int)RTA_PAYLOAD(li), (const char *)RTA_DATA(li));
			else if (li->rta_type == IFLA_INFO_DATA)
				tun_attrs(li, info);
		}
	}
	return 0;
}

int ktun_link_del(const char *ifname)
{
	char buf[1024];
	ssize_t n = rtnl_ask(ifname, RTM_DELLINK, NLM_F_ACK, buf, sizeof(buf));

	return n < 0 ? (int)n : 0;
}
