/* Table-driven Kafka codec.  The rules follow Kafka's generated Java
 * (MessageDataGenerator): non-flexible versions use int16-length strings and
 * int32-length bytes/arrays with -1 for null; flexible versions use compact
 * forms (unsigned varint of length+1, 0 for null) and end every struct with a
 * tagged-field section; nullable structs carry an int8 presence marker. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/kp_codec.h"

#define API_VERSIONS_KEY 18

static inline int field_active(const struct kp_field *fd, int16_t v)
{
    return kp_in_range(v, fd->ver_min, fd->ver_max);
}

static inline int field_tagged(const struct kp_field *fd, int16_t v)
{
    return kp_in_range(v, fd->tagged_min, fd->tagged_max);
}

static inline int field_nullable(const struct kp_field *fd, int16_t v)
{
    return kp_in_range(v, fd->nullable_min, fd->nullable_max);
}

static inline int field_flexible(const struct kp_field *fd, int16_t v, int msg_flex)
{
    if (fd->flex_min == KP_FLEX_INHERIT)
        return msg_flex;
    return kp_in_range(v, fd->flex_min, fd->flex_max);
}

/* A struct field that is nullable in some version is held by pointer. */
static inline int field_is_ptr(const struct kp_field *fd)
{
    return fd->type == KP_T_STRUCT && !fd->is_array && fd->nullable_min >= 0;
}

/* ---- defaults --------------------------------------------------------- */

static void store_int(uint8_t type, void *p, int64_t v)
{
    switch (type) {
    case KP_T_BOOL: *(bool *)p = v != 0; break;
    case KP_T_INT8: *(int8_t *)p = (int8_t)v; break;
    case KP_T_INT16: *(int16_t *)p = (int16_t)v; break;
    case KP_T_UINT16: *(uint16_t *)p = (uint16_t)v; break;
    case KP_T_INT32: *(int32_t *)p = (int32_t)v; break;
    case KP_T_UINT32: *(uint32_t *)p = (uint32_t)v; break;
    case KP_T_INT64: *(int64_t *)p = v; break;
    }
}

static int64_t load_int(uint8_t type, const void *p)
{
    switch (type) {
    case KP_T_BOOL: return *(const bool *)p;
    case KP_T_INT8: return *(const int8_t *)p;
    case KP_T_INT16: return *(const int16_t *)p;
    case KP_T_UINT16: return *(const uint16_t *)p;
    case KP_T_INT32: return *(const int32_t *)p;
    case KP_T_UINT32: return *(const uint32_t *)p;
    case KP_T_INT64: return *(const int64_t *)p;
    }
    return 0;
}

static void field_default(const struct kp_field *fd, void *obj)
{
    void *p = (char *)obj + fd->offset;
    if (fd->is_array) {
        struct kp_array *a = p;
        a->items = NULL;
        a->count = fd->def_null ? -1 : 0;
        return;
    }
    switch (fd->type) {
    case KP_T_STRUCT:
        if (field_is_ptr(fd))
            *(void **)p = NULL;
        else
            kp_struct_defaults(fd->sub, p);
        break;
    case KP_T_FLOAT64: *(double *)p = fd->def_f; break;
    case KP_T_UUID: memset(p, 0, sizeof(struct kp_uuid)); break;
    case KP_T_STRING: {
        struct kp_str *s = p;
        if (fd->def_null) {
            s->s = NULL;
            s->len = -1;
        } else {
            s->s = fd->def_s ? fd->def_s : "";
            s->len = (int32_t)strlen(s->s);
        }
        break;
    }
    case KP_T_BYTES: {
        struct kp_bytes *b = p;
        b->p = NULL;
        b->len = fd->def_null ? -1 : 0;
        break;
    }
    case KP_T_RECORDS: {
        struct kp_records *rec = p;
        memset(rec, 0, sizeof *rec);
        rec->len = fd->def_null ? -1 : 0;
        break;
    }
    default: store_int(fd->type, p, fd->def_i); break;
    }
}

