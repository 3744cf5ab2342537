/* Test module: an "older" layout.  The descriptor declares only the 1.0
 * minimum struct_size (up to fini), so the host must ignore the description
 * that sits beyond it; and it registers codec ops whose struct_size stops
 * before decompress, which the host must refuse with the sizes. */
#include <stddef.h>

#include <sluice/plugin.h>

static int small_compress(void *state, int level, const uint8_t *in, size_t inlen,
                          struct sluice_buf *out, char *err, size_t errlen)
{
    return SLUICE_ERR_UNSUPPORTED;
}

static const struct sluice_codec_ops small_ops = {
    .struct_size = offsetof(struct sluice_codec_ops, decompress),
    .codec_id = 5,
    .name = "small",
    .compress = small_compress,
};

static int small_init(const struct sluice_host_api *host, struct sluice_module_ctx *ctx, char *err,
                      size_t errlen)
{
    return host->register_codec(ctx, &small_ops, NULL);
}

SLUICE_EXPORT const struct sluice_module sluice_module = {
    .abi_major = SLUICE_ABI_MAJOR,
    .abi_minor = 0, /* 1.0 layout: the oldest minor */
    .struct_size = SLUICE_MODULE_MIN_SIZE_V1_0,
    .name = "mod_small",
    .version = "0.0.1",
    .kinds = SLUICE_KIND_CODEC,
    .init = small_init,
    .description = "must not be shown: beyond struct_size",
};
