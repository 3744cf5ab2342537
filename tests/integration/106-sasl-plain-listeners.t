#!/usr/bin/env bash
# PLAIN users per listener, as Kafka configures them: a listener with its
# own listener.name.<listener>.plain.sasl.jaas.config authenticates only
# those users; the other SASL listeners use the module's users file.
# Checked with kcat on two SASL_PLAINTEXT listeners (SASL_PLAINTEXT and a
# named INTERNAL one): each user gets in where it belongs and only there.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/security_lib.sh"
need_cmd kcat
[ -f "$SLUICE_TOP_BUILDDIR/modules/sasl_plain/.libs/sasl_plain.so" ] || skip_all "sasl modules not built"

PW_INTERNAL=internal-$RANDOM$RANDOM
broker_start \
    "listeners=PLAINTEXT://127.0.0.1:0,SASL_PLAINTEXT://127.0.0.1:0,INTERNAL://127.0.0.1:0" \
    "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT,INTERNAL:SASL_PLAINTEXT" \
    "module.load=sasl_plain" "module.sasl_plain.users.file=$T_TMP/users.jaas" \
    "listener.name.internal.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username=\"svc\" password=\"$PW_INTERNAL\" user_svc=\"$PW_INTERNAL\";"
like "$(cat "$(broker_log)")" "4 PLAIN user\(s\) loaded \(1 listener\(s\) with their own\)" \
    "the module loads the file's users and INTERNAL's own"
EXT=127.0.0.1:$(broker_listener_port SASL_PLAINTEXT)
INT=127.0.0.1:$(broker_listener_port INTERNAL)

# try ADDR USER PASS: "ok" when the user can produce one record, else "denied".
try() {
    if echo "from $2" | timeout 30 kcat -b "$1" $(sasl_args PLAIN "$2" "$3") -P -t plain-listeners \
        >"$T_TMP/try.out" 2>&1 && ! grep -qi "authentication" "$T_TMP/try.out"; then
        echo ok
    else
        echo denied
    fi
}
is "$(try "$EXT" alice "$PW_ALICE")" ok "alice (users file) authenticates on SASL_PLAINTEXT"
is "$(try "$INT" svc "$PW_INTERNAL")" ok "svc (INTERNAL's jaas config) authenticates on INTERNAL"
is "$(try "$INT" alice "$PW_ALICE")" denied "alice is not a user of INTERNAL, which has its own"
is "$(try "$EXT" svc "$PW_INTERNAL")" denied "svc is not a user of SASL_PLAINTEXT"
is "$(try "$INT" svc "wrong-$PW_INTERNAL")" denied "svc with a wrong password is refused"
got=$(timeout 30 kcat -b "$BOOTSTRAP" -C -t plain-listeners -o beginning -e -q -f '%s\n' | sort | tr '\n' ' ')
is "$got" "from alice from svc " "exactly the two authenticated produces reached the topic"
no_secrets_in_logs
grep -qF "$PW_INTERNAL" "$(broker_log)"
is "$?" 1 "INTERNAL's password does not appear in the log either"
done_testing
