#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Copyright (C) 2026 The ktun authors.
#
# tests/openvpn.sh: Debian's OpenVPN 2.6, unmodified, point-to-point over
# the driver under test, in --dev tun and in --dev tap mode; and its
# --mktun/--rmtun, whose persistent devices an unprivileged user can open.
#
#   netns openvpn-a                                 netns openvpn-b
#   ping, iperf3 -c                                 iperf3 -s
#   openvpn --dev tun|tap --ping 1                  openvpn --dev tun|tap --ping 1
#     tun0 10.80.0.1 (tun) ........ tunnel ........   tun0 10.80.0.2
#     tap0 10.81.0.1/24 (tap) ..... tunnel ........   tap0 10.81.0.2/24
#   sc-a 10.79.0.1/24 ------------- veth ------------ sc-b 10.79.0.2/24
#                        (UDP 1194 both ways)
#
#   openvpn --mktun --dev mktun0 --user nobody --group nogroup  (in openvpn-a)
#   ktun-open mktun0 as nobody (setpriv): attaches; as a stranger: EPERM
#   openvpn --rmtun --dev mktun0: gone
#
# The node: --dev-node /dev/net/ktun in ktun mode; OpenVPN's default,
# /dev/net/tun, in compat and stock mode.
#
# No key: point-to-point without --secret runs with --cipher none and --auth
# none. Static keys (--secret) are deprecated in 2.6 and need an explicit
# --cipher (their default, BF-CBC, is gone from OpenSSL 3), and TLS needs a
# PKI; either only adds userspace crypto, slow under TCG, while the driver
# sees the same pattern of one read or write per packet with poll between.
#
# Cases: tun_up tun_ping tun_iperf3 tun_stable, the same for tap; then
# mktun_tun and mktun_tap (--user and --group), mktun_group (--group only)
# and mktun_both (who may attach when both are set).
set -e
# shellcheck source=tests/scenario.bash
. "$(dirname "$0")/scenario.bash"

sc_begin openvpn
sc_topology

NODE=()
[ "$SC_DEV" = /dev/net/tun ] || NODE=(--dev-node "$SC_DEV")

# Log lines that mean the tunnel went down or OpenVPN restarted.
RESTART='SIGUSR1|SIGHUP|SIGTERM|Inactivity timeout|process restarting|Restart pause|Exiting'

inner() {	# mode side
	case $1 in
	tun)	echo "10.80.0.$2" ;;
	tap)	echo "10.81.0.$2" ;;
	esac
}

# Starts both ends and waits for both to complete their initialization.
vpn_up() {	# mode
	local mode=$1 side ns l r ifc dev t0
	t0=${EPOCHREALTIME/./}
	for side in b a; do
		if [ $side = a ]; then ns=$A l=1 r=2; else ns=$B l=2 r=1; fi
		if [ "$mode" = tun ]; then
			ifc=("$(inner tun $l)" "$(inner tun $r)")
		else
			ifc=("$(inner tap $l)" 255.255.255.0)
		fi
		sc_daemon -n "$ns" "vpn-$mode-$side" openvpn --dev "$mode" "${NODE[@]}" \
			--disable-dco --proto udp --local "10.79.0.$l" --remote "10.79.0.$r" \
			--ifconfig "${ifc[@]}" --ping 1 --ping-restart 15 --verb 3
	done
	for side in a b; do
		sc_wait_log "vpn-$mode-$side" 60 'Initialization Sequence Completed'
		sc_log_has "vpn-$mode-$side" "$RESTART" && sc_fail "vpn-$mode-$side restarted while coming up"
		dev=$(sed -nE 's/.*TUN\/TAP device ([^ ]+) opened.*/\1/p' "$SC_TMP/vpn-$mode-$side.log" | head -n 1)
		[ -n "$dev" ] || sc_fail "vpn-$mode-$side: no 'TUN/TAP device ... opened' in its log"
		echo "$dev" >"$SC_TMP/dev-$mode-$side"
		sc_pid "vpn-$mode-$side" >"$SC_TMP/pid-$mode-$side"
	done
	sc_echo "#   both ends initialized after $(((${EPOCHREALTIME/./} - t0) / 1000)) ms, devices $dev"
	# The device is the driver under test's: its link kind says so.
	for side in a b; do
		[ $side = a ] && ns=$A || ns=$B
		dev=$(cat "$SC_TMP/dev-$mode-$side")
		ip -n "$ns" -d link show dev "$dev" | sed -n 3p | grep -Eq "^ +$SC_KIND( |$)" ||
			sc_fail "$dev in $ns is not a $SC_KIND device: $(ip -n "$ns" -d link show dev "$dev" | sed -n 3p)"
	done
}

vpn_ping() {	# mode
	sc_requires "$1_up"
	sc_ping "$A" "$(inner "$1" 2)" 5
	sc_echo "#   rtt avg $SC_RTT ms"
}

