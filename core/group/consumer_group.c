/* KIP-848 consumer groups: ConsumerGroupHeartbeat, ConsumerGroupDescribe,
 * timers, records and their replay, after Kafka 4.0's GroupMetadataManager
 * (consumerGroupHeartbeat, consumerGroupLeave, consumerGroupFenceMember,
 * updateTargetAssignment, maybeReconcile) and ConsumerGroup. */
#include "group/consumer_group.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "group/classic_group.h"
#include "group/group_records.h"
#include "group/topic_regex.h"
#include "plugin/assignor.h"
#include "plugin/module_loader.h"
#include "proto/kafka_errors.h"
#include "proto/kp_codec.h"
#include "util/logger.h"

#define LEAVE_GROUP_MEMBER_EPOCH (-1)
#define LEAVE_GROUP_STATIC_MEMBER_EPOCH (-2)

/* Kafka's INVALID_REGULAR_EXPRESSION (KIP-848, ConsumerGroupHeartbeat v1). */
#ifndef KP_ERR_INVALID_REGULAR_EXPRESSION
#define KP_ERR_INVALID_REGULAR_EXPRESSION 128
#endif

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

const char *cgrp_state_name(int state)
{
    switch (state) {
    case CGRP_EMPTY: return "Empty";
    case CGRP_ASSIGNING: return "Assigning";
    case CGRP_RECONCILING: return "Reconciling";
    case CGRP_STABLE: return "Stable";
    default: return "Dead";
    }
}

int cgrp_state(const struct consumer_group *g)
{
    if (g->members.count == 0)
        return CGRP_EMPTY;
    if (g->group_epoch > g->assignment_epoch)
        return CGRP_ASSIGNING;
    size_t it = 0;
    void *v;
    while (strmap_next(&g->members, &it, NULL, &v)) {
        const struct cgrp_member *m = v;
        if (m->a.state != CGR_STABLE || m->a.member_epoch != g->assignment_epoch)
            return CGRP_RECONCILING;
    }
    return CGRP_STABLE;
}

/* ---- members -------------------------------------------------------------- */

static char *xstrdup(const char *s)
{
    return s ? strdup(s) : NULL;
}

static void free_topics(struct cgrp_member *m)
{
    for (int i = 0; i < m->ntopics; i++)
        free(m->topics[i]);
    free(m->topics);
    m->topics = NULL;
    m->ntopics = 0;
}

static void session_cb(struct ev_loop *loop, ev_timer *t, int revents);
static void rebalance_cb(struct ev_loop *loop, ev_timer *t, int revents);

static struct cgrp_member *member_create(struct consumer_group *g, const char *member_id)
{
    struct cgrp_member *m = calloc(1, sizeof *m);
    if (!m || !(m->member_id = strdup(member_id))) {
        free(m);
        return NULL;
    }
    m->g = g;
    m->rebalance_timeout_ms = -1;
    m->a.state = CGR_STABLE;
    ev_init(&m->session, session_cb);
    m->session.data = m;
    ev_init(&m->rebalance, rebalance_cb);
    m->rebalance.data = m;
    if (strmap_put(&g->members, m->member_id, m) < 0) {
        free(m->member_id);
        free(m);
        return NULL;
    }
    return m;
}

static void member_destroy(struct cgrp_member *m)
{
    struct ev_loop *loop = m->g->base.gc->loop;
    ev_timer_stop(loop, &m->session);
    ev_timer_stop(loop, &m->rebalance);
    free(m->member_id);
    free(m->instance_id);
    free(m->rack_id);
    free(m->client_id);
    free(m->client_host);
    free_topics(m);
    free(m->regex);
    topic_regex_free(m->re);
    free(m->server_assignor);
    cgr_member_free(&m->a);
    cgr_set_free(&m->target);
    free(m);
}

