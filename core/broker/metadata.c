/* Metadata (key 3): brokers, cluster id, controller, topics and partitions;
 * auto-creates requested topics when allowed, as Kafka does. */
#include "broker/authz.h"
#include "broker/broker.h"

#include <stdio.h>
#include <string.h>

static void fill_topic(struct broker *b, struct request *rq,
                       struct kp_MetadataResponse_MetadataResponseTopic *out,
                       const struct broker_topic *t, const struct kp_struct *part_desc)
{
    out->ErrorCode = KP_ERR_NONE;
    out->Name = rq_str(rq, t->name);
    memcpy(out->TopicId.b, t->id.b, 16);
    out->IsInternal = strncmp(t->name, "__", 2) == 0 &&
                      (strcmp(t->name, "__consumer_offsets") == 0 ||
                       strcmp(t->name, "__transaction_state") == 0);
    out->Partitions.count = t->nparts;
    out->Partitions.items = rq_items(rq, part_desc, t->nparts);
    struct meta_topic *mt = meta_image_topic(meta_store_image(b->meta), t->name);
    for (int32_t p = 0; p < t->nparts; p++) {
        struct kp_MetadataResponse_MetadataResponsePartition *mp = &out->Partitions.items[p];
        const struct meta_partition *src = mt && p < mt->nparts ? &mt->parts[p] : NULL;
        mp->PartitionIndex = p;
        mp->LeaderId = src ? src->leader : b->cfg->node_id;
        mp->LeaderEpoch = src ? src->leader_epoch : 0;
        int32_t *ids = rq_alloc(rq, sizeof *ids, 2);
        ids[0] = b->cfg->node_id;
        ids[1] = b->cfg->node_id;
        mp->ReplicaNodes.items = &ids[0];
        mp->ReplicaNodes.count = 1;
        mp->IsrNodes.items = &ids[1];
        mp->IsrNodes.count = 1;
        mp->ErrorCode = KP_ERR_NONE;
        if (!t->logs[p] && !t->replicas[p].moving) {
            /* The only replica is in a failed log directory: as Kafka's
             * controller leaves it, no leader, the replica offline (it
             * stays in the ISR, being the last member). */
            mp->ErrorCode = KP_ERR_LEADER_NOT_AVAILABLE;
            mp->LeaderId = -1;
            mp->OfflineReplicas.items = &ids[0];
            mp->OfflineReplicas.count = 1;
        }
    }
}

