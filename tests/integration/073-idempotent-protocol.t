#!/usr/bin/env bash
# The idempotent producer on the wire, with exact error codes: InitProducerId
# v0-5 (ids, epoch 0, INVALID_REQUEST, transactional ids served by the
# transaction coordinator, INVALID_TRANSACTION_TIMEOUT) and Produce v8/v9 with hand-made
# idempotent batches (duplicates, OUT_OF_ORDER_SEQUENCE_NUMBER,
# INVALID_PRODUCER_EPOCH, unknown producers, transactional batches), the
# same rules on a compression.type=gzip topic whose batches the broker
# re-compresses before the append, and the timestamp rules checked before
# the producer state.  Then producer ids stay unique across a kill -9: the
# block is durable before any id of it is handed out.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"
. "$T_DIR/codecs.sh"
need_cmd kcat
need_python_module kafka
need_python_module confluent_kafka

broker_start "plugin.dir=$CODEC_DIR" "${CODEC_LOAD[@]}" "num.partitions=1"
timeout 60 kcat -q -b "$BOOTSTRAP" -L -t raw-idem >/dev/null 2>&1  # auto-create
gz_topic=()
if have_codec gzip; then
    is "$(timeout 90 "$PY" "$T_CLIENTS/admin_tool.py" "$BOOTSTRAP" create raw-idem-gz 1 \
        compression.type=gzip)" NO_ERROR "create raw-idem-gz with compression.type=gzip"
    gz_topic=(raw-idem-gz)
fi
run_client "$PY" "$T_CLIENTS/raw_idempotence.py" "$BROKER_PORT" raw-idem "${gz_topic[@]}"

# Every record the checks stored, once: seq 0..4 of epoch 0, seq 0 of
# epoch 1, and the unknown producer's two records.
got=$(timeout 60 kcat -q -b "$BOOTSTRAP" -C -t raw-idem -p 0 -o beginning -e -f '%o %s\n')
is "$got" "$(printf '0 r-0\n1 r-1\n2 r-2\n3 r-3\n4 r-4\n5 r-0\n6 r-77\n7 r-78')" \
    "the log holds exactly the accepted batches (no duplicate, nothing refused)"

if have_codec gzip; then
    got=$(timeout 60 kcat -q -b "$BOOTSTRAP" -C -t raw-idem-gz -p 0 -o beginning -e -f '%o %s\n')
    is "$got" "$(printf '0 g-0\n1 g-1\n2 g-2\n3 g-3\n4 g-4\n5 g-5')" \
        "gzip topic: each accepted record once, retries and refused batches absent"
    is "$(timeout 60 "$PY" "$T_CLIENTS/compression_tool.py" batches "$BROKER_DATA/raw-idem-gz-0" |
        awk '{ print $1, $2, $3 }')" "$(printf '0 3 gzip\n3 2 gzip\n5 1 gzip')" \
        "gzip topic: three batches, each stored re-compressed to gzip"
else
    skip "gzip topic checks" "$(codec_skip_reason gzip)"
fi

pid_after() { # the producer id a fresh InitProducerId v4 gets
    "$PY" - "$BROKER_PORT" <<'PYEOF'
import sys, kwire
s = kwire.connect(int(sys.argv[1]))
s.sendall(kwire.request(22, 4, 1, kwire.uvarint(0) + kwire.i32(1000) + b"\xff" * 10 + kwire.uvarint(0), flexible=True))
r = kwire.Reader(kwire.recv_frame(s)); r.i32(); r.tags(); r.i32()
print(r.i16(), r.i64(), r.i16())
PYEOF
}
export PYTHONPATH=$T_CLIENTS
first=$(pid_after)
like "$first" "^0 [0-9]+ 0$" "InitProducerId v4 (flexible) before the crash: $first"
broker_kill9
_broker_spawn
second=$(pid_after)
like "$second" "^0 1[0-9][0-9][0-9] 0$" "after kill -9 the next id comes from the next block: $second"
done_testing
