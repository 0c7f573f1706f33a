# SPDX-License-Identifier: GPL-2.0
# Copyright (C) 2026 The ktun authors.
#
# tests/scenario.bash: what the scenario scripts (tests/*.sh) share. It is
# sourced, never run, and its name does not end in .sh so that tests/run
# does not take it for a script. It also serves tools/demo.
#
#   sc_begin NAME		start: a mount namespace of its own where
#				/dev/net/tun is the driver under test (and
#				0666), temp dir, cleanup on exit
#   pp CMD...			echo "# + CMD" (to stderr), run it
#   sc_ns NS CMD...		echo "# [NS] CMD", run it in netns NS
#   sc_q CMD...		run CMD with its output turned into "#   " lines
#   sc_netns NS		a fresh netns (lo up), deleted at exit
#   sc_topology		netns $A and $B, joined by veth sc-a 10.79.0.1/24
#				<-> sc-b 10.79.0.2/24 (na / nb run in them)
#   sc_daemon [-n NS] TAG CMD...	CMD in the background, output in $SC_TMP/TAG.log
#   sc_stop [TAG...]		TERM (then KILL) daemons and wait until gone
#   sc_wait SECS WHAT CMD...	poll CMD until it succeeds, else fail WHAT
#   sc_wait_log TAG SECS RE	until TAG's log matches RE (and TAG lives)
#   sc_ping NS ADDR [COUNT]	all echoes answered; $SC_RTT is the avg ms
#   sc_iperf3 SNS ADDR CNS [SECS]	TCP through it; $SC_MBPS, $SC_BYTES
#   sc_dev_del [-x] DEV [NS]	delete a device after the case (-x: at
#				exit) if still there
#   sc_case NAME FUNC ARGS...	one case: FUNC runs in a subshell under
#				set -e; prints ok / not ok / skip
#   sc_fail WHY, sc_skip WHY	end the case (or the setup) so
#   sc_requires CASE...	skip unless these cases passed
#
# A failure outside any case (the topology, say) is reported as case
# "setup", and the summary line "# NAME: N passed, N failed, N skipped" is
# printed on every exit, so tests/run always gets one. KTUN_TEST_FILTER
# (globs over NAME.CASE, CASE or NAME, comma-separated) selects cases.
#
# shellcheck shell=bash disable=SC2034
# (SC2034: the SC_* variables are set here for the scripts that source it.)

SC_DRIVER=${KTUN_TEST_DRIVER:-ktun}
case "$SC_DRIVER" in
ktun)		SC_DEV=${KTUN_DEV:-/dev/net/ktun} ;;
compat|stock)	SC_DEV=${KTUN_DEV:-/dev/net/tun} ;;
*)		echo "scenario: unknown KTUN_TEST_DRIVER=$SC_DRIVER" >&2; exit 2 ;;
esac
export KTUN_DEV=$SC_DEV KTUN_TEST_DRIVER=$SC_DRIVER
# The link kind devices of the driver under test report (ip -d link).
if [ "$SC_DEV" = /dev/net/tun ]; then SC_KIND=tun; else SC_KIND=ktun; fi

SC_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
SC_BIN=$SC_ROOT/build/tools
SC_NAME='' SC_TMP='' SC_CASE=''
exec {SC_EFD}>&2
SC_PASSED=0 SC_FAILED=0 SC_SKIPPED=0
A='' B=''

# --- echoing --------------------------------------------------------------

# The echo goes to the script's stderr (fd $SC_EFD, a copy made when this
# file is sourced), so that neither x=$(na cat ...) nor x=$(na cmd 2>&1) captures
# it; tests/run reads stdout and stderr through one pipe, in order.
sc_echo() {
	echo "$*" >&"$SC_EFD"
}

pp() {
	sc_echo "# + $*"
	"$@"
}

sc_ns() {	# ns cmd...
	local ns=$1
	shift
	sc_echo "# [$ns] $*"
	ip netns exec "$ns" "$@"
}

# Runs CMD with its output as diagnostics ("#   " lines); CMD's status.
sc_q() {
	"$@" 2>&1 | sed -u 's/^/#   /'
	return "${PIPESTATUS[0]}"
}

na() { sc_ns "$A" "$@"; }
nb() { sc_ns "$B" "$@"; }

