#!/usr/bin/env bash
# Build and test Sluice out of tree:
#   _build/        plain build, make check, make distcheck (unit tests only)
#   _build-asan/   --enable-sanitizers (ASan + UBSan), make check
#   _build-fuzz/   CC=clang --enable-fuzzing, each tests/fuzz/fuzz_* run ~15 s
# The last line printed is "N passed, N failed[, N skipped]".
#
# Counting: one per TAP test case (every ":test-result:" line automake's TAP
# driver writes into a .trs file, so a unit program with 40 "ok" lines counts
# 40), summed over all builds; each fuzz smoke run counts as one test, and a
# build or configure step that fails counts as one failure.
#
# Options: --fast   plain build only (skip the sanitizer and fuzz builds)
set -uo pipefail

fast=0
for arg in "$@"; do
    case "$arg" in
        --fast) fast=1 ;;
        -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
        *) echo "run-tests.sh: unknown argument: $arg" >&2; exit 2 ;;
    esac
done

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1

jobs=2
# Whole make-check runs are bounded so a hung test cannot eat the CI budget;
# the integration harness has its own, shorter per-client timeouts.
check_timeout=${SLUICE_CHECK_TIMEOUT:-900}
fuzz_seconds=${SLUICE_FUZZ_SECONDS:-15}

total_pass=0 total_fail=0 total_skip=0
failed_names=()

log=$(mktemp)
trap 'rm -f "$log"' EXIT

note() { printf '== %s\n' "$*"; }

# run_quiet NAME CMD...: run CMD, show its output only when it fails.
run_quiet() {
    local name=$1; shift
    if "$@" >"$log" 2>&1; then
        return 0
    fi
    tail -n 200 "$log"
    echo "run-tests.sh: FAILED: $name: $*"
    return 1
}

step_failed() {
    total_fail=$((total_fail + 1))
    failed_names+=("$1")
}

if ! tools/install-deps.sh; then
    echo "run-tests.sh: dependency installation failed"
    echo "0 passed, 1 failed"
    exit 1
fi

if ! run_quiet autoreconf autoreconf -fi; then
    echo "0 passed, 1 failed"
    exit 1
fi

# configure_dir DIR ARGS...: (re)configure DIR when it is new or its
# configure arguments changed.
configure_dir() {
    local dir=$1; shift
    local want="$*"
    mkdir -p "$dir"
    if [ -f "$dir/Makefile" ] && [ -f "$dir/.configure-args" ] &&
       [ "$(cat "$dir/.configure-args")" = "$want" ]; then
        return 0
    fi
    rm -f "$dir/.configure-args"
    (cd "$dir" && run_quiet "configure ($dir)" ../configure -q "$@") || return 1
    printf '%s' "$want" >"$dir/.configure-args"
}

# count_results DIR LABEL: add DIR's .trs results to the totals, print logs
# of the failing tests.
count_results() {
    local dir=$1 label=$2 p=0 f=0 s=0 trs res base
    while IFS= read -r -d '' trs; do
        while IFS= read -r res; do
            case "$res" in
                PASS|XFAIL) p=$((p + 1)) ;;
                SKIP) s=$((s + 1)) ;;
                *) f=$((f + 1)) ;;
            esac
        done < <(sed -n 's/^:test-result: *\([A-Z]*\).*/\1/p' "$trs")
        if grep -Eq '^:global-test-result: *(FAIL|ERROR|XPASS)' "$trs"; then
            base=${trs%.trs}
            failed_names+=("$label:${base#"$dir"/}")
            echo "---------- FAILED ($label): ${base#"$dir"/} ----------"
            if [ -f "$base.log" ]; then
                if [ "$(wc -l <"$base.log")" -gt 400 ]; then
                    head -n 100 "$base.log"; echo "[...]"; tail -n 300 "$base.log"
                else
                    cat "$base.log"
                fi
            fi
            echo "---------- end of ${base#"$dir"/} ----------"
        fi
    done < <(find "$dir" -name '*.trs' -print0 | sort -z)
    note "$label: $p passed, $f failed, $s skipped"
    total_pass=$((total_pass + p))
    total_fail=$((total_fail + f))
    total_skip=$((total_skip + s))
}

# build_and_check DIR LABEL [VAR=value...]: configure (with the VAR=value
# and --options given), build, run make check, count.
build_and_check() {
    local dir=$1 label=$2; shift 2
    note "$label: configure + build in $dir"
    if ! configure_dir "$dir" "$@"; then step_failed "$label:configure"; return 1; fi
    if ! run_quiet "build ($label)" make -C "$dir" -j"$jobs"; then
        step_failed "$label:build"; return 1
    fi
    # Stale results of tests that no longer exist must not be counted.
    find "$dir" \( -name '*.trs' -o -name 'test-suite.log' \) -delete
    note "$label: make check"
    local rc=0
    timeout --kill-after=30 "$check_timeout" make -C "$dir" -j"$jobs" check >"$log" 2>&1 || rc=$?
    if [ "$rc" -ne 0 ]; then
        # The summary and failing logs are printed by count_results; show
        # make's own tail in case it was a build error, not a test failure.
        grep -E '^(FAIL|ERROR|XPASS):|error:|Error [0-9]' "$log" | head -n 50
        if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
            echo "run-tests.sh: make check timed out after ${check_timeout}s"
            step_failed "$label:timeout"
        elif ! find "$dir" -name 'test-suite.log' | grep -q .; then
            tail -n 100 "$log"
            step_failed "$label:check-build"
        fi
    fi
    count_results "$dir" "$label"
}

