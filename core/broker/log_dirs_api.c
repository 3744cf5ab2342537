/* DescribeLogDirs (key 35) and AlterReplicaLogDirs (key 34), as Kafka's
 * ReplicaManager answers them.
 *
 * DescribeLogDirs: one result per configured directory, by absolute path;
 * an offline one carries KAFKA_STORAGE_ERROR and nothing else; an online
 * one lists its current logs (size = the segments' bytes, offset lag 0:
 * one replica is its own high watermark) and future logs of moves in
 * progress (IsFutureKey, lag = current LEO - future LEO), only for the
 * partitions asked (all when Topics is null), topics without any left out,
 * plus the volume's total and usable bytes (v4+).
 *
 * AlterReplicaLogDirs: per partition, in Kafka's order of checks: a future
 * directory name over 255 bytes is INVALID_TOPIC_EXCEPTION, a directory not
 * configured LOG_DIR_NOT_FOUND, an offline one KAFKA_STORAGE_ERROR, an
 * unknown partition UNKNOWN_TOPIC_OR_PARTITION, an offline partition
 * KAFKA_STORAGE_ERROR; a partition already there is left alone; creating a
 * future log while any directory is offline is KAFKA_STORAGE_ERROR (Kafka
 * will not risk a second copy in a directory it cannot see).  NONE means
 * the move started (log_mover.h); it completes in the background and
 * DescribeLogDirs shows its progress.  A partition listed twice keeps the
 * last directory, one result. */
#include "broker/authz.h"
#include "broker/broker.h"
#include "broker/log_dirs.h"
#include "broker/log_mover.h"
#include "storage/partition_log.h"

#include <stdio.h>
#include <string.h>
#include <sys/statvfs.h>

static bool requested(const struct kp_DescribeLogDirsRequest *req, const char *topic, int32_t p)
{
    if (req->Topics.count < 0)
        return true;
    for (int32_t i = 0; i < req->Topics.count; i++) {
        const struct kp_DescribeLogDirsRequest_DescribableLogDirTopic *rt = &req->Topics.items[i];
        if (!rt->Topic.s || strcmp(rt->Topic.s, topic) != 0)
            continue;
        for (int32_t j = 0; j < rt->Partitions.count; j++)
            if (rt->Partitions.items[j] == p)
                return true;
    }
    return false;
}

static void describe_dir(struct broker *b, struct request *rq, int dir,
                         struct kp_DescribeLogDirsResponse_DescribeLogDirsResult *out,
                         const struct kp_struct *topic_desc, const struct kp_struct *part_desc)
{
    const struct kp_DescribeLogDirsRequest *req = rq->body;
    const struct log_dir *d = &b->dirs->v[dir];
    out->LogDir = rq_str(rq, d->abs);
    out->Topics.count = 0;
    if (d->offline || d->failing) {
        out->ErrorCode = KP_ERR_KAFKA_STORAGE_ERROR;
        return;
    }
    struct statvfs vfs;
    if (statvfs(d->path, &vfs) != 0) {
        out->ErrorCode = KP_ERR_UNKNOWN_SERVER_ERROR; /* Kafka: an IOException from getFileStore */
        return;
    }
    out->ErrorCode = KP_ERR_NONE;
    out->TotalBytes = (int64_t)((uint64_t)vfs.f_blocks * vfs.f_frsize & INT64_MAX);
    out->UsableBytes = (int64_t)((uint64_t)vfs.f_bavail * vfs.f_frsize & INT64_MAX);

    size_t ntopics = b->topics.count, it = 0, k = 0;
    struct kp_DescribeLogDirsResponse_DescribeLogDirsTopic *topics =
        rq_items(rq, topic_desc, (int32_t)ntopics);
    void *v;
    while (strmap_next(&b->topics, &it, NULL, &v) && k < ntopics) {
        const struct broker_topic *t = v;
        struct kp_DescribeLogDirsResponse_DescribeLogDirsPartition *parts =
            rq_items(rq, part_desc, 2 * t->nparts); /* current and future per partition */
        int32_t n = 0;
        for (int32_t p = 0; p < t->nparts; p++) {
            if (!requested(req, t->name, p))
                continue;
            struct partition_log *pl = t->logs[p];
            if (pl && t->replicas[p].dir == dir) {
                parts[n].PartitionIndex = p;
                parts[n].PartitionSize = plog_size(pl);
                int64_t lag = plog_high_watermark(pl) - plog_log_end_offset(pl);
                parts[n].OffsetLag = lag > 0 ? lag : 0;
                parts[n].IsFutureKey = false;
                n++;
            }
            int fdir;
            int64_t size, leo;
            if (log_mover_future(b->mover, t, p, &fdir, &size, &leo) && fdir == dir) {
                parts[n].PartitionIndex = p;
                parts[n].PartitionSize = size;
                parts[n].OffsetLag = pl ? plog_log_end_offset(pl) - leo : -1;
                parts[n].IsFutureKey = true;
                n++;
            }
        }
        if (n == 0)
            continue; /* Kafka leaves out topics with no partition to show */
        topics[k].Name = rq_str(rq, t->name);
        topics[k].Partitions.items = parts;
        topics[k].Partitions.count = n;
        k++;
    }
    out->Topics.items = topics;
    out->Topics.count = (int32_t)k;
}

