#!/usr/bin/env bash
# A failed log directory goes offline alone.  Real filesystem failures, no
# fault injection: a small tmpfs filled up (the next append gets ENOSPC)
# and the same tmpfs remounted read-only before a start (the start-up probe
# fails).  Root ignores permissions, so chmod cannot make a directory
# unwritable; this test needs root and mount(8) and is skipped without.
# Checks: KAFKA_STORAGE_ERROR on produce and fetch for every partition of
# that directory, leader -1 / LEADER_NOT_AVAILABLE / OfflineReplicas in
# Metadata, DescribeLogDirs error for the directory, the other directory
# serving throughout, a log line naming the directory, no partition
# recreated elsewhere while its directory is offline, everything back
# after a restart with the filesystem fixed; and the broker halting with
# status 1 when the metadata log's directory or every directory fails.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"
need_python_module kafka
need_python_module confluent_kafka
need_cmd timeout
need_cmd mount
need_cmd kcat

MOUNTS=()
umount_all() { local m; for m in "${MOUNTS[@]}"; do umount -l "$m" 2>/dev/null; done; }
_keep_rc() { return "$1"; }
trap '_rc=$?; umount_all; _keep_rc $_rc; _on_exit' EXIT
mkfs_tmp() { # mkfs_tmp DIR SIZE: a fresh tmpfs at DIR
    mkdir -p "$1" && mount -t tmpfs -o "size=$2" tmpfs "$1" && MOUNTS+=("$1")
}
[ "$(id -u)" = 0 ] || skip_all "needs root to mount a small tmpfs"
mkfs_tmp "$T_TMP/probe" 1m 2>/dev/null || skip_all "mount -t tmpfs is not permitted here"
umount "$T_TMP/probe"

LT="timeout 60 $PY $T_CLIENTS/log_tool.py"
AT="timeout 60 $PY $T_CLIENTS/admin_tool.py"
j() { "$PY" -c 'import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1]))' "$1"; }
fill_fs() { dd if=/dev/zero of="$1/filler" bs=64k >/dev/null 2>&1; sync; }
err_of() { j 'd["error"]'; }
parts() { # parts TOPIC: "p:err:leader:offline" for every partition
    $LT metadata "$BROKER_PORT" "$1" |
        j '" ".join("%d:%d:%d:%s" % (p["p"], p["err"], p["leader"], p["offline"]) for p in d["parts"])'
}
# wait_exit SECONDS: the broker must exit by itself; EXITED gets its status
wait_exit() {
    local i
    EXITED=running
    for i in $(seq 1 $(($1 * 10))); do broker_alive || break; sleep 0.1; done
    broker_alive && return
    wait "$BROKER_PID"
    EXITED=$?
    BROKER_PID=
}
D1=$T_TMP/d1 D2=$T_TMP/d2
mkdir -p "$D1"
mkfs_tmp "$D2" 2m || bail_out "cannot mount tmpfs on $D2"
expect_log 'ERROR \[log-dirs\]'
expect_log 'Unable to alter log dirs for f-[01]: KAFKA_STORAGE_ERROR'

# ---- a directory fills up at run time ------------------------------------------
broker_start "log.dirs=$D1,$D2"
is "$($AT "$BOOTSTRAP" create f 4)" NO_ERROR "create f (4 partitions over 2 directories)"
is "$(ls -d "$D2"/f-* | xargs -n1 basename | tr '\n' ' ')" "f-1 f-3 " "f-1 and f-3 are on the tmpfs"
for p in 0 1 2 3; do $LT fill "$BROKER_PORT" f $p 3 50 >/dev/null; done
fill_fs "$D2"
is "$(LOG_TOOL_VALUE_SIZE=100000 $LT produce "$BROKER_PORT" f 1 3 now | err_of)" 56 \
    "append to f-1 on the full filesystem: KAFKA_STORAGE_ERROR"
sleep 0.3
is "$($LT produce "$BROKER_PORT" f 3 3 now | err_of)" 56 \
    "f-3 (same directory, small append) is offline too: KAFKA_STORAGE_ERROR"
is "$($LT fetch "$BROKER_PORT" f 1 0 | err_of) $($LT fetch "$BROKER_PORT" f 3 0 | err_of)" "56 56" \
    "fetch from f-1 and f-3: KAFKA_STORAGE_ERROR"
is "$($LT produce "$BROKER_PORT" f 0 3 now | j '(d["error"], d["base"])')" "(0, 3)" \
    "f-0 in the healthy directory still takes appends (offset 3)"
is "$($LT fetch "$BROKER_PORT" f 2 0 | j '(d["error"], d["hw"], d["bytes"] > 0)')" "(0, 3, True)" \
    "f-2 still serves its records"
is "$(parts f)" "0:0:1:[] 1:5:-1:[1] 2:0:1:[] 3:5:-1:[1]" \
    "Metadata: f-1 and f-3 leaderless (LEADER_NOT_AVAILABLE) with the replica offline"
desc=$($LT describe "$BROKER_PORT" 4)
is "$(j '[(r["path"], r["error"], sorted(r["topics"]), r["total"]) for r in d["dirs"]]' <<<"$desc" | sed "s|$T_TMP|T|g")" \
    "[('T/d1', 0, ['f'], $(($(stat -f -c '%b' "$D1") * $(stat -f -c '%S' "$D1")))), ('T/d2', 56, [], -1)]" \
    "DescribeLogDirs: KAFKA_STORAGE_ERROR for the failed directory only"
log=$(broker_log)
like "$(cat "$log")" "ERROR \[log-dirs\] Error while appending records to f-1 in dir $D2: No space left on device" \
    "the log names the directory and the error"
