// SPDX-License-Identifier: GPL-2.0
/* Copyright (C) 2026 The ktun authors. */
/*
 * libktun's rtnetlink side, on libmnl: creating a device as "ip link add
 * NAME type ktun" does, reading what "ip -d link show" shows of one or of
 * all of them, moving one to another namespace, deleting one; and the
 * per-queue statistics ktun gives "ethtool -S" (SIOCETHTOOL). Errors are
 * -errno, with the kernel's extended-ack message when the caller asks.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <libmnl/libmnl.h>
#include <linux/ethtool.h>
#include <linux/if_link.h>
#include <linux/if_tun.h>
#include <linux/rtnetlink.h>
#include <linux/sockios.h>

#include "ktun.h"
#include "linux/ktun.h"

/* Room for one answer: a link's RTM_NEWLINK can outgrow a page. */
#define NL_RECV_SIZE	32768

/* One request and the callback its answers go to. */
struct nl_talk {
	mnl_cb_t cb;
	void *arg;
	char *msg;		/* the extack message, if any, or "" */
	size_t msglen;
};

static int extack_attr(const struct nlattr *a, void *data)
{
	struct nl_talk *t = data;

	if (mnl_attr_get_type(a) == NLMSGERR_ATTR_MSG &&
	    mnl_attr_validate(a, MNL_TYPE_NUL_STRING) == 0 && t->msg)
		snprintf(t->msg, t->msglen, "%s", mnl_attr_get_str(a));
	return MNL_CB_OK;
}

/* NLMSG_ERROR: an ack (error 0) ends the talk, an error sets errno. */
static int on_error(const struct nlmsghdr *nlh, void *data)
{
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
	unsigned int off = sizeof(*e);

	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*e))) {
		errno = EBADMSG;
		return MNL_CB_ERROR;
	}
	if (!e->error)
		return MNL_CB_STOP;
	if (nlh->nlmsg_flags & NLM_F_ACK_TLVS) {
		if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
			off += e->msg.nlmsg_len - sizeof(struct nlmsghdr);
		if (mnl_nlmsg_size(off) <= nlh->nlmsg_len)
			mnl_attr_parse(nlh, off, extack_attr, data);
	}
	errno = -e->error;
	return MNL_CB_ERROR;
}

static int on_done(const struct nlmsghdr *nlh, void *data)
{
	(void)nlh;
	(void)data;
	return MNL_CB_STOP;
}

static int on_overrun(const struct nlmsghdr *nlh, void *data)
{
	(void)nlh;
	(void)data;
	errno = ENOSPC;
	return MNL_CB_ERROR;
}

static int on_data(const struct nlmsghdr *nlh, void *data)
{
	struct nl_talk *t = data;

	return t->cb ? t->cb(nlh, t->arg) : MNL_CB_OK;
}

/* Sends @nlh (a request, acked or dumped) and runs the answers through @t. */
static int nl_talk(struct nlmsghdr *nlh, struct nl_talk *t)
{
	static mnl_cb_t ctl[NLMSG_MIN_TYPE] = {
		[NLMSG_ERROR] = on_error,
		[NLMSG_DONE] = on_done,
		[NLMSG_OVERRUN] = on_overrun,
	};
	char *buf = malloc(NL_RECV_SIZE);
	struct mnl_socket *nl;
	unsigned int portid;
	int one = 1, ret;
	ssize_t n;

	if (t->msg && t->msglen)
		t->msg[0] = '\0';
	if (!buf)
		return -ENOMEM;
	nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	if (!nl) {
		ret = -errno;
		goto out_free;
	}
	/* Older kernels lack extended acks; the errno still comes. */
	mnl_socket_setsockopt(nl, NETLINK_EXT_ACK, &one, sizeof(one));
	mnl_socket_setsockopt(nl, NETLINK_CAP_ACK, &one, sizeof(one));
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		ret = -errno;
		goto out;
	}
	portid = mnl_socket_get_portid(nl);
	nlh->nlmsg_seq = (unsigned int)time(NULL);
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
		ret = -errno;
		goto out;
	}
	do {
		n = mnl_socket_recvfrom(nl, buf, NL_RECV_SIZE);
		if (n < 0) {
			ret = -errno;
			goto out;
		}
		ret = mnl_cb_run2(buf, n, nlh->nlmsg_seq, portid, on_data, t,
				  ctl, NLMSG_MIN_TYPE);
	} while (ret > 0);
	ret = ret < 0 ? -errno : 0;
