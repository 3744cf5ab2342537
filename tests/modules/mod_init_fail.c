/* Test module: init fails with its own message unless
 * module.mod_init_fail.secret is set; fini must then not be called. */
#include <stdio.h>

#include <sluice/plugin.h>

static int fail_init(const struct sluice_host_api *host, struct sluice_module_ctx *ctx, char *err,
                     size_t errlen)
{
    const char *secret = host->config_get_string(ctx, "secret", NULL);
    if (!secret) {
        snprintf(err, errlen, "module.mod_init_fail.secret is required");
        return SLUICE_ERR_INVALID;
    }
    host->log(ctx, SLUICE_LOG_INFO, "secret has %zu chars", (size_t)snprintf(NULL, 0, "%s", secret));
    return 0;
}

static void fail_fini(const struct sluice_host_api *host, struct sluice_module_ctx *ctx)
{
    host->log(ctx, SLUICE_LOG_INFO, "fini called");
}

SLUICE_MODULE_DECLARE("mod_init_fail", "0.0.1", SLUICE_KIND_SERVICE, fail_init, fail_fini,
                      "init fails without a secret");
