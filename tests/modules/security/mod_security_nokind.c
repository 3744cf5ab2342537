/* Test module: registers a SASL mechanism without declaring SLUICE_KIND_SASL. */
#include <sluice/plugin.h>

static int n_new(void *state, const struct sluice_sasl_conn_info *info, void **session, char *err,
                 size_t errlen)
{
    (void)state, (void)info, (void)session, (void)err, (void)errlen;
    return 0;
}

static int n_step(void *state, void *session, const uint8_t *in, size_t len,
                  struct sluice_buf *out, char *err, size_t errlen)
{
    (void)state, (void)session, (void)in, (void)len, (void)out, (void)err, (void)errlen;
    return SLUICE_SASL_FAIL;
}

static const char *n_principal(void *state, void *session)
{
    (void)state, (void)session;
    return "";
}

static int init(const struct sluice_host_api *host, struct sluice_module_ctx *ctx, char *err,
                size_t errlen)
{
    (void)err, (void)errlen;
    struct sluice_sasl_mech_ops m = { .struct_size = sizeof m, .mechanism = "NOKIND",
                                      .session_new = n_new, .step = n_step,
                                      .principal = n_principal };
    return host->register_sasl_mechanism(ctx, &m, NULL);
}

SLUICE_MODULE_DECLARE("mod_security_nokind", "0.0.1", SLUICE_KIND_SERVICE, init, NULL,
                      "SASL mechanism registered without the kind bit");
