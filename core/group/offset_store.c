#include "group/offset_store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct group_offsets {
    char *group;
    struct strmap slots; /* key -> struct offset_slot * */
};

void offset_store_init(struct offset_store *s)
{
    strmap_init(&s->groups);
    s->txn_pending = NULL;
    s->append_seq = 0;
}

static void slot_free(struct offset_slot *sl)
{
    free(sl->e.metadata);
    free(sl->key);
    free(sl);
}

static void group_offsets_free(struct group_offsets *g)
{
    size_t it = 0;
    void *v;
    while (strmap_next(&g->slots, &it, NULL, &v))
        slot_free(v);
    strmap_free(&g->slots);
    free(g->group);
    free(g);
}

void offset_store_free(struct offset_store *s)
{
    size_t it = 0;
    void *v;
    while (strmap_next(&s->groups, &it, NULL, &v))
        group_offsets_free(v);
    strmap_free(&s->groups);
    while (s->txn_pending) {
        struct offset_txn_pending *p = s->txn_pending;
        s->txn_pending = p->next;
        free(p->group);
        free(p->topic);
        free(p->e.metadata);
        free(p);
    }
}

static char *slot_key(const char *topic, int32_t partition, char *buf, size_t len)
{
    size_t need = (size_t)snprintf(buf, len, "%d:%s", partition, topic);
    if (need < len)
        return buf;
    char *k = malloc(need + 1);
    if (k)
        snprintf(k, need + 1, "%d:%s", partition, topic);
    return k;
}

struct offset_slot *offset_store_slot(struct offset_store *s, const char *group,
                                      const char *topic, int32_t partition, bool create)
{
    struct group_offsets *g = strmap_get(&s->groups, group);
    if (!g) {
        if (!create)
            return NULL;
        g = calloc(1, sizeof *g);
        if (!g || !(g->group = strdup(group))) {
            free(g);
            return NULL;
        }
        strmap_init(&g->slots);
        if (strmap_put(&s->groups, g->group, g) < 0) {
            group_offsets_free(g);
            return NULL;
        }
    }
    char buf[256];
    char *k = slot_key(topic, partition, buf, sizeof buf);
    if (!k)
        return NULL;
    struct offset_slot *sl = strmap_get(&g->slots, k);
    if (!sl && create) {
        sl = calloc(1, sizeof *sl);
        if (sl && (sl->key = strdup(k))) {
            sl->topic = strchr(sl->key, ':') + 1;
            sl->partition = partition;
            if (strmap_put(&g->slots, sl->key, sl) < 0) {
                slot_free(sl);
                sl = NULL;
            }
        } else {
            free(sl);
            sl = NULL;
        }
    }
    if (k != buf)
        free(k);
    return sl;
}

const struct offset_entry *offset_store_get(const struct offset_store *s, const char *group,
                                            const char *topic, int32_t partition)
{
    struct offset_slot *sl = offset_store_slot((struct offset_store *)s, group, topic, partition,
                                               false);
    return sl && sl->committed ? &sl->e : NULL;
}

int offset_store_put(struct offset_store *s, const char *group, const char *topic,
                     int32_t partition, const struct offset_entry *e)
{
    struct offset_slot *sl = offset_store_slot(s, group, topic, partition, true);
    char *md = strdup(e->metadata ? e->metadata : "");
    if (!sl || !md) {
        free(md);
        return -1;
    }
    free(sl->e.metadata);
    sl->e = *e;
    sl->e.metadata = md;
    sl->committed = true;
    return 0;
}

static void maybe_drop(struct offset_store *s, struct group_offsets *g, struct offset_slot *sl)
{
    if (sl->committed || sl->pending > 0)
        return;
    strmap_del(&g->slots, sl->key);
    slot_free(sl);
    if (g->slots.count == 0) {
        strmap_del(&s->groups, g->group);
        group_offsets_free(g);
    }
}

bool offset_store_delete(struct offset_store *s, const char *group, const char *topic,
                         int32_t partition)
{
    struct group_offsets *g = strmap_get(&s->groups, group);
    struct offset_slot *sl = offset_store_slot(s, group, topic, partition, false);
    if (!g || !sl)
        return false;
    bool had = sl->committed;
    sl->committed = false;
    free(sl->e.metadata);
    sl->e.metadata = NULL;
    maybe_drop(s, g, sl);
    return had;
}

void offset_store_unpend(struct offset_store *s, const char *group, struct offset_slot *sl)
{
    struct group_offsets *g = strmap_get(&s->groups, group);
    if (sl->pending > 0)
        sl->pending--;
    if (g)
        maybe_drop(s, g, sl);
}

