# Integration-test harness, sourced by tests/integration/*.t (run by
# automake's TAP driver with $SLUICED, $SLUICE_TOP_SRCDIR and
# $SLUICE_TOP_BUILDDIR set by the Makefile).
#
# TAP:     plan N | done_testing, ok STATUS DESC, pass DESC, fail DESC,
#          is GOT WANT DESC, like GOT REGEX DESC, skip DESC REASON, diag MSG,
#          skip_all REASON, bail_out REASON, run_client CMD... (counts a
#          client's own "ok"/"not ok" lines; see below)
# Broker:  broker_start [config lines...], broker_stop, broker_kill9,
#          broker_restart, broker_log, broker_alive, expect_log REGEX,
#          broker_listener_port NAME
# Needs:   need_cmd CMD, need_python_module MOD, need_node_module MOD
#
# Every test ends with done_testing (or had a plan): it stops the broker
# (asserting exit status 0) and asserts that no broker log has ERROR,
# sanitizer or "runtime error" lines the test did not announce with
# expect_log (nginx-tests' "no alerts" check).

set -u

PY=/usr/bin/python3   # Debian's python, which has the client modules
: "${SLUICE_TOP_SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${SLUICE_TOP_BUILDDIR:=$SLUICE_TOP_SRCDIR/_build}"
: "${SLUICED:=$SLUICE_TOP_BUILDDIR/sluiced}"
# Run the tests against another binary (e.g. a mock) without editing the
# Makefile, which always sets SLUICED.
SLUICED=${SLUICE_TEST_BROKER:-$SLUICED}
T_DIR=$SLUICE_TOP_SRCDIR/tests/integration
T_CLIENTS=$T_DIR/clients
T_JS=$SLUICE_TOP_SRCDIR/tests/js
export PYTHONDONTWRITEBYTECODE=1   # keep the source tree clean
# Bound on any one client run, so a hang fails the test instead of CI.
: "${CLIENT_TIMEOUT:=120}"

T_NUM=0
T_FAILED=0
T_PLANNED=
T_DONE=0
T_TMP=$(mktemp -d "${TMPDIR:-/tmp}/sluice-it.XXXXXX")
T_EXPECT=()          # regexes of log lines a test expects
T_LOGS=()            # every broker log/stderr file of this test
T_EXTRA_LOGS=()      # log.file paths named in extra config
BROKER_PID=
BROKER_PORT=
BOOTSTRAP=
BROKER_CONF=$T_TMP/broker.properties
BROKER_DATA=$T_TMP/data
BROKER_STARTS=0

# ---------------------------------------------------------------- TAP

plan() { T_PLANNED=$1; echo "1..$1"; }

_tap() { # _tap PASSED DESC
    T_NUM=$((T_NUM + 1))
    if [ "$1" -eq 1 ]; then
        echo "ok $T_NUM - $2"
    else
        T_FAILED=$((T_FAILED + 1))
        echo "not ok $T_NUM - $2"
    fi
}

# ok STATUS DESC: passes when STATUS is 0 (shell convention), e.g.
#   grep -q foo file; ok $? "file has foo"
ok() { if [ "$1" -eq 0 ] 2>/dev/null; then _tap 1 "$2"; else _tap 0 "$2"; fi; }
pass() { _tap 1 "$1"; }
fail() { _tap 0 "$1"; }

diag() { printf '%s\n' "$@" | sed 's/^/# /'; }

is() { # is GOT WANT DESC
    if [ "$1" = "$2" ]; then
        _tap 1 "$3"
    else
        _tap 0 "$3"
        diag "got:" "$1" "expected:" "$2"
    fi
}

like() { # like GOT EXTENDED-REGEX DESC
    if printf '%s' "$1" | grep -Eq -- "$2"; then
        _tap 1 "$3"
    else
        _tap 0 "$3"
        diag "got:" "$1" "expected to match: $2"
    fi
}

skip() { # skip DESC REASON
    T_NUM=$((T_NUM + 1))
    echo "ok $T_NUM - $1 # SKIP $2"
}

skip_all() {
    echo "1..0 # SKIP $*"
    T_DONE=1
    exit 0
}

