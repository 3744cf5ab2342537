#!/usr/bin/env bash
# Several log.dirs: partitions spread over the least-loaded directory, found
# again where they are after a restart; DescribeLogDirs (v0-v4, raw: the
# Debian clients have no such call) checked against the files on disk;
# AlterReplicaLogDirs moves a multi-segment partition with its data byte
# for byte, and one under a live acks=all producer without losing an
# acknowledged record; start-up finishes a switch a crash interrupted.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"
need_cmd kcat
need_python_module kafka
need_python_module confluent_kafka
need_cmd timeout

LT="timeout 60 $PY $T_CLIENTS/log_tool.py"
AT="timeout 60 $PY $T_CLIENTS/admin_tool.py"
j() { "$PY" -c 'import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1]))' "$1"; }
okc() { if (($1)); then pass "$2"; else fail "$2"; fi; }
wait_until() {
    local end=$((SECONDS + $1))
    until eval "$2"; do [ $SECONDS -ge $end ] && return 1; sleep 0.1; done
}
D1=$T_TMP/d1 D2=$T_TMP/d2 D3=$T_TMP/d3
DIRS=("$D1" "$D2" "$D3")
# which directory holds TOPIC-P on disk
where() { local d; for d in "${DIRS[@]}"; do [ -d "$d/$1" ] && echo "$d"; done; }
count_in() { find "$1" -maxdepth 1 -type d -name "$2-*" | wc -l; }
dump() { timeout 60 kcat -b "$BOOTSTRAP" -q -C -t "$1" -p "$2" -o beginning -e -f '%o %k %s\n'; }
leftovers() { find "${DIRS[@]}" -maxdepth 1 \( -name '*-future' -o -name '*-delete' \) | wc -l; }
# DescribeLogDirs VERSION checked against the disk: every partition directory
# listed once, in the directory that holds it, with the bytes of its *.log
# files, offset lag 0, not future; prints OK or the differences.
check_describe() {
    $LT describe "$BROKER_PORT" "$1" >"$T_TMP/desc.json" || { echo "request failed"; return; }
    "$PY" - "$T_TMP/desc.json" "$1" "${DIRS[@]}" <<'EOF'
import json, os, sys
d = json.load(open(sys.argv[1]))
version, dirs = int(sys.argv[2]), sys.argv[3:]
bad = []
if [r["path"] for r in d["dirs"]] != dirs:
    bad.append("dirs %r" % [r["path"] for r in d["dirs"]])
listed = {}
for r in d["dirs"]:
    if r["error"] != 0:
        bad.append("error %d for %s" % (r["error"], r["path"]))
    if version >= 4:
        st = os.statvfs(r["path"])
        if r["total"] != st.f_blocks * st.f_frsize or not 0 < r["usable"] <= r["total"]:
            bad.append("space %s: %d/%d" % (r["path"], r["usable"], r["total"]))
    for topic, parts in r["topics"].items():
        for p in parts:
            name = "%s-%d" % (topic, p["p"])
            pd = os.path.join(r["path"], name)
            size = sum(os.path.getsize(os.path.join(pd, f)) for f in os.listdir(pd) if f.endswith(".log"))
            if size != p["size"] or p["lag"] != 0 or p["future"]:
                bad.append("%s: %r, %d bytes on disk" % (name, p, size))
            listed[name] = listed.get(name, 0) + 1
for path in dirs:
    for name in os.listdir(path):
        if os.path.isdir(os.path.join(path, name)) and not name.startswith("__") and "." not in name.rsplit("-", 1)[-1]:
            if listed.get(name) != 1:
                bad.append("%s listed %d times" % (name, listed.get(name, 0)))
print("OK %d" % len(listed) if not bad else "; ".join(bad))
EOF
}

broker_start "log.dirs=$D1,$D2,$D3"

