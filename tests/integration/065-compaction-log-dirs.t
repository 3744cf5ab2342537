#!/usr/bin/env bash
# Log compaction with several log dirs.  AlterReplicaLogDirs of a compacted
# partition while the (throttled) cleaner works on it: cleaning is aborted
# and paused for the move (the copy reads the segment files by name), the
# data arrives intact, cleaning resumes in the new directory, and the
# partition's position moves to that directory's cleaner-offset-checkpoint
# (Kafka keeps one per log dir).  With root: an I/O error while cleaning
# (ENOSPC on a full tmpfs, a real one) takes that directory offline like
# any other I/O error of its logs, the other directories keep serving, and
# after the disk is fixed a restart recovers the half-written .cleaned
# files and the cleaning completes.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/compaction_lib.sh"
need_cmd kcat
need_cmd timeout
need_python_module confluent_kafka
need_python_module kafka

LT="timeout 60 $PY $T_CLIENTS/log_tool.py"
AT="$PY $T_CLIENTS/admin_tool.py"
j() { "$PY" -c 'import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1]))' "$1"; }
wait_until() {
    local end=$((SECONDS + $1))
    until eval "$2"; do [ $SECONDS -ge $end ] && return 1; sleep 0.05; done
}
D1=$T_TMP/d1 D2=$T_TMP/d2 D3=$T_TMP/d3
DIRS=("$D1" "$D2" "$D3")
where() { local d; for d in "${DIRS[@]}"; do [ -d "$d/$1" ] && echo "$d"; done; }
leftovers() { find "${DIRS[@]}" -maxdepth 1 \( -name '*-future' -o -name '*-delete' \) | wc -l; }
swapfiles() { find "$1" -name '*.cleaned' -o -name '*.swap' | wc -l; }

# D3 is a small tmpfs when this runs as root and may mount (part 2).
MOUNTED=
_keep_rc() { return "$1"; }
trap '_rc=$?; [ -n "$MOUNTED" ] && umount -l "$D3" 2>/dev/null; _keep_rc $_rc; _on_exit' EXIT
mkdir -p "$D1" "$D2" "$D3"
if [ "$(id -u)" = 0 ] && mount -t tmpfs -o size=3m tmpfs "$D3" 2>/dev/null; then
    MOUNTED=1
    expect_log 'ERROR \[log-dirs\]'
fi

broker_start "log.dirs=$D1,$D2,$D3" "log.cleaner.backoff.ms=200" \
    "log.cleaner.io.max.bytes.per.second=150000"
is "$($AT "$BOOTSTRAP" create mv 1 cleanup.policy=compact segment.bytes=32768 \
    min.cleanable.dirty.ratio=0.01)" NO_ERROR "create compacted topic mv"
src=$(where mv-0)
dest=$D2; [ "$src" = "$D2" ] && dest=$D1
STATE=$T_TMP/mv.json
# Enough that a cleaning outlasts the throttle's first 300 ms window.
run_client "$PY" "$CC" produce "$BOOTSTRAP" mv 60000 500 "$STATE"
run_client "$PY" "$CC" produce "$BOOTSTRAP" mv 60000 500 "$STATE"

# ---- the move aborts and pauses a cleaning in progress ------------------------
# A cleaning is running once it began and has not ended.
running() {
    [ "$(grep -c 'Beginning cleaning of log mv-0' "$(broker_log)")" -gt \
        "$(grep -c 'cleaned log mv-0' "$(broker_log)")" ]
}
wait_until 30 running
ok $? "a (throttled) cleaning of mv-0 is running in $src"
sleep 0.5
running
ok $? "and still running"
before=$(cleaner_pos mv "$src")
is "$($LT alter "$BROKER_PORT" 1 "$dest" mv:0)" '[["mv", 0, 0]]' "AlterReplicaLogDirs mv-0 -> $dest"
wait_until 30 '[ "$(where mv-0)" = "$dest" ] && [ "$(leftovers)" -eq 0 ]'
is "$(where mv-0)" "$dest" "mv-0 moved to $dest"
like "$(grep -m1 'cleaning for partition mv-0 is' "$(broker_log)")" \
    'The cleaning for partition mv-0 is aborted and paused' "the move aborted and paused the cleaning"
# The first cleaning after the move starts where the last completed one
# ended (the position came along; the aborted one left nothing).
first_after() {
    awk '/moved mv-0 from/ { m = 1 } m && /Beginning cleaning of log mv-0/ { print; exit }' \
        "$(broker_log)"
}
wait_until 30 '[ -n "$(first_after)" ]'
like "$(first_after)" "Beginning cleaning of log mv-0: dirty section \\[${before:-0}," \
    "cleaning resumes in $dest from position ${before:-0}"