vpn_iperf3() {	# mode
	local mode=$1 dev rx tx
	sc_requires "${mode}_up"
	dev=$(cat "$SC_TMP/dev-$mode-b")
	rx=$(ip netns exec "$B" cat "/sys/class/net/$dev/statistics/rx_bytes")
	sc_iperf3 "$B" "$(inner "$mode" 2)" "$A" 2
	sc_echo "#   $SC_MBPS Mbit/s through the $mode tunnel"
	# What iperf3 received came in through B's device: its counter moved
	# by at least as much.
	tx=$(ip netns exec "$B" cat "/sys/class/net/$dev/statistics/rx_bytes")
	[ $((tx - rx)) -ge "$SC_BYTES" ] ||
		sc_fail "$dev in $B counted $((tx - rx)) rx bytes for $SC_BYTES received by iperf3"
}

# The same processes, still running, never restarted, and still passing
# traffic at the end.
vpn_stable() {	# mode
	local mode=$1 side
	sc_requires "${mode}_up"
	for side in a b; do
		sc_alive "vpn-$mode-$side" || { sc_log "vpn-$mode-$side"; sc_fail "vpn-$mode-$side exited"; }
		[ "$(sc_pid "vpn-$mode-$side")" = "$(cat "$SC_TMP/pid-$mode-$side")" ] ||
			sc_fail "vpn-$mode-$side changed pid"
		if sc_log_has "vpn-$mode-$side" "$RESTART"; then
			grep -E "$RESTART" "$SC_TMP/vpn-$mode-$side.log" | sed 's/^/#   /'
			sc_fail "vpn-$mode-$side restarted"
		fi
	done
	sc_ping "$A" "$(inner "$mode" 2)" 2
}

for mode in tun tap; do
	sc_case "${mode}_up" vpn_up $mode
	sc_case "${mode}_ping" vpn_ping $mode
	sc_case "${mode}_iperf3" vpn_iperf3 $mode
	sc_case "${mode}_stable" vpn_stable $mode
	sc_stop
done

# ktun-open as uid:gid in netns A (the node is 0666 here, see sc_begin);
# prints its error (if any) and returns its status.
open_as() {	# uid gid dev mode
	na setpriv --reuid="$1" --regid="$2" --clear-groups \
		"$SC_BIN/ktun-open" -t "$4" "$3" 2>&1
}

may_open() {	# uid gid dev mode
	local out
	out=$(open_as "$@") || sc_fail "uid $1 gid $2 could not attach $3: $out"
}

may_not_open() {	# uid gid dev mode why
	local out
	if out=$(open_as "$1" "$2" "$3" "$4"); then
		sc_fail "uid $1 gid $2 attached $3 ($5)"
	fi
	[[ "$out" == *"Operation not permitted"* ]] || sc_fail "uid $1 gid $2: $out"
}

# openvpn --mktun DEV with ARGS (--user/--group); checks that the device
# is persistent with that owner and group.
mktun() {	# dev mode owner group args...
	local dev=$1 mode=$2 owner=$3 group=$4 attrs flags o g
	shift 4
	sc_dev_del "$dev" "$A"
	sc_q na openvpn --mktun --dev "$dev" --dev-type "$mode" "${NODE[@]}" "$@"
	# shellcheck disable=SC2016
	attrs=$(ip netns exec "$A" sh -c 'cd "/sys/class/net/$1" && echo $(cat tun_flags owner group)' sh "$dev") ||
		sc_fail "--mktun made no $dev"
	read -r flags o g <<<"$attrs"
	sc_echo "#   $dev: tun_flags $flags owner $o group $g"
	[ $((flags & 0x800)) -ne 0 ] || sc_fail "$dev is not persistent (tun_flags $flags)"	# IFF_PERSIST
	[ "$o" = "$owner" ] || sc_fail "$dev's owner is $o, not $owner"
	[ "$g" = "$group" ] || sc_fail "$dev's group is $g, not $group"
}

rmtun() {	# dev mode
	sc_q na openvpn --rmtun --dev "$1" --dev-type "$2" "${NODE[@]}"
	if ip -n "$A" link show dev "$1" >/dev/null 2>&1; then
		sc_fail "--rmtun left $1"
	fi
}

# nobody (65534) and nogroup (65534) own it; 65533 is neither.
mktun_user() {	# mode
	mktun mktun0 "$1" 65534 65534 --user nobody --group nogroup
	may_open 65534 65534 mktun0 "$1"
	may_not_open 65533 65533 mktun0 "$1" "neither owner nor in group"
	rmtun mktun0 "$1"
}

mktun_group() {	# mode
	mktun mktun0 "$1" -1 65534 --group nogroup
	may_open 65533 65534 mktun0 "$1"
	may_not_open 65534 65533 mktun0 "$1" "not in the group"
	rmtun mktun0 "$1"
}

# With both an owner and a group set, the 6.1 stock driver (the VM's
# kernel, tun_not_capable()) wants the task to match both. Later kernels
# accept either ("tun: fix group permission check", late 2024); ktun must
# behave as the stock driver it replaces.
mktun_both() {
	mktun mktun0 tun 65534 65534 --user nobody --group nogroup
	may_not_open 65533 65534 mktun0 tun "in the group, but not the owner"
	may_not_open 65534 65533 mktun0 tun "the owner, but not in the group"
	rmtun mktun0 tun
}

sc_case mktun_tun mktun_user tun
sc_case mktun_tap mktun_user tap
sc_case mktun_group mktun_group tun
sc_case mktun_both mktun_both
