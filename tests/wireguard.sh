#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Copyright (C) 2026 The ktun authors.
#
# tests/wireguard.sh: Debian's wireguard-go, unmodified, between two
# namespaces over the driver under test: handshake, ping, iperf3.
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
sc_case stable case_stable
