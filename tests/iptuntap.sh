#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Copyright (C) 2026 The ktun authors.
#
# tests/iptuntap.sh: iproute2's `ip tuntap add / show / del` (modes tun and
# tap, multi_queue, vnet_hdr, pi, one_queue, user, group) against the
# driver under test, compared with what the stock tun driver prints.
#
#   netns iptuntap-a
#     ip tuntap add dev ktq0..ktq3 ...     persistent devices, no one attached
#     ip tuntap show / ip -j tuntap show / ip -d link show / sysfs
#     ktun-open -w ktq0, ktun-open -t tap -m -w ktq1 (twice): queues held
#     ip tuntap del ...
#     ip tuntap add (no name): tun0, tap0
#
# ip tuntap speaks only /dev/net/tun, which in this script's mount
# namespace is the driver under test (see sc_begin), ktun in ktun mode too.
# There the link kind is "ktun", which `ip tuntap show` does not list (it
# lists kind "tun") and `ip -d link` cannot decode, so those comparisons
# need compat mode and are skipped in ktun mode.
#
# The expected texts are the stock driver's output on the VM's kernel (6.1,
# iproute2 6.1), interface indexes and MAC addresses masked, trailing
# blanks dropped. Owner 4242 and group 4343 have no names, so no host's
# passwd leaks in; nobody and nogroup are Debian's 65534.
#
# Cases: add (then show, link, qlen, attached and del use its devices),
# show, link, qlen, attached, del, noname.
set -e
# shellcheck source=tests/scenario.bash
. "$(dirname "$0")/scenario.bash"

sc_begin iptuntap
A=iptuntap-a
sc_netns "$A"

# ip in netns A (ip -n: one exec, where ip netns exec takes two).
t() {
	pp ip -n "$A" "$@"
}

need_tun_kind() {
	[ "$SC_KIND" = tun ] ||
		sc_skip "the link kind is $SC_KIND: ip tuntap show lists, and ip -d link decodes, kind tun only (compat mode covers it)"
}

# Compares ACTUAL with EXPECTED; on a difference prints both and fails.
same() {	# what actual expected
	if [ "$2" != "$3" ]; then
		echo "#   $1, expected (stock):"
		echo "$3" | sed 's/^/#     /'
		echo "#   $1, got:"
		echo "$2" | sed 's/^/#     /'
		diff <(echo "$3") <(echo "$2") | sed 's/^/#   /' || true
		sc_fail "$1 differs from the stock driver's"
	fi
}

# ip -d link show, indexes and MAC addresses masked, trailing blanks gone.
link_of() {	# dev...
	local d
	for d; do
		ip -n "$A" -d link show dev "$d"
	done | sed -E 's/^[0-9]+:/N:/; s/([0-9a-f]{2}:){5}[0-9a-f]{2}/MAC/g; s/ +$//'
}

# "DEV ATTR=VALUE..." from /sys/class/net/DEV/ATTR in netns A, per device,
# read by one shell's builtins.
sysfs_of() {	# "attr..." dev...
	local attrs=$1
	shift
	# shellcheck disable=SC2016
	ip netns exec "$A" bash -c '
		attrs=$1
		shift
		for d; do
			line=$d
			for a in $attrs; do
				read -r v <"/sys/class/net/$d/$a" || v=?
				line="$line $a=$v"
			done
			echo "$line"
		done' sh "$attrs" "$@"
}

DEVS=(ktq0 ktq1 ktq2 ktq3)

# Adding: the flags, owner and group as sysfs shows them. The devices stay
# for the cases that follow.
case_add() {
	local d
	for d in "${DEVS[@]}"; do
		sc_dev_del -x "$d" "$A"
	done
	t tuntap add dev ktq0 mode tun
	t tuntap add dev ktq1 mode tap multi_queue vnet_hdr user 4242 group 4343
	t tuntap add dev ktq2 mode tun pi one_queue user nobody
	t tuntap add dev ktq3 mode tap vnet_hdr group nogroup
	same "sysfs" "$(sysfs_of "tun_flags owner group type" "${DEVS[@]}")" "$(cat <<'EOF'
ktq0 tun_flags=0x1801 owner=-1 group=-1 type=65534
ktq1 tun_flags=0x5902 owner=4242 group=4343 type=1
ktq2 tun_flags=0x2801 owner=65534 group=-1 type=65534
ktq3 tun_flags=0x5802 owner=-1 group=65534 type=1
EOF
)"
}

