#!/usr/bin/env bash
# group.coordinator.rebalance.protocols and the KIP-848 assignor modules:
# left at the defaults, a broker that loads no assignor module still starts
# and serves classic groups, with the consumer protocol off (warned about,
# not advertised, not dispatched); asked for explicitly, a missing assignor
# stops start-up; "classic" alone switches the protocol off; bad values
# name the key and line.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"
need_sluiced
need_py_module confluent_kafka

HEARTBEAT=68   # ConsumerGroupHeartbeat
DESCRIBE=69    # ConsumerGroupDescribe

advertised() { "$PY" "$T_CLIENTS/api_keys.py" "$BROKER_PORT" | awk -v k="$1" '$1 == k'; }

# 1. Defaults, no assignor module: starts, warns, classic groups work.
BROKER_ASSIGNORS=0 broker_start
like "$(cat "$(broker_log)")" 'WARN \[group\] the consumer group protocol \(KIP-848\) is off: .*assignor' \
    "defaults without assignor modules: start-up warns that the consumer protocol is off"
is "$(advertised $HEARTBEAT)" "" "ConsumerGroupHeartbeat is not advertised"
is "$(advertised $DESCRIBE)" "" "ConsumerGroupDescribe is not advertised"
like "$(advertised 11)" '^11 0 [0-9]+$' "JoinGroup (classic) is still advertised"
timeout 60 kcat -q -b "$BOOTSTRAP" -P -t classic -p 0 <<<$'a\nb\nc'
got=$(timeout 60 kcat -q -b "$BOOTSTRAP" -G g-classic classic -o beginning -c 3 -e 2>/dev/null | sort | tr '\n' ' ')
is "$got" "a b c " "a classic consumer group (kcat -G) consumes all three records"
broker_stop_ok

# 2. The same broker with the assignors: the protocol is on and advertised.
broker_start
like "$(advertised $HEARTBEAT)" "^$HEARTBEAT 0 [0-9]+\$" "with assignor modules ConsumerGroupHeartbeat is advertised"
! grep -q 'consumer group protocol (KIP-848) is off' "$(broker_log)"
ok $? "and no warning is logged"
broker_stop_ok

# 3. "classic" only: off even though the assignors are loaded, no warning.
broker_start "group.coordinator.rebalance.protocols=classic"
is "$(advertised $HEARTBEAT)" "" "rebalance.protocols=classic: ConsumerGroupHeartbeat not advertised"
! grep -q 'consumer group protocol (KIP-848) is off' "$(broker_log)"
ok $? "switched off on purpose: no warning"
broker_stop_ok

# 4. Explicitly asked for without the modules: start-up stops.
fails_to_start() {
    local desc=$1 want=$2; shift 2
    mkdir -p "$BROKER_DATA"
    BROKER_ASSIGNORS=0 broker_render "$@"
    timeout 10 "$SLUICED" -c "$BROKER_CONF" --port-file "$T_TMP/none.port" >"$T_TMP/none.out" 2>"$T_TMP/none.err" </dev/null
    local rc=$?
    [ "$rc" -ne 0 ] && [ "$rc" -ne 124 ]
    ok $? "$desc: exits non-zero (status $rc)"
    like "$(cat "$T_TMP/none.err" "$T_TMP/none.out")" "$want" "$desc: the error says why"
}
fails_to_start "rebalance.protocols=classic,consumer without assignors" \
    "no loaded module provides assignor 'uniform'" "group.coordinator.rebalance.protocols=classic,consumer"
fails_to_start "group.consumer.assignors=range without assignors" \
    "no loaded module provides assignor 'range'" "group.consumer.assignors=range"
fails_to_start "rebalance.protocols=consumer (no classic)" \
    "broker\.properties:[0-9]+:.*group\.coordinator\.rebalance\.protocols.*must contain 'classic'" \
    "group.coordinator.rebalance.protocols=consumer"
fails_to_start "rebalance.protocols with an unknown protocol" \
    "group\.coordinator\.rebalance\.protocols.*unknown group protocol 'share'" \
    "group.coordinator.rebalance.protocols=classic,share"

done_testing
