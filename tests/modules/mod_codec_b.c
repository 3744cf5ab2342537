/* Test module: registers codec id 6 too; loaded after mod_codec_a it must
 * be refused with a message naming the module that already owns the id. */
#include <sluice/plugin.h>

static int b_compress(void *state, int level, const uint8_t *in, size_t inlen,
                      struct sluice_buf *out, char *err, size_t errlen)
{
    return SLUICE_ERR_UNSUPPORTED;
}

static int b_decompress(void *state, const uint8_t *in, size_t inlen, size_t max_out,
                        struct sluice_buf *out, char *err, size_t errlen)
{
    return SLUICE_ERR_UNSUPPORTED;
}

static const struct sluice_codec_ops b_ops = {
    .struct_size = sizeof(struct sluice_codec_ops),
    .codec_id = 6,
    .name = "ident-b",
    .compress = b_compress,
    .decompress = b_decompress,
};

/* Ignores the register_codec result on purpose: the host must still fail
 * the load. */
static int b_init(const struct sluice_host_api *host, struct sluice_module_ctx *ctx, char *err,
                  size_t errlen)
{
    host->register_codec(ctx, &b_ops, NULL);
    return 0;
}

static void b_fini(const struct sluice_host_api *host, struct sluice_module_ctx *ctx)
{
    host->log(ctx, SLUICE_LOG_INFO, "fini called");
}

SLUICE_MODULE_DECLARE("mod_codec_b", "0.0.1", SLUICE_KIND_CODEC, b_init, b_fini,
                      "second codec on id 6");
