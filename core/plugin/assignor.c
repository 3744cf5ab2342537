/* Host side of the partition-assignor kind: result buffers, the checks a
 * module's output must pass before the coordinator uses it, the default
 * cooperative step, and assignor name selection. */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plugin/assignor.h"

#define KAFKA_UNSUPPORTED_ASSIGNOR 112

static int fail(char *err, size_t errlen, const char *fmt, ...) SLUICE_PRINTF(3, 4);

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    if (errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return SLUICE_ERR_INVALID;
}

/* ---------------------------------------------------------------------- */
/* Result buffers                                                          */

int assignor_result_init(struct assignor_result *r, const struct sluice_assignor_group *g)
{
    memset(r, 0, sizeof *r);
    size_t n = 0;
    for (uint32_t t = 0; t < g->num_topics; t++) {
        if (g->topics[t]->num_partitions < 0)
            return SLUICE_ERR_INVALID;
        n += (size_t)g->topics[t]->num_partitions;
    }
    r->owner = calloc(g->num_topics ? g->num_topics : 1, sizeof *r->owner);
    r->cells = malloc((n ? n : 1) * sizeof *r->cells);
    if (!r->owner || !r->cells) {
        assignor_result_free(r);
        return SLUICE_ERR_NOMEM;
    }
    for (size_t i = 0; i < n; i++)
        r->cells[i] = SLUICE_ASSIGNOR_UNASSIGNED;
    size_t off = 0;
    for (uint32_t t = 0; t < g->num_topics; t++) {
        r->owner[t] = r->cells + off;
        off += (size_t)g->topics[t]->num_partitions;
    }
    r->ncells = n;
    r->res.struct_size = sizeof r->res;
    r->res.num_topics = g->num_topics;
    r->res.owner = r->owner;
    return 0;
}

void assignor_result_free(struct assignor_result *r)
{
    free(r->owner);
    free(r->cells);
    memset(r, 0, sizeof *r);
}

/* ---------------------------------------------------------------------- */
/* Checks                                                                  */

static int subscribes(const struct sluice_assignor_member *m, uint32_t topic)
{
    uint32_t lo = 0, hi = m->num_topics;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (m->topics[mid] < topic)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < m->num_topics && m->topics[lo] == topic;
}

int assignor_check_group(const struct sluice_assignor_group *g, char *err, size_t errlen)
{
    for (uint32_t i = 0; i < g->num_members; i++) {
        const struct sluice_assignor_member *m = g->members[i];
        if (!m || !m->member_id)
            return fail(err, errlen, "member %u has no member id", i);
        if (m->rack != SLUICE_ASSIGNOR_NO_RACK && (m->rack < 0 || (uint32_t)m->rack >= g->num_racks))
            return fail(err, errlen, "member %s: rack index %d out of range", m->member_id,
                        m->rack);
        for (uint32_t j = 0; j < m->num_topics; j++) {
            if (m->topics[j] >= g->num_topics)
                return fail(err, errlen, "member %s: topic index %u out of range", m->member_id,
                            m->topics[j]);
            if (j && m->topics[j] <= m->topics[j - 1])
                return fail(err, errlen, "member %s: topic indexes not strictly ascending",
                            m->member_id);
        }
    }
    for (uint32_t t = 0; t < g->num_topics; t++) {
        const struct sluice_assignor_topic *tp = g->topics[t];
        if (tp->num_partitions < 0)
            return fail(err, errlen, "topic %u: negative partition count", t);
        for (int32_t p = 0; tp->current_owner && p < tp->num_partitions; p++) {
            int32_t o = tp->current_owner[p];
            if (o != SLUICE_ASSIGNOR_UNASSIGNED && (o < 0 || (uint32_t)o >= g->num_members))
                return fail(err, errlen, "topic %s partition %d: current owner %d out of range",
                            tp->name, p, o);
        }
        if (!tp->rack_offsets != !tp->rack_ids)
            return fail(err, errlen, "topic %s: rack_offsets and rack_ids must both be set",
                        tp->name);
        for (int32_t p = 0; tp->rack_offsets && p < tp->num_partitions; p++) {
            if (tp->rack_offsets[p + 1] < tp->rack_offsets[p])
                return fail(err, errlen, "topic %s: rack offsets decrease at partition %d",
                            tp->name, p);
            for (uint32_t k = tp->rack_offsets[p]; k < tp->rack_offsets[p + 1]; k++)
                if (tp->rack_ids[k] < 0 || (uint32_t)tp->rack_ids[k] >= g->num_racks ||
                    (k > tp->rack_offsets[p] && tp->rack_ids[k] <= tp->rack_ids[k - 1]))
                    return fail(err, errlen,
                                "topic %s partition %d: rack ids out of range or not ascending",
                                tp->name, p);
        }
    }
    return 0;
}

