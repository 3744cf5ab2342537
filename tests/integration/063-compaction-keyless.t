#!/usr/bin/env bash
# A compacted topic refuses records without a key, as Kafka's LogValidator
# does: INVALID_RECORD with one RecordError per keyless record and
# RecordValidationException's message; nothing of the batch is appended.
# Also for a Produce v2 message set (checked after its up-conversion).
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/compaction_lib.sh"
need_cmd kcat
need_python_module confluent_kafka
need_python_module kafka

broker_start
is "$("$PY" "$T_CLIENTS/admin_tool.py" "$BOOTSTRAP" create kl 1 cleanup.policy=compact)" NO_ERROR \
    "create compacted topic kl"
is "$("$PY" "$T_CLIENTS/admin_tool.py" "$BOOTSTRAP" create kd 1 cleanup.policy=compact,delete)" \
    NO_ERROR "create compact,delete topic kd"

msg="Compacted topic cannot accept message without key in topic partition kl-0"
got=$("$PY" "$T_CLIENTS/keyless_produce.py" "$BROKER_PORT" kl a:1 -:2 b:3 -:4)
want="{\"error\": 87, \"base_offset\": -1, \"record_errors\": [[1, \"$msg\"], [3, \"$msg\"]], \"error_message\": \"One or more records have been rejected due to 2 record errors in total, and only showing the first three errors at most: [RecordError(batchIndex=1, message='$msg'), RecordError(batchIndex=3, message='$msg')]\"}"
is "$got" "$want" "Produce v8: INVALID_RECORD, RecordErrors for records 1 and 3, Kafka's message"
is "$(log_end kl)" 0 "nothing of the batch was appended"

got=$("$PY" "$T_CLIENTS/keyless_produce.py" "$BROKER_PORT" kd -:1)
like "$got" '"error": 87, "base_offset": -1, "record_errors": \[\[0, "Compacted topic cannot accept message without key in topic partition kd-0"\]\]' \
    "compact,delete refuses keyless records too"

got=$("$PY" "$T_CLIENTS/keyless_produce.py" "$BROKER_PORT" kl a:1 b:2)
like "$got" '"error": 0, "base_offset": 0, "record_errors": \[\], "error_message": null' \
    "keyed records are accepted"

# Produce v2 (message format v1, up-converted before the append).
is "$("$PY" "$T_CLIENTS/keyless_produce.py" "$BROKER_PORT" kl --v2 a:1 -:2)" \
    '{"error": 87, "base_offset": -1}' "Produce v2 message set with a keyless message: INVALID_RECORD"
is "$(log_end kl)" 2 "nothing of it was appended"
is "$("$PY" "$T_CLIENTS/keyless_produce.py" "$BROKER_PORT" kl --v2 c:1 d:2)" \
    '{"error": 0, "base_offset": 2}' "Produce v2 with keys: accepted at offset 2"

# Real clients see INVALID_RECORD.
out=$(printf 'nokey\n' | timeout 30 kcat -b "$BOOTSTRAP" -P -t kl -p 0 2>&1)
like "$out" 'Broker failed to validate record' "kcat: delivery fails with INVALID_RECORD"
out=$("$PY" - "$BOOTSTRAP" <<'PYEOF'
import sys
from confluent_kafka import Producer
errs = []
p = Producer({"bootstrap.servers": sys.argv[1]})
p.produce("kl", value=b"x", partition=0, on_delivery=lambda e, m: errs.append(e))
p.flush(30)
print(errs[0].name() if errs and errs[0] else "delivered")
PYEOF
)
is "$out" INVALID_RECORD "confluent-kafka: keyless produce fails with INVALID_RECORD"
is "$(log_end kl)" 4 "only the keyed records are in the log"

done_testing