# tools/run-tests.sh runs make distcheck with SLUICE_SKIP_INTEGRATION=1:
# these tests already ran on the same code in its plain build, and the
# tarball's completeness is checked by the dist-hook in Makefile.am.
if [ "${SLUICE_SKIP_INTEGRATION:-0}" = 1 ]; then
    rmdir "$T_TMP" 2>/dev/null
    skip_all "integration tests skipped (SLUICE_SKIP_INTEGRATION=1)"
fi

bail_out() {
    echo "Bail out! $*"
    T_FAILED=$((T_FAILED + 1))
    T_DONE=1
    exit 1
}

# run_client CMD...: run a client program that prints its own TAP: an
# optional "1..K" plan first, then "ok - desc" / "not ok - desc" lines
# (numbers, if any, are replaced) and "# diag" lines.  Anything else on
# stdout becomes a diagnostic.  Missing assertions (the client died before
# reaching them) count as failures, and so does a non-zero exit status.
run_client() {
    local out rc line want= got=0
    out=$T_TMP/client.$T_NUM.out
    timeout --kill-after=5 "$CLIENT_TIMEOUT" "$@" >"$out" 2>"$out.err"
    rc=$?
    while IFS= read -r line; do
        case "$line" in
            1..*) want=${line#1..}; want=${want%% *} ;;
            "not ok"*)
                got=$((got + 1))
                line=${line#not ok}; line=$(printf '%s' "$line" | sed -E 's/^ *[0-9]*( -)? *//')
                _tap 0 "$line" ;;
            ok*)
                got=$((got + 1))
                line=${line#ok}; line=$(printf '%s' "$line" | sed -E 's/^ *[0-9]*( -)? *//')
                case "$line" in
                    *"# SKIP"*|*"# skip"*) T_NUM=$((T_NUM + 1)); echo "ok $T_NUM - $line" ;;
                    *) _tap 1 "$line" ;;
                esac ;;
            "#"*) echo "$line" ;;
            *) echo "# $line" ;;
        esac
    done <"$out"
    if [ -s "$out.err" ]; then
        diag "stderr of $(basename "$1")${2:+ $(basename "$2")}:"
        tail -n 40 "$out.err" | sed 's/^/#   /'
    fi
    if [ -n "$want" ] && [ "$got" -lt "$want" ]; then
        while [ "$got" -lt "$want" ]; do
            got=$((got + 1))
            _tap 0 "client assertion $got of $want never reported"
        done
    fi
    if [ "$rc" -ne 0 ]; then
        [ "$rc" -eq 124 ] && diag "client timed out after ${CLIENT_TIMEOUT}s"
        _tap 0 "client $(basename "$1")${2:+ $(basename "$2")} exited with status $rc"
    fi
    return "$rc"
}

# ------------------------------------------------------------ needs

need_cmd() {
    command -v "$1" >/dev/null 2>&1 || skip_all "$1 not installed"
}

need_python_module() {
    "$PY" -c "import $1" >/dev/null 2>&1 || skip_all "python module $1 not installed for $PY"
}

need_node_module() {
    command -v node >/dev/null 2>&1 || skip_all "node not installed"
    (cd "$T_JS" && node -e "require('$1')") >/dev/null 2>&1 ||
        skip_all "node module $1 not installed in tests/js (run tools/install-deps.sh)"
}

need_sluiced() {
    [ -x "$SLUICED" ] || bail_out "sluiced not built: $SLUICED"
}

# ----------------------------------------------------------- broker

# broker_render [config lines...]: write $BROKER_CONF from the defaults plus
# the given lines; a given key replaces the default line for that key.
# T_PLUGINS: one plugin.dir with every module built in this tree, so the
# default config can load the assignor modules consumer groups need.
T_PLUGINS=$T_TMP/plugins
_link_plugins() {
    [ -d "$T_PLUGINS" ] && return 0
    mkdir -p "$T_PLUGINS"
    local so
    for so in "$SLUICE_TOP_BUILDDIR"/modules/*/.libs/*.so; do
        [ -f "$so" ] && ln -sf "$so" "$T_PLUGINS/${so##*/}"
    done
}

