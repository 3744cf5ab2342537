#!/usr/bin/env bash
# The plugin SDK end to end, the way a third party uses it: "make install
# DESTDIR=..." of this build, then contrib/example-module (copied out of the
# source tree) built against the INSTALLED header only, with plain
# pkg-config (Makefile.pkgconfig) and with autotools + sluice.m4
# (configure.ac), then the installed sluiced loads it from plugin.dir:
# its log lines, its metrics in the Prometheus exposition, and its durable
# records surviving restarts, with exact values.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"
need_cmd pkg-config
need_cmd nm
need_cmd "${CC:-cc}"
need_cmd "${MAKE:-make}"

B=$SLUICE_TOP_BUILDDIR
D=$T_TMP/destdir
M() { env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL "${MAKE:-make}" "$@"; }

# The install layout as this build's Makefile computes it (any --prefix,
# --libdir, ... given to configure).
vars=$(printf 'sluice-print-vars:\n\t@echo "prefix=$(prefix)"; echo "pkgconfigdir=$(pkgconfigdir)"; echo "moduledir=$(moduledir)"; echo "sbindir=$(sbindir)"; echo "aclocaldir=$(aclocaldir)"; echo "pkgincludedir=$(pkgincludedir)"\n' |
       M -s -C "$B" -f Makefile -f - sluice-print-vars)
eval "$vars"

# ---------------------------------------------------------------- install
M -s -C "$B" install DESTDIR="$D" >"$T_TMP/install.log" 2>&1
st=$?
is "$st" 0 "make install DESTDIR=... succeeds"
[ "$st" -eq 0 ] || { tail -n 30 "$T_TMP/install.log" | sed 's/^/#   /'; done_testing; }
hdrs=$(cd "$D$pkgincludedir" 2>/dev/null && ls *.h | tr '\n' ' ')
is "$hdrs" "assignor.h authorizer.h codec.h host.h kinds.h plugin.h sasl.h service.h transport.h " "headers installed in \$(includedir)/sluice"
ok "$([ -f "$D$aclocaldir/sluice.m4" ]; echo $?)" "sluice.m4 installed in \$(datadir)/aclocal"
ok "$([ -x "$D$sbindir/sluiced" ]; echo $?)" "sluiced installed"

export PKG_CONFIG_PATH=$D$pkgconfigdir
PKGC="pkg-config --define-variable=prefix=$D$prefix"
is "$($PKGC --variable=moduledir sluice-plugin)" "$D$moduledir" "sluice-plugin.pc: moduledir="
cflags=$($PKGC --cflags sluice-plugin)
like "$cflags" "^-I$D" "pkg-config --cflags points into the DESTDIR"
ok "$(printf '%s' "$cflags" | grep -qF "$SLUICE_TOP_SRCDIR"; [ $? -ne 0 ]; echo $?)" \
    "... and never at the source tree"
is "$(nm -D --defined-only "$D$moduledir/codec_gzip.so" | awk '{print $3}')" "sluice_module" \
    "installed codec_gzip.so exports only sluice_module"

# ------------------------------------------------ build 1: plain pkg-config
SRC=$T_TMP/src-plain
cp -R "$SLUICE_TOP_SRCDIR/contrib/example-module" "$SRC"
chmod -R u+w "$SRC"   # distcheck's source tree is read-only
(cd "$SRC" && M -f Makefile.pkgconfig PKG_CONFIG="$PKGC" CFLAGS="-O2 -g -MD" \
    >"$T_TMP/plain.log" 2>&1)
st=$?
is "$st" 0 "example builds with Makefile.pkgconfig (pkg-config only)"
[ "$st" -eq 0 ] || tail -n 30 "$T_TMP/plain.log" | sed 's/^/#   /'
is "$(nm -D --defined-only "$SRC/service_heartbeat.so" 2>&1 | awk '{print $3}')" "sluice_module" \
    "the module exports exactly one symbol, sluice_module"
