/* Test module: a valid shared object that forgot the sluice_module
 * descriptor (exports something else instead). */
#include <sluice/plugin.h>

SLUICE_EXPORT int not_a_sluice_module(void);
SLUICE_EXPORT int not_a_sluice_module(void) { return 42; }