broker_render() {
    _link_plugins
    local defaults=(
        "listeners=PLAINTEXT://127.0.0.1:0"
        "log.dirs=$BROKER_DATA"
        "num.partitions=1"
        "auto.create.topics.enable=true"
        "plugin.dir=$T_PLUGINS"
    )
    # The assignors of group.consumer.assignors (uniform,range), so that
    # KIP-848 groups are on; BROKER_ASSIGNORS=0 leaves them out.
    local modules=("module.load=assignor_range" "module.load=assignor_sticky")
    [ "${BROKER_ASSIGNORS:-1}" = 0 ] && modules=()
    local d l k skip_it
    : >"$BROKER_CONF"
    for d in "${defaults[@]}"; do
        skip_it=0
        for l in "$@"; do
            k=${l%%=*}
            [ "$k" = "${d%%=*}" ] && skip_it=1
        done
        [ "$skip_it" -eq 1 ] || echo "$d" >>"$BROKER_CONF"
    done
    # module.load lines accumulate, so these stay beside the test's own; a
    # test with its own plugin.dir gets the assignors linked there too.
    for l in "$@"; do
        case "$l" in
            plugin.dir=*)
                local pd=${l#plugin.dir=} so
                # Only the test's own temp dirs: never write into the build
                # tree (a test may point plugin.dir at a build directory).
                if [ -d "$pd" ] && [ "${pd#"$T_TMP"/}" != "$pd" ]; then
                    for so in "$T_PLUGINS"/assignor_*.so; do
                        [ -e "$so" ] && [ ! -e "$pd/${so##*/}" ] && ln -sf "$(readlink -f "$so")" "$pd/${so##*/}"
                    done
                fi ;;
        esac
    done
    for d in "${modules[@]}"; do echo "$d" >>"$BROKER_CONF"; done
    for l in "$@"; do
        echo "$l" >>"$BROKER_CONF"
        case "$l" in log.file=*) T_EXTRA_LOGS+=("${l#log.file=}") ;; esac
    done
}

# broker_start [config lines...]: start sluiced on an ephemeral port; sets
# BROKER_PID, BROKER_PORT and BOOTSTRAP.  Bails out if it does not come up.
broker_start() {
    need_sluiced
    mkdir -p "$BROKER_DATA"
    broker_render "$@"
    _broker_spawn
}

_broker_spawn() {
    BROKER_STARTS=$((BROKER_STARTS + 1))
    local portfile=$T_TMP/port.$BROKER_STARTS
    local log=$T_TMP/broker.$BROKER_STARTS.log
    T_LOGS+=("$log")
    rm -f "$portfile"
    "$SLUICED" -c "$BROKER_CONF" --port-file "$portfile" >"$log" 2>&1 </dev/null &
    BROKER_PID=$!
    local i
    for i in $(seq 1 200); do  # 10 s
        if [ -s "$portfile" ] && grep -q '^PLAINTEXT [0-9]' "$portfile"; then
            break
        fi
        if ! kill -0 "$BROKER_PID" 2>/dev/null; then
            wait "$BROKER_PID"
            local rc=$?
            BROKER_PID=
            diag "sluiced exited with status $rc during start-up; log:"
            sed 's/^/#   /' "$log" | tail -n 40
            bail_out "broker did not start"
        fi
        sleep 0.05
    done
    if ! grep -q '^PLAINTEXT [0-9]' "$portfile" 2>/dev/null; then
        diag "no port file after 10 s; log:"
        sed 's/^/#   /' "$log" | tail -n 40
        bail_out "broker did not write its port file"
    fi
    BROKER_PORT=$(awk '$1 == "PLAINTEXT" { print $2; exit }' "$portfile")
    BOOTSTRAP=127.0.0.1:$BROKER_PORT
    BROKER_PORT_FILE=$portfile
    export BROKER_PORT BOOTSTRAP BROKER_PORT_FILE
}

# broker_listener_port NAME: the bound port of the running broker's
# listener NAME (upper case, as in the port file's "NAME PORT" lines).
broker_listener_port() {
    awk -v n="$1" '$1 == n { print $2; exit }' "$BROKER_PORT_FILE"
}

broker_alive() { [ -n "$BROKER_PID" ] && kill -0 "$BROKER_PID" 2>/dev/null; }

