/* Topics: the data-plane view of the metadata image.  Every change goes
 * through the metadata store first (records appended, then applied), and
 * the partition logs follow the image. */
#include "broker/broker.h"
#include "group/coordinator.h"
#include "broker/log_dirs.h"
#include "broker/log_mover.h"
#include "storage/log_cleaner.h"
#include "storage/partition_log.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

struct broker_topic *broker_topic(struct broker *b, const char *name)
{
    return name ? strmap_get(&b->topics, name) : NULL;
}

struct broker_topic *broker_topic_by_id(struct broker *b, const struct kp_uuid *id)
{
    size_t it = 0;
    void *v;
    while (strmap_next(&b->topics, &it, NULL, &v)) {
        struct broker_topic *t = v;
        if (memcmp(t->id.b, id->b, 16) == 0)
            return t;
    }
    return NULL;
}

struct partition_log *broker_partition(struct broker *b, const char *topic, int32_t partition,
                                       int16_t *err)
{
    struct broker_topic *t = broker_topic(b, topic);
    if (!t || partition < 0 || partition >= t->nparts) {
        *err = KP_ERR_UNKNOWN_TOPIC_OR_PARTITION;
        return NULL;
    }
    if (!t->logs[partition]) {
        /* Moving between log directories is a brief, retriable state; a
         * failed directory is Kafka's offline replica. */
        *err = t->replicas[partition].moving ? KP_ERR_NOT_LEADER_OR_FOLLOWER
                                             : KP_ERR_KAFKA_STORAGE_ERROR;
        return NULL;
    }
    return t->logs[partition];
}

int16_t broker_validate_topic_name(const char *name, char *errmsg, size_t errlen)
{
    size_t n = name ? strlen(name) : 0;
    if (n == 0) {
        snprintf(errmsg, errlen, "Topic name is illegal, it can't be empty");
        return KP_ERR_INVALID_TOPIC_EXCEPTION;
    }
    if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0) {
        snprintf(errmsg, errlen, "Topic name cannot be \".\" or \"..\"");
        return KP_ERR_INVALID_TOPIC_EXCEPTION;
    }
    if (n > 249) {
        snprintf(errmsg, errlen, "Topic name is illegal, it can't be longer than 249 characters");
        return KP_ERR_INVALID_TOPIC_EXCEPTION;
    }
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-')) {
            snprintf(errmsg, errlen,
                     "Topic name \"%s\" is illegal, it contains a character other than ASCII "
                     "alphanumerics, '.', '_' and '-'",
                     name);
            return KP_ERR_INVALID_TOPIC_EXCEPTION;
        }
    }
    return KP_ERR_NONE;
}

static size_t overrides_kv(const struct meta_configs *c, struct kv *out, size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; c && i < c->n && n < cap; i++, n++) {
        out[n].key = c->v[i].name;
        out[n].value = c->v[i].value;
    }
    return n;
}

static void plog_config_from(const struct topic_config *tc, struct plog_config *pc)
{
    plog_config_default(pc);
    pc->segment_bytes = tc->segment_bytes;
    pc->segment_ms = tc->segment_ms;
    pc->segment_jitter_ms = tc->segment_jitter_ms;
    pc->segment_index_bytes = tc->segment_index_bytes;
    pc->index_interval_bytes = tc->index_interval_bytes;
    /* Applied only when cleanup_policy includes delete (plog_maintain). */
    pc->retention_ms = tc->retention_ms;
    pc->retention_bytes = tc->retention_bytes;
    pc->flush_interval_messages = tc->flush_messages;
    pc->flush_interval_ms = tc->flush_ms;
    pc->max_message_bytes = tc->max_message_bytes;
    pc->file_delete_delay_ms = tc->file_delete_delay_ms;
    pc->timestamp_type = tc->message_timestamp_type;
    pc->message_timestamp_before_max_ms = tc->message_timestamp_before_max_ms;
    pc->message_timestamp_after_max_ms = tc->message_timestamp_after_max_ms;
    pc->cleanup_policy = tc->cleanup_policy;
    pc->min_cleanable_dirty_ratio = tc->min_cleanable_dirty_ratio;
    pc->min_compaction_lag_ms = tc->min_compaction_lag_ms;
    pc->max_compaction_lag_ms = tc->max_compaction_lag_ms;
    pc->delete_retention_ms = tc->delete_retention_ms;
}

