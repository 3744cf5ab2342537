/* libFuzzer target for authorizer_acl's record decoder (ACLs read back
 * from the metadata log at start-up): any value must decode or fail
 * without memory errors; a decoded ACL re-encodes to the same bytes and
 * can be matched against an action. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "acl_rules.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct acl a;
    if (acl_decode((const char *)data, size, &a) != 0)
        return 0;
    char buf[3 * ACL_MAX_STR + 64];
    size_t n = acl_encode(&a, buf, sizeof buf);
    if (n != size || memcmp(buf, data, size) != 0)
        abort();
    (void)acl_decide(&a, 1, a.principal, a.host, a.operation, a.resource_type, a.resource_name,
                     false);
    acl_free(&a);
    return 0;
}
