/* Partition assignors: loads the real assignor_range, assignor_sticky and
 * assignor_cooperative_sticky modules through the module loader and checks
 * their output numerically on tricky inputs:
 *   - every subscribed partition assigned exactly once, only to members
 *     that subscribe to its topic;
 *   - balance: max-min <= 1 for uniform subscriptions, and for mixed ones
 *     the smallest max and largest min the subscriptions allow, computed
 *     independently with a max-flow;
 *   - stickiness: moved partitions equal the theoretical minimum when
 *     members join and leave, and a second assignment moves nothing;
 *   - range: exact contiguous layout, co-partitioned topics line up;
 *   - racks: locality when a local assignment exists, balance kept;
 *   - cooperative steps: never hand out a partition that another member
 *     still owns, and reach the target in two steps.
 * Also the host side: registration refusals, result checks, and the
 * group.consumer.assignors / ServerAssignor name rules. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "assignor_fixture.h"
#include "plugin/assignor.h"
#include "plugin/module_loader.h"
#include "tap.h"

/* ---- loader fixture ---------------------------------------------------- */

static char top[512];
static const char *cfg_mode;

static const char *cfg_lookup(void *ud, const char *key)
{
    (void)ud;
    if (!strcmp(key, "module.mod_assignor_bad.mode"))
        return cfg_mode;
    return NULL;
}

static void quiet_log(void *ud, int level, const char *msg)
{
    (void)ud;
    (void)level;
    (void)msg;
}

static int load(struct module_registry *reg, const char *name, const char *dir, char *err,
                size_t errlen)
{
    char path[700];
    snprintf(path, sizeof path, "%s/%s/.libs", top, dir);
    return module_load(reg, name, path, err, errlen);
}

/* ---- deterministic random numbers ------------------------------------- */

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint32_t rnd(uint32_t n)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return n ? (uint32_t)(rng_state % n) : 0;
}

/* ---- running an assignor ---------------------------------------------- */

/* Runs a (host checks included) and returns the result; fails the test and
 * returns 0 on error. */
static int run(const struct module_assignor *a, const struct sluice_assignor_group *g,
               struct assignor_result *r, const char *what)
{
    char err[512];
    int rc = assignor_run(a, g, r, err, sizeof err);
    if (rc != 0) {
        ok(0, "%s: %s assign failed: %s", what, a->ops.name, err);
        return 0;
    }
    return 1;
}

/* ---- independent checks ----------------------------------------------- */

static int subscribes(const struct sluice_assignor_member *m, uint32_t t)
{
    for (uint32_t i = 0; i < m->num_topics; i++)
        if (m->topics[i] == t)
            return 1;
    return 0;
}

/* Every partition of a subscribed topic has exactly one owner that
 * subscribes to it; unsubscribed topics stay unassigned. */
static int valid(const struct sluice_assignor_group *g, int32_t *const *own, char *why,
                 size_t whylen)
{
    for (uint32_t t = 0; t < g->num_topics; t++) {
        int anyone = 0;
        for (uint32_t m = 0; m < g->num_members; m++)
            anyone |= subscribes(g->members[m], t);
        for (int32_t p = 0; p < g->topics[t]->num_partitions; p++) {
            int32_t o = own[t][p];
            if (!anyone) {
                if (o != -1) {
                    snprintf(why, whylen, "%s-%d assigned but nobody subscribes",
                             g->topics[t]->name, p);
                    return 0;
                }
                continue;
            }
            if (o < 0 || (uint32_t)o >= g->num_members) {
                snprintf(why, whylen, "%s-%d owner %d", g->topics[t]->name, p, o);
                return 0;
            }
            if (!subscribes(g->members[o], t)) {
                snprintf(why, whylen, "%s-%d given to non-subscriber %s", g->topics[t]->name, p,
                         g->members[o]->member_id);
                return 0;
            }
        }
    }
    return 1;
}

static void loads(const struct sluice_assignor_group *g, int32_t *const *own, int64_t *load)
{
    memset(load, 0, g->num_members * sizeof *load);
    for (uint32_t t = 0; t < g->num_topics; t++)
        for (int32_t p = 0; p < g->topics[t]->num_partitions; p++)
            if (own[t][p] >= 0)
                load[own[t][p]]++;
}

/* min and max load over members that subscribe to something */
static void minmax(const struct sluice_assignor_group *g, int32_t *const *own, int64_t *mn,
                   int64_t *mx)
{
    int64_t *load = malloc((g->num_members + 1) * sizeof *load);
    loads(g, own, load);
    *mn = INT64_MAX;
    *mx = 0;
    for (uint32_t m = 0; m < g->num_members; m++) {
        if (!g->members[m]->num_topics)
            continue;
        if (load[m] < *mn)
            *mn = load[m];
        if (load[m] > *mx)
            *mx = load[m];
    }
    if (*mn == INT64_MAX)
        *mn = 0;
    free(load);
}

static size_t moved(const struct sluice_assignor_group *g, int32_t *const *own)
{
    size_t n = 0;
    for (uint32_t t = 0; t < g->num_topics; t++)
        for (int32_t p = 0; p < g->topics[t]->num_partitions; p++) {
            int32_t cur = g->topics[t]->current_owner ? g->topics[t]->current_owner[p] : -1;
            if (own[t][p] != cur)
                n++;
        }
    return n;
}

/* Fewest moves any balanced assignment of a homogeneous group needs: with
 * P partitions over M members (quota P/M, P%M of them one more), member i
 * can keep min(c_i, P/M), plus one more for up to P%M of the members that
 * hold more than P/M. */
static size_t min_moves_homogeneous(const struct sluice_assignor_group *g)
{
    int64_t P = 0, M = 0;
    for (uint32_t m = 0; m < g->num_members; m++)
        M += g->members[m]->num_topics > 0;
    if (!M)
        return 0;
    const struct sluice_assignor_member *any = NULL;
    for (uint32_t m = 0; m < g->num_members && !any; m++)
        if (g->members[m]->num_topics)
            any = g->members[m];
    for (uint32_t j = 0; j < any->num_topics; j++)
        P += g->topics[any->topics[j]]->num_partitions;
    int64_t *c = calloc(g->num_members, sizeof *c);
    for (uint32_t j = 0; j < any->num_topics; j++) {
        const struct sluice_assignor_topic *tp = g->topics[any->topics[j]];
        for (int32_t p = 0; tp->current_owner && p < tp->num_partitions; p++)
            if (tp->current_owner[p] >= 0)
                c[tp->current_owner[p]]++;
    }
    int64_t base = P / M, extra = P % M, keep = 0, over = 0;
    for (uint32_t m = 0; m < g->num_members; m++) {
        if (!g->members[m]->num_topics)
            continue;
        keep += c[m] < base ? c[m] : base;
        over += c[m] > base;
    }
    keep += over < extra ? over : extra;
    free(c);
    return (size_t)(P - keep);
}

