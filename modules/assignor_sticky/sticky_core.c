/* Balanced, sticky target assignment (Kafka's "uniform" server assignor
 * goals: balance first, then stickiness, then rack locality).
 *
 * Every valid partition of the current target stays with its owner unless
 * balance needs it elsewhere: a partition is kept when its owner still
 * subscribes to the topic.
 *
 * Homogeneous groups (every member subscribes to the same topics, Kafka's
 * UniformHomogeneousAssignmentBuilder case): with P partitions and M
 * members, everybody ends with P/M and P%M members with one more.  Members
 * over quota give up their surplus (partitions outside their rack first),
 * the extra slots go to members that already hold more than P/M, and the
 * free partitions fill members below quota, a member in a replica's rack
 * first.  This moves exactly the partitions that must move: the number kept
 * is sum(min(current, P/M)) + min(P%M, members above P/M), the maximum
 * possible.
 *
 * Heterogeneous groups (Kafka's UniformHeterogeneousAssignmentBuilder case):
 *   1. keep what is valid;
 *   2. hand out the free partitions topic by topic (topics with the most
 *      partitions per subscriber first), each to the least-loaded
 *      subscriber, a subscriber in a replica's rack first among equals;
 *   3. per-topic balancing: move partitions of a topic from its most loaded
 *      to its least loaded subscriber while they differ by two or more
 *      (partitions that moved in this round go first, so kept ones stay);
 *   4. chain balancing: per-topic moves cannot fix chains such as A and B
 *      sharing topic x and B and C sharing topic y with A at 9, B at 10 and
 *      C at 11.  While some member can shed a partition along a chain of
 *      "can take a partition of a topic I own" links to a member with at
 *      least two fewer, shift one partition along the shortest such chain.
 *      Each shift lowers the sum of squared loads, and when none is left the
 *      loads are as even as the subscriptions allow (the max-min of the
 *      result is the smallest possible, and so is every prefix of the sorted
 *      loads).
 */
#define _GNU_SOURCE /* qsort_r */
#include <stdlib.h>
#include <string.h>

#include "../assignor_common/assignor_common.h"
#include "sticky_core.h"

struct sk {
    const struct sluice_assignor_group *g;
    struct ac_group ac;
    int32_t *const *own;
    uint32_t M, T;
    int64_t *load;
    uint32_t *stamp; /* scratch, per member */
    uint32_t stamp_gen;
};

static uint32_t nsub(const struct sk *s, uint32_t t)
{
    return s->ac.sub_off[t + 1] - s->ac.sub_off[t];
}

static const uint32_t *subs(const struct sk *s, uint32_t t)
{
    return s->ac.sub + s->ac.sub_off[t];
}

static int32_t member_rack(const struct sk *s, uint32_t m) { return s->g->members[m]->rack; }

/* ---------------------------------------------------------------------- */
/* Binary heap of 64-bit keys (min-heap; max-heap users negate).           */

struct heap {
    uint64_t *v;
    size_t n, cap;
};

static int heap_push(struct heap *h, uint64_t x)
{
    if (h->n == h->cap) {
        size_t cap = h->cap ? h->cap * 2 : 64;
        uint64_t *v = realloc(h->v, cap * sizeof *v);
        if (!v)
            return -1;
        h->v = v;
        h->cap = cap;
    }
    size_t i = h->n++;
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (h->v[parent] <= x)
            break;
        h->v[i] = h->v[parent];
        i = parent;
    }
    h->v[i] = x;
    return 0;
}

static uint64_t heap_pop(struct heap *h)
{
    uint64_t top = h->v[0], x = h->v[--h->n];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= h->n)
            break;
        if (c + 1 < h->n && h->v[c + 1] < h->v[c])
            c++;
        if (x <= h->v[c])
            break;
        h->v[i] = h->v[c];
        i = c;
    }
    if (h->n)
        h->v[i] = x;
    return top;
}

/* Keys: load in the high bits, then a tie-breaker.  Loads never exceed the
 * partition count, far below 2^31. */
#define KEY(load, idx) (((uint64_t)(load) << 32) | (uint32_t)(idx))
#define KEY_LOAD(k) ((int64_t)((k) >> 32))
#define KEY_IDX(k) ((uint32_t)(k))

/* ---------------------------------------------------------------------- */
/* Phase 1: keep what is still valid.                                      */

