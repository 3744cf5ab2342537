/* codec_snappy: Kafka's snappy compression codec (attribute bits 2) on
 * libsnappy's C API.
 *
 * Two payload forms reach a broker:
 *  - xerial framing, written by the Java client (snappy-java's
 *    SnappyOutputStream behind Kafka's SnappyFactory), kafkajs-snappy and
 *    kafka-python: the 16-byte header "\x82SNAPPY\0", int32 BE version (1),
 *    int32 BE minimum compatible version (1), then chunks of [int32 BE
 *    compressed length][raw snappy block], each block holding at most 32 KiB
 *    of input (SnappyOutputStream.DEFAULT_BLOCK_SIZE);
 *  - raw snappy (one block, no framing), written by librdkafka.
 * snappy-java's SnappyInputStream reads both: a payload whose first 8 bytes
 * are not the magic (or that is shorter than the 16-byte header) is one raw
 * block.  We decide the same way.  Within a xerial stream it also accepts a
 * second header where a chunk length is expected (streams concatenated by
 * appending), so we do too.  Unlike SnappyInputStream, which stops silently
 * at 1-3 stray bytes after the last chunk, trailing bytes are CORRUPT: the
 * codec contract says so and a well-formed producer never writes them.
 *
 * We compress like the Java client (xerial, 32 KiB blocks) so a broker-side
 * recompression reads back in every client.  Snappy has no levels: any
 * level passed in is accepted and ignored, as Kafka does.
 *
 * max_out is enforced from the lengths snappy stores up front
 * (snappy_uncompressed_length of every block) before anything is reserved,
 * so a bomb costs no memory.
 *
 * Includes only the public plugin API, never broker headers. */
#include <snappy-c.h>
#include <stdio.h>
#include <string.h>

#include <sluice/plugin.h>

#define XERIAL_HEADER_LEN 16
#define XERIAL_BLOCK ((size_t)32 << 10)
/* The first 4 header bytes read as a BE int32, where a chunk length would
 * be: SnappyInputStream's MAGIC_HEADER_HEAD. */
#define XERIAL_MAGIC_HEAD 0x82534e41u

static const uint8_t xerial_magic[8] = {0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0};

struct snappy_state {
    const struct sluice_host_api *host;
};

static uint32_t get_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static int snappy_compress_cb(void *state, int level, const uint8_t *in, size_t inlen,
                              struct sluice_buf *out, char *err, size_t errlen)
{
    struct snappy_state *st = state;
    (void)level; /* snappy has no levels (Kafka has no compression.snappy.level) */
    size_t nblocks = (inlen + XERIAL_BLOCK - 1) / XERIAL_BLOCK;
    /* Worst case up front: one reservation for the whole frame. */
    size_t need = XERIAL_HEADER_LEN + nblocks * (4 + snappy_max_compressed_length(XERIAL_BLOCK));
    if (st->host->buf_reserve(out, need) != 0) {
        snprintf(err, errlen, "out of memory reserving %zu bytes", need);
        return SLUICE_ERR_NOMEM;
    }
    uint8_t *p = out->data + out->len;
    memcpy(p, xerial_magic, sizeof xerial_magic);
    put_be32(p + 8, 1);  /* version */
    put_be32(p + 12, 1); /* minimum compatible version */
    out->len += XERIAL_HEADER_LEN;
    for (size_t off = 0; off < inlen; off += XERIAL_BLOCK) {
        size_t n = inlen - off < XERIAL_BLOCK ? inlen - off : XERIAL_BLOCK;
        size_t clen = out->cap - out->len - 4;
        snappy_status s =
            snappy_compress((const char *)in + off, n, (char *)out->data + out->len + 4, &clen);
        if (s != SNAPPY_OK) {
            snprintf(err, errlen, "snappy_compress failed (status %d)", (int)s);
            return SLUICE_ERR_GENERIC;
        }
        put_be32(out->data + out->len, (uint32_t)clen);
        out->len += 4 + clen;
    }
    return 0;
}

/* One raw snappy block appended to out.  The stored length is checked
 * against what is left of max_out before any memory is reserved. */
static int raw_block(struct snappy_state *st, const uint8_t *in, size_t inlen, size_t max_out,
                     struct sluice_buf *out, char *err, size_t errlen)
{
    size_t n;
    if (snappy_uncompressed_length((const char *)in, inlen, &n) != SNAPPY_OK) {
        snprintf(err, errlen, "invalid snappy block length header");
        return SLUICE_ERR_CORRUPT;
    }
    if (n > max_out - out->len) {
        snprintf(err, errlen, "snappy payload decompresses to more than %zu bytes", max_out);
        return SLUICE_ERR_TOO_LARGE;
    }
    /* No snappy element expands more than 64 bytes out of 3 in, so a
     * length beyond 22x the block is a lie: refuse it before reserving. */
    if (n / 22 > inlen) {
        snprintf(err, errlen, "snappy block of %zu bytes claims %zu uncompressed bytes", inlen, n);
        return SLUICE_ERR_CORRUPT;
    }
    if (n == 0) {
        /* Still validate: the block must be exactly the zero-length varint. */
        if (snappy_validate_compressed_buffer((const char *)in, inlen) != SNAPPY_OK) {
            snprintf(err, errlen, "invalid snappy block");
            return SLUICE_ERR_CORRUPT;
        }
        return 0;
    }
    if (st->host->buf_reserve(out, n) != 0) {
        snprintf(err, errlen, "out of memory growing the output to %zu bytes", out->len + n);
        return SLUICE_ERR_NOMEM;
    }
    size_t got = n;
    if (snappy_uncompress((const char *)in, inlen, (char *)out->data + out->len, &got) !=
            SNAPPY_OK ||
        got != n) {
        snprintf(err, errlen, "invalid snappy block");
        return SLUICE_ERR_CORRUPT;
    }
    out->len += n;
    return 0;
}