# ---- placement -------------------------------------------------------------
is "$($AT "$BOOTSTRAP" create spread 6 segment.bytes=2000)" NO_ERROR "create spread (6 partitions)"
is "$(count_in "$D1" spread) $(count_in "$D2" spread) $(count_in "$D3" spread)" "2 2 2" \
    "6 partitions spread 2/2/2 over the three directories"
is "$($AT "$BOOTSTRAP" create more 4)" NO_ERROR "create more (4 partitions)"
is "$(($(count_in "$D1" more) + $(count_in "$D1" spread))) $(($(count_in "$D2" more) + $(count_in "$D2" spread))) $(($(count_in "$D3" more) + $(count_in "$D3" spread)))" \
    "4 3 3" "the next 4 go to the least loaded first, ties in log.dirs order: 4/3/3"
for p in 0 1 2 3 4 5; do $LT fill "$BROKER_PORT" spread $p 40 100 >/dev/null; done
for p in 0 1 2 3; do $LT fill "$BROKER_PORT" more $p 5 50 >/dev/null; done
s0=$(where spread-0)
okc "$(find "$s0/spread-0" -name '*.log' | wc -l) >= 3" "spread-0 has several segments (segment.bytes=2000)"

# ---- DescribeLogDirs ---------------------------------------------------------
for v in 0 1 2 3 4; do
    is "$(check_describe $v)" "OK 10" "DescribeLogDirs v$v: 10 partitions, sizes equal the *.log bytes on disk"
done
out=$($LT describe "$BROKER_PORT" 4 spread:0 spread:9 nope:0)
is "$(j '[(r["path"], sorted(r["topics"])) for r in d["dirs"] if r["topics"]]' <<<"$out")" \
    "[('$s0', ['spread'])]" "asking for spread-0 (and unknown ones): only spread-0, in $s0"
is "$(j 'd["error"], [len(r["topics"]) for r in d["dirs"]]' <<<"$out")" \
    "(0, [$([ "$s0" = "$D1" ] && echo 1 || echo 0), $([ "$s0" = "$D2" ] && echo 1 || echo 0), $([ "$s0" = "$D3" ] && echo 1 || echo 0)])" \
    "other directories list no topic; top-level error 0 (v3+)"

# ---- restart: partitions found where they are ----------------------------------
before=$(for p in 0 1 2 3 4 5; do where spread-$p; done)
dump spread 3 >"$T_TMP/spread3.before"
broker_restart
is "$(for p in 0 1 2 3 4 5; do where spread-$p; done)" "$before" "after a restart no partition directory moved"
is "$(check_describe 4)" "OK 10" "DescribeLogDirs after the restart still matches the disk"
is "$(dump spread 3)" "$(cat "$T_TMP/spread3.before")" "spread-3's records read back unchanged"

# ---- AlterReplicaLogDirs: errors ------------------------------------------------
is "$($LT alter "$BROKER_PORT" 1 /no/such/dir spread:0)" '[["spread", 0, 57]]' \
    "a directory not in log.dirs: LOG_DIR_NOT_FOUND"
is "$($LT alter "$BROKER_PORT" 2 "$D2" nope:0 spread:99)" '[["nope", 0, 3], ["spread", 99, 3]]' \
    "unknown partitions: UNKNOWN_TOPIC_OR_PARTITION (v2)"
is "$($LT alter "$BROKER_PORT" 1 "$s0" spread:0)" '[["spread", 0, 0]]' "its own directory: NONE"
is "$(where spread-0)" "$s0" "... and nothing moves"

# ---- AlterReplicaLogDirs: a multi-segment partition ---------------------------------
dest=$D3; [ "$s0" = "$D3" ] && dest=$D2
dump spread 0 >"$T_TMP/spread0.before"
(cd "$s0/spread-0" && sha256sum -- *.log) >"$T_TMP/spread0.sums"
is "$($LT alter "$BROKER_PORT" 2 "$dest" spread:0)" '[["spread", 0, 0]]' "move spread-0 to $dest: NONE"
wait_until 20 '[ "$(where spread-0)" = "$dest" ] && [ "$(leftovers)" -eq 0 ]'
is "$(where spread-0)" "$dest" "spread-0 now lives in $dest only"
is "$(leftovers)" 0 "no -future or -delete directory left"
is "$(cd "$dest/spread-0" && sha256sum -- *.log)" "$(cat "$T_TMP/spread0.sums")" \
    "every segment file arrived byte for byte"