static void keep_valid(struct sk *s)
{
    for (uint32_t t = 0; t < s->T; t++) {
        const struct sluice_assignor_topic *tp = s->g->topics[t];
        if (nsub(s, t) == 0 || !tp->current_owner)
            continue;
        uint32_t gen = ++s->stamp_gen;
        for (uint32_t i = 0; i < nsub(s, t); i++)
            s->stamp[subs(s, t)[i]] = gen;
        for (int32_t p = 0; p < tp->num_partitions; p++) {
            int32_t o = tp->current_owner[p];
            if (o >= 0 && s->stamp[o] == gen) {
                s->own[t][p] = o;
                s->load[o]++;
            }
        }
    }
}

/* ---------------------------------------------------------------------- */
/* Homogeneous: exact quotas.                                              */

static int homogeneous(struct sk *s)
{
    const struct sluice_assignor_group *g = s->g;
    int64_t P = 0;
    for (uint32_t t = 0; t < s->T; t++)
        if (nsub(s, t))
            P += g->topics[t]->num_partitions;
    int64_t Ma = s->ac.nactive, base = P / Ma, extra = P % Ma;
    int64_t *quota = malloc(s->M * sizeof *quota);
    unsigned char *gotx = calloc(s->M, 1);
    uint32_t *rack_off = NULL, *rack_mem = NULL, *rack_ptr = NULL;
    if (!quota || !gotx)
        goto nomem;
    /* Extra slots first to members that already hold more than the base,
     * so they keep base + 1 instead of giving one up. */
    for (uint32_t m = 0; m < s->M; m++) {
        quota[m] = base;
        if (g->members[m]->num_topics && s->load[m] > base && extra > 0) {
            quota[m] = base + 1;
            gotx[m] = 1;
            extra--;
        }
    }
    /* Revoke the surplus, partitions outside the owner's rack first, from
     * the highest partition numbers down. */
    for (int pass = s->ac.racks ? 0 : 1; pass < 2; pass++)
        for (uint32_t t = s->T; t-- > 0;) {
            const struct sluice_assignor_topic *tp = g->topics[t];
            for (int32_t p = tp->num_partitions; p-- > 0;) {
                int32_t o = s->own[t][p];
                if (o < 0 || s->load[o] <= quota[o])
                    continue;
                if (pass == 0 && ac_rack_local(tp, p, member_rack(s, (uint32_t)o)))
                    continue;
                s->own[t][p] = SLUICE_ASSIGNOR_UNASSIGNED;
                s->load[o]--;
            }
        }

    /* Rack pass: free partitions to under-quota members of a replica's
     * rack; first up to the base, then the extra slots. */
    if (s->ac.racks) {
        uint32_t R = g->num_racks;
        rack_off = calloc((size_t)R + 1, sizeof *rack_off);
        rack_mem = malloc(s->M * sizeof *rack_mem);
        rack_ptr = malloc(((size_t)R + 1) * sizeof *rack_ptr);
        if (!rack_off || !rack_mem || !rack_ptr)
            goto nomem;
        for (uint32_t m = 0; m < s->M; m++)
            if (g->members[m]->num_topics && member_rack(s, m) >= 0)
                rack_off[member_rack(s, m) + 1]++;
        for (uint32_t r = 0; r < R; r++)
            rack_off[r + 1] += rack_off[r];
        memcpy(rack_ptr, rack_off, ((size_t)R + 1) * sizeof *rack_ptr);
        for (uint32_t m = 0; m < s->M; m++)
            if (g->members[m]->num_topics && member_rack(s, m) >= 0)
                rack_mem[rack_ptr[member_rack(s, m)]++] = m;
        for (int pass = 0; pass < 2; pass++) {
            memcpy(rack_ptr, rack_off, ((size_t)R + 1) * sizeof *rack_ptr);
            for (uint32_t t = 0; t < s->T; t++) {
                const struct sluice_assignor_topic *tp = g->topics[t];
                if (!nsub(s, t) || !tp->rack_offsets)
                    continue;
                for (int32_t p = 0; p < tp->num_partitions; p++) {
                    if (s->own[t][p] >= 0)
                        continue;
                    for (uint32_t k = tp->rack_offsets[p]; k < tp->rack_offsets[p + 1]; k++) {
                        int32_t r = tp->rack_ids[k];
                        uint32_t *ptr = &rack_ptr[r];
                        /* Pass 0 fills to the base, pass 1 hands out extra
                         * slots; a member passed over never becomes
                         * eligible again within the pass. */
                        while (*ptr < rack_off[r + 1]) {
                            uint32_t m = rack_mem[*ptr];
                            if (pass == 0 ? s->load[m] < quota[m]
                                          : (extra > 0 && !gotx[m] && s->load[m] == base))
                                break;
                            ++*ptr;
                        }
                        if (*ptr == rack_off[r + 1])
                            continue;
                        uint32_t m = rack_mem[*ptr];
                        s->own[t][p] = (int32_t)m;
                        s->load[m]++;
                        if (pass == 1) {
                            gotx[m] = 1;
                            quota[m] = base + 1;
                            extra--;
                        }
                        break;
                    }
                }
            }
        }
    }

    /* Everything else, in order: deficits first, then the extra slots. */
    uint32_t need_ptr = 0, extra_ptr = 0;
    for (uint32_t t = 0; t < s->T; t++) {
        const struct sluice_assignor_topic *tp = g->topics[t];
        if (!nsub(s, t))
            continue;
        for (int32_t p = 0; p < tp->num_partitions; p++) {
            if (s->own[t][p] >= 0)
                continue;
            while (need_ptr < s->M && (!g->members[need_ptr]->num_topics ||
                                       s->load[need_ptr] >= quota[need_ptr]))
                need_ptr++;
            uint32_t m;
            if (need_ptr < s->M) {
                m = need_ptr;
            } else {
                while (extra_ptr < s->M && (!g->members[extra_ptr]->num_topics || gotx[extra_ptr]))
                    extra_ptr++;
                if (extra_ptr == s->M || extra <= 0)
                    goto nomem; /* cannot happen: slots == free partitions */
                m = extra_ptr;
                gotx[m] = 1;
                quota[m] = base + 1;
                extra--;
            }
            s->own[t][p] = (int32_t)m;
            s->load[m]++;
        }
    }
    free(quota);
    free(gotx);
    free(rack_off);
    free(rack_mem);
    free(rack_ptr);
    return 0;
nomem:
    free(quota);
    free(gotx);
    free(rack_off);
    free(rack_mem);
    free(rack_ptr);
    return SLUICE_ERR_NOMEM;
}

