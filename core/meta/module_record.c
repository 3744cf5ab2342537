/* SluiceModuleRecord: wire format and the image's (module, key) -> value
 * map (see module_record.h). */
#include "meta/module_record.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "meta/metadata_image.h"

/* ---------------------------------------------------------------------- */
/* Checks                                                                  */

static int valid_module(const char *s, size_t n)
{
    if (n == 0 || n > MODULE_RECORD_MAX_MODULE)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
            return 0;
    }
    return 1;
}

int module_record_check(const struct meta_module_record *rec, char *err, size_t errlen)
{
    if (!rec->module || !valid_module(rec->module, strlen(rec->module))) {
        snprintf(err, errlen, "invalid module name '%s'", rec->module ? rec->module : "(null)");
        return -1;
    }
    size_t kl = rec->key ? strlen(rec->key) : 0;
    if (kl == 0 || kl > MODULE_RECORD_MAX_KEY) {
        snprintf(err, errlen, "record key must be 1..%d bytes (got %zu)", MODULE_RECORD_MAX_KEY,
                 kl);
        return -1;
    }
    if (rec->value_len > MODULE_RECORD_MAX_VALUE || (rec->value_len > 0 && !rec->value)) {
        snprintf(err, errlen, "record value must be 0..%d bytes (got %d)",
                 MODULE_RECORD_MAX_VALUE, rec->value_len);
        return -1;
    }
    return 0;
}

/* ---------------------------------------------------------------------- */
/* Wire format                                                             */

static void write_compact(struct wire_writer *w, const void *p, size_t n)
{
    wire_write_uvarint(w, (uint32_t)n + 1);
    wire_write_raw(w, p, n);
}

int module_record_encode(struct wire_writer *w, int16_t version,
                         const struct meta_module_record *rec)
{
    char err[128];
    if (version != MODULE_RECORD_VERSION || module_record_check(rec, err, sizeof err) != 0)
        return -1;
    write_compact(w, rec->module, strlen(rec->module));
    write_compact(w, rec->key, strlen(rec->key));
    if (rec->value_len < 0)
        wire_write_uvarint(w, 0);
    else
        write_compact(w, rec->value, (size_t)rec->value_len);
    wire_write_uvarint(w, 0); /* no tagged fields */
    return w->err ? -1 : 0;
}

/* A compact string/bytes: uvarint length+1 (0 = null), then the bytes.
 * Returns the length, -1 for null, or -2 on error or over `max`. */
static int64_t read_compact(struct wire_reader *r, size_t max, const uint8_t **p)
{
    uint32_t n = wire_read_uvarint(r);
    if (r->err)
        return -2;
    if (n == 0) {
        *p = NULL;
        return -1;
    }
    if ((size_t)n - 1 > max)
        return -2;
    *p = wire_read_raw(r, n - 1);
    return *p || n == 1 ? (int64_t)n - 1 : -2;
}

int module_record_decode(struct wire_reader *r, int16_t version, struct kp_arena *a,
                         struct meta_module_record *out)
{
    if (version != MODULE_RECORD_VERSION)
        return -1;
    const uint8_t *mp, *kp, *vp;
    int64_t ml = read_compact(r, MODULE_RECORD_MAX_MODULE, &mp);
    if (ml <= 0 || !valid_module((const char *)mp, (size_t)ml))
        return -1;
    int64_t kl = read_compact(r, MODULE_RECORD_MAX_KEY, &kp);
    if (kl <= 0 || memchr(kp, '\0', (size_t)kl))
        return -1;
    int64_t vl = read_compact(r, MODULE_RECORD_MAX_VALUE, &vp);
    if (vl < -1)
        return -1;
    /* Tagged fields: none are defined in v0; skip unknown ones. */
    uint32_t ntags = wire_read_uvarint(r);
    for (uint32_t i = 0; i < ntags && !r->err; i++) {
        (void)wire_read_uvarint(r); /* tag */
        uint32_t sz = wire_read_uvarint(r);
        if (!r->err)
            (void)wire_read_raw(r, sz);
    }
    if (r->err || wire_remaining(r) != 0)
        return -1;
    out->module = kp_arena_strndup(a, (const char *)mp, (size_t)ml);
    out->key = kp_arena_strndup(a, (const char *)kp, (size_t)kl);
    out->value = NULL;
    out->value_len = (int32_t)vl;
    if (vl >= 0) {
        uint8_t *v = kp_arena_alloc(a, vl ? (size_t)vl : 1);
        if (v && vl)
            memcpy(v, vp, (size_t)vl);
        out->value = v;
    }
    if (!out->module || !out->key || (vl >= 0 && !out->value))
        return -1;
    return 0;
}

