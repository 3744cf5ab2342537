/* The classic group protocol, after Kafka's GroupCoordinator (3.x) and the
 * classic part of Kafka 4's GroupMetadataManager; function names follow
 * Kafka's so the two can be read side by side. */
#include "group/classic_group.h"
#include "group/consumer_group.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "group/group_records.h"
#include "proto/kp_codec.h"
#include "proto/kafka_errors.h"
#include "util/logger.h"

static const char *const state_names[] = {
    "Empty", "PreparingRebalance", "CompletingRebalance", "Stable", "Dead",
};

const char *cg_state_name(int state)
{
    return state >= 0 && state <= CG_DEAD ? state_names[state] : "Unknown";
}

struct cg_pending {
    char *member_id;
    struct classic_group *g;
    ev_timer timer;
};

static void prepare_rebalance(struct classic_group *g, const char *reason);
static void maybe_prepare_rebalance(struct classic_group *g, const char *reason);
static void try_complete_join(struct classic_group *g);
static void remove_member_and_update_group(struct classic_group *g, struct cg_member *m,
                                           const char *reason);
static void on_complete_join(struct classic_group *g);

static struct ev_loop *loop_of(struct classic_group *g)
{
    return g->base.gc->loop;
}

static struct sluice_logger *log_of(struct classic_group *g)
{
    return g->base.gc->log;
}

void cg_transition(struct classic_group *g, int state)
{
    g->state = state;
    g->current_state_ts = g->base.gc->now_ms();
}

static bool is_leader(const struct classic_group *g, const char *member_id)
{
    return g->leader_id && member_id && strcmp(g->leader_id, member_id) == 0;
}

static void set_leader(struct classic_group *g, const char *member_id)
{
    free(g->leader_id);
    g->leader_id = member_id ? strdup(member_id) : NULL;
}

static struct cg_member *get_member(const struct classic_group *g, const char *member_id)
{
    return member_id ? strmap_get(&g->members, member_id) : NULL;
}

static int32_t group_rebalance_timeout(const struct classic_group *g)
{
    int32_t t = 0;
    for (struct cg_member *m = g->head; m; m = m->next)
        if (m->rebalance_timeout_ms > t)
            t = m->rebalance_timeout_ms;
    return t;
}

/* ---- timers ----------------------------------------------------------- */

static void arm(struct classic_group *g, ev_timer *t, int64_t ms)
{
    ev_timer_stop(loop_of(g), t);
    ev_timer_set(t, ms > 0 ? (double)ms / 1000.0 : 0.0, 0.0);
    ev_timer_start(loop_of(g), t);
}

/* Kafka's hasSatisfiedHeartbeat as seen at expiry: a member waiting in a
 * rebalance is alive by definition, a new one is not (it cannot heartbeat
 * without its member id). */
static bool heartbeat_satisfied(const struct cg_member *m)
{
    if (m->is_new)
        return m->heartbeat_satisfied;
    if (member_awaiting_join(m) || member_awaiting_sync(m))
        return true;
    return m->heartbeat_satisfied;
}

/* completeAndScheduleNextExpiration */
static void schedule_heartbeat(struct classic_group *g, struct cg_member *m, int64_t timeout_ms)
{
    m->heartbeat_satisfied = false;
    if (heartbeat_satisfied(m)) {
        /* Kafka's DelayedHeartbeat completes at once here: no expiry is
         * watched until the next completion reschedules one. */
        ev_timer_stop(loop_of(g), &m->heartbeat);
        return;
    }
    arm(g, &m->heartbeat, timeout_ms);
}

static void heartbeat_expired(struct ev_loop *loop, ev_timer *t, int revents)
{
    (void)loop;
    (void)revents;
    struct cg_member *m = t->data;
    struct classic_group *g = m->group;
    if (g->state == CG_DEAD || heartbeat_satisfied(m))
        return;
    slog(log_of(g), SLOG_INFO, "group",
         "member %s in group %s has failed (session timeout %d ms), removing it from the group",
         m->member_id, g->base.id, m->session_timeout_ms);
    remove_member_and_update_group(g, m, "removing member on heartbeat expiration");
}

static void pending_free(struct classic_group *g, struct cg_pending *p)
{
    ev_timer_stop(loop_of(g), &p->timer);
    free(p->member_id);
    free(p);
}

static void remove_pending(struct classic_group *g, const char *member_id)
{
    struct cg_pending *p = strmap_del(&g->pending_members, member_id);
    if (p)
        pending_free(g, p);
}

/* removePendingMemberAndUpdateGroup */
static void remove_pending_and_update(struct classic_group *g, const char *member_id)
{
    remove_pending(g, member_id);
    if (g->state == CG_PREPARING_REBALANCE)
        try_complete_join(g);
}

static void pending_expired(struct ev_loop *loop, ev_timer *t, int revents)
{
    (void)loop;
    (void)revents;
    struct cg_pending *p = t->data;
    struct classic_group *g = p->g;
    slog(log_of(g), SLOG_INFO, "group",
         "pending member %s in group %s has been removed after session timeout expiration",
         p->member_id, g->base.id);
    char *id = strdup(p->member_id);
    if (id) {
        remove_pending_and_update(g, id);
        free(id);
    }
}

/* ---- membership bookkeeping ------------------------------------------- */

static void member_invoke_join(struct classic_group *g, struct cg_member *m,
                               const struct gc_join_result *res)
{
    if (!m->join_cb)
        return;
    gc_join_cb cb = m->join_cb;
    void *ud = m->join_ud;
    m->join_cb = NULL;
    m->join_ud = NULL;
    g->num_awaiting_join--;
    cb(ud, res);
}

static void member_join_error(struct classic_group *g, struct cg_member *m, const char *member_id,
                              int16_t err)
{
    struct gc_join_result r = { .error = err, .generation_id = -1, .leader_id = "",
                                .member_id = member_id };
    member_invoke_join(g, m, &r);
}

static bool member_invoke_sync(struct cg_member *m, const struct gc_sync_result *res)
{
    if (!m->sync_cb)
        return false;
    gc_sync_cb cb = m->sync_cb;
    void *ud = m->sync_ud;
    m->sync_cb = NULL;
    m->sync_ud = NULL;
    cb(ud, res);
    return true;
}

static void member_sync_error(struct cg_member *m, int16_t err)
{
    struct gc_sync_result r = { .error = err };
    member_invoke_sync(m, &r);
}

/* GroupMetadata.add */
static void group_add(struct classic_group *g, struct cg_member *m, gc_join_cb cb, void *ud)
{
    m->group = g;
    ev_init(&m->heartbeat, heartbeat_expired);
    m->heartbeat.data = m;
    if (g->nmembers == 0) {
        free(g->protocol_type);
        g->protocol_type = strdup(m->protocol_type);
    }
    if (!g->leader_id)
        set_leader(g, m->member_id);
    strmap_put(&g->members, m->member_id, m);
    if (m->group_instance_id)
        strmap_put(&g->static_members, m->group_instance_id, m);
    m->prev = g->tail;
    m->next = NULL;
    if (g->tail)
        g->tail->next = m;
    else
        g->head = m;
    g->tail = m;
    g->nmembers++;
    m->join_cb = cb;
    m->join_ud = ud;
    if (cb)
        g->num_awaiting_join++;
    remove_pending(g, m->member_id);
}

/* GroupMetadata.remove, then free.  Callbacks still waiting are answered
 * with UNKNOWN_MEMBER_ID so no request is ever left without a response. */
