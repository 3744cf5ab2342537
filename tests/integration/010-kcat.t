#!/usr/bin/env bash
# kcat (librdkafka) against a real broker: metadata listing, keyed records
# with headers produced to explicit partitions, and per-partition reads
# checked byte for byte, with offsets 0..n-1 in order.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"
need_cmd kcat

# Auto-created topics get 3 partitions.
broker_start "num.partitions=3"

KC="timeout 60 kcat -b $BOOTSTRAP -q"

# Records for each partition; the value encodes partition and index so a
# record landing in the wrong place is visible.
produce_partition() { # produce_partition P COUNT
    i=0
    while [ "$i" -lt "$2" ]; do
        printf 'key-%s-%s:value %s/%s with spaces and = signs\n' "$1" "$i" "$1" "$i"
        i=$((i + 1))
    done | $KC -P -t kc1 -K: -H a=b -H trace=p$1 -p "$1"
}
expected_partition() { # expected_partition P COUNT
    i=0
    while [ "$i" -lt "$2" ]; do
        printf 'key-%s-%s|value %s/%s with spaces and = signs|a=b,trace=p%s|%s|%s\n' \
            "$1" "$i" "$1" "$i" "$1" "$i" "$1"
        i=$((i + 1))
    done
}

counts="0:3 1:2 2:5"
for pc in $counts; do
    p=${pc%%:*} n=${pc##*:}
    produce_partition "$p" "$n"
    ok $? "kcat -P: $n keyed records with headers to partition $p"
done

md=$($KC -L -m 20 2>&1)
ok $? "kcat -L succeeds"
like "$md" "broker [0-9]+ at 127\.0\.0\.1:$BROKER_PORT" "metadata lists the broker at 127.0.0.1:$BROKER_PORT"
like "$md" 'topic "kc1" with 3 partitions' "metadata lists topic kc1 with 3 partitions"
for p in 0 1 2; do
    like "$md" "partition $p, leader [0-9]+, replicas: [0-9]+, isrs: [0-9]+" "partition $p has a leader, replica and ISR"
done
md1=$($KC -L -t kc1 -m 20 2>&1)
like "$md1" 'topic "kc1" with 3 partitions' "kcat -L -t kc1 names the topic"

for pc in $counts; do
    p=${pc%%:*} n=${pc##*:}
    got=$($KC -C -t kc1 -p "$p" -e -o beginning -f '%k|%s|%h|%o|%p\n')
    ok $? "kcat -C -p $p exits 0 at end of partition"
    is "$got" "$(expected_partition "$p" "$n")" "partition $p: keys, values, headers, offsets 0..$((n - 1)) in order"
done

# Reading from an offset in the middle, and the end-offset query.
got=$($KC -C -t kc1 -p 2 -e -o 3 -f '%o:%k\n')
is "$got" "$(printf '3:key-2-3\n4:key-2-4')" "kcat -C -o 3 starts at offset 3"
got=$($KC -Q -t kc1:2:-1 2>&1)
like "$got" 'kc1 \[2\] offset 5' "kcat -Q: partition 2 end offset is 5"

# A second produce appends after the existing records.
printf 'late:again\n' | $KC -P -t kc1 -K: -p 1
ok $? "append one record to partition 1"
got=$($KC -C -t kc1 -p 1 -e -o beginning -f '%o|%k|%s|%h\n' | tail -n 1)
is "$got" "2|late|again|" "appended record has offset 2 and no headers"

# Empty value and a null key.
printf 'v-without-key\n' | $KC -P -t kc2 -p 0
ok $? "produce an unkeyed record to auto-created topic kc2"
got=$($KC -C -t kc2 -p 0 -e -o beginning -f '%K|%k|%s|%o\n')
is "$got" "-1||v-without-key|0" "unkeyed record reads back with a null key (length -1)"

done_testing
