/* SPDX-License-Identifier: GPL-2.0 */
/* Copyright (C) 2026 The ktun authors. */
/*
 * Packets for the tests: parsing what the device hands the app, building
 * what the app writes (IPv4/IPv6 UDP, Ethernet and tun_pi framing), UDP
 * sockets on the stack's side, and an echo/ARP responder that plays the
 * far end of a TUN or TAP link.
 */
#ifndef KT_NET_H
#define KT_NET_H

#include <pthread.h>
#include <arpa/inet.h>
#include <net/ethernet.h>
#include <netinet/icmp6.h>
#include <netinet/ip.h>
#include <netinet/ip6.h>
#include <netinet/ip_icmp.h>
#include <netinet/udp.h>
#include <sys/socket.h>

#include "util.h"

/* How a device frames packets: raw IP, IP behind a tun_pi, or Ethernet. */
enum kt_l2 { KT_RAW = 0, KT_PI = 4, KT_ETH = 14 };

static inline enum kt_l2 kt_l2_of(int flags)
{
	if ((flags & TUN_TYPE_MASK) == IFF_TAP)
		return (flags & IFF_NO_PI) ? KT_ETH : (enum kt_l2)(KT_ETH + KT_PI);
	return (flags & IFF_NO_PI) ? KT_RAW : KT_PI;
}

/* The tun_pi's share of a frame framed as @l2. */
static inline size_t kt_pi_len(int l2)
{
	return (l2 == KT_PI || l2 == KT_ETH + KT_PI) ? 4 : 0;
}

/* A packet as read from the device, taken apart. */
struct kt_pkt {
	int family;		/* AF_INET, AF_INET6, or 0: not IP */
	uint16_t ethertype;	/* host order; 0 on TUN without tun_pi */
	const uint8_t *ip;
	size_t iplen;		/* from the IP header's length field */
	int proto;		/* IPPROTO_* of the transport header */
	const uint8_t *l4;
	size_t l4len;
	uint16_t sport, dport;	/* host order, UDP only */
	const uint8_t *data;	/* UDP payload */
	size_t dlen;
};

/*
 * Parses @len bytes framed as @l2. Returns 0 if it is a well-formed IP
 * packet whose length fields match @len exactly, -1 otherwise (p->family
 * and p->ethertype are still filled in as far as they could be read).
 */
static inline int kt_parse(const void *buf, size_t len, int l2, struct kt_pkt *p)
{
	const uint8_t *b = buf;
	size_t off = 0;

	memset(p, 0, sizeof(*p));
	if (l2 == KT_PI || l2 == KT_ETH + KT_PI) {
		if (len < 4)
			return -1;
		p->ethertype = b[2] << 8 | b[3];
		off = 4;
	}
	if (l2 >= KT_ETH) {
		if (len < off + 14)
			return -1;
		p->ethertype = b[off + 12] << 8 | b[off + 13];
		off += 14;
	}
	if (len <= off)
		return -1;
	p->ip = b + off;
	len -= off;
	if (p->ip[0] >> 4 == 4 && len >= 20) {
		const struct iphdr *ip = (const void *)p->ip;

		p->family = AF_INET;
		p->iplen = ntohs(ip->tot_len);
		p->proto = ip->protocol;
		p->l4 = p->ip + ip->ihl * 4;
		if (p->iplen != len || ip->ihl < 5 || ip->ihl * 4u > len)
			return -1;
		p->l4len = len - ip->ihl * 4;
	} else if (p->ip[0] >> 4 == 6 && len >= 40) {
		const struct ip6_hdr *ip6 = (const void *)p->ip;

		p->family = AF_INET6;
		p->iplen = 40 + ntohs(ip6->ip6_plen);
		p->proto = ip6->ip6_nxt;
		p->l4 = p->ip + 40;
		p->l4len = len - 40;
		if (p->iplen != len)
			return -1;
	} else {
		return -1;
	}
	if (p->proto == IPPROTO_UDP) {
		const struct udphdr *uh = (const void *)p->l4;

		if (p->l4len < 8 || ntohs(uh->len) != p->l4len)
			return -1;
		p->sport = ntohs(uh->source);
		p->dport = ntohs(uh->dest);
		p->data = p->l4 + 8;
		p->dlen = p->l4len - 8;
	}
	return 0;
}

