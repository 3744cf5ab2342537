/* Every API version the broker advertises must have exactly the fields
 * Kafka's schemas give (request and response), and lie inside the
 * schema's valid range. */
#include "broker/broker.h"
#include "proto/kp_schema_check.h"
#include "tap.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

int main(void)
{
    const char *top = getenv("SLUICE_TOP_SRCDIR");
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/../shared/kafka-protocol/message", top ? top : ".");
    struct stat st;
    if (stat(dir, &st) != 0)
        skip_all("Kafka's message schemas (../shared/kafka-protocol) are not beside the tree");
    size_t n;
    const struct api_entry *e = api_table_entries(&n);
    for (size_t i = 0; i < n; i++) {
        const struct kp_message *req = kp_request_message(e[i].api_key);
        const struct kp_message *resp = kp_response_message(e[i].api_key);
        ok(req && resp, "api %d has request and response schemas", e[i].api_key);
        if (!req || !resp)
            continue;
        ok(e[i].min_version >= req->valid_min && e[i].max_version <= req->valid_max &&
               e[i].min_version <= e[i].max_version,
           "%s: advertised %d-%d within valid %d-%d", req->name, e[i].min_version,
           e[i].max_version, req->valid_min, req->valid_max);
        ok(!req->latest_unstable || e[i].max_version < req->valid_max,
           "%s: the unstable latest version is not advertised", req->name);
        ok(!e[i].unstable_max || (req->latest_unstable && e[i].unstable_max == req->valid_max),
           "%s: only a latestVersionUnstable version sits behind unstable.api.versions.enable",
           req->name);
        const struct kp_message *ms[2] = { req, resp };
        for (int k = 0; k < 2; k++) {
            char path[4200], err[1024] = "";
            snprintf(path, sizeof path, "%s/%s.json", dir, ms[k]->name);
            int rc = kp_schema_check_file(path, e[i].min_version, e[i].max_version, err,
                                          sizeof err);
            ok(rc == 0, "%s v%d-%d fields match the schema%s%s", ms[k]->name, e[i].min_version,
               e[i].max_version, rc ? ": " : "", rc ? err : "");
        }
    }
    /* Dispatch and ApiVersions come from the same table. */
    ok(api_table_lookup(KP_API_API_VERSIONS) != NULL, "ApiVersions is in the table");
    ok(api_table_lookup(9999) == NULL, "unknown api key is not");
    return done_testing();
}