like "$(cat "$log")" "Stopping serving replicas in dir $D2 because the log directory has failed" \
    "... and says it stopped serving it"
like "$(cat "$log")" "Logs for partitions f-[13],f-[13] are offline due to failure on log directory $D2" \
    "... and which partitions went offline"
is "$($AT "$BOOTSTRAP" create g 2)" NO_ERROR "a new topic can still be created"
is "$(ls -d "$D1"/g-* | wc -l)" 2 "its partitions all go to the online directory"
is "$($LT alter "$BROKER_PORT" 2 "$D2" f:0)" '[["f", 0, 56]]' "AlterReplicaLogDirs into the failed directory: KAFKA_STORAGE_ERROR"
is "$($LT alter "$BROKER_PORT" 2 "$D1" f:1)" '[["f", 1, 56]]' "moving an offline partition: KAFKA_STORAGE_ERROR"
is "$(timeout 60 kcat -b "$BOOTSTRAP" -q -C -t f -p 0 -o beginning -e -f '%o\n' | tr '\n' ' ')" "0 1 2 3 " \
    "a real consumer reads all of f-0"
broker_alive
ok $? "the broker kept running"

# ---- the directory is read-only at start-up ------------------------------------------
broker_stop_ok "broker stops cleanly with a failed directory"
rm -f "$D2/filler"
mount -o remount,ro "$D2"
broker_restart
like "$(cat "$(broker_log)")" "Failed to create or validate data directory $D2: Read-only file system" \
    "start-up: the read-only directory is reported and left offline"
is "$(parts f)" "0:0:1:[] 1:5:-1:[1] 2:0:1:[] 3:5:-1:[1]" "f-1 and f-3 are offline, f-0 and f-2 online"
ok $([ ! -e "$D1/f-1" ] && [ ! -e "$D1/f-3" ]; echo $?) \
    "the offline partitions are not recreated (empty) in the other directory"
is "$($LT fetch "$BROKER_PORT" f 0 0 | j '(d["error"], d["hw"])')" "(0, 4)" "f-0 serves its 4 records"
is "$($LT describe "$BROKER_PORT" 1 | j '[r["error"] for r in d["dirs"]]')" "[0, 56]" \
    "DescribeLogDirs v1: the read-only directory has KAFKA_STORAGE_ERROR"

# ---- fixed: everything is back --------------------------------------------------------
broker_stop_ok "broker stops cleanly"
mount -o remount,rw "$D2"
broker_restart
is "$(parts f)" "0:0:1:[] 1:0:1:[] 2:0:1:[] 3:0:1:[]" "with the filesystem writable again all of f is online"
is "$($LT fetch "$BROKER_PORT" f 1 0 | j '(d["error"], d["hw"])') $($LT fetch "$BROKER_PORT" f 3 0 | j '(d["error"], d["hw"])')" \
    "(0, 3) (0, 3)" "f-1 and f-3 have their 3 records each (the failed append left nothing)"
is "$($LT produce "$BROKER_PORT" f 1 3 now | j '(d["error"], d["base"])')" "(0, 3)" "f-1 takes appends again"
broker_stop_ok "broker stops cleanly"

# ---- the metadata log's directory fails: the broker halts (Kafka's rule) --------------
M=$T_TMP/m D3=$T_TMP/d3
mkfs_tmp "$M" 2m || bail_out "cannot mount tmpfs on $M"
broker_start "log.dirs=$M,$D3"
is "$($AT "$BOOTSTRAP" create h 2)" NO_ERROR "create h: h-0 with the metadata log, h-1 elsewhere"
is "$(ls -d "$M"/h-* | xargs -n1 basename)" "h-0" "h-0 shares the directory with __cluster_metadata-0"
fill_fs "$M"
LOG_TOOL_VALUE_SIZE=100000 $LT produce "$BROKER_PORT" h 0 3 now >/dev/null 2>&1
wait_exit 10
is "$EXITED" 1 "a write error in the metadata log's directory halts the broker with status 1"
like "$(cat "$(broker_log)")" "Shutdown broker because the metadata log dir $M has failed" \
    "the log says why"

# ---- a separate metadata.log.dir failing halts too --------------------------------------
MT=$T_TMP/mt D5=$T_TMP/d5
mkfs_tmp "$MT" 1m || bail_out "cannot mount tmpfs on $MT"
broker_start "log.dirs=$D5" "metadata.log.dir=$MT"
fill_fs "$MT"
# A topic creation appends (and pads) metadata records; enough of them fail.
for i in $(seq 1 30); do broker_alive || break; $AT "$BOOTSTRAP" create "x$i$(head -c 3000 /dev/zero | tr '\0' x | cut -c1-200)" 1 >/dev/null 2>&1; done
wait_exit 10
is "$EXITED" 1 "a write error in metadata.log.dir halts the broker with status 1"
like "$(cat "$(broker_log)")" "Shutdown broker because the metadata log dir $MT has failed" "the log says why"

# ---- every data directory failed: the broker halts ----------------------------------------
E=$T_TMP/e
mkfs_tmp "$E" 2m || bail_out "cannot mount tmpfs on $E"
broker_start "log.dirs=$E" "metadata.log.dir=$T_TMP/meta2"
is "$($AT "$BOOTSTRAP" create e 1)" NO_ERROR "create e in the only data directory"
fill_fs "$E"
LOG_TOOL_VALUE_SIZE=100000 $LT produce "$BROKER_PORT" e 0 3 now >/dev/null 2>&1
wait_exit 10
is "$EXITED" 1 "the last data directory failing halts the broker with status 1"
like "$(cat "$(broker_log)")" "Shutdown broker because all log dirs in $E have failed" "the log says why"
done_testing
