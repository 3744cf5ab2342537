/* Kafka's ACL model as pure functions (no host calls) so the unit test and
 * the fuzzer link them directly: matching an ACL against an action
 * (StandardAuthorizer), matching it against a describe/delete filter
 * (AclBindingFilter), validating a new ACL (AclControlManager) and the
 * record format ACLs are stored in. */
#ifndef SLUICE_ACL_RULES_H
#define SLUICE_ACL_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sluice/authorizer.h>

#define ACL_MAX_STR 1024

/* An owned ACL (strings malloc'd by acl_decode / acl_copy). */
struct acl {
    int8_t resource_type, pattern_type, operation, permission;
    char *resource_name, *principal, *host;
};

/* Does acl's resource pattern cover resource (rtype, name)?  LITERAL:
 * equal name or the wildcard "*"; PREFIXED: name starts with the prefix. */
bool acl_covers(const struct acl *a, int8_t rtype, const char *name);

/* Does acl apply to principal/host (exact, "User:*" / "*" wildcards)? */
bool acl_applies_to(const struct acl *a, const char *principal, const char *host);

/* Does acl allow op, counting ALL and the implied operations (DESCRIBE by
 * READ, WRITE, DELETE, ALTER; DESCRIBE_CONFIGS by ALTER_CONFIGS)? */
bool acl_allow_grants(const struct acl *a, int8_t op);
/* Does a DENY acl deny op (the operation itself or ALL)? */
bool acl_deny_denies(const struct acl *a, int8_t op);

/* Kafka's decision for one action over n ACLs: super user -> allow; a
 * matching DENY -> deny; a matching ALLOW -> allow; no ACL on the resource
 * at all and allow_everyone -> allow; else deny. */
bool acl_decide(const struct acl *acls, size_t n, const char *principal, const char *host,
                int8_t op, int8_t rtype, const char *name, bool allow_everyone_if_no_acl);

/* Is principal one of the n super.users (exact "User:<name>")? */
bool acl_is_super(char *const *supers, size_t n, const char *principal);

/* Kafka's Authorizer.authorizeByResourceType (the interface's default,
 * which StandardAuthorizer uses): a super user is allowed; else allowed if
 * acl_decide allows op on the literal resource "hardcode" (so
 * allow.everyone.if.no.acl.found applies as authorize() applies it);
 * otherwise, over the ACLs of rtype for the principal (or "User:*") and
 * host (or "*") whose operation is op or ALL: a DENY on the wildcard
 * literal "*" denies; an ALLOW on "*" allows; an ALLOW literal allows
 * unless a DENY literal of the same name or a DENY prefix of it exists; an
 * ALLOW prefix allows unless a DENY prefix of it exists. */
bool acl_decide_by_type(const struct acl *acls, size_t n, char *const *supers, size_t nsupers,
                        const char *principal, const char *host, int8_t op, int8_t rtype,
                        bool allow_everyone_if_no_acl);

/* AclBindingFilter.matches. */
bool acl_filter_matches(const struct sluice_acl_binding *f, const struct acl *a);
/* 0, or a Kafka error code (INVALID_REQUEST 42) with a message. */
int16_t acl_validate_filter(const struct sluice_acl_binding *f, char *msg, size_t msglen);
int16_t acl_validate_new(const struct sluice_acl_binding *b, char *msg, size_t msglen);

/* Record value: "1 <rtype> <pattern> <op> <perm> <len>:<principal><len>:<host><len>:<name>".
 * encode returns the length (0 when it does not fit); decode returns 0 or
 * -1 for anything malformed (and then owns nothing). */
size_t acl_encode(const struct acl *a, char *out, size_t cap);
int acl_decode(const char *in, size_t len, struct acl *out);
/* A copy of a binding (strings duplicated); 0 or -1. */
int acl_from_binding(const struct sluice_acl_binding *b, struct acl *out);
void acl_free(struct acl *a);
bool acl_equal(const struct acl *a, const struct acl *b);
/* 64-bit FNV-1a of the encoded form: the record key. */
uint64_t acl_hash(const struct acl *a);

#endif
