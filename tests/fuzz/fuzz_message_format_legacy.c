/* libFuzzer target: magic 0/1 message sets through legacy_upconvert, then
 * batch_recompress.  Codecs 1-3 are routed to an identity "codec" so the
 * wrapper path (inner message sets) is reachable from raw bytes, and the
 * first input byte picks the topic's timestamp type.  Oracle: whatever the
 * converter accepts must be a batch v2 that passes produce validation, and
 * re-encoding it to codec 1 and back must give the same records. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "storage/batch_recompress.h"
#include "storage/message_format_legacy.h"

static int identity_dec(void *ctx, int codec, const uint8_t *in, size_t inlen, uint8_t **out,
                        size_t *outlen)
{
    (void)ctx;
    *out = NULL;
    if (codec < RB_CODEC_GZIP || codec > RB_CODEC_LZ4)
        return KP_ERR_UNSUPPORTED_COMPRESSION_TYPE;
    *out = (uint8_t *)malloc(inlen ? inlen : 1);
    if (!*out)
        return KP_ERR_CORRUPT_MESSAGE;
    memcpy(*out, in, inlen);
    *outlen = inlen;
    return 0;
}

static int identity_comp(void *ctx, int codec, int level, const uint8_t *in, size_t inlen,
                         uint8_t **out, size_t *outlen)
{
    (void)level;
    return identity_dec(ctx, codec, in, inlen, out, outlen);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    struct legacy_opts o = {(data[0] & 1) != 0, (data[0] & 2) ? 64 : 1048588};
    struct legacy_result r;
    char err[256];
    if (legacy_upconvert(data + 1, size - 1, &o, identity_dec, NULL, &r, err, sizeof err) != 0)
        return 0;
    struct rb_info info;
    if (rb_validate(r.batch, r.size, RB_VALIDATE_PRODUCE, identity_dec, NULL, &info, err,
                    sizeof err) != 0 ||
        info.records != r.records)
        abort(); /* the converter produced something the append path refuses */
    uint8_t *nb = NULL, *back = NULL;
    size_t nl = 0, bl = 0;
    if (batch_recompress(r.batch, r.size, RB_CODEC_GZIP, 6, identity_dec, identity_comp, NULL,
                         &nb, &nl, err, sizeof err) != 0 || !nb)
        abort();
    if (batch_recompress(nb, nl, RB_CODEC_NONE, 0, identity_dec, identity_comp, NULL, &back, &bl,
                         err, sizeof err) != 0 || !back || bl != r.size ||
        memcmp(back + RB_HEADER_SIZE, r.batch + RB_HEADER_SIZE, bl - RB_HEADER_SIZE) != 0)
        abort();
    free(back);
    free(nb);
    free(r.batch);
    return 0;
}
