/* assignor_cooperative_sticky: the sticky target (sticky_core.c, the same
 * as assignor_sticky) reached only through incremental revocation, as
 * "cooperative-sticky".
 *
 * assign() produces the TARGET.  next_step() produces the next SAFE
 * ownership from what members own now: a partition that changes hands is
 * revoked from its old owner in one step and handed to its new owner in a
 * later one, once nobody owns it, so no partition is ever owned by two
 * members (Kafka's CooperativeStickyAssignor does the same by leaving
 * transferring partitions out of the first rebalance).  KIP-848
 * reconciliation in the coordinator uses next_step to decide what each
 * member may be given in the current round; starting from any ownership,
 * two steps reach the target when members acknowledge revocations. */
#include <sluice/plugin.h>

#include "../assignor_common/assignor_common.h"
#include "../assignor_sticky/sticky_core.h"

static int coop_assign(void *state, const struct sluice_assignor_group *group,
                       struct sluice_assignor_result *out, char *err, size_t errlen)
{
    (void)state;
    return sticky_assign(group, out, err, errlen);
}

static int coop_next_step(void *state, const struct sluice_assignor_group *group,
                          const struct sluice_assignor_result *target,
                          struct sluice_assignor_result *out, char *err, size_t errlen)
{
    (void)state;
    return ac_next_step(group, target, out, err, errlen);
}

static const struct sluice_assignor_ops coop_ops = {
    .struct_size = sizeof(struct sluice_assignor_ops),
    .name = "cooperative-sticky",
    .assign = coop_assign,
    .next_step = coop_next_step,
};

static int coop_init(const struct sluice_host_api *host, struct sluice_module_ctx *ctx, char *err,
                     size_t errlen)
{
    if (!SLUICE_HOST_HAS(host, register_assignor)) {
        ac_err(err, errlen, "this broker has no assignor support (plugin ABI 1.1 needed)");
        return SLUICE_ERR_UNSUPPORTED;
    }
    return host->register_assignor(ctx, &coop_ops, NULL);
}

SLUICE_MODULE_DECLARE("assignor_cooperative_sticky", "1.0.0", SLUICE_KIND_ASSIGNOR, coop_init,
                      NULL, "sticky assignor with incremental (cooperative) revocation steps");
