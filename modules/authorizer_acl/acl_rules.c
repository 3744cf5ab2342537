/* Kafka's ACL rules (see acl_rules.h). */
#include "acl_rules.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool acl_covers(const struct acl *a, int8_t rtype, const char *name)
{
    if (a->resource_type != rtype)
        return false;
    if (a->pattern_type == SLUICE_PATTERN_LITERAL)
        return strcmp(a->resource_name, "*") == 0 || strcmp(a->resource_name, name) == 0;
    if (a->pattern_type == SLUICE_PATTERN_PREFIXED)
        return strncmp(name, a->resource_name, strlen(a->resource_name)) == 0;
    return false;
}

bool acl_applies_to(const struct acl *a, const char *principal, const char *host)
{
    bool p = strcmp(a->principal, principal) == 0 || strcmp(a->principal, "User:*") == 0;
    bool h = strcmp(a->host, "*") == 0 || strcmp(a->host, host) == 0;
    return p && h;
}

bool acl_allow_grants(const struct acl *a, int8_t op)
{
    if (a->permission != SLUICE_PERM_ALLOW)
        return false;
    if (a->operation == op || a->operation == SLUICE_ACL_OP_ALL)
        return true;
    if (op == SLUICE_ACL_OP_DESCRIBE)
        return a->operation == SLUICE_ACL_OP_READ || a->operation == SLUICE_ACL_OP_WRITE ||
               a->operation == SLUICE_ACL_OP_DELETE || a->operation == SLUICE_ACL_OP_ALTER;
    if (op == SLUICE_ACL_OP_DESCRIBE_CONFIGS)
        return a->operation == SLUICE_ACL_OP_ALTER_CONFIGS;
    return false;
}

bool acl_deny_denies(const struct acl *a, int8_t op)
{
    return a->permission == SLUICE_PERM_DENY &&
           (a->operation == op || a->operation == SLUICE_ACL_OP_ALL);
}

bool acl_decide(const struct acl *acls, size_t n, const char *principal, const char *host,
                int8_t op, int8_t rtype, const char *name, bool allow_everyone_if_no_acl)
{
    bool any = false, allow = false;
    for (size_t i = 0; i < n; i++) {
        const struct acl *a = &acls[i];
        if (!acl_covers(a, rtype, name))
            continue;
        any = true;
        if (!acl_applies_to(a, principal, host))
            continue;
        if (acl_deny_denies(a, op))
            return false; /* deny wins */
        if (acl_allow_grants(a, op))
            allow = true;
    }
    return allow || (!any && allow_everyone_if_no_acl);
}

/* Is some DENY acl among the applicable ones (see acl_decide_by_type) a
 * prefix pattern that covers `name` (an allowed literal or prefix)? */
static bool deny_prefix_covers(const struct acl *acls, size_t n, const bool *applies,
                               const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (applies[i] && acls[i].permission == SLUICE_PERM_DENY &&
            acls[i].pattern_type == SLUICE_PATTERN_PREFIXED &&
            strncmp(name, acls[i].resource_name, strlen(acls[i].resource_name)) == 0)
            return true;
    return false;
}

static bool deny_literal_named(const struct acl *acls, size_t n, const bool *applies,
                               const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (applies[i] && acls[i].permission == SLUICE_PERM_DENY &&
            acls[i].pattern_type == SLUICE_PATTERN_LITERAL &&
            strcmp(acls[i].resource_name, name) == 0)
            return true;
    return false;
}

bool acl_is_super(char *const *supers, size_t n, const char *principal)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(supers[i], principal) == 0)
            return true;
    return false;
}

