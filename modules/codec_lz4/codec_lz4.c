/* codec_lz4: Kafka's lz4 compression codec (attribute bits 3) on liblz4's
 * frame API.
 *
 * Kafka's lz4 payload is one LZ4 frame (KIP-57).  The Java client writes it
 * with Lz4BlockOutputStream: 64 KiB independent blocks, no block or content
 * checksum, no content size; librdkafka writes the same shape.  We compress
 * the same way.
 *
 * Header checksum (HC): Kafka's first lz4 code (message format v0) hashed
 * the frame descriptor *including* the 4 magic bytes, so v0 frames carry a
 * wrong HC.  Kafka reads magic v0 batches with ignoreFlagDescriptorChecksum
 * and librdkafka rewrites the HC before decoding legacy messages
 * (rd_kafka_lz4_decompress_fixup_bad_framing).  A codec is not told the
 * batch magic, so we accept exactly that legacy HC value -- XXH32 over
 * magic + descriptor -- and rewrite it to the correct one in a private copy
 * of the header before handing the frame to liblz4; any other wrong HC is
 * still CORRUPT.  (Kafka itself checks the HC of magic >= 1 frames strictly;
 * a v2 producer never writes the legacy value, so accepting it only makes
 * the broker as forgiving as Kafka is for old data.)
 *
 * Levels: compression.lz4.level, Kafka's range 1..17, default 9.  Like
 * Kafka's Lz4BlockOutputStream (which keeps lz4-java's fast compressor for
 * the default level for backward compatibility and uses the HC compressor
 * otherwise), level 9 means LZ4's fast mode and any other level is LZ4HC's
 * level (liblz4 treats 1-2 as fast and caps levels above 12 at 12).
 *
 * Decompression streams into the host buffer in bounded steps so output
 * never exceeds max_out + 1 bytes; a frame that declares a content size
 * above max_out is refused before anything is reserved.  Bytes after the
 * end of the frame are CORRUPT (librdkafka refuses them too).
 *
 * Includes only the public plugin API, never broker headers. */
#include <lz4.h>
#include <lz4frame.h>
#include <stdio.h>
#include <string.h>

#include <sluice/plugin.h>

#define LZ4_KAFKA_LEVEL_MIN 1
#define LZ4_KAFKA_LEVEL_MAX 17
#define LZ4_KAFKA_LEVEL_DEFAULT 9
#define LZ4_MIN_CHUNK ((size_t)64 << 10)
#define LZ4_FRAME_MAGIC 0x184D2204u
#define LZ4_HEADER_MAX 19 /* LZ4F_HEADER_SIZE_MAX: magic 4, FLG, BD, size 8, dictID 4, HC */

struct lz4_state {
    const struct sluice_host_api *host;
    struct sluice_module_ctx *ctx;
    int level; /* configured default level (Kafka's scale) */
};

/* ---- XXH32, only for the one header byte the fix-up needs ---------------- */

#define P32_1 2654435761u
#define P32_2 2246822519u
#define P32_3 3266489917u
#define P32_4 668265263u
#define P32_5 374761393u

static uint32_t rotl32(uint32_t x, int r) { return (x << r) | (x >> (32 - r)); }

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint32_t xxh32_round(uint32_t acc, uint32_t in)
{
    acc += in * P32_2;
    return rotl32(acc, 13) * P32_1;
}

/* The reference XXH32 (seed 0 is all the frame format uses). */
static uint32_t xxh32(const uint8_t *p, size_t len, uint32_t seed)
{
    const uint8_t *end = p + len;
    uint32_t h;
    if (len >= 16) {
        uint32_t v1 = seed + P32_1 + P32_2, v2 = seed + P32_2, v3 = seed, v4 = seed - P32_1;
        for (; end - p >= 16; p += 16) {
            v1 = xxh32_round(v1, le32(p));
            v2 = xxh32_round(v2, le32(p + 4));
            v3 = xxh32_round(v3, le32(p + 8));
            v4 = xxh32_round(v4, le32(p + 12));
        }
        h = rotl32(v1, 1) + rotl32(v2, 7) + rotl32(v3, 12) + rotl32(v4, 18);
    } else {
        h = seed + P32_5;
    }
    h += (uint32_t)len;
    for (; end - p >= 4; p += 4)
        h = rotl32(h + le32(p) * P32_3, 17) * P32_4;
    for (; p < end; p++)
        h = rotl32(h + *p * P32_5, 11) * P32_1;
    h ^= h >> 15;
    h *= P32_2;
    h ^= h >> 13;
    h *= P32_3;
    h ^= h >> 16;
    return h;
}

