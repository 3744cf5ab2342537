/* Test module built against the FROZEN ABI 1.0 headers next to it
 * (tests/modules/abi-1.0/sluice/, copied when 1.0 shipped), never against
 * plugin-api/: proves a module compiled for an older minor still loads and
 * works on the current host.  An identity codec on id 7. */
#include <stdio.h>
#include <string.h>

#include <sluice/plugin.h>

#if SLUICE_ABI_MINOR != 0
#error "mod_abi10 must be compiled against the ABI 1.0 headers"
#endif

struct st {
    const struct sluice_host_api *host;
};

static int copy(void *state, const uint8_t *in, size_t inlen, struct sluice_buf *out)
{
    struct st *s = state;
    if (s->host->buf_reserve(out, inlen) != 0)
        return SLUICE_ERR_NOMEM;
    if (inlen)
        memcpy(out->data + out->len, in, inlen);
    out->len += inlen;
    return 0;
}

static int c_compress(void *state, int level, const uint8_t *in, size_t inlen,
                      struct sluice_buf *out, char *err, size_t errlen)
{
    return copy(state, in, inlen, out);
}

static int c_decompress(void *state, const uint8_t *in, size_t inlen, size_t max_out,
                        struct sluice_buf *out, char *err, size_t errlen)
{
    if (inlen > max_out)
        return SLUICE_ERR_TOO_LARGE;
    return copy(state, in, inlen, out);
}

static const struct sluice_codec_ops ops = {
    .struct_size = sizeof(struct sluice_codec_ops),
    .codec_id = 7,
    .name = "abi10",
    .compress = c_compress,
    .decompress = c_decompress,
};

static int abi10_init(const struct sluice_host_api *host, struct sluice_module_ctx *ctx, char *err,
                      size_t errlen)
{
    struct st *s = host->alloc(ctx, sizeof *s);
    if (!s)
        return SLUICE_ERR_NOMEM;
    s->host = host;
    host->set_data(ctx, s);
    /* A newer host hands over a larger table; everything this module
     * knows about is inside it. */
    host->log(ctx, SLUICE_LOG_INFO, "built for 1.0, host is %u.%u, table covers post=%d",
              host->abi_major, host->abi_minor, SLUICE_HOST_HAS(host, post) ? 1 : 0);
    return host->register_codec(ctx, &ops, s);
}

static void abi10_fini(const struct sluice_host_api *host, struct sluice_module_ctx *ctx)
{
    host->free(ctx, host->get_data(ctx));
}

SLUICE_MODULE_DECLARE("mod_abi10", "0.0.1", SLUICE_KIND_CODEC, abi10_init, abi10_fini,
                      "built against the frozen 1.0 headers");
