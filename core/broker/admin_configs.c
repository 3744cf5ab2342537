/* DescribeConfigs (key 32), AlterConfigs (key 33) and
 * IncrementalAlterConfigs (key 44) for TOPIC, BROKER and BROKER_LOGGER
 * resources.
 *
 * The rules follow Kafka's broker side (ConfigHelper.describeConfigs,
 * ConfigAdminManager.preprocess) and controller side
 * (ConfigurationControlManager), including their error messages, since
 * kafka-configs.sh and the AdminClients show them to users.
 *
 * BROKER resources: "" is Kafka's cluster-wide default and "<node.id>" this
 * broker.  A single-node cluster has no difference between the two, so both
 * alter the same dynamic broker configs; describing "" lists the dynamic
 * values only (as Kafka lists only the dynamic defaults for it), describing
 * "<node.id>" lists every broker config.
 *
 * BROKER_LOGGER: Sluice has one log level, shown as Kafka's "root"
 * logger, so kafka-configs.sh --entity-type broker-loggers works. */
#include "broker/admin_helpers.h"
#include "broker/authz.h"
#include "broker/broker.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ROOT_LOGGER "root"

static const char *resource_type_name(int8_t t)
{
    switch (t) {
    case 2: return "TOPIC";
    case 4: return "BROKER";
    case 8: return "BROKER_LOGGER";
    case 16: return "CLIENT_METRICS";
    case 32: return "GROUP";
    default: return "UNKNOWN";
    }
}

static bool str_is(const struct kp_str *s, const char *c)
{
    return s->len >= 0 && s->s && strcmp(s->s, c) == 0;
}

static const char *str_or_empty(const struct kp_str *s)
{
    return s->len > 0 && s->s ? s->s : "";
}

/* ---- DescribeConfigs -------------------------------------------------- */

struct describe_ctx {
    struct broker *b;
    struct request *rq;
    int16_t ver;
    bool synonyms, docs;
    const struct kp_DescribeConfigsRequest_DescribeConfigsResource *res;
    const struct kp_struct *entry_desc, *syn_desc;
    struct kp_DescribeConfigsResponse_DescribeConfigsResult *out;
};

/* ConfigurationKeys: null or empty means every key; unknown keys are
 * silently absent, as in Kafka. */
static bool wanted(const struct describe_ctx *d, const char *name)
{
    const struct kp_DescribeConfigsRequest_DescribeConfigsResource *r = d->res;
    if (r->ConfigurationKeys.count <= 0)
        return true;
    for (int32_t i = 0; i < r->ConfigurationKeys.count; i++)
        if (str_is(&r->ConfigurationKeys.items[i], name))
            return true;
    return false;
}

static struct kp_DescribeConfigsResponse_DescribeConfigsResourceResult *
add_entry(struct describe_ctx *d, const char *name, const char *value, int source,
          bool is_default, bool read_only, bool sensitive, int type, const char *doc)
{
    struct kp_DescribeConfigsResponse_DescribeConfigsResourceResult *e =
        &d->out->Configs.items[d->out->Configs.count++];
    e->Name = rq_str(d->rq, name);
    e->Value = rq_str(d->rq, sensitive ? NULL : value);
    e->ReadOnly = read_only;
    e->IsDefault = is_default;
    e->ConfigSource = (int8_t)source;
    e->IsSensitive = sensitive;
    e->ConfigType = (int8_t)type;
    e->Documentation = rq_str(d->rq, d->docs ? doc : NULL);
    e->Synonyms.count = 0;
    e->Synonyms.items = NULL;
    return e;
}

static void add_synonym(struct describe_ctx *d,
                        struct kp_DescribeConfigsResponse_DescribeConfigsResourceResult *e,
                        int cap, const char *name, const char *value, int source)
{
    if (e->Synonyms.count >= cap)
        return;
    struct kp_DescribeConfigsResponse_DescribeConfigsSynonym *s =
        &e->Synonyms.items[e->Synonyms.count++];
    s->Name = rq_str(d->rq, name);
    s->Value = rq_str(d->rq, value);
    s->Source = (int8_t)source;
}

