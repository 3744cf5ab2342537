/* FindCoordinator (key 10): every coordinator is this node.  Group keys
 * get this node once __consumer_offsets exists (created here on first use,
 * where Kafka answers COORDINATOR_NOT_AVAILABLE until its controller has
 * created it); transaction keys likewise once __transaction_state exists;
 * other key types are INVALID_REQUEST. */
#include "broker/authz.h"
#include "broker/broker.h"
#include "group/group_api.h"
#include "group/offsets_topic.h"
#include "txn/txn_coordinator.h"

#include <string.h>

enum { KEY_TYPE_GROUP = 0, KEY_TYPE_TRANSACTION = 1, KEY_TYPE_SHARE = 2 };

struct coordinator_answer {
    int16_t error;
    int32_t node_id, port;
    const char *host;
};

static void find_one(struct broker *b, struct request *rq, int8_t key_type, const char *key,
                     struct coordinator_answer *a)
{
    a->node_id = -1;
    a->port = -1;
    a->host = "";
    /* KafkaApis: DESCRIBE on the group or transactional id. */
    if (key_type == KEY_TYPE_GROUP &&
        !authz_allowed(rq, SLUICE_ACL_OP_DESCRIBE, SLUICE_RES_GROUP, key ? key : "")) {
        a->error = KP_ERR_GROUP_AUTHORIZATION_FAILED;
        return;
    }
    if (key_type == KEY_TYPE_TRANSACTION &&
        !authz_allowed(rq, SLUICE_ACL_OP_DESCRIBE, SLUICE_RES_TRANSACTIONAL_ID, key ? key : "")) {
        a->error = KP_ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED;
        return;
    }
    if (key_type != KEY_TYPE_GROUP && key_type != KEY_TYPE_TRANSACTION) {
        /* CoordinatorType.forId throws InvalidRequestException; share groups
         * (KIP-932) are not enabled. */
        a->error = KP_ERR_INVALID_REQUEST;
        return;
    }
    int16_t err = KP_ERR_NONE;
    if (key_type == KEY_TYPE_GROUP ? !offsets_topic_ensure(b, &err)
                                   : !txn_topic_ensure(b, &err)) {
        a->error = KP_ERR_COORDINATOR_NOT_AVAILABLE;
        return;
    }
    a->error = KP_ERR_NONE;
    a->node_id = b->cfg->node_id;
    broker_advertised_endpoint(b, net_request_conn(rq->nreq), &a->host, &a->port);
}

/* Errors.message(): the exception's default message, or the enum name for
 * NONE — which is why Kafka's v1-3 responses say "NONE" on success. */
static const char *error_message(int16_t err)
{
    switch (err) {
    case KP_ERR_NONE:
        return "NONE";
    case KP_ERR_COORDINATOR_NOT_AVAILABLE:
        return "The coordinator is not available.";
    case KP_ERR_INVALID_REQUEST:
        return "This most likely occurs because of a request being malformed by the client "
               "library or the message was sent to an incompatible broker. See the broker logs "
               "for more details.";
    default:
        return kp_error_name(err);
    }
}

void handle_find_coordinator(struct broker *b, struct request *rq)
{
    const struct kp_FindCoordinatorRequest *req = rq->body;
    const struct kp_message *rm = kp_response_message(KP_API_FIND_COORDINATOR);
    struct kp_FindCoordinatorResponse resp;
    memset(&resp, 0, sizeof resp);
    kp_struct_defaults(rm->body, &resp);
    int8_t key_type = rq->hdr.ApiVersion >= 1 ? req->KeyType : KEY_TYPE_GROUP;
    if (rq->hdr.ApiVersion < 4) {
        struct coordinator_answer a;
        find_one(b, rq, key_type, req->Key.s, &a);
        resp.ErrorCode = a.error;
        resp.ErrorMessage = rq_str(rq, error_message(a.error));
        resp.NodeId = a.node_id;
        resp.Host = rq_str(rq, a.host);
        resp.Port = a.port;
        rq_respond(rq, &resp);
        return;
    }
    const struct kp_struct *cd = kp_sub(rm->body, "Coordinators");
    int32_t n = req->CoordinatorKeys.count > 0 ? req->CoordinatorKeys.count : 0;
    resp.Coordinators.count = n;
    resp.Coordinators.items = rq_items(rq, cd, n);
    for (int32_t i = 0; i < n; i++) {
        struct kp_FindCoordinatorResponse_Coordinator *c = &resp.Coordinators.items[i];
        struct coordinator_answer a;
        find_one(b, rq, key_type, req->CoordinatorKeys.items[i].s, &a);
        c->Key = req->CoordinatorKeys.items[i];
        c->ErrorCode = a.error;
        c->ErrorMessage = a.error ? rq_str(rq, error_message(a.error)) : kp_str_c(NULL);
        c->NodeId = a.node_id;
        c->Host = rq_str(rq, a.host);
        c->Port = a.port;
    }
    rq_respond(rq, &resp);
}
