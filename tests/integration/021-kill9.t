#!/usr/bin/env bash
# Crash safety: with log.flush.interval.messages=1 every acknowledged record
# must survive a kill -9 of the broker in the middle of a produce stream,
# with contiguous offsets and no corrupt records.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"
need_cmd kcat
need_python_module confluent_kafka

broker_start "log.flush.interval.messages=1" "auto.create.topics.enable=false"
is "$("$PY" "$T_CLIENTS/admin_tool.py" "$BOOTSTRAP" create k9 2)" NO_ERROR "create topic k9 (2 partitions)"

ACKED=$T_TMP/acked.txt
: >"$ACKED"
timeout 120 "$PY" "$T_CLIENTS/acked_producer.py" "$BOOTSTRAP" k9 2 20000 "$ACKED" \
    >"$T_TMP/producer.out" 2>&1 &
prod=$!

# Kill once a few hundred records are acknowledged, i.e. mid-stream.
for _ in $(seq 1 600); do
    [ "$(wc -l <"$ACKED")" -ge 300 ] && break
    kill -0 "$prod" 2>/dev/null || break
    sleep 0.05
done
n_at_kill=$(wc -l <"$ACKED")
broker_kill9
diag "killed the broker after $n_at_kill acknowledged records"
[ "$n_at_kill" -ge 300 ] && [ "$n_at_kill" -lt 20000 ]
ok $? "broker was killed mid-stream ($n_at_kill of 20000 acknowledged)"

# Let the producer give up (message.timeout.ms=6000) before restarting so
# the comparison below sees a settled acknowledged set.
wait "$prod"
diag "producer exited with status $?; $(wc -l <"$ACKED") acknowledged in total"

broker_restart
pass "broker restarts after kill -9 (recovery)"

DUMP=$T_TMP/dump.txt
for p in 0 1; do
    timeout 60 kcat -q -b "$BOOTSTRAP" -C -t k9 -p "$p" -o beginning -e -f '%p %o %k %s\n'
done >"$DUMP"
ok $? "read back both partitions"
run_client "$PY" "$T_CLIENTS/verify_acked.py" "$ACKED" "$DUMP" 2

# The log is writable after recovery: new records follow the old ones.
end0=$(timeout 30 kcat -q -b "$BOOTSTRAP" -Q -t k9:0:-1 | awk '{print $NF}')
printf 'after:crash\n' | timeout 30 kcat -q -b "$BOOTSTRAP" -P -t k9 -p 0 -K:
got=$(timeout 30 kcat -q -b "$BOOTSTRAP" -C -t k9 -p 0 -o -1 -e -f '%o %k %s\n')
is "$got" "$end0 after crash" "a record produced after recovery gets offset $end0"

done_testing