# Prints the last lines of a daemon's log (or any file) as diagnostics.
sc_log() {	# tag|file [lines]
	local f=$1
	[ -f "$f" ] || f=$SC_TMP/$1.log
	[ -f "$f" ] || return 0
	echo "#   --- ${f##*/} (last ${2:-15} lines)"
	tail -n "${2:-15}" "$f" | sed 's/^/#   /'
}

# --- cases ----------------------------------------------------------------

sc_selected() {	# case
	local p pats
	[ -z "${KTUN_TEST_FILTER:-}" ] && return 0
	# read, not word splitting: the globs must not meet the file system.
	IFS=', ' read -ra pats <<<"$KTUN_TEST_FILTER"
	for p in "${pats[@]}"; do
		# shellcheck disable=SC2053
		[[ "$SC_NAME.$1" == $p || "$1" == $p || "$SC_NAME" == $p ]] && return 0
	done
	return 1
}

# Ends the current case (or the setup) as failed with WHY; the first
# reason given wins.
sc_fail() {
	[ -s "$SC_TMP/why" ] || echo "$*" >"$SC_TMP/why"
	exit 1
}

sc_skip() {
	echo "$*" >"$SC_TMP/why"
	exit 77
}

sc_requires() {	# case...
	local c
	for c; do
		[ "$(cat "$SC_TMP/result.$c" 2>/dev/null)" = ok ] ||
			sc_skip "needs $SC_NAME.$c, which did not pass"
	done
}

# The ERR trap of a case: set -e ends it on the first failing command, and
# this names that command.
sc_on_err() {	# line command
	[ -s "$SC_TMP/why" ] || echo "line $1: command failed: $2" >"$SC_TMP/why"
}

sc_case() {	# name func args...
	local name=$1 rc why t0=${EPOCHREALTIME/./}
	shift
	sc_selected "$name" || return 0
	echo "# --- $SC_NAME.$name"
	: >"$SC_TMP/why"
	SC_CASE=$name
	# errexit is ignored inside a subshell that is part of a condition
	# (if, ||), so run it bare and take its status afterwards.
	set +e
	(
		set -eE
		trap 'sc_on_err "$LINENO" "$BASH_COMMAND"' ERR
		"$@"
	)
	rc=$?
	set -e
	SC_CASE=
	sc_devs_cleanup
	why=$(cat "$SC_TMP/why")
	case "$rc" in
	0)	echo "ok - $SC_NAME.$name"
		echo ok >"$SC_TMP/result.$name"
		SC_PASSED=$((SC_PASSED + 1)) ;;
	77)	echo "skip - $SC_NAME.$name: $why"
		echo skip >"$SC_TMP/result.$name"
		SC_SKIPPED=$((SC_SKIPPED + 1)) ;;
	*)	echo "not ok - $SC_NAME.$name: ${why:-exited $rc}"
		echo fail >"$SC_TMP/result.$name"
		SC_FAILED=$((SC_FAILED + 1)) ;;
	esac
	t0=$(((${EPOCHREALTIME/./} - t0) / 100000))
	echo "#   ($((t0 / 10)).$((t0 % 10)) s)"
	return 0
}

# --- waiting --------------------------------------------------------------

# Polls CMD (quietly) every 0.1 s until it succeeds; the guard is a time
# limit on an observable event, never a delay that orders things.
sc_wait() {	# secs what cmd...
	local secs=$1 what=$2 end
	shift 2
	end=$((${EPOCHREALTIME/./} + secs * 1000000))
	until "$@" >/dev/null 2>&1; do
		[ "${EPOCHREALTIME/./}" -lt "$end" ] ||
			sc_fail "no $what after ${secs} s"
		sleep 0.1
	done
}

