/* Test module: a second provider of Kafka codec id 3 (lz4).  Loaded next to
 * codec_lz4, in either order, the second load must fail naming the module
 * that owns the id.  Lives in its own directory so the loader's
 * --list-modules test over tests/modules/ keeps its count. */
#include <sluice/plugin.h>

static int clash_compress(void *state, int level, const uint8_t *in, size_t inlen,
                          struct sluice_buf *out, char *err, size_t errlen)
{
    return SLUICE_ERR_UNSUPPORTED;
}

static int clash_decompress(void *state, const uint8_t *in, size_t inlen, size_t max_out,
                            struct sluice_buf *out, char *err, size_t errlen)
{
    return SLUICE_ERR_UNSUPPORTED;
}

static const struct sluice_codec_ops clash_ops = {
    .struct_size = sizeof(struct sluice_codec_ops),
    .codec_id = SLUICE_CODEC_LZ4,
    .name = "lz4-clash",
    .compress = clash_compress,
    .decompress = clash_decompress,
};

static int clash_init(const struct sluice_host_api *host, struct sluice_module_ctx *ctx, char *err,
                      size_t errlen)
{
    return host->register_codec(ctx, &clash_ops, NULL);
}

SLUICE_MODULE_DECLARE("mod_lz4_clash", "0.0.1", SLUICE_KIND_CODEC, clash_init, NULL,
                      "second provider of codec id 3");