static int16_t describe_topic(struct describe_ctx *d, char *msg, size_t msglen)
{
    const char *name = str_or_empty(&d->res->ResourceName);
    int16_t err = broker_validate_topic_name(name, msg, msglen);
    if (err != KP_ERR_NONE)
        return err;
    struct broker_topic *t = broker_topic(d->b, name);
    if (!t)
        return KP_ERR_UNKNOWN_TOPIC_OR_PARTITION;
    struct kv *ov = NULL;
    size_t nov = broker_topic_overrides(d->b, d->rq, t, &ov);
    size_t n = topic_config_count();
    d->out->Configs.items = rq_items(d->rq, d->entry_desc, (int32_t)n);
    for (size_t i = 0; i < n; i++) {
        struct topic_config_entry te;
        if (topic_config_describe(d->b->cfg, ov, nov, i, &te) < 0 || !wanted(d, te.name))
            continue;
        struct kp_DescribeConfigsResponse_DescribeConfigsResourceResult *e =
            add_entry(d, te.name, te.value, te.source, te.is_default, te.read_only,
                      te.is_sensitive, te.type, te.doc);
        if (!d->synonyms)
            continue;
        /* Kafka: the topic override first, then each broker key the
         * topic config defaults from, each with its own source. */
        int cap = 1 + (int)te.nsynonyms;
        e->Synonyms.items = rq_items(d->rq, d->syn_desc, cap);
        if (te.source == SLUICE_CS_DYNAMIC_TOPIC_CONFIG)
            add_synonym(d, e, cap, te.name, te.is_sensitive ? NULL : te.value,
                        SLUICE_CS_DYNAMIC_TOPIC_CONFIG);
        for (size_t k = 0; k < te.nsynonyms && k < 3; k++) {
            struct sluice_config_entry be;
            if (sluice_config_describe_key(d->b->cfg, te.synonyms[k], &be) < 0)
                continue;
            if (!be.value && !be.is_sensitive)
                continue; /* unset key without a default: Kafka lists nothing */
            add_synonym(d, e, cap, te.synonyms[k], be.value, be.source);
        }
    }
    return KP_ERR_NONE;
}

static int16_t describe_broker(struct describe_ctx *d, char *msg, size_t msglen)
{
    const char *name = str_or_empty(&d->res->ResourceName);
    bool defaults = name[0] == '\0';
    if (!defaults) {
        int32_t id;
        if (admin_parse_int32(name, &id) < 0) {
            snprintf(msg, msglen, "Broker id must be an integer, but it is: %s", name);
            return KP_ERR_INVALID_REQUEST;
        }
        if (id != d->b->cfg->node_id) {
            snprintf(msg, msglen,
                     "Unexpected broker id, expected %d or empty string, but received %s",
                     (int)d->b->cfg->node_id, name);
            return KP_ERR_INVALID_REQUEST;
        }
    }
    size_t n = sluice_config_count();
    d->out->Configs.items = rq_items(d->rq, d->entry_desc, (int32_t)n);
    for (size_t i = 0; i < n; i++) {
        struct sluice_config_entry ce;
        if (sluice_config_describe(d->b->cfg, i, &ce) < 0 || !wanted(d, ce.name))
            continue;
        int source = ce.source;
        if (defaults) {
            if (source != SLUICE_CS_DYNAMIC_BROKER_CONFIG &&
                source != SLUICE_CS_DYNAMIC_DEFAULT_BROKER_CONFIG)
                continue;
            source = SLUICE_CS_DYNAMIC_DEFAULT_BROKER_CONFIG;
        }
        struct kp_DescribeConfigsResponse_DescribeConfigsResourceResult *e =
            add_entry(d, ce.name, ce.value, source, ce.is_default, ce.read_only, ce.is_sensitive,
                      ce.type, ce.doc);
        if (d->synonyms && (ce.value || ce.is_sensitive)) {
            e->Synonyms.items = rq_items(d->rq, d->syn_desc, 1);
            add_synonym(d, e, 1, ce.name, ce.is_sensitive ? NULL : ce.value, source);
        }
    }
    return KP_ERR_NONE;
}