void kp_struct_defaults(const struct kp_struct *s, void *obj)
{
    for (uint16_t i = 0; i < s->nfields; i++)
        field_default(&s->fields[i], obj);
}

/* ---- decoding --------------------------------------------------------- */

struct dctx {
    int16_t v;
    int flex;
    struct wire_reader *r;
    struct kp_arena *a;
};

static void fail_r(struct wire_reader *r, int err)
{
    if (!r->err)
        r->err = err;
}

/* A length or count prefix: >= 0, -1 for null, or -2 on error (r->err). */
static int64_t read_len(struct wire_reader *r, int flex, int i16)
{
    int64_t n;
    if (flex)
        n = (int64_t)wire_read_uvarint(r) - 1;
    else
        n = i16 ? wire_read_i16(r) : wire_read_i32(r);
    if (r->err)
        return -2;
    if (n < -1) {
        fail_r(r, WIRE_EINVAL);
        return -2;
    }
    return n;
}

static void dec_struct(struct dctx *c, const struct kp_struct *s, void *obj);

/* One value of fd's (element) type at p. */
static void dec_value(struct dctx *c, const struct kp_field *fd, int flex, int nullable, void *p)
{
    struct wire_reader *r = c->r;
    switch (fd->type) {
    case KP_T_BOOL: *(bool *)p = wire_read_u8(r) != 0; break;
    case KP_T_INT8: *(int8_t *)p = wire_read_i8(r); break;
    case KP_T_INT16: *(int16_t *)p = wire_read_i16(r); break;
    case KP_T_UINT16: *(uint16_t *)p = wire_read_u16(r); break;
    case KP_T_INT32: *(int32_t *)p = wire_read_i32(r); break;
    case KP_T_UINT32: *(uint32_t *)p = wire_read_u32(r); break;
    case KP_T_INT64: *(int64_t *)p = wire_read_i64(r); break;
    case KP_T_FLOAT64: *(double *)p = wire_read_f64(r); break;
    case KP_T_UUID: {
        const uint8_t *b = wire_read_raw(r, 16);
        if (b)
            memcpy(p, b, 16);
        break;
    }
    case KP_T_STRING: {
        struct kp_str *s = p;
        int64_t n = read_len(r, flex, 1);
        if (n < -1)
            return;
        if (n == -1) {
            if (!nullable)
                fail_r(r, WIRE_EINVAL);
            s->s = NULL;
            s->len = -1;
            return;
        }
        const uint8_t *b = wire_read_raw(r, (size_t)n);
        if (!b)
            return;
        char *d = kp_arena_strndup(c->a, (const char *)b, (size_t)n);
        if (!d) {
            fail_r(r, WIRE_ENOMEM);
            return;
        }
        s->s = d;
        s->len = (int32_t)n;
        break;
    }
    case KP_T_BYTES:
    case KP_T_RECORDS: {
        int64_t n = read_len(r, flex, 0);
        const uint8_t *b = NULL;
        if (n < -1)
            return;
        if (n == -1) {
            if (!nullable) {
                fail_r(r, WIRE_EINVAL);
                return;
            }
        } else if (!(b = wire_read_raw(r, (size_t)n))) {
            return;
        }
        if (fd->type == KP_T_BYTES) {
            struct kp_bytes *by = p;
            by->p = b;
            by->len = (int32_t)n;
        } else {
            struct kp_records *rec = p;
            rec->p = b;
            rec->len = (int32_t)n;
        }
        break;
    }
    case KP_T_STRUCT:
        dec_struct(c, fd->sub, p);
        break;
    default:
        fail_r(r, WIRE_EINVAL);
    }
}

