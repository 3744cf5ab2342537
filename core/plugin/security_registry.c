/* ABI 1.2 registrations: SASL mechanisms and the authorizer.  The broker
 * looks them up per connection (SaslHandshake) and per request. */
#include "plugin/host_api.h"

#include <stdlib.h>
#include <string.h>

static int valid_mechanism_name(const char *s)
{
    /* RFC 4422 section 3.1: 1 to 20 of [A-Z0-9-_]. */
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > 20)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-' ||
              s[i] == '_'))
            return 0;
    return 1;
}

int host_register_sasl_mechanism(struct sluice_module_ctx *ctx,
                                 const struct sluice_sasl_mech_ops *ops, void *state)
{
    struct sluice_sasl_mech_ops copy;
    int rc = host_copy_ops(ctx, SLUICE_KIND_SASL, "SLUICE_KIND_SASL", "sasl_mechanism", ops,
                           SLUICE_SASL_MECH_OPS_MIN_SIZE_V1_2, 2, true, &copy, sizeof copy);
    if (rc)
        return rc;
    if (!valid_mechanism_name(copy.mechanism))
        return host_reg_fail(ctx, SLUICE_ERR_INVALID,
                             "SASL mechanism name '%s' is not [A-Z0-9_-]{1,20}",
                             copy.mechanism ? copy.mechanism : "(null)");
    if (!copy.session_new || !copy.step || !copy.principal)
        return host_reg_fail(ctx, SLUICE_ERR_INVALID,
                             "SASL mechanism %s: session_new, step and principal are required",
                             copy.mechanism);
    struct module_registry *reg = ctx->reg;
    const struct module_sasl_mech *dup = module_registry_sasl_mech(reg, copy.mechanism);
    if (dup)
        return host_reg_fail(ctx, SLUICE_ERR_EXISTS,
                             "SASL mechanism %s is already provided by module '%s'",
                             copy.mechanism, dup->owner->name);
    if (reg->nsasl == reg->cap_sasl) {
        size_t cap = reg->cap_sasl ? reg->cap_sasl * 2 : 4;
        struct module_sasl_mech *a = realloc(reg->sasl_mechs, cap * sizeof *a);
        if (!a)
            return host_reg_fail(ctx, SLUICE_ERR_NOMEM, "out of memory");
        reg->sasl_mechs = a;
        reg->cap_sasl = cap;
    }
    reg->sasl_mechs[reg->nsasl++] =
        (struct module_sasl_mech){.ops = copy, .state = state, .owner = ctx};
    return 0;
}

int host_register_authorizer(struct sluice_module_ctx *ctx, const struct sluice_authorizer_ops *ops,
                             void *state)
{
    struct sluice_authorizer_ops copy;
    int rc = host_copy_ops(ctx, SLUICE_KIND_AUTHORIZER, "SLUICE_KIND_AUTHORIZER", "authorizer",
                           ops, SLUICE_AUTHORIZER_OPS_MIN_SIZE_V1_2, 2, true, &copy, sizeof copy);
    if (rc)
        return rc;
    struct module_registry *reg = ctx->reg;
    if (reg->authorizer.owner)
        return host_reg_fail(ctx, SLUICE_ERR_EXISTS,
                             "an authorizer is already provided by module '%s'",
                             reg->authorizer.owner->name);
    if (!copy.authorize || !copy.create_acls || !copy.describe_acls || !copy.delete_acls)
        return host_reg_fail(ctx, SLUICE_ERR_INVALID,
                             "authorizer: authorize, create_acls, describe_acls and delete_acls "
                             "are required");
    reg->authorizer = (struct module_authorizer){.ops = copy, .state = state, .owner = ctx};
    return 0;
}

void security_registry_drop(struct module_registry *reg, struct sluice_module_ctx *ctx)
{
    size_t j = 0;
    for (size_t i = 0; i < reg->nsasl; i++)
        if (reg->sasl_mechs[i].owner != ctx)
            reg->sasl_mechs[j++] = reg->sasl_mechs[i];
    reg->nsasl = j;
    if (reg->authorizer.owner == ctx)
        memset(&reg->authorizer, 0, sizeof reg->authorizer);
}

void security_registry_free(struct module_registry *reg)
{
    free(reg->sasl_mechs);
    reg->sasl_mechs = NULL;
    reg->nsasl = reg->cap_sasl = 0;
    memset(&reg->authorizer, 0, sizeof reg->authorizer);
}

const struct module_sasl_mech *module_registry_sasl_mech(const struct module_registry *reg,
                                                         const char *name)
{
    for (size_t i = 0; reg && name && i < reg->nsasl; i++)
        if (strcmp(reg->sasl_mechs[i].ops.mechanism, name) == 0)
            return &reg->sasl_mechs[i];
    return NULL;
}

const struct module_sasl_mech *module_registry_sasl_mechs(const struct module_registry *reg,
                                                          size_t *n)
{
    *n = reg ? reg->nsasl : 0;
    return reg ? reg->sasl_mechs : NULL;
}

const struct module_authorizer *module_registry_authorizer(const struct module_registry *reg)
{
    return reg && reg->authorizer.owner ? &reg->authorizer : NULL;
}
