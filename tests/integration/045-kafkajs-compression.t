#!/usr/bin/env bash
# kafkajs producing compressed batches — gzip (built in), snappy, lz4 and
# zstd through the kafkajs-snappy, kafkajs-lz4 and @kafkajs/zstd packages —
# stored as sent and read back exactly by confluent-kafka (and kafka-python
# for gzip).  kafkajs consumers need consumer groups, which come later.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"
. "$T_DIR/codecs.sh"
need_node_module kafkajs
need_python_module confluent_kafka
need_python_module kafka
have_codec gzip || skip_all "$(codec_skip_reason gzip)"

broker_start "plugin.dir=$CODEC_DIR" "${CODEC_LOAD[@]}" "num.partitions=1"
CT="timeout 90 $PY $T_CLIENTS/compression_tool.py"
JS="timeout 90 node $T_JS/kafkajs_compress.js $BOOTSTRAP"
N=120
for i in $(seq 1 $N); do
    printf 'js%03d:kafkajs value %03d %s\n' "$i" "$i" "$(printf 'pad %.0s' $(seq 1 $((10 + i % 30))))"
done > "$T_TMP/in.txt"
want=$(cat "$T_TMP/in.txt")
codecs() {
    $CT batches "$BROKER_DATA/$1-0" | awk '{ if (!($3 in c)) { c[$3] = 1; s = s (s ? "," : "") $3 } n += $2 } END { print s, n }'
}

for c in gzip snappy lz4 zstd; do
    out=$($JS "js_$c" "$c" "$T_TMP/in.txt")
    case "$out" in
        missing*) skip "kafkajs $c producer" "npm package ${out#missing } not installed in tests/js (tools/install-deps.sh)"; continue ;;
    esac
    if ! have_codec "$c"; then
        # The broker cannot validate what it cannot decompress.
        like "$out" '^error UNSUPPORTED_COMPRESSION_TYPE' \
            "kafkajs $c producer without codec_$c loaded: UNSUPPORTED_COMPRESSION_TYPE"
        is "$($CT batches "$BROKER_DATA/js_$c-0" | wc -l)" 0 "nothing stored for the refused $c batch"
        skip "kafkajs $c producer, stored $c, read back exactly" "$(codec_skip_reason "$c")"
        continue
    fi
    is "$out" "ok $N" "kafkajs $c producer: $N records acknowledged (acks=-1)"
    is "$(codecs "js_$c")" "$c $N" "stored as one $c batch of $N records"
    is "$($CT consume-ck "$BOOTSTRAP" "js_$c" $N)" "$want" "confluent-kafka reads kafkajs's $c records exactly"
    if [ "$c" = gzip ]; then
        is "$($CT consume-kp "$BOOTSTRAP" "js_$c" $N)" "$want" "kafka-python reads kafkajs's gzip records exactly"
    fi
done
done_testing