deps=$(cat "$SRC"/*.d 2>/dev/null)
like "$deps" "$D$pkgincludedir/plugin\.h" "compiled against the installed <sluice/plugin.h>"
ok "$(printf '%s' "$deps" | grep -qF "$SLUICE_TOP_SRCDIR/plugin-api"; [ $? -ne 0 ]; echo $?)" \
    "no header from the source tree was used"

# -------------------------------------------- build 2: autotools + sluice.m4
MODDIR=$SRC
if command -v autoreconf >/dev/null && command -v libtoolize >/dev/null; then
    SRC2=$T_TMP/src-autotools
    cp -R "$SLUICE_TOP_SRCDIR/contrib/example-module" "$SRC2"
    chmod -R u+w "$SRC2"
    (cd "$SRC2" && ACLOCAL_PATH="$D$aclocaldir" autoreconf -fi &&
        ./configure PKG_CONFIG="$PKGC" --with-sluice-moduledir="$T_TMP/modules" &&
        M && M install) >"$T_TMP/autotools.log" 2>&1
    st=$?
    is "$st" 0 "example builds and installs with configure.ac (SLUICE_MODULE_SDK from sluice.m4)"
    [ "$st" -eq 0 ] || tail -n 30 "$T_TMP/autotools.log" | sed 's/^/#   /'
    like "$(grep 'ABI' "$T_TMP/autotools.log")" "Sluice plugin ABI 1\.[0-9]+, installing into $T_TMP/modules" \
        "configure found the SDK's ABI"
    is "$(nm -D --defined-only "$T_TMP/modules/service_heartbeat.so" 2>&1 | awk '{print $3}')" \
        "sluice_module" "libtool build also exports only sluice_module"
    MODDIR=$T_TMP/modules
else
    skip "example builds with configure.ac" "autoreconf/libtoolize not installed"
fi

# ----------------------------------------------------- run the installed sluiced
printf 'plugin.dir=%s\n' "$MODDIR" >"$T_TMP/lm.properties"
lm=$("$D$sbindir/sluiced" --list-modules -c "$T_TMP/lm.properties" 2>&1)
like "$lm" "^service_heartbeat +1\.0\.0 +abi 1\.[0-9]+ +kinds service +example service" \
    "--list-modules shows the third-party module"

# broker_start takes config lines; --metrics-file goes through a wrapper.
METRICS=$T_TMP/metrics.prom
cat >"$T_TMP/sluiced" <<EOF
#!/bin/sh
exec "$D$sbindir/sluiced" --metrics-file "$METRICS" "\$@"
EOF
chmod +x "$T_TMP/sluiced"
SLUICED=$T_TMP/sluiced

# metric NAME: its value in the last dump (empty when absent).
metric() { awk -v n="$1" '$1 == n { print $2 }' "$METRICS" 2>/dev/null; }
dump() { rm -f "$METRICS"; kill -USR1 "$BROKER_PID"; for _ in $(seq 1 100); do [ -s "$METRICS" ] && break; sleep 0.05; done; }

broker_start "plugin.dir=$MODDIR" "module.load=service_heartbeat" \
    "module.service_heartbeat.interval.ms=50" "module.service_heartbeat.persist.every=2" \
    "module.service_heartbeat.message=thump"
L=$(broker_log)
like "$(cat "$L")" "loaded module 'service_heartbeat' 1\.0\.0 \(abi 1\.[0-9]+, service\) from $MODDIR/service_heartbeat\.so" \
    "sluiced loaded the module from plugin.dir"
like "$(cat "$L")" "\[service_heartbeat\] no stored state: first run" "first run: no stored records"
like "$(cat "$L")" "\[service_heartbeat\] heartbeat started: every 50 ms, persisting every 2 ticks" \
    "service started with the module.service_heartbeat.* options"
for _ in $(seq 1 100); do
    dump
    t=$(metric service_heartbeat_ticks_total)
    [ -n "$t" ] && [ "${t%.*}" -ge 6 ] && break
    sleep 0.1
done
ok "$([ -n "$t" ] && [ "${t%.*}" -ge 6 ]; echo $?)" "ticks counted in service_heartbeat_ticks_total (got ${t:-none})"
grep -q '^# TYPE service_heartbeat_last_run_timestamp_seconds gauge$' "$METRICS" &&
    grep -q '^# TYPE service_heartbeat_tick_lag_seconds histogram$' "$METRICS"
ok $? "gauge and histogram exposed with their types"
is "$(metric service_heartbeat_tick_lag_seconds_count)" "$(metric service_heartbeat_ticks_total)" \
    "one lag observation per tick"
last=$(metric service_heartbeat_last_run_timestamp_seconds)
now=$(date +%s)
ok "$(awk -v l="$last" -v n="$now" 'BEGIN { exit !(l > n - 60 && l <= n + 1) }'; echo $?)" \
    "last-run gauge is a current Unix time ($last)"
ok "$(grep -q '^sluice_requests_total{request="Produce"} ' "$METRICS"; echo $?)" \
    "the broker's own metrics share the exposition"

broker_stop_ok "broker exits 0 (services stop, state persisted)"
stopline=$(grep -o 'heartbeat stopped: .*' "$L")
run1=$(printf '%s' "$stopline" | sed -E 's/heartbeat stopped: ([0-9]+) ticks this run.*/\1/')
total1=$(printf '%s' "$stopline" | sed -E 's/.*ticks=([0-9]+).*/\1/')
last1=$(printf '%s' "$stopline" | sed -E 's/.*last_run_ms=([0-9]+).*/\1/')
is "$total1" "$run1" "first run: total ticks = ticks this run"
is "$(metric service_heartbeat_ticks_total)" "$run1" "shutdown dump has the final tick count"

# Restart: the records come back from the metadata log.
broker_restart
L=$(broker_log)
like "$(cat "$L")" "\[service_heartbeat\] restored state: ticks=$total1 last_run_ms=$last1\$" \
    "durable records survived the restart with exact values"
for _ in $(seq 1 100); do
    dump
    t=$(metric service_heartbeat_ticks_total)
    [ -n "$t" ] && [ "${t%.*}" -ge 3 ] && break
    sleep 0.1
done
broker_stop_ok "second run exits 0"
stopline=$(grep -o 'heartbeat stopped: .*' "$L")
run2=$(printf '%s' "$stopline" | sed -E 's/heartbeat stopped: ([0-9]+) ticks this run.*/\1/')
total2=$(printf '%s' "$stopline" | sed -E 's/.*ticks=([0-9]+).*/\1/')
is "$total2" "$((total1 + run2))" "ticks carry on from the stored count ($total1 + $run2)"

# A bad option stops start-up with one line naming the module.
printf 'listeners=PLAINTEXT://127.0.0.1:0\nlog.dirs=%s\nplugin.dir=%s\nmodule.load=service_heartbeat\nmodule.service_heartbeat.interval.ms=0\n' \
    "$T_TMP/bad" "$MODDIR" >"$T_TMP/bad.properties"
out=$("$D$sbindir/sluiced" -c "$T_TMP/bad.properties" 2>&1)
st=$?
is "$st" 1 "invalid module option: exit status 1"
# (INFO lines from the log, which is stderr here, are not part of the error.)
is "$(printf '%s\n' "$out" | grep -Ev '^[0-9T:.Z-]+ INFO ')" "sluiced: module 'service_heartbeat' ($MODDIR/service_heartbeat.so): init failed (-3): module.service_heartbeat.interval.ms must be an integer in 1..3600000 (got '0')" \
    "... with the module's own message"
done_testing
