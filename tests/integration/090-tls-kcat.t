#!/usr/bin/env bash
# kcat over SSL (transport_tls, PEM key store, no client auth): produce and
# consume byte for byte on the SSL listener, the same records read on the
# PLAINTEXT listener, Metadata advertising the listener the client came in
# on, a large fetch through the TLS file path (sendfile or its pread
# fallback), a client trusting another CA failing with an SSL error, and the
# default protocol set refusing TLS 1.1 while TLS 1.2 and 1.3 work.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tls_lib.sh"
need_cmd kcat

C=$T_TMP/certs
tls_make_certs "$C"
broker_start "listeners=PLAINTEXT://127.0.0.1:0,SSL://127.0.0.1:0" \
    "module.load=transport_tls" \
    "ssl.keystore.type=PEM" "ssl.keystore.location=$C/server-full.pem"
SSL_PORT=$(broker_listener_port SSL)
like "$SSL_PORT" '^[0-9]+$' "port file has an SSL line ($SSL_PORT)"
like "$(cat "$BROKER_PORT_FILE")" "^PLAINTEXT $BROKER_PORT" "port file lists PLAINTEXT first"

KS="timeout 60 kcat -b 127.0.0.1:$SSL_PORT -q -X security.protocol=ssl -X ssl.ca.location=$C/ca.pem"
KP="timeout 60 kcat -b $BOOTSTRAP -q"

for i in $(seq 1 50); do printf 'k%s:tls value %s\n' "$i" "$i"; done |
    $KS -P -t tls1 -K:
ok $? "kcat -P over SSL: 50 keyed records"
want=$(for i in $(seq 1 50); do printf 'k%s|tls value %s|%s\n' "$i" "$i" $((i - 1)); done)
got=$($KS -C -t tls1 -e -o beginning -f '%k|%s|%o\n')
is "$got" "$want" "kcat -C over SSL: keys, values, offsets 0..49"
got=$($KP -C -t tls1 -e -o beginning -f '%k|%s|%o\n')
is "$got" "$want" "the same records on the PLAINTEXT listener"

md=$($KS -L -m 20 2>&1)
like "$md" "broker [0-9]+ at 127\.0\.0\.1:$SSL_PORT" "Metadata over SSL advertises the SSL listener's port"
md=$($KP -L -m 20 2>&1)
like "$md" "broker [0-9]+ at 127\.0\.0\.1:$BROKER_PORT" "Metadata over PLAINTEXT advertises the PLAINTEXT port"

# ~8 MB in 4 KB records: fetches big enough to go through the file path
# in several TLS records and several writes.
big=$T_TMP/big.txt
awk 'BEGIN { for (i = 0; i < 2000; i++) { printf "%06d ", i; for (j = 0; j < 580; j++) printf "abcdefg"; printf "\n" } }' >"$big"
$KP -P -t tlsbig -l "$big"
ok $? "2000 records of 4 KB produced on PLAINTEXT"
got=$($KS -C -t tlsbig -e -o beginning -f '%s\n' | md5sum)
is "$got" "$(md5sum <"$big")" "fetched over SSL byte for byte (md5 of 8 MB)"

out=$(timeout 30 kcat -b 127.0.0.1:$SSL_PORT -X security.protocol=ssl \
    -X ssl.ca.location="$C/other-ca.pem" -L -m 3 2>&1)
ok $(($? == 0)) "kcat trusting an unrelated CA fails"
like "$out" "certificate verify failed" "... with an SSL certificate verification error"

# TLS versions: 1.2 and 1.3 by default, 1.1 refused by the broker (the
# client is allowed 1.1 with SECLEVEL=0, so the refusal is the server's).
p12=$(echo | timeout 10 openssl s_client -connect 127.0.0.1:$SSL_PORT -tls1_2 2>&1)
like "$p12" "New, TLSv1\.2, Cipher is [A-Z]" "TLS 1.2 handshake succeeds"
p13=$(echo | timeout 10 openssl s_client -connect 127.0.0.1:$SSL_PORT -tls1_3 2>&1)
like "$p13" "New, TLSv1\.3, Cipher is TLS_" "TLS 1.3 handshake succeeds"
p11=$(echo | timeout 10 openssl s_client -connect 127.0.0.1:$SSL_PORT -tls1_1 \
    -cipher 'DEFAULT@SECLEVEL=0' 2>&1)
like "$p11" "alert protocol version" "TLS 1.1 refused with a protocol_version alert"
like "$p11" "Cipher is \(NONE\)" "... and no session"
is "$(tls_serial 127.0.0.1:$SSL_PORT)" "1001" "the server presents its certificate (serial 1001)"

done_testing