/* Removes m from the group's maps and epoch table and frees it. */
static void member_remove(struct consumer_group *g, struct cgrp_member *m)
{
    cgr_epochs_update(&g->epochs, &m->a, NULL);
    if (m->instance_id && strmap_get(&g->static_members, m->instance_id) == m)
        strmap_del(&g->static_members, m->instance_id);
    strmap_del(&g->members, m->member_id);
    member_destroy(m);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int set_topics(struct cgrp_member *m, const struct kp_str *names, int32_t n)
{
    char **v = calloc(n > 0 ? (size_t)n : 1, sizeof *v);
    if (!v)
        return -1;
    int k = 0;
    for (int32_t i = 0; i < n; i++) {
        if (!names[i].s)
            continue;
        if (!(v[k] = strndup(names[i].s, (size_t)names[i].len))) {
            for (int j = 0; j < k; j++)
                free(v[j]);
            free(v);
            return -1;
        }
        k++;
    }
    qsort(v, (size_t)k, sizeof *v, cmp_str);
    int j = 0;
    for (int i = 0; i < k; i++) {
        if (j && !strcmp(v[j - 1], v[i]))
            free(v[i]);
        else
            v[j++] = v[i];
    }
    free_topics(m);
    m->topics = v;
    m->ntopics = j;
    return 0;
}

static bool topics_equal(const struct cgrp_member *m, const struct kp_str *names, int32_t n)
{
    struct cgrp_member tmp;
    memset(&tmp, 0, sizeof tmp);
    if (set_topics(&tmp, names, n) < 0)
        return false;
    bool eq = tmp.ntopics == m->ntopics;
    for (int i = 0; eq && i < m->ntopics; i++)
        eq = !strcmp(tmp.topics[i], m->topics[i]);
    free_topics(&tmp);
    return eq;
}

static bool member_subscribes(const struct cgrp_member *m, const char *topic)
{
    if (m->ntopics && bsearch(&topic, m->topics, (size_t)m->ntopics, sizeof *m->topics, cmp_str))
        return true;
    return m->re && topic_regex_match(m->re, topic);
}

static bool streq(const char *a, const char *b)
{
    return (!a && !b) || (a && b && !strcmp(a, b));
}

static int replace_str(char **dst, const char *src)
{
    char *n = NULL;
    if (src && !(n = strdup(src)))
        return -1;
    free(*dst);
    *dst = n;
    return 0;
}

/* ---- records ------------------------------------------------------------- */

struct recs {
    struct wire_writer *k, *v;
    bool *tomb;
    size_t n, cap;
    bool oom;
};

static void recs_add(struct recs *r, int type, const char *group, const char *member,
                     const void *body)
{
    if (r->n == r->cap) {
        size_t nc = r->cap ? r->cap * 2 : 8;
        struct wire_writer *nk = realloc(r->k, nc * sizeof *nk);
        if (nk)
            r->k = nk;
        struct wire_writer *nv = realloc(r->v, nc * sizeof *nv);
        if (nv)
            r->v = nv;
        bool *nt = realloc(r->tomb, nc * sizeof *nt);
        if (nt)
            r->tomb = nt;
        if (!nk || !nv || !nt) {
            r->oom = true;
            return;
        }
        r->cap = nc;
    }
    wire_writer_init(&r->k[r->n]);
    wire_writer_init(&r->v[r->n]);
    grec_encode_cg_key(&r->k[r->n], type, group, member);
    r->tomb[r->n] = body == NULL;
    if (body && grec_encode_cg_value(&r->v[r->n], type, body) < 0)
        r->oom = true;
    if (r->k[r->n].err || r->v[r->n].err)
        r->oom = true;
    r->n++;
}

static void recs_free(struct recs *r)
{
    for (size_t i = 0; i < r->n; i++) {
        wire_writer_free(&r->k[i]);
        wire_writer_free(&r->v[i]);
    }
    free(r->k);
    free(r->v);
    free(r->tomb);
    memset(r, 0, sizeof *r);
}

/* Writes r (if any) and calls done(ud, err) once durable. */
static void recs_write(struct group_coordinator *gc, const char *group, struct recs *r,
                       gc_write_done done, void *ud)
{
    if (r->oom) {
        done(ud, KP_ERR_UNKNOWN_SERVER_ERROR);
        return;
    }
    if (r->n == 0) {
        done(ud, KP_ERR_NONE);
        return;
    }
    struct gc_record *gr = calloc(r->n, sizeof *gr);
    if (!gr) {
        done(ud, KP_ERR_UNKNOWN_SERVER_ERROR);
        return;
    }
    for (size_t i = 0; i < r->n; i++)
        gr[i] = (struct gc_record){ r->k[i].buf, (int32_t)r->k[i].len,
                                    r->tomb[i] ? NULL : r->v[i].buf,
                                    r->tomb[i] ? -1 : (int32_t)r->v[i].len };
    gc_write(gc, group, gr, r->n, done, ud);
    free(gr);
}

static void bg_written(void *ud, int16_t err)
{
    struct group_coordinator *gc = ud;
    if (err)
        slog(gc->log, SLOG_WARN, "group",
             "writing consumer group records to __consumer_offsets failed (%s)",
             kp_error_name(err));
}

/* A cgr_set as the TopicPartitions arrays of the record values (they all
 * share the {TopicId, Partitions} layout); allocated in a. */
struct tp_array {
    struct kp_ConsumerGroupCurrentMemberAssignmentValue_TopicPartitions *items;
    int32_t count;
};

static struct tp_array set_to_tps(const struct cgr_set *s, struct kp_arena *a)
{
    struct tp_array out = { NULL, 0 };
    size_t ntopics = 0;
    for (size_t i = 0; i < s->n; i++)
        if (i == 0 || memcmp(s->v[i].topic_id, s->v[i - 1].topic_id, 16))
            ntopics++;
    if (!ntopics)
        return out;
    out.items = kp_arena_alloc(a, ntopics * sizeof *out.items);
    int32_t *parts = kp_arena_alloc(a, s->n * sizeof *parts);
    if (!out.items || !parts)
        return out;
    memset(out.items, 0, ntopics * sizeof *out.items);
    size_t t = (size_t)-1;
    for (size_t i = 0; i < s->n; i++) {
        if (i == 0 || memcmp(s->v[i].topic_id, s->v[i - 1].topic_id, 16)) {
            t++;
            memcpy(out.items[t].TopicId.b, s->v[i].topic_id, 16);
            out.items[t].Partitions.items = &parts[i];
        }
        parts[i] = s->v[i].partition;
        out.items[t].Partitions.count++;
    }
    out.count = (int32_t)ntopics;
    return out;
}

static int tps_to_set(struct cgr_set *s, const struct tp_array *tps)
{
    for (int32_t i = 0; i < tps->count; i++)
        for (int32_t j = 0; j < tps->items[i].Partitions.count; j++)
            if (cgr_set_add(s, tps->items[i].TopicId.b, tps->items[i].Partitions.items[j]) < 0)
                return -1;
    return 0;
}

static void rec_group_epoch(struct recs *r, struct consumer_group *g)
{
    struct kp_ConsumerGroupMetadataValue v = { g->group_epoch };
    recs_add(r, GREC_CG_METADATA, g->base.id, NULL, &v);
}

static void rec_member(struct recs *r, struct consumer_group *g, const struct cgrp_member *m,
                       struct kp_arena *a)
{
    struct kp_ConsumerGroupMemberMetadataValue v;
    memset(&v, 0, sizeof v);
    v.InstanceId = kp_str_c(m->instance_id);
    v.RackId = kp_str_c(m->rack_id);
    v.ClientId = kp_str_c(m->client_id ? m->client_id : "");
    v.ClientHost = kp_str_c(m->client_host ? m->client_host : "");
    struct kp_str *names = kp_arena_alloc(a, (size_t)(m->ntopics ? m->ntopics : 1) * sizeof *names);
    if (!names) {
        r->oom = true;
        return;
    }
    for (int i = 0; i < m->ntopics; i++)
        names[i] = kp_str_c(m->topics[i]);
    v.SubscribedTopicNames.items = names;
    v.SubscribedTopicNames.count = m->ntopics;
    v.SubscribedTopicRegex = kp_str_c(m->regex);
    v.RebalanceTimeoutMs = m->rebalance_timeout_ms;
    v.ServerAssignor = kp_str_c(m->server_assignor);
    v.ClassicMemberMetadata = NULL;
    recs_add(r, GREC_CG_MEMBER, g->base.id, m->member_id, &v);
}

static void rec_current(struct recs *r, struct consumer_group *g, const struct cgrp_member *m,
                        struct kp_arena *a)
{
    struct kp_ConsumerGroupCurrentMemberAssignmentValue v;
    memset(&v, 0, sizeof v);
    v.MemberEpoch = m->a.member_epoch;
    v.PreviousMemberEpoch = m->a.previous_member_epoch;
    v.State = (int8_t)m->a.state;
    struct tp_array as = set_to_tps(&m->a.assigned, a), pr = set_to_tps(&m->a.pending_revocation, a);
    v.AssignedPartitions.items = as.items;
    v.AssignedPartitions.count = as.count;
    v.PartitionsPendingRevocation.items = pr.items;
    v.PartitionsPendingRevocation.count = pr.count;
    recs_add(r, GREC_CG_CURRENT, g->base.id, m->member_id, &v);
}

static void rec_target(struct recs *r, struct consumer_group *g, const char *member_id,
                       const struct cgr_set *target, struct kp_arena *a)
{
    struct kp_ConsumerGroupTargetAssignmentMemberValue v;
    memset(&v, 0, sizeof v);
    struct tp_array t = set_to_tps(target, a);
    v.TopicPartitions.items = (void *)t.items; /* same layout */
    v.TopicPartitions.count = t.count;
    recs_add(r, GREC_CG_TARGET_MEMBER, g->base.id, member_id, &v);
}

static void rec_target_epoch(struct recs *r, struct consumer_group *g)
{
    struct kp_ConsumerGroupTargetAssignmentMetadataValue v = { g->assignment_epoch };
    recs_add(r, GREC_CG_TARGET_METADATA, g->base.id, NULL, &v);
}

static void rec_partition_metadata(struct recs *r, struct consumer_group *g, struct kp_arena *a)
{
    struct kp_ConsumerGroupPartitionMetadataValue v;
    memset(&v, 0, sizeof v);
    if (g->nmeta) {
        v.Topics.items = kp_arena_alloc(a, (size_t)g->nmeta * sizeof *v.Topics.items);
        if (!v.Topics.items) {
            r->oom = true;
            return;
        }
        memset(v.Topics.items, 0, (size_t)g->nmeta * sizeof *v.Topics.items);
    }
    for (int i = 0; i < g->nmeta; i++) {
        memcpy(v.Topics.items[i].TopicId.b, g->meta[i].id, 16);
        v.Topics.items[i].TopicName = kp_str_c(g->meta[i].name);
        v.Topics.items[i].NumPartitions = g->meta[i].nparts;
        /* A single-node broker has no replica racks: no PartitionMetadata. */
    }
    v.Topics.count = g->nmeta;
    recs_add(r, GREC_CG_PARTITION_METADATA, g->base.id, NULL, &v);
}

/* Kafka's removal order: current assignment, target, member metadata. */
static void rec_member_tombstones(struct recs *r, struct consumer_group *g, const char *member_id)
{
    recs_add(r, GREC_CG_CURRENT, g->base.id, member_id, NULL);
    recs_add(r, GREC_CG_TARGET_MEMBER, g->base.id, member_id, NULL);
    recs_add(r, GREC_CG_MEMBER, g->base.id, member_id, NULL);
}

/* ---- group ---------------------------------------------------------------- */

struct consumer_group *cgrp_create(struct group_coordinator *gc, const char *id)
{
    struct consumer_group *g = calloc(1, sizeof *g);
    if (!g || !(g->base.id = strdup(id))) {
        free(g);
        return NULL;
    }
    g->base.type = GROUP_TYPE_CONSUMER;
    g->base.uid = ++gc->next_uid;
    g->base.gc = gc;
    strmap_init(&g->members);
    strmap_init(&g->static_members);
    g->regex_resolved_ms = -1;
    if (strmap_put(&gc->groups, g->base.id, g) < 0) {
        free(g->base.id);
        free(g);
        return NULL;
    }
    return g;
}

static void free_meta(struct consumer_group *g)
{
    for (int i = 0; i < g->nmeta; i++)
        free(g->meta[i].name);
    free(g->meta);
    g->meta = NULL;
    g->nmeta = 0;
}

void cgrp_free(struct consumer_group *g)
{
    while (g->members.count) {
        size_t it = 0;
        void *v;
        if (!strmap_next(&g->members, &it, NULL, &v))
            break;
        member_remove(g, v);
    }
    strmap_free(&g->members);
    strmap_free(&g->static_members);
    cgr_epochs_free(&g->epochs);
    free_meta(g);
    free(g->base.id);
    free(g);
}

bool cgrp_is_subscribed(const struct consumer_group *g, const char *topic)
{
    size_t it = 0;
    void *v;
    while (strmap_next(&g->members, &it, NULL, &v))
        if (member_subscribes(v, topic))
            return true;
    return false;
}

/* ---- subscription metadata ----------------------------------------------- */

static int cmp_topic_name(const void *a, const void *b)
{
    return strcmp(((const struct cgrp_topic *)a)->name, ((const struct cgrp_topic *)b)->name);
}

static int meta_add(struct cgrp_topic **v, int *n, int *cap, const struct gc_topic_info *ti)
{
    for (int i = 0; i < *n; i++)
        if (!strcmp((*v)[i].name, ti->name))
            return 0;
    if (*n == *cap) {
        int nc = *cap ? *cap * 2 : 8;
        struct cgrp_topic *nv = realloc(*v, (size_t)nc * sizeof *nv);
        if (!nv)
            return -1;
        *v = nv;
        *cap = nc;
    }
    struct cgrp_topic *t = &(*v)[*n];
    memcpy(t->id, ti->id, 16);
    t->nparts = ti->nparts;
    if (!(t->name = strdup(ti->name)))
        return -1;
    (*n)++;
    return 0;
}

/* ConsumerGroup.computeSubscriptionMetadata: every existing topic a member
 * subscribes to by name or regex, sorted by name.  Regexes are resolved
 * against all topics but the internal ones, as Kafka does. */
static int compute_meta(struct group_coordinator *gc, struct consumer_group *g,
                        struct cgrp_topic **out, int *nout)
{
    struct cgrp_topic *v = NULL;
    int n = 0, cap = 0;
    *out = NULL;
    *nout = 0;
    if (!gc->meta.by_name)
        return 0;
    bool any_regex = false;
    size_t it = 0;
    void *mv;
    while (strmap_next(&g->members, &it, NULL, &mv)) {
        struct cgrp_member *m = mv;
        if (m->re)
            any_regex = true;
        for (int i = 0; i < m->ntopics; i++) {
            struct gc_topic_info ti;
            if (gc->meta.by_name(gc->meta.ctx, m->topics[i], &ti) && meta_add(&v, &n, &cap, &ti) < 0)
                goto oom;
        }
    }
    if (any_regex && gc->meta.next) {
        size_t ti_it = 0;
        struct gc_topic_info ti;
        while (gc->meta.next(gc->meta.ctx, &ti_it, &ti)) {
            if (ti.internal)
                continue;
            size_t mit = 0;
            while (strmap_next(&g->members, &mit, NULL, &mv)) {
                struct cgrp_member *m = mv;
                if (m->re && topic_regex_match(m->re, ti.name)) {
                    if (meta_add(&v, &n, &cap, &ti) < 0)
                        goto oom;
                    break;
                }
            }
        }
        g->regex_resolved_ms = mono_ms();
    }
    if (n > 1)
        qsort(v, (size_t)n, sizeof *v, cmp_topic_name);
    *out = v;
    *nout = n;
    return 0;
oom:
    for (int i = 0; i < n; i++)
        free(v[i].name);
    free(v);
    return -1;
}

static bool meta_equal(const struct consumer_group *g, const struct cgrp_topic *v, int n)
{
    if (n != g->nmeta)
        return false;
    for (int i = 0; i < n; i++)
        if (strcmp(v[i].name, g->meta[i].name) || memcmp(v[i].id, g->meta[i].id, 16) ||
            v[i].nparts != g->meta[i].nparts)
            return false;
    return true;
}

/* Recomputes the subscription metadata; on a change, records it and sets
 * *bump.  0 or -1 (out of memory). */
static int refresh_meta(struct group_coordinator *gc, struct consumer_group *g, struct recs *r,
                        struct kp_arena *a, bool *bump)
{
    struct cgrp_topic *v;
    int n;
    if (compute_meta(gc, g, &v, &n) < 0)
        return -1;
    if (g->meta_known && meta_equal(g, v, n)) {
        for (int i = 0; i < n; i++)
            free(v[i].name);
        free(v);
        return 0;
    }
    free_meta(g);
    g->meta = v;
    g->nmeta = n;
    g->meta_known = true;
    rec_partition_metadata(r, g, a);
    *bump = true;
    return 0;
}

/* Sorted ids of the metadata topics m subscribes to (for reconciliation:
 * a stale target never hands out a topic the member dropped). */
static int cmp_id(const void *a, const void *b)
{
    return memcmp(a, b, 16);
}

static uint8_t (*member_topic_ids(const struct consumer_group *g, const struct cgrp_member *m,
                                  size_t *n))[16]
{
    uint8_t (*ids)[16] = malloc((size_t)(g->nmeta ? g->nmeta : 1) * 16);
    *n = 0;
    if (!ids)
        return NULL;
    for (int i = 0; i < g->nmeta; i++)
        if (member_subscribes(m, g->meta[i].name))
            memcpy(ids[(*n)++], g->meta[i].id, 16);
    qsort(ids, *n, 16, cmp_id);
    return ids;
}

/* ---- target assignment ------------------------------------------------------ */

static int cmp_member_id(const void *a, const void *b)
{
    const struct cgrp_member *x = *(struct cgrp_member *const *)a;
    const struct cgrp_member *y = *(struct cgrp_member *const *)b;
    return strcmp(x->member_id, y->member_id);
}

/* The assignor the group runs: most members' ServerAssignor, else the first
 * of group.consumer.assignors (computePreferredServerAssignor). */
static void preferred_assignor(struct group_coordinator *gc, struct consumer_group *g, char *buf,
                               size_t len)
{
    const char *list = gc->cfg.consumer_assignors ? gc->cfg.consumer_assignors
                                                  : ASSIGNOR_DEFAULT_LIST;
    size_t n = g->members.count, k = 0;
    const char **choices = calloc(n ? n : 1, sizeof *choices);
    size_t it = 0;
    void *v;
    while (choices && strmap_next(&g->members, &it, NULL, &v))
        choices[k++] = ((struct cgrp_member *)v)->server_assignor;
    if (assignor_preferred(list, choices, k, buf, len) < 0)
        snprintf(buf, len, "%s", "");
    free(choices);
}

/* updateTargetAssignment: runs the assignor for the group epoch and
 * records every member target that changed plus the new assignment epoch.
 * Returns 0, or a Kafka error with msg (the target is then unchanged). */
static int16_t update_target(struct group_coordinator *gc, struct consumer_group *g,
                             struct recs *r, struct kp_arena *a, char *msg, size_t msglen)
{
    char name[ASSIGNOR_NAME_MAX + 1];
    preferred_assignor(gc, g, name, sizeof name);
    const struct module_assignor *as = gc->modules ? module_registry_assignor(gc->modules, name)
                                                   : NULL;
    if (!as) {
        snprintf(msg, msglen, "Failed to compute a new target assignment for epoch %d: assignor "
                 "%s is not registered.", g->group_epoch, name);
        return KP_ERR_UNKNOWN_SERVER_ERROR;
    }
    size_t nm = g->members.count;
    struct cgrp_member **mem = calloc(nm ? nm : 1, sizeof *mem);
    struct sluice_assignor_member *am = calloc(nm ? nm : 1, sizeof *am);
    const struct sluice_assignor_member **amp = calloc(nm ? nm : 1, sizeof *amp);
    uint32_t *tidx = calloc((nm ? nm : 1) * (size_t)(g->nmeta ? g->nmeta : 1), sizeof *tidx);
    struct sluice_assignor_topic *at = calloc(g->nmeta ? (size_t)g->nmeta : 1, sizeof *at);
    const struct sluice_assignor_topic **atp = calloc(g->nmeta ? (size_t)g->nmeta : 1, sizeof *atp);
    int32_t **owners = calloc(g->nmeta ? (size_t)g->nmeta : 1, sizeof *owners);
    const char **racks = calloc(nm ? nm : 1, sizeof *racks);
    struct assignor_result res;
    memset(&res, 0, sizeof res);
    int16_t err = KP_ERR_NONE;
    if (!mem || !am || !amp || !tidx || !at || !atp || !owners || !racks) {
        err = KP_ERR_UNKNOWN_SERVER_ERROR;
        snprintf(msg, msglen, "out of memory");
        goto out;
    }
    size_t it = 0, k = 0;
    void *v;
    while (strmap_next(&g->members, &it, NULL, &v))
        mem[k++] = v;
    qsort(mem, nm, sizeof *mem, cmp_member_id);
    uint32_t nracks = 0;
    for (int t = 0; t < g->nmeta; t++) {
        at[t].struct_size = sizeof at[t];
        memcpy(at[t].id, g->meta[t].id, 16);
        at[t].name = g->meta[t].name;
        at[t].num_partitions = g->meta[t].nparts;
        atp[t] = &at[t];
    }
    for (size_t i = 0; i < nm; i++) {
        struct cgrp_member *m = mem[i];
        am[i].struct_size = sizeof am[i];
        am[i].member_id = m->member_id;
        am[i].instance_id = m->instance_id;
        am[i].rack = SLUICE_ASSIGNOR_NO_RACK;
        if (m->rack_id) {
            uint32_t ri = 0;
            while (ri < nracks && strcmp(racks[ri], m->rack_id))
                ri++;
            if (ri == nracks)
                racks[nracks++] = m->rack_id;
            am[i].rack = (int32_t)ri;
        }
        uint32_t *mt = &tidx[i * (size_t)(g->nmeta ? g->nmeta : 1)];
        am[i].topics = mt;
        for (int t = 0; t < g->nmeta; t++)
            if (member_subscribes(m, g->meta[t].name))
                mt[am[i].num_topics++] = (uint32_t)t;
        if (!am[i].num_topics)
            am[i].topics = NULL;
        amp[i] = &am[i];
        /* Stickiness input: the current target of members still here. */
        for (size_t p = 0; p < m->target.n; p++) {
            const struct cgr_tp *tp = &m->target.v[p];
            for (int t = 0; t < g->nmeta; t++) {
                if (memcmp(g->meta[t].id, tp->topic_id, 16) || tp->partition >= g->meta[t].nparts ||
                    tp->partition < 0)
                    continue;
                if (!owners[t]) {
                    owners[t] = malloc((size_t)g->meta[t].nparts * sizeof **owners);
                    if (!owners[t]) {
                        err = KP_ERR_UNKNOWN_SERVER_ERROR;
                        snprintf(msg, msglen, "out of memory");
                        goto out;
                    }
                    for (int32_t q = 0; q < g->meta[t].nparts; q++)
                        owners[t][q] = SLUICE_ASSIGNOR_UNASSIGNED;
                    at[t].current_owner = owners[t];
                }
                owners[t][tp->partition] = (int32_t)i;
            }
        }
    }
    struct sluice_assignor_group grp = {
        .struct_size = sizeof grp,
        .group_id = g->base.id,
        .group_epoch = g->group_epoch,
        .num_members = (uint32_t)nm,
        .members = amp,
        .num_topics = (uint32_t)g->nmeta,
        .topics = atp,
        .num_racks = nracks,
        .racks = racks,
    };
    char aerr[512];
    int rc = assignor_run(as, &grp, &res, aerr, sizeof aerr);
    if (rc < 0) {
        snprintf(msg, msglen, "Failed to compute a new target assignment for epoch %d: %s",
                 g->group_epoch, aerr);
        slog(gc->log, SLOG_ERROR, "group", "[GroupId %s] %s", g->base.id, msg);
        err = KP_ERR_UNKNOWN_SERVER_ERROR;
        goto out;
    }
    for (size_t i = 0; i < nm; i++) {
        struct cgr_set nt = { 0 };
        for (int t = 0; t < g->nmeta; t++)
            for (int32_t p = 0; p < g->meta[t].nparts; p++)
                if (res.owner[t][p] == (int32_t)i && cgr_set_add(&nt, g->meta[t].id, p) < 0)
                    r->oom = true;
        if (!cgr_set_equal(&nt, &mem[i]->target)) {
            rec_target(r, g, mem[i]->member_id, &nt, a);
            cgr_set_free(&mem[i]->target);
            mem[i]->target = nt;
        } else {
            cgr_set_free(&nt);
        }
    }
    g->assignment_epoch = g->group_epoch;
    rec_target_epoch(r, g);
    slog(gc->log, SLOG_DEBUG, "group", "[GroupId %s] computed a new target assignment for epoch "
         "%d with the %s assignor", g->base.id, g->group_epoch, name);
out:
    assignor_result_free(&res);
    for (int t = 0; owners && t < g->nmeta; t++)
        free(owners[t]);
    free(owners);
    free(mem);
    free(am);
    free(amp);
    free(tidx);
    free(at);
    free(atp);
    free(racks);
    return err;
}

/* ---- reconciliation ---------------------------------------------------------- */

static void arm_session(struct group_coordinator *gc, struct cgrp_member *m)
{
    ev_timer_stop(gc->loop, &m->session);
    ev_timer_set(&m->session, gc->cfg.consumer_session_timeout_ms / 1000.0, 0.);
    ev_timer_start(gc->loop, &m->session);
}

static void update_rebalance_timer(struct group_coordinator *gc, struct cgrp_member *m)
{
    if (m->a.state == CGR_UNREVOKED_PARTITIONS) {
        if (!m->rebalance_armed) {
            int32_t ms = m->rebalance_timeout_ms > 0 ? m->rebalance_timeout_ms : 300000;
            ev_timer_set(&m->rebalance, ms / 1000.0, 0.);
            ev_timer_start(gc->loop, &m->rebalance);
            m->rebalance_armed = true;
        }
    } else if (m->rebalance_armed) {
        ev_timer_stop(gc->loop, &m->rebalance);
        m->rebalance_armed = false;
    }
}

/* maybeReconcile: moves m towards its target; records the new current
 * assignment when it changed.  Returns 0, FENCED_MEMBER_EPOCH or -1. */
static int reconcile(struct group_coordinator *gc, struct consumer_group *g,
                     struct cgrp_member *m, const struct cgr_set *owned, struct recs *r,
                     struct kp_arena *a)
{
    if (m->a.state == CGR_STABLE && m->a.member_epoch == g->assignment_epoch)
        return 0; /* isReconciledTo */
    size_t nsub;
    uint8_t (*sub)[16] = member_topic_ids(g, m, &nsub);
    if (!sub)
        return -1;
    struct cgr_input in = {
        .target_epoch = g->assignment_epoch,
        .target = &m->target,
        .subscribed = (const uint8_t (*)[16])sub,
        .nsubscribed = nsub,
        .partition_epoch = cgr_epochs_lookup,
        .partition_epoch_ud = &g->epochs,
        .owned = owned,
    };
    struct cgr_member next;
    memset(&next, 0, sizeof next);
    int changed = 0;
    int rc = cgr_reconcile(&m->a, &in, &next, &changed);
    free(sub);
    if (rc != 0) {
        cgr_member_free(&next);
        return rc;
    }
    if (changed) {
        if (cgr_epochs_update(&g->epochs, &m->a, &next) != 0) {
            slog(gc->log, SLOG_ERROR, "group", "[GroupId %s] member %s: a partition of its new "
                 "assignment is still owned by another member", g->base.id, m->member_id);
            cgr_member_free(&next);
            return -1;
        }
        slog(gc->log, SLOG_DEBUG, "group", "[GroupId %s] member %s transitioned from epoch %d "
             "to epoch %d (state %d)", g->base.id, m->member_id, m->a.member_epoch,
             next.member_epoch, (int)next.state);
        cgr_member_free(&m->a);
        m->a = next;
        rec_current(r, g, m, a);
        update_rebalance_timer(gc, m);
    } else {
        cgr_member_free(&next);
    }
    return 0;
}

/* consumerGroupFenceMember / removeMember: the member's records are
 * deleted and the group epoch bumped so the others get its partitions. */
static void fence_member(struct group_coordinator *gc, struct consumer_group *g,
                         struct cgrp_member *m, struct recs *r, struct kp_arena *a)
{
    rec_member_tombstones(r, g, m->member_id);
    member_remove(g, m);
    bool bump = false;
    if (refresh_meta(gc, g, r, a, &bump) < 0)
        r->oom = true;
    g->group_epoch++;
    rec_group_epoch(r, g);
}

static void fence_and_write(struct cgrp_member *m, const char *why)
{
    struct consumer_group *g = m->g;
    struct group_coordinator *gc = g->base.gc;
    slog(gc->log, SLOG_INFO, "group", "[GroupId %s] member %s fenced from the group: %s",
         g->base.id, m->member_id, why);
    struct recs r = { 0 };
    struct kp_arena a;
    kp_arena_init(&a);
    char *gid = strdup(g->base.id);
    fence_member(gc, g, m, &r, &a);
    if (gid)
        recs_write(gc, gid, &r, bg_written, gc);
    free(gid);
    recs_free(&r);
    kp_arena_free(&a);
}

static void session_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
    (void)loop;
    (void)revents;
    struct cgrp_member *m = t->data;
    char why[96];
    snprintf(why, sizeof why, "session timeout of %d ms expired",
             m->g->base.gc->cfg.consumer_session_timeout_ms);
    fence_and_write(m, why);
}