/* ---- max-flow bounds on balance (Dinic) ------------------------------- */

struct flow {
    int n, m;
    int *head, *next, *to, *level, *it;
    int64_t *cap;
};

static void fl_init(struct flow *f, int n, int maxedges)
{
    f->n = n;
    f->m = 0;
    f->head = malloc(n * sizeof(int));
    f->level = malloc(n * sizeof(int));
    f->it = malloc(n * sizeof(int));
    f->next = malloc(2 * maxedges * sizeof(int));
    f->to = malloc(2 * maxedges * sizeof(int));
    f->cap = malloc(2 * maxedges * sizeof(int64_t));
    for (int i = 0; i < n; i++)
        f->head[i] = -1;
}

static void fl_free(struct flow *f)
{
    free(f->head);
    free(f->level);
    free(f->it);
    free(f->next);
    free(f->to);
    free(f->cap);
}

static void fl_edge(struct flow *f, int a, int b, int64_t c)
{
    f->to[f->m] = b, f->cap[f->m] = c, f->next[f->m] = f->head[a], f->head[a] = f->m++;
    f->to[f->m] = a, f->cap[f->m] = 0, f->next[f->m] = f->head[b], f->head[b] = f->m++;
}

static int fl_bfs(struct flow *f, int s, int t)
{
    int *q = malloc(f->n * sizeof(int)), qh = 0, qt = 0;
    for (int i = 0; i < f->n; i++)
        f->level[i] = -1;
    f->level[s] = 0;
    q[qt++] = s;
    while (qh < qt) {
        int x = q[qh++];
        for (int e = f->head[x]; e >= 0; e = f->next[e])
            if (f->cap[e] > 0 && f->level[f->to[e]] < 0) {
                f->level[f->to[e]] = f->level[x] + 1;
                q[qt++] = f->to[e];
            }
    }
    free(q);
    return f->level[t] >= 0;
}

static int64_t fl_dfs(struct flow *f, int x, int t, int64_t pushed)
{
    if (x == t)
        return pushed;
    for (; f->it[x] >= 0; f->it[x] = f->next[f->it[x]]) {
        int e = f->it[x], y = f->to[e];
        if (f->cap[e] <= 0 || f->level[y] != f->level[x] + 1)
            continue;
        int64_t d = fl_dfs(f, y, t, pushed < f->cap[e] ? pushed : f->cap[e]);
        if (d > 0) {
            f->cap[e] -= d;
            f->cap[e ^ 1] += d;
            return d;
        }
    }
    return 0;
}

/* Max flow with member->sink capacity L. */
static int64_t maxflow_with(const struct sluice_assignor_group *g, int64_t L)
{
    int T = (int)g->num_topics, M = (int)g->num_members, S = 0, K = T + M + 1;
    int edges = T + M;
    for (int m = 0; m < M; m++)
        edges += (int)g->members[m]->num_topics;
    struct flow f;
    fl_init(&f, T + M + 2, edges);
    for (int t = 0; t < T; t++)
        fl_edge(&f, S, 1 + t, g->topics[t]->num_partitions);
    for (int m = 0; m < M; m++) {
        for (uint32_t j = 0; j < g->members[m]->num_topics; j++)
            fl_edge(&f, 1 + (int)g->members[m]->topics[j], 1 + T + m, INT64_MAX / 4);
        if (g->members[m]->num_topics)
            fl_edge(&f, 1 + T + m, K, L);
    }
    int64_t total = 0;
    while (fl_bfs(&f, S, K)) {
        for (int i = 0; i < f.n; i++)
            f.it[i] = f.head[i];
        int64_t d;
        while ((d = fl_dfs(&f, S, K, INT64_MAX)) > 0)
            total += d;
    }
    fl_free(&f);
    return total;
}

/* The smallest possible max load and the largest possible min load. */
static void optimal_bounds(const struct sluice_assignor_group *g, int64_t *best_max,
                           int64_t *best_min)
{
    int64_t P = 0, active = 0;
    for (uint32_t t = 0; t < g->num_topics; t++) {
        int anyone = 0;
        for (uint32_t m = 0; m < g->num_members; m++)
            anyone |= subscribes(g->members[m], t);
        if (anyone)
            P += g->topics[t]->num_partitions;
    }
    for (uint32_t m = 0; m < g->num_members; m++)
        active += g->members[m]->num_topics > 0;
    int64_t L = 0;
    while (maxflow_with(g, L) < P)
        L++;
    *best_max = L;
    L = 0;
    while (active && maxflow_with(g, L + 1) == (L + 1) * active)
        L++;
    *best_min = L;
}

static int same_result(const struct sluice_assignor_group *g, int32_t *const *a, int32_t *const *b)
{
    for (uint32_t t = 0; t < g->num_topics; t++)
        if (memcmp(a[t], b[t], (size_t)g->topics[t]->num_partitions * sizeof(int32_t)))
            return 0;
    return 1;
}

/* ---- range ------------------------------------------------------------ */

static char *owners_str(const struct sluice_assignor_group *g, int32_t *const *own, uint32_t t)
{
    static char buf[4096];
    size_t pos = 0;
    buf[0] = '\0';
    for (int32_t p = 0; p < g->topics[t]->num_partitions && pos < sizeof buf - 64; p++)
        pos += (size_t)snprintf(buf + pos, sizeof buf - pos, "%s%s", p ? " " : "",
                                own[t][p] >= 0 ? g->members[own[t][p]]->member_id : "-");
    return buf;
}