case_show() {
	sc_requires add
	need_tun_kind
	same "ip tuntap show" "$(t tuntap show | sed 's/ *$//')" "$(cat <<'EOF'
ktq0: tun persist
ktq1: tap multi_queue vnet_hdr persist user 4242 group 4343
ktq2: tun pi one_queue persist filter user 65534
ktq3: tap vnet_hdr persist group 65534
EOF
)"
	same "ip -j tuntap show" "$(t -j tuntap show)" "$(cat <<'EOF'
[{"ifname":"ktq0","flags":["tun","persist"]},{"ifname":"ktq1","flags":["tap","multi_queue","vnet_hdr","persist"],"user":4242,"group":4343},{"ifname":"ktq2","flags":["tun","pi","one_queue","persist","filter"],"user":65534},{"ifname":"ktq3","flags":["tap","vnet_hdr","persist"],"group":65534}]
EOF
)"
}

case_link() {
	sc_requires add
	need_tun_kind
	same "ip -d link show" "$(link_of "${DEVS[@]}")" "$(cat <<'EOF'
N: ktq0: <POINTOPOINT,MULTICAST,NOARP> mtu 1500 qdisc noop state DOWN mode DEFAULT group default qlen 500
    link/none  promiscuity 0  allmulti 0 minmtu 68 maxmtu 65535
    tun type tun pi off vnet_hdr off persist on addrgenmode eui64 numtxqueues 1 numrxqueues 1 gso_max_size 65536 gso_max_segs 65535 tso_max_size 65536 tso_max_segs 65535 gro_max_size 65536
N: ktq1: <BROADCAST,MULTICAST> mtu 1500 qdisc noop state DOWN mode DEFAULT group default qlen 1000
    link/ether MAC brd MAC promiscuity 0  allmulti 0 minmtu 68 maxmtu 65521
    tun type tap pi off vnet_hdr on multi_queue numqueues 0 numdisabled 0 persist on user 4242 group 4343 addrgenmode eui64 numtxqueues 256 numrxqueues 256 gso_max_size 65536 gso_max_segs 65535 tso_max_size 65536 tso_max_segs 65535 gro_max_size 65536
N: ktq2: <POINTOPOINT,MULTICAST,NOARP> mtu 1500 qdisc noop state DOWN mode DEFAULT group default qlen 500
    link/none  promiscuity 0  allmulti 0 minmtu 68 maxmtu 65535
    tun type tun pi on vnet_hdr off persist on user nobody addrgenmode eui64 numtxqueues 1 numrxqueues 1 gso_max_size 65536 gso_max_segs 65535 tso_max_size 65536 tso_max_segs 65535 gro_max_size 65536
N: ktq3: <BROADCAST,MULTICAST> mtu 1500 qdisc noop state DOWN mode DEFAULT group default qlen 1000
    link/ether MAC brd MAC promiscuity 0  allmulti 0 minmtu 68 maxmtu 65521
    tun type tap pi off vnet_hdr on persist on group nogroup addrgenmode eui64 numtxqueues 1 numrxqueues 1 gso_max_size 65536 gso_max_segs 65535 tso_max_size 65536 tso_max_segs 65535 gro_max_size 65536
EOF
)"
}

# The transmit queue length: TAP devices are Ethernet devices, and
# ether_setup() gives them 1000; TUN devices get 500 (TUN_READQ_SIZE).
# ip link shows it as qlen, and shapers and monitoring read it.
case_qlen() {
	sc_requires add
	same "tx_queue_len" "$(sysfs_of tx_queue_len "${DEVS[@]}")" "$(cat <<'EOF'
ktq0 tx_queue_len=500
ktq1 tx_queue_len=1000
ktq2 tx_queue_len=500
ktq3 tx_queue_len=1000
EOF
)"
}

