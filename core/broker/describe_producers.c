/* DescribeProducers (key 61): the active producers of partitions, from the
 * partition's producer state (storage/producer_state.h), as Kafka's
 * KafkaApis.handleDescribeProducersRequest and UnifiedLog.activeProducers:
 * an invalid topic name is INVALID_TOPIC_EXCEPTION with Topic.validate's
 * message and an unknown topic UNKNOWN_TOPIC_OR_PARTITION with the error's
 * default message on every requested partition; an unknown partition of a
 * known topic (or an offline one) gets its code without a message.  Kafka
 * lists producers in hash-map order; here they are sorted by id. */
#include "broker/broker.h"
#include "storage/partition_log.h"
#include "storage/producer_state.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int cmp_pid(const void *a, const void *b)
{
    int64_t x = ((const struct kp_DescribeProducersResponse_ProducerState *)a)->ProducerId;
    int64_t y = ((const struct kp_DescribeProducersResponse_ProducerState *)b)->ProducerId;
    return x < y ? -1 : x > y;
}

static void describe_partition(struct broker *b, struct request *rq, const char *topic,
                               const struct kp_struct *prod_desc,
                               struct kp_DescribeProducersResponse_PartitionResponse *out)
{
    int16_t err = KP_ERR_NONE;
    struct partition_log *pl = broker_partition(b, topic, out->PartitionIndex, &err);
    if (!pl) {
        out->ErrorCode = err;
        return;
    }
    const struct producer_state *ps = plog_producer_state(pl);
    int32_t n = (int32_t)pstate_count(ps);
    out->ActiveProducers.items = rq_items(rq, prod_desc, n);
    if (n > 0 && !out->ActiveProducers.items) {
        out->ErrorCode = KP_ERR_UNKNOWN_SERVER_ERROR;
        return;
    }
    const struct pstate_entry *e;
    int32_t k = 0;
    for (size_t it = 0; k < n && (e = pstate_next(ps, &it));) {
        struct kp_DescribeProducersResponse_ProducerState *p = &out->ActiveProducers.items[k++];
        p->ProducerId = e->producer_id;
        p->ProducerEpoch = e->epoch;
        p->LastSequence = e->nbatches ? e->b[e->nbatches - 1].last_seq : -1;
        p->LastTimestamp = e->last_timestamp;
        p->CoordinatorEpoch = e->coordinator_epoch;
        p->CurrentTxnStartOffset = e->txn_first_offset;
    }
    out->ActiveProducers.count = k;
    qsort(out->ActiveProducers.items, (size_t)k, sizeof *out->ActiveProducers.items, cmp_pid);
}

void handle_describe_producers(struct broker *b, struct request *rq)
{
    const struct kp_DescribeProducersRequest *req = rq->body;
    const struct kp_message *rm = kp_response_message(KP_API_DESCRIBE_PRODUCERS);
    const struct kp_struct *topic_desc = kp_sub(rm->body, "Topics");
    const struct kp_struct *part_desc = kp_sub(topic_desc, "Partitions");
    const struct kp_struct *prod_desc = kp_sub(part_desc, "ActiveProducers");
    struct kp_DescribeProducersResponse resp;
    memset(&resp, 0, sizeof resp);
    kp_struct_defaults(rm->body, &resp);

    int32_t nt = req->Topics.count > 0 ? req->Topics.count : 0;
    resp.Topics.items = rq_items(rq, topic_desc, nt);
    resp.Topics.count = resp.Topics.items ? nt : 0;
    for (int32_t i = 0; i < resp.Topics.count; i++) {
        const struct kp_DescribeProducersRequest_TopicRequest *in = &req->Topics.items[i];
        struct kp_DescribeProducersResponse_TopicResponse *out = &resp.Topics.items[i];
        const char *name = in->Name.s ? in->Name.s : "";
        out->Name = in->Name.len >= 0 ? in->Name : rq_str(rq, "");
        char msg[256];
        int16_t topic_err = broker_validate_topic_name(name, msg, sizeof msg);
        if (topic_err == KP_ERR_NONE && !broker_topic(b, name)) {
            topic_err = KP_ERR_UNKNOWN_TOPIC_OR_PARTITION;
            snprintf(msg, sizeof msg, "This server does not host this topic-partition.");
        }
        int32_t np = in->PartitionIndexes.count > 0 ? in->PartitionIndexes.count : 0;
        out->Partitions.items = rq_items(rq, part_desc, np);
        out->Partitions.count = out->Partitions.items ? np : 0;
        for (int32_t j = 0; j < out->Partitions.count; j++) {
            struct kp_DescribeProducersResponse_PartitionResponse *pr = &out->Partitions.items[j];
            pr->PartitionIndex = in->PartitionIndexes.items[j];
            if (topic_err != KP_ERR_NONE) {
                pr->ErrorCode = topic_err;
                pr->ErrorMessage = rq_str(rq, msg);
                continue;
            }
            describe_partition(b, rq, name, prod_desc, pr);
        }
    }
    rq_respond(rq, &resp);
}
