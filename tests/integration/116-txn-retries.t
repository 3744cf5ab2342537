#!/usr/bin/env bash
# A transactional producer under injected retries: confluent-kafka writes
# 2,000 records in transactions of 100 through a proxy that forwards some
# Produce requests, lets the broker store them and then drops the
# connection before the response arrives.  librdkafka resends the same
# batches (same producer id, epoch and sequences) inside the same
# transaction; the broker answers them as duplicates, and every
# transaction commits.  read_committed must see every record exactly once,
# in order, at contiguous offsets between the markers.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"
need_python_module confluent_kafka

PPORT=$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
broker_start "advertised.listeners=PLAINTEXT://127.0.0.1:$PPORT" "log.level=debug" \
    "transaction.state.log.num.partitions=3"
echo "$BROKER_PORT" >"$T_TMP/upstream"
CTL=$T_TMP/proxy
mkdir -p "$CTL"
"$PY" "$T_CLIENTS/drop_proxy.py" "$PPORT" "$T_TMP/upstream" "$CTL" --drop 2,7,13,19 \
    >"$T_TMP/proxy.out" 2>&1 &
proxy=$!
for _ in $(seq 1 100); do [ -f "$CTL/ready" ] && break; sleep 0.05; done
[ -f "$CTL/ready" ]; ok $? "fault-injecting proxy listening on $PPORT"

N=2000
is "$(timeout 180 "$PY" "$T_CLIENTS/txn_suite.py" many "127.0.0.1:$PPORT" retry-tx rt "$N" 100 \
    2>/dev/null)" "committed $N" "20 transactions of 100 records committed through the proxy"
like "$(cat "$CTL/stats")" "dropped=4" "the proxy dropped 4 Produce responses after the broker stored them"
dups=$(grep -c "retried batch of producer" "$(broker_log)")
[ "$dups" -ge 1 ]; ok $? "the broker answered $dups retried batches as duplicates"

got=$(timeout 90 "$PY" "$T_CLIENTS/txn_suite.py" consume "$BOOTSTRAP" rt read_committed)
is "$got" "$(for i in $(seq 0 $((N - 1))); do echo "r-$i"; done)" \
    "read_committed: r-0..r-$((N - 1)) exactly once, in order"

touch "$CTL/stop"
wait "$proxy"
done_testing
