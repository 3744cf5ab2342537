/* Magic 0/1 message sets: validation and up-conversion to a record batch v2.
 * See message_format_legacy.h for the format and the error choices. */
#include "storage/message_format_legacy.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "storage/batch_builder.h"

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

bool legacy_is_message_set(const uint8_t *p, size_t len)
{
    return len > RB_OFF_MAGIC && (p[RB_OFF_MAGIC] == 0 || p[RB_OFF_MAGIC] == 1);
}

/* One message, fields pointing into the buffer it was parsed from. */
struct lmsg {
    int64_t offset;
    int magic;
    int attributes;
    int64_t timestamp; /* -1 for magic 0 */
    const uint8_t *key, *value;
    int32_t key_len, value_len; /* -1: null */
    size_t size;                /* bytes including offset and size fields */
};

/* The 12-byte log header and the magic: how ByteBufferLogInputStream and
 * DataLogInputStream frame messages before anything else is trusted. */
static int frame_message(const uint8_t *p, size_t len, struct lmsg *m, const char *what,
                         char *err, size_t errlen)
{
    if (len < RB_LOG_OVERHEAD)
        return fail(err, errlen, KP_ERR_CORRUPT_MESSAGE,
                    "truncated %s: %zu bytes left, the offset and size need 12", what, len);
    int32_t size = rb_get_i32(p + RB_OFF_LENGTH);
    if (size < LEGACY_OVERHEAD_V0)
        return fail(err, errlen, KP_ERR_CORRUPT_MESSAGE,
                    "%s size %d is less than the minimum record overhead (%d)", what, size,
                    LEGACY_OVERHEAD_V0);
    if ((size_t)size > len - RB_LOG_OVERHEAD)
        return fail(err, errlen, KP_ERR_CORRUPT_MESSAGE,
                    "truncated %s: size %d but only %zu bytes follow", what, size,
                    len - RB_LOG_OVERHEAD);
    m->offset = rb_get_i64(p);
    m->size = RB_LOG_OVERHEAD + (size_t)size;
    m->magic = (int8_t)p[RB_OFF_MAGIC];
    return 0;
}

static uint32_t message_crc(const uint8_t *p, const struct lmsg *m)
{
    /* magic..end, i.e. after offset, size and the crc itself. */
    return (uint32_t)crc32(0L, p + RB_OFF_MAGIC, (uInt)(m->size - RB_OFF_MAGIC));
}

static int check_crc(const uint8_t *p, const struct lmsg *m, const char *what, char *err,
                     size_t errlen)
{
    uint32_t stored = (uint32_t)rb_get_i32(p + 12);
    uint32_t computed = message_crc(p, m);
    if (stored != computed)
        return fail(err, errlen, KP_ERR_CORRUPT_MESSAGE,
                    "%s is corrupt (stored crc = %u, computed crc = %u)", what, stored, computed);
    return 0;
}

/* Attributes, timestamp, key and value of a framed message whose magic is
 * 0 or 1: every length must fit and the fields must end exactly at the
 * message's end. */
static int parse_fields(const uint8_t *p, struct lmsg *m, const char *what, char *err,
                        size_t errlen)
{
    size_t end = m->size, pos = RB_OFF_MAGIC + 1;
    size_t need = RB_LOG_OVERHEAD + (m->magic == 1 ? LEGACY_OVERHEAD_V1 : LEGACY_OVERHEAD_V0);
    if (end < need)
        return fail(err, errlen, KP_ERR_CORRUPT_MESSAGE,
                    "%s of magic %d is %zu bytes, shorter than its %zu-byte overhead", what,
                    m->magic, end - RB_LOG_OVERHEAD, need - RB_LOG_OVERHEAD);
    m->attributes = p[pos++];
    m->timestamp = -1;
    if (m->magic == 1) {
        m->timestamp = rb_get_i64(p + pos);
        pos += 8;
    }
    for (int i = 0; i < 2; i++) {
        if (end - pos < 4)
            return fail(err, errlen, KP_ERR_CORRUPT_MESSAGE, "%s: truncated %s length", what,
                        i ? "value" : "key");
        int32_t n = rb_get_i32(p + pos);
        pos += 4;
        if (n < -1 || (n > 0 && (size_t)n > end - pos))
            return fail(err, errlen, KP_ERR_CORRUPT_MESSAGE,
                        "%s: %s length %d does not fit in the message (%zu bytes left)", what,
                        i ? "value" : "key", n, end - pos);
        const uint8_t *d = n >= 0 ? p + pos : NULL;
        if (n > 0)
            pos += (size_t)n;
        if (i == 0) {
            m->key = d;
            m->key_len = n;
        } else {
            m->value = d;
            m->value_len = n;
        }
    }
    if (pos != end)
        return fail(err, errlen, KP_ERR_CORRUPT_MESSAGE,
                    "%s: %zu bytes after the value", what, end - pos);
    return 0;
}

