/* The balanced, sticky target assignment shared by assignor_sticky
 * ("sticky"/"uniform") and assignor_cooperative_sticky (compiled into both
 * modules). */
#ifndef SLUICE_STICKY_CORE_H
#define SLUICE_STICKY_CORE_H

#include <stddef.h>

#include <sluice/plugin.h>

/* Computes the target assignment of g into out (see assign() in
 * <sluice/assignor.h>).  Returns 0, SLUICE_ERR_INVALID or SLUICE_ERR_NOMEM. */
int sticky_assign(const struct sluice_assignor_group *g, struct sluice_assignor_result *out,
                  char *err, size_t errlen);

#endif
