#!/usr/bin/env bash
# Clean restart on the same data dir: records, the topic with its config
# override and its topic id survive; new records continue the offsets.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"
need_cmd kcat
need_python_module confluent_kafka

broker_start "auto.create.topics.enable=false"
KC() { timeout 60 kcat -q -b "$BOOTSTRAP" "$@"; }

is "$("$PY" "$T_CLIENTS/admin_tool.py" "$BOOTSTRAP" create rs1 2 retention.ms=123456789)" \
    NO_ERROR "create topic rs1 (2 partitions, retention.ms=123456789)"

produce() { # produce P FIRST LAST
    seq "$2" "$3" | sed "s/.*/k&:value-$1-&/" | KC -P -t rs1 -K: -p "$1" -H restart=yes
}
dump() { KC -C -t rs1 -p "$1" -o beginning -e -f '%p %o %k|%s|%h\n'; }
want() { local i; for i in $(seq "$2" "$3"); do echo "$1 $i k$i|value-$1-$i|restart=yes"; done; }

produce 0 0 29; ok $? "produce 30 records to rs1/0"
produce 1 0 19; ok $? "produce 20 records to rs1/1"
before0=$(dump 0); before1=$(dump 1)
is "$before0" "$(want 0 0 29)" "rs1/0 before restart"
info_before=$("$PY" "$T_CLIENTS/topic_info.py" "$BROKER_PORT" rs1)
like "$info_before" '^0 [0-9a-f]{32} 2$' "Metadata v12: rs1 has a topic id and 2 partitions"
[[ "$info_before" =~ ^0\ [0-9a-f]{32}\ 2$ ]] &&
    [ "${info_before#0 }" != "00000000000000000000000000000000 2" ]
ok $? "the topic id is not all zeros"

broker_restart
pass "broker restarted on the same data dir (port $BROKER_PORT)"

is "$(dump 0)" "$before0" "rs1/0: all 30 records intact after restart"
is "$(dump 1)" "$before1" "rs1/1: all 20 records intact after restart"
is "$("$PY" "$T_CLIENTS/topic_info.py" "$BROKER_PORT" rs1)" "$info_before" \
    "same topic id and partition count after restart"
is "$("$PY" "$T_CLIENTS/admin_tool.py" "$BOOTSTRAP" describe rs1 retention.ms)" "123456789 1" \
    "retention.ms override survives (DYNAMIC_TOPIC_CONFIG)"

produce 0 30 34; ok $? "produce 5 more to rs1/0"
is "$(dump 0)" "$(want 0 0 34)" "rs1/0 offsets continue at 30"

# A second restart, right after writing (nothing flushed explicitly).
broker_restart
is "$(dump 0 | tail -n 5)" "$(want 0 30 34)" "records written just before the second restart are there"
is "$(KC -Q -t rs1:1:-1)" "rs1 [1] offset 20" "rs1/1 end offset still 20"

done_testing
