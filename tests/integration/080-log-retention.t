#!/usr/bin/env bash
# Retention and deletion, measured on disk: retention.bytes and retention.ms
# set live through IncrementalAlterConfigs delete the oldest segment files
# (renamed *.deleted, removed after file.delete.delay.ms), move the log
# start offset (ListOffsets earliest, OFFSET_OUT_OF_RANGE below it); an old
# active segment goes too, leaving one empty segment at the log end;
# segment.ms rolls on the next append only (Kafka's rule); DeleteRecords
# moves the log start offset durably (restart).
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"
need_cmd kcat
need_python_module kafka
need_python_module confluent_kafka
need_cmd timeout

LT="timeout 60 $PY $T_CLIENTS/log_tool.py"
AT="timeout 60 $PY $T_CLIENTS/admin_tool.py"
# jq-like: j 'd["error"]' <<<"$json"
j() { "$PY" -c 'import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1]))' "$1"; }
pdir() { echo "$BROKER_DATA/$1"; }
nlogs() { find "$(pdir "$1")" -maxdepth 1 -name '*.log' | wc -l; }
ndeleted() { find "$(pdir "$1")" -maxdepth 1 -name '*.deleted' | wc -l; }
log_bytes() { find "$(pdir "$1")" -maxdepth 1 -name '*.log' -printf '%s\n' | awk '{s+=$1} END {print s+0}'; }
bases() { find "$(pdir "$1")" -maxdepth 1 -name '*.log' -printf '%f\n' | sed 's/\.log$//' | sort | sed 's/^0*\([0-9]\)/\1/'; }
earliest() { $LT offsets "$BROKER_PORT" "$1" 0 -2 | j 'd["offset"]'; }
latest() { $LT offsets "$BROKER_PORT" "$1" 0 -1 | j 'd["offset"]'; }
# wait_until SECONDS 'SHELL CONDITION': poll every 0.1 s; status of the last try
wait_until() {
    local end=$((SECONDS + $1))
    until eval "$2"; do [ $SECONDS -ge $end ] && return 1; sleep 0.1; done
}
# okc 'ARITHMETIC CONDITION' DESC
okc() { if (($1)); then pass "$2"; else fail "$2"; fi; }

broker_start "log.retention.check.interval.ms=200" "log.segment.delete.delay.ms=1500"

# ---- retention.bytes -----------------------------------------------------
is "$($AT "$BOOTSTRAP" create rb 1 segment.bytes=1000)" NO_ERROR "create rb (segment.bytes=1000)"
is "$($LT fill "$BROKER_PORT" rb 0 100 100)" '{"0": 100}' "100 single-record batches of ~170 bytes appended"
n0=$(nlogs rb-0)
okc "n0 >= 15" "rolled into $n0 segment files of at most 1000 bytes"
total0=$(log_bytes rb-0)
okc "total0 > 15000 && total0 <= n0 * 1000" "segment files hold $total0 bytes"
is "$($LT config "$BROKER_PORT" rb retention.bytes=3000 | j 'd["error"]')" 0 \
    "IncrementalAlterConfigs retention.bytes=3000 accepted"
t_seen=0
if wait_until 5 '[ "$(ndeleted rb-0)" -gt 0 ]'; then
    t_seen=$(date +%s%N)
    pass "retention renamed old segments to *.deleted within one check interval"
else
    fail "retention renamed old segments to *.deleted within one check interval"
fi
kept=$(log_bytes rb-0)
okc "kept >= 3000 && kept < 4000" \
    "retention.bytes: $kept bytes of segments kept on disk (>= 3000, < 3000 + segment.bytes)"
first=$(bases rb-0 | head -n 1)
okc "first > 0" "oldest segments gone: the first segment file now starts at $first"
is "$(earliest rb)" "$first" "ListOffsets earliest = base offset of the first file on disk"
is "$($LT fetch "$BROKER_PORT" rb 0 $((first - 1)) | j 'd["error"]')" 1 \
    "fetch below the log start offset: OFFSET_OUT_OF_RANGE"
out=$($LT fetch "$BROKER_PORT" rb 0 "$first")
is "$(j 'd["error"], d["log_start"], d["bytes"] > 0' <<<"$out")" "(0, $first, True)" \
    "fetch at the log start offset returns records and reports the log start"
vals=$(timeout 60 kcat -b "$BOOTSTRAP" -q -C -t rb -p 0 -o beginning -e -f '%o %s\n' | cut -c1-20)
is "$(echo "$vals" | wc -l)" $((100 - first)) "a consumer from the beginning reads the $((100 - first)) kept records"
like "$(echo "$vals" | head -n 1)" "^$first r$(printf '%06d' "$first")\." "the first one is record $first"
# file.delete.delay.ms (log.segment.delete.delay.ms=1500): the renamed files stay a while.
if wait_until 6 '[ "$(ndeleted rb-0)" -eq 0 ]'; then
    ms=$((($(date +%s%N) - t_seen) / 1000000))
    okc "t_seen > 0 && ms >= 1000" "*.deleted files removed after the delete delay (${ms} ms after they appeared)"
else
    fail "*.deleted files removed after the delete delay"
fi

# ---- retention.ms ---------------------------------------------------------
is "$($AT "$BOOTSTRAP" create rt 1 segment.bytes=1000 file.delete.delay.ms=0)" NO_ERROR \
    "create rt (file.delete.delay.ms=0)"