static void rebalance_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
    (void)loop;
    (void)revents;
    struct cgrp_member *m = t->data;
    m->rebalance_armed = false;
    if (m->a.state != CGR_UNREVOKED_PARTITIONS)
        return;
    char why[128];
    snprintf(why, sizeof why, "it failed to revoke partitions from epoch %d within %d ms",
             m->a.member_epoch, m->rebalance_timeout_ms);
    fence_and_write(m, why);
}

/* ---- heartbeat -------------------------------------------------------------- */

struct hb_ctx {
    struct kp_ConsumerGroupHeartbeatResponse *resp;
    gc_cgh_cb cb;
    void *ud;
};

/* CoordinatorRuntime's normalizeException for a failed write. */
static int16_t map_write_error(int16_t err)
{
    switch (err) {
    case KP_ERR_NONE:
        return KP_ERR_NONE;
    case KP_ERR_UNKNOWN_TOPIC_OR_PARTITION:
    case KP_ERR_NOT_ENOUGH_REPLICAS:
    case KP_ERR_REQUEST_TIMED_OUT:
        return KP_ERR_COORDINATOR_NOT_AVAILABLE;
    case KP_ERR_NOT_LEADER_OR_FOLLOWER:
    case KP_ERR_KAFKA_STORAGE_ERROR:
        return KP_ERR_NOT_COORDINATOR;
    default:
        return KP_ERR_UNKNOWN_SERVER_ERROR;
    }
}