/* LogValidator.validateTimestamp plus the builder's refusal of negative
 * timestamps other than NO_TIMESTAMP (-1).  The CreateTime range check
 * (message.timestamp.before/after.max.ms) runs later on the v2 batch. */
static int check_timestamp(int64_t ts, bool batch_lat, const struct legacy_opts *o, char *err,
                           size_t errlen)
{
    if (ts < -1)
        return fail(err, errlen, KP_ERR_INVALID_TIMESTAMP, "invalid negative timestamp %lld",
                    (long long)ts);
    if (!o->log_append_time && ts != -1)
        return 0;
    if (batch_lat)
        return fail(err, errlen, KP_ERR_INVALID_TIMESTAMP,
                    "invalid timestamp type in message: producer should not set timestamp "
                    "type to LogAppendTime");
    return 0;
}

/* ---- LZ4 frame descriptor checksum (magic 0) ---------------------------- */

#define XXH_P1 2654435761U
#define XXH_P2 2246822519U
#define XXH_P3 3266489917U
#define XXH_P4 668265263U
#define XXH_P5 374761393U

static uint32_t rotl32(uint32_t x, int r) { return (x << r) | (x >> (32 - r)); }

uint32_t legacy_xxh32_small(const uint8_t *p, size_t len, uint32_t seed)
{
    /* XXH32 for inputs under 16 bytes: no stripe loop, just the tail. */
    uint32_t h = seed + XXH_P5 + (uint32_t)len;
    size_t i = 0;
    for (; i + 4 <= len; i += 4) {
        uint32_t k = (uint32_t)p[i] | (uint32_t)p[i + 1] << 8 | (uint32_t)p[i + 2] << 16 |
                     (uint32_t)p[i + 3] << 24;
        h += k * XXH_P3;
        h = rotl32(h, 17) * XXH_P4;
    }
    for (; i < len; i++) {
        h += p[i] * XXH_P5;
        h = rotl32(h, 11) * XXH_P1;
    }
    h ^= h >> 15;
    h *= XXH_P2;
    h ^= h >> 13;
    h *= XXH_P3;
    h ^= h >> 16;
    return h;
}

int legacy_lz4_fix_header_checksum(uint8_t *p, size_t len)
{
    /* magic 0x184D2204 (LE), FLG, BD, [content size 8], [dict id 4], HC */
    if (len < 7 || p[0] != 0x04 || p[1] != 0x22 || p[2] != 0x4D || p[3] != 0x18)
        return -1;
    uint8_t flg = p[4];
    size_t desc = 2 + ((flg & 0x08) ? 8 : 0) + ((flg & 0x01) ? 4 : 0);
    if (len < 4 + desc + 1)
        return -1;
    p[4 + desc] = (uint8_t)(legacy_xxh32_small(p + 4, desc, 0) >> 8);
    return 0;
}

/* ---- conversion ----------------------------------------------------------- */

static int add_record(struct batch_builder *bb, const struct lmsg *m, int64_t ts)
{
    batch_builder_add(bb, ts, m->key, m->key_len, m->value, m->value_len);
    return bb->records.err ? -1 : 0;
}