/* snappy-java's header check: magic, then a version it can read (>= 1).
 * The compatible-version field is not checked by SnappyInputStream. */
static int xerial_header_ok(const uint8_t *p, char *err, size_t errlen)
{
    if (memcmp(p, xerial_magic, sizeof xerial_magic) != 0) {
        snprintf(err, errlen, "bad xerial snappy header in a concatenated stream");
        return SLUICE_ERR_CORRUPT;
    }
    int32_t version = (int32_t)get_be32(p + 8);
    if (version < 1) {
        snprintf(err, errlen, "xerial snappy version %d is not supported (need >= 1)", (int)version);
        return SLUICE_ERR_CORRUPT;
    }
    return 0;
}

static int snappy_decompress_cb(void *state, const uint8_t *in, size_t inlen, size_t max_out,
                                struct sluice_buf *out, char *err, size_t errlen)
{
    struct snappy_state *st = state;
    if (inlen == 0) {
        snprintf(err, errlen, "empty snappy payload");
        return SLUICE_ERR_CORRUPT;
    }
    if (inlen < XERIAL_HEADER_LEN || memcmp(in, xerial_magic, sizeof xerial_magic) != 0)
        return raw_block(st, in, inlen, max_out, out, err, errlen);

    int rc = xerial_header_ok(in, err, errlen);
    if (rc != 0)
        return rc;
    size_t off = XERIAL_HEADER_LEN;
    while (off < inlen) {
        if (inlen - off < 4) {
            snprintf(err, errlen, "%zu trailing bytes after the last xerial snappy chunk",
                     inlen - off);
            return SLUICE_ERR_CORRUPT;
        }
        uint32_t clen = get_be32(in + off);
        if (clen == XERIAL_MAGIC_HEAD) {
            if (inlen - off < XERIAL_HEADER_LEN) {
                snprintf(err, errlen, "truncated xerial snappy header at offset %zu", off);
                return SLUICE_ERR_CORRUPT;
            }
            if ((rc = xerial_header_ok(in + off, err, errlen)) != 0)
                return rc;
            off += XERIAL_HEADER_LEN;
            continue;
        }
        off += 4;
        /* Negative int32 lengths are SnappyInputStream's INVALID_CHUNK_SIZE. */
        if (clen > INT32_MAX || clen > inlen - off) {
            snprintf(err, errlen, "xerial snappy chunk of %u bytes at offset %zu overruns the %zu-byte payload",
                     clen, off - 4, inlen);
            return SLUICE_ERR_CORRUPT;
        }
        if ((rc = raw_block(st, in + off, clen, max_out, out, err, errlen)) != 0)
            return rc;
        off += clen;
    }
    return 0;
}

static const struct sluice_codec_ops snappy_ops = {
    .struct_size = sizeof(struct sluice_codec_ops),
    .codec_id = SLUICE_CODEC_SNAPPY,
    .name = "snappy",
    .compress = snappy_compress_cb,
    .decompress = snappy_decompress_cb,
};

static int snappy_init(const struct sluice_host_api *host, struct sluice_module_ctx *ctx, char *err,
                       size_t errlen)
{
    struct snappy_state *st = host->alloc(ctx, sizeof *st);
    if (!st) {
        snprintf(err, errlen, "out of memory");
        return SLUICE_ERR_NOMEM;
    }
    st->host = host;
    host->set_data(ctx, st);
    int rc = host->register_codec(ctx, &snappy_ops, st);
    if (rc != 0) {
        host->free(ctx, st);
        snprintf(err, errlen, "cannot register the snappy codec");
        return rc;
    }
    host->log(ctx, SLUICE_LOG_DEBUG, "snappy codec ready (xerial framing, %zu KiB blocks)",
              XERIAL_BLOCK >> 10);
    return 0;
}

static void snappy_fini(const struct sluice_host_api *host, struct sluice_module_ctx *ctx)
{
    host->free(ctx, host->get_data(ctx));
}

SLUICE_MODULE_DECLARE("codec_snappy", "1.0.0", SLUICE_KIND_CODEC, snappy_init, snappy_fini,
                      "snappy compression codec (libsnappy, xerial framing)");
