/* Broker lifecycle: start-up (metadata replay, logs, listeners), the
 * maintenance timer, signals, and orderly shutdown. */
#include "broker/broker.h"
#include "broker/authz.h"
#include "broker/sasl.h"
#include "broker/session.h"
#include "group/coordinator.h"
#include "group/offsets_topic.h"
#include "txn/txn_coordinator.h"
#include "broker/log_dirs.h"
#include "broker/log_mover.h"
#include "broker/broker_metrics.h"
#include "broker/session.h"
#include "broker/transports.h"
#include "plugin/module_loader.h"
#include "storage/flusher.h"
#include "storage/partition_log.h"
#include "storage/producer_state.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int broker_load_topics(struct broker *b);
void broker_close_topics(struct broker *b);
void broker_fetch_release_all(struct broker *b);

static void maintenance_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)loop;
    (void)revents;
    struct broker *b = w->data;
    int64_t now = broker_now_ms(b);
    bool retention = now - b->last_retention_ms >= b->cfg->log_retention_check_interval_ms;
    if (retention)
        b->last_retention_ms = now;
    /* Kafka's LogManager checks producer id expiry on its own schedule. */
    bool expiry = now - b->last_pid_expiry_ms >= b->cfg->producer_id_expiration_check_interval_ms;
    if (expiry)
        b->last_pid_expiry_ms = now;
    size_t it = 0;
    void *v;
    while (strmap_next(&b->topics, &it, NULL, &v)) {
        struct broker_topic *t = v;
        for (int32_t p = 0; p < t->nparts; p++) {
            if (!t->logs[p])
                continue;
            plog_maintain(t->logs[p], now, retention);
            if (expiry)
                pstate_remove_expired(plog_producer_state(t->logs[p]), now,
                                      b->cfg->producer_id_expiration_ms);
        }
    }
}

static void mkdirs(const char *path)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s", path);
    for (char *p = tmp + 1; *p; p++) {
        if (*p == '/') {
            *p = '\0';
            mkdir(tmp, 0755);
            *p = '/';
        }
    }
    mkdir(tmp, 0755);
}

int broker_init(struct broker *b, struct ev_loop *loop, struct sluice_config *cfg,
                struct sluice_logger *log, struct module_registry *modules, char *err,
                size_t errlen)
{
    memset(b, 0, sizeof *b);
    b->loop = loop;
    b->cfg = cfg;
    b->log = log;
    b->modules = modules;
    strmap_init(&b->topics);
    mkdirs(cfg->metadata_log_dir);
    if (log_dirs_init(b, err, errlen) < 0)
        return -1;
    b->flusher = flusher_new(loop);
    if (!b->flusher) {
        snprintf(err, errlen, "cannot start the flusher thread");
        return -1;
    }
    if (meta_store_open(&b->meta, cfg->metadata_log_dir, b->flusher, log, broker_now_ms(b), err,
                        errlen) < 0)
        return -1;
    meta_store_set_io_error_cb(b->meta, log_dirs_io_error, b);
    snprintf(b->cluster_id, sizeof b->cluster_id, "%s", meta_store_cluster_id(b->meta));
    b->mover = log_mover_new(b);
    if (!b->mover) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    /* Dynamic broker configs persisted by AlterConfigs win over the file. */
    const struct meta_configs *dyn = &meta_store_image(b->meta)->broker_configs;
    for (size_t i = 0; i < dyn->n; i++) {
        char e[256];
        if (sluice_config_set(cfg, dyn->v[i].name, dyn->v[i].value, e, sizeof e) != 0)
            slog(log, SLOG_WARN, "broker", "stored dynamic config %s ignored: %s",
                 dyn->v[i].name, e);
    }
    logger_set_level(log, cfg->log_level);
    /* Modules come after the metadata log and the core metrics (their init
     * may read records, and the broker's metric names must be taken first)
     * but before the topics, so a codec a log needs is there. */
    if (broker_metrics_init(b, err, errlen) < 0)
        return -1;
    if (modules) {
        module_registry_set_metrics(modules, b->metrics);
        module_registry_set_meta(modules, b->meta);
        for (size_t i = 0; i < cfg->module_load.n; i++)
            if (module_load(modules, cfg->module_load.items[i], cfg->plugin_dir, err, errlen) < 0)
                return -1;
        for (size_t i = 0; i < cfg->module_opts.n; i++) {
            const char *kv = cfg->module_opts.items[i];
            size_t nl = 0;
            if (!sluice_config_is_module_option(kv, &nl))
                continue; /* listener.name.* overrides belong to no module */
            char name[128];
            snprintf(name, sizeof name, "%.*s", (int)nl, kv + 7);
            if (!module_registry_find(modules, name))
                slog(log, SLOG_WARN, "config", "option %.*s ignored: module '%s' is not loaded",
                     (int)strcspn(kv, "="), kv, name);
        }
    }
    /* Before the topics: each compacted log registers with it. */
    if (broker_cleaner_start(b, err, errlen) < 0)
        return -1;
    if (broker_load_topics(b) < 0) {
        snprintf(err, errlen, "cannot load topics");
        return -1;
    }
    if (offsets_topic_start(b, err, errlen) < 0)
        return -1;
    /* After the group coordinator: completing transactions may write
     * markers into __consumer_offsets. */
    if (txn_coordinator_start(b, err, errlen) < 0)
        return -1;
    /* One timer drives retention, delayed file deletion and time-based flushes;
     * its period is the finest of the intervals that need it. */
    double period = (double)cfg->log_retention_check_interval_ms;
    if (cfg->log_flush_scheduler_interval_ms > 0 &&
        (double)cfg->log_flush_scheduler_interval_ms < period)
        period = (double)cfg->log_flush_scheduler_interval_ms;
    if (period > 1000)
        period = 1000; /* file.delete.delay.ms and flush.ms need ~1 s granularity */
    if (period < 10)
        period = 10;
    b->last_retention_ms = b->last_pid_expiry_ms = broker_now_ms(b);
    ev_timer_init(&b->maintenance, maintenance_cb, period / 1000.0, period / 1000.0);
    b->maintenance.data = b;
    ev_timer_start(loop, &b->maintenance);
    return 0;
}