is "$($LT fill "$BROKER_PORT" rt 0 50 100 -600000)" '{"0": 50}' "50 records timestamped 10 minutes ago"
is "$($LT fill "$BROKER_PORT" rt 0 50 100)" '{"0": 50}' "50 records timestamped now"
# Kafka deletes a segment when its largest timestamp is older than
# retention.ms: the one holding offset 50 has a recent record and stays.
want=$(bases rt-0 | awk '$1 <= 50' | tail -n 1)
is "$($LT config "$BROKER_PORT" rt retention.ms=300000 | j 'd["error"]')" 0 "retention.ms=300000 set live"
wait_until 5 '[ "$(earliest rt)" = "$want" ]'
is "$(earliest rt)" "$want" "retention.ms: log start moved to $want, the segment holding the first recent record"
is "$(bases rt-0 | head -n 1)" "$want" "older segment files are gone from disk"
wait_until 3 '[ "$(ndeleted rt-0)" -eq 0 ]'
is "$(ndeleted rt-0)" 0 "file.delete.delay.ms=0 (topic override): no *.deleted file left"
is "$($LT config "$BROKER_PORT" rt retention.ms=1000 | j 'd["error"]')" 0 "retention.ms=1000 set live"
wait_until 6 '[ "$(earliest rt)" = 100 ]'
is "$(earliest rt)/$(latest rt)" "100/100" "every record expired: log start = log end = 100"
is "$(bases rt-0 | tr '\n' ' ')" "100 " "the active segment went too: one new segment file at 100"
is "$(log_bytes rt-0)" 0 "and it is empty"
is "$($LT fill "$BROKER_PORT" rt 0 1 10)" '{"0": 1}' "appends continue"
is "$(latest rt)" 101 "at offset 100"

# ---- segment.ms ------------------------------------------------------------
is "$($AT "$BOOTSTRAP" create sm 1 segment.ms=1500)" NO_ERROR "create sm (segment.ms=1500)"
$LT fill "$BROKER_PORT" sm 0 2 10 >/dev/null
is "$(nlogs sm-0)" 1 "two quick appends share a segment"
sleep 2
is "$(nlogs sm-0)" 1 "no roll while idle past segment.ms (Kafka rolls on append)"
$LT fill "$BROKER_PORT" sm 0 1 10 >/dev/null
is "$(bases sm-0 | tr '\n' ' ')" "0 2 " "the next append after segment.ms rolled a new segment at offset 2"

# ---- segment.index.bytes -----------------------------------------------------
# An index entry per batch (index.interval.bytes=0); a 24-byte index holds
# 3 offset or 2 time entries, and a full index rolls the segment (Kafka).
is "$($AT "$BOOTSTRAP" create si 1 segment.index.bytes=24 index.interval.bytes=0)" NO_ERROR \
    "create si (segment.index.bytes=24)"
is "$($AT "$BOOTSTRAP" create si2 1 index.interval.bytes=0)" NO_ERROR "create si2 (default index size)"
$LT fill "$BROKER_PORT" si 0 20 10 >/dev/null
$LT fill "$BROKER_PORT" si2 0 20 10 >/dev/null
okc "$(nlogs si-0) >= 5" "segment.index.bytes=24: 20 batches rolled into $(nlogs si-0) segments"
is "$(find "$(pdir si-0)" \( -name '*.index' -o -name '*.timeindex' \) -size +24c | wc -l)" 0 \
    "no index file grew past 24 bytes"
is "$(nlogs si2-0)" 1 "with the default index size the same appends stay in one segment"

# ---- DeleteRecords -----------------------------------------------------------
is "$($AT "$BOOTSTRAP" create dr 1 segment.bytes=1000)" NO_ERROR "create dr"
$LT fill "$BROKER_PORT" dr 0 60 100 >/dev/null
want=$(bases dr-0 | awk '$1 <= 30' | tail -n 1)
is "$($LT delete_records "$BROKER_PORT" dr 0 30 | j '(d["error"], d["low"])')" "(0, 30)" \
    "DeleteRecords before 30: low watermark 30"
is "$(earliest dr)" 30 "ListOffsets earliest = 30"
is "$($LT fetch "$BROKER_PORT" dr 0 29 | j 'd["error"]')" 1 "fetch 29: OFFSET_OUT_OF_RANGE"
is "$($LT fetch "$BROKER_PORT" dr 0 30 | j 'd["error"], d["log_start"]')" "(0, 30)" "fetch 30 works"
is "$(bases dr-0 | head -n 1)" "$want" "segments entirely below 30 deleted from disk"
is "$($LT delete_records "$BROKER_PORT" dr 0 61 | j '(d["error"], d["low"])')" "(1, -1)" \
    "DeleteRecords beyond the high watermark: OFFSET_OUT_OF_RANGE"
is "$(tr '\n' ' ' < "$(pdir dr-0)/log-start-offset")" "0 30 " "log-start-offset file holds 30"
broker_restart
is "$(earliest dr)" 30 "after a restart the log start offset is still 30"
is "$($LT fetch "$BROKER_PORT" dr 0 29 | j 'd["error"]')" 1 "and 29 is still out of range"
is "$(earliest rb)" "$first" "rb keeps its retention-moved log start ($first) across the restart"
done_testing
