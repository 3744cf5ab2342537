/* ApiVersions (key 18): the advertised ranges come from api_table.c. */
#include "broker/broker.h"

#include <string.h>

void handle_api_versions(struct broker *b, struct request *rq)
{
    const struct kp_ApiVersionsRequest *req = rq->body;
    struct kp_ApiVersionsResponse resp;
    memset(&resp, 0, sizeof resp);
    kp_struct_defaults(kp_response_message(KP_API_API_VERSIONS)->body, &resp);
    /* v3+ carries the client's software name/version; Kafka validates them
     * (alphanumerics, '.', '-') and answers INVALID_REQUEST otherwise. */
    if (rq->hdr.ApiVersion >= 3) {
        const struct kp_str *fields[] = { &req->ClientSoftwareName, &req->ClientSoftwareVersion };
        for (int i = 0; i < 2; i++) {
            const struct kp_str *s = fields[i];
            int valid = s->len > 0;
            for (int32_t j = 0; valid && j < s->len; j++) {
                char ch = s->s[j];
                valid = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                        (ch >= '0' && ch <= '9') || ch == '.' || ch == '-';
            }
            if (!valid) {
                resp.ErrorCode = KP_ERR_INVALID_REQUEST;
                slog(b->log, SLOG_DEBUG, "api_versions", "invalid client software %s '%s'",
                     i ? "version" : "name", s->s ? s->s : "");
            }
        }
    }
    api_versions_fill(rq, &resp);
    rq_respond(rq, &resp);
}

void api_versions_fill(struct request *rq, struct kp_ApiVersionsResponse *resp)
{
    size_t n;
    const struct api_entry *e = api_table_entries(&n);
    resp->ApiKeys.items = rq_alloc(rq, sizeof *resp->ApiKeys.items, (int32_t)n);
    int32_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (!api_available(rq->b, &e[i]))
            continue;
        resp->ApiKeys.items[k].ApiKey = e[i].api_key;
        resp->ApiKeys.items[k].MinVersion = e[i].min_version;
        resp->ApiKeys.items[k].MaxVersion = api_max_version(rq->b, &e[i]);
        k++;
    }
    resp->ApiKeys.count = k;
}