static void test_range_layout(const struct module_assignor *range)
{
    /* Kafka's javadoc example plus an uneven topic and a partial one. */
    struct fx *f = fx_new();
    uint32_t t0 = fx_topic(f, "t0", 7), t1 = fx_topic(f, "t1", 7), t2 = fx_topic(f, "t2", 5);
    uint32_t t3 = fx_topic(f, "nobody", 3);
    /* Added out of order: the assignor sorts by member id. */
    uint32_t c = fx_member(f, "c", NULL, NULL), a = fx_member(f, "a", NULL, NULL),
             b = fx_member(f, "b", NULL, NULL);
    fx_sub(f, a, t0), fx_sub(f, a, t1);
    fx_sub(f, b, t0), fx_sub(f, b, t1), fx_sub(f, b, t2);
    fx_sub(f, c, t2), fx_sub(f, c, t1), fx_sub(f, c, t0);
    const struct sluice_assignor_group *g = fx_finish(f);
    struct assignor_result r;
    if (!run(range, g, &r, "range layout"))
        return;
    is_str(owners_str(g, r.owner, t0), "a a a b b c c", "range: 7 partitions over a,b,c -> 3,2,2 contiguous");
    is_str(owners_str(g, r.owner, t1), "a a a b b c c", "range: co-partitioned t1 lines up with t0");
    is_str(owners_str(g, r.owner, t2), "b b b c c", "range: t2 only over its subscribers b,c");
    is_str(owners_str(g, r.owner, t3), "- - -", "range: topic nobody subscribes to stays unassigned");
    assignor_result_free(&r);
    fx_free(f);

    /* Static members sort first, by instance id; more members than
     * partitions: the first ones get one each, the rest nothing. */
    f = fx_new();
    t0 = fx_topic(f, "t0", 3);
    uint32_t m[5];
    m[0] = fx_member(f, "a-dyn", NULL, NULL);
    m[1] = fx_member(f, "z-static", "inst-1", NULL);
    m[2] = fx_member(f, "b-dyn", NULL, NULL);
    m[3] = fx_member(f, "y-static", "inst-0", NULL);
    m[4] = fx_member(f, "c-dyn", NULL, NULL);
    for (int i = 0; i < 5; i++)
        fx_sub(f, m[i], t0);
    g = fx_finish(f);
    if (!run(range, g, &r, "range static"))
        return;
    is_str(owners_str(g, r.owner, t0), "y-static z-static a-dyn",
           "range: static members first (by instance id), then member ids; 3 partitions for 5");
    assignor_result_free(&r);
    fx_free(f);
}

/* Contiguity and co-partitioning on random groups: for each topic, the
 * subscribers sorted by member id hold consecutive ranges of sizes
 * N/k (+1 for the first N%k). */
static void test_range_random(const struct module_assignor *range)
{
    int bad_valid = 0, bad_contig = 0, bad_copart = 0, bad_det = 0, cases = 0, copart_pairs = 0;
    char why[256] = "";
    for (int it = 0; it < 60; it++) {
        struct fx *f = fx_new();
        /* every fourth: 48 members, each topic with only a few of them */
        int big = it % 4 == 3;
        uint32_t nt = 1 + rnd(40), nm = big ? 48 : 1 + rnd(12);
        for (uint32_t t = 0; t < nt; t++) {
            char name[32];
            snprintf(name, sizeof name, "topic-%u", t);
            /* Few distinct counts so co-partitioned pairs happen often. */
            fx_topic(f, name, 1 + (int32_t)rnd(4) * 5 + (int32_t)rnd(2));
        }
        for (uint32_t i = 0; i < nm; i++) {
            char id[32];
            snprintf(id, sizeof id, "member-%02u", (i * 7) % nm); /* not in index order */
            uint32_t mi = fx_member(f, id, NULL, NULL);
            int all = !big && rnd(3) == 0; /* some members subscribe to everything */
            for (uint32_t t = 0; t < nt; t++)
                if (all || (big ? rnd(16) == 0 : rnd(2)))
                    fx_sub(f, mi, t);
        }
        const struct sluice_assignor_group *g = fx_finish(f);
        struct assignor_result r, r2;
        if (!run(range, g, &r, "range random")) {
            fx_free(f);
            return;
        }
        cases++;
        if (!valid(g, r.owner, why, sizeof why))
            bad_valid++;
        for (uint32_t t = 0; t < nt; t++) {
            /* subscribers sorted by member id */
            uint32_t subs[64], k = 0;
            for (uint32_t mm = 0; mm < nm; mm++)
                if (subscribes(g->members[mm], t))
                    subs[k++] = mm;
            for (uint32_t x = 1; x < k; x++)
                for (uint32_t y = x; y > 0 && strcmp(g->members[subs[y - 1]]->member_id,
                                                      g->members[subs[y]]->member_id) > 0;
                     y--) {
                    uint32_t tmp = subs[y];
                    subs[y] = subs[y - 1];
                    subs[y - 1] = tmp;
                }
            if (!k)
                continue;
            int32_t n = g->topics[t]->num_partitions, base = n / (int32_t)k,
                    extra = n % (int32_t)k, p = 0;
            for (uint32_t i = 0; i < k; i++) {
                int32_t len = base + ((int32_t)i < extra);
                for (int32_t q = 0; q < len; q++, p++)
                    if (r.owner[t][p] != (int32_t)subs[i])
                        bad_contig++;
            }
            for (uint32_t u = t + 1; u < nt; u++) {
                if (g->topics[u]->num_partitions != n)
                    continue;
                int same = 1;
                for (uint32_t mm = 0; mm < nm; mm++)
                    same &= subscribes(g->members[mm], t) == subscribes(g->members[mm], u);
                if (!same)
                    continue;
                copart_pairs++;
                if (memcmp(r.owner[t], r.owner[u], (size_t)n * sizeof(int32_t)))
                    bad_copart++;
            }
        }
        if (run(range, g, &r2, "range rerun")) {
            bad_det += !same_result(g, r.owner, r2.owner);
            assignor_result_free(&r2);
        }
        assignor_result_free(&r);
        fx_free(f);
    }
    is_int(bad_valid, 0, "range: %d random groups, every partition once, only to subscribers %s",
           cases, why);
    is_int(bad_contig, 0, "range: contiguous ranges of N/k (+1 for the first N%%k) in member order");
    ok(copart_pairs > 20, "range: %d co-partitioned topic pairs generated", copart_pairs);
    is_int(bad_copart, 0, "range: co-partitioned topics give partition p to the same member");
    is_int(bad_det, 0, "range: same input, same output");
}

static size_t count_local(const struct sluice_assignor_group *g, int32_t *const *own)
{
    size_t n = 0;
    for (uint32_t t = 0; t < g->num_topics; t++) {
        const struct sluice_assignor_topic *tp = g->topics[t];
        for (int32_t p = 0; p < tp->num_partitions; p++) {
            int32_t o = own[t][p];
            if (o < 0 || !tp->rack_offsets)
                continue;
            for (uint32_t k = tp->rack_offsets[p]; k < tp->rack_offsets[p + 1]; k++)
                if (tp->rack_ids[k] == g->members[o]->rack)
                    n++;
        }
    }
    return n;
}

