/* codec_zstd: Kafka's zstd compression codec (attribute bits 4, KIP-110)
 * on libzstd.
 *
 * The payload is one or more zstd frames (RFC 8878).  The Java client
 * writes one frame through zstd-jni's streaming ZstdOutputStream, which
 * does not record the content size; librdkafka pledges the size, so its
 * frames carry it.  Both must decode:
 *  - every frame declares its size (ZSTD_findDecompressedSize): the total
 *    is checked against max_out before anything is reserved, then the
 *    payload is decoded in one call into a buffer of exactly that size;
 *  - otherwise: streaming decode into the host buffer in bounded steps, so
 *    the output never exceeds max_out + 1 bytes.  The decoder's window is
 *    limited to 2^27 (ZSTD_WINDOWLOG_LIMIT_DEFAULT, what zstd-jni and hence
 *    Kafka accept); its buffer is allocated up front but only the pages the
 *    output reaches get touched, so that, too, is bounded by max_out.
 * Concatenated frames are accepted (the format allows it; zstd-jni reads
 * them); anything after the last frame that is not a frame is CORRUPT.
 *
 * We compress with the frame content size recorded (ZSTD_compress2), which
 * every zstd reader accepts and which lets readers size their buffer.
 *
 * Levels: compression.zstd.level, Kafka's range -131072..22 (zstd's
 * ZSTD_minCLevel() to ZSTD_maxCLevel()), default 3; 0 means zstd's default.
 *
 * Includes only the public plugin API, never broker headers. */
#include <stdio.h>
#include <string.h>
#include <zstd.h>
#include <zstd_errors.h>

#include <sluice/plugin.h>

#define ZSTD_KAFKA_LEVEL_MIN (-131072)
#define ZSTD_KAFKA_LEVEL_MAX 22
#define ZSTD_KAFKA_LEVEL_DEFAULT 3
#define ZSTD_WINDOWLOG_KAFKA 27
#define ZSTD_MIN_CHUNK ((size_t)64 << 10)

struct zstd_state {
    const struct sluice_host_api *host;
    int level; /* configured default level */
};

static int valid_level(long long level)
{
    return level >= ZSTD_KAFKA_LEVEL_MIN && level <= ZSTD_KAFKA_LEVEL_MAX;
}

static int zstd_compress_cb(void *state, int level, const uint8_t *in, size_t inlen,
                            struct sluice_buf *out, char *err, size_t errlen)
{
    struct zstd_state *st = state;
    if (level == SLUICE_CODEC_LEVEL_DEFAULT)
        level = st->level;
    if (!valid_level(level)) {
        snprintf(err, errlen, "zstd level %d is out of range (-131072..22)", level);
        return SLUICE_ERR_INVALID;
    }
    size_t bound = ZSTD_compressBound(inlen);
    if (ZSTD_isError(bound) || st->host->buf_reserve(out, bound) != 0) {
        snprintf(err, errlen, "out of memory reserving the zstd output for %zu bytes", inlen);
        return SLUICE_ERR_NOMEM;
    }
    /* A context per call: callers run on many threads at once and the
     * module state must stay immutable. */
    ZSTD_CCtx *c = ZSTD_createCCtx();
    if (!c) {
        snprintf(err, errlen, "cannot create a zstd compression context");
        return SLUICE_ERR_NOMEM;
    }
    size_t r = ZSTD_CCtx_setParameter(c, ZSTD_c_compressionLevel, level);
    if (!ZSTD_isError(r))
        r = ZSTD_compress2(c, out->data + out->len, out->cap - out->len, in, inlen);
    ZSTD_freeCCtx(c);
    if (ZSTD_isError(r)) {
        snprintf(err, errlen, "zstd compression failed: %s", ZSTD_getErrorName(r));
        return SLUICE_ERR_GENERIC;
    }
    out->len += r;
    return 0;
}

static int too_large(char *err, size_t errlen, size_t max_out)
{
    snprintf(err, errlen, "zstd payload decompresses to more than %zu bytes", max_out);
    return SLUICE_ERR_TOO_LARGE;
}

