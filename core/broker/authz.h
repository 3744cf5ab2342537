/* Authorization of requests through the authorizer module (ABI 1.2,
 * <sluice/authorizer.h>), with Kafka's rules of which operation on which
 * resource each API needs.  Without an authorizer module everything is
 * allowed and the authorized-operations fields report every operation the
 * resource supports, as Kafka does without an authorizer. */
#ifndef SLUICE_BROKER_AUTHZ_H
#define SLUICE_BROKER_AUTHZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sluice/authorizer.h>

struct broker;
struct request;

#define AUTHZ_CLUSTER_NAME "kafka-cluster"

/* True when an authorizer module is loaded. */
bool authz_active(const struct broker *b);

/* May the principal of rq's connection do op on (rtype, name)? */
bool authz_allowed(struct request *rq, int8_t op, int8_t rtype, const char *name);
bool authz_cluster(struct request *rq, int8_t op);

/* n decisions at once (allowed[i] = 0/1). */
void authz_many(struct request *rq, const struct sluice_authz_action *a, size_t n,
                uint8_t *allowed);

/* Kafka's authorized-operations bitfield (bit = AclOperation code) of a
 * resource: every operation the resource type supports that the principal
 * may do (Metadata topics and cluster, DescribeCluster, DescribeGroups). */
int32_t authz_operations(struct request *rq, int8_t rtype, const char *name);

/* InitProducerId without a transactional id: IDEMPOTENT_WRITE on the
 * cluster, or WRITE on any topic, existing or not (KIP-679), asked through
 * the authorizer's authorize_by_resource_type; a module without it is
 * asked about WRITE on each existing topic instead. */
bool authz_idempotent_write(struct request *rq);

#endif