int assignor_check_target(const struct sluice_assignor_group *g,
                          const struct sluice_assignor_result *target, char *err, size_t errlen)
{
    if (target->num_topics != g->num_topics)
        return fail(err, errlen, "result has %u topics, the group %u", target->num_topics,
                    g->num_topics);
    /* Which topics have a subscriber: those must be fully assigned. */
    unsigned char *subscribed = calloc(g->num_topics ? g->num_topics : 1, 1);
    if (!subscribed)
        return SLUICE_ERR_NOMEM;
    for (uint32_t i = 0; i < g->num_members; i++)
        for (uint32_t j = 0; j < g->members[i]->num_topics; j++)
            subscribed[g->members[i]->topics[j]] = 1;
    int rc = 0;
    for (uint32_t t = 0; t < g->num_topics && rc == 0; t++) {
        const struct sluice_assignor_topic *tp = g->topics[t];
        for (int32_t p = 0; p < tp->num_partitions; p++) {
            int32_t o = target->owner[t][p];
            if (o == SLUICE_ASSIGNOR_UNASSIGNED) {
                if (subscribed[t]) {
                    rc = fail(err, errlen, "topic %s partition %d left unassigned", tp->name, p);
                    break;
                }
                continue;
            }
            if (o < 0 || (uint32_t)o >= g->num_members) {
                rc = fail(err, errlen, "topic %s partition %d: owner %d out of range", tp->name,
                          p, o);
                break;
            }
            if (!subscribes(g->members[o], t)) {
                rc = fail(err, errlen,
                          "topic %s partition %d given to member %s, which does not subscribe "
                          "to it",
                          tp->name, p, g->members[o]->member_id);
                break;
            }
        }
    }
    free(subscribed);
    return rc;
}

int assignor_check_step(const struct sluice_assignor_group *g,
                        const struct sluice_assignor_result *target,
                        const struct sluice_assignor_result *step, char *err, size_t errlen)
{
    if (step->num_topics != g->num_topics || target->num_topics != g->num_topics)
        return fail(err, errlen, "step/target topic count differs from the group's %u",
                    g->num_topics);
    for (uint32_t t = 0; t < g->num_topics; t++) {
        const struct sluice_assignor_topic *tp = g->topics[t];
        for (int32_t p = 0; p < tp->num_partitions; p++) {
            int32_t cur = tp->current_owner ? tp->current_owner[p] : SLUICE_ASSIGNOR_UNASSIGNED;
            int32_t s = step->owner[t][p];
            if (s == cur || s == SLUICE_ASSIGNOR_UNASSIGNED)
                continue;
            if (cur != SLUICE_ASSIGNOR_UNASSIGNED)
                return fail(err, errlen,
                            "topic %s partition %d: step gives it to member %d while member %d "
                            "still owns it",
                            tp->name, p, s, cur);
            if (s != target->owner[t][p])
                return fail(err, errlen,
                            "topic %s partition %d: step gives it to member %d, the target says "
                            "%d",
                            tp->name, p, s, target->owner[t][p]);
        }
    }
    return 0;
}