static int16_t check_node_id(const struct broker *b, const char *name, bool allow_empty,
                             char *msg, size_t msglen)
{
    if (name[0] == '\0') {
        if (allow_empty)
            return KP_ERR_NONE;
        snprintf(msg, msglen, "Broker id must not be empty");
        return KP_ERR_INVALID_REQUEST;
    }
    int32_t id;
    if (admin_parse_int32(name, &id) < 0) {
        snprintf(msg, msglen, "Node id must be an integer, but it is: %s", name);
        return KP_ERR_INVALID_REQUEST;
    }
    if (id != b->cfg->node_id) {
        snprintf(msg, msglen, "Unexpected broker id, expected %d, but received %s",
                 (int)b->cfg->node_id, name);
        return KP_ERR_INVALID_REQUEST;
    }
    return KP_ERR_NONE;
}

static int16_t describe_logger(struct describe_ctx *d, char *msg, size_t msglen)
{
    const char *name = str_or_empty(&d->res->ResourceName);
    if (name[0] == '\0') {
        snprintf(msg, msglen, "Broker id must not be empty");
        return KP_ERR_INVALID_REQUEST;
    }
    int32_t id;
    if (admin_parse_int32(name, &id) < 0) {
        snprintf(msg, msglen, "Broker id must be an integer, but it is: %s", name);
        return KP_ERR_INVALID_REQUEST;
    }
    if (id != d->b->cfg->node_id) {
        snprintf(msg, msglen, "Unexpected broker id, expected %d but received %s",
                 (int)d->b->cfg->node_id, name);
        return KP_ERR_INVALID_REQUEST;
    }
    d->out->Configs.items = rq_items(d->rq, d->entry_desc, 1);
    if (wanted(d, ROOT_LOGGER)) {
        int level = d->b->log ? __atomic_load_n(&d->b->log->level, __ATOMIC_RELAXED) : SLOG_INFO;
        /* Kafka's DYNAMIC_BROKER_LOGGER_CONFIG source. */
        add_entry(d, ROOT_LOGGER, logger_level_name(level), 6, false, false, false,
                  SLUICE_CT_STRING, NULL);
    }
    return KP_ERR_NONE;
}

/* DESCRIBE_CONFIGS / ALTER_CONFIGS on the topic, or on the cluster for
 * broker and broker-logger resources (KafkaApis). */
static int16_t configs_authz(struct request *rq, int8_t type, const char *name, int8_t op)
{
    if (type == ADMIN_RES_TOPIC)
        return authz_allowed(rq, op, SLUICE_RES_TOPIC, name) ? KP_ERR_NONE
                                                             : KP_ERR_TOPIC_AUTHORIZATION_FAILED;
    if (type == ADMIN_RES_BROKER || type == ADMIN_RES_BROKER_LOGGER)
        return authz_cluster(rq, op) ? KP_ERR_NONE : KP_ERR_CLUSTER_AUTHORIZATION_FAILED;
    return KP_ERR_NONE;
}

void handle_describe_configs(struct broker *b, struct request *rq)
{
    const struct kp_DescribeConfigsRequest *req = rq->body;
    const struct kp_message *rm = kp_response_message(KP_API_DESCRIBE_CONFIGS);
    const struct kp_struct *res_desc = kp_sub(rm->body, "Results");
    struct kp_DescribeConfigsResponse resp;
    memset(&resp, 0, sizeof resp);
    kp_struct_defaults(rm->body, &resp);

    struct describe_ctx d = {
        .b = b,
        .rq = rq,
        .ver = rq->hdr.ApiVersion,
        .synonyms = rq->hdr.ApiVersion >= 1 && req->IncludeSynonyms,
        .docs = rq->hdr.ApiVersion >= 3 && req->IncludeDocumentation,
        .entry_desc = kp_sub(res_desc, "Configs"),
    };
    d.syn_desc = kp_sub(d.entry_desc, "Synonyms");
    int32_t n = req->Resources.count > 0 ? req->Resources.count : 0;
    resp.Results.items = rq_items(rq, res_desc, n);
    resp.Results.count = n;
    for (int32_t i = 0; i < n; i++) {
        d.res = &req->Resources.items[i];
        d.out = &resp.Results.items[i];
        d.out->ResourceType = d.res->ResourceType;
        d.out->ResourceName = d.res->ResourceName.len >= 0 ? d.res->ResourceName : rq_str(rq, "");
        d.out->Configs.count = 0;
        char msg[512] = "";
        int16_t err = configs_authz(rq, d.res->ResourceType, d.out->ResourceName.s,
                                    SLUICE_ACL_OP_DESCRIBE_CONFIGS);
        if (err) {
            d.out->ErrorCode = err;
            d.out->ErrorMessage = rq_str(rq, NULL);
            continue;
        }
        switch (d.res->ResourceType) {
        case ADMIN_RES_TOPIC: err = describe_topic(&d, msg, sizeof msg); break;
        case ADMIN_RES_BROKER: err = describe_broker(&d, msg, sizeof msg); break;
        case ADMIN_RES_BROKER_LOGGER: err = describe_logger(&d, msg, sizeof msg); break;
        default:
            snprintf(msg, sizeof msg, "Unsupported resource type: %s",
                     resource_type_name(d.res->ResourceType));
            err = KP_ERR_INVALID_REQUEST;
            break;
        }
        d.out->ErrorCode = err;
        d.out->ErrorMessage = rq_str(rq, err != KP_ERR_NONE && msg[0] ? msg : NULL);
        if (err != KP_ERR_NONE)
            d.out->Configs.count = 0;
    }
    rq_respond(rq, &resp);
}