static void group_remove(struct classic_group *g, struct cg_member *m)
{
    member_join_error(g, m, "", KP_ERR_UNKNOWN_MEMBER_ID);
    member_sync_error(m, KP_ERR_UNKNOWN_MEMBER_ID);
    ev_timer_stop(loop_of(g), &m->heartbeat);
    strmap_del(&g->members, m->member_id);
    strmap_del(&g->pending_sync, m->member_id);
    if (m->group_instance_id && strmap_get(&g->static_members, m->group_instance_id) == m)
        strmap_del(&g->static_members, m->group_instance_id);
    if (m->prev)
        m->prev->next = m->next;
    else
        g->head = m->next;
    if (m->next)
        m->next->prev = m->prev;
    else
        g->tail = m->prev;
    g->nmembers--;
    if (is_leader(g, m->member_id))
        set_leader(g, g->head ? g->head->member_id : NULL);
    remove_pending(g, m->member_id);
    member_free(m);
}

/* GroupMetadata.updateMember */
static int update_member(struct classic_group *g, struct cg_member *m,
                         const struct gc_join_req *req, gc_join_cb cb, void *ud)
{
    if (member_set_protocols(m, req->protocols, req->nprotocols) < 0)
        return -1;
    m->rebalance_timeout_ms = req->rebalance_timeout_ms;
    m->session_timeout_ms = req->session_timeout_ms;
    if (m->join_cb && cb) {
        /* A JoinGroup retried while the previous one still waits (Kafka
         * drops the old future; here every request gets an answer). */
        member_join_error(g, m, m->member_id, KP_ERR_REBALANCE_IN_PROGRESS);
    }
    if (cb && !m->join_cb)
        g->num_awaiting_join++;
    else if (!cb && m->join_cb)
        g->num_awaiting_join--;
    m->join_cb = cb;
    m->join_ud = ud;
    return 0;
}

static bool has_all_members_joined(const struct classic_group *g)
{
    return g->nmembers == g->num_awaiting_join && g->pending_members.count == 0;
}

/* Kafka's supportsProtocols: an empty group accepts any non-empty protocol
 * type and list; otherwise the type must match and one of the protocols
 * must be supported by every current member. */
static bool supports_protocols(const struct classic_group *g, const char *protocol_type,
                               const struct gc_protocol *p, int n)
{
    if (g->state == CG_EMPTY)
        return protocol_type && protocol_type[0] && n > 0;
    if (!g->protocol_type || !protocol_type || strcmp(g->protocol_type, protocol_type) != 0)
        return false;
    for (int i = 0; i < n; i++) {
        int count = 0;
        for (struct cg_member *m = g->head; m; m = m->next)
            count += member_supports(m, p[i].name);
        if (count == g->nmembers)
            return true;
    }
    return false;
}

/* selectProtocol: candidates are the protocols every member supports; each
 * member votes for its most preferred candidate; most votes wins (ties go
 * to the one voted first in join order).  O(members x protocols). */
static const char *select_protocol(const struct classic_group *g)
{
    const struct cg_member *first = g->head;
    if (!first)
        return NULL;
    /* Every candidate is one of the first member's protocols. */
    int nc = first->nprotocols;
    bool *cand = calloc(nc > 0 ? (size_t)nc : 1, sizeof *cand);
    int *votes = calloc(nc > 0 ? (size_t)nc : 1, sizeof *votes);
    const char *best = NULL;
    if (!cand || !votes)
        goto out;
    for (int i = 0; i < nc; i++) {
        cand[i] = true;
        for (const struct cg_member *m = first->next; m && cand[i]; m = m->next)
            cand[i] = member_supports(m, first->protocols[i].name);
    }
    int best_votes = 0;
    for (const struct cg_member *m = g->head; m; m = m->next) {
        for (int j = 0; j < m->nprotocols; j++) {
            int c = -1;
            for (int i = 0; i < nc && c < 0; i++)
                if (cand[i] && strcmp(first->protocols[i].name, m->protocols[j].name) == 0)
                    c = i;
            if (c < 0)
                continue;
            if (++votes[c] > best_votes) {
                best_votes = votes[c];
                best = first->protocols[c].name;
            }
            break;
        }
    }
out:
    free(cand);
    free(votes);
    return best;
}

static void free_subscribed(struct classic_group *g)
{
    for (int i = 0; i < g->nsubscribed; i++)
        free(g->subscribed[i]);
    free(g->subscribed);
    g->subscribed = NULL;
    g->nsubscribed = 0;
    g->subscribed_known = false;
}

/* ConsumerProtocolSubscription: int16 version, [string] topics, ...  Only
 * the topics are needed (for offset expiry and OffsetDelete). */
static int parse_subscription(const uint8_t *p, int32_t len, struct classic_group *g)
{
    struct wire_reader r;
    wire_reader_init(&r, p, len > 0 ? (size_t)len : 0);
    int16_t ver = wire_read_i16(&r);
    int32_t n = wire_read_i32(&r);
    if (r.err || ver < 0 || n < 0 || (size_t)n > wire_remaining(&r) / 2)
        return -1;
    for (int32_t i = 0; i < n; i++) {
        int16_t sl = wire_read_i16(&r);
        const uint8_t *s = sl >= 0 ? wire_read_raw(&r, (size_t)sl) : NULL;
        if (r.err || !s)
            return -1;
        bool dup = false;
        for (int j = 0; j < g->nsubscribed && !dup; j++)
            dup = strlen(g->subscribed[j]) == (size_t)sl &&
                  memcmp(g->subscribed[j], s, (size_t)sl) == 0;
        if (dup)
            continue;
        char **nv = realloc(g->subscribed, (size_t)(g->nsubscribed + 1) * sizeof *nv);
        if (!nv)
            return -1;
        g->subscribed = nv;
        if (!(nv[g->nsubscribed] = strndup((const char *)s, (size_t)sl)))
            return -1;
        g->nsubscribed++;
    }
    return 0;
}

bool cg_is_consumer_group(const struct classic_group *g)
{
    return g->protocol_type && strcmp(g->protocol_type, "consumer") == 0;
}

/* computeSubscribedTopics: only for the consumer protocol, and only when
 * every member's metadata parses. */
static void compute_subscribed(struct classic_group *g)
{
    free_subscribed(g);
    if (!cg_is_consumer_group(g) || !g->protocol_name)
        return;
    for (struct cg_member *m = g->head; m; m = m->next) {
        const struct cg_protocol *p = member_protocol(m, g->protocol_name);
        if (!p || parse_subscription(p->metadata, p->len, g) < 0) {
            free_subscribed(g);
            return;
        }
    }
    g->subscribed_known = true;
}

bool cg_is_subscribed(const struct classic_group *g, const char *topic)
{
    if (!g->subscribed_known)
        return true;
    for (int i = 0; i < g->nsubscribed; i++)
        if (strcmp(g->subscribed[i], topic) == 0)
            return true;
    return false;
}

/* initNextGeneration */
static void init_next_generation(struct classic_group *g)
{
    g->generation_id++;
    free(g->protocol_name);
    g->protocol_name = NULL;
    if (g->nmembers > 0) {
        const char *p = select_protocol(g);
        g->protocol_name = p ? strdup(p) : NULL;
        compute_subscribed(g);
        cg_transition(g, CG_COMPLETING_REBALANCE);
    } else {
        compute_subscribed(g);
        cg_transition(g, CG_EMPTY);
    }
    strmap_free(&g->pending_sync);
    strmap_init(&g->pending_sync);
}

/* ---- persistence (GroupMetadataManager.storeGroup) -------------------- */

struct store_ctx {
    struct group_coordinator *gc;
    char *group_id;
    uint64_t uid;
    int32_t generation;
    int kind; /* STORE_* */
    int n;
    char **member_ids;
    uint8_t **data;
    int32_t *len;
    /* Static member replacement (Stable, no rebalance): what to revert. */
    char *old_member_id, *new_member_id;
    struct cg_protocol *old_protocols;
    int old_nprotocols;
    int32_t old_rebalance_timeout, old_session_timeout;
    char *old_leader;
    bool supports_skip; /* JoinGroup v9+: SkipAssignment */
};

