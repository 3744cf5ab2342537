#!/usr/bin/env bash
# Compressed produce from real clients, stored as sent (compression.type
# producer) and read back exactly by other clients: kcat (librdkafka
# 2.0.2, which compresses only when the broker's Produce range includes
# v0) with every codec whose module is built, confluent-kafka and
# kafka-python with gzip.  The stored batches' codec bits are read from the
# segment files, which proves the clients really compressed.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"
. "$T_DIR/codecs.sh"
need_cmd kcat
need_python_module confluent_kafka
need_python_module kafka
have_codec gzip || skip_all "$(codec_skip_reason gzip)"

broker_start "plugin.dir=$CODEC_DIR" "${CODEC_LOAD[@]}" "num.partitions=1"
KC="timeout 90 kcat -b $BOOTSTRAP -q"
CT="timeout 90 $PY $T_CLIENTS/compression_tool.py"
N=300
for i in $(seq 1 $N); do
    printf 'key-%03d:value %03d %s\n' "$i" "$i" "$(printf 'abc%.0s' $(seq 1 $((30 + i % 40))))"
done > "$T_TMP/in.txt"
want=$(cat "$T_TMP/in.txt")

like "$($CT api-max "$BROKER_PORT" 0)" '^11$' "ApiVersions: Produce up to v11"
# librdkafka's ZSTD feature needs Produce v7 and Fetch v10 (gzip and
# snappy have no feature flag: the msgset writer checks Produce v0 is
# supported, which the stored codecs below prove).
dbg=$(timeout 90 kcat -b "$BOOTSTRAP" -L -X debug=feature,broker 2>&1)
like "$dbg" 'Updated enabled protocol features to .*MsgVer2.*ZSTD' "librdkafka enables MsgVer2 and ZSTD"

# stored TOPIC: the distinct codecs of the stored batches and the record total.
stored() {
    $CT batches "$BROKER_DATA/$1-0" | awk '{ c[$3] = 1; n += $2 } END {
        s = ""; for (k in c) s = s (s ? "," : "") k; print s, n }'
}
kp_has() { "$PY" -c "import sys, kafka.codec as c; sys.exit(0 if c.has_$1() else 1)"; }

for c in gzip snappy lz4 zstd; do
    if ! have_codec "$c"; then
        skip "kcat -z $c: stored as $c, read back by confluent-kafka" "$(codec_skip_reason "$c")"
        continue
    fi
    if [ "$c" = lz4 ] && [ "$($CT api-max "$BROKER_PORT" 10)" = -1 ]; then
        skip "kcat -z lz4: stored as lz4" "librdkafka 2.0.2 sends LZ4 only when the broker advertises FindCoordinator (feature LZ4), which the consumer-groups work adds"
        continue
    fi
    t=kc_$c
    $KC -P -t "$t" -p 0 -K: -z "$c" -X linger.ms=200 < "$T_TMP/in.txt"
    ok $? "kcat -P -z $c: $N records acknowledged"
    is "$(stored "$t")" "$c $N" "kcat -z $c: every stored batch is $c-compressed, $N records"
    is "$($CT consume-ck "$BOOTSTRAP" "$t" $N)" "$want" "confluent-kafka reads the $c records exactly, in order"
    if kp_has "$c"; then
        is "$($CT consume-kp "$BOOTSTRAP" "$t" $N)" "$want" "kafka-python reads the $c records exactly"
    else
        skip "kafka-python reads the $c records" "kafka-python has no $c codec here (its python module is not installed)"
    fi
done

# kafka-python producing gzip (record batches v2), read by confluent-kafka.
is "$($CT produce-kp "$BOOTSTRAP" kp_gzip "$T_TMP/in.txt" gzip auto)" "ok $N" \
    "kafka-python gzip producer: $N records acknowledged"
is "$(stored kp_gzip)" "gzip $N" "kafka-python's batches are stored gzip-compressed"
is "$($CT consume-ck "$BOOTSTRAP" kp_gzip $N)" "$want" "confluent-kafka reads kafka-python's gzip records exactly"

# confluent-kafka producing gzip, read by kafka-python.
is "$($CT produce-ck "$BOOTSTRAP" ck_gzip "$T_TMP/in.txt" gzip)" "ok $N" \
    "confluent-kafka gzip producer: $N records acknowledged"
is "$(stored ck_gzip)" "gzip $N" "confluent-kafka's batches are stored gzip-compressed"
is "$($CT consume-kp "$BOOTSTRAP" ck_gzip $N)" "$want" "kafka-python reads confluent-kafka's gzip records exactly"
done_testing
