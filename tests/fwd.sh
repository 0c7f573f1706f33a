#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Copyright (C) 2026 The ktun authors.
#
# tests/fwd.sh: ktun-fwd, the rings' real consumer, as a tunnel between two
# namespaces over the driver under test: with read()/write() on every
# driver (rw), with ktun's rings where the driver is ktun and has them
# (ring), and with two queues.
#
#   netns fwd-a                                     netns fwd-b
#   ping, iperf3 -c (TCP; UDP, 64-byte packets)     iperf3 -s
#   ktun-fwd -i kfwd --io rw|ring                   ktun-fwd -i kfwd --io rw|ring
#     -l 10.79.0.1:7100 -r 10.79.0.2:7100             -l 10.79.0.2:7100 -r 10.79.0.1:7100
#     kfwd 10.83.0.1/24 ........... tunnel .........  kfwd 10.83.0.2/24
#   sc-a 10.79.0.1/24 -------------- veth ----------- sc-b 10.79.0.2/24
#                    (UDP 7100, and 7101 for queue 1)
#
# ktun-fwd sets the MTU (1472: the tunnel's datagrams fit the veth's 1500);
# the script gives the addresses and brings the interfaces up. IPv6 is off
# in both namespaces, so that nothing but the test's traffic crosses the
# tunnel and the counters can be compared exactly.
#
# Cases, for each mode: up, ping (both ways), iperf3 (TCP), udp64 (a flow of
# 64-byte IP packets: every one sent is received or counted as dropped
# somewhere on the way), counters (ktun-fwd's agree with the interfaces'),
# peer_restart (one end goes and comes back; the other lives on), dev_del
# (deleting the interface under ktun-fwd ends it with an error), stop
# (SIGTERM: a clean exit, the interface gone). Then mq_rw, mq_ring: two
# queues each way. And usage: bad options, a missing node, and rings asked
# of a driver without them, each with its exit status.
set -e
# shellcheck source=tests/scenario.bash
. "$(dirname "$0")/scenario.bash"

sc_begin fwd
sc_topology
for ns in "$A" "$B"; do
	sc_ns "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
done

FWD=$SC_BIN/ktun-fwd
[ -x "$FWD" ] || sc_fail "$FWD is not built (make tools)"

side_of() {	# a|b: sets ns, l (own host number), r (the peer's)
	if [ "$1" = a ]; then ns=$A l=1 r=2; else ns=$B l=2 r=1; fi
}

# Starts one end and configures its interface once ktun-fwd is ready.
fwd_start() {	# tag side io queues
	local tag=$1 ns l r
	side_of "$2"
	sc_daemon -n "$ns" "$tag" "$FWD" -d "$SC_DEV" -i kfwd --io "$3" -q "$4" \
		-l "10.79.0.$l:7100" -r "10.79.0.$r:7100" -v
	# A ktun without rings is not a failure of this script: skip.
	sc_wait 30 "ready or exit of $tag" eval "sc_log_has $tag 'kfwd ready:' || ! sc_alive $tag"
	if ! sc_log_has "$tag" 'kfwd ready:'; then
		sc_log "$tag"
		sc_log_has "$tag" 'offers no rings' && sc_skip "$SC_DEV has no rings"
		sc_fail "$tag exited before it was ready"
	fi
	sc_log_has "$tag" "io $3," || sc_fail "$tag does not run with io $3: $(cat "$SC_TMP/$tag.log")"
	sc_ns "$ns" ip addr add "10.83.0.$l/24" dev kfwd
	sc_ns "$ns" ip link set kfwd up
}