enum { STORE_SYNC, STORE_EMPTY, STORE_STATIC_REPLACE };

static void store_ctx_free(struct store_ctx *c)
{
    for (int i = 0; i < c->n; i++) {
        free(c->member_ids[i]);
        free(c->data[i]);
    }
    free(c->member_ids);
    free(c->data);
    free(c->len);
    free(c->group_id);
    free(c->old_member_id);
    free(c->new_member_id);
    for (int i = 0; i < c->old_nprotocols; i++) {
        free(c->old_protocols[i].name);
        free(c->old_protocols[i].metadata);
    }
    free(c->old_protocols);
    free(c->old_leader);
    free(c);
}

static const uint8_t *ctx_assignment(const struct store_ctx *c, const char *member_id,
                                     int32_t *len)
{
    for (int i = 0; i < c->n; i++)
        if (strcmp(c->member_ids[i], member_id) == 0) {
            *len = c->len[i];
            return c->data[i];
        }
    *len = 0;
    return NULL;
}

static void store_done(void *ud, int16_t err);

/* Writes the GroupMetadata record of g with assignments from c (or the
 * members' own when c has none), then store_done(c). */
static void store_group(struct classic_group *g, struct store_ctx *c)
{
    struct kp_GroupMetadataValue v;
    memset(&v, 0, sizeof v);
    kp_struct_defaults(&kp_desc_GroupMetadataValue, &v);
    v.protocolType = kp_str_c(g->protocol_type ? g->protocol_type : "");
    v.generation = g->generation_id;
    v.protocol = kp_str_c(g->protocol_name);
    v.leader = kp_str_c(g->leader_id);
    v.currentStateTimestamp = g->current_state_ts;
    struct kp_GroupMetadataValue_MemberMetadata *mm =
        calloc(g->nmembers > 0 ? (size_t)g->nmembers : 1, sizeof *mm);
    struct wire_writer kw, vw;
    wire_writer_init(&kw);
    wire_writer_init(&vw);
    int i = 0;
    for (struct cg_member *m = g->head; mm && m; m = m->next, i++) {
        mm[i].memberId = kp_str_c(m->member_id);
        mm[i].groupInstanceId = kp_str_c(m->group_instance_id);
        mm[i].clientId = kp_str_c(m->client_id);
        mm[i].clientHost = kp_str_c(m->client_host);
        mm[i].rebalanceTimeout = m->rebalance_timeout_ms;
        mm[i].sessionTimeout = m->session_timeout_ms;
        const struct cg_protocol *p = g->protocol_name ? member_protocol(m, g->protocol_name)
                                                       : NULL;
        mm[i].subscription.p = p ? p->metadata : (const uint8_t *)"";
        mm[i].subscription.len = p ? p->len : 0;
        int32_t alen = 0;
        const uint8_t *a = c->kind == STORE_SYNC ? ctx_assignment(c, m->member_id, &alen) : NULL;
        if (c->kind != STORE_SYNC) {
            a = m->assignment;
            alen = m->assignment_len;
        }
        mm[i].assignment.p = a ? a : (const uint8_t *)"";
        mm[i].assignment.len = a ? alen : 0;
    }
    v.members.items = mm;
    v.members.count = g->nmembers;
    grec_encode_group_key(&kw, g->base.id);
    int rc = mm ? grec_encode_group_value(&vw, &v) : -1;
    free(mm);
    if (rc < 0 || kw.err || vw.err) {
        wire_writer_free(&kw);
        wire_writer_free(&vw);
        store_done(c, KP_ERR_UNKNOWN_SERVER_ERROR);
        return;
    }
    struct gc_record rec = { kw.buf, (int32_t)kw.len, vw.buf, (int32_t)vw.len };
    gc_write(g->base.gc, g->base.id, &rec, 1, store_done, c);
    wire_writer_free(&kw);
    wire_writer_free(&vw);
}

static struct store_ctx *store_ctx_new(struct classic_group *g, int kind)
{
    struct store_ctx *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->gc = g->base.gc;
    c->group_id = strdup(g->base.id);
    c->uid = g->base.uid;
    c->generation = g->generation_id;
    c->kind = kind;
    if (!c->group_id) {
        free(c);
        return NULL;
    }
    return c;
}

/* propagateAssignment */
static void propagate_assignment(struct classic_group *g, int16_t err)
{
    struct cg_member *next;
    for (struct cg_member *m = g->head; m; m = next) {
        next = m->next;
        struct gc_sync_result r = { .error = err };
        if (err == KP_ERR_NONE) {
            r.protocol_type = g->protocol_type;
            r.protocol_name = g->protocol_name;
            r.assignment = m->assignment;
            r.len = m->assignment_len;
            if (m->assignment_len == 0)
                slog(log_of(g), SLOG_DEBUG, "group",
                     "sending empty assignment to member %s of %s for generation %d",
                     m->member_id, g->base.id, g->generation_id);
        }
        /* The session timer restarts after the assignment goes out: one that
         * expired while the member waited was ignored. */
        if (member_invoke_sync(m, &r))
            schedule_heartbeat(g, m, m->session_timeout_ms);
    }
}

/* resetAndPropagateAssignmentError */
static void reset_and_propagate_assignment_error(struct classic_group *g, int16_t err)
{
    for (struct cg_member *m = g->head; m; m = m->next)
        member_set_assignment(m, NULL, 0);
    propagate_assignment(g, err);
}

static void static_replace(struct classic_group *g, struct cg_member *m, const char *new_id);

static void store_done(void *ud, int16_t err)
{
    struct store_ctx *c = ud;
    struct group *base = gc_group(c->gc, c->group_id);
    struct classic_group *g =
        base && base->uid == c->uid && base->type == GROUP_TYPE_CLASSIC ? (void *)base : NULL;
    err = kp_coordinator_append_error(err, KP_ERR_UNKNOWN_SERVER_ERROR);
    if (!g) {
        store_ctx_free(c);
        return;
    }
    switch (c->kind) {
    case STORE_SYNC:
        /* Another member may have joined meanwhile: act only if the group is
         * still completing the same generation. */
        if (g->state == CG_COMPLETING_REBALANCE && g->generation_id == c->generation) {
            if (err) {
                reset_and_propagate_assignment_error(g, err);
                maybe_prepare_rebalance(g, "error when storing group assignment during SyncGroup");
            } else {
                for (struct cg_member *m = g->head; m; m = m->next) {
                    int32_t len;
                    const uint8_t *a = ctx_assignment(c, m->member_id, &len);
                    member_set_assignment(m, a, a ? len : 0);
                }
                cg_transition(g, CG_STABLE);
                propagate_assignment(g, KP_ERR_NONE);
            }
        }
        break;
    case STORE_EMPTY:
        if (err)
            slog(log_of(g), SLOG_WARN, "group",
                 "failed to write empty metadata for group %s: %s", g->base.id,
                 kp_error_name(err));
        break;
    case STORE_STATIC_REPLACE: {
        struct cg_member *m = get_member(g, c->new_member_id);
        if (!m)
            break;
        if (err) {
            slog(log_of(g), SLOG_WARN, "group",
                 "failed to persist member id %s of static member %s in group %s: %s; "
                 "reverting", c->new_member_id, m->group_instance_id, g->base.id,
                 kp_error_name(err));
            /* Revert: old protocols and timeouts, old member id. */
            struct cg_protocol *np = m->protocols;
            int nn = m->nprotocols;
            m->protocols = c->old_protocols;
            m->nprotocols = c->old_nprotocols;
            c->old_protocols = np;
            c->old_nprotocols = nn;
            m->rebalance_timeout_ms = c->old_rebalance_timeout;
            m->session_timeout_ms = c->old_session_timeout;
            gc_join_cb cb = m->join_cb;
            void *jud = m->join_ud;
            if (cb) {
                m->join_cb = NULL;
                m->join_ud = NULL;
                g->num_awaiting_join--;
            }
            static_replace(g, m, c->old_member_id);
            schedule_heartbeat(g, m, m->session_timeout_ms);
            if (cb) {
                struct gc_join_result r = { .error = err, .generation_id = g->generation_id,
                                            .protocol_type = g->protocol_type,
                                            .protocol_name = g->protocol_name,
                                            .leader_id = c->old_leader ? c->old_leader : "",
                                            .member_id = "" };
                cb(jud, &r);
            }
        } else if (m->join_cb) {
            struct gc_join_result r = { .error = KP_ERR_NONE,
                                        .generation_id = g->generation_id,
                                        .protocol_type = g->protocol_type,
                                        .protocol_name = g->protocol_name,
                                        .member_id = m->member_id };
            struct gc_join_member *jm = NULL;
            bool leader = is_leader(g, m->member_id);
            if (c->supports_skip && leader) {
                /* JoinGroup v9+: the static leader learns it leads but skips
                 * the assignment, so it keeps watching metadata changes. */
                jm = calloc(g->nmembers > 0 ? (size_t)g->nmembers : 1, sizeof *jm);
                int k = 0;
                for (struct cg_member *o = g->head; jm && o; o = o->next, k++) {
                    const struct cg_protocol *p = member_protocol(o, g->protocol_name);
                    jm[k] = (struct gc_join_member){ o->member_id, o->group_instance_id,
                                                     p ? p->metadata : NULL, p ? p->len : 0 };
                }
                r.members = jm;
                r.nmembers = jm ? g->nmembers : 0;
                r.leader_id = g->leader_id;
                r.skip_assignment = true;
            } else if (c->supports_skip) {
                r.leader_id = g->leader_id ? g->leader_id : "";
            } else {
                /* Older versions: answer with the leader id from before the
                 * replacement, so a returning leader does not run a trivial
                 * assignment that a stable group would never send out. */
                r.leader_id = c->old_leader ? c->old_leader : "";
            }
            member_invoke_join(g, m, &r);
            free(jm);
        }
        break;
    }
    }
    store_ctx_free(c);
}

