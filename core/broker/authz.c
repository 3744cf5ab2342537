/* Authorization helpers (see authz.h). */
#include "broker/authz.h"
#include "broker/broker.h"
#include "broker/session.h"
#include "plugin/module_loader.h"

#include <string.h>

bool authz_active(const struct broker *b)
{
    return module_registry_authorizer(b->modules) != NULL;
}

void authz_many(struct request *rq, const struct sluice_authz_action *a, size_t n,
                uint8_t *allowed)
{
    const struct module_authorizer *az = module_registry_authorizer(rq->b->modules);
    if (!az) {
        memset(allowed, 1, n);
        return;
    }
    struct net_conn *c = net_request_conn(rq->nreq);
    memset(allowed, 0, n);
    az->ops.authorize(az->state, broker_conn_principal(c), c ? broker_conn_host(c) : "", a, n,
                      allowed);
    /* Kafka's authorizer logger reports denials; at DEBUG here, since a
     * Metadata request for all topics asks once per topic. */
    for (size_t i = 0; i < n; i++)
        if (!allowed[i])
            slog(rq->b->log, SLOG_DEBUG, "authorizer",
                 "principal %s from %s denied operation %d on resource type %d '%s' (api %d)",
                 broker_conn_principal(c), c ? net_conn_peer(c) : "-", a[i].operation,
                 a[i].resource_type, a[i].resource_name, rq->hdr.ApiKey);
}

bool authz_allowed(struct request *rq, int8_t op, int8_t rtype, const char *name)
{
    if (!authz_active(rq->b))
        return true;
    struct sluice_authz_action a = { sizeof a, op, rtype, name ? name : "" };
    uint8_t ok = 0;
    authz_many(rq, &a, 1, &ok);
    return ok != 0;
}

bool authz_cluster(struct request *rq, int8_t op)
{
    return authz_allowed(rq, op, SLUICE_RES_CLUSTER, AUTHZ_CLUSTER_NAME);
}

/* AclEntry.supportedOperations(resourceType), as AclOperation codes. */
static size_t supported_ops(int8_t rtype, int8_t *ops)
{
    static const int8_t topic[] = { 3, 4, 5, 6, 7, 8, 10, 11 };
    static const int8_t group[] = { 3, 6, 8, 10, 11 };
    static const int8_t cluster[] = { 5, 7, 8, 9, 10, 11, 12 };
    static const int8_t txn[] = { 8, 4 };
    static const int8_t token[] = { 8 };
    const int8_t *src;
    size_t n;
    switch (rtype) {
    case SLUICE_RES_TOPIC: src = topic; n = sizeof topic; break;
    case SLUICE_RES_GROUP: src = group; n = sizeof group; break;
    case SLUICE_RES_CLUSTER: src = cluster; n = sizeof cluster; break;
    case SLUICE_RES_TRANSACTIONAL_ID: src = txn; n = sizeof txn; break;
    case SLUICE_RES_DELEGATION_TOKEN: src = token; n = sizeof token; break;
    default: return 0;
    }
    memcpy(ops, src, n);
    return n;
}

int32_t authz_operations(struct request *rq, int8_t rtype, const char *name)
{
    int8_t ops[16];
    size_t n = supported_ops(rtype, ops);
    struct sluice_authz_action a[16] = { { 0 } };
    uint8_t ok[16];
    for (size_t i = 0; i < n; i++)
        a[i] = (struct sluice_authz_action){ sizeof a[i], ops[i], rtype, name ? name : "" };
    authz_many(rq, a, n, ok);
    int32_t bits = 0;
    for (size_t i = 0; i < n; i++)
        if (ok[i])
            bits |= (int32_t)1 << ops[i];
    return bits;
}

bool authz_idempotent_write(struct request *rq)
{
    struct broker *b = rq->b;
    const struct module_authorizer *az = module_registry_authorizer(b->modules);
    if (!az || authz_cluster(rq, SLUICE_ACL_OP_IDEMPOTENT_WRITE))
        return true;
    if (az->ops.authorize_by_resource_type) {
        /* Kafka asks authorizeByResourceType(WRITE, TOPIC): WRITE on any
         * topic, existing or not (KIP-679). */
        struct net_conn *c = net_request_conn(rq->nreq);
        return az->ops.authorize_by_resource_type(az->state, broker_conn_principal(c),
                                                  c ? broker_conn_host(c) : "",
                                                  SLUICE_ACL_OP_WRITE, SLUICE_RES_TOPIC) != 0;
    }
    /* A module without the 1.2 callback: the existing topics are the best
     * approximation (misses ACLs on topics not created yet). */
    const char *name;
    void *v;
    for (size_t i = 0; strmap_next(&b->topics, &i, &name, &v);)
        if (authz_allowed(rq, SLUICE_ACL_OP_WRITE, SLUICE_RES_TOPIC, name))
            return true;
    return false;
}
