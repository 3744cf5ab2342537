#!/usr/bin/env bash
# TLS start-up errors name the config key at fault (and a broker without
# the TLS module refuses an SSL listener), and certificates reload without
# a restart: when the key store file changes (mtime check every
# module.transport_tls.reload.check.interval.ms) and on SIGHUP; new
# connections see the new certificate's serial, a broken replacement keeps
# the old certificate; advertised.listeners answers per listener.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tls_lib.sh"
need_sluiced

C=$T_TMP/certs
tls_make_certs "$C"
mkdir -p "$BROKER_DATA"

# startup_error DESC REGEX config lines...: sluiced must exit non-zero with
# a message matching REGEX.
startup_error() {
    local desc=$1 re=$2
    shift 2
    broker_render "listeners=PLAINTEXT://127.0.0.1:0,SSL://127.0.0.1:0" "$@"
    local out rc
    out=$(timeout 20 "$SLUICED" -c "$BROKER_CONF" 2>&1 </dev/null)
    rc=$?
    ok $((rc == 0)) "$desc: sluiced refuses to start (status $rc)"
    like "$out" "$re" "$desc: the message names it"
}
PEMKS=("ssl.keystore.type=PEM" "ssl.keystore.location=$C/server-full.pem")

startup_error "SSL listener without the TLS module" \
    "listener SSL uses security protocol SSL, which needs a TLS transport module" "${PEMKS[@]}"
startup_error "SASL_SSL listener (no SASL yet)" \
    "listener SASL_SSL uses SASL_SSL, which needs SASL authentication" "module.load=transport_tls" \
    "${PEMKS[@]}" "listeners=PLAINTEXT://127.0.0.1:0,SASL_SSL://127.0.0.1:0"
startup_error "no key store" "ssl\.keystore\.location is not set" "module.load=transport_tls"
startup_error "missing key store file" \
    "listener SSL \(SSL\): ssl\.keystore\.location: cannot open '$T_TMP/nope.p12'" \
    "module.load=transport_tls" "ssl.keystore.location=$T_TMP/nope.p12"
startup_error "wrong PKCS12 password" "ssl\.keystore\.location: cannot read .*wrong password" \
    "module.load=transport_tls" "ssl.keystore.location=$C/server.p12" "ssl.keystore.password=nope"
startup_error "bad per-listener override" "listener\.name\.ssl\.ssl\.keystore\.location: cannot open" \
    "module.load=transport_tls" "${PEMKS[@]}" "listener.name.ssl.ssl.keystore.location=/nonexistent.pem"
startup_error "JKS key store" "ssl\.keystore\.type: JKS key stores are not supported" \
    "module.load=transport_tls" "ssl.keystore.type=JKS" "ssl.keystore.location=$C/server.p12"
startup_error "unknown TLS version" "ssl\.enabled\.protocols: unknown or unsupported protocol 'TLSv1.4'" \
    "module.load=transport_tls" "${PEMKS[@]}" "ssl.enabled.protocols=TLSv1.2,TLSv1.4"
startup_error "bad mapping rule" "ssl\.principal\.mapping\.rules: invalid rule: .DEFAULT/L." \
    "module.load=transport_tls" "${PEMKS[@]}" "ssl.principal.mapping.rules=DEFAULT/L"
startup_error "client auth without trust store" \
    "ssl\.truststore\.location is not set, but ssl\.client\.auth asks for client certificates" \
    "module.load=transport_tls" "${PEMKS[@]}" "ssl.client.auth=required"
startup_error "bad client auth value" "ssl\.client\.auth: 'sometimes' is not none, requested or required" \
    "module.load=transport_tls" "${PEMKS[@]}" "ssl.client.auth=sometimes"
startup_error "unknown cipher suite" "ssl\.cipher\.suites: unknown cipher suite 'TLS_NOT_A_SUITE'" \
    "module.load=transport_tls" "${PEMKS[@]}" "ssl.cipher.suites=TLS_AES_128_GCM_SHA256,TLS_NOT_A_SUITE"