static const char *const rack_names[] = {"az-a", "az-b", "az-c"};

static void one_rack(struct fx *f, uint32_t t, int32_t p, int r)
{
    const char *names[2] = {rack_names[r], NULL};
    fx_prack(f, t, p, names);
}

static void test_range_racks(const struct module_assignor *range)
{
    /* 6 members, 2 per rack; 12 partitions with one replica each, on rack
     * p % 3, in two co-partitioned topics: a fully local, balanced
     * assignment exists. */
    struct fx *f = fx_new();
    uint32_t t0 = fx_topic(f, "orders", 12), t1 = fx_topic(f, "payments", 12);
    for (int i = 0; i < 6; i++) {
        char id[16];
        snprintf(id, sizeof id, "m%d", i);
        uint32_t m = fx_member(f, id, NULL, rack_names[i % 3]);
        fx_sub(f, m, t0);
        fx_sub(f, m, t1);
    }
    for (int32_t p = 0; p < 12; p++) {
        one_rack(f, t0, p, p % 3);
        one_rack(f, t1, p, p % 3);
    }
    const struct sluice_assignor_group *g = fx_finish(f);
    struct assignor_result r;
    char why[256] = "";
    if (!run(range, g, &r, "range racks"))
        return;
    ok(valid(g, r.owner, why, sizeof why), "range racks: valid %s", why);
    is_int(count_local(g, r.owner), 24, "range racks: all 24 partitions rack-local");
    int64_t mn, mx;
    minmax(g, r.owner, &mn, &mx);
    ok(mn == 4 && mx == 4, "range racks: 2 per topic per member (loads %lld..%lld)", (long long)mn,
       (long long)mx);
    ok(!memcmp(r.owner[t0], r.owner[t1], 12 * sizeof(int32_t)),
       "range racks: co-partitioned topics still line up");
    assignor_result_free(&r);
    fx_free(f);

    /* Racks that change nothing (every partition on every rack): plain
     * contiguous ranges. */
    f = fx_new();
    t0 = fx_topic(f, "t", 6);
    for (int i = 0; i < 3; i++) {
        char id[16];
        snprintf(id, sizeof id, "m%d", i);
        fx_sub(f, fx_member(f, id, NULL, rack_names[i]), t0);
    }
    for (int32_t p = 0; p < 6; p++)
        fx_prack(f, t0, p, (const char *const[]){"az-a", "az-b", "az-c", NULL});
    g = fx_finish(f);
    if (!run(range, g, &r, "range racks everywhere"))
        return;
    is_str(owners_str(g, r.owner, t0), "m0 m0 m1 m1 m2 m2",
           "range: replicas on every rack -> plain contiguous ranges");
    assignor_result_free(&r);
    fx_free(f);

    /* All replicas in az-a, members in az-a and az-b: balance wins, the
     * az-a members get local partitions. */
    f = fx_new();
    t0 = fx_topic(f, "t", 8);
    for (int i = 0; i < 4; i++) {
        char id[16];
        snprintf(id, sizeof id, "m%d", i);
        fx_sub(f, fx_member(f, id, NULL, rack_names[i % 2]), t0);
    }
    for (int32_t p = 0; p < 8; p++)
        one_rack(f, t0, p, 0);
    g = fx_finish(f);
    if (!run(range, g, &r, "range racks one-sided"))
        return;
    minmax(g, r.owner, &mn, &mx);
    ok(mn == 2 && mx == 2, "range: one-sided racks keep 2 each (loads %lld..%lld)", (long long)mn,
       (long long)mx);
    is_int(count_local(g, r.owner), 4, "range: the two az-a members get 4 local partitions");
    assignor_result_free(&r);
    fx_free(f);
}

/* ---- sticky / uniform ------------------------------------------------- */

static void homogeneous_group(struct fx *f, int members, int topics, const int32_t *parts)
{
    for (int t = 0; t < topics; t++) {
        char name[32];
        snprintf(name, sizeof name, "t%d", t);
        fx_topic(f, name, parts[t]);
    }
    for (int i = 0; i < members; i++) {
        char id[32];
        snprintf(id, sizeof id, "member-%d", i);
        uint32_t m = fx_member(f, id, NULL, NULL);
        for (int t = 0; t < topics; t++)
            fx_sub(f, m, (uint32_t)t);
    }
}

static void test_sticky_homogeneous(const struct module_assignor *a)
{
    static const int32_t parts[] = {10, 13, 1, 7};
    struct fx *f = fx_new();
    homogeneous_group(f, 7, 4, parts); /* 31 partitions over 7: 4 or 5 each */
    const struct sluice_assignor_group *g = fx_finish(f);
    struct assignor_result r;
    char why[256] = "";
    if (!run(a, g, &r, "sticky fresh"))
        return;
    int64_t mn, mx;
    minmax(g, r.owner, &mn, &mx);
    ok(valid(g, r.owner, why, sizeof why), "%s fresh: valid %s", a->ops.name, why);
    ok(mn == 4 && mx == 5, "%s fresh: 31 over 7 -> 4..5 (got %lld..%lld)", a->ops.name,
       (long long)mn, (long long)mx);

    /* Leave, join, leave again: each round moves exactly the minimum. */
    int rounds_ok = 0, balanced = 0, rounds = 0;
    size_t total_moved = 0, total_min = 0;
    char id[32];
    for (int round = 0; round < 12; round++) {
        fx_set_current(f, r.owner);
        assignor_result_free(&r);
        if (round % 3 == 1) {
            snprintf(id, sizeof id, "joiner-%d", round);
            uint32_t m = fx_member(f, id, NULL, NULL);
            for (uint32_t t = 0; t < 4; t++)
                fx_sub(f, m, t);
        } else {
            fx_remove_member(f, rnd(f->nm));
        }
        g = fx_finish(f);
        size_t want = min_moves_homogeneous(g);
        if (!run(a, g, &r, "sticky round"))
            return;
        size_t got = moved(g, r.owner);
        rounds++;
        rounds_ok += got == want && valid(g, r.owner, why, sizeof why);
        minmax(g, r.owner, &mn, &mx);
        balanced += mx - mn <= 1;
        total_moved += got;
        total_min += want;
    }
    is_int(rounds_ok, rounds, "%s: members leaving/joining, moved == minimum in every round (%zu vs %zu)",
           a->ops.name, total_moved, total_min);
    is_int(balanced, rounds, "%s: max-min <= 1 after every round", a->ops.name);

    /* Idempotent: assigning again from the result moves nothing. */
    fx_set_current(f, r.owner);
    g = fx_finish(f);
    struct assignor_result r2;
    if (run(a, g, &r2, "sticky again")) {
        is_int(moved(g, r2.owner), 0, "%s: a balanced target is kept as is", a->ops.name);
        assignor_result_free(&r2);
    }
    assignor_result_free(&r);
    fx_free(f);

    /* More members than partitions: 0 or 1 each. */
    f = fx_new();
    static const int32_t few[] = {3};
    homogeneous_group(f, 5, 1, few);
    g = fx_finish(f);
    if (run(a, g, &r, "sticky sparse")) {
        minmax(g, r.owner, &mn, &mx);
        ok(mn == 0 && mx == 1 && valid(g, r.owner, why, sizeof why),
           "%s: 3 partitions over 5 members -> 0..1", a->ops.name);
        assignor_result_free(&r);
    }
    fx_free(f);
}

