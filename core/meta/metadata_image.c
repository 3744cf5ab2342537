#include "meta/metadata_image.h"
#include "meta/module_record.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

void meta_image_init(struct meta_image *img)
{
    memset(img, 0, sizeof *img);
    strmap_init(&img->by_name);
    meta_module_records_init(img);
}

void meta_configs_free(struct meta_configs *c)
{
    for (size_t i = 0; i < c->n; i++) {
        free(c->v[i].name);
        free(c->v[i].value);
    }
    free(c->v);
    memset(c, 0, sizeof *c);
}

static void meta_topic_free(struct meta_topic *t)
{
    for (int32_t i = 0; i < t->nparts; i++) {
        free(t->parts[i].replicas);
        free(t->parts[i].isr);
    }
    free(t->parts);
    meta_configs_free(&t->configs);
    free(t->name);
    free(t);
}

void meta_image_free(struct meta_image *img)
{
    size_t it = 0;
    void *v;
    while (strmap_next(&img->by_name, &it, NULL, &v))
        meta_topic_free(v);
    strmap_free(&img->by_name);
    meta_configs_free(&img->broker_configs);
    meta_module_records_free(img);
}

struct meta_topic *meta_image_topic(const struct meta_image *img, const char *name)
{
    return strmap_get(&img->by_name, name);
}

struct meta_topic *meta_image_topic_by_id(const struct meta_image *img, const struct meta_uuid *id)
{
    /* Topic-id lookups (Fetch v13+, RemoveTopicRecord) are rarer than name
     * lookups; a linear scan keeps one index to maintain. */
    size_t it = 0;
    void *v;
    while (strmap_next(&img->by_name, &it, NULL, &v)) {
        struct meta_topic *t = v;
        if (memcmp(t->id.b, id->b, 16) == 0)
            return t;
    }
    return NULL;
}

size_t meta_image_topic_count(const struct meta_image *img)
{
    return img->by_name.count;
}

struct meta_topic *meta_image_next_topic(const struct meta_image *img, size_t *iter)
{
    void *v;
    return strmap_next(&img->by_name, iter, NULL, &v) ? v : NULL;
}

int meta_image_apply_topic(struct meta_image *img, const char *name, const struct meta_uuid *id)
{
    if (meta_image_topic(img, name))
        return -1;
    struct meta_topic *t = calloc(1, sizeof *t);
    if (!t || !(t->name = strdup(name))) {
        free(t);
        return -1;
    }
    t->id = *id;
    if (strmap_put(&img->by_name, t->name, t) < 0) {
        meta_topic_free(t);
        return -1;
    }
    img->version++;
    return 0;
}

static int32_t *dup_ids(const int32_t *v, int32_t n)
{
    int32_t *d = malloc((n ? n : 1) * sizeof *d);
    if (d && n)
        memcpy(d, v, n * sizeof *d);
    return d;
}

int meta_image_apply_partition(struct meta_image *img, const struct meta_uuid *topic_id,
                               int32_t partition, const int32_t *replicas, int32_t nreplicas,
                               const int32_t *isr, int32_t nisr, int32_t leader,
                               int32_t leader_epoch, int32_t partition_epoch)
{
    struct meta_topic *t = meta_image_topic_by_id(img, topic_id);
    if (!t || partition < 0)
        return -1;
    if (partition >= t->nparts) {
        struct meta_partition *np = realloc(t->parts, (partition + 1) * sizeof *np);
        if (!np)
            return -1;
        memset(np + t->nparts, 0, (partition + 1 - t->nparts) * sizeof *np);
        for (int32_t i = t->nparts; i <= partition; i++)
            np[i].id = i;
        t->parts = np;
        t->nparts = partition + 1;
    }
    struct meta_partition *p = &t->parts[partition];
    int32_t *r = dup_ids(replicas, nreplicas), *s = dup_ids(isr, nisr);
    if (!r || !s) {
        free(r);
        free(s);
        return -1;
    }
    free(p->replicas);
    free(p->isr);
    p->replicas = r;
    p->nreplicas = nreplicas;
    p->isr = s;
    p->nisr = nisr;
    p->leader = leader;
    p->leader_epoch = leader_epoch;
    p->partition_epoch = partition_epoch;
    img->version++;
    return 0;
}