static void hb_written(void *ud, int16_t err)
{
    struct hb_ctx *c = ud;
    err = map_write_error(err);
    if (err) {
        struct kp_ConsumerGroupHeartbeatResponse *resp = c->resp;
        resp->ErrorCode = err;
        resp->ErrorMessage = kp_str_c(NULL);
        resp->Assignment = NULL;
        resp->MemberEpoch = -1;
        resp->HeartbeatIntervalMs = 0;
    }
    c->cb(c->ud, c->resp);
    free(c);
}

static void hb_fail(struct kp_ConsumerGroupHeartbeatResponse *resp, int16_t err, const char *msg,
                    struct kp_arena *a, gc_cgh_cb cb, void *ud)
{
    resp->ErrorCode = err;
    resp->ErrorMessage = kp_str_c(msg ? kp_arena_strndup(a, msg, strlen(msg)) : NULL);
    resp->MemberId = kp_str_c(NULL);
    resp->MemberEpoch = -1;
    resp->HeartbeatIntervalMs = 0;
    resp->Assignment = NULL;
    cb(ud, resp);
}

static bool blank(const struct kp_str *s)
{
    if (!s->s || s->len < 0)
        return false;
    for (int32_t i = 0; i < s->len; i++)
        if ((unsigned char)s->s[i] > ' ')
            return false;
    return true; /* Java's trim().isEmpty() */
}

static char *arena_str(struct kp_arena *a, const struct kp_str *s)
{
    return s->s && s->len >= 0 ? kp_arena_strndup(a, s->s, (size_t)s->len) : NULL;
}

/* throwIfConsumerGroupHeartbeatRequestIsInvalid; Kafka's messages. */
static int16_t validate_request(struct group_coordinator *gc,
                                const struct kp_ConsumerGroupHeartbeatRequest *req,
                                int16_t version, char *msg, size_t msglen)
{
    int32_t epoch = req->MemberEpoch;
    if ((version >= 1 || epoch > 0 || epoch == LEAVE_GROUP_MEMBER_EPOCH) &&
        (!req->MemberId.s || blank(&req->MemberId))) {
        snprintf(msg, msglen, "MemberId can't be empty.");
        return KP_ERR_INVALID_REQUEST;
    }
    if (!req->GroupId.s || blank(&req->GroupId)) {
        snprintf(msg, msglen, "GroupId can't be empty.");
        return KP_ERR_INVALID_REQUEST;
    }
    if (blank(&req->InstanceId)) {
        snprintf(msg, msglen, "InstanceId can't be empty.");
        return KP_ERR_INVALID_REQUEST;
    }
    if (blank(&req->RackId)) {
        snprintf(msg, msglen, "RackId can't be empty.");
        return KP_ERR_INVALID_REQUEST;
    }
    if (epoch == 0) {
        if (req->RebalanceTimeoutMs == -1) {
            snprintf(msg, msglen, "RebalanceTimeoutMs must be provided in first request.");
            return KP_ERR_INVALID_REQUEST;
        }
        if (req->TopicPartitions.count != 0) {
            snprintf(msg, msglen, "TopicPartitions must be empty when (re-)joining.");
            return KP_ERR_INVALID_REQUEST;
        }
        if (req->SubscribedTopicNames.count < 0 && !req->SubscribedTopicRegex.s) {
            snprintf(msg, msglen, "Either SubscribedTopicNames or SubscribedTopicRegex must be "
                     "non-null when (re-)joining.");
            return KP_ERR_INVALID_REQUEST;
        }
    } else if (epoch == LEAVE_GROUP_STATIC_MEMBER_EPOCH) {
        if (!req->InstanceId.s) {
            snprintf(msg, msglen, "InstanceId can't be null.");
            return KP_ERR_INVALID_REQUEST;
        }
    } else if (epoch < LEAVE_GROUP_STATIC_MEMBER_EPOCH) {
        snprintf(msg, msglen, "MemberEpoch is invalid.");
        return KP_ERR_INVALID_REQUEST;
    }
    if (req->ServerAssignor.s) {
        char name[ASSIGNOR_NAME_MAX + 1];
        snprintf(name, sizeof name, "%.*s", (int)req->ServerAssignor.len, req->ServerAssignor.s);
        const char *list = gc->cfg.consumer_assignors ? gc->cfg.consumer_assignors
                                                      : ASSIGNOR_DEFAULT_LIST;
        int rc = assignor_check_requested(list, name, msg, msglen);
        if (rc)
            return (int16_t)rc;
    }
    return KP_ERR_NONE;
}