/* The chain Kafka's per-topic balancing cannot fix: t1 {A,B}, t2 {B,C},
 * loads A 9, B 10, C 11.  Optimal is 10/10/10 with two moves: one t2
 * partition C->B and one t1 partition B->A. */
static void test_sticky_chain(const struct module_assignor *a)
{
    struct fx *f = fx_new();
    uint32_t t1 = fx_topic(f, "t1", 10), t2 = fx_topic(f, "t2", 20);
    uint32_t A = fx_member(f, "A", NULL, NULL), B = fx_member(f, "B", NULL, NULL),
             C = fx_member(f, "C", NULL, NULL);
    fx_sub(f, A, t1), fx_sub(f, B, t1), fx_sub(f, B, t2), fx_sub(f, C, t2);
    for (int32_t p = 0; p < 10; p++)
        f->topics[t1].cur[p] = p < 9 ? (int32_t)A : (int32_t)B;
    for (int32_t p = 0; p < 20; p++)
        f->topics[t2].cur[p] = p < 9 ? (int32_t)B : (int32_t)C;
    const struct sluice_assignor_group *g = fx_finish(f);
    struct assignor_result r;
    if (!run(a, g, &r, "chain"))
        return;
    int64_t load[3];
    loads(g, r.owner, load);
    ok(load[A] == 10 && load[B] == 10 && load[C] == 10, "%s chain: 9/10/11 -> 10/10/10 (got %lld/%lld/%lld)",
       a->ops.name, (long long)load[A], (long long)load[B], (long long)load[C]);
    is_int(moved(g, r.owner), 2, "%s chain: two moves, the minimum", a->ops.name);
    assignor_result_free(&r);
    fx_free(f);
}

/* Mixed subscriptions with random current owners (some stale): valid,
 * loads exactly as even as the subscriptions allow (max-flow bounds),
 * deterministic, idempotent. */
static void test_sticky_heterogeneous(const struct module_assignor *a)
{
    int cases = 0, bad_valid = 0, bad_bal = 0, bad_det = 0, bad_idem = 0, uneven_possible = 0;
    char why[256] = "", balwhy[256] = "";
    for (int it = 0; it < 200; it++) {
        struct fx *f = fx_new();
        uint32_t nt = 1 + rnd(12), nm = 2 + rnd(14);
        for (uint32_t t = 0; t < nt; t++) {
            char name[32];
            snprintf(name, sizeof name, "topic-%u", t);
            fx_topic(f, name, 1 + (int32_t)rnd(it % 5 == 0 ? 60 : 16));
        }
        for (uint32_t i = 0; i < nm; i++) {
            char id[32];
            snprintf(id, sizeof id, "m%u", i);
            /* a third of the groups use racks: they must never cost balance */
            uint32_t m = fx_member(f, id, NULL, it % 3 == 1 ? rack_names[rnd(3)] : NULL);
            /* disjoint islands, single-topic members, overlaps */
            int style = (int)rnd(4);
            for (uint32_t t = 0; t < nt; t++)
                if ((style == 0 && t % 2 == i % 2) || (style == 1 && t == i % nt) ||
                    (style >= 2 && rnd(3) == 0))
                    fx_sub(f, m, t);
        }
        /* random current owners, including members that no longer
         * subscribe and unowned partitions */
        for (uint32_t t = 0; t < nt; t++)
            for (int32_t p = 0; p < f->topics[t].n; p++)
                f->topics[t].cur[p] = rnd(4) == 0 ? -1 : (int32_t)rnd(nm);
        if (it % 3 == 1)
            for (uint32_t t = 0; t < nt; t++)
                for (int32_t p = 0; p < f->topics[t].n; p++)
                    one_rack(f, t, p, (int)rnd(3));
        /* every seventh: one member subscribed to everything owns it all */
        if (it % 7 == 0)
            for (uint32_t t = 0; t < nt; t++) {
                fx_sub(f, 0, t);
                for (int32_t p = 0; p < f->topics[t].n; p++)
                    f->topics[t].cur[p] = 0;
            }
        const struct sluice_assignor_group *g = fx_finish(f);
        struct assignor_result r, r2;
        if (!run(a, g, &r, "heterogeneous")) {
            fx_free(f);
            return;
        }
        cases++;
        if (!valid(g, r.owner, why, sizeof why))
            bad_valid++;
        int64_t mn, mx, bmax, bmin;
        minmax(g, r.owner, &mn, &mx);
        optimal_bounds(g, &bmax, &bmin);
        if (mn != bmin || mx != bmax) {
            bad_bal++;
            snprintf(balwhy, sizeof balwhy, "case %d: loads %lld..%lld, optimum %lld..%lld", it,
                     (long long)mn, (long long)mx, (long long)bmin, (long long)bmax);
        }
        uneven_possible += bmax - bmin > 1;
        if (run(a, g, &r2, "rerun")) {
            bad_det += !same_result(g, r.owner, r2.owner);
            assignor_result_free(&r2);
        }
        fx_set_current(f, r.owner);
        g = fx_finish(f);
        if (run(a, g, &r2, "idempotent")) {
            bad_idem += moved(g, r2.owner) != 0;
            assignor_result_free(&r2);
        }
        assignor_result_free(&r);
        fx_free(f);
    }
    is_int(bad_valid, 0, "%s: %d mixed-subscription groups valid %s", a->ops.name, cases, why);
    is_int(bad_bal, 0, "%s: max and min load equal the max-flow optimum %s", a->ops.name, balwhy);
    ok(uneven_possible > 10, "%s: %d cases where subscriptions forbid max-min <= 1", a->ops.name,
       uneven_possible);
    is_int(bad_det, 0, "%s: deterministic", a->ops.name);
    is_int(bad_idem, 0, "%s: assigning from its own result moves nothing", a->ops.name);
}

