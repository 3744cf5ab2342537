#!/usr/bin/env bash
# SASL_SSL: the SASL framework over the TLS transport (transport_tls) with
# PLAIN and SCRAM-SHA-512 through kcat and confluent-kafka, per-listener
# mechanisms (listener.name.sasl_ssl.sasl.enabled.mechanisms), the SASL
# principal replacing the TLS one for ACLs, and a wrong password failing.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tls_lib.sh"
. "$(dirname "$0")/security_lib.sh"
need_cmd kcat
need_python_module confluent_kafka
[ -f "$SLUICE_TOP_BUILDDIR/modules/transport_tls/.libs/transport_tls.so" ] || skip_all "transport_tls not built"

C=$T_TMP/certs
tls_make_certs "$C"
broker_start "${SECURITY_LINES[@]}" \
    "listeners=PLAINTEXT://127.0.0.1:0,SASL_PLAINTEXT://127.0.0.1:0,SASL_SSL://127.0.0.1:0" \
    "module.load=transport_tls" "ssl.keystore.type=PEM" "ssl.keystore.location=$C/server-full.pem" \
    "listener.name.sasl_ssl.sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-512" \
    "module.load=authorizer_acl" "super.users=User:alice;User:carol"
SSLP=$(broker_listener_port SASL_SSL)
like "$SSLP" '^[0-9]+$' "SASL_SSL listener bound ($SSLP)"
ks() { timeout 30 kcat -b "127.0.0.1:$SSLP" -X security.protocol=SASL_SSL -X ssl.ca.location="$C/ca.pem" \
       -X sasl.mechanisms="$1" -X sasl.username="$2" -X sasl.password="$3" "${@:4}"; }

seq 1 20 | sed 's/^/sasl-ssl plain /' | ks PLAIN alice "$PW_ALICE" -P -t ssl1
ok $? "kcat SASL_SSL PLAIN: 20 records produced (alice is a super user)"
got=$(ks SCRAM-SHA-512 carol "$PW_CAROL512" -C -t ssl1 -o beginning -e -q -f '%o %s\n')
is "$got" "$(for i in $(seq 1 20); do echo "$((i - 1)) sasl-ssl plain $i"; done)" \
    "kcat SASL_SSL SCRAM-SHA-512 reads them back with offsets"
out=$(echo x | ks SCRAM-SHA-256 carol "$PW_CAROL256" -P -t ssl1 2>&1)
like "$out" "[Uu]nsupported SASL mechanism|UNSUPPORTED_SASL_MECHANISM|not supported" \
    "SCRAM-SHA-256 is not enabled on the SASL_SSL listener (listener.name override)"
out=$(echo x | ks PLAIN alice "$PW_ALICE-wrong" -P -t ssl1 2>&1)
like "$out" "Authentication failed|authentication error" "wrong password over SASL_SSL fails"
out=$(echo x | ks PLAIN bob "$PW_BOB" -P -t ssl1 2>&1)
like "$out" "[Aa]uthoriz" "bob (no ACL) over SASL_SSL: authorization failure for his SASL principal"
run_client "$PY" - <<PYEOF
import sys
sys.path.insert(0, "$T_CLIENTS")
from confluent_kafka import Producer, Consumer
from taplib import Tap
t = Tap()
conf = {"bootstrap.servers": "127.0.0.1:$SSLP", "security.protocol": "SASL_SSL",
        "ssl.ca.location": "$C/ca.pem", "sasl.mechanisms": "SCRAM-SHA-512",
        "sasl.username": "carol", "sasl.password": "$PW_CAROL512"}
p = Producer(conf)
for i in range(10):
    p.produce("ssl2", ("ck %d" % i).encode())
t.is_(p.flush(20), 0, "confluent-kafka SASL_SSL SCRAM-SHA-512: 10 records acknowledged")
c = Consumer(dict(conf, **{"group.id": "g-ssl", "auto.offset.reset": "earliest"}))
c.subscribe(["ssl2"])
got = []
for _ in range(60):
    m = c.poll(1.0)
    if m is not None and not m.error():
        got.append(m.value().decode())
    if len(got) >= 10:
        break
c.close()
t.is_(got, ["ck %d" % i for i in range(10)], "confluent-kafka SASL_SSL: group consumer reads them back")
PYEOF
no_secrets_in_logs
done_testing
