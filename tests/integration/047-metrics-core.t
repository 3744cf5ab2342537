#!/usr/bin/env bash
# The broker's own metrics through a real client: requests per API, record
# bytes in and out, the Produce/Fetch latency histogram, read from the
# Prometheus text dump (--metrics-file, written on SIGUSR1).  Bytes in are
# checked against the partition's log file size, bytes out against bytes in
# after one full read, and the histogram against the request counter.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"
need_cmd kcat
need_cmd timeout
need_sluiced

METRICS=$T_TMP/metrics.prom
cat >"$T_TMP/sluiced" <<EOF
#!/bin/sh
exec "$SLUICED" --metrics-file "$METRICS" "\$@"
EOF
chmod +x "$T_TMP/sluiced"
SLUICED=$T_TMP/sluiced

metric() { awk -v n="$1" '$1 == n { print $2 }' "$METRICS" 2>/dev/null; }
dump() {
    rm -f "$METRICS"
    kill -USR1 "$BROKER_PID"
    for _ in $(seq 1 100); do [ -s "$METRICS" ] && break; sleep 0.05; done
}

broker_start "num.partitions=1" "log.cleaner.backoff.ms=200"
dump
ok "$([ -s "$METRICS" ]; echo $?)" "SIGUSR1 writes the metrics file"
is "$(metric sluice_bytes_in_total)" "0" "no bytes in before any produce"
is "$(metric 'sluice_requests_total{request="Produce"}')" "0" "Produce counter starts at 0"
grep -q '^# TYPE sluice_request_latency_seconds histogram$' "$METRICS" &&
    grep -q '^# HELP sluice_requests_total Requests received, by API' "$METRICS"
ok $? "HELP and TYPE lines"

KC="timeout 60 kcat -b $BOOTSTRAP -q"
for i in $(seq 1 200); do printf 'k%03d:value number %03d\n' "$i" "$i"; done >"$T_TMP/in.txt"
$KC -P -t m1 -K: -z none <"$T_TMP/in.txt"
ok $? "kcat produced 200 records"
got=$($KC -C -t m1 -p 0 -o beginning -e -f '%k:%s\n')
is "$got" "$(cat "$T_TMP/in.txt")" "read back all 200 records"
sleep 0.6   # a consumer's last long-poll Fetch answers within fetch.wait.max.ms
dump

prod=$(metric 'sluice_requests_total{request="Produce"}')
ok "$([ "${prod:-0}" -ge 1 ]; echo $?)" "Produce requests counted ($prod)"
is "$(metric 'sluice_request_latency_seconds_count{request="Produce"}')" "$prod" \
    "one Produce latency observation per Produce request"
ok "$([ "$(metric 'sluice_requests_total{request="Metadata"}')" -ge 2 ]; echo $?)" \
    "Metadata requests counted (two clients)"
fetch=$(metric 'sluice_requests_total{request="Fetch"}')
fobs=$(metric 'sluice_request_latency_seconds_count{request="Fetch"}')
ok "$([ "${fetch:-0}" -ge 1 ] && [ "${fobs:-0}" -ge 1 ] && [ "$fobs" -le "$fetch" ]; echo $?)" \
    "Fetch requests ($fetch) and answered-Fetch latencies ($fobs)"
logsize=$(stat -c %s "$BROKER_DATA"/m1-0/*.log | awk '{ s += $1 } END { print s }')
ok "$([ "${logsize:-0}" -gt 4000 ]; echo $?)" "partition log holds the batches ($logsize bytes)"
is "$(metric sluice_bytes_in_total)" "$logsize" "bytes in = bytes of batches in the partition log"
is "$(metric sluice_bytes_out_total)" "$logsize" "bytes out = the same batches, read once"

# Histogram shape: cumulative buckets, +Inf equals _count.
shape=$(awk -F'[{} ]' '
    /^sluice_request_latency_seconds_bucket/ {
        s = $2; sub(/,le=.*/, "", s)
        if (s in prev && $NF + 0 < prev[s]) bad = bad " decreasing:" s
        prev[s] = $NF + 0
        if ($2 ~ /le="\+Inf"/) inf[s] = $NF + 0
    }
    /^sluice_request_latency_seconds_count/ { cnt[$2] = $NF + 0 }
    END {
        for (s in cnt) if (inf[s] != cnt[s]) bad = bad " inf!=count:" s
        print bad == "" ? "ok" : bad
    }' "$METRICS")
is "$shape" "ok" "latency buckets are cumulative and +Inf = _count"
sum=$(metric 'sluice_request_latency_seconds_sum{request="Produce"}')
ok "$(awk -v s="$sum" 'BEGIN { exit !(s > 0 && s < 60) }'; echo $?)" "Produce latency sum is plausible ($sum s)"

# State read at exposition time: partitions and log bytes against the data
# directory, the cleaner's totals against a compaction of 400 updates of 20 keys.
is "$("$PY" "$T_CLIENTS/admin_tool.py" "$BOOTSTRAP" create mc 1 cleanup.policy=compact \
    segment.bytes=8192 min.cleanable.dirty.ratio=0.01)" NO_ERROR "create compacted topic mc"
# Four produces of 100 records (~5 KB batches): two do not fit one segment, so each
# gets its own segment and the first three can be cleaned.
for r in 1 2 3 4; do
    for i in $(seq 1 100); do printf 'key%02d:round %d update %03d, padded to some length\n' $((i % 20)) "$r" "$i"; done |
        $KC -P -t mc -K: -z none
done
. "$(dirname "$0")/compaction_lib.sh"
wait_cleaned mc 60
ok $? "the cleaner compacted mc"
dump
parts=$(ls -d "$BROKER_DATA"/*-[0-9]* | grep -vc '/__cluster_metadata-0$')
is "$(metric sluice_partitions)" "$parts" "sluice_partitions = partition directories on disk ($parts)"
is "$(metric sluice_offline_partitions)" 0 "no offline partitions"
ondisk=$(ls "$BROKER_DATA"/*-[0-9]*/*.log | grep -v '/__cluster_metadata-0/' | xargs stat -c %s | awk '{ s += $1 } END { print s }')
is "$(metric sluice_log_size_bytes)" "$ondisk" "sluice_log_size_bytes = bytes of the partitions' segment files"
cleanings=$(metric sluice_log_cleaner_cleanings_total)
ok "$([ "${cleanings:-0}" -ge 1 ]; echo $?)" "cleanings counted ($cleanings)"
read=$(metric sluice_log_cleaner_read_records_total)
kept=$(metric sluice_log_cleaner_retained_records_total)
ok "$([ "${read:-0}" -ge 100 ] && [ "${kept:-0}" -ge 1 ] && [ "$kept" -lt "$read" ]; echo $?)" \
    "the cleaner read $read records and kept fewer ($kept)"
ok "$(awk -v r="$(metric sluice_log_cleaner_read_bytes_total)" -v w="$(metric sluice_log_cleaner_written_bytes_total)" \
    'BEGIN { exit !(r > 0 && w > 0 && w < r) }'; echo $?)" "cleaner bytes: written < read"
is "$(metric sluice_log_cleaner_failed_total)" 0 "no failed cleanings"
dump
is "$(metric sluice_log_cleaner_read_records_total)" "$read" \
    "a second exposition does not add the cleaner totals again (nothing new to clean)"

broker_stop_ok
ok "$([ -s "$METRICS" ] && grep -q '^sluice_bytes_in_total ' "$METRICS"; echo $?)" \
    "metrics file written again at shutdown"
done_testing
