/* KIP-848 member reconciliation; see consumer_group_reconcile.h.  The
 * transitions follow Kafka's CurrentAssignmentBuilder:
 *
 *   STABLE, member epoch == target epoch        -> unchanged
 *   STABLE, member epoch != target epoch        -> next assignment
 *   UNREVOKED_PARTITIONS, still owns a pending  -> unchanged
 *   UNREVOKED_PARTITIONS, revoked them all      -> next assignment
 *   UNRELEASED_PARTITIONS                       -> next assignment
 *   UNKNOWN, owns nothing (owned reported empty) -> next assignment at the
 *                                                 target epoch
 *   UNKNOWN otherwise                           -> FENCED_MEMBER_EPOCH
 *
 * next assignment, per topic:
 *   assigned  = current assigned ∩ target
 *   revoking  = current assigned - assigned
 *   incoming  = target - assigned - unreleased, where unreleased are the
 *               partitions some member still owns (partition epoch != -1)
 *               unless this member itself is revoking them
 * then: revoking non-empty and still owned -> UNREVOKED_PARTITIONS at the
 * same epoch; else incoming non-empty -> assigned += incoming, target epoch,
 * UNRELEASED_PARTITIONS if anything was unreleased else STABLE; else
 * UNRELEASED_PARTITIONS or STABLE at the target epoch. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "group/consumer_group_reconcile.h"

/* ---------------------------------------------------------------------- */
/* Sets                                                                    */

static int tp_cmp(const uint8_t *ta, int32_t pa, const uint8_t *tb, int32_t pb)
{
    int c = memcmp(ta, tb, 16);
    if (c)
        return c;
    return (pa > pb) - (pa < pb);
}

static int tp_cmp_q(const void *a, const void *b)
{
    const struct cgr_tp *x = a, *y = b;
    return tp_cmp(x->topic_id, x->partition, y->topic_id, y->partition);
}