int broker_listen(struct broker *b, const char *port_file, char *err, size_t errlen)
{
    struct net_limits lim;
    net_limits_default(&lim);
    lim.request_max_bytes = (size_t)b->cfg->socket_request_max_bytes;
    lim.idle_ms = b->cfg->connections_max_idle_ms > 0 ? (uint64_t)b->cfg->connections_max_idle_ms : 0;
    struct net_callbacks cb = { 0 };
    cb.on_request = broker_on_request;
    cb.on_accept = broker_session_open;
    cb.on_ready = broker_session_ready;
    cb.on_close = broker_session_close;
    b->net = net_server_new(b->loop, &lim, &cb, b, b->log);
    if (!b->net) {
        snprintf(err, errlen, "cannot create the network server");
        return -1;
    }
    struct listener_spec *specs = NULL;
    size_t n = 0;
    char joined[4096] = "";
    for (size_t i = 0; i < b->cfg->listeners.n; i++) {
        if (i)
            strncat(joined, ",", sizeof joined - strlen(joined) - 1);
        strncat(joined, b->cfg->listeners.items[i], sizeof joined - strlen(joined) - 1);
    }
    if (listener_parse(joined, b->cfg->listener_security_protocol_map, &specs, &n, err, errlen) < 0)
        return -1;
    /* SASL listeners need an enabled mechanism that a loaded module
     * provides (sasl.enabled.mechanisms, per listener too). */
    for (size_t i = 0; i < n; i++) {
        if ((specs[i].protocol == LISTENER_SASL_PLAINTEXT ||
             specs[i].protocol == LISTENER_SASL_SSL) &&
            sasl_check_listener(b, specs[i].name, listener_security_name(specs[i].protocol), err,
                                errlen) < 0) {
            free(specs);
            return -1;
        }
    }
    size_t nmech = 0;
    module_registry_sasl_mechs(b->modules, &nmech);
    if (nmech == 0 && !authz_active(b))
        slog(b->log, SLOG_INFO, "broker", "%s",
             module_registry_transport(b->modules, LISTENER_SSL)
                 ? "no SASL or authorizer module loaded: SASL listeners are refused and every "
                   "request is allowed"
                 : "no security module loaded (TLS, SASL, authorizer): serving PLAINTEXT only, "
                   "every request is allowed");
    /* TLS listeners get their module transport (key stores loaded now, so a
     * bad one stops the start-up naming the key). */
    b->transports = broker_transports_open(b->modules, b->net, specs, n, b->log, err, errlen);
    if (!b->transports) {
        free(specs);
        return -1;
    }
    int rc = net_server_listen(b->net, specs, n, err, errlen);
    free(specs);
    if (rc < 0)
        return -1;
    /* Module services start once the listeners are bound and before the
     * port file says the broker is up, so a service that fails to start
     * never looks like a broker that started. */
    if (b->modules && module_registry_start_services(b->modules, err, errlen) < 0)
        return -1;
    if (port_file) {
        /* "NAME PORT" per listener, written atomically so a test that polls
         * for the file never reads half of it. */
        char tmp[4096];
        snprintf(tmp, sizeof tmp, "%s.tmp", port_file);
        FILE *f = fopen(tmp, "w");
        if (!f) {
            snprintf(err, errlen, "--port-file %s: %s", port_file, strerror(errno));
            return -1;
        }
        for (size_t i = 0; i < net_server_listener_count(b->net); i++) {
            const struct listener *l = net_server_listener(b->net, i);
            fprintf(f, "%s %d\n", l->spec.name, listener_bound_port(l));
        }
        if (fclose(f) != 0 || rename(tmp, port_file) < 0) {
            snprintf(err, errlen, "--port-file %s: %s", port_file, strerror(errno));
            return -1;
        }
    }
    return 0;
}

