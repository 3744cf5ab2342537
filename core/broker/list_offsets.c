/* ListOffsets (key 2): earliest (-2), latest (-1), max timestamp (-3),
 * earliest local (-4), latest tiered (-5) and by timestamp. */
#include "broker/authz.h"
#include "broker/broker.h"
#include "storage/partition_log.h"

#include <string.h>

enum {
    LIST_LATEST = -1,
    LIST_EARLIEST = -2,
    LIST_MAX_TIMESTAMP = -3,
    LIST_EARLIEST_LOCAL = -4,
    LIST_LATEST_TIERED = -5,
};

static void list_partition(struct broker *b, struct request *rq, const char *topic,
                           const struct kp_ListOffsetsRequest_ListOffsetsPartition *p,
                           struct kp_ListOffsetsResponse_ListOffsetsPartitionResponse *out)
{
    const struct kp_ListOffsetsRequest *req = rq->body;
    int16_t err = KP_ERR_NONE;
    struct partition_log *pl = broker_partition(b, topic, p->PartitionIndex, &err);
    out->PartitionIndex = p->PartitionIndex;
    if (!pl) {
        out->ErrorCode = err;
        return;
    }
    if (p->CurrentLeaderEpoch > 0) {
        out->ErrorCode = KP_ERR_UNKNOWN_LEADER_EPOCH;
        return;
    }
    out->LeaderEpoch = 0;
    int64_t offset = -1, ts = -1;
    /* Kafka's lastFetchableOffset: the LSO under read_committed (v2+). */
    int64_t fetchable = rq->hdr.ApiVersion >= 2 && req->IsolationLevel == 1
                            ? plog_last_stable_offset(pl)
                            : plog_high_watermark(pl);
    switch (p->Timestamp) {
    case LIST_LATEST:
        offset = fetchable;
        break;
    case LIST_EARLIEST:
    case LIST_EARLIEST_LOCAL: /* no tiered storage yet: local start is the start */
        offset = plog_log_start_offset(pl);
        break;
    case LIST_LATEST_TIERED: /* nothing tiered: Kafka answers -1 */
        offset = -1;
        break;
    case LIST_MAX_TIMESTAMP:
        if (plog_max_timestamp(pl, &offset, &ts) < 0)
            offset = ts = -1;
        break;
    default:
        if (p->Timestamp < 0) {
            out->ErrorCode = KP_ERR_INVALID_REQUEST;
            return;
        }
        if (plog_offset_for_timestamp(pl, p->Timestamp, &offset, &ts) < 0)
            offset = ts = -1;
        break;
    }
    /* Partition.fetchOffsetForTimestamp: a timestamp's offset (max
     * timestamp included) counts only below the last fetchable offset. */
    if ((p->Timestamp >= 0 || p->Timestamp == LIST_MAX_TIMESTAMP) && offset >= fetchable)
        offset = ts = -1;
    out->Offset = offset;
    out->Timestamp = ts;
    if (offset < 0)
        out->LeaderEpoch = -1;
}

void handle_list_offsets(struct broker *b, struct request *rq)
{
    const struct kp_ListOffsetsRequest *req = rq->body;
    const struct kp_message *rm = kp_response_message(KP_API_LIST_OFFSETS);
    const struct kp_struct *topic_desc = kp_sub(rm->body, "Topics");
    const struct kp_struct *part_desc = kp_sub(topic_desc, "Partitions");
    struct kp_ListOffsetsResponse resp;
    memset(&resp, 0, sizeof resp);
    kp_struct_defaults(rm->body, &resp);
    resp.Topics.count = req->Topics.count;
    resp.Topics.items = rq_items(rq, topic_desc, req->Topics.count);
    for (int32_t i = 0; i < req->Topics.count; i++) {
        const struct kp_ListOffsetsRequest_ListOffsetsTopic *rt = &req->Topics.items[i];
        struct kp_ListOffsetsResponse_ListOffsetsTopicResponse *tr = &resp.Topics.items[i];
        tr->Name = rt->Name;
        tr->Partitions.count = rt->Partitions.count;
        tr->Partitions.items = rq_items(rq, part_desc, rt->Partitions.count);
        bool visible = authz_allowed(rq, SLUICE_ACL_OP_DESCRIBE, SLUICE_RES_TOPIC, rt->Name.s);
        for (int32_t j = 0; j < rt->Partitions.count; j++) {
            if (!visible) {
                tr->Partitions.items[j].PartitionIndex = rt->Partitions.items[j].PartitionIndex;
                tr->Partitions.items[j].ErrorCode = KP_ERR_TOPIC_AUTHORIZATION_FAILED;
                continue;
            }
            list_partition(b, rq, rt->Name.s, &rt->Partitions.items[j], &tr->Partitions.items[j]);
        }
    }
    rq_respond(rq, &resp);
}
