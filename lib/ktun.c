// SPDX-License-Identifier: GPL-2.0
/* Copyright (C) 2026 The ktun authors. */
/* libktun: opening devices, shelling out, building packets. Links: link.c. */

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