/* ---------------------------------------------------------------------- */
/* Heterogeneous phase 2: free partitions to the least loaded.             */

static int cmp_topic_order(const void *a, const void *b, void *ctx)
{
    const struct sk *s = ctx;
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    int64_t nx = s->g->topics[x]->num_partitions, ny = s->g->topics[y]->num_partitions;
    int64_t sx = nsub(s, x), sy = nsub(s, y);
    /* partitions per subscriber, descending: nx/sx > ny/sy <=> nx*sy > ny*sx */
    if (nx * sy != ny * sx)
        return nx * sy > ny * sx ? -1 : 1;
    if (sx != sy)
        return sx < sy ? -1 : 1;
    return (x > y) - (x < y);
}

static int assign_free(struct sk *s, const uint32_t *order, uint32_t nt)
{
    const struct sluice_assignor_group *g = s->g;
    struct heap h = {0};
    int32_t *freep = NULL;
    uint32_t *give = NULL, *cand = NULL;
    size_t freecap = 0, givecap = 0;
    int rc = 0;
    for (uint32_t i = 0; i < nt; i++) {
        uint32_t t = order[i];
        const struct sluice_assignor_topic *tp = g->topics[t];
        uint32_t S = nsub(s, t);
        const uint32_t *sb = subs(s, t);
        size_t nfree = 0;
        if ((size_t)tp->num_partitions > freecap) {
            freecap = (size_t)tp->num_partitions;
            int32_t *f = realloc(freep, freecap * sizeof *f);
            if (!f)
                goto nomem;
            freep = f;
        }
        for (int32_t p = 0; p < tp->num_partitions; p++)
            if (s->own[t][p] < 0)
                freep[nfree++] = p;
        if (!nfree)
            continue;
        if (S > givecap) {
            givecap = S;
            uint32_t *gv = realloc(give, givecap * sizeof *gv);
            if (!gv)
                goto nomem;
            give = gv;
            uint32_t *cv = realloc(cand, givecap * sizeof *cv);
            if (!cv)
                goto nomem;
            cand = cv;
        }
        /* How many each subscriber gets: always the least loaded next. */
        h.n = 0;
        for (uint32_t j = 0; j < S; j++) {
            give[j] = 0;
            if (heap_push(&h, KEY(s->load[sb[j]], j)))
                goto nomem;
        }
        for (size_t k = 0; k < nfree; k++) {
            uint64_t top = heap_pop(&h);
            uint32_t j = KEY_IDX(top);
            give[j]++;
            s->load[sb[j]]++;
            if (heap_push(&h, KEY(s->load[sb[j]], j)))
                goto nomem;
        }
        /* Which partition goes to whom: a replica's rack first.  Only the
         * (at most nfree) subscribers that receive something are scanned. */
        if (s->ac.racks) {
            size_t ncand = 0;
            for (uint32_t j = 0; j < S; j++)
                if (give[j])
                    cand[ncand++] = j;
            for (size_t k = 0; k < nfree; k++) {
                int32_t p = freep[k];
                if (!ac_has_rack_info(tp, p))
                    continue;
                for (size_t c = 0; c < ncand; c++) {
                    uint32_t j = cand[c];
                    if (give[j] && ac_rack_local(tp, p, member_rack(s, sb[j]))) {
                        s->own[t][p] = (int32_t)sb[j];
                        give[j]--;
                        break;
                    }
                }
            }
        }
        uint32_t j = 0;
        for (size_t k = 0; k < nfree; k++) {
            int32_t p = freep[k];
            if (s->own[t][p] >= 0)
                continue;
            while (!give[j])
                j++;
            s->own[t][p] = (int32_t)sb[j];
            give[j]--;
        }
    }
    goto out;
nomem:
    rc = SLUICE_ERR_NOMEM;
out:
    free(h.v);
    free(freep);
    free(give);
    free(cand);
    return rc;
}

