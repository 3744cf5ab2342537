/* Test module: targets ABI 1.0 while compiled against the current header
 * (SLUICE_TARGET_ABI_MINOR), so its descriptor says 1.0 and it must guard
 * every 1.1 member with SLUICE_HOST_HAS. */
#define SLUICE_TARGET_ABI_MINOR 0
#include <sluice/plugin.h>

static int t_init(const struct sluice_host_api *host, struct sluice_module_ctx *ctx, char *err,
                  size_t errlen)
{
    host->log(ctx, SLUICE_LOG_INFO, "has metric_register=%d has register_service=%d",
              SLUICE_HOST_HAS(host, metric_register) ? 1 : 0,
              SLUICE_HOST_HAS(host, register_service) ? 1 : 0);
    return 0;
}

SLUICE_MODULE_DECLARE("mod_target10", "0.0.1", SLUICE_KIND_SERVICE, t_init, NULL,
                      "targets 1.0 from the 1.1 header");