/* ---- rebalance -------------------------------------------------------- */

static void join_timer_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
    (void)loop;
    (void)revents;
    struct classic_group *g = t->data;
    g->join_armed = false;
    if (g->join_initial) {
        /* InitialDelayedJoin: keep waiting while new members keep coming,
         * up to the rebalance timeout. */
        if (g->new_member_added && g->join_remaining_ms != 0) {
            g->new_member_added = false;
            int32_t cfg = g->base.gc->cfg.initial_rebalance_delay_ms;
            int32_t delay = cfg < g->join_remaining_ms ? cfg : g->join_remaining_ms;
            int32_t remaining = g->join_remaining_ms - g->join_delay_ms;
            g->join_remaining_ms = remaining > 0 ? remaining : 0;
            g->join_delay_ms = delay;
            g->join_armed = true;
            arm(g, &g->join_timer, delay);
            return;
        }
    }
    on_complete_join(g);
}

static void start_delayed_join(struct classic_group *g, bool initial, int32_t delay_ms,
                               int32_t remaining_ms)
{
    g->join_initial = initial;
    g->join_delay_ms = delay_ms;
    g->join_remaining_ms = remaining_ms;
    g->join_armed = true;
    arm(g, &g->join_timer, delay_ms);
}

/* DelayedJoin.tryComplete: a normal rebalance completes as soon as every
 * member has rejoined; the initial delay never completes early. */
static void try_complete_join(struct classic_group *g)
{
    if (g->state != CG_PREPARING_REBALANCE || !g->join_armed || g->join_initial)
        return;
    if (has_all_members_joined(g)) {
        ev_timer_stop(loop_of(g), &g->join_timer);
        g->join_armed = false;
        on_complete_join(g);
    }
}

static void remove_sync_expiration(struct classic_group *g)
{
    if (g->sync_armed) {
        ev_timer_stop(loop_of(g), &g->sync_timer);
        g->sync_armed = false;
    }
}

static void prepare_rebalance(struct classic_group *g, const char *reason)
{
    /* Members waiting for their assignment must rejoin instead. */
    if (g->state == CG_COMPLETING_REBALANCE)
        reset_and_propagate_assignment_error(g, KP_ERR_REBALANCE_IN_PROGRESS);
    remove_sync_expiration(g);
    int32_t rto = group_rebalance_timeout(g);
    bool initial = g->state == CG_EMPTY;
    cg_transition(g, CG_PREPARING_REBALANCE);
    slog(log_of(g), SLOG_INFO, "group",
         "preparing to rebalance group %s in state PreparingRebalance with old generation %d "
         "(reason: %s)", g->base.id, g->generation_id, reason);
    if (initial) {
        int32_t d = g->base.gc->cfg.initial_rebalance_delay_ms;
        start_delayed_join(g, true, d, rto - d > 0 ? rto - d : 0);
    } else {
        start_delayed_join(g, false, rto, 0);
        try_complete_join(g);
    }
}

/* canRebalance: from Stable, CompletingRebalance or Empty. */
static void maybe_prepare_rebalance(struct classic_group *g, const char *reason)
{
    if (g->state == CG_STABLE || g->state == CG_COMPLETING_REBALANCE || g->state == CG_EMPTY)
        prepare_rebalance(g, reason);
}

/* maybeElectNewJoinedLeader */
static bool maybe_elect_new_joined_leader(struct classic_group *g)
{
    struct cg_member *leader = get_member(g, g->leader_id);
    if (!leader)
        return false;
    if (member_awaiting_join(leader))
        return true;
    for (struct cg_member *m = g->head; m; m = m->next) {
        if (member_awaiting_join(m)) {
            slog(log_of(g), SLOG_INFO, "group",
                 "group leader %s of %s failed to rejoin before the rebalance timeout; new "
                 "leader %s", g->leader_id, g->base.id, m->member_id);
            set_leader(g, m->member_id);
            return true;
        }
    }
    return false;
}

static void sync_timer_cb(struct ev_loop *loop, ev_timer *t, int revents);

static void schedule_pending_sync(struct classic_group *g)
{
    g->sync_generation = g->generation_id;
    g->sync_armed = true;
    arm(g, &g->sync_timer, group_rebalance_timeout(g));
}

/* onCompleteJoin */
static void on_complete_join(struct classic_group *g)
{
    /* Dynamic members that did not rejoin in time are dropped; static ones
     * stay (their session timer decides). */
    struct cg_member *m, *next;
    for (m = g->head; m; m = next) {
        next = m->next;
        if (!member_awaiting_join(m) && !m->group_instance_id) {
            slog(log_of(g), SLOG_INFO, "group", "group %s removed dynamic member %s who "
                 "has not rejoined", g->base.id, m->member_id);
            group_remove(g, m);
        }
    }
    if (g->state == CG_DEAD)
        return;
    if (!maybe_elect_new_joined_leader(g) && g->nmembers > 0) {
        /* Nobody rejoined: wait another rebalance timeout for the session
         * timers to remove the silent members. */
        slog(log_of(g), SLOG_WARN, "group",
             "group %s could not complete rebalance because no members rejoined", g->base.id);
        start_delayed_join(g, false, group_rebalance_timeout(g), 0);
        return;
    }
    init_next_generation(g);
    if (g->state == CG_EMPTY) {
        slog(log_of(g), SLOG_INFO, "group", "group %s with generation %d is now empty",
             g->base.id, g->generation_id);
        struct store_ctx *c = store_ctx_new(g, STORE_EMPTY);
        if (c)
            store_group(g, c);
        return;
    }
    slog(log_of(g), SLOG_INFO, "group", "stabilized group %s generation %d with %d members",
         g->base.id, g->generation_id, g->nmembers);
    struct gc_join_member *all = calloc((size_t)g->nmembers, sizeof *all);
    int k = 0;
    for (m = g->head; all && m; m = m->next, k++) {
        const struct cg_protocol *p = member_protocol(m, g->protocol_name);
        all[k] = (struct gc_join_member){ m->member_id, m->group_instance_id,
                                          p ? p->metadata : NULL, p ? p->len : 0 };
    }
    /* The callbacks answer requests; they cannot change the membership. */
    for (m = g->head; m; m = next) {
        next = m->next;
        bool leader = is_leader(g, m->member_id);
        struct gc_join_result r = { .error = KP_ERR_NONE,
                                    .generation_id = g->generation_id,
                                    .protocol_type = g->protocol_type,
                                    .protocol_name = g->protocol_name,
                                    .leader_id = g->leader_id ? g->leader_id : "",
                                    .member_id = m->member_id,
                                    .members = leader ? all : NULL,
                                    .nmembers = leader && all ? g->nmembers : 0 };
        if (leader && !all)
            r.error = KP_ERR_UNKNOWN_SERVER_ERROR;
        member_invoke_join(g, m, &r);
        schedule_heartbeat(g, m, m->session_timeout_ms);
        m->is_new = false;
        strmap_put(&g->pending_sync, m->member_id, m);
    }
    free(all);
    schedule_pending_sync(g);
}