void broker_topic_plog_config(const struct broker_topic *t, struct plog_config *pc)
{
    plog_config_from(&t->cfg, pc);
}

static int resolve_config(struct broker *b, const struct meta_configs *overrides,
                          struct topic_config *out, char *err, size_t errlen)
{
    struct kv kv[128];
    size_t n = overrides_kv(overrides, kv, 128);
    return topic_config_resolve(b->cfg, kv, n, out, err, errlen);
}

/* is_new: the partition is being created now, so it may go to any online
 * directory; otherwise it must be found where it is (log_dirs_locate). */
static int open_partition(struct broker *b, struct broker_topic *t, int32_t p, bool is_new)
{
    char dir[PATH_MAX], err[256];
    struct plog_config pc;
    int d = log_dirs_locate(b, t->name, p, is_new);
    t->replicas[p].dir = (int16_t)d;
    t->replicas[p].moving = false;
    if (d < 0) {
        slog(b->log, SLOG_WARN, "topics", "%s-%d: no online log directory holds it (partition offline)",
             t->name, p);
        return -1;
    }
    snprintf(dir, sizeof dir, "%s/%s-%d", b->dirs->v[d].path, t->name, p);
    plog_config_from(&t->cfg, &pc);
    errno = 0;
    t->logs[p] = plog_open(dir, &pc, b->flusher, broker_now_ms(b), err, sizeof err);
    if (!t->logs[p]) {
        char tp[300];
        snprintf(tp, sizeof tp, "%s-%d (%s)", t->name, p, err);
        log_dirs_report_failure(b, d, errno ? errno : EIO, "opening the log of", tp);
        return -1;
    }
    plog_set_io_error_cb(t->logs[p], log_dirs_io_error, b);
    if (b->cleaner && log_cleaner_add(b->cleaner, t->logs[p], t->name, p) < 0)
        slog(b->log, SLOG_WARN, "topics", "%s-%d: not registered with the log cleaner",
             t->name, p);
    return 0;
}

static int grow_logs(struct broker_topic *t, int32_t nparts)
{
    struct partition_log **nl = realloc(t->logs, (size_t)nparts * sizeof *nl);
    if (!nl)
        return -1;
    memset(nl + t->nparts, 0, (size_t)(nparts - t->nparts) * sizeof *nl);
    t->logs = nl;
    struct broker_replica *nr = realloc(t->replicas, (size_t)nparts * sizeof *nr);
    if (!nr)
        return -1;
    for (int32_t p = t->nparts; p < nparts; p++)
        nr[p] = (struct broker_replica){ -1, false };
    t->replicas = nr;
    return 0;
}

/* Bring the data plane in line with one image topic (start-up, creation). */
static struct broker_topic *topic_attach(struct broker *b, const struct meta_topic *mt, bool is_new)
{
    struct broker_topic *t = calloc(1, sizeof *t);
    char err[256];
    if (!t || !(t->name = strdup(mt->name))) {
        free(t);
        return NULL;
    }
    memcpy(t->id.b, mt->id.b, 16);
    if (resolve_config(b, &mt->configs, &t->cfg, err, sizeof err) < 0) {
        slog(b->log, SLOG_WARN, "topics", "%s: stored config invalid (%s): using defaults",
             mt->name, err);
        resolve_config(b, NULL, &t->cfg, err, sizeof err);
    }
    if (grow_logs(t, mt->nparts) < 0) {
        free(t->logs);
        free(t->replicas);
        free(t->name);
        free(t);
        return NULL;
    }
    t->nparts = mt->nparts;
    /* In the map first, so placement counts this topic's earlier partitions. */
    strmap_put(&b->topics, t->name, t);
    for (int32_t p = 0; p < mt->nparts; p++)
        open_partition(b, t, p, is_new);
    return t;
}

