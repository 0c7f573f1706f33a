// SPDX-License-Identifier: GPL-2.0
/* Copyright (C) 2026 The ktun authors. */
/*
 * ktunctl: list, show, add and delete ktun devices. All netlink goes
 * through libktun (lib/link.c, on libmnl); this file parses arguments and
 * prints. Exit codes: 0 done, 1 the kernel refused or failed, 2 bad usage,
 * 3 no such ktun device. See man/ktunctl.8.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <net/if.h>
#include <linux/if_tun.h>

#include "ktun.h"

enum { EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_NODEV };

static const char usage[] =
"Usage: ktunctl [-j] [-k KIND] [list]\n"
"       ktunctl [-j] [-k KIND] show NAME\n"
"       ktunctl [-k KIND] add NAME [tun|tap] [pi] [vnet-hdr] [multi-queue]\n"
"                             [owner UID] [group GID] [queues N]\n"
"       ktunctl del NAME\n"
"\n"
"Lists, shows, creates and deletes ktun devices over rtnetlink.\n"
"  -j, --json       print JSON (an array of devices, as ip -j)\n"
"  -k, --kind KIND  the link kind: ktun (default), or tun when ktun\n"
"                   serves /dev/net/tun (compat=1); KTUN_DEV=/dev/net/tun\n"
"                   picks tun as well\n"
"  -h, --help       this text\n"
"Exit status: 0 done, 1 the kernel refused or failed, 2 bad usage,\n"
"3 no such ktun device.\n";

static int json;
static const char *kind;
static int first = 1;

__attribute__((noreturn, format(printf, 1, 2)))
static void die_usage(const char *fmt, ...)
{
	va_list ap;

	fputs("ktunctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\nTry 'ktunctl --help'.\n", stderr);
	exit(EXIT_USAGE);
}

/* A JSON string: names may hold quotes and backslashes. */
static void json_str(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		unsigned char c = *s;

		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

static void json_num_or_null(const char *key, long long v)
{
	if (v < 0)
		printf(",\"%s\":null", key);
	else
		printf(",\"%s\":%lld", key, v);
}

static const char *bool_str(int b)
{
	return b > 0 ? "true" : "false";
}

static struct ktun_queue_stats qs[256];

/* The device's queues in service; none when it cannot tell (not fatal). */
static int queue_stats(const struct ktun_link_info *li)
{
	int n = ktun_link_queue_stats(li->name, qs, 256);

	return n < 0 ? 0 : n;
}

static void print_json(const struct ktun_link_info *li)
{
	int i, n = queue_stats(li);

	printf("%s{\"ifname\":", first ? "" : ",");
	json_str(li->name);
	printf(",\"ifindex\":%d,\"kind\":", li->ifindex);
	json_str(li->kind);
	printf(",\"type\":\"%s\"", li->type == IFF_TAP ? "tap" : "tun");
	printf(",\"up\":%s,\"carrier\":%s", bool_str(!!(li->ifflags & IFF_UP)),
	       bool_str(li->carrier));
	printf(",\"pi\":%s,\"vnet_hdr\":%s,\"multi_queue\":%s,\"persist\":%s",
	       bool_str(li->pi), bool_str(li->vnet_hdr),
	       bool_str(li->multi_queue), bool_str(li->persist));
	json_num_or_null("owner", li->owner);
	json_num_or_null("group", li->group);
	json_num_or_null("queues", li->numqueues);
	json_num_or_null("disabled_queues", li->numdisabled);
	printf(",\"max_queues\":%u,\"mtu\":%u,\"txqlen\":%u", li->maxqueues,
	       li->mtu, li->txqlen);
	printf(",\"stats\":{\"rx\":{\"packets\":%llu,\"bytes\":%llu,\"dropped\":%llu},"
	       "\"tx\":{\"packets\":%llu,\"bytes\":%llu,\"dropped\":%llu}}",
	       li->rx_packets, li->rx_bytes, li->rx_dropped,
	       li->tx_packets, li->tx_bytes, li->tx_dropped);
	printf(",\"queue_stats\":[");
	for (i = 0; i < n; i++)
		printf("%s{\"queue\":%d,\"queued\":%llu,\"capacity\":%llu}",
		       i ? "," : "", i, qs[i].queued, qs[i].capacity);
	printf("]}");
	first = 0;
}

static void print_flags(char *buf, size_t size, const struct ktun_link_info *li)
{
	snprintf(buf, size, "%s%s%s%s%s%s",
		 li->ifflags & IFF_UP ? "up" : "down",
		 li->carrier > 0 ? ",carrier" : "",
		 li->pi > 0 ? ",pi" : "",
		 li->vnet_hdr > 0 ? ",vnet-hdr" : "",
		 li->multi_queue > 0 ? ",multi-queue" : "",
		 li->persist > 0 ? ",persist" : "");
}

static void id_str(char *buf, size_t size, long long id)
{
	if (id < 0)
		snprintf(buf, size, "-");
	else
		snprintf(buf, size, "%lld", id);
}

static void print_table(const struct ktun_link_info *li)
{
	char flags[80], owner[24], group[24], queues[64];

	if (first)
		printf("%-15s %-4s %-38s %6s %6s %9s %5s %10s %12s %8s %10s %12s %8s\n",
		       "NAME", "TYPE", "FLAGS", "OWNER", "GROUP", "QUEUES", "MTU",
		       "RX-PACKETS", "RX-BYTES", "RX-DROP",
		       "TX-PACKETS", "TX-BYTES", "TX-DROP");
	first = 0;
	print_flags(flags, sizeof(flags), li);
	id_str(owner, sizeof(owner), li->owner);
	id_str(group, sizeof(group), li->group);
	/* attached (+disabled) of the most that may attach; single-queue: max only */
	if (li->numqueues >= 0 && li->numdisabled > 0)
		snprintf(queues, sizeof(queues), "%lld+%lld/%u", li->numqueues,
			 li->numdisabled, li->maxqueues);
	else if (li->numqueues >= 0)
		snprintf(queues, sizeof(queues), "%lld/%u", li->numqueues, li->maxqueues);
	else
		snprintf(queues, sizeof(queues), "-/%u", li->maxqueues);
	printf("%-15s %-4s %-38s %6s %6s %9s %5u %10llu %12llu %8llu %10llu %12llu %8llu\n",
	       li->name, li->type == IFF_TAP ? "tap" : "tun", flags, owner, group,
	       queues, li->mtu, li->rx_packets, li->rx_bytes, li->rx_dropped,
	       li->tx_packets, li->tx_bytes, li->tx_dropped);
}

/* show: below the device's line, one per queue in service. */
static void print_queues(const struct ktun_link_info *li)
{
	int i, n = queue_stats(li);

	for (i = 0; i < n; i++)
		printf("  queue %d: %llu queued of %llu\n", i, qs[i].queued,
		       qs[i].capacity);
}

static int print_one(const struct ktun_link_info *li, void *arg)
{
	if (json)
		print_json(li);
	else
		print_table(li);
	if (!json && arg)
		print_queues(li);
	return 0;
}

static int cmd_list(void)
{
	int ret;

	if (json)
		putchar('[');
	ret = ktun_link_list(kind, print_one, NULL);
	if (json)
		puts("]");
	if (ret) {
		fprintf(stderr, "ktunctl: listing links: %s\n", strerror(-ret));
		return EXIT_FAILED;
	}
	return EXIT_OK;
}

static int cmd_show(const char *name)
{
	struct ktun_link_info li;
	int ret = ktun_link_info(name, &li);

	if (ret == -ENODEV) {
		fprintf(stderr, "ktunctl: %s: no such device\n", name);
		return EXIT_NODEV;
	}
	if (ret) {
		fprintf(stderr, "ktunctl: %s: %s\n", name, strerror(-ret));
		return EXIT_FAILED;
	}
	if (strcmp(li.kind, kind ? kind : ktun_link_kind())) {
		fprintf(stderr, "ktunctl: %s is not a %s device (kind \"%s\")\n",
			name, kind ? kind : ktun_link_kind(), li.kind);
		return EXIT_NODEV;
	}
	if (json)
		putchar('[');
	print_one(&li, &li);
	if (json)
		puts("]");
	return EXIT_OK;
}

static long long parse_id(const char *what, const char *s, long long min, long long max)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max)
		die_usage("%s: '%s' is not a number from %lld to %lld", what, s, min, max);
	return v;
}