is "$(dump spread 0)" "$(cat "$T_TMP/spread0.before")" "all 40 records read back with their offsets"
is "$(check_describe 4)" "OK 10" "DescribeLogDirs shows it in $dest, size as on disk"
is "$($LT fill "$BROKER_PORT" spread 0 2 100)" '{"0": 2}' "appends continue on the moved partition"
is "$(dump spread 0 | tail -n 1 | cut -d' ' -f1)" 41 "at offsets 40-41"

# ---- AlterReplicaLogDirs under a live producer ---------------------------------------------
is "$($AT "$BOOTSTRAP" create live 1 segment.bytes=20000)" NO_ERROR "create live"
src=$(where live-0)
ldest=$D1; [ "$src" = "$D1" ] && ldest=$D2
ACKED=$T_TMP/acked
: >"$ACKED"
timeout 120 "$PY" "$T_CLIENTS/acked_producer.py" "$BOOTSTRAP" live 1 2000 "$ACKED" \
    2>"$T_TMP/producer.err" &
PROD=$!
wait_until 20 '[ "$(wc -l <"$ACKED")" -ge 300 ]'
is "$($LT alter "$BROKER_PORT" 1 "$ldest" live:0)" '[["live", 0, 0]]' "move live-0 while records stream in"
wait "$PROD"
is "$?" 0 "the producer finished (retriable errors during the switch are retried)"
wait_until 20 '[ "$(where live-0)" = "$ldest" ]'
is "$(where live-0)" "$ldest" "live-0 ended up in $ldest"
timeout 60 kcat -b "$BOOTSTRAP" -q -C -t live -o beginning -e -f '%p %o %k %s\n' >"$T_TMP/live.dump"
run_client "$PY" "$T_CLIENTS/verify_acked.py" "$ACKED" "$T_TMP/live.dump" 1

# ---- moves survive a restart; an interrupted switch is finished at start-up ----------
m0=$(where more-0) m1=$(where more-1)
dump more 0 >"$T_TMP/more0.before"
dump more 1 >"$T_TMP/more1.before"
broker_stop_ok "broker stops before the crash simulation"
is "$(where spread-0)" "$dest" "spread-0 is still in $dest after the stop"
t0=$D1; [ "$m0" = "$D1" ] && t0=$D2
t1=$D1; [ "$m1" = "$D1" ] && t1=$D2
# more-0: the future was complete and the source already renamed -delete.
cp -a "$m0/more-0" "$t0/more-0.0123456789abcdef0123456789abcdef-future"
mv "$m0/more-0" "$m0/more-0.0123456789abcdef0123456789abcdef-delete"
# more-1: the crash came before the switch: a partial future only.
mkdir "$t1/more-1.fedcba9876543210fedcba9876543210-future"
cp "$m1/more-1/00000000000000000000.log" "$t1/more-1.fedcba9876543210fedcba9876543210-future/"
broker_restart
is "$(where more-0)" "$t0" "a complete future whose source was renamed -delete is promoted"
is "$(where more-1)" "$m1" "a partial future is dropped; more-1 stays in $m1"
is "$(leftovers)" 0 "no -future or -delete directory left"
is "$(dump more 0)" "$(cat "$T_TMP/more0.before")" "more-0's records read back from its new directory"
is "$(dump more 1)" "$(cat "$T_TMP/more1.before")" "more-1's records read back"
is "$(where spread-0)" "$dest" "spread-0 found in $dest after the restart"
is "$(dump spread 0 | wc -l)" 42 "with its 42 records"
is "$(check_describe 4)" "OK 11" "DescribeLogDirs matches the disk"
done_testing