/* ---------------------------------------------------------------------- */
/* Heterogeneous phase 3: per-topic balancing.                             */

struct topic_bal {
    uint32_t *lidx;                 /* member -> local index within the topic (scratch, size M) */
    uint32_t *off, *len;            /* per local: its partitions in plist[off .. off+len) */
    int32_t *plist;
    struct heap minh, maxh;
    size_t cap_local, cap_parts;
};

/* Picks (and removes) the partition of member `from`'s list to give to
 * `to`: one that moved in this round (not in the current target) and sits
 * in `to`'s rack if possible, looking at the last few entries only. */
static int32_t pick_partition(struct sk *s, struct topic_bal *b, uint32_t t, uint32_t jfrom,
                              uint32_t to)
{
    const struct sluice_assignor_topic *tp = s->g->topics[t];
    int32_t *lst = b->plist + b->off[jfrom];
    uint32_t n = b->len[jfrom], best = n - 1;
    if (s->ac.racks) {
        int32_t rto = member_rack(s, to);
        for (uint32_t k = n, seen = 0; k-- > 0 && seen < 16; seen++)
            if (ac_rack_local(tp, lst[k], rto)) {
                best = k;
                break;
            }
    }
    int32_t p = lst[best];
    lst[best] = lst[n - 1];
    b->len[jfrom]--;
    return p;
}

