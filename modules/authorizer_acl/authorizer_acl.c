/* Kafka's ACL authorizer (StandardAuthorizer semantics): literal and
 * prefixed resource patterns, ALLOW/DENY with DENY winning, ALL and the
 * implied operations, super.users, allow.everyone.if.no.acl.found.  ACLs
 * are durable in the module's records ("acl/<16 hex digits>", the value in
 * acl_rules.h's format), loaded at start-up.
 *
 * Options (plain Kafka keys, or module.authorizer_acl.<key>):
 *   super.users                      User:admin;User:ops
 *   allow.everyone.if.no.acl.found   false */
#include <sluice/plugin.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acl_rules.h"

struct az_state {
    const struct sluice_host_api *host;
    struct sluice_module_ctx *ctx;
    /* The ACLs and, at the same index, the record key each is stored
     * under (two arrays so authorize() reads the ACLs in place). */
    struct acl *acls;
    uint64_t *keys;
    size_t n, cap;
    char **supers;
    size_t nsupers;
    int allow_everyone;
};

static void key_str(uint64_t k, char *out)
{
    snprintf(out, 24, "acl/%016llx", (unsigned long long)k);
}

static int add_entry(struct az_state *st, struct acl *a, uint64_t key)
{
    if (st->n == st->cap) {
        size_t cap = st->cap ? st->cap * 2 : 64;
        struct acl *e = realloc(st->acls, cap * sizeof *e);
        if (e)
            st->acls = e;
        uint64_t *k = e ? realloc(st->keys, cap * sizeof *k) : NULL;
        if (!k)
            return -1;
        st->keys = k;
        st->cap = cap;
    }
    st->acls[st->n] = *a;
    st->keys[st->n++] = key;
    return 0;
}

static bool key_used(const struct az_state *st, uint64_t k)
{
    for (size_t i = 0; i < st->n; i++)
        if (st->keys[i] == k)
            return true;
    return false;
}

static void az_authorize(void *state, const char *principal, const char *host,
                         const struct sluice_authz_action *actions, size_t n, uint8_t *allowed)
{
    struct az_state *st = state;
    if (acl_is_super(st->supers, st->nsupers, principal)) {
        memset(allowed, 1, n);
        return;
    }
    for (size_t i = 0; i < n; i++)
        allowed[i] = acl_decide(st->acls, st->n, principal, host, actions[i].operation,
                                actions[i].resource_type, actions[i].resource_name,
                                st->allow_everyone != 0);
}

static int az_authorize_by_type(void *state, const char *principal, const char *host,
                                int8_t operation, int8_t resource_type)
{
    struct az_state *st = state;
    return acl_decide_by_type(st->acls, st->n, st->supers, st->nsupers, principal, host,
                              operation, resource_type, st->allow_everyone != 0);
}

static void az_create(void *state, const struct sluice_acl_binding *acls, size_t n,
                      int16_t *errors, char *msgs, size_t msglen)
{
    struct az_state *st = state;
    for (size_t i = 0; i < n; i++) {
        char *msg = msgs + i * msglen;
        msg[0] = '\0';
        errors[i] = acl_validate_new(&acls[i], msg, msglen);
        if (errors[i])
            continue;
        struct acl a;
        if (acl_from_binding(&acls[i], &a) < 0) {
            errors[i] = -1; /* UNKNOWN_SERVER_ERROR */
            snprintf(msg, msglen, "out of memory");
            continue;
        }
        bool dup = false;
        for (size_t k = 0; k < st->n && !dup; k++)
            dup = acl_equal(&st->acls[k], &a);
        if (dup) { /* Kafka: creating an existing ACL succeeds */
            acl_free(&a);
            continue;
        }
        uint64_t key = acl_hash(&a);
        while (key_used(st, key))
            key++;
        char val[3 * ACL_MAX_STR + 64], ks[24];
        size_t len = acl_encode(&a, val, sizeof val);
        key_str(key, ks);
        int rc = len ? st->host->record_put(st->ctx, ks, val, len, NULL, NULL) : SLUICE_ERR_INVALID;
        if (rc != 0 || add_entry(st, &a, key) < 0) {
            errors[i] = -1;
            snprintf(msg, msglen, "cannot store the ACL (%d)", rc);
            acl_free(&a);
            continue;
        }
        st->host->log(st->ctx, SLUICE_LOG_INFO, "added ACL %s", val);
    }
}

static void to_binding(const struct acl *a, struct sluice_acl_binding *b)
{
    *b = (struct sluice_acl_binding){ sizeof *b, a->resource_type, a->resource_name,
                                      a->pattern_type, a->principal, a->host, a->operation,
                                      a->permission };
}

