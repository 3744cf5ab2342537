#!/usr/bin/env bash
# Install what Sluice needs to build and test on Debian 12.  Idempotent: apt
# is only touched when a package is missing, so repeated runs are fast.
#   tools/install-deps.sh               build deps + test clients + npm modules
#   tools/install-deps.sh --build-only  build deps only
set -euo pipefail

build_only=0
for arg in "$@"; do
    case "$arg" in
        --build-only) build_only=1 ;;
        -h|--help) sed -n '2,5p' "$0"; exit 0 ;;
        *) echo "install-deps.sh: unknown argument: $arg" >&2; exit 2 ;;
    esac
done

top=$(cd "$(dirname "$0")/.." && pwd)

SUDO=
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        SUDO=sudo
    fi
fi

pkgs=(build-essential autoconf automake libtool pkg-config
      libev-dev libjansson-dev libssl-dev zlib1g-dev liblz4-dev libzstd-dev
      libsnappy-dev libpcre2-dev)
if [ "$build_only" -eq 0 ]; then
    # python3-snappy, python3-lz4, python3-zstandard: kafka-python's codecs
    # (its xerial snappy encoder, lz4 frames, zstd) for the codec tests;
    # lz4, zstd: reference encoders for the codec tests.
    pkgs+=(kcat librdkafka-dev python3 python3-confluent-kafka python3-kafka python3-snappy python3-lz4 python3-zstandard lz4 zstd
           clang libclang-rt-14-dev openssl procps iproute2)
    # A node installed outside apt (nodesource, nvm) conflicts with Debian's
    # npm package, so only pull Debian's when there is no node at all.
    if ! command -v node >/dev/null 2>&1; then
        pkgs+=(nodejs npm)
    fi
fi

is_installed() {
    dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}

missing=()
for p in "${pkgs[@]}"; do
    is_installed "$p" || missing+=("$p")
done

if [ "${#missing[@]}" -gt 0 ]; then
    if [ "$(id -u)" -ne 0 ] && [ -z "$SUDO" ]; then
        echo "install-deps.sh: missing packages (${missing[*]}) and not root, no sudo" >&2
        exit 1
    fi
    echo "install-deps.sh: installing ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    log=$(mktemp)
    if ! $SUDO apt-get update -qq >"$log" 2>&1 ||
       ! $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
            --no-install-recommends "${missing[@]}" >>"$log" 2>&1; then
        cat "$log" >&2
        rm -f "$log"
        echo "install-deps.sh: apt-get failed" >&2
        exit 1
    fi
    rm -f "$log"
fi

if [ "$build_only" -eq 0 ]; then
    if ! command -v npm >/dev/null 2>&1; then
        echo "install-deps.sh: npm not found (node is $(command -v node || echo absent))" >&2
        exit 1
    fi
    jsdir="$top/tests/js"
    # Skip npm when every package of package.json is installed from the
    # current lockfile.  node-rdkafka compiles its bundled librdkafka (2.12,
    # KIP-848 capable) from source: about 4 minutes on 2 cores, once.
    need_npm=0
    if [ ! -f "$jsdir/node_modules/.package-lock.json" ] ||
       [ ! -f "$jsdir/node_modules/node-rdkafka/build/Release/node-librdkafka.node" ] ||
       [ "$jsdir/package-lock.json" -nt "$jsdir/node_modules/.package-lock.json" ]; then
        need_npm=1
    else
        for dep in $(node -e 'console.log(Object.keys(require(process.argv[1]).dependencies).join(" "))' \
                         "$jsdir/package.json"); do
            [ -d "$jsdir/node_modules/$dep" ] || need_npm=1
        done
    fi
    if [ "$need_npm" -eq 1 ]; then
        log=$(mktemp)
        if [ -f "$jsdir/package-lock.json" ]; then
            npm_cmd=(npm ci --no-audit --no-fund --loglevel=error)
        else
            npm_cmd=(npm install --no-audit --no-fund --loglevel=error)
        fi
        # Native addons build with node-gyp: node 20's headers need C++17
        # (@kafkajs/zstd's cppzst, kafkajs-lz4's lz4), node-gyp must use the
        # installed headers since it can't download them here, and JOBS=1
        # keeps node-rdkafka's librdkafka build sequential (bounded memory).
        nodedir=
        for d in /usr /usr/local "$(dirname "$(dirname "$(command -v node)")")"; do
            if [ -f "$d/include/node/node.h" ]; then nodedir=$d; break; fi
        done
        echo "install-deps.sh: ${npm_cmd[*]} in tests/js (node-rdkafka builds librdkafka, ~4 min)" >&2
        if ! (cd "$jsdir" && env JOBS=1 CXXFLAGS="${CXXFLAGS:+$CXXFLAGS }-std=c++17" \
                  ${nodedir:+npm_config_nodedir=$nodedir} "${npm_cmd[@]}") >"$log" 2>&1; then
            cat "$log" >&2
            rm -f "$log"
            echo "install-deps.sh: ${npm_cmd[*]} failed in tests/js" >&2
            exit 1
        fi
        rm -f "$log"
    fi
fi
