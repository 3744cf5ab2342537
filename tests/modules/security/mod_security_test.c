/* Test module for the ABI 1.2 SASL and authorizer registrations; what it
 * registers depends on module.mod_security_test.mode:
 *   ok       the mechanism TEST-MECH and an authorizer
 *   badname  a mechanism named "bad mech"
 *   nostep   a mechanism without step
 *   small    mechanism ops with struct_size 8
 *   twice    TEST-MECH twice
 *   twoauth  two authorizers
 *   noacl    an authorizer without delete_acls */
#include <string.h>

#include <sluice/plugin.h>

static int m_new(void *state, const struct sluice_sasl_conn_info *info, void **session, char *err,
                 size_t errlen)
{
    (void)state, (void)info, (void)err, (void)errlen;
    *session = NULL;
    return 0;
}

static int m_step(void *state, void *session, const uint8_t *in, size_t len,
                  struct sluice_buf *out, char *err, size_t errlen)
{
    (void)state, (void)session, (void)in, (void)len, (void)out, (void)err, (void)errlen;
    return SLUICE_SASL_DONE;
}

static const char *m_principal(void *state, void *session)
{
    (void)state, (void)session;
    return "tester";
}

static void a_authorize(void *state, const char *principal, const char *host,
                        const struct sluice_authz_action *actions, size_t n, uint8_t *allowed)
{
    (void)state, (void)principal, (void)host, (void)actions;
    memset(allowed, 1, n);
}

static int a_by_type(void *state, const char *principal, const char *host, int8_t op,
                     int8_t rtype)
{
    (void)state, (void)principal, (void)host, (void)op, (void)rtype;
    return 1;
}

static void a_create(void *state, const struct sluice_acl_binding *acls, size_t n, int16_t *errors,
                     char *msgs, size_t msglen)
{
    (void)state, (void)acls, (void)msgs, (void)msglen;
    memset(errors, 0, n * sizeof *errors);
}

static int16_t a_list(void *state, const struct sluice_acl_binding *filter, sluice_acl_fn cb,
                      void *ud)
{
    (void)state, (void)filter, (void)cb, (void)ud;
    return 0;
}

static int init(const struct sluice_host_api *host, struct sluice_module_ctx *ctx, char *err,
                size_t errlen)
{
    (void)err, (void)errlen;
    const char *mode = host->config_get_string(ctx, "mode", "ok");
    struct sluice_sasl_mech_ops m = {
        .struct_size = sizeof m, .mechanism = "TEST-MECH", .session_new = m_new,
        .step = m_step, .principal = m_principal,
    };
    struct sluice_authorizer_ops a = {
        .struct_size = sizeof a, .name = "test", .authorize = a_authorize,
        .create_acls = a_create, .describe_acls = a_list, .delete_acls = a_list,
        .authorize_by_resource_type = a_by_type,
    };
    if (!strcmp(mode, "badname"))
        m.mechanism = "bad mech";
    if (!strcmp(mode, "nostep"))
        m.step = NULL;
    if (!strcmp(mode, "small"))
        m.struct_size = 8;
    if (!strcmp(mode, "minsize")) /* a module built before authorize_by_resource_type */
        a.struct_size = SLUICE_AUTHORIZER_OPS_MIN_SIZE_V1_2;
    if (!strcmp(mode, "noacl"))
        a.delete_acls = NULL;
    int rc = host->register_sasl_mechanism(ctx, &m, NULL);
    if (rc == 0 && !strcmp(mode, "twice"))
        rc = host->register_sasl_mechanism(ctx, &m, NULL);
    if (rc == 0)
        rc = host->register_authorizer(ctx, &a, NULL);
    if (rc == 0 && !strcmp(mode, "twoauth"))
        rc = host->register_authorizer(ctx, &a, NULL);
    return rc;
}

SLUICE_MODULE_DECLARE("mod_security_test", "0.0.1", SLUICE_KIND_SASL | SLUICE_KIND_AUTHORIZER,
                      init, NULL, "ABI 1.2 SASL/authorizer registration test");