static inline struct in_addr kt_in4(const char *s)
{
	struct in_addr a;

	if (inet_pton(AF_INET, s, &a) != 1)
		FAIL("bad IPv4 address %s", s);
	return a;
}

static inline struct in6_addr kt_in6(const char *s)
{
	struct in6_addr a;

	if (inet_pton(AF_INET6, s, &a) != 1)
		FAIL("bad IPv6 address %s", s);
	return a;
}

/*
 * Builds in @buf (at least 64 + @len bytes) a UDP datagram from @src:@sport
 * to @dst:@dport (both IPv4 or both IPv6, as strings) framed as @l2, to be
 * written to the device; @dmac/@smac are the Ethernet addresses when @l2 has
 * Ethernet. Returns the frame's length.
 */
static inline size_t kt_build_udp(void *buf, int l2, const uint8_t *dmac,
				  const uint8_t *smac, const char *src, int sport,
				  const char *dst, int dport, const void *data, size_t len)
{
	uint8_t *b = buf;
	size_t off = 0, n;
	int v6 = !!strchr(src, ':');
	uint16_t et = v6 ? ETHERTYPE_IPV6 : ETHERTYPE_IP;

	if (l2 == KT_PI || l2 == KT_ETH + KT_PI) {
		b[0] = b[1] = 0;
		b[2] = et >> 8;
		b[3] = et & 0xff;
		off = 4;
	}
	if (l2 >= KT_ETH) {
		memcpy(b + off, dmac, 6);
		memcpy(b + off + 6, smac, 6);
		b[off + 12] = et >> 8;
		b[off + 13] = et & 0xff;
		off += 14;
	}
	if (v6) {
		struct in6_addr s = kt_in6(src), d = kt_in6(dst);

		n = ktun_udp6(b + off, &s, &d, sport, dport, data, len);
	} else {
		n = ktun_udp4(b + off, kt_in4(src), kt_in4(dst), sport, dport, data, len);
	}
	return off + n;
}

static inline socklen_t kt_sockaddr(struct sockaddr_storage *ss, const char *addr, int port)
{
	memset(ss, 0, sizeof(*ss));
	if (strchr(addr, ':')) {
		struct sockaddr_in6 *s6 = (void *)ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		s6->sin6_addr = kt_in6(addr);
		return sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (void *)ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		s4->sin_addr = kt_in4(addr);
		return sizeof(*s4);
	}
}

/* A UDP socket bound to @addr:@port (port 0: any). */
static inline int kt_udp_bind(const char *addr, int port)
{
	struct sockaddr_storage ss;
	socklen_t sl = kt_sockaddr(&ss, addr, port);
	int s = socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	ASSERT_OK(s);
	if (bind(s, (struct sockaddr *)&ss, sl))
		FAIL("bind %s:%d: %s", addr, port, kt_errname(errno));
	return s;
}

static inline void kt_udp_send(int s, const char *addr, int port, const void *data, size_t len)
{
	struct sockaddr_storage ss;
	socklen_t sl = kt_sockaddr(&ss, addr, port);
	ssize_t n = sendto(s, data, len, 0, (struct sockaddr *)&ss, sl);

	if (n != (ssize_t)len)
		FAIL("sendto %s:%d: %zd (%s)", addr, port, n, kt_errname(errno));
}

/*
 * Reads packets from @fd until one is a UDP datagram to port @dport; others
 * (the stack's own traffic) are skipped. Fails the test if none comes within
 * the guard. Returns the frame's length; @p describes it.
 */
static inline size_t kt_read_udp(int fd, int l2, int dport, void *buf, size_t size,
				 struct kt_pkt *p)
{
	int i;

	for (i = 0; i < 1000; i++) {
		ssize_t n = kt_read_wait(fd, buf, size, KT_WAIT_MS);

		if (n < 0)
			FAIL("waiting for a UDP datagram to port %d: %s", dport, kt_errname(errno));
		if (!kt_parse(buf, n, l2, p) && p->proto == IPPROTO_UDP && p->dport == dport)
			return n;
	}
	FAIL("no UDP datagram to port %d among 1000 packets", dport);
}

