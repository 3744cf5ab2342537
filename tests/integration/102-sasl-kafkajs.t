#!/usr/bin/env bash
# kafkajs with SCRAM-SHA-256 and SCRAM-SHA-512 (tests/js/kafkajs_sasl.js):
# produce and consume with a group, a wrong password refused with
# SASL_AUTHENTICATION_FAILED, and KIP-368 re-authentication: with
# connections.max.reauth.ms=3000 kafkajs keeps producing over three session
# lifetimes, re-authenticating on its connections (the broker logs it).
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/security_lib.sh"
need_node_module kafkajs
[ -f "$SLUICE_TOP_BUILDDIR/modules/sasl_scram/.libs/sasl_scram.so" ] || skip_all "sasl modules not built"

broker_start "${SECURITY_LINES[@]}" "connections.max.reauth.ms=3000" "log.level=debug"
run_client node "$T_JS/kafkajs_sasl.js" "127.0.0.1:$(broker_listener_port SASL_PLAINTEXT)" carol \
    "$PW_CAROL256" "$PW_CAROL512" 3000
log=$(cat "$(broker_log)")
like "$log" "re-authenticated as User:carol with SCRAM-SHA-256 \(session lifetime 3000 ms\)" \
    "the broker saw kafkajs re-authenticate (KIP-368)"
got=$(timeout 30 kcat -b "$BOOTSTRAP" -C -t kjs-SCRAM-SHA-512 -o beginning -e -q -f '%s\n' | head -3)
is "$got" "$(printf 'SCRAM-SHA-512 0\nSCRAM-SHA-512 1\nSCRAM-SHA-512 2')" "kcat (PLAINTEXT) reads what kafkajs wrote over SASL"
no_secrets_in_logs
done_testing