/* ---- AlterConfigs / IncrementalAlterConfigs --------------------------- */

/* One resource of either request, normalised. */
struct alter_res {
    int8_t type;
    struct kp_str name;
    int32_t n;
    struct kp_str *keys;
    struct kp_str *values;
    int8_t *ops;   /* NULL for legacy AlterConfigs */
    bool dup;      /* the same (type, name) appears twice */
};

/* Kafka's preprocess checks, in its order: duplicate keys, then null
 * values (null is a DELETE in the incremental API only). */
static int16_t check_shape(const struct alter_res *r, char *msg, size_t msglen)
{
    if (r->dup) {
        snprintf(msg, msglen, "Each resource must appear at most once.");
        return KP_ERR_INVALID_REQUEST;
    }
    for (int32_t i = 0; i < r->n; i++)
        for (int32_t j = i + 1; j < r->n; j++)
            if (r->keys[i].len == r->keys[j].len &&
                (r->keys[i].len <= 0 ||
                 memcmp(r->keys[i].s, r->keys[j].s, (size_t)r->keys[i].len) == 0)) {
                snprintf(msg, msglen, "Error due to duplicate config keys");
                return KP_ERR_INVALID_REQUEST;
            }
    size_t used = 0;
    for (int32_t i = 0; i < r->n; i++) {
        if (r->values[i].len >= 0 || (r->ops && r->ops[i] == ADMIN_OP_DELETE))
            continue;
        const char *k = str_or_empty(&r->keys[i]);
        if (used == 0)
            used = (size_t)snprintf(msg, msglen, "Null value not supported for : %s", k);
        else if (used < msglen)
            used += (size_t)snprintf(msg + used, msglen - used, ", %s", k);
    }
    return used ? KP_ERR_INVALID_REQUEST : KP_ERR_NONE;
}

/* The effective value and type of a config key, for APPEND/SUBTRACT. */
static bool topic_key_info(struct broker *b, const struct kv *ov, size_t nov, const char *key,
                           const char **value, int *type, char *buf, size_t buflen)
{
    size_t n = topic_config_count();
    for (size_t i = 0; i < n; i++) {
        struct topic_config_entry te;
        if (topic_config_describe(b->cfg, ov, nov, i, &te) == 0 && strcmp(te.name, key) == 0) {
            /* te.value may point into te.buf, which dies with te. */
            snprintf(buf, buflen, "%s", te.value ? te.value : "");
            *value = te.value ? buf : NULL;
            *type = te.type;
            return true;
        }
    }
    return false;
}

static bool broker_key_info(struct broker *b, const char *key, const char **value, int *type)
{
    struct sluice_config_entry ce;
    if (sluice_config_describe_key(b->cfg, key, &ce) < 0)
        return false;
    *value = ce.value;
    *type = ce.type;
    return true;
}

static const char *op_name(int8_t op)
{
    return op == ADMIN_OP_APPEND ? "APPEND" : "SUBTRACT";
}