static void dec_field(struct dctx *c, const struct kp_field *fd, void *obj)
{
    struct wire_reader *r = c->r;
    int flex = field_flexible(fd, c->v, c->flex);
    int nullable = field_nullable(fd, c->v);
    void *p = (char *)obj + fd->offset;

    if (fd->is_array) {
        struct kp_array *arr = p;
        int64_t n = read_len(r, flex, 0);
        if (n < -1)
            return;
        if (n == -1) {
            if (!nullable)
                fail_r(r, WIRE_EINVAL);
            arr->items = NULL;
            arr->count = -1;
            return;
        }
        /* Kafka's own check: a count the remaining bytes can't back is
         * malformed, which bounds what a hostile count can allocate. */
        if ((uint64_t)n > wire_remaining(r)) {
            fail_r(r, WIRE_EINVAL);
            return;
        }
        uint8_t *items = NULL;
        if (n > 0) {
            items = kp_arena_alloc(c->a, (size_t)n * fd->size);
            if (!items) {
                fail_r(r, WIRE_ENOMEM);
                return;
            }
        }
        arr->items = items;
        arr->count = (int32_t)n;
        for (int64_t i = 0; i < n && !r->err; i++)
            dec_value(c, fd, flex, 0, items + (size_t)i * fd->size);
        return;
    }
    if (field_is_ptr(fd)) {
        void **pp = p;
        *pp = NULL;
        if (nullable) {
            int8_t marker = wire_read_i8(r);
            if (r->err || marker < 0)
                return;
        }
        void *sub = kp_arena_alloc(c->a, fd->sub->size);
        if (!sub) {
            fail_r(r, WIRE_ENOMEM);
            return;
        }
        dec_struct(c, fd->sub, sub);
        *pp = sub;
        return;
    }
    dec_value(c, fd, flex, nullable, p);
}

static const struct kp_field *find_tag(const struct kp_struct *s, int16_t v, uint32_t tag)
{
    for (uint16_t i = 0; i < s->nfields; i++) {
        const struct kp_field *fd = &s->fields[i];
        if (fd->tag >= 0 && (uint32_t)fd->tag == tag && field_tagged(fd, v) && field_active(fd, v))
            return fd;
    }
    return NULL;
}

static void dec_tagged(struct dctx *c, const struct kp_struct *s, void *obj)
{
    struct wire_reader *r = c->r;
    uint32_t ntags = wire_read_uvarint(r);
    for (uint32_t i = 0; i < ntags && !r->err; i++) {
        uint32_t tag = wire_read_uvarint(r);
        uint32_t size = wire_read_uvarint(r);
        const uint8_t *body = wire_read_raw(r, size);
        if (!body)
            return;
        const struct kp_field *fd = find_tag(s, c->v, tag);
        if (!fd)
            continue; /* unknown tags are skipped, which is their point */
        /* A known tag is decoded from exactly its own bytes. */
        struct wire_reader sub;
        wire_reader_init(&sub, body, size);
        c->r = &sub;
        dec_field(c, fd, obj);
        c->r = r;
        if (sub.err)
            fail_r(r, sub.err);
    }
}

static void dec_struct(struct dctx *c, const struct kp_struct *s, void *obj)
{
    for (uint16_t i = 0; i < s->nfields && !c->r->err; i++) {
        const struct kp_field *fd = &s->fields[i];
        if (!field_active(fd, c->v) || field_tagged(fd, c->v))
            field_default(fd, obj);
        else
            dec_field(c, fd, obj);
    }
    if (c->flex && !c->r->err)
        dec_tagged(c, s, obj);
}

int kp_decode(const struct kp_message *m, int16_t version, struct wire_reader *r, void *out,
              struct kp_arena *a)
{
    if (r->err)
        return -r->err;
    if (!kp_message_has_version(m, version)) {
        r->err = WIRE_EINVAL;
        return -WIRE_EINVAL;
    }
    struct dctx c = { version, kp_message_is_flexible(m, version), r, a };
    dec_struct(&c, m->body, out);
    return r->err ? -r->err : 0;
}

/* ---- encoding --------------------------------------------------------- */

struct ectx {
    int16_t v;
    int flex;
    struct wire_writer *w;
};

