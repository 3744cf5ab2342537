#!/usr/bin/env bash
# kafkajs: admin (createTopics, metadata, offsets, offsets by timestamp,
# deleteTopicRecords, describeConfigs, deleteTopics), an acks=-1 producer and a
# group consumer reading everything back (keys, values, headers, offsets);
# kcat verifies what was stored too.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"
need_node_module kafkajs
need_cmd kcat

broker_start "auto.create.topics.enable=false"
BASE_TS=$(( ($(date +%s) - 600) * 1000 ))
run_client node "$T_JS/kafkajs_suite.js" "$BOOTSTRAP" "$BASE_TS"

# What kafkajs_suite.js sent: 8 records per partition of kjs1, partition 0
# truncated before offset 3 by deleteTopicRecords.
expected() { # expected P FIRST
    local i
    for i in $(seq "$2" 7); do
        printf 'js-%s-%s|value %s/%s \xc3\xbc|origin=kafkajs,idx=%s|%s|%s\n' \
            "$1" "$i" "$1" "$i" "$i" "$i" "$((BASE_TS + i * 100))"
    done
}
for p in 0 1 2; do
    first=0; [ "$p" -eq 0 ] && first=3
    got=$(timeout 60 kcat -q -b "$BOOTSTRAP" -C -t kjs1 -p "$p" -o beginning -e \
          -f '%k|%s|%h|%o|%T\n')
    is "$got" "$(expected "$p" "$first")" \
        "kcat reads kjs1/$p: kafkajs keys, values, headers, offsets $first..7, timestamps"
done

broker_alive
ok $? "broker still running"
done_testing