/* Receives one datagram on socket @s, waiting at most the guard. */
static inline ssize_t kt_recv_wait(int s, void *buf, size_t len)
{
	struct pollfd p = { .fd = s, .events = POLLIN };

	if (poll(&p, 1, KT_WAIT_MS) != 1) {
		errno = ETIMEDOUT;
		return -1;
	}
	return recv(s, buf, len, MSG_DONTWAIT);
}

/*
 * The far end of a link: answers ICMP and ICMPv6 echo requests to any
 * address, and on Ethernet ARP requests for @ip with @mac. It reads with
 * plain blocking read()s and stops when a UDP datagram to KT_STOP_PORT
 * arrives through the device (kt_responder_stop() sends one). Counts what
 * it answered. Lives in shared memory when a forked process runs it.
 */
#define KT_STOP_PORT	9

struct kt_responder {
	int fd;
	int l2;
	uint8_t mac[6];		/* ours, on Ethernet */
	struct in_addr ip;	/* the IPv4 address we answer ARP for */
	pthread_t thread;
	int echo4, echo6, arp, other, errors;
	int last_errno;
};

/* Turns an echo request at @ip (@len bytes) into the reply, in place. */
static inline int kt_echo_reply(uint8_t *ip, size_t len)
{
	uint8_t tmp[16];

	if (ip[0] >> 4 == 4 && len >= 28 && ip[9] == IPPROTO_ICMP) {
		struct iphdr *h = (void *)ip;
		uint8_t *icmp = ip + h->ihl * 4;
		size_t ilen = ntohs(h->tot_len) - h->ihl * 4;

		if (icmp[0] != ICMP_ECHO)
			return 0;
		memcpy(tmp, &h->saddr, 4);
		memcpy(&h->saddr, &h->daddr, 4);
		memcpy(&h->daddr, tmp, 4);
		h->check = 0;
		h->check = ktun_csum(h, h->ihl * 4, 0);
		icmp[0] = ICMP_ECHOREPLY;
		icmp[2] = icmp[3] = 0;
		*(uint16_t *)(icmp + 2) = ktun_csum(icmp, ilen, 0);
		return 4;
	}
	if (ip[0] >> 4 == 6 && len >= 48 && ip[6] == IPPROTO_ICMPV6) {
		struct ip6_hdr *h = (void *)ip;
		uint8_t *icmp = ip + 40;
		size_t ilen = ntohs(h->ip6_plen);
		uint32_t sum = 0;
		int i;

		if (icmp[0] != ICMP6_ECHO_REQUEST)
			return 0;
		memcpy(tmp, &h->ip6_src, 16);
		memcpy(&h->ip6_src, &h->ip6_dst, 16);
		memcpy(&h->ip6_dst, tmp, 16);
		icmp[0] = ICMP6_ECHO_REPLY;
		icmp[2] = icmp[3] = 0;
		for (i = 0; i < 32; i += 2)
			sum += ip[8 + i] << 8 | ip[9 + i];
		sum += ilen + IPPROTO_ICMPV6;
		*(uint16_t *)(icmp + 2) = ktun_csum(icmp, ilen, sum);
		return 6;
	}
	return 0;
}

/* Answers the ARP request in Ethernet frame @eth (@len bytes) in place. */
static inline int kt_arp_reply(uint8_t *eth, size_t len, const uint8_t *mac, struct in_addr ip)
{
	uint8_t *a = eth + 14;

	if (len < 42 || eth[12] != 0x08 || eth[13] != 0x06)
		return 0;
	/* Ethernet/IPv4, request, for our address */
	if (a[0] || a[1] != 1 || a[2] != 8 || a[3] || a[7] != 1 || memcmp(a + 24, &ip, 4))
		return 0;
	memcpy(eth, eth + 6, 6);
	memcpy(eth + 6, mac, 6);
	a[7] = 2;
	memcpy(a + 18, a + 8, 10);	/* target = the asker */
	memcpy(a + 8, mac, 6);
	memcpy(a + 14, &ip, 4);
	return 1;
}

