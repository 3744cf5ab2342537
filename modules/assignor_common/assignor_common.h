/* Helpers shared by the assignor modules (compiled into each .so; built
 * against plugin-api/ only, and hidden by -fvisibility=hidden so two modules
 * never clash).  An indexed view of the group: subscribers per topic, the
 * subscription type, and rack matching. */
#ifndef SLUICE_ASSIGNOR_COMMON_H
#define SLUICE_ASSIGNOR_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include <sluice/plugin.h>

struct ac_group {
    const struct sluice_assignor_group *g;
    uint32_t nmembers, ntopics;
    /* Subscribers of topic t: sub[sub_off[t] .. sub_off[t + 1]), ascending
     * member indexes. */
    uint32_t *sub_off;
    uint32_t *sub;
    /* Members that subscribe to at least one topic. */
    uint32_t nactive;
    /* Every active member has the same subscription (Kafka's HOMOGENEOUS). */
    int homogeneous;
    /* Some member has a rack and some partition lists replica racks. */
    int racks;
};

/* Checks g (indexes in range, ascending subscriptions, owners and racks
 * valid) and builds the view.  Returns 0, SLUICE_ERR_INVALID or
 * SLUICE_ERR_NOMEM with err set. */
int ac_group_init(struct ac_group *a, const struct sluice_assignor_group *g, char *err,
                  size_t errlen);
void ac_group_free(struct ac_group *a);

/* Member m subscribes to topic t (binary search in its sorted list). */
int ac_subscribes(const struct sluice_assignor_member *m, uint32_t t);

/* Position of t in m->topics, or -1. */
long ac_topic_pos(const struct sluice_assignor_member *m, uint32_t t);

/* Partition p of tp has a replica in `rack` (false for NO_RACK or no info). */
int ac_rack_local(const struct sluice_assignor_topic *tp, int32_t p, int32_t rack);

/* Partition p of tp lists at least one replica rack. */
int ac_has_rack_info(const struct sluice_assignor_topic *tp, int32_t p);

/* Current owner of (t, p), or SLUICE_ASSIGNOR_UNASSIGNED. */
static inline int32_t ac_current(const struct sluice_assignor_topic *tp, int32_t p)
{
    return tp->current_owner ? tp->current_owner[p] : SLUICE_ASSIGNOR_UNASSIGNED;
}

/* Kafka's member order for the range assignor (AbstractPartitionAssignor.
 * MemberInfo): static members first, by group.instance.id, then the rest by
 * member id. */
int ac_member_cmp(const struct sluice_assignor_member *a, const struct sluice_assignor_member *b);

/* The cooperative step (see next_step in <sluice/assignor.h>). */
int ac_next_step(const struct sluice_assignor_group *g, const struct sluice_assignor_result *target,
                 struct sluice_assignor_result *out, char *err, size_t errlen);

void ac_err(char *err, size_t errlen, const char *fmt, ...) SLUICE_PRINTF(3, 4);

#endif