out:
	mnl_socket_close(nl);
out_free:
	free(buf);
	return ret;
}

static struct nlmsghdr *link_msg(char *buf, int type, int flags, int ifindex)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifinfomsg *ifm;

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
	ifm->ifi_family = AF_UNSPEC;
	ifm->ifi_index = ifindex;
	return nlh;
}

const char *ktun_link_kind(void)
{
	return strcmp(ktun_path(), KTUN_COMPAT_PATH) ? "ktun" : "tun";
}

void ktun_link_config_init(struct ktun_link_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->type = IFF_TUN;
	cfg->owner = cfg->group = -1;
	cfg->netns_fd = -1;
}

int ktun_link_add(const char *ifname, const struct ktun_link_config *cfg,
		  char *msg, size_t msglen)
{
	char buf[1024];
	struct nlmsghdr *nlh = link_msg(buf, RTM_NEWLINK,
					NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK, 0);
	struct nl_talk t = { .msg = msg, .msglen = msglen };
	struct nlattr *info, *data;

	if (ifname && *ifname) {
		if (strlen(ifname) >= IFNAMSIZ)
			return -ENAMETOOLONG;
		mnl_attr_put_strz(nlh, IFLA_IFNAME, ifname);
	}
	if (cfg->queues) {
		mnl_attr_put_u32(nlh, IFLA_NUM_TX_QUEUES, cfg->queues);
		mnl_attr_put_u32(nlh, IFLA_NUM_RX_QUEUES, cfg->queues);
	}
	if (cfg->netns_fd >= 0)
		mnl_attr_put_u32(nlh, IFLA_NET_NS_FD, cfg->netns_fd);
	info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, cfg->kind ? cfg->kind : ktun_link_kind());
	data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
	mnl_attr_put_u8(nlh, IFLA_TUN_TYPE, cfg->type);
	mnl_attr_put_u8(nlh, IFLA_TUN_PI, !!cfg->pi);
	mnl_attr_put_u8(nlh, IFLA_TUN_VNET_HDR, !!cfg->vnet_hdr);
	mnl_attr_put_u8(nlh, IFLA_TUN_MULTI_QUEUE, !!cfg->multi_queue);
	if (cfg->owner >= 0)
		mnl_attr_put_u32(nlh, IFLA_TUN_OWNER, cfg->owner);
	if (cfg->group >= 0)
		mnl_attr_put_u32(nlh, IFLA_TUN_GROUP, cfg->group);
	mnl_attr_nest_end(nlh, data);
	mnl_attr_nest_end(nlh, info);
	return nl_talk(nlh, &t);
}

/* ---- reading links ---- */

struct link_tables {
	const struct nlattr *tb[IFLA_MAX + 1];
	const struct nlattr *info[IFLA_INFO_MAX + 1];
	const struct nlattr *tun[IFLA_TUN_MAX + 1];
};

static int table_cb(const struct nlattr *a, void *data, int max)
{
	const struct nlattr **tb = data;

	if (mnl_attr_type_valid(a, max) > 0)
		tb[mnl_attr_get_type(a)] = a;
	return MNL_CB_OK;
}

static int ifla_cb(const struct nlattr *a, void *data)
{
	return table_cb(a, data, IFLA_MAX);
}

static int info_cb(const struct nlattr *a, void *data)
{
	return table_cb(a, data, IFLA_INFO_MAX);
}

static int tun_cb(const struct nlattr *a, void *data)
{
	return table_cb(a, data, IFLA_TUN_MAX);
}

/* An attribute's value when it has the type's size, else @dflt. */
static long long get_u8(const struct nlattr *a, long long dflt)
{
	return a && mnl_attr_validate(a, MNL_TYPE_U8) == 0 ? mnl_attr_get_u8(a) : dflt;
}

static long long get_u32(const struct nlattr *a, long long dflt)
{
	return a && mnl_attr_validate(a, MNL_TYPE_U32) == 0 ? mnl_attr_get_u32(a) : dflt;
}