/* onExpirePendingSync: members that joined but never sent SyncGroup within
 * the rebalance timeout are removed and the group rebalances. */
static void sync_timer_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
    (void)loop;
    (void)revents;
    struct classic_group *g = t->data;
    g->sync_armed = false;
    if (g->sync_generation != g->generation_id ||
        (g->state != CG_COMPLETING_REBALANCE && g->state != CG_STABLE) ||
        g->pending_sync.count == 0)
        return;
    struct cg_member *m, *next;
    for (m = g->head; m; m = next) {
        next = m->next;
        if (strmap_get(&g->pending_sync, m->member_id)) {
            slog(log_of(g), SLOG_INFO, "group", "removing member %s of group %s: no SyncGroup "
                 "within the rebalance timeout", m->member_id, g->base.id);
            group_remove(g, m);
        }
    }
    prepare_rebalance(g, "removing members on pending sync request expiration");
}

/* removeMemberAndUpdateGroup */
static void remove_member_and_update_group(struct classic_group *g, struct cg_member *m,
                                           const char *reason)
{
    /* A new member may time out with a JoinGroup still waiting: it gets
     * UNKNOWN_MEMBER_ID and will retry if it is still alive. */
    member_join_error(g, m, "", KP_ERR_UNKNOWN_MEMBER_ID);
    group_remove(g, m);
    switch (g->state) {
    case CG_STABLE:
    case CG_COMPLETING_REBALANCE:
        maybe_prepare_rebalance(g, reason);
        break;
    case CG_PREPARING_REBALANCE:
        try_complete_join(g);
        break;
    default:
        break;
    }
}

/* ---- group lifecycle -------------------------------------------------- */

struct classic_group *cg_create(struct group_coordinator *gc, const char *id)
{
    struct classic_group *g = calloc(1, sizeof *g);
    if (!g || !(g->base.id = strdup(id))) {
        free(g);
        return NULL;
    }
    g->base.type = GROUP_TYPE_CLASSIC;
    g->base.gc = gc;
    g->base.uid = ++gc->next_uid;
    g->state = CG_EMPTY;
    g->current_state_ts = -1;
    strmap_init(&g->members);
    strmap_init(&g->static_members);
    strmap_init(&g->pending_members);
    strmap_init(&g->pending_sync);
    ev_init(&g->join_timer, join_timer_cb);
    g->join_timer.data = g;
    ev_init(&g->sync_timer, sync_timer_cb);
    g->sync_timer.data = g;
    if (strmap_put(&gc->groups, g->base.id, g) < 0) {
        free(g->base.id);
        free(g);
        return NULL;
    }
    return g;
}

void cg_fail_waiting(struct classic_group *g, int16_t err)
{
    for (struct cg_member *m = g->head; m; m = m->next) {
        member_join_error(g, m, m->member_id, err);
        member_sync_error(m, err);
    }
}

void cg_free(struct classic_group *g)
{
    cg_fail_waiting(g, KP_ERR_NOT_COORDINATOR);
    ev_timer_stop(loop_of(g), &g->join_timer);
    ev_timer_stop(loop_of(g), &g->sync_timer);
    while (g->head)
        group_remove(g, g->head);
    size_t it = 0;
    void *v;
    while (strmap_next(&g->pending_members, &it, NULL, &v))
        pending_free(g, v);
    strmap_free(&g->pending_members);
    strmap_free(&g->members);
    strmap_free(&g->static_members);
    strmap_free(&g->pending_sync);
    free_subscribed(g);
    free(g->protocol_type);
    free(g->protocol_name);
    free(g->leader_id);
    free(g->base.id);
    free(g);
}

struct classic_group *cg_load(struct group_coordinator *gc, const char *id,
                              const struct kp_GroupMetadataValue *v)
{
    struct group *old = gc_group(gc, id);
    if (old)
        gc_remove_group(gc, old);
    struct classic_group *g = cg_create(gc, id);
    if (!g)
        return NULL;
    g->generation_id = v->generation;
    g->protocol_type = strdup(v->protocolType.s ? v->protocolType.s : "");
    g->protocol_name = v->protocol.s ? strdup(v->protocol.s) : NULL;
    g->current_state_ts = v->currentStateTimestamp;
    for (int32_t i = 0; i < v->members.count; i++) {
        const struct kp_GroupMetadataValue_MemberMetadata *mm = &v->members.items[i];
        if (!mm->memberId.s || get_member(g, mm->memberId.s))
            continue;
        struct cg_member *m = member_new(mm->memberId.s, mm->groupInstanceId.s, mm->clientId.s,
                                         mm->clientHost.s, g->protocol_type,
                                         mm->rebalanceTimeout >= 0 ? mm->rebalanceTimeout
                                                                   : mm->sessionTimeout,
                                         mm->sessionTimeout);
        struct gc_protocol p = { g->protocol_name ? g->protocol_name : "",
                                 mm->subscription.p, mm->subscription.len };
        if (!m || member_set_protocols(m, &p, g->protocol_name ? 1 : 0) < 0 ||
            member_set_assignment(m, mm->assignment.p, mm->assignment.len) < 0) {
            member_free(m);
            continue;
        }
        group_add(g, m, NULL, NULL);
    }
    set_leader(g, v->leader.s && get_member(g, v->leader.s) ? v->leader.s
                  : g->head                                ? g->head->member_id
                                                           : NULL);
    g->state = g->nmembers ? CG_STABLE : CG_EMPTY;
    compute_subscribed(g);
    return g;
}

void cg_start_loaded(struct classic_group *g)
{
    for (struct cg_member *m = g->head; m; m = m->next)
        schedule_heartbeat(g, m, m->session_timeout_ms);
}

void cg_member_activity(struct classic_group *g, struct cg_member *m)
{
    schedule_heartbeat(g, m, m->session_timeout_ms);
}

int16_t cg_validate_member(struct classic_group *g, const char *member_id,
                           const char *group_instance_id)
{
    if (group_instance_id) {
        struct cg_member *cur = strmap_get(&g->static_members, group_instance_id);
        if (!cur)
            return KP_ERR_UNKNOWN_MEMBER_ID;
        if (strcmp(cur->member_id, member_id ? member_id : "") != 0) {
            slog(log_of(g), SLOG_INFO, "group",
                 "static member %s of group %s with unknown member id %s is fenced",
                 group_instance_id, g->base.id, member_id ? member_id : "");
            return KP_ERR_FENCED_INSTANCE_ID;
        }
        return KP_ERR_NONE;
    }
    return get_member(g, member_id) ? KP_ERR_NONE : KP_ERR_UNKNOWN_MEMBER_ID;
}