# These run in polling loops: builtins only, as every exec is slow under
# TCG.
sc_alive() {	# tag: whether the daemon runs (its zombie counts as gone)
	local pid stat
	read -r pid 2>/dev/null <"$SC_TMP/$1.pid" || return 1
	read -r stat 2>/dev/null <"/proc/$pid/stat" || return 1
	# "pid (comm) state ...": comm may hold blanks and parentheses.
	stat=${stat##*) }
	[ "${stat%% *}" != Z ]
}

sc_pid() {
	local pid
	read -r pid <"$SC_TMP/$1.pid"
	echo "$pid"
}

sc_log_has() {	# tag ere
	local line
	while IFS= read -r line || [ -n "$line" ]; do
		[[ $line =~ $2 ]] && return 0
	done 2>/dev/null <"$SC_TMP/$1.log"
	return 1
}

# Until TAG's log matches RE; fails at once, with the log, if TAG dies.
sc_wait_log() {	# tag secs ere
	local tag=$1 secs=$2 re=$3 end
	end=$((${EPOCHREALTIME/./} + secs * 1000000))
	until sc_log_has "$tag" "$re"; do
		if ! sc_alive "$tag"; then
			sc_log "$tag"
			sc_fail "$tag exited before its log said /$re/"
		fi
		if [ "${EPOCHREALTIME/./}" -ge "$end" ]; then
			sc_log "$tag"
			sc_fail "$tag's log did not say /$re/ within $secs s"
		fi
		sleep 0.1
	done
}

# --- daemons --------------------------------------------------------------

# Starts CMD in the background with no terminal and its output in
# $SC_TMP/TAG.log, so it never holds the pipe tests/run reads. With -n it
# runs in that netns; ip netns exec execs, so the pid is CMD's own.
sc_daemon() {	# [-n ns] tag cmd...
	local ns='' tag
	if [ "$1" = -n ]; then
		ns=$2
		shift 2
	fi
	tag=$1
	shift
	if [ -n "$ns" ]; then
		sc_echo "# [$ns] $* &"
		set -- ip netns exec "$ns" "$@"
	else
		sc_echo "# + $* &"
	fi
	rm -f "$SC_TMP/$tag.killed"
	# Emptied here, not only in the child: a tag started again must not
	# show its last run's log to a waiter until the child gets to it.
	: >"$SC_TMP/$tag.log"
	"$@" </dev/null >"$SC_TMP/$tag.log" 2>&1 {SC_EFD}>&- &
	echo $! >"$SC_TMP/$tag.pid"
	echo "$tag" >>"$SC_TMP/daemons"
}

# Stops the daemons named (all started so far without names) and waits
# until they are gone: their files hold the module, their devices the
# names the next case wants. One that survives SIGKILL (stuck in the
# kernel) is reported, with where it sleeps, and left. A stopped daemon
# loses its pid file, so that a reused pid is never taken for it.
sc_stop() {	# [tag...]
	local tags=("$@") live=() t pid pids=() now term_end kill_end
	[ ${#tags[@]} -gt 0 ] || mapfile -t tags < <(sort -u "$SC_TMP/daemons" 2>/dev/null || true)
	for t in "${tags[@]}"; do
		if sc_alive "$t"; then
			live+=("$t")
			pids+=("$(sc_pid "$t")")
		else
			rm -f "$SC_TMP/$t.pid"
		fi
	done
	[ ${#live[@]} -gt 0 ] || return 0
	kill -TERM "${pids[@]}" 2>/dev/null || true
	now=${EPOCHREALTIME/./}
	term_end=$((now + 10000000)) kill_end=$((now + 15000000))
	for t in "${live[@]}"; do
		pid=$(sc_pid "$t")
		while sc_alive "$t"; do
			now=${EPOCHREALTIME/./}
			if [ "$now" -ge "$kill_end" ]; then
				echo "#   $t (pid $pid) survives SIGKILL: state" \
					"$(awk '{ print $3 }' "/proc/$pid/stat" 2>/dev/null)," \
					"wchan $(cat "/proc/$pid/wchan" 2>/dev/null)"
				sed 's/^/#     /' "/proc/$pid/stack" 2>/dev/null
				break
			elif [ "$now" -ge "$term_end" ] && ! [ -e "$SC_TMP/$t.killed" ]; then
				echo "#   $t (pid $pid) ignored SIGTERM for 10 s: SIGKILL"
				kill -KILL "$pid" 2>/dev/null || true
				: >"$SC_TMP/$t.killed"
			fi
			sleep 0.05
		done
		if ! sc_alive "$t"; then
			rm -f "$SC_TMP/$t.pid"
			# Reaped if it is this shell's child (a zombie until then).
			wait "$pid" 2>/dev/null || true
		fi
	done
}

# --- topology -------------------------------------------------------------

# A fresh network namespace, deleted at exit with whatever it holds.
sc_netns() {	# name
	ip netns del "$1" 2>/dev/null || true
	pp ip netns add "$1"
	echo "$1" >>"$SC_TMP/netns"
	ip -n "$1" link set lo up
}

sc_topology() {
	A=$SC_NAME-a
	B=$SC_NAME-b
	[ -d /sys/module/veth ] || pp modprobe veth
	sc_netns "$A"
	sc_netns "$B"
	pp ip link add sc-a netns "$A" type veth peer name sc-b netns "$B"
	na ip addr add 10.79.0.1/24 dev sc-a
	nb ip addr add 10.79.0.2/24 dev sc-b
	na ip link set sc-a up
	nb ip link set sc-b up
}

# A device to delete after the case (with -x, or outside cases: at exit)
# if still there: persistent ones a failing case may leave.
sc_dev_del() {	# [-x] dev [netns]
	local f=$SC_TMP/devs
	if [ "$1" = -x ] || [ -z "$SC_CASE" ]; then
		[ "$1" = -x ] && shift
		f=$SC_TMP/devs.exit
	fi
	echo "$1 ${2:-}" >>"$f"
}

# --- the driver's node ----------------------------------------------------

# sc_begin runs the script again (exec, same pid) in a mount namespace of
# its own (unshare -m: nothing leaks to the rest of the system), with a
# tmpfs on /dev/net that holds the node under test as /dev/net/tun and at
# $SC_DEV, mode 0666:
#  - in ktun mode that is how clients that know only /dev/net/tun
#    (ip tuntap, wireguard-go) reach ktun, with no wrapper per command;
#  - in every mode, an unprivileged user can open the node, as udev's
#    MODE="0666" for /dev/net/tun allows on a real system (the VM has no
#    udev); whether it may attach is then the driver's owner/group rule.
# Network namespaces made in there (ip netns add) are private to it too.
sc_enter_node_ns() {	# name
	local maj min
	if [ -z "${SC_NODE_NS:-}" ]; then
		if ! [ -c "$SC_DEV" ]; then
			echo "not ok - $1.setup: no $SC_DEV: is the driver loaded?"
			echo "# $1: 0 passed, 1 failed, 0 skipped"
			exit 1
		fi
		read -r maj min < <(stat -L -c '%t %T' "$SC_DEV")
		SC_NODE_NS="$maj $min" exec unshare -m --propagation private -- bash "$0"
	fi
	read -r maj min <<<"$SC_NODE_NS"
	mount -t tmpfs -o mode=0755,size=16k ktun-node /dev/net
	mknod -m 0666 /dev/net/tun c "0x$maj" "0x$min"
	case "$SC_DEV" in
	/dev/net/tun) ;;
	/dev/net/*) mknod -m 0666 "$SC_DEV" c "0x$maj" "0x$min" ;;
	esac
}

# --- traffic --------------------------------------------------------------

# Pings ADDR from netns NS until COUNT echoes came back (30 s at most).
# Sets SC_RTT (avg ms). Ping stops at the COUNTth reply, so with replies
# slower than the interval a request or two may still be in flight then:
# that is not loss.
sc_ping() {	# ns addr [count]
	local ns=$1 addr=$2 count=${3:-5} out rcvd
	sc_echo "# [$ns] ping -c $count -i 0.2 -w 30 $addr"
	if ! out=$(ip netns exec "$ns" ping -c "$count" -i 0.2 -w 30 "$addr" 2>&1); then
		echo "$out" | sed 's/^/#   /'
		sc_fail "ping $addr from $ns: fewer than $count echo replies in 30 s"
	fi
	echo "$out" | tail -n 2 | sed 's/^/#   /'
	rcvd=$(echo "$out" | sed -nE 's/.* ([0-9]+) received.*/\1/p')
	[ "${rcvd:-0}" -ge "$count" ] ||
		sc_fail "ping $addr from $ns: $rcvd of $count echo replies"
	SC_RTT=$(echo "$out" | awk -F/ '/^rtt/ { print $5 }')
}

# TCP from netns CNS to ADDR (in netns SNS) for SECS seconds. Sets SC_MBPS
# and SC_BYTES from the receiver's line: what crossed, not what was sent.
sc_iperf3() {	# sns addr cns [secs]
	local sns=$1 addr=$2 cns=$3 secs=${4:-2} out line
	sc_daemon -n "$sns" iperf3-server iperf3 -s -1 -B "$addr"
	sc_wait 20 "iperf3 server listening on $addr" \
		eval "ip netns exec '$sns' ss -Htln 'src $addr:5201' | grep -q ."
	sc_echo "# [$cns] iperf3 -c $addr -t $secs -f m"
	# The guard: a dead tunnel would otherwise leave TCP retrying for minutes.
	if ! out=$(ip netns exec "$cns" timeout -k 5 $((secs + 40)) \
			iperf3 -c "$addr" -t "$secs" -f m 2>&1); then
		echo "$out" | tail -n 5 | sed 's/^/#   /'
		sc_stop iperf3-server
		sc_fail "iperf3 to $addr failed"
	fi
	sc_stop iperf3-server
	line=$(echo "$out" | grep 'receiver$' | tail -n 1)
	echo "#   $line"
	read -r SC_MBPS SC_BYTES < <(echo "$line" | awk '{
		for (i = 1; i < NF; i++) {
			if ($(i + 1) == "Mbits/sec") mbps = $i
			if ($(i + 1) ~ /^[KMG]?Bytes$/) {
				m = substr($(i + 1), 1, 1)
				b = $i * (m == "K" ? 1024 : m == "M" ? 1048576 : m == "G" ? 1073741824 : 1)
			}
		}
		printf "%s %d\n", mbps, b }')
	[ -n "$SC_MBPS" ] && [ "${SC_BYTES:-0}" -gt 0 ] ||
		sc_fail "iperf3 to $addr moved no data: ${line:-no receiver line}"
}

# --- begin and end --------------------------------------------------------

# Deletes the devices sc_dev_del registered (for the case, or with -x
# until exit), if still there.
sc_devs_cleanup() {	# [-x]
	local dev ns f=$SC_TMP/devs
	[ "${1:-}" = -x ] && f=$SC_TMP/devs.exit
	[ -f "$f" ] || return 0
	while read -r dev ns; do
		if [ -n "$ns" ]; then
			ip -n "$ns" link show dev "$dev" >/dev/null 2>&1 &&
				pp ip -n "$ns" link del dev "$dev"
		else
			ip link show dev "$dev" >/dev/null 2>&1 &&
				pp ip link del dev "$dev"
		fi
	done <"$f"
	rm -f "$f"
}

sc_cleanup() {
	local ns d
	set +eE
	trap - ERR
	sc_stop
	sc_devs_cleanup
	sc_devs_cleanup -x
	if [ -f "$SC_TMP/netns" ]; then
		while read -r ns; do
			# Whatever TUN/TAP device is left in it goes first, so that
			# nothing of the driver outlives the script.
			for d in $(ip netns exec "$ns" sh -c 'for f in /sys/class/net/*/tun_flags; do
					[ -e "$f" ] && basename "$(dirname "$f")"; done' 2>/dev/null); do
				pp ip -n "$ns" link del dev "$d"
			done
			pp ip netns del "$ns"
		done < <(sort -u "$SC_TMP/netns")
	fi
	rm -rf "$SC_TMP"
}

sc_end() {
	local rc=$? why
	trap - EXIT
	if [ "$rc" -ne 0 ] && [ -z "$SC_CASE" ]; then
		why=$(cat "$SC_TMP/why" 2>/dev/null)
		echo "not ok - $SC_NAME.setup: ${why:-exited $rc}"
		SC_FAILED=$((SC_FAILED + 1))
	fi
	sc_cleanup
	echo "# $SC_NAME: $SC_PASSED passed, $SC_FAILED failed, $SC_SKIPPED skipped"
	[ "$SC_FAILED" -eq 0 ] && exit 0
	exit 1
}

sc_begin() {	# name
	SC_NAME=$1
	sc_enter_node_ns "$1"
	SC_TMP=$(mktemp -d "/tmp/ktun-$SC_NAME.XXXXXX")
	: >"$SC_TMP/why"
	trap sc_end EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	set -o pipefail
	# The setup's failing command, as a case's (see sc_case).
	set -E
	trap 'sc_on_err "$LINENO" "$BASH_COMMAND"' ERR
	echo "# $SC_NAME: driver $SC_DRIVER, node $SC_DEV (and /dev/net/tun, 0666, in a mount namespace of its own)"
}
