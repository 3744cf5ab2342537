#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "proto/kafka_schema.h"
#include "proto/kp_schema_check.h"

struct check {
    char *err;
    size_t errlen;
    int failed;
    json_t *structs; /* struct name -> JSON fields array */
};

__attribute__((format(printf, 2, 3))) static void fail(struct check *c, const char *fmt, ...)
{
    if (c->failed++)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->err, c->errlen, fmt, ap);
    va_end(ap);
}

char *kp_schema_strip_comments(const char *t, size_t n)
{
    char *out = malloc(n + 1);
    size_t o = 0;
    int in_str = 0;
    if (!out)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        char ch = t[i];
        if (in_str) {
            out[o++] = ch;
            if (ch == '\\' && i + 1 < n)
                out[o++] = t[++i];
            else if (ch == '"')
                in_str = 0;
        } else if (ch == '"') {
            in_str = 1;
            out[o++] = ch;
        } else if (ch == '/' && i + 1 < n && t[i + 1] == '/') {
            while (i < n && t[i] != '\n')
                i++;
            if (i < n)
                out[o++] = '\n';
        } else {
            out[o++] = ch;
        }
    }
    out[o] = '\0';
    return out;
}

/* "3+" -> [3,-1], "0-7", "5", "none"/absent -> [-1,-1]. */
static void parse_versions(json_t *j, int16_t *lo, int16_t *hi)
{
    *lo = *hi = -1;
    const char *s = json_string_value(j);
    if (!s || strcmp(s, "none") == 0)
        return;
    char *end;
    long a = strtol(s, &end, 10);
    *lo = (int16_t)a;
    if (*end == '+')
        *hi = -1;
    else if (*end == '-')
        *hi = (int16_t)strtol(end + 1, NULL, 10);
    else
        *hi = (int16_t)a;
}

static int in_range(int16_t v, int16_t lo, int16_t hi)
{
    return lo >= 0 && v >= lo && (hi < 0 || v <= hi);
}

static const struct {
    const char *name;
    uint8_t type;
} prims[] = {
    { "bool", KP_T_BOOL },     { "int8", KP_T_INT8 },       { "int16", KP_T_INT16 },
    { "uint16", KP_T_UINT16 }, { "int32", KP_T_INT32 },     { "uint32", KP_T_UINT32 },
    { "int64", KP_T_INT64 },   { "float64", KP_T_FLOAT64 }, { "uuid", KP_T_UUID },
    { "string", KP_T_STRING }, { "bytes", KP_T_BYTES },     { "records", KP_T_RECORDS },
};

static void collect_structs(struct check *c, json_t *fields)
{
    size_t i;
    json_t *f;
    json_array_foreach(fields, i, f) {
        json_t *sub = json_object_get(f, "fields");
        if (!sub)
            continue;
        const char *t = json_string_value(json_object_get(f, "type"));
        if (t && strncmp(t, "[]", 2) == 0)
            t += 2;
        if (t)
            json_object_set(c->structs, t, sub);
        collect_structs(c, sub);
    }
}

static int jfield_active(json_t *f, int16_t v)
{
    int16_t lo, hi;
    json_t *ver = json_object_get(f, "versions");
    parse_versions(ver ? ver : json_object_get(f, "taggedVersions"), &lo, &hi);
    return in_range(v, lo, hi);
}

static void check_default(struct check *c, const char *path, json_t *f, const struct kp_field *fd)
{
    json_t *d = json_object_get(f, "default");
    const char *ds = json_string_value(d);
    int is_null = ds && strcmp(ds, "null") == 0;
    if (!!fd->def_null != is_null) {
        fail(c, "%s: default null mismatch", path);
        return;
    }
    if (!d || is_null || fd->is_array || fd->type == KP_T_STRUCT)
        return;
    switch (fd->type) {
    case KP_T_BOOL: {
        int want = json_is_true(d) || (ds && strcasecmp(ds, "true") == 0);
        if ((fd->def_i != 0) != want)
            fail(c, "%s: bool default", path);
        break;
    }
    case KP_T_FLOAT64: {
        double want = ds ? strtod(ds, NULL) : json_number_value(d);
        if (fd->def_f != want)
            fail(c, "%s: float default", path);
        break;
    }
    case KP_T_STRING:
        if (strcmp(fd->def_s ? fd->def_s : "", ds ? ds : "") != 0)
            fail(c, "%s: string default '%s'", path, ds ? ds : "");
        break;
    case KP_T_BYTES:
    case KP_T_RECORDS:
    case KP_T_UUID:
        break;
    default: {
        long long want = ds ? strtoll(ds, NULL, 0) : (long long)json_integer_value(d);
        if (fd->def_i != want)
            fail(c, "%s: default %lld, descriptor has %lld", path, want, (long long)fd->def_i);
    }
    }
}