static void random_member_id(char out[23])
{
    uint8_t b[16];
    if (getrandom(b, sizeof b, GRND_NONBLOCK) != (ssize_t)sizeof b) {
        /* Entropy pool not ready (early boot): the clock is unique enough
         * for an id that only has to differ from the group's others. */
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        for (int i = 0; i < 16; i++)
            b[i] = (uint8_t)((ts.tv_nsec >> (i % 4 * 8)) ^ (ts.tv_sec >> (i % 8)) ^ (i * 131));
    }
    /* Kafka's Uuid.toString: URL-safe base64 without padding. */
    static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    int k = 0;
    for (int i = 0; i < 16; i += 3) {
        uint32_t v = (uint32_t)b[i] << 16 | (i + 1 < 16 ? (uint32_t)b[i + 1] << 8 : 0) |
                     (i + 2 < 16 ? b[i + 2] : 0);
        out[k++] = tbl[(v >> 18) & 63];
        out[k++] = tbl[(v >> 12) & 63];
        if (i + 1 < 16)
            out[k++] = tbl[(v >> 6) & 63];
        if (i + 2 < 16)
            out[k++] = tbl[v & 63];
    }
    out[k] = '\0';
}

static struct kp_ConsumerGroupHeartbeatResponse_Assignment *
response_assignment(const struct cgrp_member *m, struct kp_arena *a)
{
    struct kp_ConsumerGroupHeartbeatResponse_Assignment *as = kp_arena_alloc(a, sizeof *as);
    if (!as)
        return NULL;
    struct tp_array t = set_to_tps(&m->a.assigned, a);
    as->TopicPartitions.items = (void *)t.items; /* same {TopicId, Partitions} layout */
    as->TopicPartitions.count = t.count;
    return as;
}

/* consumerGroupLeave (member epoch -1 or -2). */
static void heartbeat_leave(struct group_coordinator *gc, struct consumer_group *g,
                            const char *member_id, const char *instance_id, int32_t epoch,
                            struct kp_ConsumerGroupHeartbeatResponse *resp, struct kp_arena *a,
                            gc_cgh_cb cb, void *ud)
{
    char msg[512];
    struct cgrp_member *m;
    if (!instance_id) {
        m = strmap_get(&g->members, member_id);
        if (!m) {
            snprintf(msg, sizeof msg, "Member %s is not a member of group %s.", member_id,
                     g->base.id);
            hb_fail(resp, KP_ERR_UNKNOWN_MEMBER_ID, msg, a, cb, ud);
            return;
        }
    } else {
        m = strmap_get(&g->static_members, instance_id);
        if (!m) {
            snprintf(msg, sizeof msg, "Instance id %s is unknown.", instance_id);
            hb_fail(resp, KP_ERR_UNKNOWN_MEMBER_ID, msg, a, cb, ud);
            return;
        }
        if (strcmp(m->member_id, member_id)) {
            snprintf(msg, sizeof msg, "Static member %s with instance id %s is not the member %s.",
                     member_id, instance_id, m->member_id);
            hb_fail(resp, KP_ERR_FENCED_INSTANCE_ID, msg, a, cb, ud);
            return;
        }
    }
    struct recs r = { 0 };
    if (epoch == LEAVE_GROUP_STATIC_MEMBER_EPOCH) {
        /* consumerGroupStaticMemberGroupLeave: the member keeps its
         * partitions (nobody else gets them) until it comes back with the
         * same instance id or its session expires. */
        slog(gc->log, SLOG_INFO, "group", "[GroupId %s] static member %s with instance id %s "
             "temporarily left the consumer group", g->base.id, member_id, instance_id);
        struct cgr_member next;
        memset(&next, 0, sizeof next);
        if (cgr_member_copy(&next, &m->a) < 0) {
            hb_fail(resp, KP_ERR_UNKNOWN_SERVER_ERROR, NULL, a, cb, ud);
            return;
        }
        next.member_epoch = LEAVE_GROUP_STATIC_MEMBER_EPOCH;
        /* Its partitions now carry epoch -2 (maybePartitionEpoch update). */
        if (cgr_epochs_update(&g->epochs, &m->a, &next) != 0)
            r.oom = true;
        cgr_member_free(&m->a);
        m->a = next;
        rec_current(&r, g, m, a);
    } else {
        slog(gc->log, SLOG_INFO, "group", "[GroupId %s] member %s left the consumer group",
             g->base.id, member_id);
        fence_member(gc, g, m, &r, a);
    }
    resp->MemberId = kp_str_c(kp_arena_strndup(a, member_id, strlen(member_id)));
    resp->MemberEpoch = epoch;
    resp->HeartbeatIntervalMs = 0;
    struct hb_ctx *c = calloc(1, sizeof *c);
    if (!c) {
        recs_free(&r);
        hb_fail(resp, KP_ERR_UNKNOWN_SERVER_ERROR, NULL, a, cb, ud);
        return;
    }
    *c = (struct hb_ctx){ resp, cb, ud };
    recs_write(gc, g->base.id, &r, hb_written, c);
    recs_free(&r);
}

/* Replaces a classic group that has no members by a new consumer group
 * (Kafka converts an empty classic group on the first heartbeat). */
static struct consumer_group *replace_empty_classic(struct group_coordinator *gc,
                                                    struct classic_group *cg)
{
    char *id = strdup(cg->base.id);
    if (!id)
        return NULL;
    if (cg->generation_id > 0) {
        /* GroupMetadata tombstone, so a replay does not bring it back. */
        struct gc_record rec;
        struct wire_writer w;
        wire_writer_init(&w);
        grec_encode_group_key(&w, id);
        rec = (struct gc_record){ w.buf, (int32_t)w.len, NULL, -1 };
        gc_write(gc, id, &rec, 1, bg_written, gc);
        wire_writer_free(&w);
    }
    gc_remove_group(gc, &cg->base);
    struct consumer_group *g = cgrp_create(gc, id);
    free(id);
    return g;
}