void handle_metadata(struct broker *b, struct request *rq)
{
    const struct kp_MetadataRequest *req = rq->body;
    const struct kp_message *rm = kp_response_message(KP_API_METADATA);
    const struct kp_struct *topic_desc = kp_sub(rm->body, "Topics");
    const struct kp_struct *part_desc = kp_sub(topic_desc, "Partitions");
    struct kp_MetadataResponse resp;
    memset(&resp, 0, sizeof resp);
    kp_struct_defaults(rm->body, &resp);

    const char *host;
    int32_t port;
    broker_advertised_endpoint(b, net_request_conn(rq->nreq), &host, &port);
    resp.Brokers.count = 1;
    resp.Brokers.items = rq_items(rq, kp_sub(rm->body, "Brokers"), 1);
    resp.Brokers.items[0].NodeId = b->cfg->node_id;
    resp.Brokers.items[0].Host = rq_str(rq, host);
    resp.Brokers.items[0].Port = port;
    resp.ClusterId = rq_str(rq, b->cluster_id);
    resp.ControllerId = b->cfg->node_id;

    /* v0: an empty list means all topics; v1+: null means all. */
    bool all = req->Topics.count < 0 || (rq->hdr.ApiVersion == 0 && req->Topics.count == 0);
    bool auto_create = b->cfg->auto_create_topics_enable &&
                       (rq->hdr.ApiVersion < 4 || req->AllowAutoTopicCreation);
    bool created = false;
    if (all) {
        size_t n = b->topics.count, i = 0, it = 0;
        resp.Topics.items = rq_items(rq, topic_desc, (int32_t)n);
        const char *name;
        void *v;
        /* Only the topics the principal may DESCRIBE (KafkaApis). */
        while (strmap_next(&b->topics, &it, &name, &v) && i < n)
            if (authz_allowed(rq, SLUICE_ACL_OP_DESCRIBE, SLUICE_RES_TOPIC, name))
                fill_topic(b, rq, &resp.Topics.items[i++], v, part_desc);
        resp.Topics.count = (int32_t)i;
    } else {
        int32_t n = req->Topics.count;
        resp.Topics.items = rq_items(rq, topic_desc, n);
        resp.Topics.count = n;
        for (int32_t i = 0; i < n; i++) {
            const struct kp_MetadataRequest_MetadataRequestTopic *rt = &req->Topics.items[i];
            struct kp_MetadataResponse_MetadataResponseTopic *out = &resp.Topics.items[i];
            struct broker_topic *t = NULL;
            if (rt->Name.s)
                t = broker_topic(b, rt->Name.s);
            else
                t = broker_topic_by_id(b, &rt->TopicId);
            /* DESCRIBE on the topic, and CREATE (cluster or topic) to
             * auto-create it; an unknown id stays UNKNOWN_TOPIC_ID. */
            const char *aname = t ? t->name : rt->Name.s;
            if (aname &&
                (!authz_allowed(rq, SLUICE_ACL_OP_DESCRIBE, SLUICE_RES_TOPIC, aname) ||
                 (!t && auto_create && !authz_cluster(rq, SLUICE_ACL_OP_CREATE) &&
                  !authz_allowed(rq, SLUICE_ACL_OP_CREATE, SLUICE_RES_TOPIC, aname)))) {
                out->ErrorCode = KP_ERR_TOPIC_AUTHORIZATION_FAILED;
                out->Name = rt->Name.s || rq->hdr.ApiVersion >= 12 ? rt->Name : rq_str(rq, "");
                out->TopicId = rt->TopicId;
                continue;
            }
            if (!t && rt->Name.s && auto_create) {
                char msg[256];
                int16_t ec = broker_create_topic(b, rt->Name.s, b->cfg->num_partitions,
                                                 (int16_t)b->cfg->default_replication_factor,
                                                 NULL, false, msg, sizeof msg);
                if (ec == KP_ERR_NONE) {
                    t = broker_topic(b, rt->Name.s);
                    created = true;
                    slog(b->log, SLOG_INFO, "metadata", "auto-created topic '%s' (%d partitions)",
                         rt->Name.s, b->cfg->num_partitions);
                } else {
                    out->ErrorCode = ec;
                    out->Name = rt->Name;
                    continue;
                }
            }
            if (t) {
                fill_topic(b, rq, out, t, part_desc);
            } else {
                out->ErrorCode = rt->Name.s ? KP_ERR_UNKNOWN_TOPIC_OR_PARTITION
                                            : KP_ERR_UNKNOWN_TOPIC_ID;
                /* Name is nullable only from v12 (lookups by id). */
                out->Name = rt->Name.s || rq->hdr.ApiVersion >= 12 ? rt->Name : rq_str(rq, "");
                out->TopicId = rt->TopicId;
            }
        }
    }
    if (rq->hdr.ApiVersion >= 8 && req->IncludeTopicAuthorizedOperations)
        for (int32_t i = 0; i < resp.Topics.count; i++)
            if (!resp.Topics.items[i].ErrorCode && resp.Topics.items[i].Name.s)
                resp.Topics.items[i].TopicAuthorizedOperations =
                    authz_operations(rq, SLUICE_RES_TOPIC, resp.Topics.items[i].Name.s);
    if (rq->hdr.ApiVersion >= 8 && rq->hdr.ApiVersion <= 10 && req->IncludeClusterAuthorizedOperations)
        resp.ClusterAuthorizedOperations = authz_operations(rq, SLUICE_RES_CLUSTER,
                                                            AUTHZ_CLUSTER_NAME);
    if (created)
        rq_respond_after_meta_sync(rq, &resp);
    else
        rq_respond(rq, &resp);
}