/* Inner messages of a wrapper: validate all, then append them.  Two passes
 * because a v1 wrapper's offset is checked against the last inner offset
 * before any record counts (DeepRecordsIterator reads them all first). */
static int convert_wrapper(const struct lmsg *w, const uint8_t *inner, size_t inner_len,
                           const struct legacy_opts *o, struct batch_builder *bb, char *err,
                           size_t errlen)
{
    bool wrapper_lat = w->magic == 1 && (w->attributes & LEGACY_ATTR_LOG_APPEND_TIME);
    int64_t last_offset = -1;
    int32_t n = 0;
    for (int pass = 0; pass < 2; pass++) {
        size_t off = 0;
        int32_t i = 0;
        while (off < inner_len) {
            struct lmsg m;
            char what[48];
            snprintf(what, sizeof what, "inner message %d", i);
            const uint8_t *p = inner + off;
            int rc = frame_message(p, inner_len - off, &m, what, err, errlen);
            if (rc)
                return rc;
            if (m.magic != w->magic)
                return fail(err, errlen, KP_ERR_INVALID_RECORD,
                            "inner message %d's magic %d does not match outer magic %d", i,
                            m.magic, w->magic);
            if ((rc = check_crc(p, &m, what, err, errlen)) != 0 ||
                (rc = parse_fields(p, &m, what, err, errlen)) != 0)
                return rc;
            if (m.attributes & RB_ATTR_COMPRESSION_MASK)
                return fail(err, errlen, KP_ERR_INVALID_RECORD,
                            "inner messages must not be compressed (inner message %d)", i);
            int64_t ts = wrapper_lat ? w->timestamp : m.timestamp;
            if (pass == 0) {
                if ((rc = check_timestamp(ts, wrapper_lat, o, err, errlen)) != 0)
                    return rc;
                last_offset = m.offset;
                n++;
            } else if (add_record(bb, &m, ts) != 0) {
                return fail(err, errlen, KP_ERR_UNKNOWN_SERVER_ERROR, "out of memory");
            }
            off += m.size;
            i++;
        }
        if (pass == 0) {
            if (n == 0)
                return fail(err, errlen, KP_ERR_INVALID_RECORD,
                            "found invalid compressed record set with no inner records");
            if (w->magic == 1 && w->offset != 0 && w->offset < last_offset)
                return fail(err, errlen, KP_ERR_INVALID_RECORD,
                            "found invalid wrapper offset in compressed v1 message set, wrapper "
                            "offset '%lld' is less than the last inner message offset '%lld' and "
                            "it is not zero",
                            (long long)w->offset, (long long)last_offset);
        }
    }
    return 0;
}

