#!/usr/bin/env bash
# Start-up configuration handling: bad values and misspelt keys stop the
# broker with "<file>:<line>: <key>: ..." on stderr; an unknown, unrelated
# key only warns; SIGTERM exits 0; SIGHUP reopens the log file.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"
need_sluiced

# try_config DESC LINES...: run sluiced on a config with LINES, expecting a
# start-up failure that names the config file, the line of LINES' last
# entry and its key.
try_config() {
    local desc=$1; shift
    local last=${!#} key line err rc
    key=${last%%=*}
    mkdir -p "$BROKER_DATA"
    broker_render "$@"
    line=$(grep -nxF -- "$last" "$BROKER_CONF" | cut -d: -f1)
    err=$T_TMP/try.err
    timeout 10 "$SLUICED" -c "$BROKER_CONF" --port-file "$T_TMP/try.port" \
        >"$T_TMP/try.out" 2>"$err" </dev/null
    rc=$?
    if [ "$rc" -ne 0 ] && [ "$rc" -ne 124 ]; then
        pass "$desc: exits non-zero (status $rc)"
    else
        fail "$desc: exits non-zero (status $rc, 124 = still running after 10 s)"
    fi
    like "$(cat "$err")" "broker\.properties:$line:.*${key//./\\.}" \
        "$desc: stderr names broker.properties:$line and $key"
    [ ! -s "$T_TMP/try.port" ]
    ok $? "$desc: never listened (no port file)"
}

try_config "num.partitions=abc" "num.partitions=abc"
try_config "misspelt key log.retention.hour" "log.retention.hour=1"
try_config "negative message.max.bytes" "message.max.bytes=-5"
try_config "listener without a port" "listeners=PLAINTEXT://127.0.0.1"

# An unknown key that resembles nothing is only a warning.
broker_start "frobnicate.widgets=1"
pass "broker starts with unknown key frobnicate.widgets"
like "$(cat "$(broker_log)")" '[Ww][Aa][Rr][Nn].*frobnicate\.widgets|frobnicate\.widgets.*[Ww][Aa][Rr][Nn]' \
    "log warns about frobnicate.widgets"
broker_stop_ok "SIGTERM: clean exit with status 0"

# Log file reopen on SIGHUP (logrotate's "move, then signal").
LOGF=$T_TMP/sluiced.log
broker_start "frobnicate.widgets=2" "log.file=$LOGF" "log.level=info"
for _ in $(seq 1 50); do [ -s "$LOGF" ] && break; sleep 0.1; done
[ -s "$LOGF" ]
ok $? "log.file $LOGF is written"
mv "$LOGF" "$LOGF.1"
T_EXTRA_LOGS+=("$LOGF.1")
kill -HUP "$BROKER_PID"
for _ in $(seq 1 50); do [ -e "$LOGF" ] && break; sleep 0.1; done
[ -e "$LOGF" ]
ok $? "SIGHUP recreates $LOGF"
sleep 0.5
old_size=$(stat -c %s "$LOGF.1")
broker_alive
ok $? "broker survives SIGHUP"
broker_stop_ok "SIGTERM after SIGHUP: clean exit"
is "$(stat -c %s "$LOGF.1")" "$old_size" "nothing is written to the moved file after the reopen"
[ -s "$LOGF" ]
ok $? "shutdown messages go to the new log file"
like "$(cat "$LOGF.1")" 'frobnicate\.widgets' "the warning went to the configured log file"

done_testing
