#!/usr/bin/env bash
# SCRAM credentials are durable: a user added with AlterUserScramCredentials
# (kafka-python's raw protocol is not enough, so clients/sasl_raw.py's
# helpers through scram_user.py) authenticates with kcat after a clean
# restart and after kill -9; the metadata log holds salted keys, never the
# password.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/security_lib.sh"
need_cmd kcat
[ -f "$SLUICE_TOP_BUILDDIR/modules/sasl_scram/.libs/sasl_scram.so" ] || skip_all "sasl modules not built"

PW_DAVE=dave-$RANDOM$RANDOM
broker_start "${SECURITY_LINES[@]}"
run_client "$PY" "$T_CLIENTS/scram_user.py" "$(broker_listener_port SASL_PLAINTEXT)" dave "$PW_DAVE"
kc() { timeout 30 kcat -b "127.0.0.1:$(broker_listener_port SASL_PLAINTEXT)" $(sasl_args "$1" dave "$2") "${@:3}"; }
echo before | kc SCRAM-SHA-256 "$PW_DAVE" -P -t durable
ok $? "dave produces with SCRAM-SHA-256 right after AlterUserScramCredentials"
broker_restart
echo after-restart | kc SCRAM-SHA-512 "$PW_DAVE" -P -t durable
ok $? "after a clean restart dave authenticates with SCRAM-SHA-512"
broker_kill9
_broker_spawn
got=$(kc SCRAM-SHA-256 "$PW_DAVE" -C -t durable -o beginning -e -q -f '%o %s\n')
is "$got" "$(printf '0 before\n1 after-restart')" "after kill -9 dave authenticates and reads both records"
out=$(echo x | kc SCRAM-SHA-256 "$PW_DAVE-wrong" -P -t durable 2>&1)
like "$out" "Authentication failed|authentication error" "a wrong password still fails after restarts"
grep -rqF "$PW_DAVE" "$BROKER_DATA"
is $? 1 "the password is nowhere in the data directory (salted keys only)"
grep -rqa "SCRAM-SHA-256/dave" "$BROKER_DATA"
is $? 0 "the credential record is in the metadata log"
no_secrets_in_logs
done_testing