fwd_up() {	# mode queues
	local kind
	[ "$1" = ring ] && [ "$SC_DRIVER" = stock ] && sc_skip "rings need ktun"
	fwd_start "fwd-$1-b" b "$1" "$2"
	fwd_start "fwd-$1-a" a "$1" "$2"
	# The interface is the driver under test's.
	kind=$(ip -n "$A" -d link show dev kfwd | sed -n 3p | awk '{ print $1 }')
	[ "$kind" = "$SC_KIND" ] || sc_fail "kfwd is a '$kind' device, not $SC_KIND"
	[ "$(ip netns exec "$A" cat /sys/class/net/kfwd/mtu)" = 1472 ] || sc_fail "kfwd's MTU is not 1472"
	sc_pid "fwd-$1-a" >"$SC_TMP/pid-$1-a"
}

fwd_ping() {	# mode
	sc_requires "$1_up"
	sc_ping "$A" 10.83.0.2 5
	sc_ping "$B" 10.83.0.1 5
}

fwd_iperf3() {	# mode
	local rx0 rx1
	sc_requires "$1_up"
	rx0=$(ip netns exec "$B" cat /sys/class/net/kfwd/statistics/rx_bytes)
	sc_iperf3 "$B" 10.83.0.2 "$A" 2
	sc_echo "#   $SC_MBPS Mbit/s through ktun-fwd ($1)"
	rx1=$(ip netns exec "$B" cat /sys/class/net/kfwd/statistics/rx_bytes)
	[ $((rx1 - rx0)) -ge "$SC_BYTES" ] ||
		sc_fail "kfwd in $B counted $((rx1 - rx0)) rx bytes for $SC_BYTES received by iperf3"
}

# The lines of FILE that match ERE, counted with builtins only.
count_lines() {	# file ere
	local line n=0
	while IFS= read -r line; do
		[[ $line =~ $2 ]] && n=$((n + 1))
	done <"$1"
	echo "$n"
}

# ktun-fwd's counters (SIGUSR1), summed over its QUEUES (default 1):
# FWD_OUT and FWD_OUT_DROP (device to peer), FWD_IN and FWD_IN_DROP (peer
# to device).
fwd_counters() {	# tag [queues]
	local log=$SC_TMP/$1.log want n line re
	re='dev->udp ([0-9]+) packets [0-9]+ bytes ([0-9]+) dropped; udp->dev ([0-9]+) packets [0-9]+ bytes ([0-9]+) dropped'
	want=$(($(count_lines "$log" 'dev->udp') + ${2:-1}))
	kill -USR1 "$(sc_pid "$1")"
	sc_wait 10 "counters from $1" eval "[ \$(count_lines '$log' 'dev->udp') -ge $want ]"
	FWD_OUT=0 FWD_OUT_DROP=0 FWD_IN=0 FWD_IN_DROP=0
	n=0
	while IFS= read -r line; do
		[[ $line =~ $re ]] || continue
		n=$((n + 1))
		[ "$n" -gt $((want - ${2:-1})) ] || continue
		FWD_OUT=$((FWD_OUT + BASH_REMATCH[1])) FWD_OUT_DROP=$((FWD_OUT_DROP + BASH_REMATCH[2]))
		FWD_IN=$((FWD_IN + BASH_REMATCH[3])) FWD_IN_DROP=$((FWD_IN_DROP + BASH_REMATCH[4]))
	done <"$log"
}