/* Index of the first element >= (t, p). */
static size_t lower_bound(const struct cgr_set *s, const uint8_t *t, int32_t p)
{
    size_t lo = 0, hi = s->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (tp_cmp(s->v[mid].topic_id, s->v[mid].partition, t, p) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

void cgr_set_free(struct cgr_set *s)
{
    free(s->v);
    memset(s, 0, sizeof *s);
}

static int set_reserve(struct cgr_set *s, size_t n)
{
    if (n <= s->cap)
        return 0;
    size_t cap = s->cap ? s->cap : 8;
    while (cap < n)
        cap *= 2;
    struct cgr_tp *v = realloc(s->v, cap * sizeof *v);
    if (!v)
        return -1;
    s->v = v;
    s->cap = cap;
    return 0;
}

/* Appends without ordering checks (callers add in sorted order). */
static int set_push(struct cgr_set *s, const struct cgr_tp *tp)
{
    if (set_reserve(s, s->n + 1))
        return -1;
    s->v[s->n++] = *tp;
    return 0;
}

int cgr_set_add(struct cgr_set *s, const uint8_t topic_id[16], int32_t partition)
{
    size_t i = lower_bound(s, topic_id, partition);
    if (i < s->n && !tp_cmp(s->v[i].topic_id, s->v[i].partition, topic_id, partition))
        return 0;
    if (set_reserve(s, s->n + 1))
        return -1;
    memmove(&s->v[i + 1], &s->v[i], (s->n - i) * sizeof *s->v);
    memcpy(s->v[i].topic_id, topic_id, 16);
    s->v[i].partition = partition;
    s->n++;
    return 0;
}

int cgr_set_contains(const struct cgr_set *s, const uint8_t topic_id[16], int32_t partition)
{
    size_t i = lower_bound(s, topic_id, partition);
    return i < s->n && !tp_cmp(s->v[i].topic_id, s->v[i].partition, topic_id, partition);
}

void cgr_set_normalize(struct cgr_set *s)
{
    if (s->n < 2)
        return;
    qsort(s->v, s->n, sizeof *s->v, tp_cmp_q);
    size_t j = 1;
    for (size_t i = 1; i < s->n; i++)
        if (tp_cmp_q(&s->v[i], &s->v[j - 1]))
            s->v[j++] = s->v[i];
    s->n = j;
}

int cgr_set_copy(struct cgr_set *dst, const struct cgr_set *src)
{
    dst->n = 0;
    if (set_reserve(dst, src->n))
        return -1;
    if (src->n)
        memcpy(dst->v, src->v, src->n * sizeof *src->v);
    dst->n = src->n;
    return 0;
}

int cgr_set_equal(const struct cgr_set *a, const struct cgr_set *b)
{
    return a->n == b->n && (!a->n || !memcmp(a->v, b->v, a->n * sizeof *a->v));
}

int cgr_set_subset(const struct cgr_set *a, const struct cgr_set *b)
{
    size_t j = 0;
    for (size_t i = 0; i < a->n; i++) {
        while (j < b->n && tp_cmp_q(&b->v[j], &a->v[i]) < 0)
            j++;
        if (j == b->n || tp_cmp_q(&b->v[j], &a->v[i]))
            return 0;
    }
    return 1;
}

static int set_intersects(const struct cgr_set *a, const struct cgr_set *b)
{
    size_t i = 0, j = 0;
    while (i < a->n && j < b->n) {
        int c = tp_cmp_q(&a->v[i], &b->v[j]);
        if (!c)
            return 1;
        if (c < 0)
            i++;
        else
            j++;
    }
    return 0;
}

/* ---------------------------------------------------------------------- */
/* Members                                                                 */

void cgr_member_free(struct cgr_member *m)
{
    cgr_set_free(&m->assigned);
    cgr_set_free(&m->pending_revocation);
    memset(m, 0, sizeof *m);
}

int cgr_member_copy(struct cgr_member *dst, const struct cgr_member *src)
{
    dst->state = src->state;
    dst->member_epoch = src->member_epoch;
    dst->previous_member_epoch = src->previous_member_epoch;
    if (cgr_set_copy(&dst->assigned, &src->assigned) ||
        cgr_set_copy(&dst->pending_revocation, &src->pending_revocation))
        return -1;
    return 0;
}

/* Kafka's Builder.updateMemberEpoch: the old epoch becomes the previous. */
static void update_epoch(struct cgr_member *next, const struct cgr_member *cur, int32_t epoch)
{
    next->previous_member_epoch = cur->member_epoch;
    next->member_epoch = epoch;
}

/* The member still owns one of `pending` (always true when it did not
 * report what it owns). */
static int owns_revoked(const struct cgr_input *in, const struct cgr_set *pending)
{
    return !in->owned || set_intersects(in->owned, pending);
}

static int subscribed(const struct cgr_input *in, const uint8_t *topic)
{
    if (!in->subscribed)
        return 1;
    size_t lo = 0, hi = in->nsubscribed;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = memcmp(in->subscribed[mid], topic, 16);
        if (!c)
            return 1;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return 0;
}

static int next_assignment(const struct cgr_member *cur, const struct cgr_input *in,
                           int32_t member_epoch, struct cgr_member *next)
{
    struct cgr_set target = {0}, assigned = {0}, revoking = {0}, incoming = {0};
    int unreleased = 0, rc = -1;
    /* A target partition of a topic the member no longer subscribes to is
     * treated as not targeted (it will be revoked). */
    for (size_t k = 0; k < in->target->n; k++)
        if (subscribed(in, in->target->v[k].topic_id) && set_push(&target, &in->target->v[k]))
            goto out;
    /* One merge over the two sorted sets. */
    size_t i = 0, j = 0;
    while (i < cur->assigned.n || j < target.n) {
        int c = i == cur->assigned.n ? 1
                : j == target.n      ? -1
                                     : tp_cmp_q(&cur->assigned.v[i], &target.v[j]);
        if (c < 0) {
            if (set_push(&revoking, &cur->assigned.v[i++]))
                goto out;
        } else if (c == 0) {
            if (set_push(&assigned, &cur->assigned.v[i++]))
                goto out;
            j++;
        } else {
            const struct cgr_tp *tp = &target.v[j++];
            int32_t owner_epoch = in->partition_epoch
                                      ? in->partition_epoch(in->partition_epoch_ud, tp->topic_id,
                                                            tp->partition)
                                      : -1;
            /* Owned by someone else: wait for its release.  A partition
             * this member itself is revoking is not someone else's. */
            if (owner_epoch != -1 &&
                !cgr_set_contains(&cur->pending_revocation, tp->topic_id, tp->partition)) {
                unreleased = 1;
                continue;
            }
            if (set_push(&incoming, tp))
                goto out;
        }
    }

    if (cgr_set_copy(&next->assigned, &assigned))
        goto out;
    if (revoking.n && owns_revoked(in, &revoking)) {
        next->state = CGR_UNREVOKED_PARTITIONS;
        update_epoch(next, cur, member_epoch);
        if (cgr_set_copy(&next->pending_revocation, &revoking))
            goto out;
    } else {
        /* assigned and incoming are disjoint and sorted: merge them. */
        if (set_reserve(&next->assigned, assigned.n + incoming.n))
            goto out;
        size_t a = 0, b = 0, o = 0;
        while (a < assigned.n || b < incoming.n)
            next->assigned.v[o++] =
                b == incoming.n || (a < assigned.n && tp_cmp_q(&assigned.v[a], &incoming.v[b]) < 0)
                    ? assigned.v[a++]
                    : incoming.v[b++];
        next->assigned.n = o;
        next->state = unreleased ? CGR_UNRELEASED_PARTITIONS : CGR_STABLE;
        update_epoch(next, cur, in->target_epoch);
        next->pending_revocation.n = 0;
    }
    rc = 0;
out:
    cgr_set_free(&target);
    cgr_set_free(&assigned);
    cgr_set_free(&revoking);
    cgr_set_free(&incoming);
    return rc;
}

static int same_member(const struct cgr_member *a, const struct cgr_member *b)
{
    return a->state == b->state && a->member_epoch == b->member_epoch &&
           a->previous_member_epoch == b->previous_member_epoch &&
           cgr_set_equal(&a->assigned, &b->assigned) &&
           cgr_set_equal(&a->pending_revocation, &b->pending_revocation);
}

int cgr_reconcile(const struct cgr_member *cur, const struct cgr_input *in, struct cgr_member *next,
                  int *changed)
{
    *changed = 0;
    if (cgr_member_copy(next, cur))
        return -1;
    int rc = 0;
    switch (cur->state) {
    case CGR_STABLE:
        if (cur->member_epoch != in->target_epoch)
            rc = next_assignment(cur, in, cur->member_epoch, next);
        break;
    case CGR_UNREVOKED_PARTITIONS:
        if (!owns_revoked(in, &cur->pending_revocation))
            rc = next_assignment(cur, in, cur->member_epoch, next);
        break;
    case CGR_UNRELEASED_PARTITIONS:
        rc = next_assignment(cur, in, cur->member_epoch, next);
        break;
    default:
        /* A state this version does not know (written by a newer one):
         * only a member that gave everything up may continue. */
        if (!in->owned || in->owned->n)
            return CGR_FENCED_MEMBER_EPOCH;
        rc = next_assignment(cur, in, in->target_epoch, next);
        break;
    }
    if (rc)
        return rc;
    *changed = !same_member(cur, next);
    return 0;
}

int cgr_check_member_epoch(const struct cgr_member *m, int32_t received,
                           const struct cgr_set *owned, char *err, size_t errlen)
{
    if (errlen)
        err[0] = '\0';
    if (received > m->member_epoch) {
        snprintf(err, errlen,
                 "The consumer group member has a greater member epoch (%d) than the one known by "
                 "the group coordinator (%d). The member must abandon all its partitions and "
                 "rejoin.",
                 received, m->member_epoch);
        return CGR_FENCED_MEMBER_EPOCH;
    }
    if (received < m->member_epoch &&
        (received != m->previous_member_epoch || !owned || !cgr_set_subset(owned, &m->assigned))) {
        snprintf(err, errlen,
                 "The consumer group member has a smaller member epoch (%d) than the one known by "
                 "the group coordinator (%d). The member must abandon all its partitions and "
                 "rejoin.",
                 received, m->member_epoch);
        return CGR_FENCED_MEMBER_EPOCH;
    }
    return 0;
}

/* ---------------------------------------------------------------------- */
/* Partition epochs: open addressing, linear probing, backward-shift       */
/* deletion (no tombstones, so lookups stay short).                        */

struct cgr_epoch_slot {
    uint8_t topic_id[16];
    int32_t partition;
    int32_t epoch;
    int used;
};

static uint64_t slot_hash(const uint8_t *t, int32_t p)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (int i = 0; i < 16; i++)
        h = (h ^ t[i]) * 1099511628211ull;
    h = (h ^ (uint32_t)p) * 1099511628211ull;
    return h ^ (h >> 29);
}

void cgr_epochs_free(struct cgr_epochs *e)
{
    free(e->slots);
    memset(e, 0, sizeof *e);
}

static size_t find_slot(const struct cgr_epochs *e, const uint8_t *t, int32_t p)
{
    size_t mask = e->cap - 1, i = slot_hash(t, p) & mask;
    while (e->slots[i].used &&
           (e->slots[i].partition != p || memcmp(e->slots[i].topic_id, t, 16)))
        i = (i + 1) & mask;
    return i;
}

int32_t cgr_epochs_get(const struct cgr_epochs *e, const uint8_t topic_id[16], int32_t partition)
{
    if (!e->cap)
        return -1;
    size_t i = find_slot(e, topic_id, partition);
    return e->slots[i].used ? e->slots[i].epoch : -1;
}

int32_t cgr_epochs_lookup(void *ud, const uint8_t topic_id[16], int32_t partition)
{
    return cgr_epochs_get(ud, topic_id, partition);
}

static int grow(struct cgr_epochs *e, size_t want)
{
    if (want * 2 <= e->cap)
        return 0;
    size_t cap = e->cap ? e->cap : 64;
    while (want * 2 > cap)
        cap *= 2;
    struct cgr_epoch_slot *old = e->slots;
    size_t oldcap = e->cap;
    e->slots = calloc(cap, sizeof *e->slots);
    if (!e->slots) {
        e->slots = old;
        return -1;
    }
    e->cap = cap;
    for (size_t i = 0; i < oldcap; i++)
        if (old[i].used)
            e->slots[find_slot(e, old[i].topic_id, old[i].partition)] = old[i];
    free(old);
    return 0;
}

static void slot_delete(struct cgr_epochs *e, size_t i)
{
    size_t mask = e->cap - 1, j = i;
    e->slots[i].used = 0;
    for (;;) {
        j = (j + 1) & mask;
        if (!e->slots[j].used)
            break;
        size_t home = slot_hash(e->slots[j].topic_id, e->slots[j].partition) & mask;
        /* Move j back into the hole unless its home lies in (i, j]. */
        if ((j > i && (home <= i || home > j)) || (j < i && home <= i && home > j)) {
            e->slots[i] = e->slots[j];
            e->slots[j].used = 0;
            i = j;
        }
    }
    e->n--;
}

static int check_remove(const struct cgr_epochs *e, const struct cgr_set *s, int32_t epoch)
{
    for (size_t k = 0; k < s->n; k++) {
        int32_t have = cgr_epochs_get(e, s->v[k].topic_id, s->v[k].partition);
        if (have != epoch)
            return -2;
    }
    return 0;
}

int cgr_epochs_update(struct cgr_epochs *e, const struct cgr_member *old,
                      const struct cgr_member *next)
{
    /* Check everything first so a refused update leaves the table as is. */
    if (old && (check_remove(e, &old->assigned, old->member_epoch) ||
                check_remove(e, &old->pending_revocation, old->member_epoch)))
        return -2;
    if (next) {
        const struct cgr_set *sets[2] = {&next->assigned, &next->pending_revocation};
        for (int s = 0; s < 2; s++)
            for (size_t k = 0; k < sets[s]->n; k++) {
                const struct cgr_tp *tp = &sets[s]->v[k];
                if (cgr_epochs_get(e, tp->topic_id, tp->partition) != -1 &&
                    !(old && (cgr_set_contains(&old->assigned, tp->topic_id, tp->partition) ||
                              cgr_set_contains(&old->pending_revocation, tp->topic_id,
                                               tp->partition))))
                    return -2; /* still owned by another member */
            }
        if (grow(e, e->n + next->assigned.n + next->pending_revocation.n))
            return -1;
    }
    if (old) {
        const struct cgr_set *sets[2] = {&old->assigned, &old->pending_revocation};
        for (int s = 0; s < 2; s++)
            for (size_t k = 0; k < sets[s]->n; k++) {
                const struct cgr_tp *tp = &sets[s]->v[k];
                size_t i = find_slot(e, tp->topic_id, tp->partition);
                if (e->slots[i].used)
                    slot_delete(e, i);
            }
    }
    if (next) {
        const struct cgr_set *sets[2] = {&next->assigned, &next->pending_revocation};
        for (int s = 0; s < 2; s++)
            for (size_t k = 0; k < sets[s]->n; k++) {
                const struct cgr_tp *tp = &sets[s]->v[k];
                size_t i = find_slot(e, tp->topic_id, tp->partition);
                if (!e->slots[i].used) {
                    memcpy(e->slots[i].topic_id, tp->topic_id, 16);
                    e->slots[i].partition = tp->partition;
                    e->slots[i].used = 1;
                    e->n++;
                }
                e->slots[i].epoch = next->member_epoch;
            }
    }
    return 0;
}