/* ---- JoinGroup -------------------------------------------------------- */

static void join_error(gc_join_cb cb, void *ud, const char *member_id, int16_t err)
{
    struct gc_join_result r = { .error = err, .generation_id = -1, .leader_id = "",
                                .member_id = member_id };
    cb(ud, &r);
}

/* generateMemberId: clientId (or group.instance.id) + "-" + a random UUID. */
static void generate_member_id(const struct gc_join_req *req, char *out, size_t len)
{
    uint8_t u[16];
    if (getrandom(u, sizeof u, 0) != (ssize_t)sizeof u)
        for (size_t i = 0; i < sizeof u; i++)
            u[i] = (uint8_t)rand();
    u[6] = (u[6] & 0x0f) | 0x40;
    u[8] = (u[8] & 0x3f) | 0x80;
    const char *prefix = req->group_instance_id ? req->group_instance_id
                                                : (req->client_id ? req->client_id : "");
    snprintf(out, len,
             "%s-%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", prefix,
             u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12],
             u[13], u[14], u[15]);
}

/* addMemberAndRebalance */
static void add_member_and_rebalance(struct classic_group *g, const struct gc_join_req *req,
                                     const char *member_id, gc_join_cb cb, void *ud)
{
    struct cg_member *m = member_new(member_id, req->group_instance_id, req->client_id,
                                     req->client_host, req->protocol_type,
                                     req->rebalance_timeout_ms, req->session_timeout_ms);
    if (!m || member_set_protocols(m, req->protocols, req->nprotocols) < 0) {
        member_free(m);
        join_error(cb, ud, member_id, KP_ERR_UNKNOWN_SERVER_ERROR);
        return;
    }
    m->is_new = true;
    /* A new member during the initial delay extends it (InitialDelayedJoin). */
    if (g->state == CG_PREPARING_REBALANCE && g->generation_id == 0)
        g->new_member_added = true;
    group_add(g, m, cb, ud);
    /* New members cannot heartbeat: their JoinGroup is bounded instead. */
    schedule_heartbeat(g, m, CG_NEW_MEMBER_JOIN_TIMEOUT_MS);
    char reason[256];
    snprintf(reason, sizeof reason, "adding new member %s with group instance id %s; client "
             "reason: %s", member_id, req->group_instance_id ? req->group_instance_id : "None",
             req->reason ? req->reason : "not provided");
    maybe_prepare_rebalance(g, reason);
}

/* updateMemberAndRebalance */
static void update_member_and_rebalance(struct classic_group *g, struct cg_member *m,
                                        const struct gc_join_req *req, gc_join_cb cb, void *ud)
{
    if (update_member(g, m, req, cb, ud) < 0) {
        join_error(cb, ud, m->member_id, KP_ERR_UNKNOWN_SERVER_ERROR);
        return;
    }
    char reason[256];
    snprintf(reason, sizeof reason, "updating metadata for member %s during %s; client "
             "reason: %s", m->member_id, cg_state_name(g->state),
             req->reason ? req->reason : "not provided");
    maybe_prepare_rebalance(g, reason);
}

/* GroupMetadata.replaceStaticMember: the member object moves to a new id;
 * a JoinGroup/SyncGroup still waiting under the old id is fenced. */
static void static_replace(struct classic_group *g, struct cg_member *m, const char *new_id)
{
    member_join_error(g, m, m->member_id, KP_ERR_FENCED_INSTANCE_ID);
    member_sync_error(m, KP_ERR_FENCED_INSTANCE_ID);
    bool was_leader = is_leader(g, m->member_id);
    bool pending_sync = strmap_del(&g->pending_sync, m->member_id) != NULL;
    strmap_del(&g->members, m->member_id);
    if (member_set_id(m, new_id) < 0)
        return; /* keeps the old id: the join below answers for it */
    strmap_put(&g->members, m->member_id, m);
    if (pending_sync)
        strmap_put(&g->pending_sync, m->member_id, m);
    if (was_leader)
        set_leader(g, m->member_id);
}

/* updateStaticMemberAndRebalance */
static void update_static_member_and_rebalance(struct classic_group *g, struct cg_member *m,
                                               const char *new_id,
                                               const struct gc_join_req *req, gc_join_cb cb,
                                               void *ud)
{
    char *old_leader = g->leader_id ? strdup(g->leader_id) : NULL;
    char *old_id = strdup(m->member_id);
    static_replace(g, m, new_id);
    /* The old id's session timer is void; the new id starts afresh. */
    schedule_heartbeat(g, m, m->session_timeout_ms);
    struct cg_protocol *old_protocols = m->protocols;
    int old_n = m->nprotocols;
    int32_t old_rto = m->rebalance_timeout_ms, old_sto = m->session_timeout_ms;
    m->protocols = NULL;
    m->nprotocols = 0;
    if (update_member(g, m, req, cb, ud) < 0 || !old_id) {
        m->protocols = old_protocols;
        m->nprotocols = old_n;
        old_protocols = NULL;
        old_n = 0;
        if (m->join_cb)
            member_join_error(g, m, m->member_id, KP_ERR_UNKNOWN_SERVER_ERROR);
        else
            join_error(cb, ud, new_id, KP_ERR_UNKNOWN_SERVER_ERROR);
    } else if (g->state == CG_STABLE) {
        /* No rebalance if the selected protocol stays the same: persist
         * the new member id and hand the member its old assignment. */
        const char *next = select_protocol(g);
        if (next && g->protocol_name && strcmp(next, g->protocol_name) == 0) {
            slog(log_of(g), SLOG_INFO, "group",
                 "static member %s of group %s rejoined as %s without changing the selected "
                 "protocol: no rebalance", req->group_instance_id, g->base.id, new_id);
            struct store_ctx *c = store_ctx_new(g, STORE_STATIC_REPLACE);
            if (!c) {
                member_join_error(g, m, m->member_id, KP_ERR_UNKNOWN_SERVER_ERROR);
            } else {
                c->old_member_id = old_id;
                old_id = NULL;
                c->new_member_id = strdup(new_id);
                c->old_protocols = old_protocols;
                c->old_nprotocols = old_n;
                old_protocols = NULL;
                old_n = 0;
                c->old_rebalance_timeout = old_rto;
                c->old_session_timeout = old_sto;
                c->old_leader = old_leader;
                old_leader = NULL;
                c->supports_skip = req->supports_skip_assignment;
                store_group(g, c);
            }
        } else {
            maybe_prepare_rebalance(g, "group's selected protocol will change because a static "
                                       "member joined with a change of protocol");
        }
    } else if (g->state == CG_COMPLETING_REBALANCE) {
        maybe_prepare_rebalance(g, "updating metadata for a static member");
    }
    /* PreparingRebalance: the member just waits for the join to complete. */
    for (int i = 0; i < old_n; i++) {
        free(old_protocols[i].name);
        free(old_protocols[i].metadata);
    }
    free(old_protocols);
    free(old_id);
    free(old_leader);
}

static bool accept_joining_member(const struct classic_group *g, const char *member_id)
{
    int32_t max = g->base.gc->cfg.max_size;
    struct cg_member *m = get_member(g, member_id);
    switch (g->state) {
    case CG_EMPTY:
    case CG_DEAD:
        return true;
    case CG_PREPARING_REBALANCE:
        return (m && member_awaiting_join(m)) || g->num_awaiting_join < max;
    default:
        return m || g->nmembers < max;
    }
}

