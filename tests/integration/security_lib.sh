# Shared set-up of the SASL/ACL tests (100-109): users for sasl_plain (a
# Kafka JAAS-style file), SCRAM users bootstrapped with add.scram, and the
# broker lines for a PLAINTEXT plus a SASL_PLAINTEXT listener.
# Passwords are test fixtures, generated per run.

PW_ADMIN=admin-$RANDOM$RANDOM
PW_ALICE=alice-$RANDOM$RANDOM
PW_BOB=bob-$RANDOM$RANDOM
PW_CAROL256=carol-$RANDOM$RANDOM
PW_CAROL512=carol512-$RANDOM$RANDOM
cat >"$T_TMP/users.jaas" <<JAAS
KafkaServer {
    org.apache.kafka.common.security.plain.PlainLoginModule required
    user_admin="$PW_ADMIN"
    user_alice="$PW_ALICE"
    user_bob="$PW_BOB";
};
JAAS
SECURITY_LINES=(
    "listeners=PLAINTEXT://127.0.0.1:0,SASL_PLAINTEXT://127.0.0.1:0"
    "module.load=sasl_plain" "module.load=sasl_scram"
    "module.sasl_plain.users.file=$T_TMP/users.jaas"
    "module.sasl_scram.add.scram=SCRAM-SHA-256=[name=carol,password=$PW_CAROL256];SCRAM-SHA-512=[name=carol,password=$PW_CAROL512,iterations=8192]"
)
# sasl_args MECH USER PASS: kcat -X options for SASL_PLAINTEXT.
sasl_args() {
    echo "-X security.protocol=SASL_PLAINTEXT -X sasl.mechanisms=$1 -X sasl.username=$2 -X sasl.password=$3"
}
# no_secrets_in_logs: none of the passwords appears in any broker log.
no_secrets_in_logs() {
    local f hit=0
    for f in "${T_LOGS[@]}"; do
        grep -qF -e "$PW_ADMIN" -e "$PW_ALICE" -e "$PW_BOB" -e "$PW_CAROL256" -e "$PW_CAROL512" "$f" && hit=1
    done
    is "$hit" 0 "no password appears in the broker logs"
}
export PW_ADMIN PW_ALICE PW_BOB PW_CAROL256 PW_CAROL512