static int balance_topic(struct sk *s, struct topic_bal *b, uint32_t t, size_t *moves)
{
    const struct sluice_assignor_topic *tp = s->g->topics[t];
    uint32_t S = nsub(s, t);
    const uint32_t *sb = subs(s, t);
    if (S > b->cap_local) {
        uint32_t *o = realloc(b->off, S * sizeof *o), *l = o ? realloc(b->len, S * sizeof *l) : NULL;
        if (o)
            b->off = o;
        if (!o || !l)
            return SLUICE_ERR_NOMEM;
        b->len = l;
        b->cap_local = S;
    }
    if ((size_t)tp->num_partitions > b->cap_parts) {
        int32_t *pl = realloc(b->plist, (size_t)tp->num_partitions * sizeof *pl);
        if (!pl)
            return SLUICE_ERR_NOMEM;
        b->plist = pl;
        b->cap_parts = (size_t)tp->num_partitions;
    }
    for (uint32_t j = 0; j < S; j++) {
        b->lidx[sb[j]] = j;
        b->len[j] = 0;
    }
    for (int32_t p = 0; p < tp->num_partitions; p++)
        b->len[b->lidx[s->own[t][p]]]++;
    uint32_t acc = 0;
    for (uint32_t j = 0; j < S; j++) {
        b->off[j] = acc;
        acc += b->len[j];
        b->len[j] = 0;
    }
    /* Kept partitions first, this round's newcomers last: moves pop from
     * the end, so partitions that stay put in the target stay put. */
    for (int pass = 0; pass < 2; pass++)
        for (int32_t p = 0; p < tp->num_partitions; p++) {
            int32_t o = s->own[t][p];
            int kept = ac_current(tp, p) == o;
            if (kept == (pass == 0)) {
                uint32_t j = b->lidx[o];
                b->plist[b->off[j] + b->len[j]++] = p;
            }
        }
    b->minh.n = b->maxh.n = 0;
    for (uint32_t j = 0; j < S; j++) {
        if (heap_push(&b->minh, KEY(s->load[sb[j]], j)))
            return SLUICE_ERR_NOMEM;
        if (b->len[j] && heap_push(&b->maxh, ~KEY(s->load[sb[j]], j)))
            return SLUICE_ERR_NOMEM;
    }
    for (;;) {
        uint64_t kmin = 0, kmax = 0;
        int have_min = 0, have_max = 0;
        while (b->minh.n) {
            kmin = heap_pop(&b->minh);
            if (KEY_LOAD(kmin) == s->load[sb[KEY_IDX(kmin)]]) {
                have_min = 1;
                break;
            }
        }
        while (b->maxh.n) {
            kmax = ~heap_pop(&b->maxh);
            uint32_t j = KEY_IDX(kmax);
            if (KEY_LOAD(kmax) == s->load[sb[j]] && b->len[j]) {
                have_max = 1;
                break;
            }
        }
        if (!have_min || !have_max)
            break;
        uint32_t jmin = KEY_IDX(kmin), jmax = KEY_IDX(kmax);
        if (s->load[sb[jmax]] - s->load[sb[jmin]] <= 1 || jmin == jmax)
            break;
        int32_t p = pick_partition(s, b, t, jmax, sb[jmin]);
        s->own[t][p] = (int32_t)sb[jmin];
        s->load[sb[jmax]]--;
        s->load[sb[jmin]]++;
        (*moves)++;
        if (heap_push(&b->minh, KEY(s->load[sb[jmin]], jmin)) ||
            heap_push(&b->minh, KEY(s->load[sb[jmax]], jmax)) ||
            (b->len[jmin] && heap_push(&b->maxh, ~KEY(s->load[sb[jmin]], jmin))) ||
            (b->len[jmax] && heap_push(&b->maxh, ~KEY(s->load[sb[jmax]], jmax))))
            return SLUICE_ERR_NOMEM;
    }
    return 0;
}

static int balance_topics(struct sk *s, const uint32_t *order, uint32_t nt)
{
    struct topic_bal b = {0};
    b.lidx = malloc(s->M * sizeof *b.lidx);
    int rc = b.lidx ? 0 : SLUICE_ERR_NOMEM;
    /* Kafka's bound: each sweep roughly halves what is left, and the chain
     * phase below finishes the job anyway. */
    for (int sweep = 0; rc == 0 && sweep < 16; sweep++) {
        size_t moves = 0;
        for (uint32_t i = 0; rc == 0 && i < nt; i++)
            if (nsub(s, order[i]) >= 2)
                rc = balance_topic(s, &b, order[i], &moves);
        if (!moves)
            break;
    }
    free(b.lidx);
    free(b.off);
    free(b.len);
    free(b.plist);
    free(b.minh.v);
    free(b.maxh.v);
    return rc;
}

/* ---------------------------------------------------------------------- */
/* Heterogeneous phase 4: shift partitions along chains.                   */

struct chains {
    uint32_t *mt_off; /* member m's per-topic owned counts: mt_cnt[mt_off[m] + j] for m->topics[j] */
    int32_t *mt_cnt;
    uint32_t *vis_m, *vis_t, *done, gen, done_gen;
    uint32_t *par_m, *par_t, *queue, qlen;
    uint32_t *order;
};

