/* CreateTopics (key 19), DeleteTopics (key 20) and CreatePartitions (key 37).
 *
 * The validation order and messages follow Kafka's KRaft controller
 * (ControllerApis + ReplicationControlManager), since clients surface these
 * messages to users and some tools match on them.  This is a single-node
 * broker: the only registered broker is this node, so every replica list
 * must be exactly [node.id] and the replication factor at most 1. */
#include "broker/admin_helpers.h"
#include "broker/authz.h"
#include "broker/broker.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Kafka bounds the records of one controller operation
 * (MAX_RECORDS_PER_USER_OP); without a bound a single request could make
 * this node open millions of logs. */
#define ADMIN_MAX_PARTITIONS 10000

static bool kp_str_eq(const struct kp_str *a, const struct kp_str *b)
{
    if (a->len != b->len)
        return false;
    if (a->len <= 0)
        return true;
    return memcmp(a->s, b->s, (size_t)a->len) == 0;
}

static int cmp_i32(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

/* Kafka's validateManualPartitionAssignment for a one-node cluster: the ids
 * are checked in ascending order, so the smallest offender is named. */
static int16_t check_replica_list(const struct broker *b, const int32_t *ids, int32_t n,
                                  char *msg, size_t msglen)
{
    if (n <= 0) {
        snprintf(msg, msglen, "The manual partition assignment includes an empty replica list.");
        return KP_ERR_INVALID_REPLICA_ASSIGNMENT;
    }
    int32_t *sorted = malloc(sizeof *sorted * (size_t)n);
    if (!sorted) {
        snprintf(msg, msglen, "Out of memory.");
        return KP_ERR_UNKNOWN_SERVER_ERROR;
    }
    memcpy(sorted, ids, sizeof *sorted * (size_t)n);
    qsort(sorted, (size_t)n, sizeof *sorted, cmp_i32);
    int16_t err = KP_ERR_NONE;
    for (int32_t i = 0; i < n && err == KP_ERR_NONE; i++) {
        if (sorted[i] != b->cfg->node_id) {
            snprintf(msg, msglen,
                     "The manual partition assignment includes broker %d, but no such broker is "
                     "registered.",
                     (int)sorted[i]);
            err = KP_ERR_INVALID_REPLICA_ASSIGNMENT;
        } else if (i > 0 && sorted[i] == sorted[i - 1]) {
            snprintf(msg, msglen,
                     "The manual partition assignment includes the broker %d more than once.",
                     (int)sorted[i]);
            err = KP_ERR_INVALID_REPLICA_ASSIGNMENT;
        }
    }
    free(sorted);
    return err;
}

/* ---- CreateTopics ----------------------------------------------------- */

static int cmp_topic_cfg(const void *a, const void *b)
{
    const struct kp_CreateTopicsResponse_CreatableTopicConfigs *x = a, *y = b;
    return strcmp(x->Name.s, y->Name.s);
}

/* v5+: the effective configs of the (new) topic, sorted by name as Kafka's
 * controller returns them. */
static void fill_effective_configs(struct broker *b, struct request *rq,
                                   const struct kp_struct *cfg_desc, const struct kv *kvs,
                                   size_t nkv,
                                   struct kp_CreateTopicsResponse_CreatableTopicResult *out)
{
    size_t n = topic_config_count();
    out->Configs.items = rq_items(rq, cfg_desc, (int32_t)n);
    out->Configs.count = 0;
    if (!out->Configs.items)
        return;
    for (size_t i = 0; i < n; i++) {
        struct topic_config_entry e;
        if (topic_config_describe(b->cfg, kvs, nkv, i, &e) < 0)
            continue;
        struct kp_CreateTopicsResponse_CreatableTopicConfigs *c =
            &out->Configs.items[out->Configs.count++];
        c->Name = rq_str(rq, e.name);
        c->Value = rq_str(rq, e.is_sensitive ? NULL : e.value);
        c->ReadOnly = e.read_only;
        c->ConfigSource = (int8_t)e.source;
        c->IsSensitive = e.is_sensitive;
    }
    qsort(out->Configs.items, (size_t)out->Configs.count, sizeof *out->Configs.items,
          cmp_topic_cfg);
}

/* Everything but the name/duplicate checks, in Kafka's order.  On success
 * fills *nparts_out, *rf_out. */
static int16_t check_new_topic(struct broker *b, const struct kp_CreateTopicsRequest_CreatableTopic *t,
                               int32_t *nparts_out, int16_t *rf_out, char *msg, size_t msglen)
{
    const char *name = t->Name.s ? t->Name.s : "";
    int16_t err = broker_validate_topic_name(name, msg, msglen);
    if (err != KP_ERR_NONE)
        return err;
    if (broker_topic(b, name)) {
        snprintf(msg, msglen, "Topic '%s' already exists.", name);
        return KP_ERR_TOPIC_ALREADY_EXISTS;
    }
    if (strchr(name, '.') || strchr(name, '_')) {
        size_t it = 0;
        const char *other;
        void *v;
        while (strmap_next(&b->topics, &it, &other, &v)) {
            if (admin_topic_names_collide(name, other)) {
                snprintf(msg, msglen, "Topic '%s' collides with existing topic: %s", name, other);
                return KP_ERR_INVALID_TOPIC_EXCEPTION;
            }
        }
    }

    /* Null values first, all of them named, then each value. */
    size_t used = 0;
    for (int32_t i = 0; i < t->Configs.count; i++) {
        const struct kp_CreateTopicsRequest_CreatableTopicConfig *c = &t->Configs.items[i];
        if (c->Value.len >= 0)
            continue;
        if (used == 0)
            used = (size_t)snprintf(msg, msglen, "Null value not supported for topic configs: %s",
                                    c->Name.s ? c->Name.s : "");
        else if (used < msglen)
            used += (size_t)snprintf(msg + used, msglen - used, ",%s", c->Name.s ? c->Name.s : "");
    }
    if (used)
        return KP_ERR_INVALID_CONFIG;
    for (int32_t i = 0; i < t->Configs.count; i++) {
        const struct kp_CreateTopicsRequest_CreatableTopicConfig *c = &t->Configs.items[i];
        if (topic_config_validate(c->Name.s ? c->Name.s : "", c->Value.s, msg, msglen) != 0)
            return KP_ERR_INVALID_CONFIG;
    }

    if (t->Assignments.count > 0) {
        if (t->ReplicationFactor != -1) {
            snprintf(msg, msglen,
                     "A manual partition assignment was specified, but replication factor was "
                     "not set to -1.");
            return KP_ERR_INVALID_REQUEST;
        }
        if (t->NumPartitions != -1) {
            snprintf(msg, msglen,
                     "A manual partition assignment was specified, but numPartitions was not set "
                     "to -1.");
            return KP_ERR_INVALID_REQUEST;
        }
        int32_t n = t->Assignments.count;
        for (int32_t i = 0; i < n; i++) {
            const struct kp_CreateTopicsRequest_CreatableReplicaAssignment *a =
                &t->Assignments.items[i];
            for (int32_t j = 0; j < i; j++)
                if (t->Assignments.items[j].PartitionIndex == a->PartitionIndex) {
                    snprintf(msg, msglen,
                             "Found multiple manual partition assignments for partition %d",
                             (int)a->PartitionIndex);
                    return KP_ERR_INVALID_REPLICA_ASSIGNMENT;
                }
            err = check_replica_list(b, a->BrokerIds.items, a->BrokerIds.count, msg, msglen);
            if (err != KP_ERR_NONE)
                return err;
        }
        /* Distinct indexes all in [0, n) means a consecutive 0-based run. */
        for (int32_t i = 0; i < n; i++) {
            int32_t p = t->Assignments.items[i].PartitionIndex;
            if (p < 0 || p >= n) {
                snprintf(msg, msglen, "partitions should be a consecutive 0-based integer sequence");
                return KP_ERR_INVALID_REPLICA_ASSIGNMENT;
            }
        }
        if (n > ADMIN_MAX_PARTITIONS) {
            snprintf(msg, msglen, "Cannot create more than %d partitions in one request.",
                     ADMIN_MAX_PARTITIONS);
            return KP_ERR_INVALID_PARTITIONS;
        }
        *nparts_out = n;
        *rf_out = 1;
        return KP_ERR_NONE;
    }
    if (t->ReplicationFactor < -1 || t->ReplicationFactor == 0) {
        snprintf(msg, msglen,
                 "Replication factor must be larger than 0, or -1 to use the default value.");
        return KP_ERR_INVALID_REPLICATION_FACTOR;
    }
    if (t->NumPartitions < -1 || t->NumPartitions == 0) {
        snprintf(msg, msglen, "Number of partitions was set to an invalid non-positive value.");
        return KP_ERR_INVALID_PARTITIONS;
    }
    int32_t nparts = t->NumPartitions == -1 ? b->cfg->num_partitions : t->NumPartitions;
    int32_t rf = t->ReplicationFactor == -1 ? b->cfg->default_replication_factor
                                            : t->ReplicationFactor;
    if (rf > 1) {
        snprintf(msg, msglen,
                 "Unable to replicate the partition %d time(s): The target replication factor "
                 "of %d cannot be reached because only 1 broker(s) are registered.",
                 (int)rf, (int)rf);
        return KP_ERR_INVALID_REPLICATION_FACTOR;
    }
    if (nparts <= 0) {
        snprintf(msg, msglen, "Number of partitions was set to an invalid non-positive value.");
        return KP_ERR_INVALID_PARTITIONS;
    }
    if (nparts > ADMIN_MAX_PARTITIONS) {
        snprintf(msg, msglen, "Cannot create more than %d partitions in one request.",
                 ADMIN_MAX_PARTITIONS);
        return KP_ERR_INVALID_PARTITIONS;
    }
    *nparts_out = nparts;
    *rf_out = (int16_t)rf;
    return KP_ERR_NONE;
}

void handle_create_topics(struct broker *b, struct request *rq)
{
    const struct kp_CreateTopicsRequest *req = rq->body;
    const int16_t ver = rq->hdr.ApiVersion;
    const struct kp_message *rm = kp_response_message(KP_API_CREATE_TOPICS);
    const struct kp_struct *res_desc = kp_sub(rm->body, "Topics");
    const struct kp_struct *cfg_desc = kp_sub(res_desc, "Configs");
    struct kp_CreateTopicsResponse resp;
    memset(&resp, 0, sizeof resp);
    kp_struct_defaults(rm->body, &resp);

    int32_t n = req->Topics.count > 0 ? req->Topics.count : 0;
    resp.Topics.items = rq_items(rq, res_desc, n);
    resp.Topics.count = 0;
    bool created = false;
    for (int32_t i = 0; i < n; i++) {
        const struct kp_CreateTopicsRequest_CreatableTopic *t = &req->Topics.items[i];
        bool seen = false, dup = false;
        for (int32_t j = 0; j < n && !seen; j++)
            if (j != i && kp_str_eq(&req->Topics.items[j].Name, &t->Name)) {
                dup = true;
                seen = j < i;
            }
        if (seen)
            continue; /* one result per name, at its first occurrence */
        struct kp_CreateTopicsResponse_CreatableTopicResult *out =
            &resp.Topics.items[resp.Topics.count++];
        out->Name = t->Name.len >= 0 ? t->Name : rq_str(rq, "");
        out->ErrorMessage = rq_str(rq, NULL);
        if (dup) {
            /* ControllerApis drops every copy of a repeated name. */
            out->ErrorCode = KP_ERR_INVALID_REQUEST;
            out->ErrorMessage = rq_str(rq, "Duplicate topic name.");
            continue;
        }
        /* CREATE on the cluster or on the topic (KafkaApis). */
        if (!authz_cluster(rq, SLUICE_ACL_OP_CREATE) &&
            !authz_allowed(rq, SLUICE_ACL_OP_CREATE, SLUICE_RES_TOPIC, out->Name.s)) {
            out->ErrorCode = KP_ERR_TOPIC_AUTHORIZATION_FAILED;
            out->ErrorMessage = rq_str(rq, "Authorization failed.");
            continue;
        }
        char msg[512] = "";
        int32_t nparts = 0;
        int16_t rf = 0;
        int16_t err = check_new_topic(b, t, &nparts, &rf, msg, sizeof msg);

        /* Later duplicates of a config key win, as in a Java map. */
        struct kv *kvs = rq_alloc(rq, sizeof *kvs, t->Configs.count);
        size_t nkv = 0;
        struct meta_configs mc = { 0 };
        for (int32_t c = 0; err == KP_ERR_NONE && c < t->Configs.count; c++) {
            const struct kp_CreateTopicsRequest_CreatableTopicConfig *cf = &t->Configs.items[c];
            kvs[nkv].key = cf->Name.s ? cf->Name.s : "";
            kvs[nkv].value = cf->Value.s;
            nkv++;
            if (meta_configs_set(&mc, cf->Name.s ? cf->Name.s : "", cf->Value.s) < 0) {
                err = KP_ERR_UNKNOWN_SERVER_ERROR;
                snprintf(msg, sizeof msg, "Out of memory.");
            }
        }
        if (err == KP_ERR_NONE) {
            err = broker_create_topic(b, out->Name.s, nparts, rf, &mc, req->validateOnly, msg,
                                      sizeof msg);
            if (err == KP_ERR_NONE && !req->validateOnly)
                created = true;
        }
        meta_configs_free(&mc);
        if (err != KP_ERR_NONE) {
            out->ErrorCode = err;
            out->ErrorMessage = rq_str(rq, msg[0] ? msg : NULL);
            slog(b->log, SLOG_INFO, "admin", "CreateTopics %s: %s (%s)", out->Name.s,
                 kp_error_name(err), msg);
            continue;
        }
        out->ErrorCode = KP_ERR_NONE;
        if (!req->validateOnly) {
            struct broker_topic *bt = broker_topic(b, out->Name.s);
            if (bt) {
                memcpy(out->TopicId.b, bt->id.b, sizeof out->TopicId.b);
                nparts = bt->nparts;
            }
            slog(b->log, SLOG_INFO, "admin", "created topic %s with %d partition(s)",
                 out->Name.s, (int)nparts);
        }
        /* ReplicationControlManager: a creator that may not DESCRIBE_CONFIGS
         * the topic gets neither its configs nor its partition count. */
        if (ver >= 5 && !authz_allowed(rq, SLUICE_ACL_OP_DESCRIBE_CONFIGS, SLUICE_RES_TOPIC,
                                       out->Name.s)) {
            out->NumPartitions = -1;
            out->ReplicationFactor = -1;
            out->TopicConfigErrorCode = KP_ERR_TOPIC_AUTHORIZATION_FAILED;
        } else if (ver >= 5) {
            out->NumPartitions = nparts;
            out->ReplicationFactor = rf;
            out->TopicConfigErrorCode = KP_ERR_NONE;
            fill_effective_configs(b, rq, cfg_desc, kvs, nkv, out);
        }
    }
    if (created)
        rq_respond_after_meta_sync(rq, &resp);
    else
        rq_respond(rq, &resp);
}

/* ---- DeleteTopics ----------------------------------------------------- */

static bool uuid_is_zero(const struct kp_uuid *u)
{
    for (int i = 0; i < 16; i++)
        if (u->b[i])
            return false;
    return true;
}

/* One requested deletion, by name or (v6) by id. */
struct del_item {
    struct kp_str name; /* len -1: by id */
    struct kp_uuid id;
    int16_t err;        /* set by the shape checks */
    const char *msg;
    bool skip;          /* a later copy of a duplicate */
};

void handle_delete_topics(struct broker *b, struct request *rq)
{
    const struct kp_DeleteTopicsRequest *req = rq->body;
    const int16_t ver = rq->hdr.ApiVersion;
    const struct kp_message *rm = kp_response_message(KP_API_DELETE_TOPICS);
    struct kp_DeleteTopicsResponse resp;
    memset(&resp, 0, sizeof resp);
    kp_struct_defaults(rm->body, &resp);

    int32_t n = ver >= 6 ? req->Topics.count : req->TopicNames.count;
    if (n < 0)
        n = 0;
    struct del_item *items = rq_alloc(rq, sizeof *items, n);
    for (int32_t i = 0; i < n; i++) {
        if (ver >= 6) {
            items[i].name = req->Topics.items[i].Name;
            items[i].id = req->Topics.items[i].TopicId;
            bool has_id = !uuid_is_zero(&items[i].id);
            if (items[i].name.len < 0 && !has_id) {
                items[i].err = KP_ERR_INVALID_REQUEST;
                items[i].msg = "Neither topic name nor id were specified.";
            } else if (items[i].name.len >= 0 && has_id) {
                items[i].err = KP_ERR_INVALID_REQUEST;
                items[i].msg = "You may not specify both topic name and topic id.";
            }
        } else {
            items[i].name = req->TopicNames.items[i];
            if (items[i].name.len < 0)
                items[i].name = rq_str(rq, "");
        }
    }
    /* Duplicates: one INVALID_REQUEST result per repeated name or id. */
    for (int32_t i = 0; i < n; i++) {
        if (items[i].err || items[i].skip)
            continue;
        bool by_name = items[i].name.len >= 0;
        for (int32_t j = i + 1; j < n; j++) {
            if (items[j].err)
                continue;
            bool same = by_name ? items[j].name.len >= 0 && kp_str_eq(&items[j].name, &items[i].name)
                                : items[j].name.len < 0 &&
                                      memcmp(items[j].id.b, items[i].id.b, 16) == 0;
            if (same) {
                items[j].skip = true;
                items[i].err = KP_ERR_INVALID_REQUEST;
                items[i].msg = by_name ? "Duplicate topic name." : "Duplicate topic id.";
            }
        }
    }

    resp.Responses.items = rq_items(rq, kp_sub(rm->body, "Responses"), n);
    resp.Responses.count = 0;
    bool deleted = false;
    for (int32_t i = 0; i < n; i++) {
        struct del_item *it = &items[i];
        if (it->skip)
            continue;
        struct kp_DeleteTopicsResponse_DeletableTopicResult *out =
            &resp.Responses.items[resp.Responses.count++];
        out->Name = it->name;
        out->TopicId = it->id;
        out->ErrorMessage = rq_str(rq, NULL);
        if (it->err) {
            out->ErrorCode = it->err;
            out->ErrorMessage = rq_str(rq, it->msg);
            continue;
        }
        if (!b->cfg->delete_topic_enable) {
            /* Kafka answers INVALID_REQUEST to clients too old to know
             * TOPIC_DELETION_DISABLED (v0-2). */
            out->ErrorCode = ver < 3 ? KP_ERR_INVALID_REQUEST : KP_ERR_TOPIC_DELETION_DISABLED;
            out->ErrorMessage = rq_str(rq, "Topic deletion is disabled.");
            continue;
        }
        struct broker_topic *t;
        if (it->name.len >= 0) {
            if (strcmp(it->name.s, "__cluster_metadata") == 0) {
                out->ErrorCode = KP_ERR_INVALID_TOPIC_EXCEPTION;
                out->ErrorMessage =
                    rq_str(rq, "The metadata topic __cluster_metadata cannot be deleted.");
                continue;
            }
            /* KafkaApis: without DESCRIBE the name's existence stays
             * hidden (TOPIC_AUTHORIZATION_FAILED before UNKNOWN_TOPIC). */
            if (!authz_allowed(rq, SLUICE_ACL_OP_DESCRIBE, SLUICE_RES_TOPIC, it->name.s)) {
                out->ErrorCode = KP_ERR_TOPIC_AUTHORIZATION_FAILED;
                out->ErrorMessage = rq_str(rq, "Authorization failed.");
                continue;
            }
            t = broker_topic(b, it->name.s);
            if (!t) {
                out->ErrorCode = KP_ERR_UNKNOWN_TOPIC_OR_PARTITION;
                continue;
            }
        } else {
            t = broker_topic_by_id(b, &it->id);
            if (!t) {
                out->ErrorCode = KP_ERR_UNKNOWN_TOPIC_ID;
                continue;
            }
        }
        /* DELETE on the topic, once it is known to exist. */
        if (!authz_allowed(rq, SLUICE_ACL_OP_DELETE, SLUICE_RES_TOPIC, t->name)) {
            out->ErrorCode = KP_ERR_TOPIC_AUTHORIZATION_FAILED;
            out->ErrorMessage = rq_str(rq, "Authorization failed.");
            continue;
        }
        /* The topic (and its name) is freed by the deletion. */
        out->Name = rq_str(rq, t->name);
        memcpy(out->TopicId.b, t->id.b, 16);
        char msg[256] = "";
        int16_t err = broker_delete_topic(b, out->Name.s, msg, sizeof msg);
        out->ErrorCode = err;
        if (err != KP_ERR_NONE) {
            out->ErrorMessage = rq_str(rq, msg[0] ? msg : NULL);
            slog(b->log, SLOG_WARN, "admin", "DeleteTopics %s: %s (%s)", out->Name.s,
                 kp_error_name(err), msg);
        } else {
            deleted = true;
            slog(b->log, SLOG_INFO, "admin", "deleted topic %s", out->Name.s);
        }
    }
    if (deleted)
        rq_respond_after_meta_sync(rq, &resp);
    else
        rq_respond(rq, &resp);
}

/* ---- CreatePartitions ------------------------------------------------- */

static int16_t check_new_partitions(struct broker *b,
                                    const struct kp_CreatePartitionsRequest_CreatePartitionsTopic *t,
                                    char *msg, size_t msglen)
{
    const char *name = t->Name.s ? t->Name.s : "";
    struct broker_topic *bt = broker_topic(b, name);
    if (!bt)
        return KP_ERR_UNKNOWN_TOPIC_OR_PARTITION;
    if (t->Count == bt->nparts) {
        snprintf(msg, msglen, "Topic already has %d partition(s).", (int)bt->nparts);
        return KP_ERR_INVALID_PARTITIONS;
    }
    if (t->Count < bt->nparts) {
        snprintf(msg, msglen, "The topic %s currently has %d partition(s); %d would not be an increase.",
                 name, (int)bt->nparts, (int)t->Count);
        return KP_ERR_INVALID_PARTITIONS;
    }
    int32_t additional = t->Count - bt->nparts;
    if (t->Assignments.count >= 0) {
        if (t->Assignments.count != additional) {
            snprintf(msg, msglen,
                     "Attempted to add %d additional partition(s), but only %d assignment(s) "
                     "were specified.",
                     (int)additional, (int)t->Assignments.count);
            return KP_ERR_INVALID_REPLICA_ASSIGNMENT;
        }
        for (int32_t i = 0; i < t->Assignments.count; i++) {
            const struct kp_CreatePartitionsRequest_CreatePartitionsAssignment *a =
                &t->Assignments.items[i];
            int16_t err =
                check_replica_list(b, a->BrokerIds.items, a->BrokerIds.count, msg, msglen);
            if (err != KP_ERR_NONE)
                return err;
        }
    }
    if (additional > ADMIN_MAX_PARTITIONS) {
        snprintf(msg, msglen, "Cannot create more than %d partitions in one request.",
                 ADMIN_MAX_PARTITIONS);
        return KP_ERR_INVALID_PARTITIONS;
    }
    return KP_ERR_NONE;
}

void handle_create_partitions(struct broker *b, struct request *rq)
{
    const struct kp_CreatePartitionsRequest *req = rq->body;
    const struct kp_message *rm = kp_response_message(KP_API_CREATE_PARTITIONS);
    struct kp_CreatePartitionsResponse resp;
    memset(&resp, 0, sizeof resp);
    kp_struct_defaults(rm->body, &resp);

    int32_t n = req->Topics.count > 0 ? req->Topics.count : 0;
    resp.Results.items = rq_items(rq, kp_sub(rm->body, "Results"), n);
    resp.Results.count = 0;
    bool changed = false;
    for (int32_t i = 0; i < n; i++) {
        const struct kp_CreatePartitionsRequest_CreatePartitionsTopic *t = &req->Topics.items[i];
        bool seen = false, dup = false;
        for (int32_t j = 0; j < n && !seen; j++)
            if (j != i && kp_str_eq(&req->Topics.items[j].Name, &t->Name)) {
                dup = true;
                seen = j < i;
            }
        if (seen)
            continue;
        struct kp_CreatePartitionsResponse_CreatePartitionsTopicResult *out =
            &resp.Results.items[resp.Results.count++];
        out->Name = t->Name.len >= 0 ? t->Name : rq_str(rq, "");
        out->ErrorMessage = rq_str(rq, NULL);
        if (dup) {
            out->ErrorCode = KP_ERR_INVALID_REQUEST;
            out->ErrorMessage = rq_str(rq, "Duplicate topic name.");
            continue;
        }
        if (!authz_allowed(rq, SLUICE_ACL_OP_ALTER, SLUICE_RES_TOPIC, out->Name.s)) {
            out->ErrorCode = KP_ERR_TOPIC_AUTHORIZATION_FAILED;
            out->ErrorMessage = rq_str(rq, "Authorization failed.");
            continue;
        }
        char msg[512] = "";
        int16_t err = check_new_partitions(b, t, msg, sizeof msg);
        if (err == KP_ERR_NONE)
            err = broker_create_partitions(b, out->Name.s, t->Count, req->ValidateOnly, msg,
                                           sizeof msg);
        out->ErrorCode = err;
        if (err != KP_ERR_NONE) {
            out->ErrorMessage = rq_str(rq, msg[0] ? msg : NULL);
            slog(b->log, SLOG_INFO, "admin", "CreatePartitions %s: %s (%s)", out->Name.s,
                 kp_error_name(err), msg);
        } else if (!req->ValidateOnly) {
            changed = true;
            slog(b->log, SLOG_INFO, "admin", "topic %s now has %d partition(s)", out->Name.s,
                 (int)t->Count);
        }
    }
    if (changed)
        rq_respond_after_meta_sync(rq, &resp);
    else
        rq_respond(rq, &resp);
}
