// SPDX-License-Identifier: GPL-2.0
/* Copyright (C) 2026 The ktun authors. */
/*
 * The frames the fuzzer writes: a tun_pi, a virtio-net header, an Ethernet
 * header as the framing asks, then an IP packet that is valid (UDP, ICMP
 * echo, a TCP super-packet for GSO), truncated, oversized or garbage. The
 * headers are valid most of the time and hostile the rest.
 */
#include <string.h>
#include <arpa/inet.h>
#include <linux/if_tun.h>
#include <linux/virtio_net.h>
#include <net/ethernet.h>
#include <netinet/ip.h>
#include <netinet/ip_icmp.h>
#include <netinet/tcp.h>

#include "ktun.h"
#include "fuzz.h"

/* An IPv4 header for @len bytes of packet, @proto, 10.77.k.2 -> 10.77.k.1. */
static void ip4(unsigned char *p, size_t len, int proto, int k)
{
	struct iphdr *ip = (struct iphdr *)p;

	memset(ip, 0, sizeof(*ip));
	ip->version = 4;
	ip->ihl = 5;
	ip->ttl = 64;
	ip->tot_len = htons(len > 65535 ? 65535 : len);
	ip->protocol = proto;
	ip->saddr = htonl(0x0a4d0002 | k << 8);
	ip->daddr = htonl(0x0a4d0001 | k << 8);
	ip->check = ktun_csum(ip, sizeof(*ip), 0);
}

/* The IP packet; *gso set when it is a TCP super-packet. Returns its length. */
static size_t packet(struct fz_rng *r, unsigned char *p, size_t room, int *gso)
{
	struct in_addr src, dst;
	struct in6_addr s6, d6;
	int k = fz_below(r, FZ_NAMES);
	size_t len, i;

	*gso = 0;
	src.s_addr = htonl(0x0a4d0002 | k << 8);
	dst.s_addr = htonl(0x0a4d0001 | k << 8);
	switch (fz_below(r, 9)) {
	case 0:
	case 1:
		return ktun_udp4(p, src, dst, 1024 + fz_below(r, 64), 1 + fz_below(r, 65535),
				 p + 100, fz_below(r, 1400));
	case 2:
		inet_pton(AF_INET6, "fd77::2", &s6);
		inet_pton(AF_INET6, "fd77::1", &d6);
		s6.s6_addr[13] = d6.s6_addr[13] = k;
		return ktun_udp6(p, &s6, &d6, 1024, 1 + fz_below(r, 65535), p + 100,
				 fz_below(r, 1400));
	case 3: {	/* an echo request to a local address: the reply is transmitted */
		struct icmphdr *ic = (struct icmphdr *)(p + 20);

		len = 20 + sizeof(*ic) + fz_below(r, 1000);
		memset(ic, 0, sizeof(*ic));
		ic->type = ICMP_ECHO;
		ic->un.echo.id = htons(fz_rand(r));
		ic->checksum = ktun_csum(ic, len - 20, 0);
		ip4(p, len, IPPROTO_ICMP, k);
		return len;
	}
	case 4: {	/* TCP: a segment, or a super-packet for GSO */
		struct tcphdr *th = (struct tcphdr *)(p + 20);

		*gso = fz_chance(r, 50);
		len = 40 + (*gso ? 1000 + fz_below(r, 6000) : fz_below(r, 1400));
		memset(th, 0, sizeof(*th));
		th->source = htons(40000);
		th->dest = htons(fz_below(r, 65536));
		th->doff = 5;
		th->syn = fz_chance(r, 50);
		th->ack = !th->syn;
		ip4(p, len, IPPROTO_TCP, k);
		return len;
	}
	case 5:		/* garbage */
		len = fz_below(r, 2000);
		for (i = 0; i < len; i++)
			p[i] = fz_rand(r);
		return len;
	case 6:		/* oversized: more than the largest IP packet */
		len = room > 65300 ? 65000 + fz_below(r, room - 65200) : room - 100;
		ip4(p, len, IPPROTO_UDP, k);
		return len;
	case 7:		/* nothing, or next to nothing */
		p[0] = 0x45;
		return fz_below(r, 3);
	default:	/* truncated */
		len = ktun_udp4(p, src, dst, 1, 2, p + 100, fz_below(r, 200));
		return fz_below(r, len);
	}
}