# Queues held open: ip -d tuntap show (the processes it lists are left out:
# the VM's chroot hides them from it, on every driver), numqueues, and
# ip tuntap del refused while a queue is attached.
case_attached() {
	local out
	sc_requires add
	sc_daemon -n "$A" hold0 "$SC_BIN/ktun-open" -w ktq0
	sc_daemon -n "$A" hold1 "$SC_BIN/ktun-open" -t tap -m -w ktq1
	sc_daemon -n "$A" hold2 "$SC_BIN/ktun-open" -t tap -m -w ktq1
	for h in hold0 hold1 hold2; do
		sc_wait_log $h 20 '^attached'
	done
	if out=$(t tuntap del dev ktq0 mode tun 2>&1); then
		sc_fail "ip tuntap del removed ktq0 while a queue was attached"
	fi
	same "ip tuntap del (attached)" "$out" "ioctl(TUNSETIFF): Device or resource busy"
	if [ "$SC_KIND" = tun ]; then
		same "ip -d tuntap show (attached)" \
			"$(t -d tuntap show | sed -E 's/ *$//; s/(Attached to processes:).*/\1/')" "$(cat <<'EOF'
ktq0: tun persist
	Attached to processes:
ktq1: tap multi_queue persist user 4242 group 4343
	Attached to processes:
ktq2: tun pi one_queue persist filter user 65534
	Attached to processes:
ktq3: tap vnet_hdr persist group 65534
	Attached to processes:
EOF
)"
		same "ip -d link show ktq1 (attached)" "$(link_of ktq1 | sed -n 3p)" "$(cat <<'EOF'
    tun type tap pi off vnet_hdr off multi_queue numqueues 2 numdisabled 0 persist on user 4242 group 4343 addrgenmode eui64 numtxqueues 256 numrxqueues 256 gso_max_size 65536 gso_max_segs 65535 tso_max_size 65536 tso_max_segs 65535 gro_max_size 65536
EOF
)"
	fi
	sc_stop hold0 hold1 hold2
	# Attaching without IFF_VNET_HDR took it away (TUNSETIFF sets the
	# features, as in stock).
	same "sysfs (after attach)" "$(sysfs_of "tun_flags owner group type" ktq0 ktq1)" "$(cat <<'EOF'
ktq0 tun_flags=0x1801 owner=-1 group=-1 type=65534
ktq1 tun_flags=0x1902 owner=4242 group=4343 type=1
EOF
)"
}

# Deleting: with the wrong mode or without multi_queue refused as by stock,
# then with the right flags gone.
case_del() {
	local out d
	sc_requires add
	if out=$(t tuntap del dev ktq0 mode tap 2>&1); then
		sc_fail "ip tuntap del ktq0 mode tap removed a tun device"
	fi
	same "ip tuntap del, wrong mode" "$out" "ioctl(TUNSETIFF): Invalid argument"
	if out=$(t tuntap del dev ktq1 mode tap 2>&1); then
		sc_fail "ip tuntap del without multi_queue removed a multi_queue device"
	fi
	same "ip tuntap del, no multi_queue" "$out" "ioctl(TUNSETIFF): Invalid argument"
	if out=$(t tuntap add dev ktq0 mode tun 2>&1); then
		sc_fail "ip tuntap add of an existing ktq0 succeeded"
	fi
	same "ip tuntap add, existing" "$out" "ioctl(TUNSETIFF): Device or resource busy"
	t tuntap del dev ktq0 mode tun
	t tuntap del dev ktq1 mode tap multi_queue
	t tuntap del dev ktq2 mode tun pi one_queue
	t tuntap del dev ktq3 mode tap
	for d in "${DEVS[@]}"; do
		if ip -n "$A" link show dev "$d" >/dev/null 2>&1; then
			sc_fail "ip tuntap del left $d"
		fi
	done
}

# No name: the kernel's template names, tun0 and tap0.
case_noname() {
	sc_dev_del tun0 "$A"
	sc_dev_del tap0 "$A"
	t tuntap add mode tun
	t tuntap add mode tap
	same "devices" "$(ip -n "$A" -o link show | awk -F': ' '$2 != "lo" { print $2 }')" "tun0
tap0"
	t tuntap del dev tun0 mode tun
	t tuntap del dev tap0 mode tap
}

sc_case add case_add
sc_case show case_show
sc_case link case_link
sc_case qlen case_qlen
sc_case attached case_attached
sc_case del case_del
sc_case noname case_noname
