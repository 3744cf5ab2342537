/* Host side of the partition-assignor kind: choosing which registered
 * assignor a consumer group runs (group.consumer.assignors and the members'
 * ServerAssignor), running it with a host-owned result, and checking what a
 * module returned before the coordinator trusts it.
 *
 * Threads: everything here is reentrant and touches only its arguments, so
 * the coordinator may run an assignment on a worker thread (large groups)
 * while the loop thread runs another one. */
#ifndef SLUICE_ASSIGNOR_HOST_H
#define SLUICE_ASSIGNOR_HOST_H

#include <stddef.h>
#include <stdint.h>

#include <sluice/plugin.h>

#include "plugin/module_loader.h"

/* Kafka's default group.consumer.assignors: the first is the default. */
#define ASSIGNOR_DEFAULT_LIST "uniform,range"

/* Longest assignor name and most entries accepted in the list. */
#define ASSIGNOR_NAME_MAX 64
#define ASSIGNOR_LIST_MAX 32

/* A result the host owns: owner[t] has group->topics[t]->num_partitions
 * cells, all in one allocation.  `res` is what the module is given. */
struct assignor_result {
    struct sluice_assignor_result res;
    int32_t **owner;
    int32_t *cells;
    size_t ncells;
};

/* Allocates owner arrays for `g`, filled with SLUICE_ASSIGNOR_UNASSIGNED.
 * Returns 0 or SLUICE_ERR_NOMEM / SLUICE_ERR_INVALID (negative partition
 * count).  Free with assignor_result_free (also safe on a zeroed struct). */
int assignor_result_init(struct assignor_result *r, const struct sluice_assignor_group *g);
void assignor_result_free(struct assignor_result *r);

/* Checks the input the host is about to give a module: member topic lists
 * strictly ascending and in range, racks in range, current owners valid
 * member indexes, rack offsets monotonic.  Returns 0 or SLUICE_ERR_INVALID. */
int assignor_check_group(const struct sluice_assignor_group *g, char *err, size_t errlen);

/* Checks an assign() result: every owner is UNASSIGNED or a member index
 * subscribed to the topic, and every partition of a topic with at least one
 * subscriber has an owner.  Returns 0 or SLUICE_ERR_INVALID (err names the
 * first offending partition). */
int assignor_check_target(const struct sluice_assignor_group *g,
                          const struct sluice_assignor_result *target, char *err, size_t errlen);

/* Checks a next_step() result: for each partition, the step owner is the
 * current owner, UNASSIGNED, or (only when nobody owns it now) its target
 * owner, so no partition is ever handed to a member while another one still
 * owns it.  Returns 0 or SLUICE_ERR_INVALID. */
int assignor_check_step(const struct sluice_assignor_group *g,
                        const struct sluice_assignor_result *target,
                        const struct sluice_assignor_result *step, char *err, size_t errlen);

/* The host's own cooperative step rule, used when an assignor has no
 * next_step: keep what already matches the target, revoke what is owned by
 * the wrong member, hand out what nobody owns. */
void assignor_default_step(const struct sluice_assignor_group *g,
                           const struct sluice_assignor_result *target,
                           struct sluice_assignor_result *step);

/* Runs a->assign on g into a fresh *r and checks the result.  Returns 0, or
 * the module's negative SLUICE_ERR_* (or SLUICE_ERR_INVALID when the result
 * fails the checks) with err set; *r is then freed. */
int assignor_run(const struct module_assignor *a, const struct sluice_assignor_group *g,
                 struct assignor_result *r, char *err, size_t errlen);

/* Runs a->next_step (or assignor_default_step) from the current ownership
 * in g towards `target` into a fresh *r and checks it.  Same returns. */
int assignor_run_step(const struct module_assignor *a, const struct sluice_assignor_group *g,
                      const struct sluice_assignor_result *target, struct assignor_result *r,
                      char *err, size_t errlen);

/* ---- names ------------------------------------------------------------ */

/* Copies the i-th (0-based) name of a group.consumer.assignors list into
 * buf, mapping Kafka's class names (org.apache.kafka.coordinator.group.
 * assignor.UniformAssignor / RangeAssignor) to "uniform" / "range".  Entries
 * are separated by commas and/or blanks.  Returns 0, or -1 past the end or
 * when the entry does not fit. */
int assignor_list_name(const char *list, size_t i, char *buf, size_t buflen);

/* Number of entries in the list. */
size_t assignor_list_len(const char *list);

/* Startup check of group.consumer.assignors: at least one entry, at most
 * ASSIGNOR_LIST_MAX, no duplicates, and each one registered by a loaded
 * module.  Returns 0 or -1 with err naming the problem (and, for an unknown
 * name, the assignors that are registered). */
int assignor_list_check(const struct module_registry *reg, const char *list, char *err,
                        size_t errlen);

/* ConsumerGroupHeartbeat ServerAssignor check: 0 when `requested` is NULL,
 * empty or an enabled name; otherwise Kafka's UNSUPPORTED_ASSIGNOR (112),
 * with Kafka's message in err ("ServerAssignor X is not supported. Supported
 * assignors: a, b."). */
int assignor_check_requested(const char *list, const char *requested, char *err, size_t errlen);

/* The assignor a group runs (Kafka's computePreferredServerAssignor plus the
 * default): the name most of the n member choices name (NULL or "" = no
 * preference), ties broken by the order of `list`; the first list entry when
 * nobody chose.  Choices that are not in the list are ignored (the heartbeat
 * refused them).  Writes the name into buf; returns 0, or -1 when the list is
 * empty. */
int assignor_preferred(const char *list, const char *const *choices, size_t n, char *buf,
                       size_t buflen);

#endif
