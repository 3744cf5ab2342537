/* assignor_range: Kafka's "range" assignor as a Sluice module.
 *
 * Per topic, the subscribers are sorted (static members by group.instance.id
 * first, then by member id, as Kafka's AbstractPartitionAssignor.MemberInfo)
 * and the partitions are cut into contiguous ranges in that order: with N
 * partitions and k subscribers, member i gets N/k partitions starting at
 * i*(N/k) + min(i, N%k), and the first N%k members one more.  Because the
 * cut only depends on (subscribers, N), topics with the same subscribers and
 * the same partition count line up: the member that gets partition p of one
 * gets partition p of all of them, which is what joins of co-partitioned
 * topics need.
 *
 * Rack awareness (KIP-881, Kafka's RangeAssignor since 3.5): when members
 * declare client.rack and partitions list replica racks, and racks would
 * make a difference (some partition has no replica in some member's rack),
 * the co-partitioned topics of one group are assigned together: first each
 * member, in turn, takes the lowest free partition that has a replica in
 * its rack in EVERY topic of the group, up to its quota (N/k, or N/k + 1
 * while extra slots remain); then the remaining partitions are handed out in
 * order to the members still below quota.  Balance per topic is the same as
 * without racks (every member N/k or N/k + 1); contiguity is given up for
 * locality, as in Kafka.
 *
 * Not sticky: the result is a pure function of members and topics, like
 * Kafka's classic range assignor. */
#define _GNU_SOURCE /* qsort_r: sort with a context, no static state */
#include <stdlib.h>
#include <string.h>

#include <sluice/plugin.h>

#include "../assignor_common/assignor_common.h"

struct range_ctx {
    const struct sluice_assignor_group *g;
    struct ac_group ac;
    uint32_t *rank;    /* rank[m]: position of member m in Kafka's member order */
    uint32_t *sorted;  /* subscribers per topic, sorted by rank (same layout as ac.sub) */
};

static int cmp_member_idx(const void *a, const void *b, void *ctx)
{
    const struct sluice_assignor_group *g = ((const struct range_ctx *)ctx)->g;
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    int c = ac_member_cmp(g->members[x], g->members[y]);
    return c ? c : (x > y) - (x < y);
}

static int cmp_rank(const void *a, const void *b, void *ctx)
{
    const struct range_ctx *c = ctx;
    uint32_t x = c->rank[*(const uint32_t *)a], y = c->rank[*(const uint32_t *)b];
    return (x > y) - (x < y);
}

static uint32_t nsubs(const struct range_ctx *c, uint32_t t)
{
    return c->ac.sub_off[t + 1] - c->ac.sub_off[t];
}

/* Orders topics so that co-partitioned ones (same partition count, same
 * sorted subscribers) are adjacent. */
static int cmp_copart(const void *a, const void *b, void *ctx)
{
    const struct range_ctx *c = ctx;
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    int32_t nx = c->g->topics[x]->num_partitions, ny = c->g->topics[y]->num_partitions;
    if (nx != ny)
        return nx < ny ? -1 : 1;
    uint32_t sx = nsubs(c, x), sy = nsubs(c, y);
    if (sx != sy)
        return sx < sy ? -1 : 1;
    int m = memcmp(c->sorted + c->ac.sub_off[x], c->sorted + c->ac.sub_off[y],
                   sx * sizeof *c->sorted);
    if (m)
        return m;
    return (x > y) - (x < y);
}

static int same_copart(const struct range_ctx *c, uint32_t x, uint32_t y)
{
    return c->g->topics[x]->num_partitions == c->g->topics[y]->num_partitions &&
           nsubs(c, x) == nsubs(c, y) &&
           !memcmp(c->sorted + c->ac.sub_off[x], c->sorted + c->ac.sub_off[y],
                   nsubs(c, x) * sizeof *c->sorted);
}

/* Member rack r is local for partition p of the co-partitioned topics ts:
 * every topic that knows racks for p has a replica in r, and at least one
 * knows. */
static int group_local(const struct sluice_assignor_group *g, const uint32_t *ts, size_t nts,
                       int32_t p, int32_t r)
{
    int known = 0;
    for (size_t i = 0; i < nts; i++) {
        const struct sluice_assignor_topic *tp = g->topics[ts[i]];
        if (!ac_has_rack_info(tp, p))
            continue;
        known = 1;
        if (!ac_rack_local(tp, p, r))
            return 0;
    }
    return known;
}

