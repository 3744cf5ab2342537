/* Bounds-checked big-endian and varint reading/writing for the Kafka wire
 * format and the record-batch format.
 *
 * Reader: every read checks the remaining length; an underflow or a malformed
 * varint sets r->err (sticky) and returns 0, so a decoder can read a whole
 * structure and check r->err once, the way librdkafka's rd_kafka_buf_read_*
 * macros do but without goto.
 *
 * Writer: a growable memory buffer plus "file spans": ranges of a file that
 * belong at a given position of the output (Fetch record data sent with
 * sendfile()).  Memory bytes stay contiguous; spans are spliced in by the
 * network layer when it sends.  wire_writer_total() counts both. */
#ifndef SLUICE_WIRE_H
#define SLUICE_WIRE_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

enum { WIRE_OK = 0, WIRE_EUNDERFLOW = 1, WIRE_EVARINT = 2, WIRE_ENOMEM = 3, WIRE_EINVAL = 4 };

struct wire_reader {
    const uint8_t *p;
    size_t len;
    size_t pos;
    int err;
};

static inline void wire_reader_init(struct wire_reader *r, const void *p, size_t len)
{
    r->p = (const uint8_t *)p;
    r->len = len;
    r->pos = 0;
    r->err = WIRE_OK;
}

static inline size_t wire_remaining(const struct wire_reader *r)
{
    return r->err ? 0 : r->len - r->pos;
}

static inline int wire_need(struct wire_reader *r, size_t n)
{
    if (r->err)
        return 0;
    if (r->len - r->pos < n) {
        r->err = WIRE_EUNDERFLOW;
        return 0;
    }
    return 1;
}

static inline uint8_t wire_read_u8(struct wire_reader *r)
{
    if (!wire_need(r, 1))
        return 0;
    return r->p[r->pos++];
}

static inline int8_t wire_read_i8(struct wire_reader *r) { return (int8_t)wire_read_u8(r); }

static inline uint16_t wire_read_u16(struct wire_reader *r)
{
    if (!wire_need(r, 2))
        return 0;
    const uint8_t *b = r->p + r->pos;
    r->pos += 2;
    return (uint16_t)((b[0] << 8) | b[1]);
}

static inline int16_t wire_read_i16(struct wire_reader *r) { return (int16_t)wire_read_u16(r); }

static inline uint32_t wire_read_u32(struct wire_reader *r)
{
    if (!wire_need(r, 4))
        return 0;
    const uint8_t *b = r->p + r->pos;
    r->pos += 4;
    return ((uint32_t)b[0] << 24) | ((uint32_t)b[1] << 16) | ((uint32_t)b[2] << 8) | b[3];
}

static inline int32_t wire_read_i32(struct wire_reader *r) { return (int32_t)wire_read_u32(r); }

static inline uint64_t wire_read_u64(struct wire_reader *r)
{
    uint64_t hi = wire_read_u32(r);
    uint64_t lo = wire_read_u32(r);
    return (hi << 32) | lo;
}

static inline int64_t wire_read_i64(struct wire_reader *r) { return (int64_t)wire_read_u64(r); }

static inline double wire_read_f64(struct wire_reader *r)
{
    uint64_t u = wire_read_u64(r);
    double d;
    memcpy(&d, &u, sizeof d);
    return d;
}

/* Unsigned LEB128 varint, at most 5 bytes for 32 bits. */
static inline uint32_t wire_read_uvarint(struct wire_reader *r)
{
    uint32_t v = 0;
    for (int shift = 0; shift <= 28; shift += 7) {
        uint8_t b = wire_read_u8(r);
        if (r->err)
            return 0;
        if (shift == 28 && (b & 0xf0)) {
            r->err = WIRE_EVARINT;
            return 0;
        }
        v |= (uint32_t)(b & 0x7f) << shift;
        if (!(b & 0x80))
            return v;
    }
    r->err = WIRE_EVARINT;
    return 0;
}

static inline uint64_t wire_read_uvarlong(struct wire_reader *r)
{
    uint64_t v = 0;
    for (int shift = 0; shift <= 63; shift += 7) {
        uint8_t b = wire_read_u8(r);
        if (r->err)
            return 0;
        if (shift == 63 && (b & 0xfe)) {
            r->err = WIRE_EVARINT;
            return 0;
        }
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80))
            return v;
    }
    r->err = WIRE_EVARINT;
    return 0;
}

/* Zig-zag signed varints as used inside record batches. */
static inline int32_t wire_read_varint(struct wire_reader *r)
{
    uint32_t u = wire_read_uvarint(r);
    return (int32_t)((u >> 1) ^ (~(u & 1) + 1));
}

static inline int64_t wire_read_varlong(struct wire_reader *r)
{
    uint64_t u = wire_read_uvarlong(r);
    return (int64_t)((u >> 1) ^ (~(u & 1) + 1));
}

/* Returns a pointer to the next n bytes and skips them, or NULL (err set). */
static inline const uint8_t *wire_read_raw(struct wire_reader *r, size_t n)
{
    if (!wire_need(r, n))
        return NULL;
    const uint8_t *p = r->p + r->pos;
    r->pos += n;
    return p;
}

/* ---- writer ---------------------------------------------------------- */