/* The responder's loop, for a thread or a forked process. */
static inline void kt_respond(struct kt_responder *r)
{
	static __thread uint8_t buf[65600];

	for (;;) {
		size_t off = r->l2;	/* to the IP header */
		struct kt_pkt p;
		uint8_t mac[6];
		ssize_t n;
		int v;

		n = read(r->fd, buf, sizeof(buf));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			r->last_errno = errno;
			r->errors++;
			return;
		}
		if (!kt_parse(buf, n, r->l2, &p) && p.proto == IPPROTO_UDP &&
		    p.dport == KT_STOP_PORT)
			return;
		if ((size_t)n <= off) {
			r->other++;
			continue;
		}
		if (r->l2 >= KT_ETH) {
			uint8_t *eth = buf + kt_pi_len(r->l2);

			if (kt_arp_reply(eth, n - kt_pi_len(r->l2), r->mac, r->ip)) {
				if (write(r->fd, buf, n) != n) {
					r->last_errno = errno;
					r->errors++;
				}
				r->arp++;
				continue;
			}
		}
		v = kt_echo_reply(buf + off, n - off);
		if (!v) {
			r->other++;
			continue;
		}
		if (r->l2 >= KT_ETH) {
			uint8_t *eth = buf + kt_pi_len(r->l2);

			memcpy(mac, eth, 6);
			memcpy(eth, eth + 6, 6);
			memcpy(eth + 6, mac, 6);
		}
		if (write(r->fd, buf, n) != n) {
			r->last_errno = errno;
			r->errors++;
		}
		if (v == 4)
			r->echo4++;
		else
			r->echo6++;
	}
}

static inline void *kt_respond_thread(void *arg)
{
	kt_respond(arg);
	return NULL;
}

/* Prepares @r to answer on @fd; @ip is the IPv4 address it answers ARP for. */
static inline void kt_responder_init(struct kt_responder *r, int fd, int l2, const char *ip)
{
	static const uint8_t mac[6] = { 0x02, 0x6b, 0x74, 0x00, 0x00, 0x02 };

	memset(r, 0, sizeof(*r));
	r->fd = fd;
	r->l2 = l2;
	memcpy(r->mac, mac, 6);
	r->ip = kt_in4(ip);
}

/* Starts a responder thread. */
static inline void kt_responder_start(struct kt_responder *r, int fd, int l2, const char *ip)
{
	kt_responder_init(r, fd, l2, ip);
	ASSERT_EQ(pthread_create(&r->thread, NULL, kt_respond_thread, r), 0);
}

/* Tells the responder answering for @ip (IPv4) to stop, through the device. */
static inline void kt_responder_send_stop(const char *ip)
{
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	ASSERT_OK(s);
	kt_udp_send(s, ip, KT_STOP_PORT, "stop", 4);
	close(s);
}

static inline void kt_responder_stop(struct kt_responder *r)
{
	char ip[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &r->ip, ip, sizeof(ip));
	kt_responder_send_stop(ip);
	ASSERT_EQ(pthread_join(r->thread, NULL), 0);
}

/*
 * Runs @cmd through the shell and captures its output in @out; returns the
 * exit status (-1 if it did not exit).
 */
static inline int kt_capture(char *out, size_t size, const char *cmd)
{
	FILE *f = popen(cmd, "r");
	size_t n = 0;
	int st;

	if (!f)
		FAIL("popen %s: %s", cmd, kt_errname(errno));
	while (n + 1 < size && fgets(out + n, size - n, f))
		n += strlen(out + n);
	out[n] = '\0';
	st = pclose(f);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Runs `ping @args @addr`; returns its exit status, its output in @out. */
static inline int kt_ping(char *out, size_t size, const char *args, const char *addr)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "ping -n %s %s 2>&1", args, addr);
	return kt_capture(out, size, cmd);
}

/* Whether ping's summary in @out says @sent transmitted and @got received. */
static inline int kt_ping_says(const char *out, int sent, int got)
{
	char want[64];

	snprintf(want, sizeof(want), "%d packets transmitted, %d received", sent, got);
	return strstr(out, want) != NULL;
}

/* Whether the UDP checksum of parsed packet @p is right. */
static inline int kt_udp_csum_ok(const struct kt_pkt *p)
{
	uint32_t sum = 0;
	size_t alen = p->family == AF_INET ? 4 : 16;
	const uint8_t *src = p->family == AF_INET ? p->ip + 12 : p->ip + 8;
	size_t i;

	for (i = 0; i < 2 * alen; i += 2)
		sum += src[i] << 8 | src[i + 1];
	sum += IPPROTO_UDP + p->l4len;
	return ktun_csum(p->l4, p->l4len, sum) == 0;
}

#endif
