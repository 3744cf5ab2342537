#!/usr/bin/env bash
# Transactions end to end on the partition side, through confluent-kafka's
# transactional producer and the transaction coordinator: committed and
# aborted transactions, one transaction left open by a second producer and
# a later committed one behind it.  Checks the LSO (ListOffsets), the
# read_committed Fetch (batches below the LSO, AbortedTransactions), the
# .txnindex file, DescribeProducers, and read_committed/read_uncommitted
# consumers; then kill -9 and restart: every one of them identical.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"
need_python_module kafka
need_python_module confluent_kafka
export PYTHONPATH=$T_CLIENTS
TOOL=$T_CLIENTS/txn_log_tool.py
E2E=$T_CLIENTS/txn_log_e2e.py

broker_start "num.partitions=1"
is "$(timeout 90 "$PY" "$T_CLIENTS/admin_tool.py" "$BOOTSTRAP" create txk 1)" NO_ERROR "create topic txk"
is "$(timeout 90 "$PY" "$E2E" run "$BOOTSTRAP" main-tx txk commit:c1,c2 abort:a1,a2 commit:c3 2>"$T_TMP/run1.err")" \
    "$(printf 'commit ok\nabort ok\ncommit ok')" "commit, abort, commit"
timeout 200 "$PY" "$E2E" hang "$BOOTSTRAP" hang-tx txk h1 >"$T_TMP/hang.out" 2>"$T_TMP/hang.err" &
HANG=$!
for i in $(seq 1 300); do grep -q open "$T_TMP/hang.out" 2>/dev/null && break; sleep 0.1; done
is "$(cat "$T_TMP/hang.out")" open "a second producer's transaction stays open"
is "$(timeout 90 "$PY" "$E2E" run "$BOOTSTRAP" main-tx txk commit:c4 2>"$T_TMP/run2.err")" "commit ok" \
    "a later transaction commits behind the open one"

PART=$BROKER_DATA/txk-0
"$PY" "$TOOL" state "$BROKER_PORT" txk >"$T_TMP/state.before"
diag "state before:" "$(cat "$T_TMP/state.before")"
# Offsets: c1 c2 0-1, COMMIT 2, a1 a2 3-4, ABORT 5, c3 6, COMMIT 7, h1 8 (open), c4 9, COMMIT 10.
is "$(grep -E '^(lso|hw|committed-batches)' "$T_TMP/state.before")" \
    "$(printf 'lso 8\nhw 11\ncommitted-batches 0 2 3 5 6 7')" \
    "LSO 8 at the open transaction; read_committed returns the batches below it"
main_pid=$(awk '$1 == "aborted" { print $2 }' "$T_TMP/state.before")
like "$(grep '^aborted' "$T_TMP/state.before")" "^aborted [0-9]+ 3$" \
    "AbortedTransactions: the main producer's transaction from offset 3"
is "$("$PY" "$TOOL" txnindex "$PART/00000000000000000000.txnindex")" "0 $main_pid 3 5 6" \
    ".txnindex: {pid $main_pid, first 3, last 5 (the ABORT marker), LSO 6}"
like "$(grep '^producer' "$T_TMP/state.before" | awk '$6 == 8')" "^producer [0-9]+ 0 0 -1 8$" \
    "DescribeProducers: the hanging producer (epoch 0, last sequence 0, no marker yet) has its transaction open at 8"
committed=$(printf 'c1\nc2\nc3')
everything=$(printf 'c1\nc2\na1\na2\nc3\nh1\nc4')
consumers() { # consumers WHAT
    is "$(timeout 60 "$PY" "$TOOL" consume "$BOOTSTRAP" txk read_committed | awk '{ print $2 }')" \
        "$committed" "$1: read_committed consumer: c1 c2 c3 (aborted dropped, stops at the LSO)"
    is "$(timeout 60 "$PY" "$TOOL" consume "$BOOTSTRAP" txk read_uncommitted | awk '{ print $2 }')" \
        "$everything" "$1: read_uncommitted consumer: every record"
}
consumers "before the crash"
cp "$PART/00000000000000000000.txnindex" "$T_TMP/txnindex.before"

broker_kill9
_broker_spawn
"$PY" "$TOOL" state "$BROKER_PORT" txk >"$T_TMP/state.after"
is "$(cat "$T_TMP/state.after")" "$(cat "$T_TMP/state.before")" \
    "after kill -9: LSO, HW, read_committed batches, aborted list and producers identical"
cmp -s "$PART/00000000000000000000.txnindex" "$T_TMP/txnindex.before"
ok $? "after kill -9: .txnindex identical"
consumers "after kill -9"
kill "$HANG" 2>/dev/null
wait "$HANG" 2>/dev/null
broker_stop_ok
done_testing
