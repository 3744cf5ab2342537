/* assignor_sticky: the balanced, sticky server-side assignor, registered as
 * "uniform" (Kafka's default group.consumer.assignors entry, Kafka's
 * UniformAssignor) and as "sticky".
 *
 * Goals in order: balance (member loads differ by at most one where the
 * subscriptions allow it, and as little as they allow otherwise), then
 * stickiness (partitions stay with their current owner unless balance needs
 * them elsewhere), then rack locality (a partition that must be placed goes
 * to a member in one of its replicas' racks when there is a choice).  The
 * algorithm is in sticky_core.c, shared with assignor_cooperative_sticky.
 *
 * The target is eager in itself: KIP-848 reconciliation in the coordinator
 * (or next_step) takes members there without two members ever owning a
 * partition at once. */
#include <sluice/plugin.h>

#include "../assignor_common/assignor_common.h"
#include "sticky_core.h"

static int sticky_assign_cb(void *state, const struct sluice_assignor_group *group,
                            struct sluice_assignor_result *out, char *err, size_t errlen)
{
    (void)state;
    return sticky_assign(group, out, err, errlen);
}

static const struct sluice_assignor_ops uniform_ops = {
    .struct_size = sizeof(struct sluice_assignor_ops),
    .name = "uniform",
    .assign = sticky_assign_cb,
};

static const struct sluice_assignor_ops sticky_ops = {
    .struct_size = sizeof(struct sluice_assignor_ops),
    .name = "sticky",
    .assign = sticky_assign_cb,
};

static int sticky_init(const struct sluice_host_api *host, struct sluice_module_ctx *ctx, char *err,
                       size_t errlen)
{
    if (!SLUICE_HOST_HAS(host, register_assignor)) {
        ac_err(err, errlen, "this broker has no assignor support (plugin ABI 1.1 needed)");
        return SLUICE_ERR_UNSUPPORTED;
    }
    int rc = host->register_assignor(ctx, &uniform_ops, NULL);
    return rc ? rc : host->register_assignor(ctx, &sticky_ops, NULL);
}

SLUICE_MODULE_DECLARE("assignor_sticky", "1.0.0", SLUICE_KIND_ASSIGNOR, sticky_init, NULL,
                      "balanced sticky partition assignor (\"uniform\", \"sticky\")");
