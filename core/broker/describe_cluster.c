/* DescribeCluster (key 60): this node is the whole cluster, its only
 * broker and (as Kafka reports for KRaft brokers) the controller id
 * clients are given.  Follows Kafka's AuthHelper.computeDescribeClusterResponse
 * for the endpoint-type checks. */
#include "broker/admin_helpers.h"
#include "broker/authz.h"
#include "broker/broker.h"

#include <stdio.h>
#include <string.h>

enum { ENDPOINT_BROKER = 1, ENDPOINT_CONTROLLER = 2 };

void handle_describe_cluster(struct broker *b, struct request *rq)
{
    const struct kp_DescribeClusterRequest *req = rq->body;
    const int16_t ver = rq->hdr.ApiVersion;
    const struct kp_message *rm = kp_response_message(KP_API_DESCRIBE_CLUSTER);
    struct kp_DescribeClusterResponse resp;
    memset(&resp, 0, sizeof resp);
    kp_struct_defaults(rm->body, &resp);

    /* v0 has no EndpointType: it is always a broker request. */
    int8_t et = ver >= 1 ? req->EndpointType : ENDPOINT_BROKER;
    resp.EndpointType = ENDPOINT_BROKER;
    if (et != ENDPOINT_BROKER && et != ENDPOINT_CONTROLLER) {
        char msg[64];
        snprintf(msg, sizeof msg, "Unsupported endpoint type %d", (int)et);
        resp.ErrorCode = ver == 0 ? KP_ERR_INVALID_REQUEST : KP_ERR_UNSUPPORTED_ENDPOINT_TYPE;
        resp.ErrorMessage = rq_str(rq, msg);
        rq_respond(rq, &resp);
        return;
    }
    if (et != ENDPOINT_BROKER) {
        /* Kafka: a controller-endpoint request sent to a broker. */
        resp.ErrorCode = ver == 0 ? KP_ERR_INVALID_REQUEST : KP_ERR_MISMATCHED_ENDPOINT_TYPE;
        resp.ErrorMessage =
            rq_str(rq, "The request was sent to an endpoint of type BROKER, but we wanted an "
                       "endpoint of type CONTROLLER");
        rq_respond(rq, &resp);
        return;
    }

    if (!authz_cluster(rq, SLUICE_ACL_OP_DESCRIBE)) {
        resp.ErrorCode = KP_ERR_CLUSTER_AUTHORIZATION_FAILED;
        rq_respond(rq, &resp);
        return;
    }
    const char *host = NULL;
    int32_t port = 0;
    broker_advertised_endpoint(b, net_request_conn(rq->nreq), &host, &port);
    resp.ClusterId = rq_str(rq, b->cluster_id);
    resp.ControllerId = b->cfg->node_id;
    resp.Brokers.count = 1;
    resp.Brokers.items = rq_items(rq, kp_sub(rm->body, "Brokers"), 1);
    resp.Brokers.items[0].BrokerId = b->cfg->node_id;
    resp.Brokers.items[0].Host = rq_str(rq, host ? host : "");
    resp.Brokers.items[0].Port = port;
    resp.Brokers.items[0].Rack = rq_str(rq, NULL);
    /* Without an authorizer every supported cluster operation is allowed;
     * INT32_MIN (the schema default) means "not requested". */
    if (req->IncludeClusterAuthorizedOperations)
        resp.ClusterAuthorizedOperations =
            authz_active(b) ? authz_operations(rq, SLUICE_RES_CLUSTER, AUTHZ_CLUSTER_NAME)
                            : admin_cluster_authorized_operations();
    rq_respond(rq, &resp);
}