static void topic_detach(struct broker *b, struct broker_topic *t, bool delete_data)
{
    log_mover_forget_topic(b->mover, t, delete_data);
    strmap_del(&b->topics, t->name);
    for (int32_t p = 0; p < t->nparts; p++) {
        if (!t->logs[p])
            continue;
        log_cleaner_remove(b->cleaner, t->logs[p], delete_data);
        if (delete_data)
            plog_delete(t->logs[p]);
        else
            plog_close(t->logs[p]);
    }
    free(t->logs);
    free(t->replicas);
    free(t->name);
    free(t);
}

int broker_load_topics(struct broker *b)
{
    struct meta_image *img = meta_store_image(b->meta);
    size_t it = 0;
    struct meta_topic *mt;
    while ((mt = meta_image_next_topic(img, &it)))
        if (!topic_attach(b, mt, false))
            return -1;
    return 0;
}

void broker_close_topics(struct broker *b)
{
    struct broker_topic *t;
    size_t it = 0;
    void *v;
    while (b->topics.count) {
        it = 0;
        if (!strmap_next(&b->topics, &it, NULL, &v))
            break;
        t = v;
        topic_detach(b, t, false);
    }
    strmap_free(&b->topics);
}

static struct kp_PartitionRecord partition_record(struct broker *b, const struct meta_uuid *id,
                                                  int32_t p, int32_t *self)
{
    struct kp_PartitionRecord pr;
    memset(&pr, 0, sizeof pr);
    kp_struct_defaults(kp_metadata_record(META_REC_PARTITION)->body, &pr);
    pr.PartitionId = p;
    memcpy(pr.TopicId.b, id->b, 16);
    *self = b->cfg->node_id;
    pr.Replicas.items = self;
    pr.Replicas.count = 1;
    pr.Isr.items = self;
    pr.Isr.count = 1;
    pr.Leader = b->cfg->node_id;
    pr.LeaderEpoch = 0;
    pr.PartitionEpoch = 0;
    return pr;
}

static struct kp_str cstr(const char *s)
{
    struct kp_str k = { s, s ? (int32_t)strlen(s) : -1 };
    return k;
}

int16_t broker_create_topic(struct broker *b, const char *name, int32_t nparts,
                            int16_t replication_factor, const struct meta_configs *configs,
                            bool validate_only, char *errmsg, size_t errlen)
{
    int16_t ec = broker_validate_topic_name(name, errmsg, errlen);
    if (ec)
        return ec;
    if (broker_topic(b, name)) {
        snprintf(errmsg, errlen, "Topic '%s' already exists.", name);
        return KP_ERR_TOPIC_ALREADY_EXISTS;
    }
    if (log_mover_has_topic(b->mover, name)) {
        /* A deleted topic's log is still being switched between log
         * directories; its directory name is not free yet. */
        snprintf(errmsg, errlen, "Topic '%s' is marked for deletion.", name);
        return KP_ERR_TOPIC_ALREADY_EXISTS;
    }
    if (nparts == -1)
        nparts = b->cfg->num_partitions;
    if (replication_factor == -1)
        replication_factor = (int16_t)b->cfg->default_replication_factor;
    if (nparts <= 0) {
        snprintf(errmsg, errlen, "Number of partitions must be larger than 0.");
        return KP_ERR_INVALID_PARTITIONS;
    }
    if (replication_factor != 1) {
        snprintf(errmsg, errlen,
                 replication_factor <= 0
                     ? "Replication factor must be larger than 0."
                     : "Unable to replicate the partition %d time(s): The target replication "
                       "factor of %d cannot be reached because only 1 broker(s) are registered.",
                 replication_factor, replication_factor);
        return KP_ERR_INVALID_REPLICATION_FACTOR;
    }
    struct topic_config tc;
    if (resolve_config(b, configs, &tc, errmsg, errlen) < 0)
        return KP_ERR_INVALID_CONFIG;
    for (size_t i = 0; configs && i < configs->n; i++)
        if (topic_config_validate(configs->v[i].name, configs->v[i].value, errmsg, errlen))
            return KP_ERR_INVALID_CONFIG;
    if (validate_only)
        return KP_ERR_NONE;

    size_t nrec = 1 + (size_t)nparts + (configs ? configs->n : 0);
    struct meta_record *recs = calloc(nrec, sizeof *recs);
    struct kp_PartitionRecord *prs = calloc((size_t)nparts, sizeof *prs);
    struct kp_ConfigRecord *crs = calloc(configs && configs->n ? configs->n : 1, sizeof *crs);
    int32_t self = b->cfg->node_id;
    if (!recs || !prs || !crs) {
        free(recs);
        free(prs);
        free(crs);
        snprintf(errmsg, errlen, "out of memory");
        return KP_ERR_UNKNOWN_SERVER_ERROR;
    }
    struct meta_uuid id;
    meta_uuid_random(&id);
    struct kp_TopicRecord tr;
    memset(&tr, 0, sizeof tr);
    tr.Name = cstr(name);
    memcpy(tr.TopicId.b, id.b, 16);
    size_t k = 0;
    recs[k++] = (struct meta_record){ META_REC_TOPIC, 0, &tr };
    for (size_t i = 0; configs && i < configs->n; i++) {
        crs[i].ResourceType = META_RESOURCE_TOPIC;
        crs[i].ResourceName = cstr(name);
        crs[i].Name = cstr(configs->v[i].name);
        crs[i].Value = cstr(configs->v[i].value);
        recs[k++] = (struct meta_record){ META_REC_CONFIG, 0, &crs[i] };
    }
    for (int32_t p = 0; p < nparts; p++) {
        prs[p] = partition_record(b, &id, p, &self);
        recs[k++] = (struct meta_record){ META_REC_PARTITION, 0, &prs[p] };
    }
    int rc = meta_store_append(b->meta, recs, k, broker_now_ms(b), errmsg, errlen);
    free(recs);
    free(prs);
    free(crs);
    if (rc < 0)
        return KP_ERR_KAFKA_STORAGE_ERROR;
    struct meta_topic *mt = meta_image_topic(meta_store_image(b->meta), name);
    if (!mt || !topic_attach(b, mt, true)) {
        snprintf(errmsg, errlen, "topic created but its logs could not be opened");
        return KP_ERR_KAFKA_STORAGE_ERROR;
    }
    slog(b->log, SLOG_INFO, "topics", "created topic '%s' with %d partition(s)", name, nparts);
    return KP_ERR_NONE;
}

