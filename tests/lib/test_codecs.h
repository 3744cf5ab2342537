/* Test helper: rb_decompress_fn / rb_compress_fn pairs on the system
 * libraries (zlib gzip, LZ4 frames, zstd frames, raw snappy), so storage
 * unit tests exercise real codecs without loading modules.  Snappy here is
 * the raw format, not Kafka's xerial framing: enough for round trips.
 *
 *   struct tc_ctx c = tc_ctx_all();
 *   module-like calls: tc_compress(&c, RB_CODEC_GZIP, 9, in, n, &out, &outlen)
 * c.available masks which codec ids "have a module" (others answer
 * UNSUPPORTED_COMPRESSION_TYPE); c.last_level records the level asked. */
#ifndef SLUICE_TEST_CODECS_H
#define SLUICE_TEST_CODECS_H

#include <lz4frame.h>
#include <snappy-c.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#include "storage/record_batch.h"

struct tc_ctx {
    unsigned available; /* bit per codec id */
    int last_level, last_codec;
    int compress_calls, decompress_calls;
};

static inline struct tc_ctx tc_ctx_all(void)
{
    struct tc_ctx c;
    memset(&c, 0, sizeof c);
    c.available = (1u << RB_CODEC_GZIP) | (1u << RB_CODEC_SNAPPY) | (1u << RB_CODEC_LZ4) |
                  (1u << RB_CODEC_ZSTD);
    c.last_level = -999;
    return c;
}

static inline int tc_compress(void *ctxp, int codec, int level, const uint8_t *in, size_t inlen,
                              uint8_t **out, size_t *outlen)
{
    struct tc_ctx *c = (struct tc_ctx *)ctxp;
    *out = NULL;
    *outlen = 0;
    c->compress_calls++;
    c->last_level = level;
    c->last_codec = codec;
    if (codec == RB_CODEC_NONE) {
        *out = (uint8_t *)malloc(inlen ? inlen : 1);
        memcpy(*out, in, inlen);
        *outlen = inlen;
        return 0;
    }
    if (!(c->available & (1u << codec)))
        return KP_ERR_UNSUPPORTED_COMPRESSION_TYPE;
    if (codec == RB_CODEC_GZIP) {
        z_stream z;
        memset(&z, 0, sizeof z);
        if (deflateInit2(&z, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
            return KP_ERR_CORRUPT_MESSAGE;
        size_t cap = deflateBound(&z, (uLong)inlen) + 32;
        *out = (uint8_t *)malloc(cap);
        z.next_in = (Bytef *)in;
        z.avail_in = (uInt)inlen;
        z.next_out = *out;
        z.avail_out = (uInt)cap;
        int zr = deflate(&z, Z_FINISH);
        *outlen = cap - z.avail_out;
        deflateEnd(&z);
        return zr == Z_STREAM_END ? 0 : KP_ERR_CORRUPT_MESSAGE;
    }
    if (codec == RB_CODEC_LZ4) {
        LZ4F_preferences_t prefs;
        memset(&prefs, 0, sizeof prefs);
        prefs.compressionLevel = level;
        size_t cap = LZ4F_compressFrameBound(inlen, &prefs);
        *out = (uint8_t *)malloc(cap);
        size_t n = LZ4F_compressFrame(*out, cap, in, inlen, &prefs);
        if (LZ4F_isError(n))
            return KP_ERR_CORRUPT_MESSAGE;
        *outlen = n;
        return 0;
    }
    if (codec == RB_CODEC_ZSTD) {
        size_t cap = ZSTD_compressBound(inlen);
        *out = (uint8_t *)malloc(cap);
        size_t n = ZSTD_compress(*out, cap, in, inlen, level);
        if (ZSTD_isError(n))
            return KP_ERR_CORRUPT_MESSAGE;
        *outlen = n;
        return 0;
    }
    if (codec == RB_CODEC_SNAPPY) {
        size_t cap = snappy_max_compressed_length(inlen);
        *out = (uint8_t *)malloc(cap);
        if (snappy_compress((const char *)in, inlen, (char *)*out, &cap) != SNAPPY_OK)
            return KP_ERR_CORRUPT_MESSAGE;
        *outlen = cap;
        return 0;
    }
    return KP_ERR_UNSUPPORTED_COMPRESSION_TYPE;
}

static inline int tc_decompress(void *ctxp, int codec, const uint8_t *in, size_t inlen,
                                uint8_t **out, size_t *outlen)
{
    struct tc_ctx *c = (struct tc_ctx *)ctxp;
    *out = NULL;
    *outlen = 0;
    c->decompress_calls++;
    if (codec == RB_CODEC_NONE || !(c->available & (1u << codec)))
        return codec == RB_CODEC_NONE ? KP_ERR_CORRUPT_MESSAGE : KP_ERR_UNSUPPORTED_COMPRESSION_TYPE;
    size_t cap = 1 << 20;
    *out = (uint8_t *)malloc(cap);
    if (codec == RB_CODEC_GZIP) {
        z_stream z;
        memset(&z, 0, sizeof z);
        inflateInit2(&z, 15 + 32);
        z.next_in = (Bytef *)in;
        z.avail_in = (uInt)inlen;
        z.next_out = *out;
        z.avail_out = (uInt)cap;
        int zr = inflate(&z, Z_FINISH);
        *outlen = cap - z.avail_out;
        inflateEnd(&z);
        return zr == Z_STREAM_END && z.avail_in == 0 ? 0 : KP_ERR_CORRUPT_MESSAGE;
    }
    if (codec == RB_CODEC_LZ4) {
        LZ4F_dctx *d;
        LZ4F_createDecompressionContext(&d, LZ4F_VERSION);
        size_t src = inlen, dst = cap;
        size_t r = LZ4F_decompress(d, *out, &dst, in, &src, NULL);
        LZ4F_freeDecompressionContext(d);
        *outlen = dst;
        return !LZ4F_isError(r) && r == 0 && src == inlen ? 0 : KP_ERR_CORRUPT_MESSAGE;
    }
    if (codec == RB_CODEC_ZSTD) {
        size_t n = ZSTD_decompress(*out, cap, in, inlen);
        if (ZSTD_isError(n))
            return KP_ERR_CORRUPT_MESSAGE;
        *outlen = n;
        return 0;
    }
    if (codec == RB_CODEC_SNAPPY) {
        size_t n = cap;
        if (snappy_uncompress((const char *)in, inlen, (char *)*out, &n) != SNAPPY_OK)
            return KP_ERR_CORRUPT_MESSAGE;
        *outlen = n;
        return 0;
    }
    return KP_ERR_UNSUPPORTED_COMPRESSION_TYPE;
}

#endif