static void check_struct(struct check *c, json_t *jfields, const struct kp_struct *s, int16_t v,
                         const char *path);

static void check_field(struct check *c, json_t *f, const struct kp_field *fd, int16_t v,
                        const char *spath)
{
    char path[512];
    const char *name = json_string_value(json_object_get(f, "name"));
    snprintf(path, sizeof path, "%s.%s v%d", spath, name ? name : "?", v);
    if (!name || strcmp(name, fd->name) != 0) {
        fail(c, "%s: descriptor has field %s", path, fd->name);
        return;
    }
    const char *t = json_string_value(json_object_get(f, "type"));
    int is_array = t && strncmp(t, "[]", 2) == 0;
    if (is_array)
        t += 2;
    if (!t || is_array != fd->is_array) {
        fail(c, "%s: array-ness differs", path);
        return;
    }
    int type = KP_T_STRUCT;
    for (size_t i = 0; i < sizeof prims / sizeof prims[0]; i++)
        if (strcmp(t, prims[i].name) == 0)
            type = prims[i].type;
    if (type != fd->type) {
        fail(c, "%s: type %s, descriptor type %d", path, t, fd->type);
        return;
    }
    int16_t lo, hi;
    parse_versions(json_object_get(f, "nullableVersions"), &lo, &hi);
    if (in_range(v, lo, hi) != in_range(v, fd->nullable_min, fd->nullable_max))
        fail(c, "%s: nullability differs", path);
    parse_versions(json_object_get(f, "taggedVersions"), &lo, &hi);
    int tagged = in_range(v, lo, hi);
    if (tagged != in_range(v, fd->tagged_min, fd->tagged_max))
        fail(c, "%s: taggedness differs", path);
    /* Kafka's loader (Jackson) takes "tag": "2" as well as "tag": 2. */
    json_t *tag = json_object_get(f, "tag");
    long long tagv = json_is_string(tag) ? strtoll(json_string_value(tag), NULL, 10)
                                         : (long long)json_integer_value(tag);
    if (tagged && tagv != fd->tag)
        fail(c, "%s: tag differs", path);
    json_t *fx = json_object_get(f, "flexibleVersions");
    if (fx) {
        parse_versions(fx, &lo, &hi);
        if (fd->flex_min == KP_FLEX_INHERIT ||
            in_range(v, lo, hi) != in_range(v, fd->flex_min, fd->flex_max))
            fail(c, "%s: field flexibleVersions differ", path);
    } else if (fd->flex_min != KP_FLEX_INHERIT) {
        fail(c, "%s: descriptor has a flexibleVersions override", path);
    }
    check_default(c, path, f, fd);
    if (type == KP_T_STRUCT) {
        json_t *sub = json_object_get(f, "fields");
        if (!sub)
            sub = json_object_get(c->structs, t);
        if (!sub || !fd->sub || strcmp(fd->sub->name, t) != 0) {
            fail(c, "%s: nested struct %s not matched", path, t);
            return;
        }
        check_struct(c, sub, fd->sub, v, path);
    }
}