static int16_t az_describe(void *state, const struct sluice_acl_binding *f, sluice_acl_fn cb,
                           void *ud)
{
    struct az_state *st = state;
    char msg[160];
    int16_t ec = acl_validate_filter(f, msg, sizeof msg);
    if (ec)
        return ec;
    for (size_t i = 0; i < st->n; i++) {
        if (!acl_filter_matches(f, &st->acls[i]))
            continue;
        struct sluice_acl_binding b;
        to_binding(&st->acls[i], &b);
        if (cb(ud, &b))
            break;
    }
    return 0;
}

static int16_t az_delete(void *state, const struct sluice_acl_binding *f, sluice_acl_fn cb,
                         void *ud)
{
    struct az_state *st = state;
    char msg[160];
    int16_t ec = acl_validate_filter(f, msg, sizeof msg);
    if (ec)
        return ec;
    size_t j = 0;
    for (size_t i = 0; i < st->n; i++) {
        struct acl *a = &st->acls[i];
        if (!acl_filter_matches(f, a)) {
            st->keys[j] = st->keys[i];
            st->acls[j++] = *a;
            continue;
        }
        char ks[24];
        key_str(st->keys[i], ks);
        st->host->record_delete(st->ctx, ks, NULL, NULL);
        struct sluice_acl_binding b;
        to_binding(a, &b);
        cb(ud, &b);
        char val[3 * ACL_MAX_STR + 64];
        if (acl_encode(a, val, sizeof val))
            st->host->log(st->ctx, SLUICE_LOG_INFO, "deleted ACL %s", val);
        acl_free(a);
    }
    st->n = j;
    return 0;
}

static int load_one(void *ud, const char *key, const void *value, size_t len)
{
    struct az_state *st = ud;
    struct acl a;
    unsigned long long k;
    if (sscanf(key, "acl/%16llx", &k) != 1 || acl_decode(value, len, &a) < 0) {
        st->host->log(st->ctx, SLUICE_LOG_WARN, "ignoring malformed ACL record %s", key);
        return 0;
    }
    if (add_entry(st, &a, (uint64_t)k) < 0)
        acl_free(&a);
    return 0;
}

static int parse_supers(struct az_state *st, const char *s)
{
    /* Kafka: principals separated by ';'. */
    while (s && *s) {
        while (*s == ';' || *s == ' ')
            s++;
        const char *e = s;
        while (*e && *e != ';')
            e++;
        size_t n = (size_t)(e - s);
        while (n && s[n - 1] == ' ')
            n--;
        if (n) {
            char **v = realloc(st->supers, (st->nsupers + 1) * sizeof *v);
            if (!v)
                return -1;
            st->supers = v;
            if (!(v[st->nsupers] = strndup(s, n)))
                return -1;
            st->nsupers++;
        }
        s = e;
    }
    return 0;
}

static void az_fini(const struct sluice_host_api *host, struct sluice_module_ctx *ctx)
{
    struct az_state *st = host->get_data(ctx);
    if (!st)
        return;
    for (size_t i = 0; i < st->n; i++)
        acl_free(&st->acls[i]);
    free(st->acls);
    free(st->keys);
    for (size_t i = 0; i < st->nsupers; i++)
        free(st->supers[i]);
    free(st->supers);
    host->free(ctx, st);
}

static const struct sluice_authorizer_ops az_ops = {
    .struct_size = sizeof(struct sluice_authorizer_ops),
    .name = "acl",
    .authorize = az_authorize,
    .create_acls = az_create,
    .describe_acls = az_describe,
    .delete_acls = az_delete,
    .authorize_by_resource_type = az_authorize_by_type,
};

static int az_init(const struct sluice_host_api *host, struct sluice_module_ctx *ctx, char *err,
                   size_t errlen)
{
    struct az_state *st = host->alloc(ctx, sizeof *st);
    if (!st)
        return SLUICE_ERR_NOMEM;
    *st = (struct az_state){ .host = host, .ctx = ctx };
    host->set_data(ctx, st);
    if (host->config_get_bool(ctx, "allow.everyone.if.no.acl.found", 0, &st->allow_everyone) != 0) {
        snprintf(err, errlen, "allow.everyone.if.no.acl.found: expected true or false");
        az_fini(host, ctx);
        return SLUICE_ERR_INVALID;
    }
    if (parse_supers(st, host->config_get_string(ctx, "super.users", NULL)) < 0 ||
        host->record_iterate(ctx, "acl/", load_one, st) < 0) {
        snprintf(err, errlen, "cannot load the ACLs");
        az_fini(host, ctx);
        return SLUICE_ERR_NOMEM;
    }
    host->log(ctx, SLUICE_LOG_INFO, "%zu ACL(s) loaded, %zu super user(s)%s", st->n, st->nsupers,
              st->allow_everyone ? ", allow.everyone.if.no.acl.found" : "");
    return host->register_authorizer(ctx, &az_ops, st);
}

SLUICE_MODULE_DECLARE("authorizer_acl", "1.0.0", SLUICE_KIND_AUTHORIZER, az_init, az_fini,
                      "Kafka ACL authorizer (literal/prefixed patterns, deny wins, super.users)");
