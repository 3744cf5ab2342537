#!/usr/bin/env bash
# Build Sluice out of tree in _build/ and run the broker in the foreground
# with conf/sluice.properties (localhost:9092, data in ./data/) and the
# modules of the build (--plugin-dir _build/plugins).
# Extra arguments are passed to sluiced.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

tools/install-deps.sh --build-only

jobs=$(nproc 2>/dev/null || echo 2)
log=$(mktemp)
trap 'rm -f "$log"' EXIT
run_quiet() {
    if ! "$@" >"$log" 2>&1; then
        cat "$log" >&2
        echo "start-broker.sh: failed: $*" >&2
        exit 1
    fi
}

run_quiet autoreconf -fi
mkdir -p _build
if [ ! -f _build/Makefile ]; then
    (cd _build && run_quiet ../configure -q)
fi
run_quiet make -C _build -j"$jobs"

# One plugin.dir with the modules of this build (conf/sluice.properties
# loads the assignor modules consumer groups need).
mkdir -p _build/plugins
for so in _build/modules/*/.libs/*.so; do
    ln -sf "$PWD/$so" "_build/plugins/${so##*/}"
done

mkdir -p data
rm -f "$log"
trap - EXIT
exec _build/sluiced -c conf/sluice.properties --plugin-dir _build/plugins "$@"