void gc_consumer_heartbeat(struct group_coordinator *gc,
                           const struct kp_ConsumerGroupHeartbeatRequest *req, int16_t version,
                           const char *client_id, const char *client_host, struct kp_arena *a,
                           gc_cgh_cb cb, void *ud)
{
    struct kp_ConsumerGroupHeartbeatResponse *resp = kp_arena_alloc(a, sizeof *resp);
    if (!resp) {
        /* The callback runs now, so a response on the stack is enough. */
        struct kp_ConsumerGroupHeartbeatResponse oom;
        memset(&oom, 0, sizeof oom);
        oom.ErrorCode = KP_ERR_UNKNOWN_SERVER_ERROR;
        oom.MemberEpoch = -1;
        cb(ud, &oom);
        return;
    }
    memset(resp, 0, sizeof *resp);
    char msg[768];
    msg[0] = '\0';
    int16_t err = validate_request(gc, req, version, msg, sizeof msg);
    if (err) {
        hb_fail(resp, err, msg, a, cb, ud);
        return;
    }
    const char *group_id = arena_str(a, &req->GroupId);
    err = gc_validate_group(gc, group_id, false);
    if (err) {
        hb_fail(resp, err, NULL, a, cb, ud);
        return;
    }
    char *member_id = arena_str(a, &req->MemberId);
    char gen_id[23];
    if (!member_id || !member_id[0]) {
        /* v0: the coordinator names a joining member (v1+: the client does, KIP-1082). */
        random_member_id(gen_id);
        member_id = kp_arena_strndup(a, gen_id, strlen(gen_id));
    }
    const char *instance_id = arena_str(a, &req->InstanceId);
    const char *regex = version >= 1 ? arena_str(a, &req->SubscribedTopicRegex) : NULL;
    const char *server_assignor = arena_str(a, &req->ServerAssignor);
    const char *rack_id = arena_str(a, &req->RackId);
    int32_t epoch = req->MemberEpoch;
    if (!member_id || !group_id) {
        hb_fail(resp, KP_ERR_UNKNOWN_SERVER_ERROR, NULL, a, cb, ud);
        return;
    }

    struct group *base = gc_group(gc, group_id);
    if (epoch == LEAVE_GROUP_MEMBER_EPOCH || epoch == LEAVE_GROUP_STATIC_MEMBER_EPOCH) {
        if (!base || base->type != GROUP_TYPE_CONSUMER) {
            snprintf(msg, sizeof msg, base ? "Group %s is not a consumer group."
                                           : "Consumer group %s not found.", group_id);
            hb_fail(resp, KP_ERR_GROUP_ID_NOT_FOUND, msg, a, cb, ud);
            return;
        }
        heartbeat_leave(gc, (struct consumer_group *)base, member_id, instance_id, epoch, resp, a,
                        cb, ud);
        return;
    }

    /* The regex is checked before anything changes (throwIfRegularExpressionIsInvalid). */
    struct topic_regex *new_re = NULL;
    if (regex && regex[0]) {
        char rerr[256];
        if (!(new_re = topic_regex_compile(regex, rerr, sizeof rerr))) {
            snprintf(msg, sizeof msg, "SubscribedTopicRegex `%s` is not a valid regular "
                     "expression: %s.", regex, rerr);
            hb_fail(resp, KP_ERR_INVALID_REGULAR_EXPRESSION, msg, a, cb, ud);
            return;
        }
    }

    struct recs r = { 0 };
    struct consumer_group *g = NULL;
    if (!base) {
        if (epoch != 0) {
            snprintf(msg, sizeof msg, "Consumer group %s not found.", group_id);
            err = KP_ERR_GROUP_ID_NOT_FOUND;
            goto fail;
        }
        if (!(g = cgrp_create(gc, group_id))) {
            err = KP_ERR_UNKNOWN_SERVER_ERROR;
            goto fail;
        }
        slog(gc->log, SLOG_INFO, "group", "[GroupId %s] created a new consumer group", group_id);
    } else if (base->type == GROUP_TYPE_CLASSIC) {
        struct classic_group *cgp = (struct classic_group *)base;
        if (epoch != 0 || cgp->nmembers > 0 || cgp->state != CG_EMPTY) {
            snprintf(msg, sizeof msg, "Group %s is not a consumer group.", group_id);
            err = KP_ERR_GROUP_ID_NOT_FOUND;
            goto fail;
        }
        if (!(g = replace_empty_classic(gc, cgp))) {
            err = KP_ERR_UNKNOWN_SERVER_ERROR;
            goto fail;
        }
        slog(gc->log, SLOG_INFO, "group", "[GroupId %s] converted the empty classic group to a "
             "consumer group", group_id);
    } else {
        g = (struct consumer_group *)base;
    }

    /* throwIfConsumerGroupIsFull */
    if (!strmap_get(&g->members, member_id) &&
        (int64_t)g->members.count >= (int64_t)gc->cfg.consumer_max_size) {
        snprintf(msg, sizeof msg, "The consumer group has reached its maximum capacity of %d "
                 "members.", gc->cfg.consumer_max_size);
        err = KP_ERR_GROUP_MAX_SIZE_REACHED;
        goto fail;
    }

    /* The owned partitions the member reports (null: unchanged). */
    struct cgr_set owned_set = { 0 };
    const struct cgr_set *owned = NULL;
    if (req->TopicPartitions.count >= 0) {
        for (int32_t i = 0; i < req->TopicPartitions.count; i++) {
            const struct kp_ConsumerGroupHeartbeatRequest_TopicPartitions *tp =
                &req->TopicPartitions.items[i];
            for (int32_t j = 0; j < tp->Partitions.count; j++)
                if (cgr_set_add(&owned_set, tp->TopicId.b, tp->Partitions.items[j]) < 0)
                    r.oom = true;
        }
        owned = &owned_set;
    }

    bool bump = false, is_new = false, replaced = false;
    struct cgrp_member *m = NULL;
    if (!instance_id) {
        m = strmap_get(&g->members, member_id);
        if (epoch != 0) {
            if (!m) {
                snprintf(msg, sizeof msg, "Member %s is not a member of group %s.", member_id,
                         group_id);
                err = KP_ERR_UNKNOWN_MEMBER_ID;
                goto fail_owned;
            }
            if (cgr_check_member_epoch(&m->a, epoch, owned, msg, sizeof msg)) {
                err = KP_ERR_FENCED_MEMBER_EPOCH;
                goto fail_owned;
            }
        } else if (!m) {
            if (!(m = member_create(g, member_id))) {
                err = KP_ERR_UNKNOWN_SERVER_ERROR;
                goto fail_owned;
            }
            is_new = true;
            slog(gc->log, SLOG_INFO, "group", "[GroupId %s] member %s joins the consumer group",
                 group_id, member_id);
        }
    } else {
        struct cgrp_member *cur = strmap_get(&g->static_members, instance_id);
        if (epoch == 0) {
            if (cur && strcmp(cur->member_id, member_id)) {
                if (cur->a.member_epoch != LEAVE_GROUP_STATIC_MEMBER_EPOCH) {
                    snprintf(msg, sizeof msg, "Static member %s with instance id %s cannot be "
                             "replaced because it is still in use by member %s.", member_id,
                             instance_id, cur->member_id);
                    err = KP_ERR_UNRELEASED_INSTANCE_ID;
                    goto fail_owned;
                }
                /* The instance comes back under a new member id: it takes
                 * over the old member's partitions and target, at epoch 0. */
                if (!(m = member_create(g, member_id)) ||
                    cgr_set_copy(&m->a.assigned, &cur->a.assigned) < 0 ||
                    cgr_set_copy(&m->target, &cur->target) < 0) {
                    if (m)
                        member_remove(g, m);
                    err = KP_ERR_UNKNOWN_SERVER_ERROR;
                    goto fail_owned;
                }
                m->a.member_epoch = 0;
                m->a.previous_member_epoch = 0;
                m->a.state = CGR_STABLE;
                replace_str(&m->instance_id, instance_id);
                m->rack_id = xstrdup(cur->rack_id);
                m->regex = xstrdup(cur->regex);
                m->re = cur->re;
                cur->re = NULL;
                m->server_assignor = xstrdup(cur->server_assignor);
                m->rebalance_timeout_ms = cur->rebalance_timeout_ms;
                if (cur->ntopics) {
                    struct kp_str *names = kp_arena_alloc(a, (size_t)cur->ntopics * sizeof *names);
                    for (int i = 0; names && i < cur->ntopics; i++)
                        names[i] = kp_str_c(cur->topics[i]);
                    if (names)
                        set_topics(m, names, cur->ntopics);
                }
                rec_member_tombstones(&r, g, cur->member_id);
                member_remove(g, cur);
                if (cgr_epochs_update(&g->epochs, NULL, &m->a) != 0)
                    r.oom = true;
                strmap_put(&g->static_members, m->instance_id, m);
                rec_target(&r, g, m->member_id, &m->target, a);
                rec_current(&r, g, m, a);
                replaced = true;
                slog(gc->log, SLOG_INFO, "group", "[GroupId %s] static member with instance id "
                     "%s rejoins as member %s", group_id, instance_id, member_id);
            } else if (cur) {
                m = cur; /* same member id rejoining */
            } else {
                m = strmap_get(&g->members, member_id);
                if (!m) {
                    if (!(m = member_create(g, member_id))) {
                        err = KP_ERR_UNKNOWN_SERVER_ERROR;
                        goto fail_owned;
                    }
                    is_new = true;
                }
                slog(gc->log, SLOG_INFO, "group", "[GroupId %s] static member %s with instance "
                     "id %s joins the consumer group", group_id, member_id, instance_id);
            }
        } else {
            if (!cur) {
                snprintf(msg, sizeof msg, "Instance id %s is unknown.", instance_id);
                err = KP_ERR_UNKNOWN_MEMBER_ID;
                goto fail_owned;
            }
            if (strcmp(cur->member_id, member_id)) {
                snprintf(msg, sizeof msg, "Static member %s with instance id %s is fenced by "
                         "existing member %s.", member_id, instance_id, cur->member_id);
                err = KP_ERR_FENCED_INSTANCE_ID;
                goto fail_owned;
            }
            if (cgr_check_member_epoch(&cur->a, epoch, owned, msg, sizeof msg)) {
                err = KP_ERR_FENCED_MEMBER_EPOCH;
                goto fail_owned;
            }
            m = cur;
        }
    }

    /* 1. Update the member (null fields are unchanged). */
    bool meta_changed = is_new || replaced;
    bool sub_changed = false;
    if (instance_id && !streq(m->instance_id, instance_id)) {
        if (m->instance_id && strmap_get(&g->static_members, m->instance_id) == m)
            strmap_del(&g->static_members, m->instance_id);
        replace_str(&m->instance_id, instance_id);
        strmap_put(&g->static_members, m->instance_id, m);
        meta_changed = true;
    }
    if (rack_id && !streq(m->rack_id, rack_id)) {
        replace_str(&m->rack_id, rack_id);
        meta_changed = true;
    }
    if (req->RebalanceTimeoutMs != -1 && req->RebalanceTimeoutMs != m->rebalance_timeout_ms) {
        m->rebalance_timeout_ms = req->RebalanceTimeoutMs;
        meta_changed = true;
    }
    if (server_assignor && !streq(m->server_assignor, server_assignor)) {
        replace_str(&m->server_assignor, server_assignor);
        meta_changed = true;
    }
    if (req->SubscribedTopicNames.count >= 0 &&
        !topics_equal(m, req->SubscribedTopicNames.items, req->SubscribedTopicNames.count)) {
        if (set_topics(m, req->SubscribedTopicNames.items, req->SubscribedTopicNames.count) < 0)
            r.oom = true;
        sub_changed = meta_changed = true;
    }
    if (version >= 1 && req->SubscribedTopicRegex.s) {
        /* An empty regex means "no regex" (the member subscribes by names). */
        const char *nr = regex && regex[0] ? regex : NULL;
        if (!streq(m->regex, nr)) {
            replace_str(&m->regex, nr);
            topic_regex_free(m->re);
            m->re = new_re;
            new_re = NULL;
            sub_changed = meta_changed = true;
        }
    }
    topic_regex_free(new_re);
    new_re = NULL;
    if (!streq(m->client_id, client_id) || !streq(m->client_host, client_host)) {
        replace_str(&m->client_id, client_id ? client_id : "");
        replace_str(&m->client_host, client_host ? client_host : "");
        meta_changed = true;
    }
    if (meta_changed)
        rec_member(&r, g, m, a);
    if (sub_changed)
        bump = true;

    /* 2. Subscription metadata and group epoch. */
    if (refresh_meta(gc, g, &r, a, &bump) < 0)
        r.oom = true;
    if (bump) {
        g->group_epoch++;
        rec_group_epoch(&r, g);
        slog(gc->log, SLOG_INFO, "group", "[GroupId %s] bumped the group epoch to %d", group_id,
             g->group_epoch);
    } else if (is_new && g->group_epoch == 0) {
        /* The group's first record, so a replay knows the group exists. */
        rec_group_epoch(&r, g);
    }

    /* 3. Target assignment. */
    if (g->group_epoch > g->assignment_epoch) {
        err = update_target(gc, g, &r, a, msg, sizeof msg);
        if (err)
            goto fail_write;
    }

    /* 4. Reconcile the member. */
    struct cgr_set before = { 0 };
    if (cgr_set_copy(&before, &m->a.assigned) < 0)
        r.oom = true;
    int rc = reconcile(gc, g, m, owned, &r, a);
    if (rc == CGR_FENCED_MEMBER_EPOCH) {
        snprintf(msg, sizeof msg, "The consumer group member has a greater member epoch (%d) "
                 "than the one known by the group coordinator (%d). The member must abandon all "
                 "its partitions and rejoin.", epoch, m->a.member_epoch);
        cgr_set_free(&before);
        err = KP_ERR_FENCED_MEMBER_EPOCH;
        goto fail_write;
    } else if (rc < 0) {
        r.oom = true;
    }
    bool assignment_changed = !cgr_set_equal(&before, &m->a.assigned);
    cgr_set_free(&before);
    arm_session(gc, m);

    resp->ErrorCode = KP_ERR_NONE;
    resp->ErrorMessage = kp_str_c(NULL);
    resp->MemberId = kp_str_c(member_id);
    resp->MemberEpoch = m->a.member_epoch;
    resp->HeartbeatIntervalMs = gc->cfg.consumer_heartbeat_interval_ms;
    bool full = epoch == 0 ||
                (req->RebalanceTimeoutMs != -1 &&
                 (req->SubscribedTopicNames.count >= 0 || (version >= 1 && req->SubscribedTopicRegex.s)) &&
                 req->TopicPartitions.count >= 0);
    if (full || assignment_changed)
        resp->Assignment = response_assignment(m, a);
    cgr_set_free(&owned_set);
    struct hb_ctx *c = calloc(1, sizeof *c);
    if (!c) {
        recs_free(&r);
        hb_fail(resp, KP_ERR_UNKNOWN_SERVER_ERROR, NULL, a, cb, ud);
        return;
    }
    *c = (struct hb_ctx){ resp, cb, ud };
    recs_write(gc, group_id, &r, hb_written, c);
    recs_free(&r);
    return;

fail_write:
    /* Kafka rolls back the in-memory state of a failed heartbeat; here the
     * changes made before the failure (member metadata, group epoch) stay,
     * so they are persisted too and a replay sees the same group. */
    cgr_set_free(&owned_set);
    recs_write(gc, group_id, &r, bg_written, gc);
    recs_free(&r);
    hb_fail(resp, err, msg[0] ? msg : NULL, a, cb, ud);
    return;
fail_owned:
    cgr_set_free(&owned_set);
fail:
    topic_regex_free(new_re);
    if (r.n)
        recs_write(gc, group_id, &r, bg_written, gc);
    recs_free(&r);
    if (g && g->members.count == 0 && g->group_epoch == 0 && !base) {
        /* A group created for a request that failed leaves no trace. */
        gc_remove_group(gc, &g->base);
    }
    hb_fail(resp, err, msg[0] ? msg : NULL, a, cb, ud);
}