static void fail_w(struct wire_writer *w, int err)
{
    if (!w->err)
        w->err = err;
}

static void write_len(struct wire_writer *w, int flex, int i16, int64_t n)
{
    if (flex)
        wire_write_uvarint(w, (uint32_t)(n + 1));
    else if (i16)
        wire_write_i16(w, (int16_t)n);
    else
        wire_write_i32(w, (int32_t)n);
}

static void enc_struct(struct ectx *c, const struct kp_struct *s, const void *obj);

static void enc_value(struct ectx *c, const struct kp_field *fd, int flex, int nullable,
                      const void *p)
{
    struct wire_writer *w = c->w;
    switch (fd->type) {
    case KP_T_BOOL: wire_write_u8(w, *(const bool *)p ? 1 : 0); break;
    case KP_T_INT8: wire_write_i8(w, *(const int8_t *)p); break;
    case KP_T_INT16: wire_write_i16(w, *(const int16_t *)p); break;
    case KP_T_UINT16: wire_write_u16(w, *(const uint16_t *)p); break;
    case KP_T_INT32: wire_write_i32(w, *(const int32_t *)p); break;
    case KP_T_UINT32: wire_write_u32(w, *(const uint32_t *)p); break;
    case KP_T_INT64: wire_write_i64(w, *(const int64_t *)p); break;
    case KP_T_FLOAT64: wire_write_f64(w, *(const double *)p); break;
    case KP_T_UUID: wire_write_raw(w, p, 16); break;
    case KP_T_STRING: {
        const struct kp_str *s = p;
        if (s->len < 0) {
            if (!nullable)
                fail_w(w, WIRE_EINVAL);
            write_len(w, flex, 1, -1);
        } else if ((s->len > 0 && !s->s) || (!flex && s->len > INT16_MAX)) {
            fail_w(w, WIRE_EINVAL);
        } else {
            write_len(w, flex, 1, s->len);
            wire_write_raw(w, s->s, (size_t)s->len);
        }
        break;
    }
    case KP_T_BYTES: {
        const struct kp_bytes *b = p;
        if (b->len < 0) {
            if (!nullable)
                fail_w(w, WIRE_EINVAL);
            write_len(w, flex, 0, -1);
        } else if (b->len > 0 && !b->p) {
            fail_w(w, WIRE_EINVAL);
        } else {
            write_len(w, flex, 0, b->len);
            wire_write_raw(w, b->p, (size_t)b->len);
        }
        break;
    }
    case KP_T_RECORDS: {
        const struct kp_records *rec = p;
        if (rec->spans) {
            /* Fetch: the bytes stay in the segment file and go out with
             * sendfile; only the length prefix is in memory. */
            int64_t total = 0;
            for (int32_t i = 0; i < rec->nspans; i++)
                total += (int64_t)rec->spans[i].len;
            if (rec->nspans < 0 || total != rec->len) {
                fail_w(w, WIRE_EINVAL);
                break;
            }
            write_len(w, flex, 0, rec->len);
            for (int32_t i = 0; i < rec->nspans; i++)
                wire_write_filespan(w, rec->spans[i].fd, rec->spans[i].off, rec->spans[i].len);
        } else if (rec->len < 0) {
            if (!nullable)
                fail_w(w, WIRE_EINVAL);
            write_len(w, flex, 0, -1);
        } else if (rec->len > 0 && !rec->p) {
            fail_w(w, WIRE_EINVAL);
        } else {
            write_len(w, flex, 0, rec->len);
            wire_write_raw(w, rec->p, (size_t)rec->len);
        }
        break;
    }
    case KP_T_STRUCT:
        enc_struct(c, fd->sub, p);
        break;
    default:
        fail_w(w, WIRE_EINVAL);
    }
}

