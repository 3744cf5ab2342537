#!/usr/bin/env bash
# Produce v0-v2 with message formats v0/v1, up-converted to record batches
# v2: kafka-python with api_version 0.9 (magic 0) and 0.10 (magic 1),
# plain and gzip; librdkafka (kcat) with ApiVersion requests off and a
# 0.9/0.10 fallback, gzip; then raw requests for the exact error codes and
# the response versions (v0 without throttle time, v2 with LogAppendTime).
# Every record is read back exactly by confluent-kafka.
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
AD="timeout 90 $PY $T_CLIENTS/admin_tool.py $BOOTSTRAP"
N=50
for i in $(seq 1 $N); do printf 'key%02d:legacy value %02d %s\n' "$i" "$i" "$(printf 'z%.0s' $(seq 1 $((40 + i))))"; done > "$T_TMP/in.txt"
want=$(cat "$T_TMP/in.txt")
codecs() {
    $CT batches "$BROKER_DATA/$1-0" | awk '{ if (!($3 in c)) { c[$3] = 1; s = s (s ? "," : "") $3 } n += $2 } END { print s, n }'
}
now_ms=$(( $(date +%s) * 1000 ))

# --- kafka-python: magic 0 (api 0.9, Produce v1) and magic 1 (api 0.10, v2) ---
for api in 0.9 0.10; do
    for c in none gzip; do
        t=kp_${api/./_}_$c
        $KC -L -t "$t" >/dev/null 2>&1 # Metadata auto-creates; Produce never does
        is "$(KP_DEBUG_LOG=$T_TMP/kp-$t.log $CT produce-kp "$BOOTSTRAP" "$t" "$T_TMP/in.txt" $c $api)" "ok $N" \
            "kafka-python api_version $api, compression $c: $N records acknowledged"
        pv=$([ "$api" = 0.9 ] && echo 1 || echo 2)
        sent=$(grep -o 'ProduceRequest_v[0-9]*' "$T_TMP/kp-$t.log" | sort -u | tr '\n' ' ')
        is "$sent" "ProduceRequest_v$pv " "kafka-python sent Produce v$pv (magic $((pv - 1)))"
        is "$(codecs "$t")" "$c $N" "stored as record batches v2, codec $c (compression.type=producer)"
        got=$($CT consume-ck "$BOOTSTRAP" "$t" $N ts)
        is "$(printf '%s\n' "$got" | cut -d' ' -f2-)" "$want" "confluent-kafka reads them exactly"
        range=$(printf '%s\n' "$got" | awk 'NR == 1 || $1 < lo { lo = $1 } NR == 1 || $1 > hi { hi = $1 } END { print lo, hi }')
        if [ "$api" = 0.9 ]; then
            is "$range" "-1 -1" "magic 0 has no timestamp: every record reads -1"
        else
            lo=${range% *} hi=${range#* }
            ok $(( lo > now_ms - 600000 && hi < now_ms + 600000 ? 0 : 1 )) \
                "magic 1 timestamps kept: the producer's clock ($range)"
        fi
    done
done

# --- librdkafka with message format v0 (no ApiVersion request; a 0.10+
# fallback would make librdkafka query ApiVersions and use v2 anyway) ---
for fb in 0.9.0; do
    t=rk_${fb//./_}
    $KC -L -t "$t" >/dev/null 2>&1
    dbg=$(timeout 90 kcat -b "$BOOTSTRAP" -P -t "$t" -p 0 -K: -z gzip -X api.version.request=false \
        -X broker.version.fallback=$fb -X linger.ms=200 -X debug=protocol,msg < "$T_TMP/in.txt" 2>&1)
    ok $? "kcat broker.version.fallback=$fb -z gzip: acknowledged"
    like "$dbg" 'ApiVersion 1, MsgVersion 0, .*gzip\)' "kcat sent gzip message sets of magic 0 in Produce v1"
    is "$(codecs "$t")" "gzip $N" "librdkafka's gzip wrapper stored as gzip batches v2"
    is "$($CT consume-ck "$BOOTSTRAP" "$t" $N)" "$want" "confluent-kafka reads them exactly"
done

# --- raw requests: every version, codes, response shapes ---
$KC -L -t raw >/dev/null 2>&1
ts=$(( now_ms - 60000 ))
is "$($CT raw-produce "$BROKER_PORT" raw 0 v0-plain $ts)" "0 0 -1" "Produce v0, 3 magic-0 messages at offset 0 (v0 response parsed exactly)"
is "$($CT raw-produce "$BROKER_PORT" raw 1 v1-plain $ts)" "0 3 -1" "Produce v1, magic 1 at offset 3 (throttle time present)"
is "$($CT raw-produce "$BROKER_PORT" raw 2 v1-gzip $ts)" "0 6 -1" "Produce v2, gzip wrapper with relative offsets at 6 (CreateTime: LogAppendTime -1)"
is "$($CT raw-produce "$BROKER_PORT" raw 2 v0-gzip $ts)" "0 9 -1" "Produce v2 with a magic-0 gzip wrapper at 9"
is "$($CT raw-produce "$BROKER_PORT" raw 2 v2-plain $ts)" "0 12 -1" "Produce v2 carrying a batch v2 is accepted too (Kafka does not check)"
is "$($CT raw-produce "$BROKER_PORT" raw 1 v1-bad-crc $ts)" "2 -1 -1" "bad message CRC: CORRUPT_MESSAGE"
is "$($CT raw-produce "$BROKER_PORT" raw 2 v1-gzip-corrupt $ts)" "2 -1 -1" "undecodable gzip wrapper: CORRUPT_MESSAGE"
is "$($CT raw-produce "$BROKER_PORT" raw 0 v1-truncated $ts)" "2 -1 -1" "truncated message set: CORRUPT_MESSAGE"
is "$($CT raw-produce "$BROKER_PORT" raw 2 v1-gzip-bad-offset $ts)" "87 -1 -1" "wrapper offset below the last inner offset: INVALID_RECORD"
is "$($CT raw-produce "$BROKER_PORT" raw 1 v1-mixed-magic $ts)" "87 -1 -1" "magic 1 then magic 0: INVALID_RECORD"
is "$($CT raw-produce "$BROKER_PORT" raw 3 v1-plain $ts)" "87 -1 -1" "magic 1 in Produce v3: INVALID_RECORD (v3+ is batch v2 only)"
is "$($KC -Q -t raw:0:-1 2>&1 | awk '{ print $NF }')" 15 "only the accepted requests were appended (end offset 15)"
exp=$(for r in 1 2 3 4 5; do for i in 0 1 2; do echo "k$i:legacy value $i"; done; done)
is "$($CT consume-ck "$BOOTSTRAP" raw 15)" "$exp" "the 15 records read back exactly"
got=$($CT consume-ck "$BOOTSTRAP" raw 15 ts | awk '{ print $1 }' | tr '\n' ' ')
is "$got" "-1 -1 -1 $ts $((ts + 1)) $((ts + 2)) $ts $((ts + 1)) $((ts + 2)) -1 -1 -1 $ts $((ts + 1)) $((ts + 2)) " \
    "timestamps: -1 for magic 0, the messages' own for magic 1 and v2"

# --- LogAppendTime topic ---
is "$($AD create lat 1 message.timestamp.type=LogAppendTime)" NO_ERROR "create a LogAppendTime topic"
out=$($CT raw-produce "$BROKER_PORT" lat 2 v1-gzip $ts)
like "$out" '^0 0 1[0-9]{12}$' "Produce v2 to a LogAppendTime topic answers the append time ($out)"
lat=${out##* }
got=$($CT consume-ck "$BOOTSTRAP" lat 3 ts | awk '{ print $1 }' | sort -u)
is "$got" "$lat" "every record reads the broker's append time"
is "$($CT raw-produce "$BROKER_PORT" lat 2 v1-gzip-lat $ts)" "32 -1 -1" \
    "a producer-set LogAppendTime wrapper on a LogAppendTime topic: INVALID_TIMESTAMP"
is "$($CT raw-produce "$BROKER_PORT" raw 2 v1-gzip-lat $ts)" "0 15 -1" \
    "the same wrapper on a CreateTime topic is accepted (LogValidator)"
got=$($CT consume-ck "$BOOTSTRAP" raw 18 ts | tail -n3 | awk '{ print $1 }' | sort -u)
is "$got" "$((ts + 2))" "its inner records take the wrapper's timestamp"
done_testing