void handle_describe_log_dirs(struct broker *b, struct request *rq)
{
    const struct kp_message *rm = kp_response_message(KP_API_DESCRIBE_LOG_DIRS);
    const struct kp_struct *res_desc = kp_sub(rm->body, "Results");
    const struct kp_struct *topic_desc = kp_sub(res_desc, "Topics");
    const struct kp_struct *part_desc = kp_sub(topic_desc, "Partitions");
    struct kp_DescribeLogDirsResponse resp;
    memset(&resp, 0, sizeof resp);
    kp_struct_defaults(rm->body, &resp);
    int32_t n = (int32_t)b->dirs->n;
    if (!authz_cluster(rq, SLUICE_ACL_OP_DESCRIBE)) {
        /* Kafka: CLUSTER_AUTHORIZATION_FAILED (v3+) and no directories. */
        resp.ErrorCode = rq->hdr.ApiVersion >= 3 ? KP_ERR_CLUSTER_AUTHORIZATION_FAILED : 0;
        rq_respond(rq, &resp);
        return;
    }
    resp.Results.items = rq_items(rq, res_desc, n);
    resp.Results.count = n;
    for (int32_t i = 0; i < n; i++)
        describe_dir(b, rq, i, &resp.Results.items[i], topic_desc, part_desc);
    rq_respond(rq, &resp);
}

/* ---- AlterReplicaLogDirs ------------------------------------------------ */

struct alter_item {
    const struct kp_str *topic;
    int32_t partition;
    const struct kp_str *path;
};

static int16_t alter_one(struct broker *b, const struct alter_item *a)
{
    const char *topic = a->topic->s ? a->topic->s : "";
    char future[512];
    int n = snprintf(future, sizeof future, "%s-%d.%032d-future", topic, a->partition, 0);
    if (n < 0 || n > 255)
        return KP_ERR_INVALID_TOPIC_EXCEPTION;
    int dest = log_dirs_find_abs(b, a->path->s);
    if (dest < 0)
        return KP_ERR_LOG_DIR_NOT_FOUND;
    if (b->dirs->v[dest].offline || b->dirs->v[dest].failing)
        return KP_ERR_KAFKA_STORAGE_ERROR;
    struct broker_topic *t = broker_topic(b, topic);
    if (!t || a->partition < 0 || a->partition >= t->nparts)
        return KP_ERR_UNKNOWN_TOPIC_OR_PARTITION;
    if (!t->logs[a->partition] && !t->replicas[a->partition].moving)
        return KP_ERR_KAFKA_STORAGE_ERROR;
    int fdir;
    int64_t size, leo;
    bool moving = log_mover_future(b->mover, t, a->partition, &fdir, &size, &leo) ||
                  t->replicas[a->partition].moving;
    if (!moving && t->replicas[a->partition].dir == dest)
        return KP_ERR_NONE;
    for (size_t i = 0; i < b->dirs->n; i++)
        if (b->dirs->v[i].offline || b->dirs->v[i].failing)
            return KP_ERR_KAFKA_STORAGE_ERROR;
    return log_mover_request(b->mover, t, a->partition, dest);
}

