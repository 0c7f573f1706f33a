#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Copyright (C) 2026 The ktun authors.
#
# tests/bench.sh: the benchmark's smoke run, so `make bench` cannot rot.
# Every workload runs once, briefly, on both drivers; a case passes when it
# produced a number. Nothing here looks at speed.
#
# bench/inside loads the stock tun module next to ktun at /dev/net/ktun, so
# this runs only in the suite's default (ktun) mode.
set -u
cd "$(dirname "$(readlink -f "$0")")/.." || exit 2

if [ "${KTUN_TEST_DRIVER:-ktun}" != ktun ]; then
	echo "skip - bench.smoke: needs ktun at /dev/net/ktun beside stock tun"
	echo "# bench: 0 passed, 0 failed, 1 skipped"
	exit 0
fi

out=$(mktemp)
trap 'rm -f "$out"' EXIT
echo "# bench/inside --smoke"
bench/inside --smoke >"$out" 2>&1
rc=$?
# Its ok / not ok lines are per workload and driver: name them as ours.
sed -n -E 's/^(not ok|ok) [0-9]+ - bench ([^ ]+) ([^:]+):/\1 - bench.\2.\3:/p' "$out"
grep -v -E '^(not ok|ok) ' "$out" | sed 's/^/#   /'
passed=$(grep -c -E '^ok ' "$out")
failed=$(grep -c -E '^not ok ' "$out")
if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then
	echo "not ok - bench.smoke: bench/inside --smoke exited $rc"
	failed=1
fi
echo "# bench: $passed passed, $failed failed, 0 skipped"
[ "$failed" -eq 0 ]