static void check_struct(struct check *c, json_t *jfields, const struct kp_struct *s, int16_t v,
                         const char *path)
{
    size_t nj = 0, i;
    json_t *f;
    uint16_t k = 0;
    json_array_foreach(jfields, i, f) {
        if (!jfield_active(f, v))
            continue;
        nj++;
        while (k < s->nfields && !in_range(v, s->fields[k].ver_min, s->fields[k].ver_max))
            k++;
        if (k == s->nfields) {
            fail(c, "%s v%d: JSON field %s missing from descriptor", path, v,
                 json_string_value(json_object_get(f, "name")));
            return;
        }
        check_field(c, f, &s->fields[k], v, path);
        k++;
    }
    for (; k < s->nfields; k++)
        if (in_range(v, s->fields[k].ver_min, s->fields[k].ver_max))
            fail(c, "%s v%d: descriptor field %s not in JSON", path, v, s->fields[k].name);
    (void)nj;
}

static const char *const kinds[] = {
    [KP_KIND_REQUEST] = "request",
    [KP_KIND_RESPONSE] = "response",
    [KP_KIND_HEADER] = "header",
    [KP_KIND_DATA] = "data",
    [KP_KIND_METADATA] = "metadata",
    [KP_KIND_COORDINATOR_KEY] = "coordinator-key",
    [KP_KIND_COORDINATOR_VALUE] = "coordinator-value",
};

int kp_schema_check_file(const char *path, int16_t vmin, int16_t vmax, char *err, size_t errlen)
{
    struct check c = { err, errlen, 0, NULL };
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    char *buf = NULL;
    size_t len = 0, cap = 0, n;
    do {
        if (cap - len < 4096) {
            char *nb = realloc(buf, cap = cap ? cap * 2 : 65536);
            if (!nb) {
                free(buf);
                fclose(fp);
                snprintf(err, errlen, "out of memory");
                return -1;
            }
            buf = nb;
        }
        n = fread(buf + len, 1, cap - len, fp);
        len += n;
    } while (n > 0);
    fclose(fp);
    char *text = kp_schema_strip_comments(buf, len);
    free(buf);
    json_error_t jerr;
    json_t *root = text ? json_loads(text, 0, &jerr) : NULL;
    free(text);
    if (!root) {
        snprintf(err, errlen, "%s: JSON error: %s", path, text ? jerr.text : "out of memory");
        return -1;
    }
    const char *name = json_string_value(json_object_get(root, "name"));
    const struct kp_message *m = name ? kp_message_by_name(name) : NULL;
    if (!m) {
        fail(&c, "%s: no descriptor for message %s", path, name ? name : "?");
        goto out;
    }
    const char *type = json_string_value(json_object_get(root, "type"));
    if (!type || m->kind >= sizeof kinds / sizeof kinds[0] || strcmp(kinds[m->kind], type) != 0)
        fail(&c, "%s: kind differs", name);
    json_t *key = json_object_get(root, "apiKey");
    if ((key ? json_integer_value(key) : -1) != m->api_key)
        fail(&c, "%s: apiKey differs", name);
    int16_t lo, hi;
    parse_versions(json_object_get(root, "validVersions"), &lo, &hi);
    if (lo != m->valid_min || hi != m->valid_max)
        fail(&c, "%s: validVersions %d-%d, descriptor %d-%d", name, lo, hi, m->valid_min,
             m->valid_max);
    parse_versions(json_object_get(root, "flexibleVersions"), &lo, &hi);
    if (lo != m->flexible_min || hi != -1)
        fail(&c, "%s: flexibleVersions differ", name);
    if (json_is_true(json_object_get(root, "latestVersionUnstable")) != m->latest_unstable)
        fail(&c, "%s: latestVersionUnstable differs", name);

    c.structs = json_object();
    json_t *cs;
    size_t i;
    json_array_foreach(json_object_get(root, "commonStructs"), i, cs) {
        json_object_set(c.structs, json_string_value(json_object_get(cs, "name")),
                        json_object_get(cs, "fields"));
        collect_structs(&c, json_object_get(cs, "fields"));
    }
    json_t *fields = json_object_get(root, "fields");
    collect_structs(&c, fields);
    for (int v = m->valid_min; v <= m->valid_max && !c.failed; v++) {
        if (v < vmin || (vmax >= 0 && v > vmax))
            continue;
        check_struct(&c, fields, m->body, (int16_t)v, name);
    }
    json_decref(c.structs);
out:
    json_decref(root);
    return c.failed ? 1 : 0;
}