# fuzz_smoke DIR: run every built fuzz target for a few seconds.
fuzz_smoke() {
    local dir=$1 bin name corpus tmpc p=0 f=0
    local found=0
    for bin in "$dir"/tests/fuzz/fuzz_*; do
        [ -f "$bin" ] && [ -x "$bin" ] || continue
        case "$bin" in *.o|*.c|*.log|*.trs) continue ;; esac
        found=1
        name=$(basename "$bin")
        tmpc=$(mktemp -d)
        # libFuzzer writes new inputs into its first corpus dir: give it a
        # scratch dir first so the checked-in seeds stay untouched.
        local seeds=()
        for corpus in "tests/fuzz/corpus/$name" "tests/fuzz/corpus/${name#fuzz_}" \
                      "tests/fuzz/${name}_corpus" "tests/fuzz/$name.corpus"; do
            [ -d "$corpus" ] && seeds+=("$corpus")
        done
        if (cd "$tmpc" && timeout --kill-after=10 $((fuzz_seconds + 60)) \
                "$top/$bin" -max_total_time="$fuzz_seconds" -rss_limit_mb=2048 \
                -print_final_stats=0 "$tmpc" "${seeds[@]/#/$top/}") >"$log" 2>&1; then
            p=$((p + 1))
            echo "ok - $name (${fuzz_seconds}s${seeds:+, corpus ${seeds[*]}})"
        else
            f=$((f + 1))
            failed_names+=("fuzz:$name")
            echo "not ok - $name"
            tail -n 80 "$log"
            ls "$tmpc" | grep -E '^(crash|leak|timeout|oom)-' | head -n 5 |
                while read -r a; do echo "  reproducer: $a ($(xxd -p "$tmpc/$a" 2>/dev/null | head -c 200))"; done
        fi
        rm -rf "$tmpc"
    done
    [ "$found" -eq 1 ] || echo "(no fuzz targets built)"
    note "fuzz: $p passed, $f failed"
    total_pass=$((total_pass + p))
    total_fail=$((total_fail + f))
}

start=$SECONDS

build_and_check _build plain

if [ "$fast" -eq 0 ]; then
    # The release tarball must build and pass its own tests (issue #2).
    # The tarball's own build and unit tests; its integration tests are the
    # ones just run in _build (same code), and Makefile.am's dist-hook
    # checks that every tracked file is in the tarball.
    note "distcheck: make distcheck in _build (unit tests)"
    if run_quiet distcheck env SLUICE_SKIP_INTEGRATION=1 make -C _build distcheck; then
        total_pass=$((total_pass + 1))
        echo "ok - make distcheck"
    else
        step_failed "distcheck"
    fi
    (
        export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
        export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
        build_and_check _build-asan asan --enable-sanitizers
        echo "$total_pass $total_fail $total_skip" >"$log.counts"
        : >"$log.names"
        [ "${#failed_names[@]}" -eq 0 ] || printf '%s\n' "${failed_names[@]}" >"$log.names"
    )
    # The subshell keeps the sanitizer environment away from the fuzz build;
    # carry its counts back.
    if [ -f "$log.counts" ]; then
        read -r total_pass total_fail total_skip <"$log.counts"
        mapfile -t failed_names <"$log.names"
        rm -f "$log.counts" "$log.names"
    fi

    if command -v clang >/dev/null 2>&1; then
        note "fuzz: configure + build in _build-fuzz"
        if ! configure_dir _build-fuzz CC=clang --enable-fuzzing; then
            step_failed "fuzz:configure"
        elif ! run_quiet "build (fuzz)" make -C _build-fuzz -j"$jobs" ||
             ! run_quiet "build fuzz targets" make -C _build-fuzz -j"$jobs" check TESTS=; then
            step_failed "fuzz:build"
        else
            fuzz_smoke _build-fuzz
        fi
    else
        note "fuzz: clang not found, skipped"
    fi
fi

note "done in $((SECONDS - start))s"
if [ "${#failed_names[@]}" -gt 0 ]; then
    echo "failed:"
    printf '  %s\n' "${failed_names[@]}"
fi
if [ "$total_skip" -gt 0 ]; then
    echo "$total_pass passed, $total_fail failed, $total_skip skipped"
else
    echo "$total_pass passed, $total_fail failed"
fi
[ "$total_fail" -eq 0 ]
