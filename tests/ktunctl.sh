#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Copyright (C) 2026 The ktun authors.
#
# tests/ktunctl.sh: the ktunctl CLI, and iproute2's own `ip link add NAME
# type ktun` (beyond the stock driver, which refuses it), in a namespace.
#
#   netns ktunctl-a
#     ktunctl add kc0 | kc1 tap pi vnet-hdr owner 4242 group 4343 |
#                 kc2 multi-queue queues 4
#     ktunctl, ktunctl -j (checked with python3 -m json.tool), ktunctl show
#     ktun-open -w kc2 (twice): queues held, counted in the listing
#     ktunctl del ..., bad usage and missing devices: their exit codes
#     ip link add kc3 type $SC_KIND, ip -d link show, ip link del
#
# Exit codes asserted: 0 done, 1 the kernel refused, 2 bad usage, 3 no
# such ktun device (man/ktunctl.8).
set -e
# shellcheck source=tests/scenario.bash
. "$(dirname "$0")/scenario.bash"

sc_begin ktunctl
A=ktunctl-a
sc_netns "$A"
K=$SC_BIN/ktunctl

kc() {
	sc_ns "$A" "$K" "$@"
}

# Runs ktunctl and checks its exit status.
kc_rc() {	# want args...
	local want=$1 rc=0
	shift
	kc "$@" >"$SC_TMP/out" 2>"$SC_TMP/err" || rc=$?
	sc_q cat "$SC_TMP/err"
	[ "$rc" -eq "$want" ] || sc_fail "ktunctl $*: exit $rc, expected $want"
}

# The listing's line for DEV, columns squeezed.
row() {	# dev
	kc | awk -v d="$1" '$1 == d { $1 = $1; print }'
}

json_field() {	# dev python-expression-on-d
	kc -j | python3 -c '
import json, sys
devs = [d for d in json.load(sys.stdin) if d["ifname"] == sys.argv[1]]
d = devs[0]
print(eval(sys.argv[2]))' "$1" "$2"
}

case_stock() {
	[ "$SC_DRIVER" = stock ] || sc_skip "for the stock driver"
	kc_rc 1 add kc9
	grep -q 'Operation not supported' "$SC_TMP/err" ||
		sc_fail "expected EOPNOTSUPP from the stock driver: $(cat "$SC_TMP/err")"
}

need_ktun() {
	[ "$SC_DRIVER" != stock ] || sc_skip "the stock driver makes no devices over rtnetlink"
}

case_add() {
	need_ktun
	sc_dev_del -x kc0 "$A"
	sc_dev_del -x kc1 "$A"
	sc_dev_del -x kc2 "$A"
	kc_rc 0 add kc0
	kc_rc 0 add kc1 tap pi vnet-hdr owner 4242 group 4343
	kc_rc 0 add kc2 multi-queue queues 4
	[ "$(ip netns exec "$A" cat /sys/class/net/kc0/tun_flags)" = 0x1801 ] ||
		sc_fail "kc0: tun_flags $(ip netns exec "$A" cat /sys/class/net/kc0/tun_flags)"
	[ "$(ip netns exec "$A" cat /sys/class/net/kc1/tun_flags)" = 0x4802 ] ||
		sc_fail "kc1: tun_flags $(ip netns exec "$A" cat /sys/class/net/kc1/tun_flags)"
	[ "$(ip netns exec "$A" cat /sys/class/net/kc1/owner)" = 4242 ] || sc_fail "kc1: owner"
	[ "$(ip netns exec "$A" cat /sys/class/net/kc1/group)" = 4343 ] || sc_fail "kc1: group"
}

case_table() {
	local r
	sc_requires add
	kc >"$SC_TMP/table"
	sc_q cat "$SC_TMP/table"
	head -1 "$SC_TMP/table" | grep -q '^NAME  *TYPE  *FLAGS  *OWNER  *GROUP  *QUEUES' ||
		sc_fail "no header line"
	[ "$(grep -c '^kc' "$SC_TMP/table")" -eq 3 ] || sc_fail "expected 3 devices listed"
	r=$(row kc0)
	[[ "$r" == "kc0 tun down,persist - - -/1 1500 0 0 0 0 0 0" ]] || sc_fail "kc0: '$r'"
	r=$(row kc1)
	[[ "$r" == "kc1 tap down,pi,vnet-hdr,persist 4242 4343 -/1 1500 "* ]] || sc_fail "kc1: '$r'"
	r=$(row kc2)
	[[ "$r" == "kc2 tun down,multi-queue,persist - - 0/4 1500 "* ]] || sc_fail "kc2: '$r'"
	kc_rc 0 show kc1
	[ "$(grep -c '^kc1 ' "$SC_TMP/out")" -eq 1 ] || sc_fail "show kc1 printed no kc1 line"
}