int legacy_upconvert(const uint8_t *p, size_t len, const struct legacy_opts *o,
                     rb_decompress_fn dec, void *dec_ctx, struct legacy_result *res, char *err,
                     size_t errlen)
{
    memset(res, 0, sizeof *res);
    if (!legacy_is_message_set(p, len))
        return fail(err, errlen, KP_ERR_CORRUPT_MESSAGE, "not a magic 0/1 message set");
    res->magic = p[RB_OFF_MAGIC];

    /* Pass 1, shallow (UnifiedLog.analyzeAndValidateRecords): framing,
     * magic, size, CRC of every outer message; the codec of the set. */
    size_t off = 0, count = 0;
    int codec = RB_CODEC_NONE;
    int rc;
    while (off < len) {
        struct lmsg m;
        char what[40];
        snprintf(what, sizeof what, "message %zu", count);
        if ((rc = frame_message(p + off, len - off, &m, what, err, errlen)) != 0)
            return rc;
        if (m.magic < 0 || m.magic > RB_MAGIC)
            return fail(err, errlen, KP_ERR_CORRUPT_MESSAGE, "invalid magic found in record: %d",
                        m.magic);
        if (m.magic != res->magic)
            return fail(err, errlen, KP_ERR_INVALID_RECORD,
                        "batch magic %d is not the same as the first batch's magic byte %d",
                        m.magic, res->magic);
        if ((int64_t)m.size > o->max_message_bytes)
            return fail(err, errlen, KP_ERR_MESSAGE_TOO_LARGE,
                        "message of %zu bytes exceeds max.message.bytes %lld", m.size,
                        (long long)o->max_message_bytes);
        if ((rc = check_crc(p + off, &m, what, err, errlen)) != 0 ||
            (rc = parse_fields(p + off, &m, what, err, errlen)) != 0)
            return rc;
        if (m.attributes & RB_ATTR_COMPRESSION_MASK)
            codec = m.attributes & RB_ATTR_COMPRESSION_MASK;
        off += m.size;
        count++;
    }
    if (codec != RB_CODEC_NONE && count > 1)
        return fail(err, errlen, KP_ERR_INVALID_RECORD,
                    "compressed outer record has more than one batch");
    res->source_codec = codec;

    struct batch_builder bb;
    batch_builder_init(&bb);
    if (codec == RB_CODEC_NONE) {
        /* Pass 2: every message is one record. */
        for (off = 0; off < len;) {
            struct lmsg m;
            frame_message(p + off, len - off, &m, "message", NULL, 0);
            parse_fields(p + off, &m, "message", NULL, 0);
            bool lat = m.magic == 1 && (m.attributes & LEGACY_ATTR_LOG_APPEND_TIME);
            if ((rc = check_timestamp(m.timestamp, lat, o, err, errlen)) != 0) {
                batch_builder_free(&bb);
                return rc;
            }
            if (add_record(&bb, &m, m.timestamp) != 0) {
                batch_builder_free(&bb);
                return fail(err, errlen, KP_ERR_UNKNOWN_SERVER_ERROR, "out of memory");
            }
            off += m.size;
        }
    } else {
        struct lmsg w;
        frame_message(p, len, &w, "wrapper", NULL, 0);
        parse_fields(p, &w, "wrapper", NULL, 0);
        if (codec == RB_CODEC_ZSTD)
            return fail(err, errlen, KP_ERR_INVALID_RECORD,
                        "zstd compression is not allowed with message format v%d", w.magic);
        if (codec > RB_CODEC_ZSTD)
            return fail(err, errlen, KP_ERR_UNSUPPORTED_COMPRESSION_TYPE,
                        "unknown compression type id %d", codec);
        if (!w.value)
            return fail(err, errlen, KP_ERR_INVALID_RECORD,
                        "found invalid compressed record set with null value (magic = %d)",
                        w.magic);
        if (!dec)
            return fail(err, errlen, KP_ERR_UNSUPPORTED_COMPRESSION_TYPE,
                        "no decompressor for compression codec %d", codec);
        const uint8_t *in = w.value;
        uint8_t *fixed = NULL;
        if (codec == RB_CODEC_LZ4 && w.magic == 0 && w.value_len > 0) {
            if (!(fixed = malloc((size_t)w.value_len)))
                return fail(err, errlen, KP_ERR_UNKNOWN_SERVER_ERROR, "out of memory");
            memcpy(fixed, w.value, (size_t)w.value_len);
            legacy_lz4_fix_header_checksum(fixed, (size_t)w.value_len);
            in = fixed;
        }
        uint8_t *inner = NULL;
        size_t inner_len = 0;
        rc = dec(dec_ctx, codec, in, (size_t)w.value_len, &inner, &inner_len);
        free(fixed);
        if (rc) {
            free(inner);
            return fail(err, errlen, rc, "cannot decompress the wrapper's message set (codec %d)",
                        codec);
        }
        rc = convert_wrapper(&w, inner, inner_len, o, &bb, err, errlen);
        free(inner);
        if (rc) {
            batch_builder_free(&bb);
            return rc;
        }
    }
    res->records = bb.count;
    res->batch = batch_builder_finish(&bb, 0, -1, -1, &res->size);
    if (!res->batch)
        return fail(err, errlen, KP_ERR_UNKNOWN_SERVER_ERROR, "out of memory");
    return 0;
}
