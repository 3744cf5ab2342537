#!/usr/bin/env bash
# The ACL authorizer (authorizer_acl) with kafka-python over SASL PLAIN
# (clients/acl_suite.py): super.users, CreateAcls/DescribeAcls/DeleteAcls
# (MATCH and ANY filters), allow and deny per operation with Kafka's error
# codes (produce, fetch, group join/commit, create/delete topic, describe
# configs, Metadata filtering), prefixed and wildcard patterns, deny wins;
# the ACLs survive a restart.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/security_lib.sh"
need_python_module kafka
[ -f "$SLUICE_TOP_BUILDDIR/modules/authorizer_acl/.libs/authorizer_acl.so" ] || skip_all "authorizer not built"

broker_start "${SECURITY_LINES[@]}" "module.load=authorizer_acl" "super.users=User:admin"
run_client "$PY" "$T_CLIENTS/acl_suite.py" "$(broker_listener_port SASL_PLAINTEXT)" main
broker_restart
like "$(cat "$(broker_log)")" "\[authorizer_acl\] 6 ACL\(s\) loaded, 1 super user\(s\)" "the ACLs are loaded at start-up"
run_client "$PY" "$T_CLIENTS/acl_suite.py" "$(broker_listener_port SASL_PLAINTEXT)" after-restart
# PLAINTEXT clients are User:ANONYMOUS: no ACL names them.
out=$(echo x | timeout 20 kcat -b "$BOOTSTRAP" -P -t orders 2>&1)
like "$out" "Topic authorization failed|TOPIC_AUTHORIZATION_FAILED|authorization" \
    "User:ANONYMOUS (PLAINTEXT) is denied without an ACL"
no_secrets_in_logs
done_testing
