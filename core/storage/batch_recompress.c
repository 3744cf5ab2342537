/* Re-encoding a record batch v2 with the topic's codec; see batch_recompress.h. */
#include "storage/batch_recompress.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(char *err, size_t errlen, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail(char *err, size_t errlen, int code, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return code;
}

int batch_target_codec(int target_cfg, int source_codec)
{
    /* enum sluice_compression order (Kafka's BrokerCompressionType names). */
    static const int codec_of[] = {RB_CODEC_NONE, RB_CODEC_ZSTD, RB_CODEC_LZ4, RB_CODEC_SNAPPY,
                                   RB_CODEC_GZIP};
    if (target_cfg >= 0 && target_cfg < (int)(sizeof codec_of / sizeof codec_of[0]))
        return codec_of[target_cfg];
    return source_codec; /* producer */
}

int batch_recompress(const uint8_t *batch, size_t size, int target_codec, int level,
                     rb_decompress_fn dec, rb_compress_fn comp, void *ctx, uint8_t **out,
                     size_t *outlen, char *err, size_t errlen)
{
    *out = NULL;
    *outlen = 0;
    if (size < RB_HEADER_SIZE || rb_batch_size(batch, size) != size ||
        batch[RB_OFF_MAGIC] != RB_MAGIC)
        return fail(err, errlen, KP_ERR_CORRUPT_MESSAGE, "not a complete record batch v2");
    int16_t attrs = rb_get_i16(batch + RB_OFF_ATTRIBUTES);
    int source = attrs & RB_ATTR_COMPRESSION_MASK;
    if (source == target_codec)
        return 0;
    uint32_t stored = (uint32_t)rb_get_i32(batch + RB_OFF_CRC);
    uint32_t crc = rb_compute_crc(batch, size);
    if (crc != stored)
        return fail(err, errlen, KP_ERR_CORRUPT_MESSAGE,
                    "record batch CRC mismatch: stored 0x%08x, computed 0x%08x", stored, crc);

    const uint8_t *recs = batch + RB_HEADER_SIZE;
    size_t recs_len = size - RB_HEADER_SIZE;
    uint8_t *plain = NULL, *packed = NULL;
    size_t plain_len = recs_len, packed_len = 0;
    int rc;
    if (source != RB_CODEC_NONE) {
        rc = dec ? dec(ctx, source, recs, recs_len, &plain, &plain_len)
                 : KP_ERR_UNSUPPORTED_COMPRESSION_TYPE;
        if (rc) {
            free(plain);
            return fail(err, errlen, rc, "cannot decompress records (codec %d)", source);
        }
        recs = plain;
        recs_len = plain_len;
    }
    if (target_codec != RB_CODEC_NONE) {
        rc = comp ? comp(ctx, target_codec, level, recs, recs_len, &packed, &packed_len)
                  : KP_ERR_UNSUPPORTED_COMPRESSION_TYPE;
        if (rc) {
            free(plain);
            free(packed);
            if (rc == KP_ERR_UNSUPPORTED_COMPRESSION_TYPE)
                return fail(err, errlen, rc,
                            "the topic's compression codec %d is not available on this broker "
                            "(its codec module is not loaded)",
                            target_codec);
            return fail(err, errlen, rc, "cannot compress records (codec %d, level %d)",
                        target_codec, level);
        }
        recs = packed;
        recs_len = packed_len;
    }
    if (recs_len > (size_t)INT32_MAX - (RB_HEADER_SIZE - RB_LOG_OVERHEAD)) {
        free(plain);
        free(packed);
        return fail(err, errlen, KP_ERR_MESSAGE_TOO_LARGE, "rebuilt batch too large");
    }
    size_t n = RB_HEADER_SIZE + recs_len;
    uint8_t *b = malloc(n);
    if (!b) {
        free(plain);
        free(packed);
        return fail(err, errlen, KP_ERR_UNKNOWN_SERVER_ERROR, "out of memory");
    }
    memcpy(b, batch, RB_HEADER_SIZE);
    memcpy(b + RB_HEADER_SIZE, recs, recs_len);
    free(plain);
    free(packed);
    rb_put_i32(b + RB_OFF_LENGTH, (int32_t)(n - RB_LOG_OVERHEAD));
    uint16_t nattrs = (uint16_t)(((uint16_t)attrs & ~RB_ATTR_COMPRESSION_MASK) | target_codec);
    b[RB_OFF_ATTRIBUTES] = (uint8_t)(nattrs >> 8);
    b[RB_OFF_ATTRIBUTES + 1] = (uint8_t)nattrs;
    rb_put_i32(b + RB_OFF_CRC, (int32_t)rb_compute_crc(b, n));
    *out = b;
    *outlen = n;
    return 0;
}
