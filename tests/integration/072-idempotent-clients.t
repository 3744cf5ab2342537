#!/usr/bin/env bash
# Idempotent writes from the other clients: kafkajs (idempotent: true)
# through a proxy that drops stored Produce responses, so kafkajs resends
# batches with the same sequence numbers; and kafka-python's batch encoder
# and network client sending idempotent batches and their retries (its
# 2.0.2 producer has no idempotence of its own).  kcat reads kafkajs's
# records back: exactly once, in order, contiguous.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"
need_cmd kcat
need_python_module kafka

PPORT=$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
broker_start "advertised.listeners=PLAINTEXT://127.0.0.1:$PPORT" "num.partitions=1" "log.level=debug"
echo "$BROKER_PORT" >"$T_TMP/upstream"
CTL=$T_TMP/proxy
mkdir -p "$CTL"
"$PY" "$T_CLIENTS/drop_proxy.py" "$PPORT" "$T_TMP/upstream" "$CTL" --drop 4,11,19,26 \
    >"$T_TMP/proxy.out" 2>&1 &
proxy=$!
for _ in $(seq 1 100); do [ -f "$CTL/ready" ] && break; sleep 0.05; done
[ -f "$CTL/ready" ]; ok $? "fault-injecting proxy listening on $PPORT"

if (cd "$T_JS" && node -e "require('kafkajs')") >/dev/null 2>&1; then
    timeout 60 kcat -q -b "$BOOTSTRAP" -L -t kjs-idem >/dev/null 2>&1  # auto-create
    N=400
    run_client node "$T_JS/idempotent_producer.js" "127.0.0.1:$PPORT" kjs-idem "$N" kjs
    like "$(cat "$CTL/stats")" "dropped=4" "the proxy dropped 4 stored Produce responses"
    got=$(timeout 60 kcat -q -b "$BOOTSTRAP" -C -t kjs-idem -p 0 -o beginning -e -f '%o %s\n')
    is "$got" "$(for i in $(seq 0 $((N - 1))); do echo "$i kjs-$i"; done)" \
        "kafkajs: $N records exactly once, in order, offsets 0..$((N - 1))"
    dups=$(grep -c "retried batch of producer" "$(broker_log)")
    [ "$dups" -ge 4 ]; ok $? "the broker answered $dups kafkajs retries as duplicates"
else
    skip "kafkajs idempotent producer" "kafkajs not installed in tests/js (run tools/install-deps.sh)"
fi
touch "$CTL/stop"
wait "$proxy"

# kafka-python makes its own retries; the broker still advertises the
# proxy's port, so a proxy that drops nothing stands in.
CTL2=$T_TMP/proxy2
mkdir -p "$CTL2"
"$PY" "$T_CLIENTS/drop_proxy.py" "$PPORT" "$T_TMP/upstream" "$CTL2" >"$T_TMP/proxy2.out" 2>&1 &
proxy=$!
for _ in $(seq 1 100); do [ -f "$CTL2/ready" ] && break; sleep 0.05; done
timeout 60 kcat -q -b "$BOOTSTRAP" -L -t kp-idem >/dev/null 2>&1
run_client "$PY" "$T_CLIENTS/kafka_python_idempotent.py" "$BROKER_PORT" kp-idem 30
like "$(cat "$CTL2/stats")" "dropped=0" "(nothing dropped for kafka-python)"
touch "$CTL2/stop"
wait "$proxy"
done_testing
