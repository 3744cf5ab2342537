/* OffsetCommit (8), OffsetFetch (9), OffsetDelete (47). */
#include "broker/authz.h"
#include "broker/broker.h"
#include "group/coordinator.h"
#include "group/group_api.h"

#include <stdlib.h>
#include <string.h>

static bool partition_exists(struct broker *b, const char *topic, int32_t partition)
{
    struct broker_topic *t = broker_topic(b, topic);
    return t && partition >= 0 && partition < t->nparts;
}

/* ---- OffsetCommit ------------------------------------------------------- */

struct commit_wait {
    struct request *rq;
    int32_t *topic_of; /* part index -> request topic index */
};

static void commit_done(void *ud, struct gc_commit_part *parts, int n)
{
    struct request *rq = ud;
    const struct kp_OffsetCommitRequest *req = rq->body;
    const struct kp_message *rm = kp_response_message(KP_API_OFFSET_COMMIT);
    const struct kp_struct *td = kp_sub(rm->body, "Topics");
    const struct kp_struct *pd = kp_sub(td, "Partitions");
    struct kp_OffsetCommitResponse resp;
    memset(&resp, 0, sizeof resp);
    kp_struct_defaults(rm->body, &resp);
    resp.Topics.count = req->Topics.count > 0 ? req->Topics.count : 0;
    resp.Topics.items = rq_items(rq, td, resp.Topics.count);
    int k = 0;
    for (int32_t i = 0; i < resp.Topics.count && resp.Topics.items; i++) {
        const struct kp_OffsetCommitRequest_OffsetCommitRequestTopic *t = &req->Topics.items[i];
        struct kp_OffsetCommitResponse_OffsetCommitResponseTopic *rt = &resp.Topics.items[i];
        rt->Name = t->Name;
        rt->Partitions.count = t->Partitions.count > 0 ? t->Partitions.count : 0;
        rt->Partitions.items = rq_items(rq, pd, rt->Partitions.count);
        for (int32_t j = 0; j < rt->Partitions.count && rt->Partitions.items && k < n; j++, k++) {
            rt->Partitions.items[j].PartitionIndex = parts[k].partition;
            rt->Partitions.items[j].ErrorCode = parts[k].error;
        }
    }
    rq_respond(rq, &resp);
}

void handle_offset_commit(struct broker *b, struct request *rq)
{
    const struct kp_OffsetCommitRequest *req = rq->body;
    int16_t v = rq->hdr.ApiVersion;
    int n = 0;
    for (int32_t i = 0; i < req->Topics.count; i++)
        n += req->Topics.items[i].Partitions.count > 0 ? req->Topics.items[i].Partitions.count : 0;
    struct gc_commit_part *parts = rq_alloc(rq, sizeof *parts, n);
    if (n && !parts) {
        struct net_conn *c = net_request_conn(rq->nreq);
        rq_respond_none(rq);
        if (c)
            net_conn_close(c);
        return;
    }
    int64_t now = broker_now_ms(b);
    int k = 0;
    /* KafkaApis: READ on the group, then READ on each topic. */
    bool group_ok = authz_allowed(rq, SLUICE_ACL_OP_READ, SLUICE_RES_GROUP, req->GroupId.s);
    for (int32_t i = 0; i < req->Topics.count; i++) {
        const struct kp_OffsetCommitRequest_OffsetCommitRequestTopic *t = &req->Topics.items[i];
        int16_t denied = !group_ok ? KP_ERR_GROUP_AUTHORIZATION_FAILED
                         : !authz_allowed(rq, SLUICE_ACL_OP_READ, SLUICE_RES_TOPIC, t->Name.s)
                             ? KP_ERR_TOPIC_AUTHORIZATION_FAILED
                             : KP_ERR_NONE;
        for (int32_t j = 0; j < t->Partitions.count; j++, k++) {
            const struct kp_OffsetCommitRequest_OffsetCommitRequestPartition *p =
                &t->Partitions.items[j];
            struct gc_commit_part *cp = &parts[k];
            cp->topic = t->Name.s ? t->Name.s : "";
            cp->partition = p->PartitionIndex;
            cp->offset = p->CommittedOffset;
            cp->leader_epoch = v >= 6 && p->CommittedLeaderEpoch >= 0 ? p->CommittedLeaderEpoch
                                                                      : -1;
            cp->metadata = p->CommittedMetadata.s ? p->CommittedMetadata.s : "";
            /* v1 carries a commit timestamp (-1: now); v2-4 a retention time
             * that becomes an explicit expire timestamp. */
            cp->commit_ts = v == 1 && p->CommitTimestamp != -1 ? p->CommitTimestamp : now;
            cp->expire_ts = v >= 2 && v <= 4 && req->RetentionTimeMs != -1
                                ? now + req->RetentionTimeMs
                                : -1;
            cp->error = denied ? denied
                        : partition_exists(b, cp->topic, cp->partition)
                            ? KP_ERR_NONE
                            : KP_ERR_UNKNOWN_TOPIC_OR_PARTITION;
        }
    }
    struct gc_commit_req cr = {
        .group_id = req->GroupId.s ? req->GroupId.s : "",
        .member_id = v >= 1 && req->MemberId.s ? req->MemberId.s : "",
        .group_instance_id = v >= 7 ? req->GroupInstanceId.s : NULL,
        .generation_id = v >= 1 ? req->GenerationIdOrMemberEpoch : -1,
        .group_id_not_found = v >= 9,
        .api_version = v,
    };
    bool any = false;
    for (int i = 0; i < n; i++)
        any |= parts[i].error == KP_ERR_NONE;
    if (!any) {
        /* Nothing valid to commit: Kafka answers without touching the group. */
        commit_done(rq, parts, n);
        return;
    }
    gc_commit_offsets(b->groups, &cr, parts, n, commit_done, rq);
}

