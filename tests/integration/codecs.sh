# Sourced by the compression tests after lib.sh: links the codec modules
# built in this tree (modules/codec_<name>/.libs/codec_<name>.so) into one
# plugin.dir, because module.load takes names, not paths.
#   CODEC_DIR       the plugin.dir to pass to broker_start
#   CODEC_LOAD      "module.load=codec_<name>" lines for every built codec
#   have_codec NAME true when codec_NAME.so was built
#   codec_skip_reason NAME   why a codec test is skipped
CODEC_DIR=$T_TMP/codec-modules
CODEC_LOAD=()
mkdir -p "$CODEC_DIR"
for _c in gzip snappy lz4 zstd; do
    _so=$SLUICE_TOP_BUILDDIR/modules/codec_$_c/.libs/codec_$_c.so
    if [ -f "$_so" ]; then
        ln -sf "$_so" "$CODEC_DIR/codec_$_c.so"
        CODEC_LOAD+=("module.load=codec_$_c")
    fi
done
have_codec() { [ -e "$CODEC_DIR/codec_$1.so" ]; }
codec_skip_reason() { echo "module codec_$1 not built (modules/codec_$1/.libs/codec_$1.so missing)"; }