static void plain_range(int32_t *const *owner, const uint32_t *ts, size_t nts, const uint32_t *members,
                        uint32_t k, int32_t n)
{
    int32_t base = n / (int32_t)k, extra = n % (int32_t)k;
    for (uint32_t i = 0; i < k; i++) {
        int32_t start = base * (int32_t)i + ((int32_t)i < extra ? (int32_t)i : extra);
        int32_t len = base + ((int32_t)i < extra ? 1 : 0);
        for (size_t j = 0; j < nts; j++)
            for (int32_t p = start; p < start + len; p++)
                owner[ts[j]][p] = (int32_t)members[i];
    }
}

/* Rack-aware range for one co-partitioned group; returns 1 when it applied,
 * 0 when racks make no difference (the caller then uses plain ranges), or
 * a negative SLUICE_ERR_*. */
static int rack_range(const struct range_ctx *c, int32_t *const *owner, const uint32_t *ts, size_t nts,
                      const uint32_t *members, uint32_t k, int32_t n)
{
    const struct sluice_assignor_group *g = c->g;
    uint32_t R = g->num_racks;
    /* Partitions local to each rack, ascending: list[r] = loc[off[r] .. off[r+1]). */
    uint32_t *off = calloc((size_t)R + 1, sizeof *off);
    unsigned char *rack_present = calloc(R ? R : 1, 1);
    if (!off || !rack_present) {
        free(off);
        free(rack_present);
        return SLUICE_ERR_NOMEM;
    }
    for (uint32_t i = 0; i < k; i++)
        if (g->members[members[i]]->rack >= 0)
            rack_present[g->members[members[i]]->rack] = 1;
    size_t total = 0, local_pairs = 0, possible_pairs = 0;
    for (uint32_t r = 0; r < R; r++) {
        if (!rack_present[r])
            continue;
        for (int32_t p = 0; p < n; p++) {
            possible_pairs++;
            if (group_local(g, ts, nts, p, (int32_t)r)) {
                off[r + 1]++;
                local_pairs++;
            }
        }
    }
    /* Kafka uses racks only if some partition lacks a replica in some
     * member rack; when every (rack, partition) pair is local, or none is,
     * racks change nothing and plain ranges keep the contiguity. */
    if (local_pairs == 0 || local_pairs == possible_pairs) {
        free(off);
        free(rack_present);
        return 0;
    }
    for (uint32_t r = 0; r < R; r++)
        off[r + 1] += off[r];
    total = off[R];
    int32_t *loc = malloc((total ? total : 1) * sizeof *loc);
    uint32_t *next = malloc(((size_t)R + 1) * sizeof *next);
    int32_t *cnt = calloc(k, sizeof *cnt);
    int32_t *assign = malloc((size_t)(n ? n : 1) * sizeof *assign);
    if (!loc || !next || !cnt || !assign) {
        free(off);
        free(rack_present);
        free(loc);
        free(next);
        free(cnt);
        free(assign);
        return SLUICE_ERR_NOMEM;
    }
    memcpy(next, off, ((size_t)R + 1) * sizeof *next);
    for (uint32_t r = 0; r < R; r++)
        if (rack_present[r])
            for (int32_t p = 0; p < n; p++)
                if (group_local(g, ts, nts, p, (int32_t)r))
                    loc[next[r]++] = p;
    memcpy(next, off, ((size_t)R + 1) * sizeof *next); /* now: read position per rack */
    for (int32_t p = 0; p < n; p++)
        assign[p] = -1;

    int32_t base = n / (int32_t)k, extra = n % (int32_t)k;
    /* Round-robin over members so each gets a fair share of its rack's
     * partitions before anyone takes its extra one. */
    for (int progress = 1; progress;) {
        progress = 0;
        for (uint32_t i = 0; i < k; i++) {
            int32_t r = g->members[members[i]]->rack;
            if (r < 0)
                continue;
            if (!(cnt[i] < base || (cnt[i] == base && extra > 0)))
                continue;
            while (next[r] < off[r + 1] && assign[loc[next[r]]] != -1)
                next[r]++;
            if (next[r] == off[r + 1])
                continue;
            assign[loc[next[r]++]] = (int32_t)i;
            if (++cnt[i] == base + 1)
                extra--;
            progress = 1;
        }
    }
    /* The rest in partition order: first up to the base quota, then the
     * remaining extra slots to the first members that can take one. */
    int32_t p = 0;
    for (uint32_t i = 0; i < k; i++)
        while (cnt[i] < base) {
            while (assign[p] != -1)
                p++;
            assign[p] = (int32_t)i;
            cnt[i]++;
        }
    for (uint32_t i = 0; i < k && extra > 0; i++)
        if (cnt[i] == base) {
            while (assign[p] != -1)
                p++;
            assign[p] = (int32_t)i;
            cnt[i]++;
            extra--;
        }
    for (size_t j = 0; j < nts; j++)
        for (int32_t q = 0; q < n; q++)
            owner[ts[j]][q] = (int32_t)members[assign[q]];
    free(off);
    free(rack_present);
    free(loc);
    free(next);
    free(cnt);
    free(assign);
    return 1;
}