int16_t broker_delete_topic(struct broker *b, const char *name, char *errmsg, size_t errlen)
{
    struct broker_topic *t = broker_topic(b, name);
    if (!t) {
        snprintf(errmsg, errlen, "This server does not host this topic-partition.");
        return KP_ERR_UNKNOWN_TOPIC_OR_PARTITION;
    }
    struct kp_RemoveTopicRecord rr;
    memcpy(rr.TopicId.b, t->id.b, 16);
    struct meta_record rec = { META_REC_REMOVE_TOPIC, 0, &rr };
    if (meta_store_append(b->meta, &rec, 1, broker_now_ms(b), errmsg, errlen) < 0)
        return KP_ERR_KAFKA_STORAGE_ERROR;
    topic_detach(b, t, true);
    if (b->groups)
        gc_topic_deleted(b->groups, name);
    slog(b->log, SLOG_INFO, "topics", "deleted topic '%s'", name);
    return KP_ERR_NONE;
}

int16_t broker_create_partitions(struct broker *b, const char *name, int32_t count,
                                 bool validate_only, char *errmsg, size_t errlen)
{
    struct broker_topic *t = broker_topic(b, name);
    if (!t) {
        snprintf(errmsg, errlen, "The topic '%s' does not exist.", name);
        return KP_ERR_UNKNOWN_TOPIC_OR_PARTITION;
    }
    if (count < t->nparts) {
        snprintf(errmsg, errlen,
                 "Topic currently has %d partitions, which is higher than the requested %d.",
                 t->nparts, count);
        return KP_ERR_INVALID_PARTITIONS;
    }
    if (count == t->nparts) {
        snprintf(errmsg, errlen, "Topic already has %d partitions.", t->nparts);
        return KP_ERR_INVALID_PARTITIONS;
    }
    if (validate_only)
        return KP_ERR_NONE;
    int32_t add = count - t->nparts, self;
    struct meta_record *recs = calloc((size_t)add, sizeof *recs);
    struct kp_PartitionRecord *prs = calloc((size_t)add, sizeof *prs);
    if (!recs || !prs || grow_logs(t, count) < 0) {
        free(recs);
        free(prs);
        return KP_ERR_UNKNOWN_SERVER_ERROR;
    }
    for (int32_t i = 0; i < add; i++) {
        prs[i] = partition_record(b, &t->id, t->nparts + i, &self);
        recs[i] = (struct meta_record){ META_REC_PARTITION, 0, &prs[i] };
    }
    int rc = meta_store_append(b->meta, recs, (size_t)add, broker_now_ms(b), errmsg, errlen);
    free(recs);
    free(prs);
    if (rc < 0)
        return KP_ERR_KAFKA_STORAGE_ERROR;
    int32_t old = t->nparts;
    t->nparts = count;
    for (int32_t p = old; p < count; p++)
        open_partition(b, t, p, true);
    slog(b->log, SLOG_INFO, "topics", "topic '%s' now has %d partitions", name, count);
    return KP_ERR_NONE;
}