static void parse_link(const struct nlmsghdr *nlh, struct ktun_link_info *li)
{
	const struct ifinfomsg *ifm = mnl_nlmsg_get_payload(nlh);
	struct link_tables t;
	const struct nlattr *a;

	memset(&t, 0, sizeof(t));
	memset(li, 0, sizeof(*li));
	li->ifindex = ifm->ifi_index;
	li->ifflags = ifm->ifi_flags;
	mnl_attr_parse(nlh, sizeof(*ifm), ifla_cb, t.tb);
	if (t.tb[IFLA_IFNAME] && mnl_attr_validate(t.tb[IFLA_IFNAME], MNL_TYPE_NUL_STRING) == 0)
		snprintf(li->name, sizeof(li->name), "%s", mnl_attr_get_str(t.tb[IFLA_IFNAME]));
	if (t.tb[IFLA_LINKINFO] && mnl_attr_validate(t.tb[IFLA_LINKINFO], MNL_TYPE_NESTED) == 0)
		mnl_attr_parse_nested(t.tb[IFLA_LINKINFO], info_cb, t.info);
	a = t.info[IFLA_INFO_KIND];
	if (a)
		snprintf(li->kind, sizeof(li->kind), "%.*s",
			 (int)strnlen(mnl_attr_get_payload(a), mnl_attr_get_payload_len(a)),
			 (const char *)mnl_attr_get_payload(a));
	a = t.info[IFLA_INFO_DATA];
	if (a && mnl_attr_validate(a, MNL_TYPE_NESTED) == 0)
		mnl_attr_parse_nested(a, tun_cb, t.tun);
	li->type = get_u8(t.tun[IFLA_TUN_TYPE], -1);
	li->pi = get_u8(t.tun[IFLA_TUN_PI], -1);
	li->vnet_hdr = get_u8(t.tun[IFLA_TUN_VNET_HDR], -1);
	li->persist = get_u8(t.tun[IFLA_TUN_PERSIST], -1);
	li->multi_queue = get_u8(t.tun[IFLA_TUN_MULTI_QUEUE], -1);
	li->owner = get_u32(t.tun[IFLA_TUN_OWNER], -1);
	li->group = get_u32(t.tun[IFLA_TUN_GROUP], -1);
	li->numqueues = get_u32(t.tun[IFLA_TUN_NUM_QUEUES], -1);
	li->numdisabled = get_u32(t.tun[IFLA_TUN_NUM_DISABLED_QUEUES], -1);
	li->mtu = get_u32(t.tb[IFLA_MTU], 0);
	li->txqlen = get_u32(t.tb[IFLA_TXQLEN], 0);
	li->maxqueues = get_u32(t.tb[IFLA_NUM_TX_QUEUES], 0);
	li->carrier = get_u8(t.tb[IFLA_CARRIER], -1);
	a = t.tb[IFLA_STATS64];
	if (a && mnl_attr_get_payload_len(a) >= sizeof(struct rtnl_link_stats64)) {
		struct rtnl_link_stats64 st;

		memcpy(&st, mnl_attr_get_payload(a), sizeof(st));
		li->rx_packets = st.rx_packets;
		li->rx_bytes = st.rx_bytes;
		li->rx_dropped = st.rx_dropped;
		li->tx_packets = st.tx_packets;
		li->tx_bytes = st.tx_bytes;
		li->tx_dropped = st.tx_dropped;
	}
}

static int one_link(const struct nlmsghdr *nlh, void *data)
{
	if (nlh->nlmsg_type == RTM_NEWLINK)
		parse_link(nlh, data);
	return MNL_CB_OK;
}

int ktun_link_info(const char *ifname, struct ktun_link_info *info)
{
	char buf[256];
	unsigned int idx = if_nametoindex(ifname);
	struct nl_talk t = { .cb = one_link, .arg = info };
	int ret;

	if (!idx)
		return -ENODEV;
	memset(info, 0, sizeof(*info));
	info->ifindex = -1;
	/* The ack after the answer ends the talk. */
	ret = nl_talk(link_msg(buf, RTM_GETLINK, NLM_F_ACK, idx), &t);
	if (ret)
		return ret;
	return info->ifindex == (int)idx ? 0 : -EIO;
}

struct list_arg {
	const char *kind;
	int (*fn)(const struct ktun_link_info *info, void *arg);
	void *arg;
	int ret;
};

static int list_link(const struct nlmsghdr *nlh, void *data)
{
	struct list_arg *l = data;
	struct ktun_link_info li;

	if (nlh->nlmsg_type != RTM_NEWLINK || l->ret)
		return MNL_CB_OK;
	parse_link(nlh, &li);
	if (strcmp(li.kind, l->kind))
		return MNL_CB_OK;
	l->ret = l->fn(&li, l->arg);
	return MNL_CB_OK;
}