/* Copies the frame header into hdr (at most LZ4_HEADER_MAX bytes) and, if
 * its HC byte is the legacy Kafka value, rewrites it to the correct one.
 * Returns the number of bytes copied; *fixed says whether it rewrote. */
static size_t copy_header_fixing_hc(const uint8_t *in, size_t inlen, uint8_t *hdr, int *fixed)
{
    size_t n = inlen < LZ4_HEADER_MAX ? inlen : LZ4_HEADER_MAX;
    memcpy(hdr, in, n);
    *fixed = 0;
    if (n < 7 || le32(hdr) != LZ4_FRAME_MAGIC)
        return n;
    uint8_t flg = hdr[4];
    size_t desc = 2 + ((flg & 0x08) ? 8 : 0) + ((flg & 0x01) ? 4 : 0);
    size_t hc_at = 4 + desc;
    if (hc_at >= n)
        return n;
    uint8_t good = (uint8_t)(xxh32(hdr + 4, desc, 0) >> 8);
    uint8_t legacy = (uint8_t)(xxh32(hdr, 4 + desc, 0) >> 8);
    if (hdr[hc_at] != good && hdr[hc_at] == legacy) {
        hdr[hc_at] = good;
        *fixed = 1;
    }
    return n;
}

/* ---- codec ---------------------------------------------------------------- */

static int valid_level(long long level)
{
    return level >= LZ4_KAFKA_LEVEL_MIN && level <= LZ4_KAFKA_LEVEL_MAX;
}

static int lz4_compress_cb(void *state, int level, const uint8_t *in, size_t inlen,
                           struct sluice_buf *out, char *err, size_t errlen)
{
    struct lz4_state *st = state;
    if (level == SLUICE_CODEC_LEVEL_DEFAULT)
        level = st->level;
    if (!valid_level(level)) {
        snprintf(err, errlen, "lz4 level %d is out of range (1..17)", level);
        return SLUICE_ERR_INVALID;
    }
    LZ4F_preferences_t prefs;
    memset(&prefs, 0, sizeof prefs);
    prefs.frameInfo.blockSizeID = LZ4F_max64KB;
    prefs.frameInfo.blockMode = LZ4F_blockIndependent;
    prefs.frameInfo.contentChecksumFlag = LZ4F_noContentChecksum;
    prefs.frameInfo.blockChecksumFlag = LZ4F_noBlockChecksum;
    prefs.frameInfo.frameType = LZ4F_frame;
    prefs.compressionLevel = level == LZ4_KAFKA_LEVEL_DEFAULT ? 0 : level;
    size_t bound = LZ4F_compressFrameBound(inlen, &prefs);
    if (LZ4F_isError(bound) || st->host->buf_reserve(out, bound) != 0) {
        snprintf(err, errlen, "out of memory reserving the lz4 output for %zu bytes", inlen);
        return SLUICE_ERR_NOMEM;
    }
    size_t r = LZ4F_compressFrame(out->data + out->len, out->cap - out->len, in, inlen, &prefs);
    if (LZ4F_isError(r)) {
        snprintf(err, errlen, "LZ4F_compressFrame failed: %s", LZ4F_getErrorName(r));
        return SLUICE_ERR_GENERIC;
    }
    out->len += r;
    return 0;
}

