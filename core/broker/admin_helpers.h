/* Small pure helpers of the admin API handlers (admin_topics.c,
 * admin_configs.c, delete_records.c, describe_cluster.c), kept apart so the
 * rules copied from Kafka can be unit-tested without a broker. */
#ifndef SLUICE_ADMIN_HELPERS_H
#define SLUICE_ADMIN_HELPERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* IncrementalAlterConfigs operations (AlterConfigOp.OpType ids). */
enum { ADMIN_OP_SET = 0, ADMIN_OP_DELETE = 1, ADMIN_OP_APPEND = 2, ADMIN_OP_SUBTRACT = 3 };

/* Kafka's ConfigResource.Type ids. */
enum {
    ADMIN_RES_TOPIC = 2,
    ADMIN_RES_BROKER = 4,
    ADMIN_RES_BROKER_LOGGER = 8,
};

/* APPEND (append=true) or SUBTRACT on a comma-separated list config, the way
 * Kafka's ConfigurationControlManager does it: the current value is split on
 * ',' with empty items dropped (NULL = empty list); APPEND adds each operand
 * item not already present, SUBTRACT removes every occurrence of each operand
 * item; the result is joined with ','.  Returns a malloc'd string, or NULL
 * when out of memory. */
char *admin_list_apply(const char *current, const char *operand, bool append);

/* Java's Integer.parseInt: optional sign then decimal digits only, within
 * int32.  Returns 0 and *out, or -1. */
int admin_parse_int32(const char *s, int32_t *out);

/* Kafka's Topic.hasCollisionChars/unifyCollisionChars: two different names
 * that are equal once every '.' is read as '_' would map to the same metric
 * names, so Kafka refuses to create the second.  True when a and b differ
 * but collide. */
bool admin_topic_names_collide(const char *a, const char *b);

/* Kafka's Topic.isInternal: __consumer_offsets, __transaction_state,
 * __share_group_state. */
bool admin_topic_is_internal(const char *name);

/* The ClusterAuthorizedOperations bitfield Kafka reports without an
 * authorizer: every operation AclEntry supports on the CLUSTER resource,
 * one bit per AclOperation code. */
int32_t admin_cluster_authorized_operations(void);

#endif
