#!/usr/bin/env bash
# SASL_PLAINTEXT with PLAIN (sasl_plain, JAAS-style users file), SCRAM-SHA-256
# and SCRAM-SHA-512 (sasl_scram, users bootstrapped with add.scram) through
# kcat, confluent-kafka and kafka-python (the legacy unwrapped v0 flow):
# produce, consume, contents and offsets checked; wrong passwords fail with
# an authentication error that the broker logs with the peer address, and no
# password reaches the log.  The PLAINTEXT listener keeps working beside it.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/security_lib.sh"
need_cmd kcat
need_python_module confluent_kafka
need_python_module kafka
[ -f "$SLUICE_TOP_BUILDDIR/modules/sasl_scram/.libs/sasl_scram.so" ] || skip_all "sasl modules not built"

# Without any security module the broker says it serves PLAINTEXT only, and
# a SASL listener without a mechanism stops the start-up naming the listener.
broker_start
like "$(cat "$(broker_log)")" "no security module loaded \(TLS, SASL, authorizer\): serving PLAINTEXT only" \
    "without security modules the broker logs that it serves PLAINTEXT only"
broker_stop_ok "plain broker stops cleanly"
printf 'listeners=SASL_PLAINTEXT://127.0.0.1:0\nlog.dirs=%s\nplugin.dir=%s\nmodule.load=assignor_range\nmodule.load=assignor_sticky\n' \
    "$T_TMP/nosasl" "$T_PLUGINS" >"$T_TMP/nosasl.properties"
out=$(timeout 20 "$SLUICED" -c "$T_TMP/nosasl.properties" 2>&1)
rc=$?
is "$rc" 1 "a SASL_PLAINTEXT listener without a SASL module: sluiced exits 1"
like "$out" "listener SASL_PLAINTEXT uses SASL_PLAINTEXT, which needs SASL authentication: no SASL mechanism is enabled" \
    "... naming the listener and what is missing"
printf 'sasl.enabled.mechanisms=GSSAPI\nmodule.load=sasl_plain\nmodule.sasl_plain.users.file=%s\n' \
    "$T_TMP/users.jaas" >>"$T_TMP/nosasl.properties"
out=$(timeout 20 "$SLUICED" -c "$T_TMP/nosasl.properties" 2>&1)
like "$out" "sasl.enabled.mechanisms: GSSAPI is not provided by any loaded module" \
    "an enabled mechanism no module provides stops the start-up"

broker_start "${SECURITY_LINES[@]}"
SP=$(broker_listener_port SASL_PLAINTEXT)
SASL=127.0.0.1:$SP
like "$(cat "$(broker_log)")" "listening on SASL_PLAINTEXT://127\.0\.0\.1:$SP" "SASL_PLAINTEXT listener bound"

kc() { timeout 30 kcat -b "$SASL" $(sasl_args "$1" "$2" "$3") "${@:4}"; }
i=0
for m in "PLAIN alice $PW_ALICE" "SCRAM-SHA-256 carol $PW_CAROL256" "SCRAM-SHA-512 carol $PW_CAROL512"; do
    set -- $m
    i=$((i + 1))
    topic=kcat-$i
    seq 1 50 | sed "s/^/$1 record /" | kc "$1" "$2" "$3" -P -t "$topic" 2>"$T_TMP/kc.err"
    ok $? "kcat $1: 50 records produced"
    got=$(kc "$1" "$2" "$3" -C -t "$topic" -o beginning -e -q -f '%o %s\n' 2>>"$T_TMP/kc.err")
    is "$got" "$(for n in $(seq 1 50); do echo "$((n - 1)) $1 record $n"; done)" \
        "kcat $1: consumed back with offsets 0..49"
    out=$(echo x | kc "$1" "$2" "$3-wrong" -P -t "$topic" 2>&1)
    like "$out" "Authentication failed|authentication error" "kcat $1: wrong password fails to authenticate"
    run_client "$PY" "$T_CLIENTS/sasl_confluent.py" "$SASL" "$1" "$2" "$3" "ck-$i"
    run_client "$PY" "$T_CLIENTS/sasl_kafka_python.py" "$SASL" "$1" "$2" "$3" "kp-$i"
done
# The PLAIN user may not use SCRAM (no credential), and vice versa.
out=$(echo x | kc SCRAM-SHA-256 alice "$PW_ALICE" -P -t t 2>&1)
like "$out" "Authentication failed|authentication error" "a PLAIN-only user has no SCRAM credential"
log=$(cat "$(broker_log)")
like "$log" "127\.0\.0\.1:[0-9]+: failed authentication with SCRAM-SHA-512 on listener SASL_PLAINTEXT" \
    "failed authentications are logged with the peer address and mechanism"
# PLAINTEXT still serves, as User:ANONYMOUS, with no authorizer loaded.
got=$(timeout 30 kcat -b "$BOOTSTRAP" -C -t kcat-1 -o beginning -c 1 -q -f '%s\n')
is "$got" "PLAIN record 1" "the PLAINTEXT listener still serves the same topics"
no_secrets_in_logs
done_testing