void assignor_default_step(const struct sluice_assignor_group *g,
                           const struct sluice_assignor_result *target,
                           struct sluice_assignor_result *step)
{
    for (uint32_t t = 0; t < g->num_topics; t++) {
        const struct sluice_assignor_topic *tp = g->topics[t];
        for (int32_t p = 0; p < tp->num_partitions; p++) {
            int32_t cur = tp->current_owner ? tp->current_owner[p] : SLUICE_ASSIGNOR_UNASSIGNED;
            int32_t want = target->owner[t][p];
            /* An owned partition that must move is only revoked now; its
             * new owner gets it in a later step, once nobody holds it. */
            step->owner[t][p] = cur == SLUICE_ASSIGNOR_UNASSIGNED ? want
                                : cur == want                    ? cur
                                                                 : SLUICE_ASSIGNOR_UNASSIGNED;
        }
    }
}

int assignor_run(const struct module_assignor *a, const struct sluice_assignor_group *g,
                 struct assignor_result *r, char *err, size_t errlen)
{
    if (errlen)
        err[0] = '\0';
    int rc = assignor_result_init(r, g);
    if (rc != 0)
        return fail(err, errlen, "cannot allocate the result"), rc;
    char merr[256] = "";
    rc = a->ops.assign(a->state, g, &r->res, merr, sizeof merr);
    merr[sizeof merr - 1] = '\0';
    if (rc != 0) {
        snprintf(err, errlen, "assignor '%s' failed (%d): %s", a->ops.name, rc,
                 merr[0] ? merr : "no reason given");
        assignor_result_free(r);
        return rc < 0 ? rc : SLUICE_ERR_GENERIC;
    }
    char cerr[256];
    rc = assignor_check_target(g, &r->res, cerr, sizeof cerr);
    if (rc != 0) {
        snprintf(err, errlen, "assignor '%s' returned an invalid assignment: %s", a->ops.name,
                 cerr);
        assignor_result_free(r);
    }
    return rc;
}

int assignor_run_step(const struct module_assignor *a, const struct sluice_assignor_group *g,
                      const struct sluice_assignor_result *target, struct assignor_result *r,
                      char *err, size_t errlen)
{
    if (errlen)
        err[0] = '\0';
    int rc = assignor_result_init(r, g);
    if (rc != 0)
        return fail(err, errlen, "cannot allocate the result"), rc;
    if (a && a->ops.next_step) {
        char merr[256] = "";
        rc = a->ops.next_step(a->state, g, target, &r->res, merr, sizeof merr);
        merr[sizeof merr - 1] = '\0';
        if (rc != 0) {
            snprintf(err, errlen, "assignor '%s' next_step failed (%d): %s", a->ops.name, rc,
                     merr[0] ? merr : "no reason given");
            assignor_result_free(r);
            return rc < 0 ? rc : SLUICE_ERR_GENERIC;
        }
    } else {
        assignor_default_step(g, target, &r->res);
    }
    char cerr[256];
    rc = assignor_check_step(g, target, &r->res, cerr, sizeof cerr);
    if (rc != 0) {
        snprintf(err, errlen, "assignor '%s' returned an unsafe step: %s",
                 a ? a->ops.name : "(default)", cerr);
        assignor_result_free(r);
    }
    return rc;
}

/* ---------------------------------------------------------------------- */
/* Names                                                                   */

/* Kafka's class names for its two built-in server assignors. */
static const struct {
    const char *cls, *name;
} kafka_classes[] = {
    {"org.apache.kafka.coordinator.group.assignor.UniformAssignor", "uniform"},
    {"org.apache.kafka.coordinator.group.assignor.RangeAssignor", "range"},
};

static int is_sep(char c) { return c == ',' || c == ' ' || c == '\t'; }

int assignor_list_name(const char *list, size_t i, char *buf, size_t buflen)
{
    const char *p = list ? list : "";
    for (size_t k = 0;; k++) {
        while (*p && is_sep(*p))
            p++;
        if (!*p)
            return -1;
        size_t n = 0;
        while (p[n] && !is_sep(p[n]))
            n++;
        if (k == i) {
            for (size_t c = 0; c < sizeof kafka_classes / sizeof kafka_classes[0]; c++)
                if (strlen(kafka_classes[c].cls) == n && !memcmp(p, kafka_classes[c].cls, n)) {
                    p = kafka_classes[c].name;
                    n = strlen(p);
                    break;
                }
            if (n >= buflen)
                return -1;
            memcpy(buf, p, n);
            buf[n] = '\0';
            return 0;
        }
        p += n;
    }
}

