#!/usr/bin/env bash
# transactional.id.expiration.ms: an id with no transaction for longer is
# removed by the coordinator (checked every
# transaction.remove.expired.transaction.cleanup.interval.ms) with a
# tombstone in __transaction_state, so it stays gone after a restart, and
# its next InitProducerId starts over with a new producer id at epoch 0.
# The broker runs with log.flush.interval.messages=1: every transition and
# marker is fsynced before it counts.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"
need_python_module confluent_kafka
need_python_module kafka
S=$T_CLIENTS/txn_suite.py
TOOL=$T_CLIENTS/txn_state_tool.py

broker_start "transaction.state.log.num.partitions=2" "log.flush.interval.messages=1" \
    "transactional.id.expiration.ms=2000" \
    "transaction.remove.expired.transaction.cleanup.interval.ms=500"
is "$(timeout 90 "$PY" "$S" produce "$BOOTSTRAP" idle "commit:ex=e1" "abort:ex=e2")" \
    "$(printf 'commit ok\nabort ok')" "a committed and an aborted transaction of id idle"
first=$(timeout 30 "$PY" "$TOOL" dump "$BROKER_DATA" | grep '^idle ')
like "$first" "^idle CompleteAbort pid=[0-9]+ epoch=0 " "idle completed its transactions"
pid1=$(sed -E 's/.* pid=([0-9]+) .*/\1/' <<<"$first")
st=""
for _ in $(seq 1 100); do
    st=$(timeout 30 "$PY" "$TOOL" dump "$BROKER_DATA" | grep '^idle ')
    [ "$st" = "idle tombstone" ] && break
    sleep 0.2
done
is "$st" "idle tombstone" "after 2 s idle the id is removed: a tombstone in __transaction_state"
broker_restart
is "$(timeout 90 "$PY" "$S" produce "$BOOTSTRAP" idle "commit:ex=e3")" "commit ok" \
    "after a restart the expired id initialises again"
again=$(timeout 30 "$PY" "$TOOL" dump "$BROKER_DATA" | grep '^idle ')
like "$again" "^idle CompleteCommit pid=[0-9]+ epoch=0 " "as a new id: epoch 0"
pid2=$(sed -E 's/.* pid=([0-9]+) .*/\1/' <<<"$again")
[ "$pid2" != "$pid1" ]; ok $? "with a new producer id ($pid1 -> $pid2)"
is "$(timeout 90 "$PY" "$S" consume "$BOOTSTRAP" ex read_committed | tr '\n' ' ')" "e1 e3 " \
    "read_committed: the two committed records"
done_testing