like "$(grep -m1 'moved mv-0 from' "$(broker_log)")" "moved mv-0 from .*d[12] to .*d[12]" \
    "the mover logs the switch"
run_client "$PY" "$CC" verify "$BOOTSTRAP" mv "$STATE" -1
like "$(grep -m1 'Compaction for partition mv-0 is resumed' "$(broker_log)")" resumed \
    "cleaning resumes when the move ends"
wait_cleaned mv 90 "$dest"
ok $? "mv-0 cleaned in $dest (position $(cleaner_pos mv "$dest"))"
is "$(cleaner_pos mv "$src")" "" "no entry for mv-0 left in $src's checkpoint"
hw=$(log_end mv)
run_client "$PY" "$CC" verify "$BOOTSTRAP" mv "$STATE" $((500 + hw - $(active_base mv "$dest")))

# ---- moving back: the position goes with the partition -------------------------------
pos=$(cleaner_pos mv "$dest")
is "$($LT alter "$BROKER_PORT" 2 "$src" mv:0)" '[["mv", 0, 0]]' "AlterReplicaLogDirs mv-0 -> $src"
wait_until 30 '[ "$(where mv-0)" = "$src" ] && [ "$(leftovers)" -eq 0 ]'
wait_until 10 '[ "$(cleaner_pos mv "$src")" = "$pos" ]'
is "$(cleaner_pos mv "$src")" "$pos" "position $pos now in $src's cleaner-offset-checkpoint"
is "$(cleaner_pos mv "$dest")" "" "and gone from $dest's"
broker_restart
is "$(cleaner_pos mv "$src")" "$pos" "kept across a restart"
run_client "$PY" "$CC" verify "$BOOTSTRAP" mv "$STATE" $((500 + hw - $(active_base mv "$src")))

# ---- an I/O error while cleaning takes the directory offline --------------------------------
if [ -z "$MOUNTED" ]; then
    skip "I/O error while cleaning takes the directory offline" "needs root and a tmpfs mount"
    done_testing
fi
is "$($AT "$BOOTSTRAP" create cf 1 cleanup.policy=compact segment.bytes=16384 \
    min.cleanable.dirty.ratio=0.01 min.compaction.lag.ms=3600000)" NO_ERROR \
    "create compacted topic cf (min.compaction.lag.ms 1 h: not cleaned yet)"
if [ "$(where cf-0)" != "$D3" ]; then
    is "$($LT alter "$BROKER_PORT" 1 "$D3" cf:0)" '[["cf", 0, 0]]' "AlterReplicaLogDirs cf-0 -> the tmpfs"
    wait_until 30 '[ "$(where cf-0)" = "$D3" ] && [ "$(leftovers)" -eq 0 ]'
fi
is "$(where cf-0)" "$D3" "cf-0 lives on the tmpfs"
CF=$T_TMP/cf.json
run_client "$PY" "$CC" produce "$BOOTSTRAP" cf 10000 200 "$CF"
dd if=/dev/zero of="$D3/filler" bs=64k >/dev/null 2>&1; sync
is "$($LT config "$BROKER_PORT" cf min.compaction.lag.ms=0 | j 'd["error"]')" 0 \
    "min.compaction.lag.ms=0: cf-0 becomes cleanable"
wait_until 30 'grep -q "Error while cleaning cf-0" "$(broker_log)"'
like "$(grep -m1 'Error while cleaning cf-0' "$(broker_log)")" \
    "Error while cleaning cf-0 in dir .*/d3: No space left on device" \
    "the cleaner's ENOSPC goes to the log dir failure path"
wait_until 10 'grep -q "Stopping serving replicas in dir .*/d3" "$(broker_log)"'
ok $? "the directory is taken offline"
is "$($LT produce "$BROKER_PORT" cf 0 3 now | j 'd["error"]')" 56 "produce to cf-0: KAFKA_STORAGE_ERROR"
broker_alive
ok $? "the broker keeps running"
run_client "$PY" "$CC" verify "$BOOTSTRAP" mv "$STATE" -1
is "$(cleaner_pos cf "$D3")" "" "no checkpoint written for the failed directory"

# ---- fixed disk, restart: recovery and a complete cleaning ---------------------------------------
broker_stop_ok "broker exits 0 with a directory offline"
rm -f "$D3/filler"
_broker_spawn
is "$(swapfiles "$D3/cf-0")" 0 "the half-written .cleaned files were removed at open"
wait_cleaned cf 60 "$D3"
ok $? "cf-0 cleaned after the restart"
hw=$(log_end cf)
run_client "$PY" "$CC" verify "$BOOTSTRAP" cf "$CF" $((200 + hw - $(active_base cf "$D3")))
done_testing