static void test_sticky_racks(const struct module_assignor *a)
{
    /* 6 members over 3 racks, 30 partitions each on rack p % 3. */
    struct fx *f = fx_new();
    uint32_t t0 = fx_topic(f, "events", 30);
    for (int i = 0; i < 6; i++) {
        char id[16];
        snprintf(id, sizeof id, "m%d", i);
        fx_sub(f, fx_member(f, id, NULL, rack_names[i % 3]), t0);
    }
    for (int32_t p = 0; p < 30; p++)
        one_rack(f, t0, p, p % 3);
    const struct sluice_assignor_group *g = fx_finish(f);
    struct assignor_result r;
    if (!run(a, g, &r, "sticky racks"))
        return;
    int64_t mn, mx;
    minmax(g, r.owner, &mn, &mx);
    ok(mn == 5 && mx == 5, "%s racks: 5 each", a->ops.name);
    is_int(count_local(g, r.owner), 30, "%s racks: all 30 rack-local", a->ops.name);

    /* m5 (az-c) leaves: its 5 partitions go to m2, the other az-c member,
     * only as far as balance allows; nothing else moves. */
    fx_set_current(f, r.owner);
    assignor_result_free(&r);
    fx_remove_member(f, 5);
    g = fx_finish(f);
    if (!run(a, g, &r, "sticky racks leave"))
        return;
    minmax(g, r.owner, &mn, &mx);
    ok(mn == 6 && mx == 6, "%s racks: 30 over 5 -> 6 each", a->ops.name);
    is_int(moved(g, r.owner), (long long)min_moves_homogeneous(g), "%s racks: minimal moves",
           a->ops.name);
    /* m2 can take only one more (6), so 4 of m5's az-c partitions land
     * elsewhere: 26 local at best. */
    is_int(count_local(g, r.owner), 26, "%s racks: locality kept where balance allows",
           a->ops.name);
    assignor_result_free(&r);
    fx_free(f);
}

static void test_edge_cases(const struct module_assignor *a)
{
    /* No members, a member with no subscription, a zero-partition topic. */
    struct fx *f = fx_new();
    fx_topic(f, "t", 4);
    const struct sluice_assignor_group *g = fx_finish(f);
    struct assignor_result r;
    char why[256] = "";
    if (run(a, g, &r, "empty group")) {
        ok(valid(g, r.owner, why, sizeof why) && r.owner[0][0] == -1,
           "%s: empty group assigns nothing", a->ops.name);
        assignor_result_free(&r);
    }
    uint32_t idle = fx_member(f, "idle", NULL, NULL);
    uint32_t busy = fx_member(f, "busy", NULL, NULL);
    uint32_t z = fx_topic(f, "zero", 0);
    fx_sub(f, busy, 0);
    fx_sub(f, busy, z);
    g = fx_finish(f);
    if (run(a, g, &r, "idle member")) {
        int64_t load[2];
        loads(g, r.owner, load);
        ok(load[idle] == 0 && load[busy] == 4 && valid(g, r.owner, why, sizeof why),
           "%s: a member without subscriptions gets nothing", a->ops.name);
        assignor_result_free(&r);
    }
    fx_free(f);

    /* Bad input is refused, not trusted: unsorted subscription. */
    f = fx_new();
    fx_topic(f, "a", 1);
    fx_topic(f, "b", 1);
    uint32_t m = fx_member(f, "m", NULL, NULL);
    fx_sub(f, m, 0);
    fx_sub(f, m, 1);
    g = fx_finish(f);
    f->members[m].topics[0] = 1;
    f->members[m].topics[1] = 0;
    if (assignor_result_init(&r, g) == 0) {
        char err[256] = "";
        int rc = a->ops.assign(a->state, g, &r.res, err, sizeof err);
        is_int(rc, SLUICE_ERR_INVALID, "%s: unsorted subscription -> SLUICE_ERR_INVALID (%s)",
               a->ops.name, err);
        assignor_result_free(&r);
    }
    fx_free(f);
}

/* ---- cooperative ------------------------------------------------------ */

/* Independent safety check of one step. */
static int step_safe(const struct sluice_assignor_group *g, int32_t *const *target,
                     int32_t *const *step)
{
    for (uint32_t t = 0; t < g->num_topics; t++)
        for (int32_t p = 0; p < g->topics[t]->num_partitions; p++) {
            int32_t cur = g->topics[t]->current_owner[p], s = step[t][p];
            if (cur >= 0 && s != cur && s != -1)
                return 0; /* handed over while still owned */
            if (cur < 0 && s != -1 && s != target[t][p])
                return 0;
        }
    return 1;
}