/* Turn the incremental ops into (key, value-or-NULL) pairs. */
static int16_t incremental_to_kv(struct broker *b, struct request *rq, const struct alter_res *r,
                                 struct broker_topic *t, struct kv *out, char *msg, size_t msglen)
{
    struct kv *ov = NULL;
    size_t nov = t ? broker_topic_overrides(b, rq, t, &ov) : 0;
    for (int32_t i = 0; i < r->n; i++) {
        const char *key = str_or_empty(&r->keys[i]);
        out[i].key = key;
        switch (r->ops[i]) {
        case ADMIN_OP_SET: out[i].value = r->values[i].s; break;
        case ADMIN_OP_DELETE: out[i].value = NULL; break;
        case ADMIN_OP_APPEND:
        case ADMIN_OP_SUBTRACT: {
            const char *cur = NULL;
            int type = SLUICE_CT_UNKNOWN;
            char buf[1024];
            bool known = t ? topic_key_info(b, ov, nov, key, &cur, &type, buf, sizeof buf)
                           : broker_key_info(b, key, &cur, &type);
            if (!known || type != SLUICE_CT_LIST) {
                snprintf(msg, msglen, "Can't %s to key %s because its type is not LIST.",
                         op_name(r->ops[i]), key);
                return KP_ERR_INVALID_CONFIG;
            }
            char *nv = admin_list_apply(cur, r->values[i].s, r->ops[i] == ADMIN_OP_APPEND);
            if (!nv) {
                snprintf(msg, msglen, "Out of memory.");
                return KP_ERR_UNKNOWN_SERVER_ERROR;
            }
            out[i].value = rq_str(rq, nv).s;
            free(nv);
            if (!out[i].value) {
                snprintf(msg, msglen, "Out of memory.");
                return KP_ERR_UNKNOWN_SERVER_ERROR;
            }
            break;
        }
        default:
            snprintf(msg, msglen, "Unknown operations type %d", (int)r->ops[i]);
            return KP_ERR_INVALID_REQUEST;
        }
    }
    return KP_ERR_NONE;
}

/* Kafka's validateLogLevelConfigs + alterLogLevelConfigs for our one
 * logger. */
static int16_t alter_logger(struct broker *b, const struct alter_res *r, bool validate_only,
                            char *msg, size_t msglen)
{
    static const char *const levels[] = { "FATAL", "ERROR", "WARN", "INFO", "DEBUG", "TRACE" };
    int new_level = -1;
    for (int32_t i = 0; i < r->n; i++) {
        const char *key = str_or_empty(&r->keys[i]);
        switch (r->ops[i]) {
        case ADMIN_OP_SET: {
            if (strcmp(key, ROOT_LOGGER) != 0) {
                snprintf(msg, msglen, "Logger %s does not exist!", key);
                return KP_ERR_INVALID_CONFIG;
            }
            const char *v = str_or_empty(&r->values[i]);
            int lv = -1;
            for (int k = 0; k < 6; k++)
                if (strcmp(v, levels[k]) == 0)
                    lv = k == 0 ? SLOG_ERROR : logger_level_parse(v);
            if (lv < 0) {
                snprintf(msg, msglen,
                         "Cannot set the log level of %s to %s as it is not a supported log "
                         "level. Valid log levels are FATAL, ERROR, WARN, INFO, DEBUG, TRACE",
                         key, v);
                return KP_ERR_INVALID_CONFIG;
            }
            new_level = lv;
            break;
        }
        case ADMIN_OP_DELETE:
            if (strcmp(key, ROOT_LOGGER) != 0) {
                snprintf(msg, msglen, "Logger %s does not exist!", key);
                return KP_ERR_INVALID_CONFIG;
            }
            snprintf(msg, msglen, "Removing the log level of the %s logger is not allowed",
                     ROOT_LOGGER);
            return KP_ERR_INVALID_REQUEST;
        case ADMIN_OP_APPEND:
        case ADMIN_OP_SUBTRACT:
            snprintf(msg, msglen, "%s operation is not allowed for the BROKER_LOGGER resource",
                     op_name(r->ops[i]));
            return KP_ERR_INVALID_REQUEST;
        default:
            snprintf(msg, msglen,
                     "Unknown operation type %d is not allowed for the BROKER_LOGGER resource",
                     (int)r->ops[i]);
            return KP_ERR_INVALID_REQUEST;
        }
    }
    if (!validate_only && new_level >= 0 && b->log) {
        logger_set_level(b->log, new_level);
        slog(b->log, SLOG_INFO, "admin", "log level set to %s", logger_level_name(new_level));
    }
    return KP_ERR_NONE;
}

/* One resource of AlterConfigs (ops == NULL: replace semantics) or
 * IncrementalAlterConfigs.  *changed is set when something was written to
 * the metadata log. */
