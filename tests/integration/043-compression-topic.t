#!/usr/bin/env bash
# Topic compression.type and compression.<codec>.level: the broker stores
# batches in the topic's codec (re-compressing or decompressing what the
# producer sent, at the topic's level), keeps them as sent for "producer",
# and consumers read the records back exactly.  Corrupt compressed data is
# refused with CORRUPT_MESSAGE and nothing is appended; a codec whose
# module is not loaded (as the topic's target or in a producer's batch) is
# refused with UNSUPPORTED_COMPRESSION_TYPE; Produce v3-6 refuses zstd and
# Fetch below v10 refuses zstd topics (KIP-110).
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
N=200
for i in $(seq 1 $N); do
    printf 'k%03d:value %03d %s\n' "$i" "$i" "$(printf 'lorem ipsum %.0s' $(seq 1 $((8 + i % 25))))"
done > "$T_TMP/in.txt"
want=$(cat "$T_TMP/in.txt")

# codecs TOPIC: distinct "codec[ xfl=N]" of the stored batches, and the total.
codecs() {
    $CT batches "$BROKER_DATA/$1-0" | awk '{ k = $3 ($5 ? " " $5 : ""); if (!(k in c)) { c[k] = 1; s = s (s ? "," : "") k } n += $2 }
        END { print s, n }'
}

# --- config validation (Kafka's ranges, KIP-390) ---
is "$($AD create t_gz1 1 compression.type=gzip compression.gzip.level=1)" NO_ERROR "create gzip topic, level 1"
is "$($AD create t_gz9 1 compression.type=gzip compression.gzip.level=9)" NO_ERROR "create gzip topic, level 9"
is "$($AD create t_unc 1 compression.type=uncompressed)" NO_ERROR "create uncompressed topic"
is "$($AD create t_prod 1 compression.type=producer)" NO_ERROR "create producer topic"
is "$($AD create bad1 1 compression.gzip.level=0)" INVALID_CONFIG "gzip level 0 refused (1..9 or -1)"
is "$($AD create bad2 1 compression.zstd.level=23)" INVALID_CONFIG "zstd level 23 refused"
is "$($AD create bad3 1 compression.lz4.level=18)" INVALID_CONFIG "lz4 level 18 refused"
is "$($AD describe t_gz1 compression.gzip.level)" "1 1" "DescribeConfigs: gzip level 1, a topic override"
is "$($AD describe t_prod compression.zstd.level)" "3 5" "DescribeConfigs: zstd level defaults to 3"
is "$($AD describe t_prod compression.lz4.level)" "9 5" "DescribeConfigs: lz4 level defaults to 9"

# --- uncompressed producer, gzip topic: stored gzip at the topic's level ---
for lv in 1 9; do
    $KC -P -t t_gz$lv -p 0 -K: -z none -X linger.ms=200 < "$T_TMP/in.txt"
    ok $? "kcat -z none -> t_gz$lv acknowledged"
done
# XFL in the gzip header: 4 = fastest (level 1), 2 = best (level 9).
is "$(codecs t_gz1)" "gzip xfl=4 $N" "compression.type=gzip level 1: uncompressed batches stored gzip (level 1)"
is "$(codecs t_gz9)" "gzip xfl=2 $N" "compression.type=gzip level 9: stored gzip (level 9)"
is "$($CT consume-ck "$BOOTSTRAP" t_gz1 $N)" "$want" "confluent-kafka reads the re-compressed records exactly"
is "$($CT consume-kp "$BOOTSTRAP" t_gz9 $N)" "$want" "kafka-python reads the re-compressed records exactly"
n0=$($CT batches "$BROKER_DATA/t_gz1-0" | head -n1 | awk '{ print $2 }')
is "$($CT batch-records "$BROKER_DATA/t_gz1-0" 0)" "$(head -n "$n0" "$T_TMP/in.txt")" \
    "first stored batch decompresses to the producer's records, byte for byte"

# --- gzip producer, uncompressed topic: stored plain ---
$KC -P -t t_unc -p 0 -K: -z gzip -X linger.ms=200 < "$T_TMP/in.txt"
ok $? "kcat -z gzip -> t_unc acknowledged"
is "$(codecs t_unc)" "none $N" "compression.type=uncompressed: gzip batches stored decompressed"
is "$($CT consume-ck "$BOOTSTRAP" t_unc $N)" "$want" "confluent-kafka reads them exactly"

# --- producer: kept as sent, either way ---
$KC -P -t t_prod -p 0 -K: -z gzip -X linger.ms=200 < "$T_TMP/in.txt" &&
    $KC -P -t t_prod -p 0 -K: -z none -X linger.ms=200 < "$T_TMP/in.txt"
ok $? "kcat gzip then uncompressed -> t_prod acknowledged"
is "$(codecs t_prod)" "gzip xfl=0,none $((2 * N))" "compression.type=producer: gzip stays gzip (librdkafka's level), plain stays plain"
is "$($CT consume-ck "$BOOTSTRAP" t_prod $((2 * N)))" "$want"$'\n'"$want" "both halves read back exactly"