# --- reload when the key store file changes
KS=$T_TMP/keystore.pem
cp "$C/server-full.pem" "$KS"
broker_start "listeners=PLAINTEXT://127.0.0.1:0,SSL://127.0.0.1:0" "module.load=transport_tls" \
    "ssl.keystore.type=PEM" "ssl.keystore.location=$KS" \
    "module.transport_tls.reload.check.interval.ms=200"
HP=127.0.0.1:$(broker_listener_port SSL)
is "$(tls_serial "$HP")" "1001" "serial 1001 before the change"
# Keep one connection open across the reload.
exec 7< <(sleep 3 | timeout 10 openssl s_client -connect "$HP" -quiet 2>/dev/null)
cp "$C/server2-full.pem" "$KS.new" && mv "$KS.new" "$KS"
serial=
for _ in $(seq 1 50); do
    serial=$(tls_serial "$HP")
    [ "$serial" = "1002" ] && break
    sleep 0.1
done
is "$serial" "1002" "a new connection sees serial 1002 after the key store file changed"
like "$(cat "$(broker_log)")" "listener SSL: key or trust store changed, certificates reloaded" \
    "the reload is logged"
exec 7<&-
broker_stop_ok "broker with reloaded certificates stops cleanly"

# --- reload on SIGHUP (mtime checks off)
cp "$C/server-full.pem" "$KS"
broker_start "listeners=PLAINTEXT://127.0.0.1:0,SSL://127.0.0.1:0" "module.load=transport_tls" \
    "ssl.keystore.type=PEM" "ssl.keystore.location=$KS" \
    "module.transport_tls.reload.check.interval.ms=0"
HP=127.0.0.1:$(broker_listener_port SSL)
cp "$C/server3-full.pem" "$KS"
sleep 0.5
is "$(tls_serial "$HP")" "1001" "without SIGHUP (and no mtime checks) the old certificate stays"
kill -HUP "$BROKER_PID"
serial=
for _ in $(seq 1 50); do
    serial=$(tls_serial "$HP")
    [ "$serial" = "1003" ] && break
    sleep 0.1
done
is "$serial" "1003" "after SIGHUP new connections see serial 1003"

# A broken key store: the reload fails loudly and the old one stays.
echo "not a pem" >"$KS"
expect_log "listener SSL: certificate reload failed, keeping the old ones: ssl\.keystore\.location"
kill -HUP "$BROKER_PID"
sleep 0.5
like "$(cat "$(broker_log)")" "certificate reload failed, keeping the old ones: ssl\.keystore\.location" \
    "a broken key store is reported with the key name"
is "$(tls_serial "$HP")" "1003" "... and serial 1003 is still served"
echo hi | timeout 30 kcat -b "$HP" -q -X security.protocol=ssl -X ssl.ca.location="$C/ca.pem" -P -t rl
ok $? "kcat still produces over SSL after the failed reload"

# --- advertised.listeners: each listener advertises its own entry
broker_stop_ok "broker stops after the failed reload"
broker_start "listeners=PLAINTEXT://127.0.0.1:0,SSL://127.0.0.1:0" "module.load=transport_tls" \
    "ssl.keystore.type=PEM" "ssl.keystore.location=$C/server-full.pem" \
    "advertised.listeners=PLAINTEXT://plain.invalid:19092,SSL://tls.invalid:19093"
md=$(timeout 30 kcat -b "127.0.0.1:$(broker_listener_port SSL)" -X security.protocol=ssl \
    -X ssl.ca.location="$C/ca.pem" -L -m 10 2>/dev/null | grep ' broker ')
like "$md" "broker 1 at tls\.invalid:19093" "Metadata over SSL: the SSL entry of advertised.listeners"
md=$(timeout 30 kcat -b "$BOOTSTRAP" -L -m 10 2>/dev/null | grep ' broker ')
like "$md" "broker 1 at plain\.invalid:19092" "Metadata over PLAINTEXT: the PLAINTEXT entry"
done_testing