static void enc_field(struct ectx *c, const struct kp_field *fd, const void *obj)
{
    struct wire_writer *w = c->w;
    int flex = field_flexible(fd, c->v, c->flex);
    int nullable = field_nullable(fd, c->v);
    const void *p = (const char *)obj + fd->offset;

    if (fd->is_array) {
        const struct kp_array *arr = p;
        if (arr->count < 0) {
            if (!nullable)
                fail_w(w, WIRE_EINVAL);
            write_len(w, flex, 0, -1);
            return;
        }
        if (arr->count > 0 && !arr->items) {
            fail_w(w, WIRE_EINVAL);
            return;
        }
        write_len(w, flex, 0, arr->count);
        for (int32_t i = 0; i < arr->count && !w->err; i++)
            enc_value(c, fd, flex, 0, (const uint8_t *)arr->items + (size_t)i * fd->size);
        return;
    }
    if (field_is_ptr(fd)) {
        const void *sub = *(void *const *)p;
        if (nullable) {
            wire_write_i8(w, sub ? 1 : -1);
            if (sub)
                enc_struct(c, fd->sub, sub);
            return;
        }
        if (sub) {
            enc_struct(c, fd->sub, sub);
            return;
        }
        /* Not nullable in this version: a NULL stands for the defaults. */
        void *def = calloc(1, fd->sub->size);
        if (!def) {
            fail_w(w, WIRE_ENOMEM);
            return;
        }
        kp_struct_defaults(fd->sub, def);
        enc_struct(c, fd->sub, def);
        free(def);
        return;
    }
    enc_value(c, fd, flex, nullable, p);
}

static int struct_is_default(const struct kp_struct *s, int16_t v, const void *obj);

/* Whether a tagged field holds its default, in which case it is left out. */
static int field_is_default(const struct kp_field *fd, int16_t v, const void *obj)
{
    const void *p = (const char *)obj + fd->offset;
    if (fd->is_array) {
        const struct kp_array *a = p;
        return a->count == (fd->def_null ? -1 : 0);
    }
    switch (fd->type) {
    case KP_T_STRUCT:
        if (field_is_ptr(fd))
            return *(void *const *)p == NULL;
        return struct_is_default(fd->sub, v, p);
    case KP_T_FLOAT64: return *(const double *)p == fd->def_f;
    case KP_T_UUID: {
        static const uint8_t zero[16];
        return memcmp(p, zero, 16) == 0;
    }
    case KP_T_STRING: {
        const struct kp_str *s = p;
        if (fd->def_null)
            return s->len < 0;
        const char *d = fd->def_s ? fd->def_s : "";
        size_t dl = strlen(d);
        return s->len >= 0 && (size_t)s->len == dl && (dl == 0 || memcmp(s->s, d, dl) == 0);
    }
    case KP_T_BYTES: {
        const struct kp_bytes *b = p;
        return fd->def_null ? b->len < 0 : b->len == 0;
    }
    case KP_T_RECORDS: {
        const struct kp_records *rec = p;
        return fd->def_null ? rec->len < 0 : rec->len == 0;
    }
    case KP_T_BOOL: return (*(const bool *)p) == (fd->def_i != 0);
    default: return load_int(fd->type, p) == fd->def_i;
    }
}

static int struct_is_default(const struct kp_struct *s, int16_t v, const void *obj)
{
    for (uint16_t i = 0; i < s->nfields; i++)
        if (field_active(&s->fields[i], v) && !field_is_default(&s->fields[i], v, obj))
            return 0;
    return 1;
}