static int lz4_decompress_cb(void *state, const uint8_t *in, size_t inlen, size_t max_out,
                             struct sluice_buf *out, char *err, size_t errlen)
{
    struct lz4_state *st = state;
    size_t limit = max_out == SIZE_MAX ? SIZE_MAX : max_out + 1;
    if (inlen == 0) {
        snprintf(err, errlen, "empty lz4 payload");
        return SLUICE_ERR_CORRUPT;
    }
    LZ4F_dctx *d = NULL;
    if (LZ4F_isError(LZ4F_createDecompressionContext(&d, LZ4F_VERSION))) {
        snprintf(err, errlen, "cannot create an lz4 decompression context");
        return SLUICE_ERR_NOMEM;
    }
    int rc = 0, fixed;
    uint8_t hdr[LZ4_HEADER_MAX];
    size_t hlen = copy_header_fixing_hc(in, inlen, hdr, &fixed);
    if (fixed)
        st->host->log(st->ctx, SLUICE_LOG_DEBUG, "lz4 frame with the legacy Kafka header checksum: fixed up");
    LZ4F_frameInfo_t fi;
    size_t in_off = hlen;
    size_t r = LZ4F_getFrameInfo(d, &fi, hdr, &in_off);
    if (LZ4F_isError(r)) {
        snprintf(err, errlen, "invalid lz4 frame header: %s", LZ4F_getErrorName(r));
        rc = SLUICE_ERR_CORRUPT;
        goto done;
    }
    if (fi.contentSize > max_out) {
        snprintf(err, errlen, "lz4 payload decompresses to more than %zu bytes (frame says %llu)",
                 max_out, (unsigned long long)fi.contentSize);
        rc = SLUICE_ERR_TOO_LARGE;
        goto done;
    }
    /* A declared size (0 means none) sizes the first step exactly, + 1 to
     * see the end mark without another reservation -- unless it is beyond
     * what LZ4 can expand to (255x), then it is only checked at the end. */
    size_t chunk = fi.contentSize && fi.contentSize / 256 <= inlen
                       ? (size_t)fi.contentSize + 1
                       : (inlen * 4 < LZ4_MIN_CHUNK ? LZ4_MIN_CHUNK : inlen * 4);
    for (;;) {
        if (out->len >= limit) {
            snprintf(err, errlen, "lz4 payload decompresses to more than %zu bytes", max_out);
            rc = SLUICE_ERR_TOO_LARGE;
            break;
        }
        if (out->cap == out->len) {
            size_t want = chunk < limit - out->len ? chunk : limit - out->len;
            if (st->host->buf_reserve(out, want) != 0) {
                snprintf(err, errlen, "out of memory growing the output to %zu bytes",
                         out->len + want);
                rc = SLUICE_ERR_NOMEM;
                break;
            }
            chunk = chunk < LZ4_MIN_CHUNK ? LZ4_MIN_CHUNK : chunk < ((size_t)16 << 20) ? chunk * 2 : chunk;
        }
        size_t room = out->cap - out->len;
        if (room > limit - out->len)
            room = limit - out->len;
        size_t dsz = room, ssz = inlen - in_off;
        r = LZ4F_decompress(d, out->data + out->len, &dsz, in + in_off, &ssz, NULL);
        if (LZ4F_isError(r)) {
            snprintf(err, errlen, "invalid lz4 data at payload offset %zu: %s", in_off,
                     LZ4F_getErrorName(r));
            rc = SLUICE_ERR_CORRUPT;
            break;
        }
        out->len += dsz;
        in_off += ssz;
        if (r == 0) { /* end of frame */
            if (out->len > max_out) {
                /* The last call filled the one byte past the limit. */
                snprintf(err, errlen, "lz4 payload decompresses to more than %zu bytes", max_out);
                rc = SLUICE_ERR_TOO_LARGE;
            } else if (in_off < inlen) {
                snprintf(err, errlen, "%zu trailing bytes after the lz4 frame", inlen - in_off);
                rc = SLUICE_ERR_CORRUPT;
            }
            break;
        }
        if (in_off == inlen && dsz < room) {
            snprintf(err, errlen, "truncated lz4 frame");
            rc = SLUICE_ERR_CORRUPT;
            break;
        }
    }
done:
    LZ4F_freeDecompressionContext(d);
    return rc;
}

static const struct sluice_codec_ops lz4_ops = {
    .struct_size = sizeof(struct sluice_codec_ops),
    .codec_id = SLUICE_CODEC_LZ4,
    .name = "lz4",
    .compress = lz4_compress_cb,
    .decompress = lz4_decompress_cb,
};

static int lz4_init(const struct sluice_host_api *host, struct sluice_module_ctx *ctx, char *err,
                    size_t errlen)
{
    int64_t level;
    if (host->config_get_int(ctx, "compression.lz4.level", LZ4_KAFKA_LEVEL_DEFAULT, &level) != 0 ||
        !valid_level(level)) {
        snprintf(err, errlen, "compression.lz4.level must be 1..17, got '%s'",
                 host->config_get_string(ctx, "compression.lz4.level", ""));
        return SLUICE_ERR_INVALID;
    }
    struct lz4_state *st = host->alloc(ctx, sizeof *st);
    if (!st) {
        snprintf(err, errlen, "out of memory");
        return SLUICE_ERR_NOMEM;
    }
    st->host = host;
    st->ctx = ctx;
    st->level = (int)level;
    host->set_data(ctx, st);
    int rc = host->register_codec(ctx, &lz4_ops, st);
    if (rc != 0) {
        host->free(ctx, st);
        snprintf(err, errlen, "cannot register the lz4 codec");
        return rc;
    }
    host->log(ctx, SLUICE_LOG_DEBUG, "lz4 codec ready (liblz4 %s, level %d)", LZ4_versionString(),
              st->level);
    return 0;
}

static void lz4_fini(const struct sluice_host_api *host, struct sluice_module_ctx *ctx)
{
    host->free(ctx, host->get_data(ctx));
}

SLUICE_MODULE_DECLARE("codec_lz4", "1.0.0", SLUICE_KIND_CODEC, lz4_init, lz4_fini,
                      "lz4 compression codec (liblz4 frame format)");
