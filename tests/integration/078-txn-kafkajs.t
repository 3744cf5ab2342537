#!/usr/bin/env bash
# kafkajs transactions: commit and abort across two topics checked in both
# isolation levels, sendOffsets (AddOffsetsToTxn + TxnOffsetCommit) with the
# group offset read back, and fencing by a second producer with the same
# transactionalId (see tests/js/kafkajs_transactions.js).
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"
need_cmd node
(cd "$T_JS" && node -e "require('kafkajs')") >/dev/null 2>&1 || skip_all "kafkajs not installed"

broker_start "transaction.state.log.num.partitions=3" "offsets.topic.num.partitions=3"
run_client node "$T_JS/kafkajs_transactions.js" "$BOOTSTRAP" kjs-a kjs-b
done_testing