void broker_advertised_endpoint(struct broker *b, struct net_conn *conn, const char **host,
                                int32_t *port)
{
    const struct listener_spec *ls = conn ? net_conn_listener(conn) : NULL;
    const struct listener *bound = NULL;
    for (size_t i = 0; b->net && i < net_server_listener_count(b->net); i++) {
        const struct listener *l = net_server_listener(b->net, i);
        if (!bound || (ls && strcmp(l->spec.name, ls->name) == 0 && l->spec.port == ls->port &&
                       strcmp(l->spec.host, ls->host) == 0))
            bound = l;
    }
    *host = "localhost";
    *port = bound ? listener_bound_port(bound) : 9092;
    if (bound && bound->spec.host[0] && strcmp(bound->spec.host, "0.0.0.0") != 0 &&
        strcmp(bound->spec.host, "::") != 0)
        *host = bound->spec.host;
    /* advertised.listeners entries are NAME://host:port; match by name. */
    const char *name = bound ? bound->spec.name : "PLAINTEXT";
    for (size_t i = 0; i < b->cfg->advertised_listeners.n; i++) {
        const char *a = b->cfg->advertised_listeners.items[i];
        size_t nl = strlen(name);
        if (strncasecmp(a, name, nl) != 0 || strncmp(a + nl, "://", 3) != 0)
            continue;
        static __thread char hostbuf[256];
        const char *hp = a + nl + 3, *colon = strrchr(hp, ':');
        if (!colon)
            break;
        size_t hl = (size_t)(colon - hp);
        if (hl && hp[0] == '[' && hp[hl - 1] == ']') {
            hp++;
            hl -= 2;
        }
        if (hl >= sizeof hostbuf)
            break;
        memcpy(hostbuf, hp, hl);
        hostbuf[hl] = '\0';
        if (hl)
            *host = hostbuf;
        *port = atoi(colon + 1);
        break;
    }
}

/* ---- responses delayed until the metadata log is durable ------------- */

struct meta_sync_wait {
    struct net_request *nreq;
    struct wire_writer w;
    struct sluice_logger *log;
};

static void meta_synced(void *ud, int err)
{
    struct meta_sync_wait *mw = ud;
    if (err)
        slog(mw->log, SLOG_ERROR, "metadata", "metadata log fsync failed: the change may not "
                                              "survive a crash");
    net_respond(mw->nreq, &mw->w);
    wire_writer_free(&mw->w);
    free(mw);
}

void rq_respond_after_meta_sync(struct request *rq, const void *resp)
{
    struct meta_sync_wait *mw = calloc(1, sizeof *mw);
    if (!mw) {
        rq_respond(rq, resp);
        return;
    }
    /* Encode now (the request's arena goes away), send when durable. */
    wire_writer_init(&mw->w);
    kp_encode_response_header(&mw->w, rq->hdr.ApiKey, rq->hdr.ApiVersion, rq->hdr.CorrelationId);
    kp_encode(kp_response_message(rq->hdr.ApiKey), rq->hdr.ApiVersion, resp, &mw->w);
    mw->nreq = rq->nreq;
    mw->log = rq->b->log;
    if (meta_store_sync(rq->b->meta, meta_synced, mw) < 0)
        meta_synced(mw, -1);
    kp_arena_free(&rq->arena);
    free(rq);
}

void broker_shutdown(struct broker *b)
{
    b->stopping = true;
    if (b->net)
        net_server_stop_accepting(b->net);
    broker_fetch_release_all(b);
    /* Waiting JoinGroup/SyncGroup requests are answered before the
     * connections go. */
    txn_coordinator_stop(b);
    offsets_topic_stop(b);
    if (b->net) {
        net_server_free(b->net);
        b->net = NULL;
    }
    broker_transports_free(b->transports);
    b->transports = NULL;
    /* Cleaner threads stop (aborting their work) before the logs close and
     * before the codec modules they re-compress with unload. */
    broker_cleaner_stop(b);
    /* Services stop and modules unload while the metadata log and the
     * metrics registry are still open: stop() and fini may write records
     * and update metrics.  The dump in between still has module series. */
    if (b->modules)
        module_registry_stop_services(b->modules);
    broker_metrics_dump(b, b->metrics_file);
    if (b->modules)
        module_registry_free(b->modules);
    ev_timer_stop(b->loop, &b->maintenance);
    /* Before the topics close: a move in its switch owns a log. */
    log_mover_free(b->mover);
    b->mover = NULL;
    broker_close_topics(b);
    meta_store_close(b->meta);
    b->meta = NULL;
    if (b->flusher) {
        flusher_free(b->flusher);
        b->flusher = NULL;
    }
    log_dirs_free(b);
    broker_metrics_free(b);
    /* Freed last: flush completions of offset commits and transaction
     * transitions still refer to them. */
    free(b->groups);
    b->groups = NULL;
    free(b->txns);
    b->txns = NULL;
}
