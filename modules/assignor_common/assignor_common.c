/* Helpers shared by the assignor modules; see assignor_common.h. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "assignor_common.h"

void ac_err(char *err, size_t errlen, const char *fmt, ...)
{
    if (!errlen)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

long ac_topic_pos(const struct sluice_assignor_member *m, uint32_t t)
{
    uint32_t lo = 0, hi = m->num_topics;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (m->topics[mid] < t)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < m->num_topics && m->topics[lo] == t ? (long)lo : -1;
}

int ac_subscribes(const struct sluice_assignor_member *m, uint32_t t)
{
    return ac_topic_pos(m, t) >= 0;
}

int ac_rack_local(const struct sluice_assignor_topic *tp, int32_t p, int32_t rack)
{
    if (rack < 0 || !tp->rack_offsets)
        return 0;
    for (uint32_t k = tp->rack_offsets[p]; k < tp->rack_offsets[p + 1]; k++)
        if (tp->rack_ids[k] == rack)
            return 1;
    return 0;
}

int ac_has_rack_info(const struct sluice_assignor_topic *tp, int32_t p)
{
    return tp->rack_offsets && tp->rack_offsets[p + 1] > tp->rack_offsets[p];
}

int ac_member_cmp(const struct sluice_assignor_member *a, const struct sluice_assignor_member *b)
{
    if (a->instance_id && b->instance_id) {
        int c = strcmp(a->instance_id, b->instance_id);
        if (c)
            return c;
    } else if (a->instance_id) {
        return -1;
    } else if (b->instance_id) {
        return 1;
    }
    return strcmp(a->member_id, b->member_id);
}

void ac_group_free(struct ac_group *a)
{
    free(a->sub_off);
    free(a->sub);
    memset(a, 0, sizeof *a);
}

int ac_group_init(struct ac_group *a, const struct sluice_assignor_group *g, char *err,
                  size_t errlen)
{
    memset(a, 0, sizeof *a);
    a->g = g;
    a->nmembers = g->num_members;
    a->ntopics = g->num_topics;
    size_t nsubs = 0;
    int member_rack = 0;
    for (uint32_t i = 0; i < g->num_members; i++) {
        const struct sluice_assignor_member *m = g->members[i];
        if (m->rack != SLUICE_ASSIGNOR_NO_RACK) {
            if (m->rack < 0 || (uint32_t)m->rack >= g->num_racks) {
                ac_err(err, errlen, "member %s: rack index %d out of range", m->member_id, m->rack);
                return SLUICE_ERR_INVALID;
            }
            member_rack = 1;
        }
        for (uint32_t j = 0; j < m->num_topics; j++)
            if (m->topics[j] >= g->num_topics || (j && m->topics[j] <= m->topics[j - 1])) {
                ac_err(err, errlen, "member %s: subscription not ascending topic indexes < %u",
                       m->member_id, g->num_topics);
                return SLUICE_ERR_INVALID;
            }
        nsubs += m->num_topics;
    }
    int part_rack = 0;
    for (uint32_t t = 0; t < g->num_topics; t++) {
        const struct sluice_assignor_topic *tp = g->topics[t];
        if (tp->num_partitions < 0) {
            ac_err(err, errlen, "topic %s: negative partition count", tp->name);
            return SLUICE_ERR_INVALID;
        }
        for (int32_t p = 0; tp->current_owner && p < tp->num_partitions; p++) {
            int32_t o = tp->current_owner[p];
            if (o != SLUICE_ASSIGNOR_UNASSIGNED && (o < 0 || (uint32_t)o >= g->num_members)) {
                ac_err(err, errlen, "topic %s partition %d: owner %d out of range", tp->name, p, o);
                return SLUICE_ERR_INVALID;
            }
        }
        if (!tp->rack_offsets != !tp->rack_ids) {
            ac_err(err, errlen, "topic %s: rack_offsets without rack_ids", tp->name);
            return SLUICE_ERR_INVALID;
        }
        for (int32_t p = 0; tp->rack_offsets && p < tp->num_partitions; p++) {
            if (tp->rack_offsets[p + 1] < tp->rack_offsets[p]) {
                ac_err(err, errlen, "topic %s: rack offsets decrease", tp->name);
                return SLUICE_ERR_INVALID;
            }
            for (uint32_t k = tp->rack_offsets[p]; k < tp->rack_offsets[p + 1]; k++) {
                if (tp->rack_ids[k] < 0 || (uint32_t)tp->rack_ids[k] >= g->num_racks) {
                    ac_err(err, errlen, "topic %s partition %d: rack index out of range",
                           tp->name, p);
                    return SLUICE_ERR_INVALID;
                }
                part_rack = 1;
            }
        }
    }
    a->racks = member_rack && part_rack;

    a->sub_off = calloc((size_t)g->num_topics + 1, sizeof *a->sub_off);
    a->sub = malloc((nsubs ? nsubs : 1) * sizeof *a->sub);
    if (!a->sub_off || !a->sub) {
        ac_group_free(a);
        ac_err(err, errlen, "out of memory");
        return SLUICE_ERR_NOMEM;
    }
    for (uint32_t i = 0; i < g->num_members; i++)
        for (uint32_t j = 0; j < g->members[i]->num_topics; j++)
            a->sub_off[g->members[i]->topics[j] + 1]++;
    for (uint32_t t = 0; t < g->num_topics; t++)
        a->sub_off[t + 1] += a->sub_off[t];
    /* Fill in member order so every list comes out ascending. */
    uint32_t *fill = malloc(((size_t)g->num_topics + 1) * sizeof *fill);
    if (!fill) {
        ac_group_free(a);
        ac_err(err, errlen, "out of memory");
        return SLUICE_ERR_NOMEM;
    }
    memcpy(fill, a->sub_off, ((size_t)g->num_topics + 1) * sizeof *fill);
    const struct sluice_assignor_member *first = NULL;
    a->homogeneous = 1;
    for (uint32_t i = 0; i < g->num_members; i++) {
        const struct sluice_assignor_member *m = g->members[i];
        if (m->num_topics == 0)
            continue;
        a->nactive++;
        if (!first)
            first = m;
        else if (m->num_topics != first->num_topics ||
                 memcmp(m->topics, first->topics, m->num_topics * sizeof *m->topics) != 0)
            a->homogeneous = 0;
        for (uint32_t j = 0; j < m->num_topics; j++)
            a->sub[fill[m->topics[j]]++] = i;
    }
    free(fill);
    return 0;
}