/* ---- OffsetFetch ---------------------------------------------------------- */

/* One group's answer, in the v8+ shape (converted for older versions). */
static int cmp_slot(const void *a, const void *b)
{
    const struct offset_slot *x = *(struct offset_slot *const *)a;
    const struct offset_slot *y = *(struct offset_slot *const *)b;
    int c = strcmp(x->topic, y->topic);
    return c ? c : (x->partition > y->partition) - (x->partition < y->partition);
}

static void fill_partition(struct kp_OffsetFetchResponse_OffsetFetchResponsePartitions *out,
                           int32_t partition, const struct offset_entry *e)
{
    out->PartitionIndex = partition;
    out->CommittedOffset = e ? e->offset : -1;
    out->CommittedLeaderEpoch = e ? e->leader_epoch : -1;
    out->Metadata = kp_str_c(e ? e->metadata : "");
    out->ErrorCode = KP_ERR_NONE;
}

static void unstable(struct kp_OffsetFetchResponse_OffsetFetchResponsePartitions *out)
{
    out->CommittedOffset = -1;
    out->CommittedLeaderEpoch = -1;
    out->Metadata = kp_str_c("");
    out->ErrorCode = KP_ERR_UNSTABLE_OFFSET_COMMIT;
}

typedef struct kp_OffsetFetchResponse_OffsetFetchResponseTopics rtopics_t;
typedef struct kp_OffsetFetchResponse_OffsetFetchResponsePartitions rparts_t;

