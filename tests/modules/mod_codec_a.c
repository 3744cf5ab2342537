/* Test module: an identity "codec" on the unassigned id 6, so the registry
 * glue can be tested without a real compressor.  Payloads starting with
 * "BAD" count as corrupt; max_out is enforced like a real codec must. */
#include <stdio.h>
#include <string.h>

#include <sluice/plugin.h>

static int ident_copy(const struct sluice_host_api *host, const uint8_t *in, size_t inlen,
                      struct sluice_buf *out)
{
    if (inlen == 0)
        return 0;
    if (host->buf_reserve(out, inlen) != 0)
        return SLUICE_ERR_NOMEM;
    memcpy(out->data + out->len, in, inlen);
    out->len += inlen;
    return 0;
}

static int ident_compress(void *state, int level, const uint8_t *in, size_t inlen,
                          struct sluice_buf *out, char *err, size_t errlen)
{
    return ident_copy(state, in, inlen, out);
}

static int ident_decompress(void *state, const uint8_t *in, size_t inlen, size_t max_out,
                            struct sluice_buf *out, char *err, size_t errlen)
{
    if (inlen >= 3 && memcmp(in, "BAD", 3) == 0) {
        snprintf(err, errlen, "payload starts with BAD");
        return SLUICE_ERR_CORRUPT;
    }
    if (inlen > max_out) {
        snprintf(err, errlen, "%zu bytes exceed %zu", inlen, max_out);
        return SLUICE_ERR_TOO_LARGE;
    }
    return ident_copy(state, in, inlen, out);
}

/* The host copies the ops, so they may live in read-only storage.  The
 * state is the host table itself: all the codec needs is buf_reserve. */
static const struct sluice_codec_ops ident_ops = {
    .struct_size = sizeof(struct sluice_codec_ops),
    .codec_id = 6,
    .name = "ident",
    .compress = ident_compress,
    .decompress = ident_decompress,
};

static int a_init(const struct sluice_host_api *host, struct sluice_module_ctx *ctx, char *err,
                  size_t errlen)
{
    if (!SLUICE_HOST_HAS(host, register_codec)) {
        snprintf(err, errlen, "host has no register_codec");
        return SLUICE_ERR_UNSUPPORTED;
    }
    return host->register_codec(ctx, &ident_ops, (void *)host);
}

SLUICE_MODULE_DECLARE("mod_codec_a", "0.0.1", SLUICE_KIND_CODEC, a_init, NULL,
                      "identity codec on id 6");