int ac_next_step(const struct sluice_assignor_group *g, const struct sluice_assignor_result *target,
                 struct sluice_assignor_result *out, char *err, size_t errlen)
{
    if (target->num_topics != g->num_topics || out->num_topics != g->num_topics) {
        ac_err(err, errlen, "target/result have %u/%u topics, the group %u", target->num_topics,
               out->num_topics, g->num_topics);
        return SLUICE_ERR_INVALID;
    }
    for (uint32_t t = 0; t < g->num_topics; t++) {
        const struct sluice_assignor_topic *tp = g->topics[t];
        for (int32_t p = 0; p < tp->num_partitions; p++) {
            int32_t cur = ac_current(tp, p), want = target->owner[t][p];
            if (want != SLUICE_ASSIGNOR_UNASSIGNED && (want < 0 || (uint32_t)want >= g->num_members)) {
                ac_err(err, errlen, "target owner %d of %s-%d out of range", want, tp->name, p);
                return SLUICE_ERR_INVALID;
            }
            /* A partition that changes hands is revoked in this step and
             * handed to its new owner in the next one, so no two members
             * ever hold it at once. */
            if (cur == SLUICE_ASSIGNOR_UNASSIGNED)
                out->owner[t][p] = want;
            else if (cur == want)
                out->owner[t][p] = cur;
            else
                out->owner[t][p] = SLUICE_ASSIGNOR_UNASSIGNED;
        }
    }
    return 0;
}
