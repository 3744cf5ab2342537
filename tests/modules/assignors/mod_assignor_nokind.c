/* Test module: registers an assignor without declaring SLUICE_KIND_ASSIGNOR. */
#include <sluice/plugin.h>

static int nk_assign(void *state, const struct sluice_assignor_group *group,
                     struct sluice_assignor_result *out, char *err, size_t errlen)
{
    (void)state;
    (void)group;
    (void)out;
    (void)err;
    (void)errlen;
    return 0;
}

static const struct sluice_assignor_ops nk_ops = {
    .struct_size = sizeof(struct sluice_assignor_ops),
    .name = "nokind",
    .assign = nk_assign,
};

static int nk_init(const struct sluice_host_api *host, struct sluice_module_ctx *ctx, char *err,
                   size_t errlen)
{
    (void)err;
    (void)errlen;
    return host->register_assignor(ctx, &nk_ops, NULL);
}

SLUICE_MODULE_DECLARE("mod_assignor_nokind", "0.0.1", SLUICE_KIND_SERVICE, nk_init, NULL,
                      "assignor registered without the kind bit");