/* ---------------------------------------------------------------------- */
/* Image                                                                   */

struct module_value {
    char *mkey; /* "<module>:<key>"; module names have no ':' so it splits */
    uint8_t *data;
    size_t len;
};

static char *make_mkey(const char *module, const char *key)
{
    size_t ml = strlen(module), kl = strlen(key);
    char *s = malloc(ml + kl + 2);
    if (!s)
        return NULL;
    memcpy(s, module, ml);
    s[ml] = ':';
    memcpy(s + ml + 1, key, kl + 1);
    return s;
}

static void value_free(struct module_value *v)
{
    free(v->mkey);
    free(v->data);
    free(v);
}

void meta_module_records_init(struct meta_image *img) { strmap_init(&img->module_records); }

void meta_module_records_free(struct meta_image *img)
{
    size_t it = 0;
    void *v;
    while (strmap_next(&img->module_records, &it, NULL, &v))
        value_free(v);
    strmap_free(&img->module_records);
}

int meta_image_apply_module_record(struct meta_image *img, const struct meta_module_record *rec)
{
    char err[128];
    if (module_record_check(rec, err, sizeof err) != 0)
        return -1;
    char *mkey = make_mkey(rec->module, rec->key);
    if (!mkey)
        return -1;
    struct module_value *old = strmap_get(&img->module_records, mkey);
    if (rec->value_len < 0) {
        if (old) {
            strmap_del(&img->module_records, mkey);
            value_free(old);
        }
        free(mkey);
        img->version++;
        return 0;
    }
    struct module_value *nv = calloc(1, sizeof *nv);
    uint8_t *data = malloc(rec->value_len ? (size_t)rec->value_len : 1);
    if (!nv || !data) {
        free(nv);
        free(data);
        free(mkey);
        return -1;
    }
    if (rec->value_len)
        memcpy(data, rec->value, (size_t)rec->value_len);
    nv->mkey = mkey;
    nv->data = data;
    nv->len = (size_t)rec->value_len;
    /* The map borrows the key from the value: replace, then free the old. */
    if (strmap_put(&img->module_records, nv->mkey, nv) < 0) {
        value_free(nv);
        return -1;
    }
    if (old)
        value_free(old);
    img->version++;
    return 0;
}

const uint8_t *meta_module_record_get(const struct meta_image *img, const char *module,
                                      const char *key, size_t *len)
{
    char *mkey = make_mkey(module, key);
    if (!mkey)
        return NULL;
    const struct module_value *v = strmap_get(&img->module_records, mkey);
    free(mkey);
    if (!v)
        return NULL;
    if (len)
        *len = v->len;
    return v->data;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int meta_module_records_iterate(const struct meta_image *img, const char *module,
                                const char *prefix,
                                int (*cb)(void *ud, const char *key, const uint8_t *value,
                                          size_t len),
                                void *ud)
{
    char *mprefix = make_mkey(module, prefix ? prefix : "");
    if (!mprefix)
        return -1;
    size_t plen = strlen(mprefix), n = 0, cap = 0;
    char **keys = NULL;
    size_t it = 0;
    const char *k;
    void *v;
    int rc = 0;
    while (strmap_next(&img->module_records, &it, &k, &v)) {
        if (strncmp(k, mprefix, plen) != 0)
            continue;
        if (n == cap) {
            size_t nc = cap ? cap * 2 : 16;
            char **nk = realloc(keys, nc * sizeof *nk);
            if (!nk) {
                rc = -1;
                goto out;
            }
            keys = nk;
            cap = nc;
        }
        if (!(keys[n] = strdup(k))) {
            rc = -1;
            goto out;
        }
        n++;
    }
    if (n)
        qsort(keys, n, sizeof *keys, cmp_str);
    size_t mlen = strlen(module) + 1;
    for (size_t i = 0; i < n && rc == 0; i++) {
        const struct module_value *mv = strmap_get(&img->module_records, keys[i]);
        if (mv)
            rc = cb(ud, keys[i] + mlen, mv->data, mv->len);
    }
out:
    for (size_t i = 0; i < n; i++)
        free(keys[i]);
    free(keys);
    free(mprefix);
    return rc;
}

size_t meta_module_record_count(const struct meta_image *img, const char *module)
{
    if (!module)
        return img->module_records.count;
    size_t ml = strlen(module), n = 0, it = 0;
    const char *k;
    void *v;
    while (strmap_next(&img->module_records, &it, &k, &v))
        if (strncmp(k, module, ml) == 0 && k[ml] == ':')
            n++;
    return n;
}
