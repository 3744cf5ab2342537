#!/usr/bin/env bash
# ssl.client.auth and the certificate principal: PKCS12 key and trust
# stores with client auth required on SSL; a second SSL listener OPTIONAL
# with listener.name.optional.* overrides (PEM key store of another serial,
# client auth requested, principal mapping rules).  kcat and
# confluent-kafka with and without client certificates; the principal each
# connection gets (User:<DN> by DEFAULT, mapped by the rules, ANONYMOUS
# without a certificate) is read from the broker's debug log.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tls_lib.sh"
need_cmd kcat
need_python_module confluent_kafka

C=$T_TMP/certs
tls_make_certs "$C"
broker_start "listeners=PLAINTEXT://127.0.0.1:0,SSL://127.0.0.1:0,OPTIONAL://127.0.0.1:0" \
    "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,SSL:SSL,OPTIONAL:SSL" \
    "module.load=transport_tls" "log.level=debug" \
    "ssl.keystore.type=PKCS12" "ssl.keystore.location=$C/server.p12" "ssl.keystore.password=kspass" \
    "ssl.truststore.type=PKCS12" "ssl.truststore.location=$C/trust.p12" "ssl.truststore.password=tspass" \
    "ssl.client.auth=required" \
    "listener.name.optional.ssl.client.auth=requested" \
    "listener.name.optional.ssl.keystore.type=PEM" \
    "listener.name.optional.ssl.keystore.location=$C/server2-full.pem" \
    "listener.name.optional.ssl.principal.mapping.rules=RULE:^CN=([a-z]+),OU=(.*?),O=Sluice\$/\$1@\$2/U, DEFAULT"
SSL_PORT=$(broker_listener_port SSL)
OPT_PORT=$(broker_listener_port OPTIONAL)
LOG=$(broker_log)
CERT="-X ssl.certificate.location=$C/client.pem -X ssl.key.location=$C/client.key"
ks() { # ks PORT [kcat args...]
    local port=$1
    shift
    timeout 30 kcat -b "127.0.0.1:$port" -q -X security.protocol=ssl -X ssl.ca.location="$C/ca.pem" "$@"
}

is "$(tls_serial 127.0.0.1:$SSL_PORT -cert "$C/client.pem" -key "$C/client.key")" "1001" \
    "SSL presents the PKCS12 key store's certificate (serial 1001)"
is "$(tls_serial 127.0.0.1:$OPT_PORT)" "1002" \
    "OPTIONAL presents its listener.name.optional PEM key store (serial 1002)"

# --- required: with a certificate
printf 'a:1\nb:2\nc:3\n' | ks "$SSL_PORT" $CERT -P -t auth1 -K:
ok $? "kcat with a client certificate produces on SSL (client auth required)"
got=$(ks "$SSL_PORT" $CERT -C -t auth1 -e -o beginning -f '%k=%s@%o\n')
is "$got" "$(printf 'a=1@0\nb=2@1\nc=3@2')" "... and reads the records back"
like "$(grep 'on SSL: principal' "$LOG" | tail -n 1)" "principal User:CN=client,OU=eng,O=Sluice$" \
    "DEFAULT mapping: principal User:CN=client,OU=eng,O=Sluice"

# --- required: without a certificate, and with one from another CA
n_before=$(grep -c 'on SSL: handshake failed' "$LOG")
out=$(timeout 30 kcat -b "127.0.0.1:$SSL_PORT" -X security.protocol=ssl -X ssl.ca.location="$C/ca.pem" -L -m 3 2>&1)
ok $(($? == 0)) "kcat without a client certificate is refused on SSL"
like "$out" "alert certificate required" "... with the TLS alert certificate_required"
out=$(ks "$SSL_PORT" -X ssl.certificate.location="$C/other-client.pem" \
    -X ssl.key.location="$C/other-client.key" -L -m 3 2>&1)
ok $(($? == 0)) "kcat with a certificate from an unrelated CA is refused"
sleep 0.2
like "$(grep 'on SSL: handshake failed' "$LOG" | tail -n 3)" "peer did not return a certificate|certificate required|unable to get local issuer" \
    "broker logs the failed handshakes with the reason"
n_after=$(grep -c 'on SSL: handshake failed' "$LOG")
ok $((n_after > n_before ? 0 : 1)) "failed handshakes are logged with the peer ($n_before -> $n_after)"

# --- requested (OPTIONAL listener): anonymous without, mapped with
got=$(ks "$OPT_PORT" -C -t auth1 -e -o beginning -f '%k\n')
is "$got" "$(printf 'a\nb\nc')" "kcat without a certificate reads on OPTIONAL (client auth requested)"
like "$(grep 'on OPTIONAL: principal' "$LOG" | tail -n 1)" "principal User:ANONYMOUS$" \
    "no certificate: principal User:ANONYMOUS"
got=$(ks "$OPT_PORT" $CERT -C -t auth1 -e -o beginning -f '%k\n')
is "$got" "$(printf 'a\nb\nc')" "kcat with a certificate reads on OPTIONAL"
like "$(grep 'on OPTIONAL: principal' "$LOG" | tail -n 1)" "principal User:CLIENT@ENG$" \
    "listener.name.optional.ssl.principal.mapping.rules: principal User:CLIENT@ENG"
out=$(ks "$OPT_PORT" -X ssl.certificate.location="$C/other-client.pem" \
    -X ssl.key.location="$C/other-client.key" -L -m 3 2>&1)
ok $(($? == 0)) "requested: a certificate that does not verify is still refused"

# --- confluent-kafka
run_client "$PY" "$T_CLIENTS/tls_confluent.py" "127.0.0.1:$SSL_PORT" "$C" auth2
done_testing
