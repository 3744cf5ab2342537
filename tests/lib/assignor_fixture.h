/* Builds struct sluice_assignor_group inputs for the assignor unit test and
 * benchmark: members, topics, racks and current owners by name, then the
 * pointer arrays the ABI wants.  Header-only, test code: aborts on OOM. */
#ifndef SLUICE_ASSIGNOR_FIXTURE_H
#define SLUICE_ASSIGNOR_FIXTURE_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sluice/plugin.h>

struct fx_topic {
    char name[64];
    int32_t n;
    int32_t *cur;       /* current owners (member index or -1) */
    int32_t **racks;    /* racks[p]: rack ids, -1 terminated, or NULL */
    uint32_t *roff;     /* built by fx_finish */
    int32_t *rids;
    int has_racks;
    struct sluice_assignor_topic t;
};

struct fx_member {
    char id[64], inst[64];
    int has_inst;
    int32_t rack;
    uint32_t *topics, ntopics, cap;
    struct sluice_assignor_member m;
};

struct fx {
    struct fx_topic *topics;
    uint32_t nt, capt;
    struct fx_member *members;
    uint32_t nm, capm;
    char **racks;
    uint32_t nr;
    const struct sluice_assignor_topic **tptr;
    const struct sluice_assignor_member **mptr;
    struct sluice_assignor_group g;
};

static void *fx_xalloc(size_t n)
{
    void *p = calloc(1, n ? n : 1);
    if (!p) {
        fprintf(stderr, "fixture: out of memory\n");
        abort();
    }
    return p;
}

static void *fx_xrealloc(void *p, size_t n)
{
    p = realloc(p, n ? n : 1);
    if (!p) {
        fprintf(stderr, "fixture: out of memory\n");
        abort();
    }
    return p;
}

static inline struct fx *fx_new(void) { return fx_xalloc(sizeof(struct fx)); }

static inline int32_t fx_rack(struct fx *f, const char *name)
{
    if (!name)
        return SLUICE_ASSIGNOR_NO_RACK;
    for (uint32_t i = 0; i < f->nr; i++)
        if (!strcmp(f->racks[i], name))
            return (int32_t)i;
    f->racks = fx_xrealloc(f->racks, (f->nr + 1) * sizeof *f->racks);
    f->racks[f->nr] = strdup(name);
    return (int32_t)f->nr++;
}

static inline uint32_t fx_topic(struct fx *f, const char *name, int32_t n)
{
    if (f->nt == f->capt) {
        f->capt = f->capt ? f->capt * 2 : 16;
        f->topics = fx_xrealloc(f->topics, f->capt * sizeof *f->topics);
    }
    struct fx_topic *t = &f->topics[f->nt];
    memset(t, 0, sizeof *t);
    snprintf(t->name, sizeof t->name, "%s", name);
    t->n = n;
    t->cur = fx_xalloc((size_t)(n ? n : 1) * sizeof *t->cur);
    for (int32_t p = 0; p < n; p++)
        t->cur[p] = -1;
    return f->nt++;
}

static inline int fx_find_topic(const struct fx *f, const char *name)
{
    for (uint32_t i = 0; i < f->nt; i++)
        if (!strcmp(f->topics[i].name, name))
            return (int)i;
    return -1;
}

static inline int fx_find_member(const struct fx *f, const char *id)
{
    for (uint32_t i = 0; i < f->nm; i++)
        if (!strcmp(f->members[i].id, id))
            return (int)i;
    return -1;
}

/* A member; rack NULL for none, inst NULL for a dynamic member. */
static inline uint32_t fx_member(struct fx *f, const char *id, const char *inst, const char *rack)
{
    if (f->nm == f->capm) {
        f->capm = f->capm ? f->capm * 2 : 16;
        f->members = fx_xrealloc(f->members, f->capm * sizeof *f->members);
    }
    struct fx_member *m = &f->members[f->nm];
    memset(m, 0, sizeof *m);
    snprintf(m->id, sizeof m->id, "%s", id);
    if (inst) {
        snprintf(m->inst, sizeof m->inst, "%s", inst);
        m->has_inst = 1;
    }
    m->rack = fx_rack(f, rack);
    return f->nm++;
}

/* Subscribes member m to topic t (any order; sorted by fx_finish). */
static inline void fx_sub(struct fx *f, uint32_t m, uint32_t t)
{
    struct fx_member *mm = &f->members[m];
    for (uint32_t i = 0; i < mm->ntopics; i++)
        if (mm->topics[i] == t)
            return;
    if (mm->ntopics == mm->cap) {
        mm->cap = mm->cap ? mm->cap * 2 : 8;
        mm->topics = fx_xrealloc(mm->topics, mm->cap * sizeof *mm->topics);
    }
    mm->topics[mm->ntopics++] = t;
}

