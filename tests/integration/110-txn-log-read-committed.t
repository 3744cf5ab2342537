#!/usr/bin/env bash
# The partition side of transactions through the broker: a partition log
# holding transactional batches of three producers, a COMMIT and an ABORT
# marker (Kafka's control batches) and an open transaction, left to crash
# recovery (no index, no producer snapshot, no clean-shutdown marker).  The
# recovered broker must rebuild the producers' open transaction (LSO 7),
# the aborted-transaction index (.txnindex in Kafka's format), and serve:
# ListOffsets latest per isolation level, Fetch v4 and v12 with the
# LastStableOffset and AbortedTransactions a read_committed consumer needs,
# and confluent-kafka consumers in read_committed (committed data below the
# LSO only, aborted records dropped) and read_uncommitted (everything, no
# control records).  The same answers after kill -9 and after a clean
# restart.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"
need_python_module kafka
need_python_module confluent_kafka
export PYTHONPATH=$T_CLIENTS

broker_start "num.partitions=1"
is "$(timeout 90 "$PY" "$T_CLIENTS/admin_tool.py" "$BOOTSTRAP" create txlog 1)" NO_ERROR \
    "create topic txlog"
broker_stop_ok "broker stops cleanly before the log is replaced"
PART=$BROKER_DATA/txlog-0
[ -d "$PART" ]; ok $? "partition directory $PART exists"
"$PY" "$T_CLIENTS/txn_log_tool.py" write "$PART"; ok $? "transactional log written for recovery"

committed=$(printf '0 c-0\n1 c-1\n2 c-2\n5 p-0')
everything=$(printf '0 c-0\n1 c-1\n2 c-2\n3 a-0\n4 a-1\n5 p-0\n7 o-0\n8 o-1\n9 a-2\n11 p-1\n12 i-0')

round() { # round WHAT
    local what=$1
    is "$("$PY" "$T_CLIENTS/txn_log_tool.py" txnindex "$PART/00000000000000000000.txnindex" 2>&1)" \
        "0 2000 3 10 7" \
        "$what: .txnindex holds {version 0, pid 2000, first 3, last 10, LSO 7}"
    run_client "$PY" "$T_CLIENTS/txn_log_tool.py" check "$BROKER_PORT" txlog
    is "$(timeout 60 "$PY" "$T_CLIENTS/txn_log_tool.py" consume "$BOOTSTRAP" txlog read_committed)" \
        "$committed" "$what: confluent-kafka read_committed sees committed data below the LSO only"
    is "$(timeout 60 "$PY" "$T_CLIENTS/txn_log_tool.py" consume "$BOOTSTRAP" txlog read_uncommitted)" \
        "$everything" "$what: confluent-kafka read_uncommitted sees every record, no control record"
}

_broker_spawn
round "recovered"
broker_kill9
_broker_spawn
round "after kill -9"
broker_restart
round "after a clean restart"
ls "$PART"/*.snapshot >/dev/null 2>&1; ok $? "producer state snapshot written at the clean stop"
broker_stop_ok
done_testing