/* Fills g (v8 layout) for group_id; topics NULL means every committed one. */
static void fetch_group(struct broker *b, struct request *rq, const char *group_id,
                        const struct kp_OffsetFetchRequest_OffsetFetchRequestTopics *topics,
                        int32_t ntopics, struct kp_OffsetFetchResponse_OffsetFetchResponseGroup *g)
{
    const struct kp_struct *gd = kp_sub(kp_response_message(KP_API_OFFSET_FETCH)->body, "Groups");
    const struct kp_struct *td = kp_sub(gd, "Topics");
    const struct kp_struct *pd = kp_sub(td, "Partitions");
    struct group_coordinator *gc = b->groups;
    /* RequireStable (v7+, KIP-447): a partition with a transactional commit
     * still pending answers UNSTABLE_OFFSET_COMMIT. */
    bool stable = rq->hdr.ApiVersion >= 7 && ((const struct kp_OffsetFetchRequest *)rq->body)
                                                 ->RequireStable;
    g->GroupId = kp_str_c(group_id);
    g->ErrorCode = gc_validate_group(gc, group_id, true);
    if (!g->ErrorCode && !authz_allowed(rq, SLUICE_ACL_OP_DESCRIBE, SLUICE_RES_GROUP, group_id))
        g->ErrorCode = KP_ERR_GROUP_AUTHORIZATION_FAILED;
    if (g->ErrorCode)
        return;
    if (ntopics >= 0) {
        g->Topics.count = ntopics;
        g->Topics.items = rq_items(rq, td, ntopics);
        for (int32_t i = 0; i < ntopics && g->Topics.items; i++) {
            rtopics_t *rt = &g->Topics.items[i];
            const char *name = topics[i].Name.s ? topics[i].Name.s : "";
            rt->Name = topics[i].Name;
            int32_t np = topics[i].PartitionIndexes.count > 0 ? topics[i].PartitionIndexes.count
                                                              : 0;
            rt->Partitions.count = np;
            rt->Partitions.items = rq_items(rq, pd, np);
            bool visible = authz_allowed(rq, SLUICE_ACL_OP_DESCRIBE, SLUICE_RES_TOPIC, name);
            for (int32_t j = 0; j < np && rt->Partitions.items; j++) {
                int32_t p = topics[i].PartitionIndexes.items[j];
                fill_partition(&rt->Partitions.items[j], p,
                               visible ? offset_store_get(&gc->offsets, group_id, name, p) : NULL);
                if (!visible)
                    rt->Partitions.items[j].ErrorCode = KP_ERR_TOPIC_AUTHORIZATION_FAILED;
                else if (stable && offset_store_txn_has_pending(&gc->offsets, group_id, name, p))
                    unstable(&rt->Partitions.items[j]);
            }
        }
        return;
    }
    size_t n = offset_store_count(&gc->offsets, group_id), it = 0, k = 0;
    struct offset_slot **slots = n ? rq_alloc(rq, sizeof *slots, (int32_t)n) : NULL;
    struct offset_slot *sl;
    /* Every committed topic the principal may DESCRIBE. */
    while (slots && k < n && (sl = offset_store_next(&gc->offsets, group_id, &it)))
        if (authz_allowed(rq, SLUICE_ACL_OP_DESCRIBE, SLUICE_RES_TOPIC, sl->topic))
            slots[k++] = sl;
    if (k)
        qsort(slots, k, sizeof *slots, cmp_slot);
    int32_t nt = 0;
    for (size_t i = 0; i < k; i++)
        nt += i == 0 || strcmp(slots[i]->topic, slots[i - 1]->topic) != 0;
    g->Topics.count = nt;
    g->Topics.items = rq_items(rq, td, nt);
    int32_t ti = -1;
    for (size_t i = 0; i < k && g->Topics.items; i++) {
        if (i == 0 || strcmp(slots[i]->topic, slots[i - 1]->topic) != 0) {
            rtopics_t *rt = &g->Topics.items[++ti];
            rt->Name = rq_str(rq, slots[i]->topic);
            size_t j = i;
            while (j < k && strcmp(slots[j]->topic, slots[i]->topic) == 0)
                j++;
            rt->Partitions.count = (int32_t)(j - i);
            rt->Partitions.items = rq_items(rq, pd, rt->Partitions.count);
        }
        rtopics_t *rt = &g->Topics.items[ti];
        size_t first = i;
        while (first > 0 && strcmp(slots[first - 1]->topic, slots[i]->topic) == 0)
            first--;
        if (rt->Partitions.items) {
            rparts_t *pp = &rt->Partitions.items[i - first];
            fill_partition(pp, slots[i]->partition, &slots[i]->e);
            pp->Metadata = rq_str(rq, slots[i]->e.metadata);
            if (stable && offset_store_txn_has_pending(&gc->offsets, group_id, slots[i]->topic,
                                                       slots[i]->partition))
                unstable(pp);
        }
    }
}

