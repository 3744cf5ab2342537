#!/usr/bin/env bash
# Idempotence across broker restarts: a proxy lets the broker store a
# Produce request but withholds the response; the broker is then killed
# (kill -9: producer state rebuilt by replaying the log tail) or stopped
# cleanly (state from the <offset>.snapshot written at shutdown) and
# restarted on another port; librdkafka resends the batches it never heard
# about.  The restarted broker must recognise them: every record exactly
# once, in order, at contiguous offsets.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"
need_cmd kcat
need_python_module confluent_kafka

PPORT=$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
broker_start "advertised.listeners=PLAINTEXT://127.0.0.1:$PPORT" "num.partitions=1" "log.level=debug"
N=2000

# round NAME HOLD STOP: produce N records to topic NAME; hold the HOLD-th
# Produce response, then restart the broker with STOP (kill9 | clean).
round() {
    local name=$1 hold=$2 how=$3 ctl=$T_TMP/proxy-$1 i
    mkdir -p "$ctl"
    echo "$BROKER_PORT" >"$T_TMP/upstream"
    "$PY" "$T_CLIENTS/drop_proxy.py" "$PPORT" "$T_TMP/upstream" "$ctl" --hold "$hold" \
        >"$T_TMP/proxy-$name.out" 2>&1 &
    local proxy=$!
    for i in $(seq 1 100); do [ -f "$ctl/ready" ] && break; sleep 0.05; done
    # Paced (20 records every 10 ms) so the stream outlives the restart.
    # In the background its TAP goes to a file, counted after it ends.
    timeout 180 "$PY" "$T_CLIENTS/idempotent_producer.py" "127.0.0.1:$PPORT" "$name" "$N" 1 "$name" 20 10 \
        >"$T_TMP/prod-$name.tap" 2>"$T_TMP/prod-$name.err" &
    local prod=$!
    for i in $(seq 1 600); do [ -f "$ctl/held" ] && break; sleep 0.05; done
    [ -f "$ctl/held" ]; ok $? "$name: Produce request $hold stored by the broker, response withheld"
    local before
    before=$(timeout 30 kcat -q -b "127.0.0.1:$BROKER_PORT" -Q -t "$name:0:-1" 2>/dev/null | awk '{print $NF}')
    if [ "$how" = kill9 ]; then
        broker_kill9
        _broker_spawn
        pass "$name: broker killed with SIGKILL and restarted"
    else
        broker_restart
    fi
    echo "$BROKER_PORT" >"$T_TMP/upstream"
    touch "$ctl/release"
    wait "$prod"
    ok $? "$name: producer exited 0"
    run_client cat "$T_TMP/prod-$name.tap"
    got=$(timeout 60 kcat -q -b "$BOOTSTRAP" -C -t "$name" -p 0 -o beginning -e -f '%o %s\n')
    is "$got" "$(for i in $(seq 0 $((N - 1))); do echo "$i $name-$i"; done)" \
        "$name: $N records exactly once, in send order, offsets 0..$((N - 1))"
    local dups
    dups=$(grep -c "retried batch of producer" "$(broker_log)")
    [ "$dups" -ge 1 ]; ok $? "$name: the restarted broker answered $dups retried batch(es) as duplicates"
    diag "$name: log end was $before when the response was withheld"
    touch "$ctl/stop"
    wait "$proxy"
}

round k9 12 kill9
like "$(ls "$BROKER_DATA/k9-0")" "00000000000000000000\.log" "k9 log present"
round clean 12 clean
ls "$BROKER_DATA/clean-0" | grep -q '\.snapshot$'
ok $? "the clean shutdown left a producer state snapshot beside the segments"

# Producer ids never repeat across restarts: each start reserves a new block.
ids=$(grep -ho 'reserved producer ids [0-9]*\.\.[0-9]*' "${T_LOGS[@]}" | awk '{print $4}' | tr '\n' ' ')
is "$ids" "0..999 1000..1999 " "a new producer id block after each restart (the old one's rest abandoned)"
done_testing
