/* Test module: claims a newer minor than the host; must be refused with
 * got/expected minor values. */
#include <sluice/plugin.h>

static int new_init(const struct sluice_host_api *host, struct sluice_module_ctx *ctx, char *err,
                    size_t errlen)
{
    return 0;
}

SLUICE_EXPORT const struct sluice_module sluice_module = {
    .abi_major = SLUICE_ABI_MAJOR,
    .abi_minor = SLUICE_ABI_MINOR + 1,
    .struct_size = sizeof(struct sluice_module),
    .name = "mod_new_minor",
    .version = "0.0.1",
    .kinds = SLUICE_KIND_SERVICE,
    .init = new_init,
};