static void do_new_member_join(struct classic_group *g, const struct gc_join_req *req,
                               gc_join_cb cb, void *ud)
{
    if (g->state == CG_DEAD) {
        join_error(cb, ud, "", KP_ERR_COORDINATOR_NOT_AVAILABLE);
        return;
    }
    if (!supports_protocols(g, req->protocol_type, req->protocols, req->nprotocols)) {
        join_error(cb, ud, "", KP_ERR_INCONSISTENT_GROUP_PROTOCOL);
        return;
    }
    char new_id[1024];
    generate_member_id(req, new_id, sizeof new_id);
    if (req->group_instance_id) {
        struct cg_member *cur = strmap_get(&g->static_members, req->group_instance_id);
        if (cur)
            update_static_member_and_rebalance(g, cur, new_id, req, cb, ud);
        else
            add_member_and_rebalance(g, req, new_id, cb, ud);
        return;
    }
    if (req->require_known_member_id) {
        /* KIP-394: hand out the id first; the member joins with it. */
        struct cg_pending *p = calloc(1, sizeof *p);
        if (!p || !(p->member_id = strdup(new_id)) ||
            strmap_put(&g->pending_members, p->member_id, p) < 0) {
            if (p)
                free(p->member_id);
            free(p);
            join_error(cb, ud, "", KP_ERR_UNKNOWN_SERVER_ERROR);
            return;
        }
        p->g = g;
        ev_timer_init(&p->timer, pending_expired, req->session_timeout_ms / 1000.0, 0.0);
        p->timer.data = p;
        ev_timer_start(loop_of(g), &p->timer);
        join_error(cb, ud, new_id, KP_ERR_MEMBER_ID_REQUIRED);
        return;
    }
    add_member_and_rebalance(g, req, new_id, cb, ud);
}

static void do_current_member_join(struct classic_group *g, const struct gc_join_req *req,
                                   gc_join_cb cb, void *ud)
{
    const char *member_id = req->member_id;
    if (g->state == CG_DEAD) {
        join_error(cb, ud, member_id, KP_ERR_COORDINATOR_NOT_AVAILABLE);
        return;
    }
    if (!supports_protocols(g, req->protocol_type, req->protocols, req->nprotocols)) {
        join_error(cb, ud, member_id, KP_ERR_INCONSISTENT_GROUP_PROTOCOL);
        return;
    }
    if (strmap_get(&g->pending_members, member_id)) {
        /* A pending member is never static. */
        if (req->group_instance_id) {
            join_error(cb, ud, member_id, KP_ERR_UNKNOWN_MEMBER_ID);
            return;
        }
        add_member_and_rebalance(g, req, member_id, cb, ud);
        return;
    }
    int16_t err = cg_validate_member(g, member_id, req->group_instance_id);
    if (err) {
        join_error(cb, ud, member_id, err);
        return;
    }
    struct cg_member *m = get_member(g, member_id);
    switch (g->state) {
    case CG_PREPARING_REBALANCE:
        update_member_and_rebalance(g, m, req, cb, ud);
        break;
    case CG_COMPLETING_REBALANCE:
        if (member_matches(m, req->protocols, req->nprotocols)) {
            /* The member missed the JoinGroup response: send it again. */
            bool leader = is_leader(g, member_id);
            struct gc_join_member *all =
                leader ? calloc((size_t)g->nmembers, sizeof *all) : NULL;
            int k = 0;
            for (struct cg_member *o = g->head; all && o; o = o->next, k++) {
                const struct cg_protocol *p = member_protocol(o, g->protocol_name);
                all[k] = (struct gc_join_member){ o->member_id, o->group_instance_id,
                                                  p ? p->metadata : NULL, p ? p->len : 0 };
            }
            struct gc_join_result r = { .error = leader && !all ? KP_ERR_UNKNOWN_SERVER_ERROR
                                                                : KP_ERR_NONE,
                                        .generation_id = g->generation_id,
                                        .protocol_type = g->protocol_type,
                                        .protocol_name = g->protocol_name,
                                        .leader_id = g->leader_id ? g->leader_id : "",
                                        .member_id = member_id,
                                        .members = all,
                                        .nmembers = all ? g->nmembers : 0 };
            cb(ud, &r);
            free(all);
        } else {
            update_member_and_rebalance(g, m, req, cb, ud);
        }
        break;
    case CG_STABLE:
        if (is_leader(g, member_id) || !member_matches(m, req->protocols, req->nprotocols)) {
            /* The leader's JoinGroup forces a rebalance so it can react to
             * changes that don't show in member metadata (new partitions). */
            update_member_and_rebalance(g, m, req, cb, ud);
        } else {
            struct gc_join_result r = { .error = KP_ERR_NONE,
                                        .generation_id = g->generation_id,
                                        .protocol_type = g->protocol_type,
                                        .protocol_name = g->protocol_name,
                                        .leader_id = g->leader_id ? g->leader_id : "",
                                        .member_id = member_id };
            cb(ud, &r);
        }
        break;
    default:
        slog(log_of(g), SLOG_WARN, "group", "attempt to add rejoining member %s of group %s in "
             "unexpected state %s", member_id, g->base.id, cg_state_name(g->state));
        join_error(cb, ud, member_id, KP_ERR_UNKNOWN_MEMBER_ID);
        break;
    }
}

void gc_join(struct group_coordinator *gc, const struct gc_join_req *req, gc_join_cb cb,
             void *ud)
{
    const char *member_id = req->member_id ? req->member_id : "";
    int16_t err = gc_validate_group(gc, req->group_id, false);
    if (err) {
        join_error(cb, ud, member_id, err);
        return;
    }
    if (req->session_timeout_ms < gc->cfg.min_session_timeout_ms ||
        req->session_timeout_ms > gc->cfg.max_session_timeout_ms) {
        join_error(cb, ud, member_id, KP_ERR_INVALID_SESSION_TIMEOUT);
        return;
    }
    bool unknown = member_id[0] == '\0';
    struct group *base = gc_group(gc, req->group_id);
    if (base && base->type == GROUP_TYPE_CONSUMER && unknown &&
        ((struct consumer_group *)base)->members.count == 0) {
        /* Kafka converts an empty consumer group to a classic one on the
         * first JoinGroup (its offsets stay); a group with KIP-848 members
         * refuses classic members (no online migration here). */
        cgrp_delete(gc, (struct consumer_group *)base);
        base = NULL;
    }
    if (base && base->type != GROUP_TYPE_CLASSIC) {
        join_error(cb, ud, member_id, KP_ERR_INCONSISTENT_GROUP_PROTOCOL);
        return;
    }
    struct classic_group *g = (struct classic_group *)base;
    if (!g) {
        /* Only a new member creates a group. */
        if (!unknown) {
            join_error(cb, ud, member_id, KP_ERR_UNKNOWN_MEMBER_ID);
            return;
        }
        if (!(g = cg_create(gc, req->group_id))) {
            join_error(cb, ud, member_id, KP_ERR_UNKNOWN_SERVER_ERROR);
            return;
        }
    }
    if (!accept_joining_member(g, member_id)) {
        struct cg_member *m = get_member(g, member_id);
        if (m)
            group_remove(g, m);
        remove_pending(g, member_id);
        join_error(cb, ud, "", KP_ERR_GROUP_MAX_SIZE_REACHED);
    } else if (unknown) {
        do_new_member_join(g, req, cb, ud);
    } else {
        do_current_member_join(g, req, cb, ud);
    }
    try_complete_join(g);
}

/* ---- SyncGroup -------------------------------------------------------- */