static bool same_tp(const struct alter_item *x, const struct alter_item *y)
{
    return x->partition == y->partition && x->topic->len == y->topic->len &&
           (x->topic->len <= 0 || memcmp(x->topic->s, y->topic->s, (size_t)x->topic->len) == 0);
}

void handle_alter_replica_log_dirs(struct broker *b, struct request *rq)
{
    const struct kp_AlterReplicaLogDirsRequest *req = rq->body;
    const struct kp_message *rm = kp_response_message(KP_API_ALTER_REPLICA_LOG_DIRS);
    const struct kp_struct *topic_desc = kp_sub(rm->body, "Results");
    const struct kp_struct *part_desc = kp_sub(topic_desc, "Partitions");
    struct kp_AlterReplicaLogDirsResponse resp;
    memset(&resp, 0, sizeof resp);
    kp_struct_defaults(rm->body, &resp);

    /* Kafka turns the request into a map partition -> directory. */
    int32_t total = 0;
    for (int32_t i = 0; i < req->Dirs.count; i++)
        for (int32_t j = 0; j < req->Dirs.items[i].Topics.count; j++)
            total += req->Dirs.items[i].Topics.items[j].Partitions.count > 0
                         ? req->Dirs.items[i].Topics.items[j].Partitions.count
                         : 0;
    struct alter_item *items = rq_alloc(rq, sizeof *items, total > 0 ? total : 1);
    int32_t n = 0;
    for (int32_t i = 0; items && i < req->Dirs.count; i++) {
        const struct kp_AlterReplicaLogDirsRequest_AlterReplicaLogDir *d = &req->Dirs.items[i];
        for (int32_t j = 0; j < d->Topics.count; j++) {
            const struct kp_AlterReplicaLogDirsRequest_AlterReplicaLogDirTopic *t =
                &d->Topics.items[j];
            for (int32_t k = 0; k < t->Partitions.count; k++) {
                struct alter_item a = { &t->Name, t->Partitions.items[k], &d->Path };
                int32_t x = 0;
                while (x < n && !same_tp(&items[x], &a))
                    x++;
                items[x] = a;
                if (x == n)
                    n++;
            }
        }
    }
    /* Kafka: ALTER on the cluster, else every partition is refused. */
    bool allowed = authz_cluster(rq, SLUICE_ACL_OP_ALTER);
    /* Results grouped by topic, in order of first appearance. */
    resp.Results.items = rq_items(rq, topic_desc, n);
    int32_t nt = 0;
    for (int32_t i = 0; i < n; i++) {
        int32_t t = 0;
        while (t < nt && !(resp.Results.items[t].TopicName.len == items[i].topic->len &&
                           (items[i].topic->len <= 0 ||
                            memcmp(resp.Results.items[t].TopicName.s, items[i].topic->s,
                                   (size_t)items[i].topic->len) == 0)))
            t++;
        struct kp_AlterReplicaLogDirsResponse_AlterReplicaLogDirTopicResult *tr =
            &resp.Results.items[t];
        if (t == nt) {
            nt++;
            tr->TopicName = *items[i].topic;
            int32_t cnt = 0;
            for (int32_t j = i; j < n; j++)
                cnt += same_tp(&items[j], &(struct alter_item){ items[i].topic, items[j].partition,
                                                                 NULL });
            tr->Partitions.items = rq_items(rq, part_desc, cnt);
            tr->Partitions.count = 0;
        }
        struct kp_AlterReplicaLogDirsResponse_AlterReplicaLogDirPartitionResult *pr =
            &tr->Partitions.items[tr->Partitions.count++];
        pr->PartitionIndex = items[i].partition;
        pr->ErrorCode = allowed ? alter_one(b, &items[i]) : KP_ERR_CLUSTER_AUTHORIZATION_FAILED;
        if (pr->ErrorCode)
            slog(b->log, SLOG_WARN, "admin", "Unable to alter log dirs for %.*s-%d: %s",
                 items[i].topic->len > 0 ? items[i].topic->len : 0,
                 items[i].topic->s ? items[i].topic->s : "", items[i].partition,
                 kp_error_name(pr->ErrorCode));
    }
    resp.Results.count = nt;
    rq_respond(rq, &resp);
}
