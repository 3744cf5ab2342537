/* ConsumerGroupHeartbeat (68) and ConsumerGroupDescribe (69): decode, hand
 * to the coordinator (consumer_group.c), encode its answer once the records
 * it wrote are durable. */
#include "broker/authz.h"
#include "broker/broker.h"
#include "group/coordinator.h"
#include "group/group_api.h"

#include <string.h>

static void heartbeat_done(void *ud, struct kp_ConsumerGroupHeartbeatResponse *resp)
{
    rq_respond(ud, resp);
}

void handle_consumer_group_heartbeat(struct broker *b, struct request *rq)
{
    const struct kp_ConsumerGroupHeartbeatRequest *req = rq->body;
    const char *client_id = rq->hdr.ClientId.s ? rq->hdr.ClientId.s : "";
    /* KafkaApis: READ on the group, then DESCRIBE on every subscribed
     * topic name (clients may not learn of topics they cannot describe). */
    int16_t denied = authz_allowed(rq, SLUICE_ACL_OP_READ, SLUICE_RES_GROUP, req->GroupId.s)
                         ? KP_ERR_NONE
                         : KP_ERR_GROUP_AUTHORIZATION_FAILED;
    for (int32_t i = 0; !denied && i < req->SubscribedTopicNames.count; i++)
        if (!authz_allowed(rq, SLUICE_ACL_OP_DESCRIBE, SLUICE_RES_TOPIC,
                           req->SubscribedTopicNames.items[i].s))
            denied = KP_ERR_TOPIC_AUTHORIZATION_FAILED;
    if (denied) {
        struct kp_ConsumerGroupHeartbeatResponse resp;
        memset(&resp, 0, sizeof resp);
        kp_struct_defaults(kp_response_message(KP_API_CONSUMER_GROUP_HEARTBEAT)->body, &resp);
        resp.ErrorCode = denied;
        rq_respond(rq, &resp);
        return;
    }
    gc_consumer_heartbeat(b->groups, req, rq->hdr.ApiVersion, client_id, group_client_host(rq),
                          &rq->arena, heartbeat_done, rq);
}

void handle_consumer_group_describe(struct broker *b, struct request *rq)
{
    const struct kp_ConsumerGroupDescribeRequest *req = rq->body;
    const struct kp_message *rm = kp_response_message(KP_API_CONSUMER_GROUP_DESCRIBE);
    const struct kp_struct *gd = kp_sub(rm->body, "Groups");
    struct kp_ConsumerGroupDescribeResponse resp;
    memset(&resp, 0, sizeof resp);
    kp_struct_defaults(rm->body, &resp);
    int32_t n = req->GroupIds.count > 0 ? req->GroupIds.count : 0;
    resp.Groups.items = rq_items(rq, gd, n);
    resp.Groups.count = resp.Groups.items ? n : 0;
    for (int32_t i = 0; i < resp.Groups.count; i++) {
        const struct kp_str *id = &req->GroupIds.items[i];
        const char *gid = id->s ? kp_arena_strndup(&rq->arena, id->s, (size_t)id->len) : NULL;
        if (!authz_allowed(rq, SLUICE_ACL_OP_DESCRIBE, SLUICE_RES_GROUP, gid ? gid : "")) {
            resp.Groups.items[i].GroupId = rq_str(rq, gid ? gid : "");
            resp.Groups.items[i].ErrorCode = KP_ERR_GROUP_AUTHORIZATION_FAILED;
            continue;
        }
        gc_consumer_describe(b->groups, gid ? gid : "", &resp.Groups.items[i], &rq->arena);
        /* Without an authorizer: every operation a group supports (READ,
         * DELETE, DESCRIBE, DESCRIBE_CONFIGS, ALTER_CONFIGS). */
        if (req->IncludeAuthorizedOperations && !resp.Groups.items[i].ErrorCode)
            resp.Groups.items[i].AuthorizedOperations =
                authz_operations(rq, SLUICE_RES_GROUP, gid ? gid : "");
    }
    rq_respond(rq, &resp);
}
