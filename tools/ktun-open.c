// SPDX-License-Identifier: GPL-2.0
/* Copyright (C) 2026 The ktun authors. */
/*
 * ktun-open: attaches to a TUN/TAP device with TUNSETIFF, as any client
 * would, and reports the outcome. The scenario scripts run it as an
 * unprivileged user to check the owner/group rules of persistent devices,
 * and with -w to hold a queue open (ip tuntap show lists its holders).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <linux/if_tun.h>

#include "ktun.h"

static void usage(void)
{
	fprintf(stderr,
		"usage: ktun-open [-d NODE] [-t tun|tap] [-p] [-m] [-w] NAME\n"
		"  Attaches NAME through NODE ($KTUN_DEV, else /dev/net/ktun) with\n"
		"  TUNSETIFF: IFF_TUN (or IFF_TAP) | IFF_NO_PI, IFF_NO_PI dropped\n"
		"  by -p, IFF_MULTI_QUEUE added by -m. Prints \"attached NAME\".\n"
		"  -w: then holds the queue until SIGTERM or SIGINT.\n"
		"Exit status: 0 attached, 1 refused (the errno is printed), 2 usage.\n");
	exit(2);
}

int main(int argc, char **argv)
{
	int flags = IFF_TUN | IFF_NO_PI, hold = 0, fd, c;
	char name[IFNAMSIZ];
	sigset_t stop;

	while ((c = getopt(argc, argv, "d:t:pmwh")) != -1) {
		switch (c) {
		case 'd':
			setenv("KTUN_DEV", optarg, 1);
			break;
		case 't':
			flags &= ~(IFF_TUN | IFF_TAP);
			if (!strcmp(optarg, "tun"))
				flags |= IFF_TUN;
			else if (!strcmp(optarg, "tap"))
				flags |= IFF_TAP;
			else
				usage();
			break;
		case 'p':
			flags &= ~IFF_NO_PI;
			break;
		case 'm':
			flags |= IFF_MULTI_QUEUE;
			break;
		case 'w':
			hold = 1;
			break;
		default:
			usage();
		}
	}
	if (optind != argc - 1 || strlen(argv[optind]) >= IFNAMSIZ)
		usage();

	fd = ktun_open(argv[optind], flags, name);
	if (fd < 0) {
		fprintf(stderr, "ktun-open: TUNSETIFF %s (flags 0x%x) via %s: %s\n",
			argv[optind], flags, ktun_path(), strerror(-fd));
		return 1;
	}
	printf("attached %s\n", name);
	fflush(stdout);
	if (hold) {
		/* Taken, not fatal: the fd is closed below, as a client would. */
		sigemptyset(&stop);
		sigaddset(&stop, SIGTERM);
		sigaddset(&stop, SIGINT);
		sigprocmask(SIG_BLOCK, &stop, NULL);
		sigwait(&stop, &c);
	}
	close(fd);
	return 0;
}