static void enc_tagged(struct ectx *c, const struct kp_struct *s, const void *obj)
{
    struct wire_writer *w = c->w;
    uint32_t n = 0;
    for (uint16_t i = 0; i < s->nfields; i++) {
        const struct kp_field *fd = &s->fields[i];
        if (field_active(fd, c->v) && field_tagged(fd, c->v) && !field_is_default(fd, c->v, obj))
            n++;
    }
    wire_write_uvarint(w, n);
    /* Kafka writes tags in ascending order; the descriptor keeps the JSON
     * order, so pick the next-smallest each round (n is tiny). */
    int64_t last = -1;
    for (uint32_t k = 0; k < n && !w->err; k++) {
        const struct kp_field *next = NULL;
        for (uint16_t i = 0; i < s->nfields; i++) {
            const struct kp_field *fd = &s->fields[i];
            if (fd->tag > last && (!next || fd->tag < next->tag) && field_active(fd, c->v) &&
                field_tagged(fd, c->v) && !field_is_default(fd, c->v, obj))
                next = fd;
        }
        if (!next)
            break;
        last = next->tag;
        /* The size prefix comes first, so encode into a scratch writer. */
        struct wire_writer tmp;
        wire_writer_init(&tmp);
        c->w = &tmp;
        enc_field(c, next, obj);
        c->w = w;
        if (tmp.err || tmp.nspans)
            fail_w(w, tmp.err ? tmp.err : WIRE_EINVAL);
        wire_write_uvarint(w, (uint32_t)next->tag);
        wire_write_uvarint(w, (uint32_t)tmp.len);
        wire_write_raw(w, tmp.buf, tmp.len);
        wire_writer_free(&tmp);
    }
}

static void enc_struct(struct ectx *c, const struct kp_struct *s, const void *obj)
{
    for (uint16_t i = 0; i < s->nfields && !c->w->err; i++) {
        const struct kp_field *fd = &s->fields[i];
        if (field_active(fd, c->v) && !field_tagged(fd, c->v))
            enc_field(c, fd, obj);
    }
    if (c->flex && !c->w->err)
        enc_tagged(c, s, obj);
}

int kp_encode(const struct kp_message *m, int16_t version, const void *in, struct wire_writer *w)
{
    if (w->err)
        return -w->err;
    if (!kp_message_has_version(m, version)) {
        w->err = WIRE_EINVAL;
        return -WIRE_EINVAL;
    }
    struct ectx c = { version, kp_message_is_flexible(m, version), w };
    enc_struct(&c, m->body, in);
    return w->err ? -w->err : 0;
}

/* ---- headers ---------------------------------------------------------- */

int kp_request_is_flexible(int16_t api_key, int16_t version)
{
    const struct kp_message *m = kp_request_message(api_key);
    return m && kp_message_has_version(m, version) && kp_message_is_flexible(m, version);
}

int kp_decode_request_header(struct wire_reader *r, struct kp_request_header *h,
                             struct kp_arena *a)
{
    h->ApiKey = wire_read_i16(r);
    h->ApiVersion = wire_read_i16(r);
    h->CorrelationId = wire_read_i32(r);
    /* ClientId keeps the int16 length even in header v2 (the schema's
     * field-level "flexibleVersions": "none"). */
    int64_t n = read_len(r, 0, 1);
    h->ClientId.s = NULL;
    h->ClientId.len = -1;
    if (n >= 0) {
        const uint8_t *b = wire_read_raw(r, (size_t)n);
        if (b) {
            char *d = kp_arena_strndup(a, (const char *)b, (size_t)n);
            if (!d) {
                fail_r(r, WIRE_ENOMEM);
            } else {
                h->ClientId.s = d;
                h->ClientId.len = (int32_t)n;
            }
        }
    }
    if (!r->err && kp_request_is_flexible(h->ApiKey, h->ApiVersion)) {
        /* Header v2 defines no tagged fields yet: skip whatever is there. */
        uint32_t ntags = wire_read_uvarint(r);
        for (uint32_t i = 0; i < ntags && !r->err; i++) {
            (void)wire_read_uvarint(r);
            uint32_t size = wire_read_uvarint(r);
            (void)wire_read_raw(r, size);
        }
    }
    return r->err ? -r->err : 0;
}

void kp_encode_response_header(struct wire_writer *w, int16_t api_key, int16_t version,
                               int32_t correlation_id)
{
    wire_write_i32(w, correlation_id);
    if (api_key != API_VERSIONS_KEY && kp_request_is_flexible(api_key, version))
        wire_write_uvarint(w, 0);
}