struct wire_filespan {
    size_t at;  /* position in the memory buffer where the span belongs */
    int fd;     /* borrowed: the owner keeps it open until the write is done */
    off_t off;
    size_t len;
};

struct wire_writer {
    uint8_t *buf;
    size_t len, cap;
    struct wire_filespan *spans;
    size_t nspans, spans_cap;
    size_t spans_len; /* sum of span lengths */
    int err;
};

static inline void wire_writer_init(struct wire_writer *w)
{
    memset(w, 0, sizeof *w);
}

static inline void wire_writer_free(struct wire_writer *w)
{
    free(w->buf);
    free(w->spans);
    memset(w, 0, sizeof *w);
}

static inline size_t wire_writer_total(const struct wire_writer *w)
{
    return w->len + w->spans_len;
}

static inline int wire_reserve(struct wire_writer *w, size_t n)
{
    if (w->err)
        return 0;
    if (w->cap - w->len >= n)
        return 1;
    size_t cap = w->cap ? w->cap : 256;
    while (cap - w->len < n)
        cap *= 2;
    uint8_t *nb = (uint8_t *)realloc(w->buf, cap);
    if (!nb) {
        w->err = WIRE_ENOMEM;
        return 0;
    }
    w->buf = nb;
    w->cap = cap;
    return 1;
}

static inline void wire_write_raw(struct wire_writer *w, const void *p, size_t n)
{
    if (n == 0 || !wire_reserve(w, n))
        return;
    memcpy(w->buf + w->len, p, n);
    w->len += n;
}

static inline void wire_write_u8(struct wire_writer *w, uint8_t v)
{
    if (!wire_reserve(w, 1))
        return;
    w->buf[w->len++] = v;
}

static inline void wire_write_i8(struct wire_writer *w, int8_t v) { wire_write_u8(w, (uint8_t)v); }

static inline void wire_write_u16(struct wire_writer *w, uint16_t v)
{
    uint8_t b[2] = { (uint8_t)(v >> 8), (uint8_t)v };
    wire_write_raw(w, b, 2);
}

static inline void wire_write_i16(struct wire_writer *w, int16_t v) { wire_write_u16(w, (uint16_t)v); }

static inline void wire_write_u32(struct wire_writer *w, uint32_t v)
{
    uint8_t b[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v };
    wire_write_raw(w, b, 4);
}

static inline void wire_write_i32(struct wire_writer *w, int32_t v) { wire_write_u32(w, (uint32_t)v); }

static inline void wire_write_u64(struct wire_writer *w, uint64_t v)
{
    wire_write_u32(w, (uint32_t)(v >> 32));
    wire_write_u32(w, (uint32_t)v);
}

static inline void wire_write_i64(struct wire_writer *w, int64_t v) { wire_write_u64(w, (uint64_t)v); }

static inline void wire_write_f64(struct wire_writer *w, double d)
{
    uint64_t u;
    memcpy(&u, &d, sizeof u);
    wire_write_u64(w, u);
}

static inline void wire_write_uvarlong(struct wire_writer *w, uint64_t v)
{
    uint8_t b[10];
    size_t n = 0;
    while (v >= 0x80) {
        b[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    b[n++] = (uint8_t)v;
    wire_write_raw(w, b, n);
}

static inline void wire_write_uvarint(struct wire_writer *w, uint32_t v) { wire_write_uvarlong(w, v); }

static inline void wire_write_varint(struct wire_writer *w, int32_t v)
{
    wire_write_uvarint(w, ((uint32_t)v << 1) ^ (uint32_t)(v >> 31));
}

static inline void wire_write_varlong(struct wire_writer *w, int64_t v)
{
    wire_write_uvarlong(w, ((uint64_t)v << 1) ^ (uint64_t)(v >> 63));
}

static inline size_t wire_uvarint_size(uint64_t v)
{
    size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}

static inline size_t wire_varlong_size(int64_t v)
{
    return wire_uvarint_size(((uint64_t)v << 1) ^ (uint64_t)(v >> 63));
}

/* Overwrite 4 bytes at an earlier position (length prefixes). */
static inline void wire_patch_i32(struct wire_writer *w, size_t at, int32_t v)
{
    if (w->err || at + 4 > w->len)
        return;
    uint32_t u = (uint32_t)v;
    w->buf[at] = (uint8_t)(u >> 24);
    w->buf[at + 1] = (uint8_t)(u >> 16);
    w->buf[at + 2] = (uint8_t)(u >> 8);
    w->buf[at + 3] = (uint8_t)u;
}

/* Append a file range at the current position; its bytes are sent by the
 * network layer straight from the file. */
static inline void wire_write_filespan(struct wire_writer *w, int fd, off_t off, size_t len)
{
    if (w->err || len == 0)
        return;
    if (w->nspans == w->spans_cap) {
        size_t cap = w->spans_cap ? w->spans_cap * 2 : 8;
        struct wire_filespan *ns =
            (struct wire_filespan *)realloc(w->spans, cap * sizeof *ns);
        if (!ns) {
            w->err = WIRE_ENOMEM;
            return;
        }
        w->spans = ns;
        w->spans_cap = cap;
    }
    struct wire_filespan *s = &w->spans[w->nspans++];
    s->at = w->len;
    s->fd = fd;
    s->off = off;
    s->len = len;
    w->spans_len += len;
}

#endif