void gc_sync(struct group_coordinator *gc, const struct gc_sync_req *req, gc_sync_cb cb,
             void *ud)
{
    struct gc_sync_result r = { 0 };
    r.error = gc_validate_group(gc, req->group_id, false);
    struct group *base = r.error ? NULL : gc_group(gc, req->group_id);
    struct classic_group *g = base && base->type == GROUP_TYPE_CLASSIC ? (void *)base : NULL;
    if (!r.error && !g)
        r.error = base ? KP_ERR_INCONSISTENT_GROUP_PROTOCOL : KP_ERR_UNKNOWN_MEMBER_ID;
    if (r.error) {
        cb(ud, &r);
        return;
    }
    if (g->state == CG_DEAD) {
        r.error = KP_ERR_COORDINATOR_NOT_AVAILABLE;
    } else if ((r.error = cg_validate_member(g, req->member_id, req->group_instance_id))) {
        /* FENCED_INSTANCE_ID or UNKNOWN_MEMBER_ID */
    } else if (req->generation_id != g->generation_id) {
        r.error = KP_ERR_ILLEGAL_GENERATION;
    } else if ((req->protocol_type &&
                (!g->protocol_type || strcmp(req->protocol_type, g->protocol_type) != 0)) ||
               (req->protocol_name &&
                (!g->protocol_name || strcmp(req->protocol_name, g->protocol_name) != 0))) {
        r.error = KP_ERR_INCONSISTENT_GROUP_PROTOCOL;
    }
    if (r.error) {
        cb(ud, &r);
        return;
    }
    struct cg_member *m = get_member(g, req->member_id);
    switch (g->state) {
    case CG_EMPTY:
        r.error = KP_ERR_UNKNOWN_MEMBER_ID;
        cb(ud, &r);
        return;
    case CG_PREPARING_REBALANCE:
        r.error = KP_ERR_REBALANCE_IN_PROGRESS;
        cb(ud, &r);
        return;
    case CG_COMPLETING_REBALANCE: {
        if (m->sync_cb)
            member_sync_error(m, KP_ERR_REBALANCE_IN_PROGRESS);
        m->sync_cb = cb;
        m->sync_ud = ud;
        strmap_del(&g->pending_sync, m->member_id);
        if (!is_leader(g, req->member_id))
            return;
        slog(log_of(g), SLOG_INFO, "group", "assignment received from leader %s for group %s "
             "for generation %d; the group has %d members, %zu of which are static",
             req->member_id, g->base.id, g->generation_id, g->nmembers,
             g->static_members.count);
        /* Members the leader left out get an empty assignment. */
        struct store_ctx *c = store_ctx_new(g, STORE_SYNC);
        int n = g->nmembers;
        if (c) {
            c->member_ids = calloc((size_t)n, sizeof *c->member_ids);
            c->data = calloc((size_t)n, sizeof *c->data);
            c->len = calloc((size_t)n, sizeof *c->len);
        }
        if (!c || !c->member_ids || !c->data || !c->len) {
            if (c)
                store_ctx_free(c);
            reset_and_propagate_assignment_error(g, KP_ERR_UNKNOWN_SERVER_ERROR);
            return;
        }
        for (struct cg_member *o = g->head; o; o = o->next) {
            const uint8_t *a = NULL;
            int32_t alen = 0;
            for (int i = req->nassignments - 1; i >= 0; i--) {
                if (req->assignments[i].member_id &&
                    strcmp(req->assignments[i].member_id, o->member_id) == 0) {
                    a = req->assignments[i].data;
                    alen = req->assignments[i].len > 0 ? req->assignments[i].len : 0;
                    break;
                }
            }
            int i = c->n++;
            c->member_ids[i] = strdup(o->member_id);
            c->data[i] = malloc(alen > 0 ? (size_t)alen : 1);
            c->len[i] = alen;
            if (c->data[i] && alen)
                memcpy(c->data[i], a, (size_t)alen);
            if (!c->member_ids[i] || !c->data[i]) {
                store_ctx_free(c);
                reset_and_propagate_assignment_error(g, KP_ERR_UNKNOWN_SERVER_ERROR);
                return;
            }
            if (!a)
                slog(log_of(g), SLOG_WARN, "group", "setting empty assignment for member %s "
                     "of %s for generation %d", o->member_id, g->base.id, g->generation_id);
        }
        store_group(g, c);
        return;
    }
    case CG_STABLE:
        strmap_del(&g->pending_sync, m->member_id);
        r.protocol_type = g->protocol_type;
        r.protocol_name = g->protocol_name;
        r.assignment = m->assignment;
        r.len = m->assignment_len;
        cb(ud, &r);
        schedule_heartbeat(g, m, m->session_timeout_ms);
        return;
    default:
        r.error = KP_ERR_COORDINATOR_NOT_AVAILABLE;
        cb(ud, &r);
        return;
    }
}

/* ---- Heartbeat / LeaveGroup ------------------------------------------ */

int16_t gc_heartbeat(struct group_coordinator *gc, const char *group_id, int32_t generation_id,
                     const char *member_id, const char *group_instance_id)
{
    int16_t err = gc_validate_group(gc, group_id, false);
    if (err)
        return err;
    struct group *base = gc_group(gc, group_id);
    if (!base)
        return KP_ERR_UNKNOWN_MEMBER_ID;
    if (base->type != GROUP_TYPE_CLASSIC)
        return KP_ERR_INCONSISTENT_GROUP_PROTOCOL;
    struct classic_group *g = (struct classic_group *)base;
    if (g->state == CG_DEAD)
        return KP_ERR_COORDINATOR_NOT_AVAILABLE;
    if ((err = cg_validate_member(g, member_id, group_instance_id)))
        return err;
    if (generation_id != g->generation_id)
        return KP_ERR_ILLEGAL_GENERATION;
    struct cg_member *m = get_member(g, member_id);
    switch (g->state) {
    case CG_EMPTY:
        return KP_ERR_UNKNOWN_MEMBER_ID;
    case CG_PREPARING_REBALANCE:
        schedule_heartbeat(g, m, m->session_timeout_ms);
        return KP_ERR_REBALANCE_IN_PROGRESS;
    default:
        /* CompletingRebalance too: consumers may heartbeat right after the
         * JoinGroup response. */
        schedule_heartbeat(g, m, m->session_timeout_ms);
        return KP_ERR_NONE;
    }
}

int16_t gc_leave(struct group_coordinator *gc, const char *group_id, struct gc_leave_member *lm,
                 int n)
{
    int16_t err = gc_validate_group(gc, group_id, false);
    if (err)
        return err;
    struct group *base = gc_group(gc, group_id);
    if (!base) {
        for (int i = 0; i < n; i++)
            lm[i].error = KP_ERR_UNKNOWN_MEMBER_ID;
        return KP_ERR_NONE;
    }
    if (base->type != GROUP_TYPE_CLASSIC)
        return KP_ERR_INCONSISTENT_GROUP_PROTOCOL;
    struct classic_group *g = (struct classic_group *)base;
    if (g->state == CG_DEAD)
        return KP_ERR_COORDINATOR_NOT_AVAILABLE;
    for (int i = 0; i < n; i++) {
        const char *mid = lm[i].member_id ? lm[i].member_id : "";
        char reason[256];
        snprintf(reason, sizeof reason, "removing member %s on LeaveGroup; client reason: %s",
                 mid, lm[i].reason ? lm[i].reason : "not provided");
        if (mid[0] == '\0') {
            /* Administrative removal by group.instance.id. */
            struct cg_member *m = lm[i].group_instance_id
                                      ? strmap_get(&g->static_members, lm[i].group_instance_id)
                                      : NULL;
            if (m) {
                remove_member_and_update_group(g, m, reason);
                lm[i].error = KP_ERR_NONE;
            } else {
                lm[i].error = KP_ERR_UNKNOWN_MEMBER_ID;
            }
        } else if (strmap_get(&g->pending_members, mid)) {
            remove_pending_and_update(g, mid);
            lm[i].error = KP_ERR_NONE;
        } else if ((lm[i].error = cg_validate_member(g, mid, lm[i].group_instance_id)) == 0) {
            slog(log_of(g), SLOG_INFO, "group", "member %s has left group %s through explicit "
                 "LeaveGroup", mid, g->base.id);
            remove_member_and_update_group(g, get_member(g, mid), reason);
        }
    }
    return KP_ERR_NONE;
}
