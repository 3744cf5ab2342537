/* Test module: registers a broken or clashing assignor, chosen by the
 * config key "mode" (dup, badname, noassign, small, twice), so the loader's
 * refusal messages for register_assignor can be checked. */
#include <string.h>

#include <sluice/plugin.h>

static int bad_assign(void *state, const struct sluice_assignor_group *group,
                      struct sluice_assignor_result *out, char *err, size_t errlen)
{
    (void)state;
    (void)group;
    (void)out;
    (void)err;
    (void)errlen;
    return 0;
}

static int bad_init(const struct sluice_host_api *host, struct sluice_module_ctx *ctx, char *err,
                    size_t errlen)
{
    (void)err;
    (void)errlen;
    const char *mode = host->config_get_string(ctx, "mode", "dup");
    struct sluice_assignor_ops ops = {
        .struct_size = sizeof ops,
        .name = "uniform",
        .assign = bad_assign,
    };
    if (!strcmp(mode, "badname"))
        ops.name = "Bad Name";
    else if (!strcmp(mode, "noassign"))
        ops.assign = NULL;
    else if (!strcmp(mode, "small"))
        ops.struct_size = sizeof(size_t);
    else if (!strcmp(mode, "twice"))
        ops.name = "bad-twice";
    int rc = host->register_assignor(ctx, &ops, NULL);
    if (!strcmp(mode, "twice") && rc == 0)
        rc = host->register_assignor(ctx, &ops, NULL);
    return 0; /* the host must fail the load on its own */
}

SLUICE_MODULE_DECLARE("mod_assignor_bad", "0.0.1", SLUICE_KIND_ASSIGNOR, bad_init, NULL,
                      "broken assignor registrations");
