#!/usr/bin/env bash
# Transactions under the ACL authorizer over SASL PLAIN: FindCoordinator
# DESCRIBE and InitProducerId/AddPartitionsToTxn/EndTxn/Produce WRITE on
# the transactional id (see clients/txn_acl.py).
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/security_lib.sh"
need_python_module kafka
need_python_module confluent_kafka
[ -f "$SLUICE_TOP_BUILDDIR/modules/authorizer_acl/.libs/authorizer_acl.so" ] || skip_all "authorizer not built"
export PYTHONPATH=$T_CLIENTS

broker_start "${SECURITY_LINES[@]}" "module.load=authorizer_acl" "super.users=User:admin" \
    "transaction.state.log.num.partitions=2" "num.partitions=1"
run_client "$PY" "$T_CLIENTS/txn_acl.py" "$(broker_listener_port SASL_PLAINTEXT)"
no_secrets_in_logs
done_testing