void handle_offset_fetch(struct broker *b, struct request *rq)
{
    const struct kp_OffsetFetchRequest *req = rq->body;
    int16_t v = rq->hdr.ApiVersion;
    const struct kp_message *rm = kp_response_message(KP_API_OFFSET_FETCH);
    const struct kp_struct *gd = kp_sub(rm->body, "Groups");
    struct kp_OffsetFetchResponse resp;
    memset(&resp, 0, sizeof resp);
    kp_struct_defaults(rm->body, &resp);
    if (v >= 8) {
        int32_t ng = req->Groups.count > 0 ? req->Groups.count : 0;
        resp.Groups.count = ng;
        resp.Groups.items = rq_items(rq, gd, ng);
        for (int32_t i = 0; i < ng && resp.Groups.items; i++) {
            const struct kp_OffsetFetchRequest_OffsetFetchRequestGroup *rg = &req->Groups.items[i];
            const char *gid = rg->GroupId.s ? rg->GroupId.s : "";
            /* v9+: a KIP-848 member fetches with its member epoch. */
            int16_t merr = v >= 9 ? gc_validate_offset_fetch(b->groups, gid, rg->MemberId.s,
                                                             rg->MemberEpoch)
                                  : KP_ERR_NONE;
            if (merr) {
                resp.Groups.items[i].GroupId = rg->GroupId;
                resp.Groups.items[i].ErrorCode = merr;
                continue;
            }
            fetch_group(b, rq, gid, rg->Topics.items, rg->Topics.count, &resp.Groups.items[i]);
        }
        rq_respond(rq, &resp);
        return;
    }
    /* v0-7: one group; convert the request's topics to the v8 layout (the
     * structs have the same shape). */
    int32_t nt = req->Topics.count;
    if (v < 2 && nt < 0)
        nt = 0; /* not nullable before v2 */
    struct kp_OffsetFetchResponse_OffsetFetchResponseGroup g;
    memset(&g, 0, sizeof g);
    const char *gid = req->GroupId.s ? req->GroupId.s : "";
    fetch_group(b, rq, gid,
                (const struct kp_OffsetFetchRequest_OffsetFetchRequestTopics *)req->Topics.items,
                nt, &g);
    const struct kp_struct *td = kp_sub(rm->body, "Topics");
    const struct kp_struct *pd = kp_sub(td, "Partitions");
    if (g.ErrorCode) {
        if (v >= 2) {
            resp.ErrorCode = g.ErrorCode;
            rq_respond(rq, &resp);
            return;
        }
        /* v0-1 have no top-level error: every requested partition gets it. */
        resp.Topics.count = nt;
        resp.Topics.items = rq_items(rq, td, nt);
        for (int32_t i = 0; i < nt && resp.Topics.items; i++) {
            const struct kp_OffsetFetchRequest_OffsetFetchRequestTopic *t = &req->Topics.items[i];
            struct kp_OffsetFetchResponse_OffsetFetchResponseTopic *rt = &resp.Topics.items[i];
            rt->Name = t->Name;
            rt->Partitions.count = t->PartitionIndexes.count > 0 ? t->PartitionIndexes.count : 0;
            rt->Partitions.items = rq_items(rq, pd, rt->Partitions.count);
            for (int32_t j = 0; j < rt->Partitions.count && rt->Partitions.items; j++) {
                rt->Partitions.items[j].PartitionIndex = t->PartitionIndexes.items[j];
                rt->Partitions.items[j].CommittedOffset = -1;
                rt->Partitions.items[j].Metadata = kp_str_c("");
                rt->Partitions.items[j].ErrorCode = g.ErrorCode;
            }
        }
        rq_respond(rq, &resp);
        return;
    }
    resp.Topics.count = g.Topics.count;
    resp.Topics.items = rq_items(rq, td, g.Topics.count);
    for (int32_t i = 0; i < g.Topics.count && resp.Topics.items; i++) {
        struct kp_OffsetFetchResponse_OffsetFetchResponseTopic *rt = &resp.Topics.items[i];
        rt->Name = g.Topics.items[i].Name;
        rt->Partitions.count = g.Topics.items[i].Partitions.count;
        rt->Partitions.items = rq_items(rq, pd, rt->Partitions.count);
        for (int32_t j = 0; j < rt->Partitions.count && rt->Partitions.items; j++) {
            const rparts_t *s = &g.Topics.items[i].Partitions.items[j];
            rt->Partitions.items[j].PartitionIndex = s->PartitionIndex;
            rt->Partitions.items[j].CommittedOffset = s->CommittedOffset;
            rt->Partitions.items[j].CommittedLeaderEpoch = s->CommittedLeaderEpoch;
            rt->Partitions.items[j].Metadata = s->Metadata;
            rt->Partitions.items[j].ErrorCode = s->ErrorCode;
        }
    }
    rq_respond(rq, &resp);
}