static int range_assign(void *state, const struct sluice_assignor_group *g,
                        struct sluice_assignor_result *out, char *err, size_t errlen)
{
    (void)state;
    struct range_ctx c = {.g = g};
    int rc = ac_group_init(&c.ac, g, err, errlen);
    if (rc)
        return rc;
    if (out->num_topics != g->num_topics) {
        ac_group_free(&c.ac);
        ac_err(err, errlen, "result has %u topics, the group %u", out->num_topics, g->num_topics);
        return SLUICE_ERR_INVALID;
    }
    uint32_t M = g->num_members, T = g->num_topics;
    uint32_t *order = malloc((M ? M : 1) * sizeof *order), *mark = NULL;
    uint32_t *topics = malloc((T ? T : 1) * sizeof *topics);
    c.rank = malloc((M ? M : 1) * sizeof *c.rank);
    c.sorted = malloc(((size_t)c.ac.sub_off[T] + 1) * sizeof *c.sorted);
    mark = calloc(M ? M : 1, sizeof *mark);
    if (!order || !topics || !c.rank || !c.sorted || !mark) {
        rc = SLUICE_ERR_NOMEM;
        ac_err(err, errlen, "out of memory");
        goto done;
    }
    for (uint32_t i = 0; i < M; i++)
        order[i] = i;
    qsort_r(order, M, sizeof *order, cmp_member_idx, &c);
    for (uint32_t i = 0; i < M; i++)
        c.rank[order[i]] = i;
    /* Subscribers of each topic in member order: one pass over the sorted
     * members per topic with many subscribers, a small sort otherwise. */
    for (uint32_t t = 0; t < T; t++) {
        uint32_t n = nsubs(&c, t), *dst = c.sorted + c.ac.sub_off[t];
        const uint32_t *src = c.ac.sub + c.ac.sub_off[t];
        if ((uint64_t)n * 16 < M) {
            memcpy(dst, src, n * sizeof *dst);
            qsort_r(dst, n, sizeof *dst, cmp_rank, &c);
            continue;
        }
        for (uint32_t k = 0; k < n; k++)
            mark[src[k]] = t + 1;
        uint32_t k = 0;
        for (uint32_t i = 0; i < M; i++)
            if (mark[order[i]] == t + 1)
                dst[k++] = order[i];
    }
    uint32_t nt = 0;
    for (uint32_t t = 0; t < T; t++)
        if (nsubs(&c, t) > 0 && g->topics[t]->num_partitions > 0)
            topics[nt++] = t;
    qsort_r(topics, nt, sizeof *topics, cmp_copart, &c);

    for (uint32_t i = 0; i < nt;) {
        uint32_t j = i + 1;
        while (j < nt && same_copart(&c, topics[i], topics[j]))
            j++;
        uint32_t t0 = topics[i];
        const uint32_t *members = c.sorted + c.ac.sub_off[t0];
        uint32_t k = nsubs(&c, t0);
        int32_t n = g->topics[t0]->num_partitions;
        int applied = c.ac.racks ? rack_range(&c, out->owner, topics + i, j - i, members, k, n) : 0;
        if (applied < 0) {
            rc = applied;
            ac_err(err, errlen, "out of memory");
            goto done;
        }
        if (!applied)
            plain_range(out->owner, topics + i, j - i, members, k, n);
        i = j;
    }
    rc = 0;
done:
    free(order);
    free(mark);
    free(topics);
    free(c.rank);
    free(c.sorted);
    ac_group_free(&c.ac);
    return rc;
}

static const struct sluice_assignor_ops range_ops = {
    .struct_size = sizeof(struct sluice_assignor_ops),
    .name = "range",
    .assign = range_assign,
};

static int range_init(const struct sluice_host_api *host, struct sluice_module_ctx *ctx, char *err,
                      size_t errlen)
{
    if (!SLUICE_HOST_HAS(host, register_assignor)) {
        ac_err(err, errlen, "this broker has no assignor support (plugin ABI 1.1 needed)");
        return SLUICE_ERR_UNSUPPORTED;
    }
    return host->register_assignor(ctx, &range_ops, NULL);
}

SLUICE_MODULE_DECLARE("assignor_range", "1.0.0", SLUICE_KIND_ASSIGNOR, range_init, NULL,
                      "Kafka's range partition assignor (co-partitioning, KIP-881 racks)");