/* Streaming decode for payloads with a frame of unknown size. */
static int decode_stream(struct zstd_state *st, ZSTD_DCtx *d, const uint8_t *in, size_t inlen,
                         size_t max_out, struct sluice_buf *out, char *err, size_t errlen)
{
    size_t limit = max_out == SIZE_MAX ? SIZE_MAX : max_out + 1;
    size_t chunk = inlen * 4 < ZSTD_MIN_CHUNK ? ZSTD_MIN_CHUNK : inlen * 4;
    ZSTD_inBuffer ib = {in, inlen, 0};
    size_t r = ZSTD_DCtx_setParameter(d, ZSTD_d_windowLogMax, ZSTD_WINDOWLOG_KAFKA);
    if (ZSTD_isError(r)) {
        snprintf(err, errlen, "zstd: %s", ZSTD_getErrorName(r));
        return SLUICE_ERR_GENERIC;
    }
    for (r = 1;;) {
        /* r == 0: the last call ended a frame and flushed all of it. */
        if (r == 0 && ib.pos == ib.size)
            return out->len > max_out ? too_large(err, errlen, max_out) : 0;
        if (out->len >= limit)
            return too_large(err, errlen, max_out);
        if (out->cap == out->len) {
            size_t want = chunk < limit - out->len ? chunk : limit - out->len;
            if (st->host->buf_reserve(out, want) != 0) {
                snprintf(err, errlen, "out of memory growing the output to %zu bytes",
                         out->len + want);
                return SLUICE_ERR_NOMEM;
            }
            if (chunk < ((size_t)16 << 20))
                chunk *= 2;
        }
        size_t room = out->cap - out->len;
        if (room > limit - out->len)
            room = limit - out->len;
        ZSTD_outBuffer ob = {out->data + out->len, room, 0};
        size_t in_before = ib.pos;
        r = ZSTD_decompressStream(d, &ob, &ib);
        out->len += ob.pos;
        if (ZSTD_isError(r)) {
            if (ZSTD_getErrorCode(r) == ZSTD_error_memory_allocation) {
                snprintf(err, errlen, "zstd out of memory");
                return SLUICE_ERR_NOMEM;
            }
            snprintf(err, errlen, "invalid zstd data at payload offset %zu: %s", ib.pos,
                     ZSTD_getErrorName(r));
            return SLUICE_ERR_CORRUPT;
        }
        /* All input in, room left, frame not over, and this call moved
         * nothing: the frame is cut short. */
        if (r != 0 && ib.pos == ib.size && ob.pos < ob.size && ob.pos == 0 && ib.pos == in_before) {
            snprintf(err, errlen, "truncated zstd frame");
            return SLUICE_ERR_CORRUPT;
        }
    }
}

/* Sum of the content sizes the frames declare, or ZSTD_CONTENTSIZE_UNKNOWN
 * as soon as one frame does not say.  Walks the frames with the stable API
 * only (ZSTD_findDecompressedSize is experimental): a frame header or block
 * structure that doesn't parse, or bytes after the last whole frame, are
 * CORRUPT.  Skippable frames count 0. */
static int frames_total(const uint8_t *in, size_t inlen, unsigned long long *total, char *err,
                        size_t errlen)
{
    *total = 0;
    for (size_t off = 0; off < inlen;) {
        unsigned long long fcs = ZSTD_getFrameContentSize(in + off, inlen - off);
        if (fcs == ZSTD_CONTENTSIZE_ERROR) {
            snprintf(err, errlen, "invalid zstd frame header at payload offset %zu", off);
            return SLUICE_ERR_CORRUPT;
        }
        if (fcs == ZSTD_CONTENTSIZE_UNKNOWN) {
            *total = ZSTD_CONTENTSIZE_UNKNOWN; /* the streaming decoder checks the rest */
            return 0;
        }
        size_t csz = ZSTD_findFrameCompressedSize(in + off, inlen - off);
        if (ZSTD_isError(csz)) {
            snprintf(err, errlen, "invalid zstd frame at payload offset %zu: %s", off,
                     ZSTD_getErrorName(csz));
            return SLUICE_ERR_CORRUPT;
        }
        if (*total + fcs < *total || *total + fcs >= ZSTD_CONTENTSIZE_ERROR) {
            snprintf(err, errlen, "zstd frame sizes overflow");
            return SLUICE_ERR_CORRUPT;
        }
        *total += fcs;
        off += csz;
    }
    return 0;
}