/* A virtio-net header: plain, describing the packet, or hostile. */
static void vnet_hdr(struct fz_rng *r, struct virtio_net_hdr *h, int gso,
		     size_t l2, size_t len)
{
	static const uint8_t types[] = { 0, 1, 3, 4, 0x81, 0x83, 5, 0x80, 0xff };
	uint16_t hostile[] = { 0, 1, 14, 20, 34, 54, len - 2, len, len + 1, 65535 };

	memset(h, 0, sizeof(*h));
	if (fz_chance(r, 50))
		return;
	if (gso || fz_chance(r, 40)) {
		h->flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
		h->csum_start = l2 + 20;
		h->csum_offset = 16;
		h->hdr_len = l2 + 40;
		if (gso) {
			h->gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
			h->gso_size = 500 + fz_below(r, 1000);
		}
		if (fz_chance(r, 70))
			return;
	}
	/* Hostile: any field may be anything. */
	if (fz_chance(r, 40))
		h->flags = fz_chance(r, 80) ? fz_below(r, 4) : (uint8_t)fz_rand(r);
	if (fz_chance(r, 40))
		h->gso_type = FZ_PICK(r, types);
	if (fz_chance(r, 40))
		h->gso_size = fz_chance(r, 50) ? fz_below(r, 3) : (uint16_t)fz_rand(r);
	if (fz_chance(r, 40))
		h->hdr_len = FZ_PICK(r, hostile);
	if (fz_chance(r, 40))
		h->csum_start = FZ_PICK(r, hostile);
	if (fz_chance(r, 40))
		h->csum_offset = fz_chance(r, 50) ? FZ_PICK(r, ((const uint16_t[]){ 0, 6, 16, 65535 })) :
				 (uint16_t)fz_rand(r);
}

size_t fz_frame(struct fz_rng *r, unsigned char *buf, size_t size, int flags,
		int vnet_sz)
{
	size_t pi = flags & IFF_NO_PI ? 0 : 4;
	size_t vn = flags & IFF_VNET_HDR ? (size_t)vnet_sz : 0;
	size_t l2 = (flags & TUN_TYPE_MASK) == IFF_TAP ? ETH_HLEN : 0;
	unsigned char *eth = buf + pi + vn, *ip = eth + l2;
	uint16_t proto;
	size_t len;
	int gso, i;

	len = packet(r, ip, size - pi - vn - l2, &gso);
	proto = len && (ip[0] >> 4) == 6 ? ETH_P_IPV6 : ETH_P_IP;
	if (fz_chance(r, 5))
		proto = FZ_PICK(r, ((const uint16_t[]){ 0, ETH_P_ARP, 0x8100, 0x88cc, 0xffff }));
	if (pi) {
		buf[0] = 0;
		buf[1] = fz_chance(r, 5) ? fz_rand(r) : 0;
		buf[2] = proto >> 8;
		buf[3] = proto;
	}
	if (vn) {
		memset(buf + pi, 0, vn);
		if (vn >= sizeof(struct virtio_net_hdr))
			vnet_hdr(r, (struct virtio_net_hdr *)(buf + pi), gso, l2, l2 + len);
		else
			for (i = 0; i < (int)vn; i++)
				buf[pi + i] = fz_rand(r);
	}
	if (l2) {
		for (i = 0; i < 12; i++)
			eth[i] = fz_rand(r);
		if (fz_chance(r, 40))
			memset(eth, 0xff, 6);		/* broadcast */
		eth[6] &= ~1;				/* a unicast source */
		eth[12] = proto >> 8;
		eth[13] = proto;
	}
	/* Now and then cut through the headers too. */
	len += pi + vn + l2;
	if (fz_chance(r, 3))
		len = fz_below(r, pi + vn + l2 + 1);
	return len;
}
