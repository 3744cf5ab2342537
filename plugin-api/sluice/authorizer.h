/* Sluice plugin ABI: the authorizer (SLUICE_KIND_AUTHORIZER, ABI 1.2).
 * Included by <sluice/plugin.h>; see the changelog there.
 *
 * The broker asks the authorizer whether a principal may perform an
 * operation on a resource (Kafka's Authorizer.authorize) before it serves
 * a request, and forwards CreateAcls, DescribeAcls and DeleteAcls to it.
 * The numeric codes below are Kafka's own (AclOperation, ResourceType,
 * PatternType, AclPermissionType), so they go to and from the wire as is.
 * Without an authorizer every request is allowed.
 *
 * Threads: loop thread only; never block.  ACLs the module keeps durably go
 * through host->record_* so the broker acknowledges CreateAcls/DeleteAcls
 * after the metadata log is fsynced. */
#ifndef SLUICE_AUTHORIZER_H
#define SLUICE_AUTHORIZER_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* AclOperation */
#define SLUICE_ACL_OP_UNKNOWN 0
#define SLUICE_ACL_OP_ANY 1
#define SLUICE_ACL_OP_ALL 2
#define SLUICE_ACL_OP_READ 3
#define SLUICE_ACL_OP_WRITE 4
#define SLUICE_ACL_OP_CREATE 5
#define SLUICE_ACL_OP_DELETE 6
#define SLUICE_ACL_OP_ALTER 7
#define SLUICE_ACL_OP_DESCRIBE 8
#define SLUICE_ACL_OP_CLUSTER_ACTION 9
#define SLUICE_ACL_OP_DESCRIBE_CONFIGS 10
#define SLUICE_ACL_OP_ALTER_CONFIGS 11
#define SLUICE_ACL_OP_IDEMPOTENT_WRITE 12
#define SLUICE_ACL_OP_CREATE_TOKENS 13
#define SLUICE_ACL_OP_DESCRIBE_TOKENS 14

/* ResourceType */
#define SLUICE_RES_UNKNOWN 0
#define SLUICE_RES_ANY 1
#define SLUICE_RES_TOPIC 2
#define SLUICE_RES_GROUP 3
#define SLUICE_RES_CLUSTER 4
#define SLUICE_RES_TRANSACTIONAL_ID 5
#define SLUICE_RES_DELEGATION_TOKEN 6
#define SLUICE_RES_USER 7

/* PatternType */
#define SLUICE_PATTERN_UNKNOWN 0
#define SLUICE_PATTERN_ANY 1
#define SLUICE_PATTERN_MATCH 2
#define SLUICE_PATTERN_LITERAL 3
#define SLUICE_PATTERN_PREFIXED 4

/* AclPermissionType */
#define SLUICE_PERM_UNKNOWN 0
#define SLUICE_PERM_ANY 1
#define SLUICE_PERM_DENY 2
#define SLUICE_PERM_ALLOW 3

/* One ACL, or a filter in describe/delete (where ANY values, NULL strings
 * and PatternType MATCH are allowed, as in Kafka's AclBindingFilter).
 * Strings are borrowed for the call. */
struct sluice_acl_binding {
    size_t struct_size;
    int8_t resource_type;
    const char *resource_name; /* "kafka-cluster" for the cluster */
    int8_t pattern_type;
    const char *principal;     /* "User:alice", "User:*" */
    const char *host;          /* "*" or an address */
    int8_t operation;
    int8_t permission;
};

/* One question: may `principal` from `host` do `operation` on the resource? */
struct sluice_authz_action {
    size_t struct_size;
    int8_t operation;
    int8_t resource_type;
    const char *resource_name;
};

/* describe_acls / delete_acls callback, once per matching binding
 * (borrowed for the call).  Return 0 to go on. */
typedef int (*sluice_acl_fn)(void *ud, const struct sluice_acl_binding *acl);

/* Registered from init() with host->register_authorizer (ABI 1.2); at most
 * one authorizer per broker.  The host copies the first struct_size
 * bytes. */
struct sluice_authorizer_ops {
    size_t struct_size; /* sizeof(struct sluice_authorizer_ops) at build time */
    const char *name;

    /* --- ABI 1.2 --- */

    /* Decides n actions of one principal at once (a Metadata request asks
     * for every topic): allowed[i] = 1 or 0.  `principal` is
     * "User:<name>" ("User:ANONYMOUS" before/without authentication),
     * `host` the client address without port.  Required. */
    void (*authorize)(void *state, const char *principal, const char *host,
                      const struct sluice_authz_action *actions, size_t n, uint8_t *allowed);

    /* CreateAcls: one Kafka error code per binding in errors[i] (0, or e.g.
     * INVALID_REQUEST 42 with a message in msgs[i], msglen bytes each).
     * Required. */
    void (*create_acls)(void *state, const struct sluice_acl_binding *acls, size_t n,
                        int16_t *errors, char *msgs, size_t msglen);

    /* DescribeAcls: cb for each ACL matching filter.  Returns 0 or a Kafka
     * error code (the response's ErrorCode, e.g. INVALID_REQUEST for a bad
     * filter).  Required. */
    int16_t (*describe_acls)(void *state, const struct sluice_acl_binding *filter, sluice_acl_fn cb,
                             void *ud);

    /* DeleteAcls: removes every ACL matching filter, calling cb for each
     * one deleted.  Returns 0 or a Kafka error code.  Required. */
    int16_t (*delete_acls)(void *state, const struct sluice_acl_binding *filter, sluice_acl_fn cb,
                           void *ud);

    /* --- ABI 1.2, appended (optional) --- */

    /* Kafka's Authorizer.authorizeByResourceType: may `principal` from
     * `host` do `operation` on at least one resource of `resource_type`,
     * including resources that do not exist yet?  The broker calls it on
     * the loop thread (never block) for InitProducerId without a
     * transactional id when IDEMPOTENT_WRITE on the cluster is denied
     * (operation WRITE, resource type TOPIC; KIP-679).  `principal` and
     * `host` are as in authorize; operation and resource_type are never
     * ANY or UNKNOWN.  Returns 1 (allowed) or 0 (denied).  Optional: NULL,
     * or a module built against an ops struct without this member, makes
     * the broker fall back to asking authorize() for WRITE on every
     * existing topic, which misses ACLs for topics not yet created. */
    int (*authorize_by_resource_type)(void *state, const char *principal, const char *host,
                                      int8_t operation, int8_t resource_type);
};

#define SLUICE_AUTHORIZER_OPS_MIN_SIZE_V1_2                                                        \
    (offsetof(struct sluice_authorizer_ops, delete_acls) +                                         \
     sizeof(((struct sluice_authorizer_ops *)0)->delete_acls))

#ifdef __cplusplus
}
#endif

#endif