static int zstd_decompress_cb(void *state, const uint8_t *in, size_t inlen, size_t max_out,
                              struct sluice_buf *out, char *err, size_t errlen)
{
    struct zstd_state *st = state;
    if (inlen == 0) {
        snprintf(err, errlen, "empty zstd payload");
        return SLUICE_ERR_CORRUPT;
    }
    unsigned long long total;
    int rc = frames_total(in, inlen, &total, err, errlen);
    if (rc != 0)
        return rc;
    if (total != ZSTD_CONTENTSIZE_UNKNOWN && total > max_out) {
        snprintf(err, errlen, "zstd payload decompresses to more than %zu bytes (frames say %llu)",
                 max_out, total);
        return SLUICE_ERR_TOO_LARGE;
    }
    ZSTD_DCtx *d = ZSTD_createDCtx();
    if (!d) {
        snprintf(err, errlen, "cannot create a zstd decompression context");
        return SLUICE_ERR_NOMEM;
    }
    /* Declared sizes beyond what zstd can expand to (an RLE block: 128 KiB
     * from 4 bytes) are not trusted for the one-shot reservation. */
    if (total == ZSTD_CONTENTSIZE_UNKNOWN || total / 32768 > inlen) {
        rc = decode_stream(st, d, in, inlen, max_out, out, err, errlen);
    } else if (total > 0 && st->host->buf_reserve(out, (size_t)total) != 0) {
        snprintf(err, errlen, "out of memory reserving %llu bytes", total);
        rc = SLUICE_ERR_NOMEM;
    } else {
        /* Sizes are known and within the limit: one call, straight into
         * the buffer.  zstd checks every frame's declared size. */
        size_t r = ZSTD_decompressDCtx(d, total ? out->data + out->len : NULL, (size_t)total, in,
                                       inlen);
        if (ZSTD_isError(r) || r != total) {
            snprintf(err, errlen, "invalid zstd data: %s",
                     ZSTD_isError(r) ? ZSTD_getErrorName(r) : "size differs from the frame header");
            rc = ZSTD_isError(r) && ZSTD_getErrorCode(r) == ZSTD_error_memory_allocation
                     ? SLUICE_ERR_NOMEM
                     : SLUICE_ERR_CORRUPT;
        } else {
            out->len += r;
        }
    }
    ZSTD_freeDCtx(d);
    return rc;
}

static const struct sluice_codec_ops zstd_ops = {
    .struct_size = sizeof(struct sluice_codec_ops),
    .codec_id = SLUICE_CODEC_ZSTD,
    .name = "zstd",
    .compress = zstd_compress_cb,
    .decompress = zstd_decompress_cb,
};

static int zstd_init(const struct sluice_host_api *host, struct sluice_module_ctx *ctx, char *err,
                     size_t errlen)
{
    int64_t level;
    if (host->config_get_int(ctx, "compression.zstd.level", ZSTD_KAFKA_LEVEL_DEFAULT, &level) != 0 ||
        !valid_level(level)) {
        snprintf(err, errlen, "compression.zstd.level must be -131072..22, got '%s'",
                 host->config_get_string(ctx, "compression.zstd.level", ""));
        return SLUICE_ERR_INVALID;
    }
    struct zstd_state *st = host->alloc(ctx, sizeof *st);
    if (!st) {
        snprintf(err, errlen, "out of memory");
        return SLUICE_ERR_NOMEM;
    }
    st->host = host;
    st->level = (int)level;
    host->set_data(ctx, st);
    int rc = host->register_codec(ctx, &zstd_ops, st);
    if (rc != 0) {
        host->free(ctx, st);
        snprintf(err, errlen, "cannot register the zstd codec");
        return rc;
    }
    host->log(ctx, SLUICE_LOG_DEBUG, "zstd codec ready (libzstd %s, level %d)", ZSTD_versionString(),
              st->level);
    return 0;
}

static void zstd_fini(const struct sluice_host_api *host, struct sluice_module_ctx *ctx)
{
    host->free(ctx, host->get_data(ctx));
}

SLUICE_MODULE_DECLARE("codec_zstd", "1.0.0", SLUICE_KIND_CODEC, zstd_init, zstd_fini,
                      "zstd compression codec (libzstd)");