static int cmd_add(const char *name, int argc, char **argv)
{
	struct ktun_link_config cfg;
	char msg[256];
	int i, ret;

	ktun_link_config_init(&cfg);
	cfg.kind = kind;
	for (i = 0; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "tun")) {
			cfg.type = IFF_TUN;
		} else if (!strcmp(a, "tap")) {
			cfg.type = IFF_TAP;
		} else if (!strcmp(a, "pi")) {
			cfg.pi = 1;
		} else if (!strcmp(a, "vnet-hdr") || !strcmp(a, "vnet_hdr")) {
			cfg.vnet_hdr = 1;
		} else if (!strcmp(a, "multi-queue") || !strcmp(a, "multi_queue")) {
			cfg.multi_queue = 1;
		} else if (!strcmp(a, "owner") || !strcmp(a, "user") ||
			   !strcmp(a, "group") || !strcmp(a, "queues")) {
			if (i + 1 >= argc)
				die_usage("%s needs a value", a);
			if (!strcmp(a, "group"))
				cfg.group = parse_id(a, argv[++i], 0, 0xfffffffeLL);
			else if (!strcmp(a, "queues"))
				cfg.queues = parse_id(a, argv[++i], 1, 256);
			else
				cfg.owner = parse_id(a, argv[++i], 0, 0xfffffffeLL);
		} else {
			die_usage("add: unknown option '%s'", a);
		}
	}
	if (cfg.queues && !cfg.multi_queue && cfg.queues != 1)
		die_usage("queues: more than one needs multi-queue");
	if (strlen(name) >= IFNAMSIZ)
		die_usage("'%s' is longer than %d characters", name, IFNAMSIZ - 1);
	ret = ktun_link_add(name, &cfg, msg, sizeof(msg));
	if (ret) {
		fprintf(stderr, "ktunctl: add %s: %s%s%s\n", name, strerror(-ret),
			*msg ? ": " : "", msg);
		if (ret == -EOPNOTSUPP && !*msg)
			fprintf(stderr, "ktunctl: is ktun loaded, and is \"%s\" its link kind?\n",
				kind ? kind : ktun_link_kind());
		return EXIT_FAILED;
	}
	return EXIT_OK;
}