static int32_t *mt_slot(struct sk *s, struct chains *c, uint32_t m, uint32_t t)
{
    long pos = ac_topic_pos(s->g->members[m], t);
    return pos < 0 ? NULL : &c->mt_cnt[c->mt_off[m] + (uint32_t)pos];
}

/* Breadth-first search from u over "x owns a partition of topic t, y
 * subscribes to t" links.  Returns a member with load <= load[u] - 2, or
 * -1; c->queue[0 .. qlen) then holds every member reached. */
static long chain_bfs(struct sk *s, struct chains *c, uint32_t u)
{
    uint32_t gen = ++c->gen;
    int64_t want = s->load[u] - 2;
    c->qlen = 0;
    c->queue[c->qlen++] = u;
    c->vis_m[u] = gen;
    for (uint32_t qi = 0; qi < c->qlen; qi++) {
        uint32_t x = c->queue[qi];
        const struct sluice_assignor_member *mx = s->g->members[x];
        for (uint32_t j = 0; j < mx->num_topics; j++) {
            uint32_t t = mx->topics[j];
            if (!c->mt_cnt[c->mt_off[x] + j] || c->vis_t[t] == gen)
                continue;
            c->vis_t[t] = gen;
            const uint32_t *sb = subs(s, t);
            for (uint32_t k = 0; k < nsub(s, t); k++) {
                uint32_t y = sb[k];
                if (c->vis_m[y] == gen)
                    continue;
                c->vis_m[y] = gen;
                c->par_m[y] = x;
                c->par_t[y] = t;
                c->queue[c->qlen++] = y;
                if (s->load[y] <= want)
                    return (long)y;
            }
        }
    }
    return -1;
}

/* Moves one partition of t from x to y, preferring one that x did not own
 * in the current target (it moves anyway) and that is in y's rack. */
static void move_one(struct sk *s, struct chains *c, uint32_t t, uint32_t x, uint32_t y)
{
    const struct sluice_assignor_topic *tp = s->g->topics[t];
    int32_t best = -1;
    int best_score = -1;
    for (int32_t p = 0; p < tp->num_partitions && best_score < 3; p++) {
        if (s->own[t][p] != (int32_t)x)
            continue;
        int score = (ac_current(tp, p) != (int32_t)x) * 2 +
                    (s->ac.racks && ac_rack_local(tp, p, member_rack(s, y)));
        if (score > best_score) {
            best_score = score;
            best = p;
        }
    }
    s->own[t][best] = (int32_t)y;
    (*mt_slot(s, c, x, t))--;
    (*mt_slot(s, c, y, t))++;
}

static int cmp_load_desc(const void *a, const void *b, void *ctx)
{
    const struct sk *s = ctx;
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    if (s->load[x] != s->load[y])
        return s->load[x] > s->load[y] ? -1 : 1;
    return (x > y) - (x < y);
}