static int16_t alter_resource(struct broker *b, struct request *rq, const struct alter_res *r,
                              bool validate_only, bool *changed, char *msg, size_t msglen)
{
    int16_t err = configs_authz(rq, r->type, str_or_empty(&r->name), SLUICE_ACL_OP_ALTER_CONFIGS);
    if (err == KP_ERR_NONE)
        err = check_shape(r, msg, msglen);
    if (err != KP_ERR_NONE)
        return err;
    bool incremental = r->ops != NULL;
    const char *name = str_or_empty(&r->name);
    struct broker_topic *t = NULL;
    switch (r->type) {
    case ADMIN_RES_BROKER_LOGGER:
        if (!incremental)
            break; /* legacy AlterConfigs: "Unknown resource type" below */
        err = check_node_id(b, name, false, msg, msglen);
        if (err != KP_ERR_NONE)
            return err;
        return alter_logger(b, r, validate_only, msg, msglen);
    case ADMIN_RES_BROKER:
        err = check_node_id(b, name, true, msg, msglen);
        if (err != KP_ERR_NONE)
            return err;
        break;
    case ADMIN_RES_TOPIC:
        if (name[0] == '\0') {
            snprintf(msg, msglen, "Default topic resources are not allowed.");
            return KP_ERR_INVALID_REQUEST;
        }
        t = broker_topic(b, name);
        if (!t) {
            snprintf(msg, msglen, "The topic '%s' does not exist.", name);
            return KP_ERR_UNKNOWN_TOPIC_OR_PARTITION;
        }
        break;
    default:
        break;
    }
    if (r->type != ADMIN_RES_BROKER && r->type != ADMIN_RES_TOPIC) {
        snprintf(msg, msglen, "Unknown resource type %d", (int)r->type);
        return KP_ERR_INVALID_REQUEST;
    }

    struct kv *kvs = rq_alloc(rq, sizeof *kvs, r->n);
    if (r->n > 0 && !kvs) {
        snprintf(msg, msglen, "Out of memory.");
        return KP_ERR_UNKNOWN_SERVER_ERROR;
    }
    if (incremental) {
        err = incremental_to_kv(b, rq, r, t, kvs, msg, msglen);
        if (err != KP_ERR_NONE)
            return err;
    } else {
        for (int32_t i = 0; i < r->n; i++) {
            kvs[i].key = str_or_empty(&r->keys[i]);
            kvs[i].value = r->values[i].s;
        }
    }
    if (t)
        err = broker_alter_topic_configs(b, t, kvs, (size_t)r->n, !incremental, validate_only,
                                         msg, msglen);
    else
        err = broker_alter_broker_configs(b, kvs, (size_t)r->n, !incremental, validate_only, msg,
                                          msglen);
    if (err == KP_ERR_NONE && !validate_only)
        *changed = true;
    return err;
}

static void mark_duplicate_resources(struct alter_res *rs, int32_t n)
{
    for (int32_t i = 0; i < n; i++)
        for (int32_t j = i + 1; j < n; j++)
            if (rs[i].type == rs[j].type && rs[i].name.len == rs[j].name.len &&
                (rs[i].name.len <= 0 ||
                 memcmp(rs[i].name.s, rs[j].name.s, (size_t)rs[i].name.len) == 0))
                rs[i].dup = rs[j].dup = true;
}