bool acl_decide_by_type(const struct acl *acls, size_t n, char *const *supers, size_t nsupers,
                        const char *principal, const char *host, int8_t op, int8_t rtype,
                        bool allow_everyone_if_no_acl)
{
    if (acl_is_super(supers, nsupers, principal))
        return true;
    /* Kafka first asks authorize() about a made-up name, "hardcode". */
    if (acl_decide(acls, n, principal, host, op, rtype, "hardcode", allow_everyone_if_no_acl))
        return true;
    bool *applies = calloc(n ? n : 1, sizeof *applies);
    if (!applies)
        return false; /* fail closed */
    bool wildcard_allow = false, denied = false;
    for (size_t i = 0; i < n; i++) {
        const struct acl *a = &acls[i];
        applies[i] = a->resource_type == rtype && acl_applies_to(a, principal, host) &&
                     (a->operation == op || a->operation == SLUICE_ACL_OP_ALL);
        if (!applies[i] || a->pattern_type != SLUICE_PATTERN_LITERAL ||
            strcmp(a->resource_name, "*") != 0)
            continue;
        if (a->permission == SLUICE_PERM_DENY)
            denied = true;
        else if (a->permission == SLUICE_PERM_ALLOW)
            wildcard_allow = true;
    }
    bool allowed = !denied && wildcard_allow;
    for (size_t i = 0; i < n && !denied && !allowed; i++) {
        const struct acl *a = &acls[i];
        if (!applies[i] || a->permission != SLUICE_PERM_ALLOW)
            continue;
        if (a->pattern_type == SLUICE_PATTERN_LITERAL)
            allowed = !deny_literal_named(acls, n, applies, a->resource_name) &&
                      !deny_prefix_covers(acls, n, applies, a->resource_name);
        else if (a->pattern_type == SLUICE_PATTERN_PREFIXED)
            allowed = !deny_prefix_covers(acls, n, applies, a->resource_name);
    }
    free(applies);
    return allowed;
}

static bool str_filter(const char *f, const char *v)
{
    return !f || strcmp(f, v) == 0;
}

bool acl_filter_matches(const struct sluice_acl_binding *f, const struct acl *a)
{
    if (f->resource_type != SLUICE_RES_ANY && f->resource_type != a->resource_type)
        return false;
    switch (f->pattern_type) {
    case SLUICE_PATTERN_ANY:
        if (!str_filter(f->resource_name, a->resource_name))
            return false;
        break;
    case SLUICE_PATTERN_MATCH:
        /* The ACLs that would apply to the named resource. */
        if (f->resource_name &&
            !(a->pattern_type == SLUICE_PATTERN_LITERAL &&
              (strcmp(a->resource_name, f->resource_name) == 0 ||
               strcmp(a->resource_name, "*") == 0)) &&
            !(a->pattern_type == SLUICE_PATTERN_PREFIXED &&
              strncmp(f->resource_name, a->resource_name, strlen(a->resource_name)) == 0))
            return false;
        break;
    default:
        if (f->pattern_type != a->pattern_type || !str_filter(f->resource_name, a->resource_name))
            return false;
    }
    return str_filter(f->principal, a->principal) && str_filter(f->host, a->host) &&
           (f->operation == SLUICE_ACL_OP_ANY || f->operation == a->operation) &&
           (f->permission == SLUICE_PERM_ANY || f->permission == a->permission);
}

#define BAD(...)                                                                                   \
    do {                                                                                           \
        snprintf(msg, msglen, __VA_ARGS__);                                                        \
        return 42; /* INVALID_REQUEST */                                                           \
    } while (0)

int16_t acl_validate_filter(const struct sluice_acl_binding *f, char *msg, size_t msglen)
{
    if (f->resource_type <= SLUICE_RES_UNKNOWN || f->resource_type > SLUICE_RES_USER)
        BAD("Invalid resource type filter");
    if (f->pattern_type <= SLUICE_PATTERN_UNKNOWN || f->pattern_type > SLUICE_PATTERN_PREFIXED)
        BAD("Invalid pattern type filter");
    if (f->operation <= SLUICE_ACL_OP_UNKNOWN || f->operation > SLUICE_ACL_OP_DESCRIBE_TOKENS)
        BAD("Invalid operation filter");
    if (f->permission <= SLUICE_PERM_UNKNOWN || f->permission > SLUICE_PERM_ALLOW)
        BAD("Invalid permission type filter");
    return 0;
}

int16_t acl_validate_new(const struct sluice_acl_binding *b, char *msg, size_t msglen)
{
    if (b->resource_type <= SLUICE_RES_ANY || b->resource_type > SLUICE_RES_USER)
        BAD("Invalid resourceType %d", b->resource_type);
    if (b->pattern_type != SLUICE_PATTERN_LITERAL && b->pattern_type != SLUICE_PATTERN_PREFIXED)
        BAD("Invalid patternType %d", b->pattern_type);
    if (b->operation <= SLUICE_ACL_OP_ANY || b->operation > SLUICE_ACL_OP_DESCRIBE_TOKENS)
        BAD("Invalid operation %d", b->operation);
    if (b->permission != SLUICE_PERM_ALLOW && b->permission != SLUICE_PERM_DENY)
        BAD("Invalid permissionType %d", b->permission);
    if (!b->host)
        BAD("Invalid null host");
    if (!b->resource_name || !b->resource_name[0])
        BAD("Resource name should not be empty");
    if (b->resource_type == SLUICE_RES_CLUSTER && strcmp(b->resource_name, "kafka-cluster") != 0)
        BAD("The only valid name for the CLUSTER resource is kafka-cluster");
    const char *colon = b->principal ? strchr(b->principal, ':') : NULL;
    if (!colon || colon == b->principal)
        BAD("Could not parse principal from `%.100s` (no colon is present separating the "
            "principal type from the principal name)", b->principal ? b->principal : "null");
    if (strlen(b->principal) >= ACL_MAX_STR || strlen(b->host) >= ACL_MAX_STR ||
        strlen(b->resource_name) >= ACL_MAX_STR)
        BAD("ACL field too long");
    return 0;
}