size_t broker_topic_overrides(struct broker *b, struct request *rq, const struct broker_topic *t,
                              struct kv **out)
{
    struct meta_topic *mt = meta_image_topic(meta_store_image(b->meta), t->name);
    size_t n = mt ? mt->configs.n : 0;
    *out = n ? rq_alloc(rq, sizeof **out, (int32_t)n) : NULL;
    return *out ? overrides_kv(&mt->configs, *out, n) : 0;
}

/* Writes the ConfigRecords that turn `current` into the requested state
 * (value NULL removes; replace_all also removes every override not
 * listed).  on_change, when set, sees each (name, value) written. */
static int16_t write_config_changes(struct broker *b, const struct meta_configs *current,
                                    const struct kv *set, size_t n, bool replace_all, int8_t rtype,
                                    const char *rname,
                                    void (*on_change)(struct broker *, const char *, const char *),
                                    char *errmsg, size_t errlen)
{
    size_t cap = n + (current ? current->n : 0) + 1, k = 0;
    struct kp_ConfigRecord *crs = calloc(cap, sizeof *crs);
    struct meta_record *recs = calloc(cap, sizeof *recs);
    if (!crs || !recs) {
        free(crs);
        free(recs);
        return KP_ERR_UNKNOWN_SERVER_ERROR;
    }
    /* Removed names are copied: they belong to the image's list, which
     * applying the records frees. */
    char **removed = calloc(current ? current->n + 1 : 1, sizeof *removed);
    size_t nremoved = 0;
    for (size_t i = 0; removed && replace_all && current && i < current->n; i++) {
        bool kept = false;
        for (size_t j = 0; j < n && !kept; j++)
            kept = set[j].value && strcmp(set[j].key, current->v[i].name) == 0;
        if (!kept && (removed[nremoved] = strdup(current->v[i].name)))
            crs[k++] = (struct kp_ConfigRecord){ rtype, cstr(rname), cstr(removed[nremoved++]),
                                                 cstr(NULL) };
    }
    for (size_t j = 0; j < n; j++)
        crs[k++] = (struct kp_ConfigRecord){ rtype, cstr(rname), cstr(set[j].key),
                                             cstr(set[j].value) };
    for (size_t i = 0; i < k; i++)
        recs[i] = (struct meta_record){ META_REC_CONFIG, 0, &crs[i] };
    int16_t ec = removed ? KP_ERR_NONE : KP_ERR_UNKNOWN_SERVER_ERROR;
    if (ec == KP_ERR_NONE && k &&
        meta_store_append(b->meta, recs, k, broker_now_ms(b), errmsg, errlen) < 0)
        ec = KP_ERR_KAFKA_STORAGE_ERROR;
    for (size_t i = 0; ec == KP_ERR_NONE && on_change && i < k; i++)
        on_change(b, crs[i].Name.s, crs[i].Value.s);
    for (size_t i = 0; i < nremoved; i++)
        free(removed[i]);
    free(removed);
    free(recs);
    free(crs);
    return ec;
}

