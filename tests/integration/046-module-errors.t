#!/usr/bin/env bash
# Every way a module can fail to load, through sluiced itself: start-up
# stops with exit status 1 and exactly one error line naming the module and
# the file (plus, with log.file set, the same reason in the log).  Also
# --list-modules, module options from the config reaching a module, and an
# absolute path in module.load.  Uses the tiny modules of tests/modules/.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"
need_cmd timeout
need_sluiced

TM=$SLUICE_TOP_BUILDDIR/tests/modules/.libs
H11=$SLUICE_TOP_BUILDDIR/tests/modules/host11/.libs
[ -f "$TM/mod_bad_major.so" ] || skip_all "test modules not built in $TM"
MINOR=$(sed -n 's/^#define SLUICE_ABI_MINOR \([0-9]*\)$/\1/p' "$SLUICE_TOP_SRCDIR/plugin-api/sluice/plugin.h")

N=0
# start_fails DESC EXPECTED-ERROR-LINE CONFIG-LINE...: sluiced must exit 1
# and print exactly that one line besides its timestamped log lines (the log is
# stderr without log.file).
start_fails() {
    local desc=$1 want=$2 conf out st
    shift 2
    N=$((N + 1))
    conf=$T_TMP/fail$N.properties
    printf '%s\n' "listeners=PLAINTEXT://127.0.0.1:0" "log.dirs=$T_TMP/data$N" "$@" >"$conf"
    out=$(timeout 20 "$SLUICED" -c "$conf" 2>&1 </dev/null)
    st=$?
    is "$st" 1 "$desc: exit status 1"
    is "$(printf '%s\n' "$out" | grep -Ev '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z ')" "$want" "$desc: one line naming module and file"
}

start_fails "missing module" \
    "sluiced: module 'mod_missing': cannot load $TM/mod_missing.so: No such file or directory" \
    "plugin.dir=$TM" "module.load=mod_missing"

start_fails "wrong ABI major" \
    "sluiced: module 'mod_bad_major' ($TM/mod_bad_major.so): plugin ABI major mismatch: got 2.0, expected 1.x (rebuild the module against this broker's <sluice/plugin.h>)" \
    "plugin.dir=$TM" "module.load=mod_bad_major"

start_fails "too-new minor" \
    "sluiced: module 'mod_new_minor' ($TM/mod_new_minor.so): plugin ABI 1.$((MINOR + 1)) is newer than this broker: got minor $((MINOR + 1)), expected <= $MINOR (upgrade the broker or rebuild the module)" \
    "plugin.dir=$TM" "module.load=mod_new_minor"

start_fails "missing entry symbol" \
    "sluiced: module 'mod_no_symbol': $TM/mod_no_symbol.so does not export the 'sluice_module' symbol (not a Sluice module?)" \
    "plugin.dir=$TM" "module.load=mod_no_symbol"

start_fails "failing init" \
    "sluiced: module 'mod_init_fail' ($TM/mod_init_fail.so): init failed (-3): module.mod_init_fail.secret is required" \
    "plugin.dir=$TM" "module.load=mod_init_fail"

start_fails "duplicate codec id" \
    "sluiced: module 'mod_codec_b' ($TM/mod_codec_b.so): init failed: codec id 6 (ident-b) is already provided by module 'mod_codec_a'" \
    "plugin.dir=$TM" "module.load=mod_codec_a" "module.load=mod_codec_b"

start_fails "duplicate load" \
    "sluiced: module 'mod_codec_a' ($TM/mod_codec_a.so): already loaded from $TM/mod_codec_a.so" \
    "plugin.dir=$TM" "module.load=mod_codec_a" "module.load=mod_codec_a"

mkdir -p "$T_TMP/renamed"
cp "$TM/mod_codec_a.so" "$T_TMP/renamed/mod_other.so"
start_fails "descriptor name differs from the file name" \
    "sluiced: module 'mod_other' ($T_TMP/renamed/mod_other.so): descriptor declares name 'mod_codec_a' (the name must match the file name)" \
    "plugin.dir=$T_TMP/renamed" "module.load=mod_other"

# Services start once the broker is up, after the consumer-group assignors
# (group.consumer.assignors) are checked, so this one loads them too.
_link_plugins
start_fails "service that fails to start (absolute path in module.load)" \
    "sluiced: module 'mod_records' ($H11/mod_records.so): service recorder failed to start (-3): asked to fail" \
    "plugin.dir=$T_PLUGINS" "module.load=assignor_range" "module.load=assignor_sticky" \
    "module.load=$H11/mod_records.so" "module.mod_records.fail_start=true"

