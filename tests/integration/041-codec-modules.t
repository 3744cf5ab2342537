#!/usr/bin/env bash
# The snappy, lz4 and zstd modules end to end: sluiced loads them from
# plugin.dir, accepts batches compressed by other producers (kafka-python's
# xerial snappy, raw snappy as librdkafka sends it, the lz4 and zstd CLIs,
# kcat with compression.codec=zstd), stores them compressed and serves them
# back to kcat byte for byte; a corrupt payload is CORRUPT_MESSAGE and,
# without the modules, UNSUPPORTED_COMPRESSION_TYPE.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"
need_cmd kcat
need_cmd timeout
need_python_module kafka

MODS=$T_TMP/modules
mkdir -p "$MODS"
for m in codec_snappy codec_lz4 codec_zstd; do
    so=$SLUICE_TOP_BUILDDIR/modules/$m/.libs/$m.so
    [ -f "$so" ] || skip_all "$m.so not built in ${so%/*}"
    ln -s "$so" "$MODS/$m.so"   # one plugin.dir for all three
done
# and the assignors every broker loads (group.consumer.assignors)
for m in assignor_range assignor_sticky; do
    ln -s "$SLUICE_TOP_BUILDDIR/modules/$m/.libs/$m.so" "$MODS/$m.so"
done

KC="timeout 60 kcat -b"
PRODUCE="timeout 60 $PY $T_CLIENTS/codec_produce.py"
create() { $KC "$BOOTSTRAP" -q -L -t "$1" >/dev/null 2>&1; }
for i in $(seq 1 300); do
    printf 'key-%03d:value %03d kafka record batch offset topic partition %s\n' "$i" "$i" "$(printf 'x%.0s' $(seq 1 $((i % 40))))"
done > "$T_TMP/in.txt"

lm=$(printf 'plugin.dir=%s\n' "$MODS" > "$T_TMP/lm.properties";
     "$SLUICED" --list-modules -c "$T_TMP/lm.properties" 2>&1)
for m in codec_lz4 codec_snappy codec_zstd; do
    like "$lm" "$m +1\.0\.0 +abi 1\.[0-9]+ +kinds codec" "--list-modules lists $m as a codec module"
done

broker_start "plugin.dir=$MODS" "module.load=codec_snappy" "module.load=codec_lz4" \
    "module.load=codec_zstd" "num.partitions=1" "compression.lz4.level=12" \
    "compression.zstd.level=-5" "log.level=debug"
like "$(cat "$(broker_log)")" '\[codec_lz4\] lz4 codec ready \(liblz4 [0-9.]+, level 12\)' \
    "codec_lz4 got compression.lz4.level=12 from the broker config"
like "$(cat "$(broker_log)")" '\[codec_zstd\] zstd codec ready \(libzstd [0-9.]+, level -5\)' \
    "codec_zstd got compression.zstd.level=-5"

# log_bytes TOPIC: bytes in the partition's segment files.
log_bytes() { cat "$BROKER_DATA/$1-0/"*.log | wc -c; }

codecs=(snappy-xerial snappy-raw)
command -v lz4 >/dev/null 2>&1 && codecs+=(lz4) || skip "lz4 CLI batch" "lz4 CLI not installed"
command -v zstd >/dev/null 2>&1 && codecs+=(zstd) || skip "zstd CLI batch" "zstd CLI not installed"
if ! $PY -c 'import snappy' 2>/dev/null; then
    codecs=("${codecs[@]:2}")
    skip "snappy batches" "python3-snappy not installed"
fi
for c in "${codecs[@]}"; do
    t=t-$c
    create "$t"
    is "$($PRODUCE "$BROKER_PORT" "$t" "$T_TMP/in.txt" "$c")" "0 0" "$c: batch of 300 records acknowledged at offset 0"
    got=$($KC "$BOOTSTRAP" -q -C -t "$t" -p 0 -o beginning -e -f '%k:%s\n')
    is "$got" "$(cat "$T_TMP/in.txt")" "$c: kcat reads back the exact keys and values, in order"
    offs=$($KC "$BOOTSTRAP" -q -C -t "$t" -p 0 -o beginning -e -f '%o ' | tr -s ' ')
    is "$offs" "$(seq -s ' ' 0 299) " "$c: offsets 0..299"
    size=$(log_bytes "$t")
    raw=$(wc -c < "$T_TMP/in.txt")
    ok $((size < raw ? 0 : 1)) "$c: stored compressed ($size bytes on disk for $raw bytes of keys and values)"
    create "$t-bad"
    is "$($PRODUCE "$BROKER_PORT" "$t-bad" "$T_TMP/in.txt" "$c" corrupt)" "2 -1" \
        "$c: corrupt payload -> CORRUPT_MESSAGE"
done

# kcat (librdkafka) compresses zstd itself against Sluice (Produce v7+).
create kz
$KC "$BOOTSTRAP" -q -P -t kz -p 0 -K: -X compression.codec=zstd -X linger.ms=50 < "$T_TMP/in.txt"
ok $? "kcat produced 300 records with compression.codec=zstd"
got=$($KC "$BOOTSTRAP" -q -C -t kz -p 0 -o beginning -e -f '%k:%s\n')
is "$got" "$(cat "$T_TMP/in.txt")" "kcat zstd records read back exactly"
size=$(log_bytes kz)
raw=$(wc -c < "$T_TMP/in.txt")
ok $((size * 2 < raw ? 0 : 1)) "zstd batches stored compressed ($size bytes on disk for $raw bytes of keys and values)"
broker_stop

# Kafka's level ranges are enforced when the config is read.
printf 'listeners=PLAINTEXT://127.0.0.1:0\nlog.dirs=%s/lv\ncompression.lz4.level=18\n' "$T_TMP" \
    > "$T_TMP/lv.properties"
out=$("$SLUICED" -c "$T_TMP/lv.properties" 2>&1)
is "$out" "sluiced: $T_TMP/lv.properties:3: compression.lz4.level: value must be at most 17 (got '18')" \
    "compression.lz4.level=18 stops start-up with the range"

# Without the modules every codec is refused and nothing is stored.
rm -rf "$BROKER_DATA"
broker_start "num.partitions=1"
for c in "${codecs[@]}"; do
    create "n-$c"
    is "$($PRODUCE "$BROKER_PORT" "n-$c" "$T_TMP/in.txt" "$c")" "76 -1" \
        "$c without its module: UNSUPPORTED_COMPRESSION_TYPE"
done
done_testing