/* Replica racks of partition p of topic t (names, NULL-terminated list). */
static inline void fx_prack(struct fx *f, uint32_t t, int32_t p, const char *const *names)
{
    struct fx_topic *tp = &f->topics[t];
    if (!tp->racks)
        tp->racks = fx_xalloc((size_t)tp->n * sizeof *tp->racks);
    size_t n = 0;
    while (names[n])
        n++;
    free(tp->racks[p]);
    tp->racks[p] = fx_xalloc((n + 1) * sizeof **tp->racks);
    for (size_t i = 0; i < n; i++)
        tp->racks[p][i] = fx_rack(f, names[i]);
    tp->racks[p][n] = -1;
    tp->has_racks = 1;
}

static int fx_cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

static int fx_cmp_i32(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

/* Builds the ABI structs; call after every change, before an assign. */
static inline const struct sluice_assignor_group *fx_finish(struct fx *f)
{
    free(f->tptr);
    free(f->mptr);
    f->tptr = fx_xalloc(f->nt * sizeof *f->tptr);
    f->mptr = fx_xalloc(f->nm * sizeof *f->mptr);
    for (uint32_t i = 0; i < f->nt; i++) {
        struct fx_topic *tp = &f->topics[i];
        free(tp->roff);
        free(tp->rids);
        tp->roff = NULL;
        tp->rids = NULL;
        if (tp->has_racks) {
            size_t total = 0;
            for (int32_t p = 0; p < tp->n; p++)
                for (int32_t *r = tp->racks[p]; r && *r >= 0; r++)
                    total++;
            tp->roff = fx_xalloc(((size_t)tp->n + 1) * sizeof *tp->roff);
            tp->rids = fx_xalloc(total * sizeof *tp->rids);
            size_t k = 0;
            for (int32_t p = 0; p < tp->n; p++) {
                tp->roff[p] = (uint32_t)k;
                for (int32_t *r = tp->racks[p]; r && *r >= 0; r++)
                    tp->rids[k++] = *r;
                qsort(tp->rids + tp->roff[p], k - tp->roff[p], sizeof *tp->rids, fx_cmp_i32);
            }
            tp->roff[tp->n] = (uint32_t)k;
        }
        tp->t = (struct sluice_assignor_topic){
            .struct_size = sizeof tp->t,
            .name = tp->name,
            .num_partitions = tp->n,
            .current_owner = tp->cur,
            .rack_offsets = tp->roff,
            .rack_ids = tp->rids,
        };
        memcpy(tp->t.id, &i, sizeof i);
        f->tptr[i] = &tp->t;
    }
    for (uint32_t i = 0; i < f->nm; i++) {
        struct fx_member *m = &f->members[i];
        if (m->ntopics)
            qsort(m->topics, m->ntopics, sizeof *m->topics, fx_cmp_u32);
        m->m = (struct sluice_assignor_member){
            .struct_size = sizeof m->m,
            .member_id = m->id,
            .instance_id = m->has_inst ? m->inst : NULL,
            .rack = m->rack,
            .num_topics = m->ntopics,
            .topics = m->topics,
        };
        f->mptr[i] = &m->m;
    }
    f->g = (struct sluice_assignor_group){
        .struct_size = sizeof f->g,
        .group_id = "test-group",
        .group_epoch = 1,
        .num_members = f->nm,
        .members = f->mptr,
        .num_topics = f->nt,
        .topics = f->tptr,
        .num_racks = f->nr,
        .racks = (const char *const *)f->racks,
    };
    return &f->g;
}

/* Sets the current owners of every topic from a result (same indexes). */
static inline void fx_set_current(struct fx *f, int32_t *const *owner)
{
    for (uint32_t t = 0; t < f->nt; t++)
        memcpy(f->topics[t].cur, owner[t], (size_t)f->topics[t].n * sizeof(int32_t));
}

/* Removes member m: later indexes shift down, current owners follow, and
 * m's partitions become unowned (what the coordinator does on leave). */
static inline void fx_remove_member(struct fx *f, uint32_t m)
{
    free(f->members[m].topics);
    memmove(&f->members[m], &f->members[m + 1], (f->nm - m - 1) * sizeof *f->members);
    f->nm--;
    for (uint32_t t = 0; t < f->nt; t++)
        for (int32_t p = 0; p < f->topics[t].n; p++) {
            int32_t *o = &f->topics[t].cur[p];
            if (*o == (int32_t)m)
                *o = -1;
            else if (*o > (int32_t)m)
                (*o)--;
        }
}

static inline void fx_free(struct fx *f)
{
    for (uint32_t i = 0; i < f->nt; i++) {
        struct fx_topic *tp = &f->topics[i];
        free(tp->cur);
        if (tp->racks)
            for (int32_t p = 0; p < tp->n; p++)
                free(tp->racks[p]);
        free(tp->racks);
        free(tp->roff);
        free(tp->rids);
    }
    for (uint32_t i = 0; i < f->nm; i++)
        free(f->members[i].topics);
    for (uint32_t i = 0; i < f->nr; i++)
        free(f->racks[i]);
    free(f->racks);
    free(f->topics);
    free(f->members);
    free(f->tptr);
    free(f->mptr);
    free(f);
}

#endif
