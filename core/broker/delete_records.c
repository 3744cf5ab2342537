/* DeleteRecords (key 21): move a partition's log start offset forward.
 * Per partition, as Kafka's ReplicaManager/Partition.deleteRecordsOnLeader:
 * offset -1 means the high watermark, an offset above it (or below -1) is
 * OFFSET_OUT_OF_RANGE, internal topics and compact-only topics are refused,
 * and the answer is the new low watermark (-1 on any error). */
#include "broker/admin_helpers.h"
#include "broker/authz.h"
#include "broker/broker.h"
#include "storage/partition_log.h"

#include <string.h>

static void delete_partition(struct broker *b, const char *topic,
                             const struct kp_DeleteRecordsRequest_DeleteRecordsPartition *p,
                             struct kp_DeleteRecordsResponse_DeleteRecordsPartitionResult *out)
{
    out->PartitionIndex = p->PartitionIndex;
    out->LowWatermark = -1;
    int16_t err = KP_ERR_NONE;
    struct partition_log *pl = broker_partition(b, topic, p->PartitionIndex, &err);
    if (!pl) {
        out->ErrorCode = err != KP_ERR_NONE ? err : KP_ERR_UNKNOWN_TOPIC_OR_PARTITION;
        return;
    }
    if (admin_topic_is_internal(topic)) {
        out->ErrorCode = KP_ERR_INVALID_TOPIC_EXCEPTION;
        return;
    }
    const struct broker_topic *t = broker_topic(b, topic);
    if (t && !(t->cfg.cleanup_policy & SLUICE_CLEANUP_DELETE)) {
        /* A compacted log keeps the latest value of every key; cutting its
         * head would lose keys, so Kafka refuses. */
        out->ErrorCode = KP_ERR_POLICY_VIOLATION;
        return;
    }
    int64_t low = -1;
    int rc = plog_delete_records(pl, p->Offset, &low);
    if (rc != 0) {
        out->ErrorCode = rc > 0 ? (int16_t)rc : KP_ERR_KAFKA_STORAGE_ERROR;
        slog(b->log, SLOG_INFO, "admin", "DeleteRecords %s-%d before %lld: %s", topic,
             (int)p->PartitionIndex, (long long)p->Offset, kp_error_name(out->ErrorCode));
        return;
    }
    out->ErrorCode = KP_ERR_NONE;
    out->LowWatermark = low;
}

void handle_delete_records(struct broker *b, struct request *rq)
{
    const struct kp_DeleteRecordsRequest *req = rq->body;
    const struct kp_message *rm = kp_response_message(KP_API_DELETE_RECORDS);
    const struct kp_struct *topic_desc = kp_sub(rm->body, "Topics");
    const struct kp_struct *part_desc = kp_sub(topic_desc, "Partitions");
    struct kp_DeleteRecordsResponse resp;
    memset(&resp, 0, sizeof resp);
    kp_struct_defaults(rm->body, &resp);

    int32_t nt = req->Topics.count > 0 ? req->Topics.count : 0;
    resp.Topics.items = rq_items(rq, topic_desc, nt);
    resp.Topics.count = nt;
    for (int32_t i = 0; i < nt; i++) {
        const struct kp_DeleteRecordsRequest_DeleteRecordsTopic *in = &req->Topics.items[i];
        struct kp_DeleteRecordsResponse_DeleteRecordsTopicResult *out = &resp.Topics.items[i];
        const char *name = in->Name.s ? in->Name.s : "";
        out->Name = in->Name.len >= 0 ? in->Name : rq_str(rq, "");
        int32_t np = in->Partitions.count > 0 ? in->Partitions.count : 0;
        out->Partitions.items = rq_items(rq, part_desc, np);
        out->Partitions.count = np;
        bool allowed = authz_allowed(rq, SLUICE_ACL_OP_DELETE, SLUICE_RES_TOPIC, name);
        for (int32_t j = 0; j < np; j++) {
            if (!allowed) {
                out->Partitions.items[j].PartitionIndex = in->Partitions.items[j].PartitionIndex;
                out->Partitions.items[j].LowWatermark = -1;
                out->Partitions.items[j].ErrorCode = KP_ERR_TOPIC_AUTHORIZATION_FAILED;
                continue;
            }
            delete_partition(b, name, &in->Partitions.items[j], &out->Partitions.items[j]);
        }
    }
    rq_respond(rq, &resp);
}
