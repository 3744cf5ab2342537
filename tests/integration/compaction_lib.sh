# Helpers for the compaction tests (06x-compaction-*.t), sourced after lib.sh.
# DIR arguments name the log dir holding the partition (default: the
# single log dir $BROKER_DATA).

CC=$T_CLIENTS/compaction_client.py

# cleaner_pos TOPIC [DIR]: the cleaner position of TOPIC-0 in DIR's checkpoint file.
cleaner_pos() {
    awk -v t="$1" '$1 == t && $2 == 0 { print $3 }' "${2:-$BROKER_DATA}/cleaner-offset-checkpoint" 2>/dev/null
}

# active_base TOPIC [DIR]: base offset of the newest segment of TOPIC-0.
active_base() {
    local f
    f=$(ls "${2:-$BROKER_DATA}/$1-0" 2>/dev/null | grep -E '^[0-9]{20}\.log$' | sort | tail -n 1)
    [ -n "$f" ] && echo $((10#${f%.log}))
}

# log_end TOPIC: the high watermark of TOPIC-0.
log_end() {
    timeout 30 kcat -q -b "$BOOTSTRAP" -Q -t "$1:0:-1" | awk '{print $NF}'
}

# wait_cleaned TOPIC [SECONDS [DIR]]: until the cleaner position reaches the
# active segment (everything cleanable was cleaned).  0 on success.
wait_cleaned() {
    local i pos base
    for i in $(seq 1 $((${2:-60} * 10))); do
        pos=$(cleaner_pos "$1" "${3:-}")
        base=$(active_base "$1" "${3:-}")
        [ -n "$pos" ] && [ -n "$base" ] && [ "$pos" -ge "$base" ] && return 0
        sleep 0.1
    done
    diag "cleaner position ${pos:-none}, active segment ${base:-none}"
    return 1
}

# segment_count TOPIC [DIR]
segment_count() {
    ls "${2:-$BROKER_DATA}/$1-0" | grep -cE '^[0-9]{20}\.log$'
}