static int balance_chains(struct sk *s)
{
    const struct sluice_assignor_group *g = s->g;
    struct chains c = {0};
    uint32_t M = s->M, na = 0;
    c.mt_off = malloc(((size_t)M + 1) * sizeof *c.mt_off);
    c.vis_m = calloc(M, sizeof *c.vis_m);
    c.vis_t = calloc(s->T ? s->T : 1, sizeof *c.vis_t);
    c.done = calloc(M, sizeof *c.done);
    c.par_m = malloc(M * sizeof *c.par_m);
    c.par_t = malloc(M * sizeof *c.par_t);
    c.queue = malloc(M * sizeof *c.queue);
    c.order = malloc(M * sizeof *c.order);
    int rc = SLUICE_ERR_NOMEM;
    if (!c.mt_off || !c.vis_m || !c.vis_t || !c.done || !c.par_m || !c.par_t || !c.queue ||
        !c.order)
        goto out;
    c.mt_off[0] = 0;
    for (uint32_t m = 0; m < M; m++)
        c.mt_off[m + 1] = c.mt_off[m] + g->members[m]->num_topics;
    c.mt_cnt = calloc((size_t)c.mt_off[M] + 1, sizeof *c.mt_cnt);
    if (!c.mt_cnt)
        goto out;
    for (uint32_t t = 0; t < s->T; t++)
        for (int32_t p = 0; p < g->topics[t]->num_partitions; p++)
            if (s->own[t][p] >= 0)
                (*mt_slot(s, &c, (uint32_t)s->own[t][p], t))++;
    for (uint32_t m = 0; m < M; m++)
        if (g->members[m]->num_topics)
            c.order[na++] = m;
    rc = 0;
    /* Every shift lowers sum(load^2) by at least 2, so this terminates; the
     * cap only guards against a bug turning into a hang on a broker
     * thread. */
    size_t cap = 0, shifts = 0;
    for (uint32_t t = 0; t < s->T; t++)
        cap += (size_t)g->topics[t]->num_partitions;
    cap = cap * 4 + 1024;
    /* Passes over the members, heaviest first.  Within a pass, "done"
     * marks from failed searches may go stale once a shift changes
     * ownership, so a pass that shifted anything is followed by another
     * one with fresh marks; a pass that shifts nothing proves that no
     * chain is left. */
    while (na && shifts < cap) {
        qsort_r(c.order, na, sizeof *c.order, cmp_load_desc, s);
        /* Loads only ever rise above the minimum, so this stays a lower
         * bound during the pass. */
        int64_t minload = s->load[c.order[na - 1]];
        uint32_t dgen = ++c.done_gen;
        size_t before = shifts;
        for (uint32_t i = 0; i < na && shifts < cap; i++) {
            uint32_t u = c.order[i];
            while (s->load[u] - minload > 1 && c.done[u] != dgen && shifts < cap) {
                long w = chain_bfs(s, &c, u);
                if (w < 0) {
                    /* Nobody reachable from u is 2 below u; whoever is
                     * reachable and no heavier reaches a subset of that. */
                    for (uint32_t k = 0; k < c.qlen; k++)
                        if (s->load[c.queue[k]] <= s->load[u])
                            c.done[c.queue[k]] = dgen;
                    break;
                }
                for (uint32_t y = (uint32_t)w; y != u; y = c.par_m[y])
                    move_one(s, &c, c.par_t[y], c.par_m[y], y);
                s->load[u]--;
                s->load[w]++;
                shifts++;
            }
        }
        if (shifts == before)
            break;
    }
out:
    free(c.mt_off);
    free(c.mt_cnt);
    free(c.vis_m);
    free(c.vis_t);
    free(c.done);
    free(c.par_m);
    free(c.par_t);
    free(c.queue);
    free(c.order);
    return rc;
}

/* ---------------------------------------------------------------------- */

static int heterogeneous(struct sk *s)
{
    uint32_t *order = malloc((s->T ? s->T : 1) * sizeof *order);
    if (!order)
        return SLUICE_ERR_NOMEM;
    uint32_t nt = 0;
    for (uint32_t t = 0; t < s->T; t++)
        if (nsub(s, t) && s->g->topics[t]->num_partitions > 0)
            order[nt++] = t;
    qsort_r(order, nt, sizeof *order, cmp_topic_order, s);
    int rc = assign_free(s, order, nt);
    if (rc == 0)
        rc = balance_topics(s, order, nt);
    if (rc == 0)
        rc = balance_chains(s);
    free(order);
    return rc;
}

int sticky_assign(const struct sluice_assignor_group *g, struct sluice_assignor_result *out,
                  char *err, size_t errlen)
{
    struct sk s = {.g = g, .own = out->owner, .M = g->num_members, .T = g->num_topics};
    int rc = ac_group_init(&s.ac, g, err, errlen);
    if (rc)
        return rc;
    if (out->num_topics != g->num_topics) {
        ac_group_free(&s.ac);
        ac_err(err, errlen, "result has %u topics, the group %u", out->num_topics, g->num_topics);
        return SLUICE_ERR_INVALID;
    }
    if (s.ac.nactive == 0) {
        ac_group_free(&s.ac);
        return 0;
    }
    s.load = calloc(s.M, sizeof *s.load);
    s.stamp = calloc(s.M, sizeof *s.stamp);
    if (!s.load || !s.stamp) {
        rc = SLUICE_ERR_NOMEM;
    } else {
        keep_valid(&s);
        rc = s.ac.homogeneous ? homogeneous(&s) : heterogeneous(&s);
    }
    if (rc == SLUICE_ERR_NOMEM)
        ac_err(err, errlen, "out of memory");
    free(s.load);
    free(s.stamp);
    ac_group_free(&s.ac);
    return rc;
}
