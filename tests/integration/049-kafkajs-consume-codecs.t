#!/usr/bin/env bash
# kafkajs consuming (in a consumer group) record batches compressed by the
# other clients: kcat/librdkafka and kafka-python with gzip, snappy, lz4
# and zstd, two partitions each, with headers.  kafkajs must read back the
# exact keys, values (an empty one included), headers (repeated and empty
# ones from kafka-python), offsets 0..M-1 and each partition's order; the
# stored batches' codec bits prove the producers really compressed.
# confluent-kafka also reads kafka-python's batches (042 covers gzip only).
# The other directions are 042 (kcat -> confluent-kafka, kafka-python) and
# 045 (kafkajs -> confluent-kafka, kafka-python).
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"
. "$T_DIR/codecs.sh"
need_node_module kafkajs
need_cmd kcat
need_python_module confluent_kafka
need_python_module kafka
have_codec gzip || skip_all "$(codec_skip_reason gzip)"

broker_start "plugin.dir=$CODEC_DIR" "${CODEC_LOAD[@]}" "num.partitions=2" \
    "group.initial.rebalance.delay.ms=0"
KC="timeout 90 kcat -b $BOOTSTRAP -q"
CT="timeout 90 $PY $T_CLIENTS/compression_tool.py"
M=60          # records per partition
kp_has() { "$PY" -c "import sys, kafka.codec as c; sys.exit(0 if c.has_$1() else 1)"; }
# stored TOPIC: "CODECS COUNT" over both partitions' stored batches.
stored() {
    { $CT batches "$BROKER_DATA/$1-0"; $CT batches "$BROKER_DATA/$1-1"; } |
        awk '{ c[$3] = 1; n += $2 } END { s = ""; for (k in c) s = s (s ? "," : "") k; print s, n }'
}
# spec PRODUCER CODEC: "PARTITION<TAB>KEY<TAB>VALUE<TAB>HEADERS" lines.
# kcat sends the same -H headers with every record of a run; kafka-python
# gets per-record ones, with a repeated key and an empty value now and then.
spec() {
    local p i v h
    for p in 0 1; do
        for i in $(seq 1 $M); do
            v="value $p/$i ü $(printf "$2 pad %.0s" $(seq 1 $((5 + i % 17))))"
            [ "$i" -eq 7 ] && v=
            if [ "$1" = kc ]; then
                h="codec=$2 part=$p"
            else
                h="seq=$i codec=$2"
                [ $((i % 3)) -eq 0 ] && h="$h tag=a tag=b"
                [ $((i % 5)) -eq 0 ] && h="$h empty="
            fi
            printf '%s\t%s\t%s\t%s\n' "$p" "$1-$2-$p-$i" "$v" "$h"
        done
    done
}
# expect TOPIC SPECFILE: what the kafkajs consumer prints for TOPIC.
expect() {
    awk -F'\t' -v t="$1" -v OFS='\t' '{ print t, $1, n[$1]++, $2, $3, $4 }' "$2"
}

topics=()
for c in gzip snappy lz4 zstd; do
    if ! have_codec "$c"; then
        skip "kcat and kafka-python $c batches read by kafkajs" "$(codec_skip_reason "$c")"
        continue
    fi
    t=kc_$c
    spec kc "$c" >"$T_TMP/$t.spec"
    for p in 0 1; do
        awk -F'\t' -v p=$p '$1 == p { print $2 ":" $3 }' "$T_TMP/$t.spec" |
            $KC -P -t "$t" -p $p -K: -z "$c" -H "codec=$c" -H "part=$p" -X linger.ms=200
        ok $? "kcat -P -z $c: $M records with headers to $t partition $p acknowledged"
    done
    is "$(stored "$t")" "$c $((2 * M))" "kcat -z $c: every stored batch of $t is $c-compressed"
    topics+=("$t")

    if ! kp_has "$c"; then
        skip "kafka-python $c producer" "kafka-python has no $c codec here (its python module is not installed)"
        continue
    fi
    t=kp_$c
    spec kp "$c" >"$T_TMP/$t.spec"
    is "$($CT produce-kp-spec "$BOOTSTRAP" "$t" "$T_TMP/$t.spec" "$c")" "ok $((2 * M))" \
        "kafka-python $c producer: $((2 * M)) records with headers acknowledged"
    is "$(stored "$t")" "$c $((2 * M))" "kafka-python: every stored batch of $t is $c-compressed"
    is "$($CT consume-ck "$BOOTSTRAP" "$t" $M)" \
        "$(awk -F'\t' '$1 == 0 { print $2 ":" $3 }' "$T_TMP/$t.spec")" \
        "confluent-kafka reads kafka-python's $c records exactly"
    topics+=("$t")
done

[ ${#topics[@]} -gt 0 ] || { done_testing; exit; }
out=$(timeout --kill-after=5 90 node "$T_JS/kafkajs_codec_consume.js" "$BOOTSTRAP" kjs-codecs \
    $((2 * M * ${#topics[@]})) "${topics[@]}" 2>"$T_TMP/kjs.err")
rc=$?
case "$out" in
    missing*)
        for t in "${topics[@]}"; do
            skip "kafkajs reads $t" "npm package ${out#missing } not installed in tests/js (tools/install-deps.sh)"
        done
        done_testing; exit ;;
esac
is "$rc" 0 "kafkajs group consumer read all $((2 * M * ${#topics[@]})) records of ${topics[*]}"
[ "$rc" -eq 0 ] || diag "kafkajs stderr:" "$(tail -n 20 "$T_TMP/kjs.err")"
for t in "${topics[@]}"; do
    c=${t#*_}
    who=kcat; [ "${t%%_*}" = kp ] && who=kafka-python
    is "$(printf '%s\n' "$out" | awk -F'\t' -v t="$t" '$1 == t')" "$(expect "$t" "$T_TMP/$t.spec")" \
        "kafkajs reads $who's $c batches exactly: keys, values, headers, offsets, per-partition order"
done
done_testing