static int cmd_del(const char *name)
{
	struct ktun_link_info li;
	int ret = ktun_link_info(name, &li);

	if (!ret && strcmp(li.kind, kind ? kind : ktun_link_kind())) {
		fprintf(stderr, "ktunctl: %s is not a %s device (kind \"%s\"); not deleted\n",
			name, kind ? kind : ktun_link_kind(), li.kind);
		return EXIT_NODEV;
	}
	if (!ret)
		ret = ktun_link_del(name);
	if (ret == -ENODEV) {
		fprintf(stderr, "ktunctl: %s: no such device\n", name);
		return EXIT_NODEV;
	}
	if (ret) {
		fprintf(stderr, "ktunctl: del %s: %s\n", name, strerror(-ret));
		return EXIT_FAILED;
	}
	return EXIT_OK;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "kind", required_argument, NULL, 'k' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *cmd;
	int c;

	while ((c = getopt_long(argc, argv, "+jk:h", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = 1;
			break;
		case 'k':
			kind = optarg;
			break;
		case 'h':
			fputs(usage, stdout);
			return EXIT_OK;
		default:
			fputs("Try 'ktunctl --help'.\n", stderr);
			return EXIT_USAGE;
		}
	}
	argc -= optind;
	argv += optind;
	cmd = argc ? argv[0] : "list";
	if (!strcmp(cmd, "list") || !strcmp(cmd, "ls")) {
		if (argc > 1)
			die_usage("list takes no arguments");
		return cmd_list();
	}
	if (!strcmp(cmd, "show") || !strcmp(cmd, "add") || !strcmp(cmd, "del") ||
	    !strcmp(cmd, "delete")) {
		if (argc < 2)
			die_usage("%s needs a device name", cmd);
		if (!strcmp(cmd, "add"))
			return cmd_add(argv[1], argc - 2, argv + 2);
		if (argc > 2)
			die_usage("%s takes one name", cmd);
		return !strcmp(cmd, "show") ? cmd_show(argv[1]) : cmd_del(argv[1]);
	}
	die_usage("unknown command '%s'", cmd);
}