/* ---- OffsetDelete --------------------------------------------------------- */

void handle_offset_delete(struct broker *b, struct request *rq)
{
    const struct kp_OffsetDeleteRequest *req = rq->body;
    const struct kp_message *rm = kp_response_message(KP_API_OFFSET_DELETE);
    const struct kp_struct *td = kp_sub(rm->body, "Topics");
    const struct kp_struct *pd = kp_sub(td, "Partitions");
    struct kp_OffsetDeleteResponse resp;
    memset(&resp, 0, sizeof resp);
    kp_struct_defaults(rm->body, &resp);
    int n = 0;
    for (int32_t i = 0; i < req->Topics.count; i++)
        n += req->Topics.items[i].Partitions.count > 0 ? req->Topics.items[i].Partitions.count : 0;
    struct gc_commit_part *parts = rq_alloc(rq, sizeof *parts, n);
    if (n && !parts) {
        resp.ErrorCode = KP_ERR_UNKNOWN_SERVER_ERROR;
        rq_respond(rq, &resp);
        return;
    }
    int k = 0;
    for (int32_t i = 0; i < req->Topics.count; i++) {
        const struct kp_OffsetDeleteRequest_OffsetDeleteRequestTopic *t = &req->Topics.items[i];
        for (int32_t j = 0; j < t->Partitions.count; j++, k++) {
            parts[k].topic = t->Name.s ? t->Name.s : "";
            parts[k].partition = t->Partitions.items[j].PartitionIndex;
            parts[k].error =
                !authz_allowed(rq, SLUICE_ACL_OP_READ, SLUICE_RES_TOPIC, parts[k].topic)
                    ? KP_ERR_TOPIC_AUTHORIZATION_FAILED
                : partition_exists(b, parts[k].topic, parts[k].partition)
                    ? KP_ERR_NONE
                    : KP_ERR_UNKNOWN_TOPIC_OR_PARTITION;
        }
    }
    if (!authz_allowed(rq, SLUICE_ACL_OP_DELETE, SLUICE_RES_GROUP, req->GroupId.s)) {
        resp.ErrorCode = KP_ERR_GROUP_AUTHORIZATION_FAILED;
        rq_respond(rq, &resp);
        return;
    }
    resp.ErrorCode = gc_delete_offsets(b->groups, req->GroupId.s ? req->GroupId.s : "", parts, n);
    if (resp.ErrorCode) {
        rq_respond(rq, &resp);
        return;
    }
    resp.Topics.count = req->Topics.count > 0 ? req->Topics.count : 0;
    resp.Topics.items = rq_items(rq, td, resp.Topics.count);
    k = 0;
    for (int32_t i = 0; i < resp.Topics.count && resp.Topics.items; i++) {
        const struct kp_OffsetDeleteRequest_OffsetDeleteRequestTopic *t = &req->Topics.items[i];
        struct kp_OffsetDeleteResponse_OffsetDeleteResponseTopic *rt = &resp.Topics.items[i];
        rt->Name = t->Name;
        rt->Partitions.count = t->Partitions.count > 0 ? t->Partitions.count : 0;
        rt->Partitions.items = rq_items(rq, pd, rt->Partitions.count);
        for (int32_t j = 0; j < rt->Partitions.count && rt->Partitions.items; j++, k++) {
            rt->Partitions.items[j].PartitionIndex = parts[k].partition;
            rt->Partitions.items[j].ErrorCode = parts[k].error;
        }
    }
    rq_respond(rq, &resp);
}
