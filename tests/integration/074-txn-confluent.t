#!/usr/bin/env bash
# Transactions with confluent-kafka (librdkafka): one transactional
# producer writes three transactions across two topics (committed, aborted,
# committed); read_committed consumers see the committed records only,
# read_uncommitted ones everything, in order and without control records.
# The coordinator's log __transaction_state holds Kafka's records (read
# back here with a decoder of Kafka's own format), and after a restart the
# reloaded coordinator continues the same transactional id with the next
# epoch.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"
need_python_module confluent_kafka
need_python_module kafka
S=$T_CLIENTS/txn_suite.py

broker_start "transaction.state.log.num.partitions=5" "offsets.topic.num.partitions=5"
is "$(timeout 90 "$PY" "$S" produce "$BOOTSTRAP" tx-two "commit:ta=a1,a2;tb=b1" \
    "abort:ta=a3;tb=b2,b3" "commit:ta=a4")" "$(printf 'commit ok\nabort ok\ncommit ok')" \
    "three transactions over two topics: commit, abort, commit"

rc() { timeout 90 "$PY" "$S" consume "$BOOTSTRAP" "$1" "$2" | tr '\n' ' '; }
is "$(rc ta read_committed)" "a1 a2 a4 " "ta read_committed: the committed records only"
is "$(rc tb read_committed)" "b1 " "tb read_committed: the committed record only"
is "$(rc ta read_uncommitted)" "a1 a2 a3 a4 " "ta read_uncommitted: every record, no marker"
is "$(rc tb read_uncommitted)" "b1 b2 b3 " "tb read_uncommitted: every record, no marker"

state=$(timeout 30 "$PY" "$T_CLIENTS/txn_state_tool.py" dump "$BROKER_DATA")
like "$state" "^tx-two CompleteCommit pid=[0-9]+ epoch=0 timeout=60000 partitions=$" \
    "__transaction_state: tx-two completed its last transaction (Kafka's record format)"
ls -d "$BROKER_DATA"/__transaction_state-4 >/dev/null; ok $? "__transaction_state has 5 partitions"

broker_restart
is "$(timeout 90 "$PY" "$S" produce "$BOOTSTRAP" tx-two "commit:tb=b4")" "commit ok" \
    "after a restart the same transactional id commits again"
state=$(timeout 30 "$PY" "$T_CLIENTS/txn_state_tool.py" dump "$BROKER_DATA")
like "$state" "^tx-two CompleteCommit pid=[0-9]+ epoch=1 " \
    "the reloaded coordinator bumped the epoch of the loaded id to 1"
is "$(rc tb read_committed)" "b1 b4 " "tb read_committed after the restart"
done_testing