int16_t broker_alter_topic_configs(struct broker *b, struct broker_topic *t, const struct kv *set,
                                   size_t n, bool replace_all, bool validate_only, char *errmsg,
                                   size_t errlen)
{
    for (size_t i = 0; i < n; i++) {
        if (set[i].value) {
            if (topic_config_validate(set[i].key, set[i].value, errmsg, errlen))
                return KP_ERR_INVALID_CONFIG;
        } else if (!topic_config_known(set[i].key)) {
            snprintf(errmsg, errlen, "Unknown topic config name: %s", set[i].key);
            return KP_ERR_INVALID_CONFIG;
        }
    }
    struct meta_topic *mt = meta_image_topic(meta_store_image(b->meta), t->name);
    /* Resolve the would-be config to catch cross-key conflicts before any
     * record is written. */
    struct meta_configs next = { 0 };
    if (!replace_all)
        for (size_t i = 0; mt && i < mt->configs.n; i++)
            meta_configs_set(&next, mt->configs.v[i].name, mt->configs.v[i].value);
    for (size_t i = 0; i < n; i++)
        meta_configs_set(&next, set[i].key, set[i].value);
    struct topic_config tc;
    int rc = resolve_config(b, &next, &tc, errmsg, errlen);
    meta_configs_free(&next);
    if (rc < 0)
        return KP_ERR_INVALID_CONFIG;
    if (validate_only)
        return KP_ERR_NONE;
    int16_t ec = write_config_changes(b, mt ? &mt->configs : NULL, set, n, replace_all,
                                      META_RESOURCE_TOPIC, t->name, NULL, errmsg, errlen);
    if (ec)
        return ec;
    broker_topic_reconfigure(b, t);
    return KP_ERR_NONE;
}

void broker_topic_reconfigure(struct broker *b, struct broker_topic *t)
{
    struct meta_topic *mt = meta_image_topic(meta_store_image(b->meta), t->name);
    char err[256];
    if (resolve_config(b, mt ? &mt->configs : NULL, &t->cfg, err, sizeof err) < 0) {
        slog(b->log, SLOG_WARN, "topics", "%s: config does not resolve: %s", t->name, err);
        return;
    }
    struct plog_config pc;
    plog_config_from(&t->cfg, &pc);
    for (int32_t p = 0; p < t->nparts; p++)
        if (t->logs[p])
            plog_set_config(t->logs[p], &pc);
    /* It may have just become compacted (or cleanable). */
    log_cleaner_wakeup(b->cleaner);
}

/* A persisted broker config change takes effect now (NULL value: back to
 * the static or default value). */
static void apply_broker_config(struct broker *b, const char *name, const char *value)
{
    char err[256];
    if (sluice_config_set(b->cfg, name, value, err, sizeof err) != 0)
        slog(b->log, SLOG_WARN, "config", "dynamic config %s not applied: %s", name, err);
    if (strcmp(name, "log.level") == 0)
        logger_set_level(b->log, b->cfg->log_level);
    if (strncmp(name, "log.cleaner.", 12) == 0)
        broker_cleaner_reconfigure(b);
}

int16_t broker_alter_broker_configs(struct broker *b, const struct kv *set, size_t n,
                                    bool replace_all, bool validate_only, char *errmsg,
                                    size_t errlen)
{
    /* Validate on a scratch copy of the config: sluice_config_set both
     * checks that the key is dynamic and parses the value. */
    for (size_t i = 0; i < n; i++) {
        struct sluice_config scratch;
        sluice_config_defaults(&scratch);
        int rc = sluice_config_set(&scratch, set[i].key, set[i].value, errmsg, errlen);
        sluice_config_free(&scratch);
        if (rc != 0)
            return (int16_t)rc;
    }
    if (validate_only)
        return KP_ERR_NONE;
    char node[16];
    snprintf(node, sizeof node, "%d", b->cfg->node_id);
    struct meta_image *img = meta_store_image(b->meta);
    int16_t ec = write_config_changes(b, &img->broker_configs, set, n, replace_all,
                                      META_RESOURCE_BROKER, node, apply_broker_config, errmsg,
                                      errlen);
    if (ec)
        return ec;
    /* Topic defaults may derive from what changed. */
    size_t it = 0;
    void *v;
    while (strmap_next(&b->topics, &it, NULL, &v))
        broker_topic_reconfigure(b, v);
    return KP_ERR_NONE;
}