case_json() {
	sc_requires add
	kc -j >"$SC_TMP/json"
	python3 -m json.tool "$SC_TMP/json" >/dev/null || {
		sc_q cat "$SC_TMP/json"
		sc_fail "ktunctl -j printed invalid JSON"
	}
	[ "$(json_field kc1 'd["type"], d["pi"], d["vnet_hdr"], d["persist"], d["owner"], d["group"], d["kind"]')" = \
	  "('tap', True, True, True, 4242, 4343, '$SC_KIND')" ] ||
		sc_fail "kc1 in JSON: $(json_field kc1 d)"
	[ "$(json_field kc0 'd["owner"], d["group"], d["queues"], d["max_queues"], d["stats"]["rx"]["packets"]')" = \
	  "(None, None, None, 1, 0)" ] || sc_fail "kc0 in JSON: $(json_field kc0 d)"
	kc -j show kc2 | python3 -m json.tool >/dev/null || sc_fail "show -j: invalid JSON"
}

case_queues() {
	local r
	sc_requires add
	sc_daemon -n "$A" q1 "$SC_BIN/ktun-open" -m -w kc2
	sc_daemon -n "$A" q2 "$SC_BIN/ktun-open" -m -w kc2
	sc_wait 20 "two queues on kc2" eval \
		'[ "$(json_field kc2 d[\"queues\"])" = 2 ]'
	r=$(row kc2)
	[[ "$r" == "kc2 tun down,carrier,multi-queue,persist - - 2/4 "* ]] || sc_fail "kc2: '$r'"
	# per-queue statistics (ethtool -S): nothing queued yet, 500 places each
	[ "$(json_field kc2 'd["queue_stats"]')" = \
	  "[{'queue': 0, 'queued': 0, 'capacity': 500}, {'queue': 1, 'queued': 0, 'capacity': 500}]" ] ||
		sc_fail "kc2 queue_stats: $(json_field kc2 'd["queue_stats"]')"
	kc_rc 0 show kc2
	sc_q cat "$SC_TMP/out"
	grep -q '^  queue 1: 0 queued of 500$' "$SC_TMP/out" || sc_fail "show kc2: no queue 1 line"
	# packets the stack sends wait in a queue nobody reads
	pp ip -n "$A" link set kc2 up
	pp ip -n "$A" addr add 10.85.0.1/24 dev kc2
	ip netns exec "$A" ping -c 3 -i 0.2 -W 1 10.85.0.2 >/dev/null 2>&1 || true
	[ "$(json_field kc2 'sum(q["queued"] for q in d["queue_stats"])')" -ge 3 ] ||
		sc_fail "kc2: the pings are not counted as queued: $(json_field kc2 'd["queue_stats"]')"
	sc_stop q1 q2
}

case_errors() {
	sc_requires add
	kc_rc 2 add
	kc_rc 2 add kc8 bogus
	kc_rc 2 add kc8 owner
	kc_rc 2 add kc8 owner -5
	kc_rc 2 add kc8 queues 300
	kc_rc 2 frobnicate
	kc_rc 2 --nonsense
	kc_rc 0 --help
	grep -q '^Usage: ktunctl' "$SC_TMP/out" || sc_fail "--help printed no usage"
	kc_rc 3 show kc8
	kc_rc 3 del kc8
	kc_rc 3 show lo
	kc_rc 3 del lo
	kc_rc 1 add kc0
	grep -q 'File exists' "$SC_TMP/err" || sc_fail "add of an existing name: $(cat "$SC_TMP/err")"
	kc_rc 2 add kc8 multi-queue queues 0
	kc_rc 2 add kc8 queues 2
	kc_rc 2 add kc8456789012345678
	! ip netns exec "$A" test -e /sys/class/net/kc8 || sc_fail "kc8 was created"
}

case_del() {
	sc_requires add
	kc_rc 0 del kc0
	kc_rc 0 del kc1
	kc_rc 0 del kc2
	[ -z "$(kc | grep '^kc')" ] || sc_fail "devices left: $(kc)"
	[ "$(kc -j)" = "[]" ] || sc_fail "ktunctl -j with no device: $(kc -j)"
}

# iproute2 itself: "ip link add" has no IFLA_TUN_* options, but the kind works.
case_ip_link() {
	need_ktun
	sc_dev_del -x kc3 "$A"
	pp ip -n "$A" link add kc3 type "$SC_KIND"
	ip -n "$A" -d link show dev kc3 >"$SC_TMP/ip"
	sc_q cat "$SC_TMP/ip"
	grep -q "^    $SC_KIND" "$SC_TMP/ip" || sc_fail "ip -d link show: no kind $SC_KIND"
	if [ "$SC_KIND" = tun ]; then
		grep -q "tun type tun pi off vnet_hdr off persist on" "$SC_TMP/ip" ||
			sc_fail "ip -d link show: not a persistent TUN"
	fi
	[[ "$(row kc3)" == "kc3 tun down,persist "* ]] || sc_fail "ktunctl: '$(row kc3)'"
	pp ip -n "$A" link del kc3
	! ip netns exec "$A" test -e /sys/class/net/kc3 || sc_fail "kc3 still there"
}

sc_case stock case_stock
sc_case add case_add
sc_case table case_table
sc_case json case_json
sc_case queues case_queues
sc_case errors case_errors
sc_case del case_del
sc_case ip_link case_ip_link
