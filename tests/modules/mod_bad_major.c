/* Test module: built for a future ABI major; the loader must refuse it and
 * say got 2.0 / expected 1.x. */
#include <sluice/plugin.h>

static int bad_init(const struct sluice_host_api *host, struct sluice_module_ctx *ctx, char *err,
                    size_t errlen)
{
    return 0;
}

SLUICE_EXPORT const struct sluice_module sluice_module = {
    .abi_major = SLUICE_ABI_MAJOR + 1,
    .abi_minor = 0,
    .struct_size = sizeof(struct sluice_module),
    .name = "mod_bad_major",
    .version = "0.0.1",
    .kinds = SLUICE_KIND_SERVICE,
    .init = bad_init,
};