N=$((N + 1))
printf '%s\n' "listeners=PLAINTEXT://127.0.0.1:0" "log.dirs=$T_TMP/data$N" "module.load=Bad/Name" \
    >"$T_TMP/badname.properties"
out=$(timeout 20 "$SLUICED" -c "$T_TMP/badname.properties" 2>&1 </dev/null)
st=$?
is "$st" 1 "relative path in module.load: exit status 1"
is "$out" "sluiced: $T_TMP/badname.properties:3: module.load: expected one module name (or absolute path to a .so) per module.load line (got 'Bad/Name')" \
    "... refused by the config check with file and line"

# With log.file the operator finds the same reason in the log.
N=$((N + 1))
printf '%s\n' "listeners=PLAINTEXT://127.0.0.1:0" "log.dirs=$T_TMP/data$N" "plugin.dir=$TM" \
    "module.load=mod_init_fail" "log.file=$T_TMP/lf.log" >"$T_TMP/lf.properties"
out=$(timeout 20 "$SLUICED" -c "$T_TMP/lf.properties" 2>&1 </dev/null)
is "$out" "sluiced: module 'mod_init_fail' ($TM/mod_init_fail.so): init failed (-3): module.mod_init_fail.secret is required" \
    "log.file set: stderr has only the error line"
like "$(grep ERROR "$T_TMP/lf.log")" "ERROR \[broker\] start-up failed: module 'mod_init_fail' \($TM/mod_init_fail\.so\): init failed" \
    "... and the log file has it as an ERROR"

# The same module starts once its option is in the config: module.<name>.*
# lines reach the module through host->config_get_*.
# (Its own plugin.dir in the test's temp dir, so the harness can add the
# assignor modules every broker loads.)
mkdir -p "$T_TMP/initfail"
ln -sf "$TM/mod_init_fail.so" "$T_TMP/initfail/mod_init_fail.so"
broker_start "plugin.dir=$T_TMP/initfail" "module.load=mod_init_fail" "module.mod_init_fail.secret=hunter2" \
    "module.not_loaded.x=1"
like "$(cat "$(broker_log)")" "\[mod_init_fail\] secret has 7 chars" "module option from the config file reached init"
like "$(cat "$(broker_log)")" "WARN \[config\] option module\.not_loaded\.x ignored: module 'not_loaded' is not loaded" \
    "an option for a module that is not loaded is reported"
broker_stop_ok "broker with mod_init_fail exits 0"
like "$(cat "$(broker_log)")" "\[mod_init_fail\] fini called" "fini ran at shutdown"

# --list-modules: every .so of plugin.dir, loadable or with its reason; no init.
printf 'plugin.dir=%s\n' "$TM" >"$T_TMP/lm.properties"
lm=$(timeout 20 "$SLUICED" --list-modules -c "$T_TMP/lm.properties" 2>&1)
st=$?
is "$st" 0 "--list-modules exits 0"
like "$lm" "^mod_codec_a +0\.0\.1 +abi 1\.$MINOR +kinds codec +identity codec on id 6$" "loadable module: name, version, ABI, kinds, description"
like "$lm" "^mod_small +0\.0\.1 +abi 1\.0 +kinds codec +$" "a 1.0-layout module listed as abi 1.0"
like "$lm" "^mod_bad_major\.so: not loadable: module 'mod_bad_major' \($TM/mod_bad_major\.so\): plugin ABI major mismatch: got 2\.0" \
    "refused module listed with its reason"
like "$lm" "^mod_new_minor\.so: not loadable: .*expected <= $MINOR" "too-new minor listed with its reason"
like "$lm" "^mod_no_symbol\.so: not loadable: .*does not export the 'sluice_module' symbol" "no symbol listed"
ok "$(printf '%s' "$lm" | grep -q 'secret is required'; [ $? -ne 0 ]; echo $?)" "--list-modules does not run init"
printf 'plugin.dir=%s\n' "$T_TMP/nowhere" >"$T_TMP/lm2.properties"
lm=$(timeout 20 "$SLUICED" --list-modules -c "$T_TMP/lm2.properties" 2>&1)
st=$?
is "$st" 1 "--list-modules on a missing dir exits 1"
is "$lm" "cannot read module directory $T_TMP/nowhere: No such file or directory" "... saying why"
done_testing