# Every counter that a packet lost between A's stack and B's socket
# would have moved: both interfaces' and veths' drops, both namespaces' UDP
# errors (InErrors includes RcvbufErrors; SndbufErrors takes a qdisc's
# drops) and IP discards, and both ktun-fwds' own drops.
drops() {	# mode
	local ns veth total=0 v
	for ns in "$A" "$B"; do
		[ "$ns" = "$A" ] && veth=sc-a || veth=sc-b
		# One process per namespace: under TCG each costs a good part of a second.
		# shellcheck disable=SC2016
		v=$(ip netns exec "$ns" awk '
			FILENAME ~ /^\/sys/ { s += $1; next }
			/^(Udp|Ip):/ {
				if (!($1 in hdr)) { hdr[$1] = 1; for (i = 2; i <= NF; i++) k[$1, i] = $i; next }
				for (i = 2; i <= NF; i++)
					if (k[$1, i] ~ /^(InErrors|SndbufErrors|InDiscards|OutDiscards|InHdrErrors)$/) s += $i
			}
			END { print s + 0 }' /sys/class/net/{kfwd,$veth}/statistics/{tx,rx}_dropped /proc/net/snmp)
		total=$((total + v))
	done
	fwd_counters "fwd-$1-a"
	total=$((total + FWD_OUT_DROP + FWD_IN_DROP))
	fwd_counters "fwd-$1-b"
	echo $((total + FWD_OUT_DROP + FWD_IN_DROP))
}

# "tx_packets rx_packets" of kfwd in A and in B, on one line.
kfwd_packets() {
	local ns
	for ns in "$A" "$B"; do
		ip netns exec "$ns" cat /sys/class/net/kfwd/statistics/tx_packets \
			/sys/class/net/kfwd/statistics/rx_packets
	done | paste -sd ' '
}

# 64-byte IP packets (36 bytes of UDP payload) from A to B for 2 s, at a
# rate (about 1000/s) that a quiet VM carries without loss. No timing is
# asserted. iperf3 counts what arrives before the test ends, not what is
# still in flight, so the tunnel's books are kept with the interfaces'
# counters once the traffic has settled: every packet into the tunnel (a
# kfwd's tx) came out of it (the other kfwd's rx) or shows in a drop counter.
fwd_udp64() {	# mode
	local d0 d1 out sent lost total rcvd at0 ar0 bt0 br0 at1 ar1 bt1 br1 in tunnel_out prev now
	sc_requires "$1_up"
	d0=$(drops "$1")
	read -r at0 ar0 bt0 br0 < <(kfwd_packets)
	sc_daemon -n "$B" iperf3-server iperf3 -s -1 -B 10.83.0.2
	sc_wait 20 "iperf3 server listening" \
		eval "ip netns exec '$B' ss -Hltn 'src 10.83.0.2:5201' | grep -q ."
	sc_echo "# [$A] iperf3 -c 10.83.0.2 -u -l 36 -b 300K -t 2"
	out=$(ip netns exec "$A" timeout -k 5 45 iperf3 -c 10.83.0.2 -u -l 36 -b 300K -t 2 2>&1) ||
		{ echo "$out" | sed 's/^/#   /'; sc_fail "iperf3 -u failed"; }
	sc_stop iperf3-server
	echo "$out" | grep -E 'sender|receiver' | sed 's/^/#   /'
	# "lost/total (pct)": the sender's total is what it sent; the
	# receiver's total less its lost is what arrived in time.
	sent=$(echo "$out" | sed -nE 's#.* ([0-9]+)/([0-9]+) \(.*sender$#\2#p')
	read -r lost total < <(echo "$out" | sed -nE 's#.* ([0-9]+)/([0-9]+) \(.*receiver$#\1 \2#p')
	[ -n "$sent" ] && [ -n "$total" ] || sc_fail "no sender/receiver lines from iperf3"
	rcvd=$((total - lost))
	[ "$rcvd" -gt 0 ] || sc_fail "no 64-byte packet crossed the tunnel"
	# Settled: the counters stand still for a second.
	prev=
	for _ in {1..20}; do
		now=$(kfwd_packets)
		[ "$now" = "$prev" ] && break
		prev=$now
		sleep 1
	done
	read -r at1 ar1 bt1 br1 <<<"$now"
	d1=$(drops "$1")
	in=$((at1 - at0 + bt1 - bt0)) tunnel_out=$((ar1 - ar0 + br1 - br0))
	sc_echo "#   iperf3: $sent sent, $rcvd received in time; tunnel: $in packets in," \
		"$tunnel_out out, $((d1 - d0)) drops counted on the way"
	[ $((at1 - at0)) -ge "$sent" ] || [ $((at1 - at0 + d1 - d0)) -ge "$sent" ] ||
		sc_fail "$sent packets sent, only $((at1 - at0)) entered the tunnel and $((d1 - d0)) counted as dropped"
	[ $((in - tunnel_out)) -le $((d1 - d0)) ] ||
		sc_fail "$((in - tunnel_out)) packets lost in the tunnel, only $((d1 - d0)) counted as dropped"
}

# With the tunnel quiet, every packet each ktun-fwd read from its interface
# is one the interface counted as sent, and every packet it handed over one
# the interface counted as received, or as dropped (a write refused, which
# ktun-fwd counts among its drops with the datagrams it could not use).
fwd_counters_case() {	# mode
	local side ns tx rx rxd
	sc_requires "$1_up"
	for side in a b; do
		side_of $side
		fwd_counters "fwd-$1-$side"
		tx=$(ip netns exec "$ns" cat /sys/class/net/kfwd/statistics/tx_packets)
		rx=$(ip netns exec "$ns" cat /sys/class/net/kfwd/statistics/rx_packets)
		rxd=$(ip netns exec "$ns" cat /sys/class/net/kfwd/statistics/rx_dropped)
		sc_echo "#   $side: ktun-fwd read $FWD_OUT (+$FWD_OUT_DROP not sent)," \
			"wrote $FWD_IN (+$FWD_IN_DROP dropped); kfwd tx_packets $tx," \
			"rx_packets $rx, rx_dropped $rxd"
		[ "$FWD_IN" -gt 0 ] && [ "$FWD_OUT" -gt 0 ] || sc_fail "$side: ktun-fwd moved nothing"
		[ $((FWD_OUT + FWD_OUT_DROP)) = "$tx" ] ||
			sc_fail "$side: ktun-fwd took $((FWD_OUT + FWD_OUT_DROP)) packets, kfwd sent $tx"
		# rx + rxd = FWD_IN + the refused writes, if the kernel drops
		# (rx_dropped) some of what ktun-fwd handed over (ring mode).
		[ "$rx" -le "$FWD_IN" ] && [ $((rx + rxd)) -ge "$FWD_IN" ] &&
			[ $((rx + rxd)) -le $((FWD_IN + FWD_IN_DROP)) ] ||
			sc_fail "$side: ktun-fwd gave $FWD_IN packets (+$FWD_IN_DROP dropped), kfwd took $rx (+$rxd dropped)"
	done
}

# B goes away (its interface with it) and comes back; A, the same process,
# carries on: the refused datagrams in between cost it nothing but drops.
fwd_peer_restart() {	# mode
	sc_requires "$1_up"
	sc_stop "fwd-$1-b"
	sc_log_has "fwd-$1-b" 'kfwd stopped by SIGTERM' || { sc_log "fwd-$1-b"; sc_fail "B did not stop cleanly"; }
	ip -n "$B" link show dev kfwd >/dev/null 2>&1 && sc_fail "B's kfwd outlived its ktun-fwd"
	# Into the void: ICMP port unreachable comes back to A.
	ip netns exec "$A" ping -c 3 -i 0.2 -W 1 10.83.0.2 >/dev/null 2>&1 || true
	sc_alive "fwd-$1-a" || { sc_log "fwd-$1-a"; sc_fail "A died while B was away"; }
	fwd_start "fwd-$1-b" b "$1" 1
	sc_ping "$A" 10.83.0.2 3
	[ "$(sc_pid "fwd-$1-a")" = "$(cat "$SC_TMP/pid-$1-a")" ] || sc_fail "A is not the same process"
}

fwd_dev_del() {	# mode
	sc_requires "$1_up"
	sc_ns "$A" ip link del dev kfwd
	sc_wait 10 "exit of A's ktun-fwd" eval "! sc_alive fwd-$1-a"
	sc_log "fwd-$1-a" 4
	sc_log_has "fwd-$1-a" 'interface was deleted' || sc_fail "A did not say the interface was deleted"
	sc_log_has "fwd-$1-a" 'kfwd stopped on an error' || sc_fail "A did not stop on an error"
}

fwd_stop_case() {	# mode
	sc_requires "$1_up"
	sc_stop "fwd-$1-b"
	sc_log "fwd-$1-b" 4
	sc_log_has "fwd-$1-b" 'kfwd stopped by SIGTERM' || sc_fail "B did not stop cleanly"
	sc_log_has "fwd-$1-b" 'udp->dev [1-9][0-9]* packets' || sc_fail "B printed no counters at exit"
	ip -n "$B" link show dev kfwd >/dev/null 2>&1 && sc_fail "B's kfwd outlived its ktun-fwd"
	return 0
}

for mode in rw ring; do
	sc_case "${mode}_up" fwd_up $mode 1
	sc_case "${mode}_ping" fwd_ping $mode
	sc_case "${mode}_iperf3" fwd_iperf3 $mode
	sc_case "${mode}_udp64" fwd_udp64 $mode
	sc_case "${mode}_counters" fwd_counters_case $mode
	sc_case "${mode}_peer_restart" fwd_peer_restart $mode
	sc_case "${mode}_dev_del" fwd_dev_del $mode
	sc_case "${mode}_stop" fwd_stop_case $mode
	sc_stop
done

# Two queues each way: queue q is UDP port 7100 + q at both ends.
fwd_mq() {	# mode
	local side ns l r q
	[ "$1" = ring ] && [ "$SC_DRIVER" = stock ] && sc_skip "rings need ktun"
	fwd_start "mq-$1-b" b "$1" 2
	fwd_start "mq-$1-a" a "$1" 2
	sc_ping "$A" 10.83.0.2 3
	sc_ping "$B" 10.83.0.1 3
	sc_iperf3 "$B" 10.83.0.2 "$A" 1
	for side in a b; do
		side_of $side
		q=$(ip netns exec "$ns" ss -Hun state connected | grep -c ":710[01] ")
		[ "$q" = 2 ] || sc_fail "$side: $q of 2 queue sockets"
	done
	fwd_counters "mq-$1-b" 2
	[ "$FWD_IN" -gt 0 ] || sc_fail "B wrote nothing"
	sc_stop "mq-$1-a" "mq-$1-b"
	sc_log_has "mq-$1-a" 'kfwd queue 1:' || sc_fail "A printed no counters for queue 1"
}
sc_case mq_rw fwd_mq rw
sc_case mq_ring fwd_mq ring

# Exit status and message of ktun-fwd ARGS... in netns A.
expect_exit() {	# status pattern args...
	local want=$1 re=$2 out rc=0
	shift 2
	sc_echo "# [$A] ktun-fwd $*"
	out=$(ip netns exec "$A" "$FWD" "$@" 2>&1) || rc=$?
	[ "$rc" = "$want" ] || sc_fail "ktun-fwd $*: exit $rc, not $want: $out"
	[[ "$out" =~ $re ]] || sc_fail "ktun-fwd $*: no /$re/ in: $out"
}

fwd_usage() {
	local lr=(-l 10.79.0.1:7100 -r 10.79.0.2:7100)
	expect_exit 0 'usage: ktun-fwd' --help
	expect_exit 2 'usage: ktun-fwd' -l 10.79.0.1:7100
	expect_exit 2 'usage: ktun-fwd' "${lr[@]}" --bogus
	expect_exit 2 'batch must be 1\.\.' "${lr[@]}" -b 0
	expect_exit 2 'queues must be 1\.\.' "${lr[@]}" -q 99
	expect_exit 2 'io is ring, rw or auto' "${lr[@]}" --io fast
	expect_exit 2 'bad address' -l 10.79.0.1:7100 -r nowhere
	expect_exit 1 'No such file' "${lr[@]}" -d /dev/net/nonexistent
	expect_exit 1 'Address already in use|Cannot assign' -d "$SC_DEV" -l 10.79.0.9:7100 -r 10.79.0.2:7100
	if [ "$SC_DRIVER" = stock ]; then
		expect_exit 1 'offers no rings' -d "$SC_DEV" --io ring "${lr[@]}"
	fi
}
sc_case usage fwd_usage
