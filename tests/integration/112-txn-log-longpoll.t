#!/usr/bin/env bash
# A read_committed fetch long poll waits at the last stable offset while a
# transaction is open (its records are in the log but above the LSO) and is
# answered as soon as the COMMIT marker moves the LSO, well before
# MaxWaitMs; a read_committed poll with nothing to wake it lasts MaxWaitMs.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"
need_python_module kafka
need_python_module confluent_kafka
export PYTHONPATH=$T_CLIENTS
TOOL=$T_CLIENTS/txn_log_tool.py
E2E=$T_CLIENTS/txn_log_e2e.py

broker_start "num.partitions=1"
is "$(timeout 90 "$PY" "$T_CLIENTS/admin_tool.py" "$BOOTSTRAP" create txw 1)" NO_ERROR "create topic txw"

timeout 120 "$PY" "$E2E" slow "$BOOTSTRAP" slow-tx txw s1,s2 3000 >"$T_TMP/slow.out" 2>"$T_TMP/slow.err" &
SLOW=$!
for i in $(seq 1 300); do grep -q open "$T_TMP/slow.out" 2>/dev/null && break; sleep 0.1; done
is "$(head -1 "$T_TMP/slow.out")" open "transaction open with s1, s2 written"
is "$("$PY" "$TOOL" state "$BROKER_PORT" txw | grep -E '^(lso|hw)')" "$(printf 'lso 0\nhw 2')" \
    "LSO 0 while the transaction is open, HW 2"
got=$(timeout 60 "$PY" "$TOOL" wait "$BROKER_PORT" txw 0 30000)
wait "$SLOW"
is "$(tail -1 "$T_TMP/slow.out")" "commit ok" "the producer committed after 3 s"
ms=${got%% *}
is "${got#* }" "0 2" "the long poll returned the committed batch (0) and its COMMIT marker (2)"
[ "$ms" -ge 1500 ] && [ "$ms" -lt 20000 ]
ok $? "it waited for the commit (${ms} ms), not for MaxWaitMs (30000 ms)"
is "$("$PY" "$TOOL" state "$BROKER_PORT" txw | grep '^lso')" "lso 3" "LSO 3 after the COMMIT marker at 2"
got=$(timeout 60 "$PY" "$TOOL" wait "$BROKER_PORT" txw 3 1500)
ms=${got%% *}
[ "$ms" -ge 1400 ] && [ -z "${got#* }" ]
ok $? "nothing to read at the LSO: the poll lasts MaxWaitMs and returns nothing (${ms} ms)"
broker_stop_ok
done_testing
