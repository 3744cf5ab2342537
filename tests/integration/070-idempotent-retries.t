#!/usr/bin/env bash
# Idempotent producer under injected retries: librdkafka (confluent-kafka,
# enable.idempotence=true) produces through a proxy that stores-then-drops
# Produce responses (the batch is in the log, the client never hears of
# it), so librdkafka resends the same batches with the same sequence
# numbers.  Every record must be in the log exactly once, in send order,
# at contiguous offsets, and the broker must have answered the retries as
# duplicates with their original offsets.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"
need_cmd kcat
need_python_module confluent_kafka

PPORT=$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
broker_start "advertised.listeners=PLAINTEXT://127.0.0.1:$PPORT" "num.partitions=2" "log.level=debug"
echo "$BROKER_PORT" >"$T_TMP/upstream"
CTL=$T_TMP/proxy
mkdir -p "$CTL"
"$PY" "$T_CLIENTS/drop_proxy.py" "$PPORT" "$T_TMP/upstream" "$CTL" --drop 3,12,21,30,45 \
    >"$T_TMP/proxy.out" 2>&1 &
proxy=$!
for _ in $(seq 1 100); do [ -f "$CTL/ready" ] && break; sleep 0.05; done
[ -f "$CTL/ready" ]; ok $? "fault-injecting proxy listening on $PPORT"

N=3000
run_client "$PY" "$T_CLIENTS/idempotent_producer.py" "127.0.0.1:$PPORT" idem "$N" 2 idem
like "$(cat "$CTL/stats")" "dropped=5" "the proxy dropped 5 Produce responses after the broker stored them"

# Read back (fetches pass the proxy untouched): exactly once, in order,
# contiguous.
for p in 0 1; do
    got=$(timeout 60 kcat -q -b "$BOOTSTRAP" -C -t idem -p "$p" -o beginning -e -f '%o %s\n')
    want=$(i=0; for v in $(seq "$p" 2 $((N - 1))); do echo "$i idem-$v"; i=$((i + 1)); done)
    is "$got" "$want" "partition $p: records idem-$p, idem-$((p + 2)), ... exactly once at offsets 0..$((N / 2 - 1))"
done
dups=$(grep -c "retried batch of producer" "$(broker_log)")
[ "$dups" -ge 5 ]; ok $? "the broker answered $dups retried batches as duplicates (at least the 5 dropped)"
like "$(grep -m1 'reserved producer ids' "$(broker_log)")" "reserved producer ids 0\.\.999" \
    "producer ids come from block 0..999 reserved in the metadata log"

touch "$CTL/stop"
wait "$proxy"
done_testing