static void test_cooperative(const struct module_assignor *coop)
{
    ok(coop->ops.next_step != NULL, "cooperative-sticky provides next_step");
    static const int32_t parts[] = {12, 9, 5};
    int safe = 0, converged = 0, steps = 0, rounds = 0, partial_safe = 0, held = 0;
    struct fx *f = fx_new();
    homogeneous_group(f, 4, 3, parts);
    const struct sluice_assignor_group *g = fx_finish(f);
    struct assignor_result target;
    if (!run(coop, g, &target, "coop initial"))
        return;
    /* Members own the first target; then the group changes 6 times. */
    fx_set_current(f, target.owner);
    assignor_result_free(&target);
    /* In this round (a join: others must give partitions up) odd-indexed
     * members are slow to acknowledge their revocations. */
    const int slow_round = 2;
    for (int round = 0; round < 6; round++) {
        if (round % 2 == 0) {
            char id[32];
            snprintf(id, sizeof id, "new-%d", round);
            uint32_t m = fx_member(f, id, NULL, NULL);
            for (uint32_t t = 0; t < 3; t++)
                fx_sub(f, m, t);
        } else {
            fx_remove_member(f, rnd(f->nm));
        }
        g = fx_finish(f);
        if (!run(coop, g, &target, "coop target"))
            return;
        rounds++;
        struct assignor_result step;
        char err[256];
        int k;
        for (k = 1; k <= 3; k++) {
            if (assignor_run_step(coop, g, &target.res, &step, err, sizeof err)) {
                ok(0, "coop step failed: %s", err);
                return;
            }
            steps++;
            safe += step_safe(g, target.owner, step.owner);
            int done = same_result(g, step.owner, target.owner);
            /* Apply the step; slow members keep what they should revoke. */
            for (uint32_t t = 0; t < f->nt; t++)
                for (int32_t p = 0; p < f->topics[t].n; p++) {
                    int32_t before = f->topics[t].cur[p];
                    int32_t after = step.owner[t][p];
                    if (k == 1 && round == slow_round && before >= 0 && before % 2 == 1 && after == -1) {
                        held++;
                        continue; /* not revoked yet */
                    }
                    f->topics[t].cur[p] = after;
                }
            assignor_result_free(&step);
            g = fx_finish(f);
            if (done)
                break;
            if (k == 1 && round == slow_round) {
                /* while slow members hold partitions, a step must not give
                 * them away */
                if (assignor_run_step(coop, g, &target.res, &step, err, sizeof err) == 0) {
                    partial_safe += step_safe(g, target.owner, step.owner);
                    assignor_result_free(&step);
                }
            }
        }
        converged += k <= 2 || (round == slow_round && k <= 3);
        assignor_result_free(&target);
    }
    is_int(safe, steps, "cooperative: %d steps, none hands out a partition still owned by another member",
           steps);
    is_int(converged, rounds, "cooperative: target reached in two steps (three when revocations lag)");
    ok(held > 0 && partial_safe == 1,
       "cooperative: %d partitions held by slow members are not handed out meanwhile", held);
    fx_free(f);
}

/* ---- host side: registration, checks, names ---------------------------- */

static void test_registration(void)
{
    struct module_registry reg;
    char err[1024], want[1200], dir[700];
    module_registry_init(&reg);
    module_registry_set_config(&reg, cfg_lookup, NULL);
    module_registry_set_log(&reg, quiet_log, NULL);
    is_int(load(&reg, "assignor_sticky", "modules/assignor_sticky", err, sizeof err), 0,
           "assignor_sticky loads %s", err);
    ok(module_registry_assignor(&reg, "uniform") && module_registry_assignor(&reg, "sticky"),
       "assignor_sticky registers uniform and sticky");
    const struct sluice_module *d = module_registry_find(&reg, "assignor_sticky");
    ok(d && d->kinds == SLUICE_KIND_ASSIGNOR && d->abi_minor == SLUICE_ABI_MINOR,
       "descriptor: kind assignor, ABI 1.%d", SLUICE_ABI_MINOR);

    snprintf(dir, sizeof dir, "%s/tests/modules/assignors/.libs", top);
    cfg_mode = "dup";
    is_int(module_load(&reg, "mod_assignor_bad", dir, err, sizeof err), -1, "duplicate name refused");
    snprintf(want, sizeof want,
             "module 'mod_assignor_bad' (%s/mod_assignor_bad.so): init failed: assignor 'uniform' "
             "is already provided by module 'assignor_sticky'",
             dir);
    is_str(err, want, "duplicate: names the assignor and the module that has it");
    cfg_mode = "twice";
    is_int(module_load(&reg, "mod_assignor_bad", dir, err, sizeof err), -1, "same name twice refused");
    ok(strstr(err, "assignor 'bad-twice' is already provided by module 'mod_assignor_bad'") != NULL,
       "twice: %s", err);
    ok(!module_registry_assignor(&reg, "bad-twice"), "a refused module leaves no assignor behind");
    cfg_mode = "badname";
    is_int(module_load(&reg, "mod_assignor_bad", dir, err, sizeof err), -1, "bad name refused");
    ok(strstr(err, "init failed: assignor name 'Bad Name' is not [a-z0-9._-]{1,64}") != NULL, "%s",
       err);
    cfg_mode = "noassign";
    is_int(module_load(&reg, "mod_assignor_bad", dir, err, sizeof err), -1, "missing assign refused");
    ok(strstr(err, "init failed: assignor 'uniform': assign is required") != NULL, "%s", err);
    cfg_mode = "small";
    is_int(module_load(&reg, "mod_assignor_bad", dir, err, sizeof err), -1, "tiny ops refused");
    ok(strstr(err, "assignor ops struct_size 8 is smaller than the ABI 1.1 minimum") != NULL, "%s",
       err);
    is_int(module_load(&reg, "mod_assignor_nokind", dir, err, sizeof err), -1, "missing kind refused");
    ok(strstr(err, "register_assignor called but the module does not declare SLUICE_KIND_ASSIGNOR") !=
           NULL,
       "%s", err);
    is_int((long long)reg.nassignors, 2, "only the two good registrations remain");
    module_registry_free(&reg);
    is_int((long long)reg.nassignors, 0, "unload drops the assignors");
}

