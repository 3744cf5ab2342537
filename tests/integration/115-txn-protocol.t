#!/usr/bin/env bash
# The transaction coordinator on the wire (raw frames, exact error codes):
# see tests/integration/clients/txn_protocol.py.  Then the records of the
# committed transaction: read_committed sees the transactional record of
# partition 0.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"
need_python_module kafka
need_python_module confluent_kafka
export PYTHONPATH=$T_CLIENTS

broker_start "transaction.state.log.num.partitions=3" "offsets.topic.num.partitions=3"
is "$(timeout 90 "$PY" "$T_CLIENTS/admin_tool.py" "$BOOTSTRAP" create rawtx 3)" NO_ERROR \
    "create topic rawtx with 3 partitions"
run_client "$PY" "$T_CLIENTS/txn_protocol.py" "$BROKER_PORT" rawtx
is "$(timeout 90 "$PY" "$T_CLIENTS/txn_suite.py" consume "$BOOTSTRAP" rawtx read_committed 3 | tr '\n' ' ')" \
    "in-txn " "read_committed: the committed transactional record only"
done_testing
