#!/usr/bin/env bash
# kafkajs over TLS (Node's TLS stack, a second client implementation): a
# client certificate against ssl.client.auth=requested, admin, an acks=-1
# producer and a consumer group, checked record by record; kcat confirms
# what was stored; an unrelated CA fails with a certificate error.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tls_lib.sh"
need_node_module kafkajs
need_cmd kcat

C=$T_TMP/certs
tls_make_certs "$C"
broker_start "listeners=PLAINTEXT://127.0.0.1:0,SSL://127.0.0.1:0" "module.load=transport_tls" \
    "auto.create.topics.enable=false" "log.level=debug" \
    "ssl.keystore.type=PEM" "ssl.keystore.location=$C/server-full.pem" \
    "ssl.truststore.type=PEM" "ssl.truststore.location=$C/ca.pem" "ssl.client.auth=requested"
SSL_PORT=$(broker_listener_port SSL)
run_client node "$T_JS/kafkajs_tls.js" "127.0.0.1:$SSL_PORT" "$C" kjstls
got=$(timeout 30 kcat -b "$BOOTSTRAP" -q -C -t kjstls -e -o beginning -f '%o %k\n' | tail -n 1)
is "$got" "99 tk99" "kcat on PLAINTEXT sees the 100 records kafkajs produced over TLS"
like "$(grep 'on SSL: principal' "$(broker_log)" | head -n 1)" "principal User:CN=client,OU=eng,O=Sluice$" \
    "kafkajs' client certificate gives principal User:CN=client,OU=eng,O=Sluice"
done_testing