/* ---- records -------------------------------------------------------------- */

size_t acl_encode(const struct acl *a, char *out, size_t cap)
{
    int n = snprintf(out, cap, "1 %d %d %d %d %zu:%s%zu:%s%zu:%s", a->resource_type,
                     a->pattern_type, a->operation, a->permission, strlen(a->principal),
                     a->principal, strlen(a->host), a->host, strlen(a->resource_name),
                     a->resource_name);
    return n < 0 || (size_t)n >= cap ? 0 : (size_t)n;
}

static int read_int(const char **p, const char *end, long max, long *out)
{
    const char *s = *p;
    long v = 0;
    if (s >= end || *s < '0' || *s > '9')
        return -1;
    if (*s == '0' && s + 1 < end && s[1] >= '0' && s[1] <= '9')
        return -1; /* canonical form only: one record, one encoding */
    while (s < end && *s >= '0' && *s <= '9') {
        v = v * 10 + (*s - '0');
        if (v > max)
            return -1;
        s++;
    }
    *p = s;
    *out = v;
    return 0;
}

static char *read_str(const char **p, const char *end)
{
    long n;
    if (read_int(p, end, ACL_MAX_STR, &n) < 0 || *p >= end || **p != ':' ||
        end - (*p + 1) < n)
        return NULL;
    const char *s = *p + 1;
    if (memchr(s, '\0', (size_t)n))
        return NULL;
    char *r = malloc((size_t)n + 1);
    if (!r)
        return NULL;
    memcpy(r, s, (size_t)n);
    r[n] = '\0';
    *p = s + n;
    return r;
}

int acl_decode(const char *in, size_t len, struct acl *out)
{
    memset(out, 0, sizeof *out);
    const char *p = in, *end = in + len;
    long v[5];
    for (int i = 0; i < 5; i++) {
        if (read_int(&p, end, 127, &v[i]) < 0 || p >= end || *p != ' ')
            return -1;
        p++;
    }
    if (v[0] != 1)
        return -1;
    out->resource_type = (int8_t)v[1];
    out->pattern_type = (int8_t)v[2];
    out->operation = (int8_t)v[3];
    out->permission = (int8_t)v[4];
    out->principal = read_str(&p, end);
    out->host = out->principal ? read_str(&p, end) : NULL;
    out->resource_name = out->host ? read_str(&p, end) : NULL;
    struct sluice_acl_binding b = { sizeof b, out->resource_type, out->resource_name,
                                    out->pattern_type, out->principal, out->host,
                                    out->operation, out->permission };
    char msg[160];
    if (!out->resource_name || p != end || acl_validate_new(&b, msg, sizeof msg) != 0) {
        acl_free(out);
        return -1;
    }
    return 0;
}

int acl_from_binding(const struct sluice_acl_binding *b, struct acl *out)
{
    *out = (struct acl){ b->resource_type, b->pattern_type, b->operation, b->permission,
                         strdup(b->resource_name), strdup(b->principal), strdup(b->host) };
    if (!out->resource_name || !out->principal || !out->host) {
        acl_free(out);
        return -1;
    }
    return 0;
}

void acl_free(struct acl *a)
{
    free(a->resource_name);
    free(a->principal);
    free(a->host);
    memset(a, 0, sizeof *a);
}

bool acl_equal(const struct acl *a, const struct acl *b)
{
    return a->resource_type == b->resource_type && a->pattern_type == b->pattern_type &&
           a->operation == b->operation && a->permission == b->permission &&
           strcmp(a->resource_name, b->resource_name) == 0 &&
           strcmp(a->principal, b->principal) == 0 && strcmp(a->host, b->host) == 0;
}

uint64_t acl_hash(const struct acl *a)
{
    char buf[3 * ACL_MAX_STR + 64];
    size_t n = acl_encode(a, buf, sizeof buf);
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++) {
        h ^= (uint8_t)buf[i];
        h *= 1099511628211ULL;
    }
    return h;
}
