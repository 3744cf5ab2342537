/* codec_gzip: Kafka's gzip compression codec (attribute bits 1) on zlib.
 *
 * Kafka's gzip payload is a gzip stream (RFC 1952), as written by Java's
 * GZIPOutputStream and by librdkafka, so we deflate with windowBits 15+16
 * (gzip wrapper) and inflate with 15+32 (auto-detect gzip/zlib header,
 * which also accepts the zlib-wrapped payloads a few old clients sent).
 * Concatenated gzip members are accepted, as GZIPInputStream does.
 *
 * Config: compression.gzip.level (Kafka's name; or
 * module.codec_gzip.compression.gzip.level), -1 = zlib default, or 1..9.
 *
 * Includes only the public plugin API, never broker headers. */
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <zlib.h>

#include <sluice/plugin.h>

#define GZIP_MIN_CHUNK ((size_t)64 << 10)

struct gzip_state {
    const struct sluice_host_api *host;
    struct sluice_module_ctx *ctx;
    int level; /* configured default level */
};

static int valid_level(long long level) { return level == -1 || (level >= 0 && level <= 9); }

static uInt clamp_uint(size_t n) { return n > UINT_MAX ? UINT_MAX : (uInt)n; }

static int gzip_compress(void *state, int level, const uint8_t *in, size_t inlen,
                         struct sluice_buf *out, char *err, size_t errlen)
{
    struct gzip_state *st = state;
    if (level == SLUICE_CODEC_LEVEL_DEFAULT)
        level = st->level;
    if (!valid_level(level)) {
        snprintf(err, errlen, "gzip level %d is out of range (-1, 0..9)", level);
        return SLUICE_ERR_INVALID;
    }
    z_stream z;
    memset(&z, 0, sizeof z);
    if (deflateInit2(&z, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
        snprintf(err, errlen, "deflateInit2 failed");
        return SLUICE_ERR_NOMEM;
    }
    /* One reservation of the worst case usually suffices; the loop covers
     * inputs larger than zlib's 32-bit counters. */
    int rc = st->host->buf_reserve(out, deflateBound(&z, clamp_uint(inlen)) + 32);
    size_t in_off = 0;
    while (rc == 0) {
        if (z.avail_in == 0 && in_off < inlen) {
            z.next_in = (Bytef *)(in + in_off);
            z.avail_in = clamp_uint(inlen - in_off);
            in_off += z.avail_in;
        }
        if (out->cap == out->len && (rc = st->host->buf_reserve(out, GZIP_MIN_CHUNK)) != 0)
            break;
        z.next_out = out->data + out->len;
        z.avail_out = clamp_uint(out->cap - out->len);
        uInt before = z.avail_out;
        int zr = deflate(&z, in_off == inlen ? Z_FINISH : Z_NO_FLUSH);
        out->len += before - z.avail_out;
        if (zr == Z_STREAM_END)
            break;
        if (zr != Z_OK && zr != Z_BUF_ERROR) {
            snprintf(err, errlen, "deflate failed: %s", z.msg ? z.msg : "unknown error");
            rc = SLUICE_ERR_GENERIC;
        }
    }
    if (rc == SLUICE_ERR_NOMEM || rc == SLUICE_ERR_TOO_LARGE)
        snprintf(err, errlen, "cannot grow the output buffer");
    deflateEnd(&z);
    return rc;
}

static int gzip_decompress(void *state, const uint8_t *in, size_t inlen, size_t max_out,
                           struct sluice_buf *out, char *err, size_t errlen)
{
    struct gzip_state *st = state;
    /* Let the output reach max_out + 1 bytes: producing that extra byte is
     * how we know the stream is larger than allowed, without ever holding
     * more than the limit. */
    size_t limit = max_out == SIZE_MAX ? SIZE_MAX : max_out + 1;
    if (inlen == 0) {
        snprintf(err, errlen, "empty gzip payload");
        return SLUICE_ERR_CORRUPT;
    }
    z_stream z;
    memset(&z, 0, sizeof z);
    if (inflateInit2(&z, 15 + 32) != Z_OK) {
        snprintf(err, errlen, "inflateInit2 failed");
        return SLUICE_ERR_NOMEM;
    }
    size_t in_off = 0, chunk = inlen * 4 < GZIP_MIN_CHUNK ? GZIP_MIN_CHUNK : inlen * 4;
    int rc = 0;
    for (;;) {
        if (z.avail_in == 0 && in_off < inlen) {
            z.next_in = (Bytef *)(in + in_off);
            z.avail_in = clamp_uint(inlen - in_off);
            in_off += z.avail_in;
        }
        if (out->len >= limit) {
            snprintf(err, errlen, "gzip payload decompresses to more than %zu bytes", max_out);
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
            if (chunk < ((size_t)16 << 20))
                chunk *= 2;
        }
        size_t room = out->cap - out->len;
        if (room > limit - out->len)
            room = limit - out->len;
        z.next_out = out->data + out->len;
        z.avail_out = clamp_uint(room);
        uInt before = z.avail_out;
        int zr = inflate(&z, Z_NO_FLUSH);
        out->len += before - z.avail_out;
        if (zr == Z_STREAM_END) {
            size_t left = z.avail_in + (inlen - in_off);
            if (out->len > max_out) {
                /* The member ended on the one byte allowed past the limit. */
                snprintf(err, errlen, "gzip payload decompresses to more than %zu bytes", max_out);
                rc = SLUICE_ERR_TOO_LARGE;
                break;
            }
            if (left == 0)
                break;
            /* Another gzip member follows: keep going like GZIPInputStream. */
            if (left >= 2 && z.avail_in >= 2 && z.next_in[0] == 0x1f && z.next_in[1] == 0x8b) {
                inflateReset(&z);
                continue;
            }
            snprintf(err, errlen, "%zu trailing bytes after the gzip stream", left);
            rc = SLUICE_ERR_CORRUPT;
            break;
        }
        if (zr == Z_OK)
            continue;
        if (zr == Z_BUF_ERROR) {
            if (z.avail_out == 0)
                continue; /* needs more room: handled at the top */
            if (z.avail_in == 0 && in_off == inlen) {
                snprintf(err, errlen, "truncated gzip stream");
                rc = SLUICE_ERR_CORRUPT;
                break;
            }
            continue;
        }
        if (zr == Z_MEM_ERROR) {
            snprintf(err, errlen, "zlib out of memory");
            rc = SLUICE_ERR_NOMEM;
        } else {
            snprintf(err, errlen, "invalid gzip data: %s", z.msg ? z.msg : "bad stream");
            rc = SLUICE_ERR_CORRUPT;
        }
        break;
    }
    inflateEnd(&z);
    return rc;
}

static const struct sluice_codec_ops gzip_ops = {
    .struct_size = sizeof(struct sluice_codec_ops),
    .codec_id = SLUICE_CODEC_GZIP,
    .name = "gzip",
    .compress = gzip_compress,
    .decompress = gzip_decompress,
};

static int gzip_init(const struct sluice_host_api *host, struct sluice_module_ctx *ctx, char *err,
                     size_t errlen)
{
    int64_t level;
    if (host->config_get_int(ctx, "compression.gzip.level", -1, &level) != 0 ||
        !(level == -1 || (level >= 1 && level <= 9))) {
        snprintf(err, errlen, "compression.gzip.level must be -1 (zlib default) or 1..9, got '%s'",
                 host->config_get_string(ctx, "compression.gzip.level", ""));
        return SLUICE_ERR_INVALID;
    }
    struct gzip_state *st = host->alloc(ctx, sizeof *st);
    if (!st) {
        snprintf(err, errlen, "out of memory");
        return SLUICE_ERR_NOMEM;
    }
    st->host = host;
    st->ctx = ctx;
    st->level = (int)level;
    host->set_data(ctx, st);
    int rc = host->register_codec(ctx, &gzip_ops, st);
    if (rc != 0) {
        host->free(ctx, st);
        snprintf(err, errlen, "cannot register the gzip codec");
        return rc;
    }
    host->log(ctx, SLUICE_LOG_DEBUG, "gzip codec ready (zlib %s, level %d)", zlibVersion(),
              st->level);
    return 0;
}

static void gzip_fini(const struct sluice_host_api *host, struct sluice_module_ctx *ctx)
{
    host->free(ctx, host->get_data(ctx));
}

SLUICE_MODULE_DECLARE("codec_gzip", "1.0.0", SLUICE_KIND_CODEC, gzip_init, gzip_fini,
                      "gzip compression codec (zlib)");