size_t assignor_list_len(const char *list)
{
    size_t n = 0;
    const char *p = list ? list : "";
    while (*p) {
        while (*p && is_sep(*p))
            p++;
        if (!*p)
            break;
        n++;
        while (*p && !is_sep(*p))
            p++;
    }
    return n;
}

/* "a, b" from the list, for messages. */
static void list_join(const char *list, char *buf, size_t buflen)
{
    size_t pos = 0;
    char name[ASSIGNOR_NAME_MAX + 1];
    if (buflen)
        buf[0] = '\0';
    for (size_t i = 0; assignor_list_name(list, i, name, sizeof name) == 0; i++) {
        int w = snprintf(buf + pos, buflen - pos, "%s%s", i ? ", " : "", name);
        if (w < 0 || (size_t)w >= buflen - pos)
            return;
        pos += (size_t)w;
    }
}

int assignor_list_check(const struct module_registry *reg, const char *list, char *err,
                        size_t errlen)
{
    size_t n = assignor_list_len(list);
    if (n == 0)
        return fail(err, errlen, "group.consumer.assignors is empty"), -1;
    if (n > ASSIGNOR_LIST_MAX)
        return fail(err, errlen, "group.consumer.assignors has %zu entries (at most %d)", n,
                    ASSIGNOR_LIST_MAX),
               -1;
    char name[ASSIGNOR_NAME_MAX + 1], other[ASSIGNOR_NAME_MAX + 1];
    for (size_t i = 0; i < n; i++) {
        if (assignor_list_name(list, i, name, sizeof name) != 0)
            return fail(err, errlen, "group.consumer.assignors: entry %zu is too long", i + 1), -1;
        for (size_t j = 0; j < i; j++)
            if (assignor_list_name(list, j, other, sizeof other) == 0 && !strcmp(name, other))
                return fail(err, errlen, "group.consumer.assignors lists '%s' twice", name), -1;
        if (!module_registry_assignor(reg, name)) {
            char have[512];
            size_t pos = 0;
            have[0] = '\0';
            for (size_t k = 0; k < reg->nassignors; k++) {
                int w = snprintf(have + pos, sizeof have - pos, "%s%s", k ? ", " : "",
                                 reg->assignors[k].ops.name);
                if (w < 0 || (size_t)w >= sizeof have - pos)
                    break;
                pos += (size_t)w;
            }
            return fail(err, errlen,
                        "group.consumer.assignors: no loaded module provides assignor '%s' "
                        "(registered: %s; load e.g. module.load=assignor_sticky)",
                        name, pos ? have : "none"),
                   -1;
        }
    }
    return 0;
}

static long list_index(const char *list, const char *name)
{
    char buf[ASSIGNOR_NAME_MAX + 1];
    for (size_t i = 0; assignor_list_name(list, i, buf, sizeof buf) == 0; i++)
        if (strcmp(buf, name) == 0)
            return (long)i;
    return -1;
}

int assignor_check_requested(const char *list, const char *requested, char *err, size_t errlen)
{
    if (errlen)
        err[0] = '\0';
    /* Kafka only skips the check for a null ServerAssignor: "" is refused. */
    if (!requested || list_index(list, requested) >= 0)
        return 0;
    char names[512];
    list_join(list, names, sizeof names);
    snprintf(err, errlen, "ServerAssignor %s is not supported. Supported assignors: %s.",
             requested, names);
    return KAFKA_UNSUPPORTED_ASSIGNOR;
}

int assignor_preferred(const char *list, const char *const *choices, size_t n, char *buf,
                       size_t buflen)
{
    size_t len = assignor_list_len(list);
    if (len == 0 || len > ASSIGNOR_LIST_MAX)
        return -1;
    size_t votes[ASSIGNOR_LIST_MAX] = {0};
    for (size_t i = 0; i < n; i++) {
        if (!choices[i])
            continue;
        long k = list_index(list, choices[i]);
        if (k >= 0)
            votes[k]++;
    }
    size_t best = 0;
    for (size_t k = 1; k < len; k++)
        if (votes[k] > votes[best])
            best = k;
    return assignor_list_name(list, best, buf, buflen);
}