/* ---- describe ------------------------------------------------------------- */

const char *cgrp_topic_name(struct group_coordinator *gc, const uint8_t id[16], struct kp_arena *a)
{
    struct gc_topic_info ti;
    if (!gc->meta.by_id || !gc->meta.by_id(gc->meta.ctx, id, &ti))
        return NULL;
    return kp_arena_strndup(a, ti.name, strlen(ti.name));
}

static void describe_assignment(struct group_coordinator *gc, const struct cgr_set *s,
                                struct kp_ConsumerGroupDescribeResponse_Assignment *out,
                                struct kp_arena *a)
{
    struct tp_array t = set_to_tps(s, a);
    memset(out, 0, sizeof *out);
    if (!t.count)
        return;
    out->TopicPartitions.items = kp_arena_alloc(a, (size_t)t.count * sizeof *out->TopicPartitions.items);
    if (!out->TopicPartitions.items)
        return;
    int32_t k = 0;
    for (int32_t i = 0; i < t.count; i++) {
        const char *name = cgrp_topic_name(gc, t.items[i].TopicId.b, a);
        if (!name)
            continue; /* a deleted topic: Kafka leaves it out too */
        struct kp_ConsumerGroupDescribeResponse_TopicPartitions *o = &out->TopicPartitions.items[k++];
        o->TopicId = t.items[i].TopicId;
        o->TopicName = kp_str_c(name);
        o->Partitions.items = t.items[i].Partitions.items;
        o->Partitions.count = t.items[i].Partitions.count;
    }
    out->TopicPartitions.count = k;
}

void gc_consumer_describe(struct group_coordinator *gc, const char *group_id,
                          struct kp_ConsumerGroupDescribeResponse_DescribedGroup *out,
                          struct kp_arena *a)
{
    out->GroupId = kp_str_c(group_id);
    out->GroupState = kp_str_c("");
    out->AuthorizedOperations = INT32_MIN;
    char msg[512];
    int16_t err = gc_validate_group(gc, group_id, false);
    if (err) {
        out->ErrorCode = err;
        return;
    }
    struct group *base = gc_group(gc, group_id);
    if (!base || base->type != GROUP_TYPE_CONSUMER) {
        snprintf(msg, sizeof msg, base ? "Group %s is not a consumer group."
                                       : "Group %s not found.", group_id);
        out->ErrorCode = KP_ERR_GROUP_ID_NOT_FOUND;
        out->ErrorMessage = kp_str_c(kp_arena_strndup(a, msg, strlen(msg)));
        return;
    }
    struct consumer_group *g = (struct consumer_group *)base;
    out->GroupState = kp_str_c(cgrp_state_name(cgrp_state(g)));
    out->GroupEpoch = g->group_epoch;
    out->AssignmentEpoch = g->assignment_epoch;
    char name[ASSIGNOR_NAME_MAX + 1];
    preferred_assignor(gc, g, name, sizeof name);
    out->AssignorName = kp_str_c(kp_arena_strndup(a, name, strlen(name)));
    size_t nm = g->members.count;
    struct cgrp_member **mem = kp_arena_alloc(a, (nm ? nm : 1) * sizeof *mem);
    out->Members.items = kp_arena_alloc(a, (nm ? nm : 1) * sizeof *out->Members.items);
    if (!mem || !out->Members.items) {
        out->ErrorCode = KP_ERR_UNKNOWN_SERVER_ERROR;
        return;
    }
    memset(out->Members.items, 0, (nm ? nm : 1) * sizeof *out->Members.items);
    size_t it = 0, k = 0;
    void *v;
    while (strmap_next(&g->members, &it, NULL, &v))
        mem[k++] = v;
    qsort(mem, nm, sizeof *mem, cmp_member_id);
    for (size_t i = 0; i < nm; i++) {
        struct cgrp_member *m = mem[i];
        struct kp_ConsumerGroupDescribeResponse_Member *o = &out->Members.items[i];
        o->MemberId = kp_str_c(m->member_id);
        o->InstanceId = kp_str_c(m->instance_id);
        o->RackId = kp_str_c(m->rack_id);
        o->MemberEpoch = m->a.member_epoch;
        o->ClientId = kp_str_c(m->client_id ? m->client_id : "");
        o->ClientHost = kp_str_c(m->client_host ? m->client_host : "");
        o->SubscribedTopicNames.items = kp_arena_alloc(a, (size_t)(m->ntopics ? m->ntopics : 1) *
                                                              sizeof *o->SubscribedTopicNames.items);
        for (int j = 0; o->SubscribedTopicNames.items && j < m->ntopics; j++)
            o->SubscribedTopicNames.items[j] = kp_str_c(m->topics[j]);
        o->SubscribedTopicNames.count = o->SubscribedTopicNames.items ? m->ntopics : 0;
        o->SubscribedTopicRegex = kp_str_c(m->regex);
        describe_assignment(gc, &m->a.assigned, &o->Assignment, a);
        describe_assignment(gc, &m->target, &o->TargetAssignment, a);
    }
    out->Members.count = (int32_t)nm;
}

/* ---- offsets ------------------------------------------------------------------ */

int16_t cgrp_validate_commit(struct consumer_group *g, const char *member_id,
                             int32_t member_epoch, int16_t api_version)
{
    /* The admin client or a consumer without group management commits
     * with -1: allowed only while the group is empty. */
    if (member_epoch < 0 && g->members.count == 0)
        return KP_ERR_NONE;
    struct cgrp_member *m = member_id ? strmap_get(&g->members, member_id) : NULL;
    if (!m)
        return KP_ERR_UNKNOWN_MEMBER_ID;
    if (api_version < 9)
        return KP_ERR_UNSUPPORTED_VERSION;
    if (member_epoch != m->a.member_epoch)
        return KP_ERR_STALE_MEMBER_EPOCH;
    return KP_ERR_NONE;
}

