# TLS helpers for tests/integration/09x-tls-*.t (sourced after lib.sh).
#
# tls_make_certs DIR: a throw-away PKI made with the openssl CLI (nothing
# private is committed):
#   ca.pem/ca.key           test CA
#   server.pem/server.key   CN=localhost, SAN DNS:localhost + IP:127.0.0.1,
#                           signed by the CA; server-full.pem = key + cert
#                           (Kafka's PEM key store file)
#   server2.*, server3.*    the same names with other serials (reload tests)
#   client.pem/client.key   CN=client,OU=eng,O=Sluice signed by the CA
#   other-ca.pem, other-client.*   an unrelated CA and a client it signed
#   server.p12              key store (password "kspass"), trust.p12 the CA
#                           only (password "tspass")
# Serials are fixed (0x1001, 0x1002, 0x1003) so tests can check which
# certificate a connection got.

need_cmd openssl

_tls_leaf() { # DIR NAME SUBJ SERIAL CA [SAN]
    local d=$1 n=$2 subj=$3 serial=$4 ca=$5 san=${6:-}
    openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
        -keyout "$d/$n.key" -out "$d/$n.csr" -subj "$subj" 2>/dev/null || return 1
    {
        echo "basicConstraints=CA:FALSE"
        echo "keyUsage=digitalSignature,keyEncipherment"
        [ -n "$san" ] && echo "subjectAltName=$san"
        [ -n "$san" ] && echo "extendedKeyUsage=serverAuth" || echo "extendedKeyUsage=clientAuth"
    } >"$d/$n.ext"
    openssl x509 -req -in "$d/$n.csr" -CA "$d/$ca.pem" -CAkey "$d/$ca.key" \
        -set_serial "$serial" -days 2 -sha256 -extfile "$d/$n.ext" -out "$d/$n.pem" 2>/dev/null
}

_tls_ca() { # DIR NAME SUBJ
    openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
        -keyout "$1/$2.key" -out "$1/$2.pem" -subj "$3" -days 2 \
        -addext "basicConstraints=critical,CA:TRUE" \
        -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
}

tls_make_certs() {
    local d=$1 san="DNS:localhost,IP:127.0.0.1"
    mkdir -p "$d"
    _tls_ca "$d" ca "/CN=Sluice Test CA/O=Sluice" &&
    _tls_ca "$d" other-ca "/CN=Unrelated CA/O=Elsewhere" &&
    _tls_leaf "$d" server "/CN=localhost/O=Sluice" 0x1001 ca "$san" &&
    _tls_leaf "$d" server2 "/CN=localhost/O=Sluice" 0x1002 ca "$san" &&
    _tls_leaf "$d" server3 "/CN=localhost/O=Sluice" 0x1003 ca "$san" &&
    _tls_leaf "$d" client "/O=Sluice/OU=eng/CN=client" 0x2001 ca &&
    _tls_leaf "$d" other-client "/O=Elsewhere/CN=intruder" 0x3001 other-ca ||
        bail_out "cannot generate test certificates with openssl"
    local n
    for n in server server2 server3; do
        cat "$d/$n.key" "$d/$n.pem" >"$d/$n-full.pem"
    done
    openssl pkcs12 -export -inkey "$d/server.key" -in "$d/server.pem" -certfile "$d/ca.pem" \
        -passout pass:kspass -out "$d/server.p12" 2>/dev/null &&
    openssl pkcs12 -export -nokeys -in "$d/ca.pem" -passout pass:tspass \
        -out "$d/trust.p12" 2>/dev/null ||
        bail_out "cannot build PKCS12 stores with openssl"
}

# tls_serial HOST:PORT [s_client options...]: the serial of the certificate
# the server presents (e.g. "1001"), empty when the handshake fails.
tls_serial() {
    local hp=$1
    shift
    timeout 10 openssl s_client -connect "$hp" -servername localhost "$@" </dev/null 2>/dev/null |
        openssl x509 -noout -serial 2>/dev/null | sed 's/^serial=//'
}
