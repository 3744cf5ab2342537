#!/usr/bin/env bash
# kill -9 of the broker in the middle of transactions.
#  - Ongoing: a producer has written records in an open transaction when
#    the broker dies; after the restart the coordinator (reloaded from
#    __transaction_state) aborts it once its timeout passes, and
#    read_committed consumers get past it without seeing its records.
#  - PrepareCommit / PrepareAbort: the broker dies after the PrepareX
#    record is durable but before any marker (made exact by appending that
#    record to the stopped broker's __transaction_state, as the coordinator
#    writes it); after the restart the coordinator writes the markers and
#    CompleteCommit / CompleteAbort: the committed records become visible,
#    the aborted ones never do.
# Committed data written before the crash is never lost.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"
need_python_module confluent_kafka
need_python_module kafka
S=$T_CLIENTS/txn_suite.py
TOOL=$T_CLIENTS/txn_state_tool.py

broker_start "transaction.state.log.num.partitions=3" \
    "transaction.abort.timed.out.transaction.cleanup.interval.ms=500"
is "$(timeout 90 "$PY" "$S" produce "$BOOTSTRAP" base "commit:k1=c1;k2=c1;k3=c1")" "commit ok" \
    "committed records in k1, k2 and k3 before the crashes"

open_txn() { # open_txn TXID TOPIC VALUES TIMEOUT_MS [GROUP:OFFSET]: leaves a hung producer in $hang
    "$PY" "$S" hang "$BOOTSTRAP" "$@" >"$T_TMP/$1.out" 2>"$T_TMP/$1.err" &
    hang=$!
    for _ in $(seq 1 300); do grep -q open "$T_TMP/$1.out" && break; sleep 0.1; done
    is "$(cat "$T_TMP/$1.out")" "open" "$1: transaction open with records $3 in $2"
}
wait_state() { # wait_state TXID REGEX
    local st=""
    for _ in $(seq 1 100); do
        st=$(timeout 30 "$PY" "$TOOL" dump "$BROKER_DATA" | grep "^$1 ")
        [[ $st =~ $2 ]] && break
        sleep 0.2
    done
    echo "$st"
}
rc() { timeout 90 "$PY" "$S" consume "$BOOTSTRAP" "$1" "$2" | tr '\n' ' '; }

# ---- Ongoing
open_txn ongoing k1 o1,o2 4000 g-ongoing:2
broker_kill9
kill "$hang" 2>/dev/null; wait "$hang" 2>/dev/null
like "$(timeout 30 "$PY" "$TOOL" dump "$BROKER_DATA" | grep '^ongoing ')" \
    "^ongoing Ongoing pid=[0-9]+ epoch=0 timeout=4000 partitions=__consumer_offsets-[0-9]+,k1-0$" \
    "the crash left ongoing in state Ongoing with k1-0 and its group's offsets partition"
_broker_spawn
like "$(wait_state ongoing CompleteAbort)" "^ongoing CompleteAbort pid=[0-9]+ epoch=1 " \
    "after the restart the reloaded transaction timed out and was aborted (epoch 1)"
is "$(rc k1 read_committed)" "c1 " "k1 read_committed: committed data kept, aborted data invisible"
is "$(rc k1 read_uncommitted)" "c1 o1 o2 " "k1 read_uncommitted: the aborted records are in the log"
is "$(timeout 60 "$PY" "$S" committed "$BOOTSTRAP" g-ongoing k1)" "-1001" \
    "the aborted transaction's offset commit was dropped (no committed offset)"

# ---- PrepareCommit and PrepareAbort
open_txn pcommit k2 p1,p2 60000 g-pcommit:3
h1=$hang
open_txn pabort k3 a1,a2 60000
h2=$hang
broker_kill9
kill "$h1" "$h2" 2>/dev/null; wait "$h1" "$h2" 2>/dev/null
like "$(timeout 30 "$PY" "$TOOL" prepare "$BROKER_DATA" pcommit 2)" "^appended PrepareCommit" \
    "pcommit: PrepareCommit durable, no marker written (the crash point)"
like "$(timeout 30 "$PY" "$TOOL" prepare "$BROKER_DATA" pabort 3)" "^appended PrepareAbort" \
    "pabort: PrepareAbort durable, no marker written"
_broker_spawn
like "$(wait_state pcommit CompleteCommit)" "^pcommit CompleteCommit pid=[0-9]+ epoch=0 " \
    "after the restart pcommit was completed: CompleteCommit"
like "$(wait_state pabort CompleteAbort)" "^pabort CompleteAbort pid=[0-9]+ epoch=0 " \
    "and pabort: CompleteAbort"
is "$(rc k2 read_committed)" "c1 p1 p2 " "k2 read_committed: the committed transaction is visible"
is "$(timeout 60 "$PY" "$S" committed "$BOOTSTRAP" g-pcommit k2)" "3" \
    "and its offset commit, replayed pending from __consumer_offsets, is committed: 3"
is "$(rc k3 read_committed)" "c1 " "k3 read_committed: the aborted one is not"
is "$(rc k3 read_uncommitted)" "c1 a1 a2 " "k3 read_uncommitted: its records are in the log"

# Everything stays so after a clean restart.
broker_restart
is "$(rc k2 read_committed) $(rc k3 read_committed) $(rc k1 read_committed)" "c1 p1 p2  c1  c1 " \
    "after a clean restart: the same committed data in k2, k3 and k1"
done_testing
