#!/usr/bin/env bash
# The SASL framework on the wire (clients/sasl_raw.py, no client library):
# only ApiVersions/SaslHandshake before authentication (anything else closes
# the connection, as Kafka does), UNSUPPORTED_SASL_MECHANISM with the
# enabled list, SaslAuthenticate v0-2, the legacy raw tokens after
# SaslHandshake v0, failures answered after
# connection.failed.authentication.delay.ms then closed, KIP-368
# (SessionLifetimeMs, re-authentication, expiry closes, no principal
# change), Alter/DescribeUserScramCredentials with Kafka's error codes (the
# authorizer with super.users guards them), and with the authorizer: the
# authorized-operations fields of Metadata v12 and DescribeCluster, and the
# refusals of InitProducerId, FindCoordinator and ConsumerGroupHeartbeat,
# and KIP-679: an idempotent InitProducerId allowed by a WRITE ACL on a
# topic prefix no topic has yet, denied again by a DENY WRITE on "*".
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/security_lib.sh"
[ -f "$SLUICE_TOP_BUILDDIR/modules/sasl_scram/.libs/sasl_scram.so" ] || skip_all "sasl modules not built"

broker_start "${SECURITY_LINES[@]}" "module.load=authorizer_acl" "super.users=User:admin" \
    "connections.max.reauth.ms=2000" "connection.failed.authentication.delay.ms=300"
run_client "$PY" "$T_CLIENTS/sasl_raw.py" "$(broker_listener_port SASL_PLAINTEXT)" 2000 300
log=$(cat "$(broker_log)")
like "$log" "session of User:alice expired without re-authentication" "the expiry close is logged"
like "$log" "unexpected request of api key 3 during SASL handshake: closing" \
    "the pre-authentication refusal is logged"
no_secrets_in_logs
done_testing