# --- the other codecs as topic targets ---
for c in snappy lz4 zstd; do
    if ! have_codec "$c"; then
        skip "compression.type=$c stores $c, read back exactly" "$(codec_skip_reason "$c")"
        continue
    fi
    extra=
    [ "$c" = zstd ] && extra=compression.zstd.level=10
    [ "$c" = lz4 ] && extra=compression.lz4.level=3
    is "$($AD create t_$c 1 compression.type=$c $extra)" NO_ERROR "create compression.type=$c topic"
    $KC -P -t t_$c -p 0 -K: -z none -X linger.ms=200 < "$T_TMP/in.txt"
    ok $? "kcat -z none -> t_$c acknowledged"
    is "$(codecs t_$c)" "$c $N" "compression.type=$c: uncompressed batches stored $c"
    is "$($CT consume-ck "$BOOTSTRAP" t_$c $N)" "$want" "confluent-kafka reads the $c records exactly"
    [ "$c" = lz4 ] && continue # librdkafka sends lz4 only with FindCoordinator (050 explains)
    is "$($AD create g_$c 1 compression.type=gzip)" NO_ERROR "create a gzip topic for $c producers"
    $KC -P -t g_$c -p 0 -K: -z "$c" -X linger.ms=200 < "$T_TMP/in.txt"
    ok $? "kcat -z $c -> gzip topic acknowledged"
    is "$(codecs g_$c)" "gzip xfl=0 $N" "$c batches stored as gzip (default level)"
    is "$($CT consume-ck "$BOOTSTRAP" g_$c $N)" "$want" "and read back exactly"
done
if have_codec zstd; then
    is "$($CT fetch-error "$BROKER_PORT" t_zstd 9)" 76 "Fetch v9 of a zstd topic: UNSUPPORTED_COMPRESSION_TYPE"
    is "$($CT fetch-error "$BROKER_PORT" t_zstd 10)" 0 "Fetch v10 of a zstd topic: no error"
else
    skip "Fetch v9/v10 of a zstd topic" "$(codec_skip_reason zstd)"
fi
is "$($CT fetch-error "$BROKER_PORT" t_gz1 4)" 0 "Fetch v4 of a gzip topic: no error"

# --- corrupt data: refused, nothing appended ---
before=$($CT batches "$BROKER_DATA/t_prod-0" | wc -l)
is "$($CT raw-produce "$BROKER_PORT" t_prod 3 v2-gzip-corrupt)" "2 -1 -1" \
    "gzip batch with a valid CRC but an undecodable payload: CORRUPT_MESSAGE"
is "$($CT raw-produce "$BROKER_PORT" t_gz1 7 v2-bad-crc)" "2 -1 -1" "batch with a bad CRC to a re-compressing topic: CORRUPT_MESSAGE"
is "$($CT raw-produce "$BROKER_PORT" t_unc 3 v2-gzip-corrupt)" "2 -1 -1" \
    "undecodable gzip to an uncompressed topic: CORRUPT_MESSAGE"
is "$($CT raw-produce "$BROKER_PORT" t_prod 5 v2-zstd-fake)" "76 -1 -1" "zstd batch in Produce v5: UNSUPPORTED_COMPRESSION_TYPE"
is "$($CT batches "$BROKER_DATA/t_prod-0" | wc -l)" "$before" "nothing was appended by the refused produces"
is "$($KC -Q -t t_unc:0:-1 2>&1 | awk '{ print $NF }')" "$N" "t_unc end offset still $N"
broker_stop_ok "broker exits 0"

# --- codec modules missing: only gzip loaded ---
rm -rf "$BROKER_DATA"
broker_start "plugin.dir=$CODEC_DIR" "module.load=codec_gzip" "num.partitions=1"
AD="timeout 90 $PY $T_CLIENTS/admin_tool.py $BOOTSTRAP"
is "$($AD create m_zstd 1 compression.type=zstd)" NO_ERROR "a zstd topic can be created without the module (Kafka's config rules)"
is "$($CT fetch-error "$BROKER_PORT" m_zstd 9)" 76 "Fetch v9 of a zstd topic: UNSUPPORTED_COMPRESSION_TYPE (decided by the topic config)"
is "$($CT fetch-error "$BROKER_PORT" m_zstd 11)" 0 "Fetch v11 of the same topic: no error"
is "$($CT raw-produce "$BROKER_PORT" m_zstd 7 v2-plain)" "76 -1 -1" \
    "produce to a zstd topic without codec_zstd loaded: UNSUPPORTED_COMPRESSION_TYPE"
is "$($CT raw-produce "$BROKER_PORT" m_zstd 0 v0-plain)" "76 -1 -1" \
    "same through Produce v0 (up-converted first): UNSUPPORTED_COMPRESSION_TYPE"
is "$($AD create m_prod 1)" NO_ERROR "create a producer topic"
is "$($CT raw-produce "$BROKER_PORT" m_prod 7 v2-snappy-fake)" "76 -1 -1" \
    "snappy batch without codec_snappy loaded: UNSUPPORTED_COMPRESSION_TYPE"
is "$($CT batches "$BROKER_DATA/m_zstd-0" | wc -l) $($CT batches "$BROKER_DATA/m_prod-0" | wc -l)" "0 0" \
    "nothing was appended"
is "$($CT raw-produce "$BROKER_PORT" m_prod 7 v2-gzip)" "0 0 -1" "gzip still works (module loaded)"
done_testing