void handle_alter_configs(struct broker *b, struct request *rq)
{
    const struct kp_AlterConfigsRequest *req = rq->body;
    const struct kp_message *rm = kp_response_message(KP_API_ALTER_CONFIGS);
    struct kp_AlterConfigsResponse resp;
    memset(&resp, 0, sizeof resp);
    kp_struct_defaults(rm->body, &resp);

    int32_t n = req->Resources.count > 0 ? req->Resources.count : 0;
    struct alter_res *rs = rq_alloc(rq, sizeof *rs, n);
    for (int32_t i = 0; i < n; i++) {
        const struct kp_AlterConfigsRequest_AlterConfigsResource *in = &req->Resources.items[i];
        int32_t nc = in->Configs.count > 0 ? in->Configs.count : 0;
        rs[i].type = in->ResourceType;
        rs[i].name = in->ResourceName;
        rs[i].n = nc;
        rs[i].keys = rq_alloc(rq, sizeof *rs[i].keys, nc);
        rs[i].values = rq_alloc(rq, sizeof *rs[i].values, nc);
        for (int32_t c = 0; c < nc; c++) {
            rs[i].keys[c] = in->Configs.items[c].Name;
            rs[i].values[c] = in->Configs.items[c].Value;
        }
    }
    mark_duplicate_resources(rs, n);

    resp.Responses.items = rq_items(rq, kp_sub(rm->body, "Responses"), n);
    resp.Responses.count = n;
    bool changed = false;
    for (int32_t i = 0; i < n; i++) {
        struct kp_AlterConfigsResponse_AlterConfigsResourceResponse *out = &resp.Responses.items[i];
        char msg[512] = "";
        int16_t err = alter_resource(b, rq, &rs[i], req->ValidateOnly, &changed, msg, sizeof msg);
        out->ResourceType = rs[i].type;
        out->ResourceName = rs[i].name.len >= 0 ? rs[i].name : rq_str(rq, "");
        out->ErrorCode = err;
        out->ErrorMessage = rq_str(rq, err != KP_ERR_NONE && msg[0] ? msg : NULL);
        if (err != KP_ERR_NONE)
            slog(b->log, SLOG_INFO, "admin", "AlterConfigs %s '%s': %s (%s)",
                 resource_type_name(rs[i].type), str_or_empty(&rs[i].name), kp_error_name(err),
                 msg);
    }
    if (changed)
        rq_respond_after_meta_sync(rq, &resp);
    else
        rq_respond(rq, &resp);
}

void handle_incremental_alter_configs(struct broker *b, struct request *rq)
{
    const struct kp_IncrementalAlterConfigsRequest *req = rq->body;
    const struct kp_message *rm = kp_response_message(KP_API_INCREMENTAL_ALTER_CONFIGS);
    struct kp_IncrementalAlterConfigsResponse resp;
    memset(&resp, 0, sizeof resp);
    kp_struct_defaults(rm->body, &resp);

    int32_t n = req->Resources.count > 0 ? req->Resources.count : 0;
    struct alter_res *rs = rq_alloc(rq, sizeof *rs, n);
    for (int32_t i = 0; i < n; i++) {
        const struct kp_IncrementalAlterConfigsRequest_AlterConfigsResource *in =
            &req->Resources.items[i];
        int32_t nc = in->Configs.count > 0 ? in->Configs.count : 0;
        rs[i].type = in->ResourceType;
        rs[i].name = in->ResourceName;
        rs[i].n = nc;
        rs[i].keys = rq_alloc(rq, sizeof *rs[i].keys, nc);
        rs[i].values = rq_alloc(rq, sizeof *rs[i].values, nc);
        rs[i].ops = rq_alloc(rq, sizeof *rs[i].ops, nc > 0 ? nc : 1);
        for (int32_t c = 0; c < nc; c++) {
            rs[i].keys[c] = in->Configs.items[c].Name;
            rs[i].values[c] = in->Configs.items[c].Value;
            rs[i].ops[c] = in->Configs.items[c].ConfigOperation;
        }
    }
    mark_duplicate_resources(rs, n);

    resp.Responses.items = rq_items(rq, kp_sub(rm->body, "Responses"), n);
    resp.Responses.count = n;
    bool changed = false;
    for (int32_t i = 0; i < n; i++) {
        struct kp_IncrementalAlterConfigsResponse_AlterConfigsResourceResponse *out =
            &resp.Responses.items[i];
        char msg[512] = "";
        int16_t err = alter_resource(b, rq, &rs[i], req->ValidateOnly, &changed, msg, sizeof msg);
        out->ResourceType = rs[i].type;
        out->ResourceName = rs[i].name.len >= 0 ? rs[i].name : rq_str(rq, "");
        out->ErrorCode = err;
        out->ErrorMessage = rq_str(rq, err != KP_ERR_NONE && msg[0] ? msg : NULL);
        if (err != KP_ERR_NONE)
            slog(b->log, SLOG_INFO, "admin", "IncrementalAlterConfigs %s '%s': %s (%s)",
                 resource_type_name(rs[i].type), str_or_empty(&rs[i].name), kp_error_name(err),
                 msg);
    }
    if (changed)
        rq_respond_after_meta_sync(rq, &resp);
    else
        rq_respond(rq, &resp);
}