broker_log() { echo "${T_LOGS[${#T_LOGS[@]}-1]}"; }

# broker_stop: SIGTERM, wait (bounded), return the exit status; prints
# nothing.  Use broker_stop_ok to assert a clean exit.
broker_stop() {
    [ -n "$BROKER_PID" ] || return 0
    local pid=$BROKER_PID i rc
    kill -TERM "$pid" 2>/dev/null
    for i in $(seq 1 300); do  # 15 s, ASan builds flush slowly
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.05
    done
    if kill -0 "$pid" 2>/dev/null; then
        diag "sluiced did not exit within 15 s of SIGTERM; killing"
        kill -KILL "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
        BROKER_PID=
        return 255
    fi
    wait "$pid"
    rc=$?
    BROKER_PID=
    return "$rc"
}

broker_stop_ok() {
    broker_stop
    local rc=$?
    is "$rc" 0 "${1:-broker exits 0 on SIGTERM}"
}

broker_kill9() {
    [ -n "$BROKER_PID" ] || return 0
    kill -KILL "$BROKER_PID" 2>/dev/null
    wait "$BROKER_PID" 2>/dev/null
    BROKER_PID=
}

# broker_restart: stop (cleanly, asserting exit 0) if running, then start
# again with the same config and data dir.
broker_restart() {
    if [ -n "$BROKER_PID" ]; then
        broker_stop_ok "broker exits 0 on SIGTERM before restart"
    fi
    _broker_spawn
}

expect_log() { T_EXPECT+=("$1"); }

# _check_logs: one assertion over every log this test produced.
_check_logs() {
    local bad=$T_TMP/bad-log-lines f e
    : >"$bad"
    for f in "${T_LOGS[@]}" "${T_EXTRA_LOGS[@]}"; do
        [ -f "$f" ] || continue
        grep -E 'ERROR|FATAL|AddressSanitizer|LeakSanitizer|runtime error|Assertion .* failed' "$f" |
            sed "s|^|$(basename "$f"): |" >>"$bad"
    done
    for e in "${T_EXPECT[@]}"; do
        grep -Ev -- "$e" "$bad" >"$bad.tmp"; mv "$bad.tmp" "$bad"
    done
    if [ -s "$bad" ]; then
        _tap 0 "broker logs have no unexpected errors"
        head -n 30 "$bad" | sed 's/^/#   /'
    else
        _tap 1 "broker logs have no unexpected errors"
    fi
}

done_testing() {
    if [ -n "$BROKER_PID" ]; then
        broker_stop_ok "broker exits 0 on SIGTERM at end of test"
    fi
    [ "${#T_LOGS[@]}" -gt 0 ] && _check_logs
    if [ -z "$T_PLANNED" ]; then
        echo "1..$T_NUM"
    elif [ "$T_PLANNED" -ne "$T_NUM" ]; then
        diag "planned $T_PLANNED tests but ran $T_NUM"
    fi
    T_DONE=1
    exit $([ "$T_FAILED" -eq 0 ] && echo 0 || echo 1)
}

_on_exit() {
    local rc=$?
    if [ -n "$BROKER_PID" ]; then
        kill -TERM "$BROKER_PID" 2>/dev/null
        sleep 0.5
        kill -KILL "$BROKER_PID" 2>/dev/null
        wait "$BROKER_PID" 2>/dev/null
    fi
    # Client processes a test left in the background.
    local j
    for j in $(jobs -p); do kill "$j" 2>/dev/null; done
    if [ "$T_DONE" -eq 0 ]; then
        echo "# test script ended early (status $rc) after $T_NUM assertions"
        for f in "${T_LOGS[@]}"; do
            [ -f "$f" ] && { echo "# tail of $f:"; tail -n 20 "$f" | sed 's/^/#   /'; }
        done
    fi
    if [ -n "${KEEP_TMP:-}" ] && { [ "$T_FAILED" -gt 0 ] || [ "$rc" -ne 0 ] || [ "$T_DONE" -eq 0 ]; }; then
        echo "# kept $T_TMP"
    else
        rm -rf "$T_TMP"
    fi
}
trap _on_exit EXIT
trap 'exit 130' INT TERM