int16_t cgrp_validate_fetch(struct consumer_group *g, const char *member_id,
                            int32_t member_epoch)
{
    if (member_epoch < 0 && !member_id)
        return KP_ERR_NONE; /* the admin client */
    struct cgrp_member *m = member_id ? strmap_get(&g->members, member_id) : NULL;
    if (!m)
        return KP_ERR_UNKNOWN_MEMBER_ID;
    if (member_epoch != m->a.member_epoch)
        return KP_ERR_STALE_MEMBER_EPOCH;
    return KP_ERR_NONE;
}

int16_t gc_validate_offset_fetch(struct group_coordinator *gc, const char *group_id,
                                 const char *member_id, int32_t member_epoch)
{
    struct group *base = gc_group(gc, group_id);
    if (!base || base->type != GROUP_TYPE_CONSUMER)
        return KP_ERR_NONE;
    return cgrp_validate_fetch((struct consumer_group *)base, member_id, member_epoch);
}

void cgrp_delete(struct group_coordinator *gc, struct consumer_group *g)
{
    struct recs r = { 0 };
    char *id = strdup(g->base.id);
    if (!id)
        return;
    /* createGroupTombstoneRecords: assignment epoch, subscription metadata,
     * group epoch (members are gone already). */
    recs_add(&r, GREC_CG_TARGET_METADATA, id, NULL, NULL);
    recs_add(&r, GREC_CG_PARTITION_METADATA, id, NULL, NULL);
    recs_add(&r, GREC_CG_METADATA, id, NULL, NULL);
    gc_remove_group(gc, &g->base);
    recs_write(gc, id, &r, bg_written, gc);
    recs_free(&r);
    free(id);
}

int gc_check_assignors(const struct group_coordinator *gc, char *err, size_t errlen)
{
    const char *list = gc->cfg.consumer_assignors ? gc->cfg.consumer_assignors
                                                  : ASSIGNOR_DEFAULT_LIST;
    if (!gc->modules) {
        snprintf(err, errlen, "group.consumer.assignors: no module registry");
        return -1;
    }
    char e[900];
    if (assignor_list_check(gc->modules, list, e, sizeof e) < 0) {
        snprintf(err, errlen, "group.consumer.assignors=%s: %s (load the assignor modules with "
                 "module.load=assignor_range, assignor_sticky, ...)", list, e);
        return -1;
    }
    return 0;
}

/* ---- loading ------------------------------------------------------------------ */

static struct consumer_group *load_group(struct group_coordinator *gc, const char *id)
{
    struct group *base = gc_group(gc, id);
    if (base && base->type == GROUP_TYPE_CONSUMER)
        return (struct consumer_group *)base;
    if (base)
        gc_remove_group(gc, base); /* a classic group converted later in the log */
    return cgrp_create(gc, id);
}

static struct cgrp_member *load_member(struct consumer_group *g, const char *id)
{
    struct cgrp_member *m = strmap_get(&g->members, id);
    return m ? m : member_create(g, id);
}

int cgrp_load_record(struct group_coordinator *gc, const struct grec *rec)
{
    char gid[512], mid[512];
    snprintf(gid, sizeof gid, "%.*s", (int)rec->cg_group.len, rec->cg_group.s);
    if (rec->cg_member.s)
        snprintf(mid, sizeof mid, "%.*s", (int)rec->cg_member.len, rec->cg_member.s);
    else
        mid[0] = '\0';
    struct group *base = gc_group(gc, gid);
    struct consumer_group *g = base && base->type == GROUP_TYPE_CONSUMER
                                   ? (struct consumer_group *)base : NULL;
    if (rec->tombstone) {
        if (!g)
            return 0;
        struct cgrp_member *m = mid[0] ? strmap_get(&g->members, mid) : NULL;
        switch (rec->type) {
        case GREC_CG_METADATA:
            gc_remove_group(gc, &g->base);
            break;
        case GREC_CG_PARTITION_METADATA:
            free_meta(g);
            g->meta_known = false;
            break;
        case GREC_CG_TARGET_METADATA:
            g->assignment_epoch = 0;
            break;
        case GREC_CG_MEMBER:
            if (m)
                member_remove(g, m);
            break;
        case GREC_CG_TARGET_MEMBER:
            if (m)
                cgr_set_free(&m->target);
            break;
        case GREC_CG_CURRENT:
            if (m) {
                cgr_member_free(&m->a);
                m->a.state = CGR_STABLE;
            }
            break;
        }
        return 0;
    }
    if (!g && !(g = load_group(gc, gid)))
        return -1;
    struct cgrp_member *m = NULL;
    if (mid[0] && !(m = load_member(g, mid)))
        return -1;
    switch (rec->type) {
    case GREC_CG_METADATA:
        g->group_epoch = rec->cg_meta.Epoch;
        break;
    case GREC_CG_PARTITION_METADATA: {
        free_meta(g);
        const struct kp_ConsumerGroupPartitionMetadataValue *v = &rec->cg_parts;
        int32_t n = v->Topics.count > 0 ? v->Topics.count : 0;
        g->meta = calloc(n ? (size_t)n : 1, sizeof *g->meta);
        if (!g->meta)
            return -1;
        for (int32_t i = 0; i < n; i++) {
            const struct kp_ConsumerGroupPartitionMetadataValue_TopicMetadata *t = &v->Topics.items[i];
            memcpy(g->meta[i].id, t->TopicId.b, 16);
            g->meta[i].name = strndup(t->TopicName.s ? t->TopicName.s : "",
                                      t->TopicName.len > 0 ? (size_t)t->TopicName.len : 0);
            g->meta[i].nparts = t->NumPartitions;
            if (!g->meta[i].name)
                return -1;
            g->nmeta++;
        }
        qsort(g->meta, (size_t)g->nmeta, sizeof *g->meta, cmp_topic_name);
        g->meta_known = true;
        break;
    }
    case GREC_CG_MEMBER: {
        const struct kp_ConsumerGroupMemberMetadataValue *v = &rec->cg_mmeta;
        char *iid = v->InstanceId.s ? strndup(v->InstanceId.s, (size_t)v->InstanceId.len) : NULL;
        if (m->instance_id && strmap_get(&g->static_members, m->instance_id) == m)
            strmap_del(&g->static_members, m->instance_id);
        free(m->instance_id);
        m->instance_id = iid;
        if (iid)
            strmap_put(&g->static_members, iid, m);
        free(m->rack_id);
        m->rack_id = v->RackId.s ? strndup(v->RackId.s, (size_t)v->RackId.len) : NULL;
        free(m->client_id);
        m->client_id = strndup(v->ClientId.s ? v->ClientId.s : "",
                               v->ClientId.len > 0 ? (size_t)v->ClientId.len : 0);
        free(m->client_host);
        m->client_host = strndup(v->ClientHost.s ? v->ClientHost.s : "",
                                 v->ClientHost.len > 0 ? (size_t)v->ClientHost.len : 0);
        if (set_topics(m, v->SubscribedTopicNames.items,
                       v->SubscribedTopicNames.count > 0 ? v->SubscribedTopicNames.count : 0) < 0)
            return -1;
        free(m->regex);
        topic_regex_free(m->re);
        m->re = NULL;
        m->regex = v->SubscribedTopicRegex.s && v->SubscribedTopicRegex.len > 0
                       ? strndup(v->SubscribedTopicRegex.s, (size_t)v->SubscribedTopicRegex.len)
                       : NULL;
        if (m->regex) {
            char e[256];
            m->re = topic_regex_compile(m->regex, e, sizeof e);
        }
        m->rebalance_timeout_ms = v->RebalanceTimeoutMs;
        free(m->server_assignor);
        m->server_assignor = v->ServerAssignor.s
                                 ? strndup(v->ServerAssignor.s, (size_t)v->ServerAssignor.len)
                                 : NULL;
        break;
    }
    case GREC_CG_TARGET_METADATA:
        g->assignment_epoch = rec->cg_tmeta.AssignmentEpoch;
        break;
    case GREC_CG_TARGET_MEMBER: {
        cgr_set_free(&m->target);
        struct tp_array t = { (void *)rec->cg_target.TopicPartitions.items,
                              rec->cg_target.TopicPartitions.count };
        if (tps_to_set(&m->target, &t) < 0)
            return -1;
        break;
    }
    case GREC_CG_CURRENT: {
        const struct kp_ConsumerGroupCurrentMemberAssignmentValue *v = &rec->cg_current;
        cgr_member_free(&m->a);
        m->a.member_epoch = v->MemberEpoch;
        m->a.previous_member_epoch = v->PreviousMemberEpoch;
        m->a.state = v->State >= 0 && v->State <= 2 ? (enum cgr_state)v->State : CGR_UNKNOWN;
        struct tp_array as = { v->AssignedPartitions.items, v->AssignedPartitions.count };
        struct tp_array pr = { v->PartitionsPendingRevocation.items,
                               v->PartitionsPendingRevocation.count };
        if (tps_to_set(&m->a.assigned, &as) < 0 || tps_to_set(&m->a.pending_revocation, &pr) < 0)
            return -1;
        break;
    }
    }
    return 0;
}

void cgrp_start_loaded(struct consumer_group *g)
{
    struct group_coordinator *gc = g->base.gc;
    size_t it = 0;
    void *v;
    while (strmap_next(&g->members, &it, NULL, &v)) {
        struct cgrp_member *m = v;
        if (cgr_epochs_update(&g->epochs, NULL, &m->a) != 0)
            slog(gc->log, SLOG_WARN, "group", "[GroupId %s] loaded member %s owns a partition "
                 "another member owns too", g->base.id, m->member_id);
        arm_session(gc, m);
        update_rebalance_timer(gc, m);
    }
}
