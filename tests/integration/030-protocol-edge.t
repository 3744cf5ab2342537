#!/usr/bin/env bash
# Wire-level edge cases with a raw-socket client (clients/raw_protocol.py):
# ApiVersions v0/v3, UNSUPPORTED_VERSION, unknown api keys, oversized and
# malformed frames, byte-by-byte requests, pipelining order.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"

MAX=100000
broker_start "socket.request.max.bytes=$MAX"
run_client "$PY" "$T_CLIENTS/raw_protocol.py" "$BROKER_PORT" "$MAX"
broker_alive
ok $? "broker still running after the malformed input"
# The oversized frame and the bad api key may be logged, but not as errors.
done_testing
