#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Copyright (C) 2026 The ktun authors.
#
# tests/wireguard.sh: Debian's wireguard-go, unmodified, between two
# namespaces over the driver under test: handshake, ping, iperf3, and
# wireguard-go's offload path (vnet header with TSO, USO where the kernel
# has it) when the wireguard-go in use has one.
#
#   netns wireguard-a                               netns wireguard-b
#   ping, iperf3 -c                                 iperf3 -s
#   wireguard-go kwga (foreground)                  wireguard-go kwgb
#     kwga 10.82.0.1/24 ........ tunnel ........      kwgb 10.82.0.2/24
#     listen-port 51820                               listen-port 51820
#   sc-a 10.79.0.1/24 ------------- veth ------------ sc-b 10.79.0.2/24
#
# wireguard-go opens only /dev/net/tun, which in this script's mount
# namespace is the driver under test (see sc_begin), ktun in ktun mode too.
# Its UAPI sockets live in one /run/wireguard, hence two names (kwga, kwgb).
# Userspace crypto is slow under TCG: iperf3 runs for 2 s only.
set -e
# shellcheck source=tests/scenario.bash
. "$(dirname "$0")/scenario.bash"

sc_begin wireguard
sc_topology

K=$SC_TMP
wg genkey >"$K/a.key" 2>/dev/null
wg genkey >"$K/b.key" 2>/dev/null
wg pubkey <"$K/a.key" >"$K/a.pub"
wg pubkey <"$K/b.key" >"$K/b.pub"

# Each end: wireguard-go in the foreground, configured once its UAPI
# socket is there.
wg_up() {
	local side=$1 ns peer l r
	if [ "$side" = a ]; then ns=$A peer=b l=1 r=2; else ns=$B peer=a l=2 r=1; fi
	sc_daemon -n "$ns" "wg-$side" env WG_PROCESS_FOREGROUND=1 LOG_LEVEL=verbose \
		wireguard-go "kwg$side"
	sc_wait_log "wg-$side" 60 'UAPI listener started'
	sc_ns "$ns" wg set "kwg$side" private-key "$K/$side.key" listen-port 51820 \
		peer "$(cat "$K/$peer.pub")" endpoint "10.79.0.$r:51820" allowed-ips "10.82.0.$r/32"
	sc_ns "$ns" ip addr add "10.82.0.$l/24" dev "kwg$side"
	sc_ns "$ns" ip link set "kwg$side" up
}

case_up() {
	local kind
	wg_up a
	wg_up b
	# The interface is the driver under test's.
	kind=$(ip -n "$A" -d link show dev kwga | sed -n 3p | awk '{ print $1 }')
	[ "$kind" = "$SC_KIND" ] || sc_fail "kwga is a '$kind' device, not $SC_KIND"
}

# The first packet starts the handshake; it is done when both ends have a
# handshake time.
case_handshake() {
	sc_requires up
	sc_ping "$A" 10.82.0.2 1
	sc_wait 30 "handshake" eval '
		[ "$(ip netns exec "$A" wg show kwga latest-handshakes | awk "{ print \$2 }")" -gt 0 ] &&
		[ "$(ip netns exec "$B" wg show kwgb latest-handshakes | awk "{ print \$2 }")" -gt 0 ]'
	sc_q na wg show kwga
}

case_ping() {
	sc_requires handshake
	sc_ping "$A" 10.82.0.2 5
	sc_ping "$B" 10.82.0.1 5
}

case_iperf3() {
	local rx0 rx1
	sc_requires handshake
	rx0=$(ip netns exec "$B" cat /sys/class/net/kwgb/statistics/rx_bytes)
	sc_iperf3 "$B" 10.82.0.2 "$A" 2
	sc_echo "#   $SC_MBPS Mbit/s through wireguard-go"
	# wireguard-go wrote what iperf3 received into B's device, which
	# counts what its file writes as received.
	rx1=$(ip netns exec "$B" cat /sys/class/net/kwgb/statistics/rx_bytes)
	[ $((rx1 - rx0)) -ge "$SC_BYTES" ] ||
		sc_fail "kwgb counted $((rx1 - rx0)) rx bytes for $SC_BYTES received by iperf3"
}

# wireguard-go's offload path (0.0.20230223 and later): it opens the device
# with IFF_VNET_HDR, turns on TUNSETOFFLOAD's checksum and TSO (and USO
# where the kernel has it), reads TSO super-packets and writes
# GRO-coalesced ones. Debian 12's wireguard-go (0.0.20220316) predates
# that and opens the device with IFF_TUN and tun_pi only: then the case
# says so and is skipped; tests/vnet.c covers the same offloads directly.
case_offload() {
	local flags side f ns dev tx_b tx_p rx_b rx_p
	sc_requires iperf3
	flags=$(ip netns exec "$A" cat /sys/class/net/kwga/tun_flags)
	sc_echo "#   kwga tun_flags $flags"
	if [ $((flags & 0x4000)) -eq 0 ]; then
		sc_skip "$(wireguard-go --version 2>&1 | head -1) opens the device without IFF_VNET_HDR (tun_flags $flags): its TUN offloads came in 0.0.20230223"
	fi
	for side in a b; do
		if [ "$side" = a ]; then ns=$A; else ns=$B; fi
		dev=kwg$side
		ip netns exec "$ns" ethtool -k "$dev" >"$SC_TMP/k.$side"
		sc_q grep -E 'segmentation|checksum' "$SC_TMP/k.$side"
		for f in tx-tcp-segmentation tx-tcp6-segmentation tx-checksum-ip-generic; do
			grep -q "^	*$f: on" "$SC_TMP/k.$side" || sc_fail "$dev: $f is not on"
		done
		if grep -q "^	*tx-udp-segmentation: on" "$SC_TMP/k.$side"; then
			sc_echo "#   $dev: USO on"
		else
			sc_echo "#   $dev: USO off (kernel $(uname -r) or the driver has no TUN_F_USO4/6)"
		fi
	done
	# Super-packets crossed: more bytes per packet than the MTU allows.
	tx_b=$(ip netns exec "$A" cat /sys/class/net/kwga/statistics/tx_bytes)
	tx_p=$(ip netns exec "$A" cat /sys/class/net/kwga/statistics/tx_packets)
	rx_b=$(ip netns exec "$B" cat /sys/class/net/kwgb/statistics/rx_bytes)
	rx_p=$(ip netns exec "$B" cat /sys/class/net/kwgb/statistics/rx_packets)
	sc_echo "#   kwga tx $tx_b bytes in $tx_p packets, kwgb rx $rx_b bytes in $rx_p packets"
	[ $((tx_b / tx_p)) -gt 1420 ] || sc_fail "kwga: no TSO super-packets read (avg $((tx_b / tx_p)) bytes)"
	[ $((rx_b / rx_p)) -gt 1420 ] || sc_fail "kwgb: no coalesced packets written (avg $((rx_b / rx_p)) bytes)"
}

# Still the same processes, and no complaint about the device in their logs.
case_stable() {
	local side
	sc_requires up
	for side in a b; do
		sc_alive "wg-$side" || { sc_log "wg-$side"; sc_fail "wireguard-go $side exited"; }
		if sc_log_has "wg-$side" '^ERROR'; then
			sc_log "wg-$side"
			sc_fail "wireguard-go $side logged an error"
		fi
	done
}

sc_case up case_up
sc_case handshake case_handshake
sc_case ping case_ping
sc_case iperf3 case_iperf3
sc_case offload case_offload
sc_case stable case_stable