size_t offset_store_count(const struct offset_store *s, const char *group)
{
    struct group_offsets *g = strmap_get(&s->groups, group);
    size_t n = 0, it = 0;
    void *v;
    while (g && strmap_next(&g->slots, &it, NULL, &v))
        n += ((struct offset_slot *)v)->committed;
    return n;
}

void offset_store_delete_group(struct offset_store *s, const char *group)
{
    struct group_offsets *g = strmap_get(&s->groups, group);
    if (!g)
        return;
    /* Slots with commits in flight stay (empty) so their completion finds
     * them; the rest go now. */
    size_t it = 0;
    void *v;
    bool any_pending = false;
    while (strmap_next(&g->slots, &it, NULL, &v)) {
        struct offset_slot *sl = v;
        sl->committed = false;
        free(sl->e.metadata);
        sl->e.metadata = NULL;
        any_pending |= sl->pending > 0;
    }
    if (!any_pending) {
        strmap_del(&s->groups, g->group);
        group_offsets_free(g);
    }
}

struct offset_slot *offset_store_next(const struct offset_store *s, const char *group,
                                      size_t *it)
{
    struct group_offsets *g = strmap_get(&s->groups, group);
    void *v;
    while (g && strmap_next(&g->slots, it, NULL, &v))
        if (((struct offset_slot *)v)->committed)
            return v;
    return NULL;
}

const char *offset_store_next_group(const struct offset_store *s, size_t *it)
{
    const char *k;
    return strmap_next(&s->groups, it, &k, NULL) ? k : NULL;
}

/* ---- transactional offsets ------------------------------------------------ */

uint64_t offset_store_next_seq(struct offset_store *s)
{
    return ++s->append_seq;
}

static void txn_pending_free(struct offset_txn_pending *p)
{
    free(p->group);
    free(p->topic);
    free(p->e.metadata);
    free(p);
}

struct offset_txn_pending *offset_store_txn_add(struct offset_store *s, const char *group,
                                                const char *topic, int32_t partition,
                                                int64_t producer_id, int32_t offsets_partition,
                                                const struct offset_entry *e)
{
    struct offset_txn_pending *p = calloc(1, sizeof *p);
    if (!p || !(p->group = strdup(group)) || !(p->topic = strdup(topic)) ||
        !(p->e.metadata = strdup(e->metadata ? e->metadata : ""))) {
        if (p)
            txn_pending_free(p);
        return NULL;
    }
    char *md = p->e.metadata;
    p->e = *e;
    p->e.metadata = md;
    p->partition = partition;
    p->producer_id = producer_id;
    p->offsets_partition = offsets_partition;
    /* A later commit of the same producer and partition replaces the
     * earlier one (a map keyed by partition in Kafka). */
    for (struct offset_txn_pending **pp = &s->txn_pending; *pp; pp = &(*pp)->next) {
        struct offset_txn_pending *o = *pp;
        if (o->producer_id == producer_id && o->partition == partition &&
            !strcmp(o->group, group) && !strcmp(o->topic, topic)) {
            *pp = o->next;
            txn_pending_free(o);
            break;
        }
    }
    p->next = s->txn_pending;
    s->txn_pending = p;
    return p;
}

void offset_store_txn_fail(struct offset_store *s, struct offset_txn_pending *p)
{
    for (struct offset_txn_pending **pp = &s->txn_pending; *pp; pp = &(*pp)->next)
        if (*pp == p) {
            *pp = p->next;
            txn_pending_free(p);
            return;
        }
}

size_t offset_store_txn_complete(struct offset_store *s, int32_t offsets_partition,
                                 int64_t producer_id, bool commit)
{
    size_t n = 0;
    struct offset_txn_pending **pp = &s->txn_pending;
    while (*pp) {
        struct offset_txn_pending *p = *pp;
        if (p->producer_id != producer_id || p->offsets_partition != offsets_partition) {
            pp = &p->next;
            continue;
        }
        *pp = p->next;
        const struct offset_entry *cur = offset_store_get(s, p->group, p->topic, p->partition);
        if (commit && (!cur || cur->append_seq < p->e.append_seq) &&
            offset_store_put(s, p->group, p->topic, p->partition, &p->e) == 0)
            n++;
        txn_pending_free(p);
    }
    return n;
}

bool offset_store_txn_has_pending(const struct offset_store *s, const char *group,
                                  const char *topic, int32_t partition)
{
    for (const struct offset_txn_pending *p = s->txn_pending; p; p = p->next)
        if (p->partition == partition && !strcmp(p->group, group) && !strcmp(p->topic, topic))
            return true;
    return false;
}