const char *meta_configs_get(const struct meta_configs *c, const char *name)
{
    for (size_t i = 0; i < c->n; i++)
        if (strcmp(c->v[i].name, name) == 0)
            return c->v[i].value;
    return NULL;
}

int meta_configs_set(struct meta_configs *c, const char *name, const char *value)
{
    for (size_t i = 0; i < c->n; i++) {
        if (strcmp(c->v[i].name, name) != 0)
            continue;
        if (!value) {
            free(c->v[i].name);
            free(c->v[i].value);
            c->v[i] = c->v[--c->n];
            return 0;
        }
        char *nv = strdup(value);
        if (!nv)
            return -1;
        free(c->v[i].value);
        c->v[i].value = nv;
        return 0;
    }
    if (!value)
        return 0;
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 4;
        struct meta_config_entry *nv = realloc(c->v, cap * sizeof *nv);
        if (!nv)
            return -1;
        c->v = nv;
        c->cap = cap;
    }
    char *n = strdup(name), *v = strdup(value);
    if (!n || !v) {
        free(n);
        free(v);
        return -1;
    }
    c->v[c->n].name = n;
    c->v[c->n].value = v;
    c->n++;
    return 0;
}

int meta_image_apply_config(struct meta_image *img, int8_t resource_type, const char *resource_name,
                            const char *name, const char *value)
{
    struct meta_configs *c;
    if (resource_type == META_RESOURCE_TOPIC) {
        struct meta_topic *t = meta_image_topic(img, resource_name);
        if (!t)
            return -1;
        c = &t->configs;
    } else if (resource_type == META_RESOURCE_BROKER) {
        c = &img->broker_configs;
    } else {
        return -1;
    }
    if (meta_configs_set(c, name, value) < 0)
        return -1;
    img->version++;
    return 0;
}

int meta_image_apply_remove_topic(struct meta_image *img, const struct meta_uuid *id)
{
    struct meta_topic *t = meta_image_topic_by_id(img, id);
    if (!t)
        return -1;
    strmap_del(&img->by_name, t->name);
    meta_topic_free(t);
    img->version++;
    return 0;
}

bool meta_uuid_is_zero(const struct meta_uuid *u)
{
    static const uint8_t zero[16];
    return memcmp(u->b, zero, 16) == 0;
}

void meta_uuid_to_base64(const struct meta_uuid *u, char out[23])
{
    static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    size_t o = 0;
    for (int i = 0; i < 16; i += 3) {
        uint32_t v = (uint32_t)u->b[i] << 16;
        if (i + 1 < 16)
            v |= (uint32_t)u->b[i + 1] << 8;
        if (i + 2 < 16)
            v |= u->b[i + 2];
        out[o++] = tbl[(v >> 18) & 63];
        out[o++] = tbl[(v >> 12) & 63];
        if (i + 1 < 16)
            out[o++] = tbl[(v >> 6) & 63];
        if (i + 2 < 16)
            out[o++] = tbl[v & 63];
    }
    out[o] = '\0';
}

void meta_uuid_random(struct meta_uuid *u)
{
    /* A version-4 UUID, never the zero or "metadata topic" reserved ids. */
    do {
        if (getrandom(u->b, 16, 0) != 16) {
            int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
            if (fd < 0 || read(fd, u->b, 16) != 16)
                abort(); /* no entropy source at all: nothing sane to do */
            close(fd);
        }
        u->b[6] = (u->b[6] & 0x0f) | 0x40;
        u->b[8] = (u->b[8] & 0x3f) | 0x80;
    } while (meta_uuid_is_zero(u));
}