static void test_host_checks(const struct module_assignor *sticky)
{
    struct fx *f = fx_new();
    uint32_t t0 = fx_topic(f, "x", 2), t1 = fx_topic(f, "y", 1);
    uint32_t a = fx_member(f, "a", NULL, NULL), b = fx_member(f, "b", NULL, NULL);
    fx_sub(f, a, t0);
    fx_sub(f, b, t1);
    const struct sluice_assignor_group *g = fx_finish(f);
    struct assignor_result r;
    char err[512];
    is_int(assignor_check_group(g, err, sizeof err), 0, "host: a well-formed group passes");
    assignor_result_init(&r, g);
    r.owner[t0][0] = (int32_t)a;
    r.owner[t0][1] = (int32_t)a;
    r.owner[t1][0] = (int32_t)b;
    is_int(assignor_check_target(g, &r.res, err, sizeof err), 0, "host: correct target accepted");
    r.owner[t0][1] = (int32_t)b;
    is_int(assignor_check_target(g, &r.res, err, sizeof err), SLUICE_ERR_INVALID,
           "host: partition given to a non-subscriber refused");
    is_str(err, "topic x partition 1 given to member b, which does not subscribe to it",
           "host: message names topic, partition and member");
    r.owner[t0][1] = -1;
    is_int(assignor_check_target(g, &r.res, err, sizeof err), SLUICE_ERR_INVALID,
           "host: unassigned partition refused");
    is_str(err, "topic x partition 1 left unassigned", "host: unassigned message");
    r.owner[t0][1] = 7;
    is_int(assignor_check_target(g, &r.res, err, sizeof err), SLUICE_ERR_INVALID,
           "host: owner out of range refused");
    /* unsafe step: x-0 owned by a, step gives it to b */
    f->topics[t0].cur[0] = (int32_t)a;
    g = fx_finish(f);
    struct assignor_result target, step;
    assignor_result_init(&target, g);
    assignor_result_init(&step, g);
    target.owner[t0][0] = (int32_t)b;
    step.owner[t0][0] = (int32_t)b;
    is_int(assignor_check_step(g, &target.res, &step.res, err, sizeof err), SLUICE_ERR_INVALID,
           "host: a step handing over a still-owned partition is refused");
    is_str(err, "topic x partition 0: step gives it to member 1 while member 0 still owns it",
           "host: unsafe step message");
    assignor_default_step(g, &target.res, &step.res);
    ok(step.owner[t0][0] == -1 && assignor_check_step(g, &target.res, &step.res, err, sizeof err) == 0,
       "host: default step revokes first");
    assignor_result_free(&r);
    assignor_result_free(&target);
    assignor_result_free(&step);
    /* The run wrapper reports module failures with the assignor name. */
    f->members[a].topics[0] = 5; /* out of range */
    g = fx_finish(f);
    is_int(assignor_check_group(g, err, sizeof err), SLUICE_ERR_INVALID, "host: bad group refused");
    is_int(assignor_run(sticky, g, &r, err, sizeof err), SLUICE_ERR_INVALID,
           "host: run returns the module's error");
    ok(strncmp(err, "assignor 'uniform' failed (-3): ", 32) == 0, "host: %s", err);
    fx_free(f);
}

static void test_names(const struct module_registry *reg)
{
    char err[512], name[ASSIGNOR_NAME_MAX + 1];
    is_int(assignor_list_check(reg, ASSIGNOR_DEFAULT_LIST, err, sizeof err), 0,
           "names: default 'uniform,range' resolves");
    is_int(assignor_list_check(reg,
                               "org.apache.kafka.coordinator.group.assignor.UniformAssignor, "
                               "org.apache.kafka.coordinator.group.assignor.RangeAssignor",
                               err, sizeof err),
           0, "names: Kafka's class names map to uniform, range");
    is_int(assignor_list_name("org.apache.kafka.coordinator.group.assignor.RangeAssignor", 0, name,
                              sizeof name),
           0, "names: class name entry");
    is_str(name, "range", "names: RangeAssignor -> range");
    is_int(assignor_list_check(reg, "uniform,foo", err, sizeof err), -1, "names: unknown refused");
    is_str(err,
           "group.consumer.assignors: no loaded module provides assignor 'foo' (registered: range, "
           "uniform, sticky, cooperative-sticky; load e.g. module.load=assignor_sticky)",
           "names: message lists what is registered");
    is_int(assignor_list_check(reg, "range range", err, sizeof err), -1, "names: duplicate refused");
    is_int(assignor_list_check(reg, " , ", err, sizeof err), -1, "names: empty refused");
    is_str(err, "group.consumer.assignors is empty", "names: empty message");

    is_int(assignor_check_requested("uniform,range", NULL, err, sizeof err), 0,
           "ServerAssignor null: default");
    is_int(assignor_check_requested("uniform,range", "range", err, sizeof err), 0,
           "ServerAssignor range: enabled");
    is_int(assignor_check_requested("uniform,range", "bar", err, sizeof err), 112,
           "ServerAssignor bar: UNSUPPORTED_ASSIGNOR (112)");
    is_str(err, "ServerAssignor bar is not supported. Supported assignors: uniform, range.",
           "ServerAssignor: Kafka's message");
    is_int(assignor_check_requested("uniform,range", "", err, sizeof err), 112,
           "ServerAssignor '': refused like Kafka (only null means default)");

    const char *none[] = {NULL, NULL};
    assignor_preferred("uniform,range", none, 2, name, sizeof name);
    is_str(name, "uniform", "preferred: nobody chose -> first of the list");
    const char *votes[] = {"range", NULL, "uniform", "range"};
    assignor_preferred("uniform,range", votes, 4, name, sizeof name);
    is_str(name, "range", "preferred: most members ask for range");
    const char *tie[] = {"range", "uniform"};
    assignor_preferred("uniform,range", tie, 2, name, sizeof name);
    is_str(name, "uniform", "preferred: a tie goes to the earlier list entry");
}

int main(void)
{
    const char *t = getenv("SLUICE_TOP_BUILDDIR");
    if (!t)
        skip_all("SLUICE_TOP_BUILDDIR not set (run via make check)");
    snprintf(top, sizeof top, "%s", t);

    struct module_registry reg;
    char err[1024];
    module_registry_init(&reg);
    module_registry_set_log(&reg, quiet_log, NULL);
    is_int(load(&reg, "assignor_range", "modules/assignor_range", err, sizeof err), 0,
           "load assignor_range %s", err);
    is_int(load(&reg, "assignor_sticky", "modules/assignor_sticky", err, sizeof err), 0,
           "load assignor_sticky %s", err);
    is_int(load(&reg, "assignor_cooperative_sticky", "modules/assignor_cooperative_sticky", err,
                sizeof err),
           0, "load assignor_cooperative_sticky %s", err);
    const struct module_assignor *range = module_registry_assignor(&reg, "range");
    const struct module_assignor *uniform = module_registry_assignor(&reg, "uniform");
    const struct module_assignor *sticky = module_registry_assignor(&reg, "sticky");
    const struct module_assignor *coop = module_registry_assignor(&reg, "cooperative-sticky");
    ok(range && uniform && sticky && coop,
       "registered: range, uniform, sticky, cooperative-sticky");
    if (!range || !uniform || !sticky || !coop)
        return done_testing();

    test_range_layout(range);
    test_range_random(range);
    test_range_racks(range);
    test_sticky_homogeneous(uniform);
    test_sticky_homogeneous(coop);
    test_sticky_chain(uniform);
    test_sticky_heterogeneous(uniform);
    test_sticky_racks(uniform);
    test_edge_cases(range);
    test_edge_cases(uniform);
    test_cooperative(coop);
    test_host_checks(uniform);
    test_names(&reg);
    module_registry_free(&reg);
    test_registration();
    return done_testing();
}