int ktun_link_list(const char *kind,
		   int (*fn)(const struct ktun_link_info *info, void *arg),
		   void *arg)
{
	char buf[256];
	struct nlmsghdr *nlh = link_msg(buf, RTM_GETLINK, NLM_F_DUMP, 0);
	struct list_arg l = { kind ? kind : ktun_link_kind(), fn, arg, 0 };
	struct nl_talk t = { .cb = list_link, .arg = &l };
	int ret = nl_talk(nlh, &t);

	return ret ? ret : l.ret;
}

/* RTM_NEWLINK on @ifname with one u32 attribute, or RTM_DELLINK. */
static int link_change(const char *ifname, int type, int attr, uint32_t val,
		       char *msg, size_t msglen)
{
	char buf[256];
	unsigned int idx = if_nametoindex(ifname);
	struct nl_talk t = { .msg = msg, .msglen = msglen };
	struct nlmsghdr *nlh;

	if (!idx)
		return -ENODEV;
	nlh = link_msg(buf, type, NLM_F_ACK, idx);
	if (attr)
		mnl_attr_put_u32(nlh, attr, val);
	return nl_talk(nlh, &t);
}

int ktun_link_del(const char *ifname)
{
	return link_change(ifname, RTM_DELLINK, 0, 0, NULL, 0);
}

int ktun_link_set_netns(const char *ifname, int netns_fd)
{
	return link_change(ifname, RTM_NEWLINK, IFLA_NET_NS_FD, netns_fd, NULL, 0);
}

int ktun_rtnl(struct nlmsghdr *nlh, char *msg, size_t msglen)
{
	struct nl_talk t = { .msg = msg, .msglen = msglen };

	nlh->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
	return nl_talk(nlh, &t);
}

/* ---- per-queue statistics, from "ethtool -S" (driver/ethtool.c) ---- */

static int ethtool_ioctl(const char *ifname, void *cmd)
{
	struct ifreq ifr;
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), ret = 0;

	if (s < 0)
		return -errno;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", ifname);
	ifr.ifr_data = cmd;
	if (ioctl(s, SIOCETHTOOL, &ifr))
		ret = -errno;
	close(s);
	return ret;
}

int ktun_link_queue_stats(const char *ifname, struct ktun_queue_stats *qs,
			  unsigned int max)
{
	struct ethtool_sset_info *info;
	struct ethtool_gstrings *strs = NULL;
	struct ethtool_stats *st = NULL;
	unsigned int n, i, q, nq = 0;
	int ret;

	info = calloc(1, sizeof(*info) + sizeof(uint32_t));
	if (!info)
		return -ENOMEM;
	info->cmd = ETHTOOL_GSSET_INFO;
	info->sset_mask = 1ULL << ETH_SS_STATS;
	ret = ethtool_ioctl(ifname, info);
	if (ret)
		goto out;
	n = info->sset_mask ? info->data[0] : 0;
	strs = calloc(1, sizeof(*strs) + (size_t)n * ETH_GSTRING_LEN);
	st = calloc(1, sizeof(*st) + (size_t)n * sizeof(uint64_t));
	if (!strs || !st) {
		ret = -ENOMEM;
		goto out;
	}
	strs->cmd = ETHTOOL_GSTRINGS;
	strs->string_set = ETH_SS_STATS;
	strs->len = n;
	st->cmd = ETHTOOL_GSTATS;
	st->n_stats = n;
	ret = ethtool_ioctl(ifname, strs);
	if (!ret)
		ret = ethtool_ioctl(ifname, st);
	if (ret)
		goto out;
	/* A queue attached between the calls shows up in neither: take the smaller. */
	if (strs->len < n)
		n = strs->len;
	if (st->n_stats < n)
		n = st->n_stats;
	for (i = 0; i < n; i++) {
		char name[ETH_GSTRING_LEN + 1], what[ETH_GSTRING_LEN + 1];

		memcpy(name, strs->data + (size_t)i * ETH_GSTRING_LEN, ETH_GSTRING_LEN);
		name[ETH_GSTRING_LEN] = '\0';
		if (sscanf(name, "q%u_%32s", &q, what) != 2 || q >= max)
			continue;
		if (q >= nq) {
			memset(qs + nq, 0, (q + 1 - nq) * sizeof(*qs));
			nq = q + 1;
		}
		if (!strcmp(what, "queued"))
			qs[q].queued = st->data[i];
		else if (!strcmp(what, "capacity"))
			qs[q].capacity = st->data[i];
	}
	ret = nq;
out:
	free(info);
	free(strs);
	free(st);
	return ret;
}
