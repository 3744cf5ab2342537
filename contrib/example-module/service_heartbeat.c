/* service_heartbeat: an example third-party Sluice module, built out of
 * tree against the installed SDK (<sluice/plugin.h>, sluice-plugin.pc).
 *
 * A service that ticks on a timer and
 *   - reads its options with config_get_*   (module.service_heartbeat.*),
 *   - counts ticks in a metric and exports the last tick time and the
 *     timer's lateness (counter, gauge, histogram in the broker registry),
 *   - persists its total tick count and last run time as durable records in
 *     the broker's metadata log every `persist.every` ticks and at stop, and
 *     restores them at the next start.
 *
 * Options (module.service_heartbeat.<key>=...):
 *   interval.ms    tick period, 1..3600000 (default 1000)
 *   persist.every  write the records every N ticks, 1..1000000 (default 10)
 *   message        text logged with each tick at debug level (default alive)
 *
 * Everything runs on the broker's loop thread: the timer callback, the
 * service start/stop and the record acknowledgements. */
#define _POSIX_C_SOURCE 200809L /* clock_gettime under -std=c11 */

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sluice/plugin.h>

#define NAME "service_heartbeat"

struct heartbeat {
    const struct sluice_host_api *host;
    struct sluice_module_ctx *ctx;
    struct sluice_timer *timer;
    int64_t interval_ms, persist_every;
    char message[128];
    uint64_t ticks_run;   /* ticks since this start */
    uint64_t ticks_total; /* ticks over every run (restored from the records) */
    int64_t last_run_ms;  /* wall-clock ms of the last tick (restored too) */
    int64_t next_due_ms;  /* monotonic ms the next tick is due */
    uint64_t unacked;     /* record writes not yet durable */
    struct sluice_metric *m_ticks, *m_last, *m_lag;
};

static int64_t now_ms(clockid_t clk)
{
    struct timespec ts;
    clock_gettime(clk, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- durable state ---------------------------------------------------- */

static void persisted(void *ud, int err)
{
    struct heartbeat *hb = ud;
    hb->unacked--;
    if (err)
        hb->host->log(hb->ctx, SLUICE_LOG_WARN, "state write not durable (%d)", err);
}

static int put_u64(struct heartbeat *hb, const char *key, uint64_t v)
{
    char buf[24];
    int n = snprintf(buf, sizeof buf, "%" PRIu64, v);
    int rc = hb->host->record_put(hb->ctx, key, buf, (size_t)n, persisted, hb);
    if (rc == 0)
        hb->unacked++;
    else
        hb->host->log(hb->ctx, SLUICE_LOG_WARN, "cannot persist %s (%d)", key, rc);
    return rc;
}

static void persist(struct heartbeat *hb)
{
    put_u64(hb, "ticks", hb->ticks_total);
    put_u64(hb, "last_run_ms", (uint64_t)hb->last_run_ms);
}

/* record_iterate callback: both keys are decimal numbers. */
static int restore_one(void *ud, const char *key, const void *value, size_t len)
{
    struct heartbeat *hb = ud;
    char buf[24];
    if (len >= sizeof buf)
        return 0; /* not ours to understand: ignore */
    memcpy(buf, value, len);
    buf[len] = '\0';
    uint64_t v = strtoull(buf, NULL, 10);
    if (strcmp(key, "ticks") == 0)
        hb->ticks_total = v;
    else if (strcmp(key, "last_run_ms") == 0)
        hb->last_run_ms = (int64_t)v;
    return 0;
}

/* ---- the tick --------------------------------------------------------- */

static void tick(void *ud)
{
    struct heartbeat *hb = ud;
    int64_t mono = now_ms(CLOCK_MONOTONIC);
    int64_t lag = mono > hb->next_due_ms ? mono - hb->next_due_ms : 0;
    hb->next_due_ms = mono - lag + hb->interval_ms;
    hb->ticks_run++;
    hb->ticks_total++;
    hb->last_run_ms = now_ms(CLOCK_REALTIME);
    hb->host->metric_add(hb->m_ticks, 1);
    hb->host->metric_set(hb->m_last, (double)hb->last_run_ms / 1000.0);
    hb->host->metric_observe(hb->m_lag, (double)lag / 1000.0);
    hb->host->log(hb->ctx, SLUICE_LOG_DEBUG, "tick %" PRIu64 ": %s", hb->ticks_total,
                  hb->message);
    if (hb->ticks_run % (uint64_t)hb->persist_every == 0)
        persist(hb);
}

/* ---- service ---------------------------------------------------------- */

static int hb_start(void *state, char *err, size_t errlen)
{
    struct heartbeat *hb = state;
    hb->next_due_ms = now_ms(CLOCK_MONOTONIC) + hb->interval_ms;
    hb->timer = hb->host->timer_start(hb->ctx, (uint64_t)hb->interval_ms,
                                      (uint64_t)hb->interval_ms, tick, hb);
    if (!hb->timer) {
        snprintf(err, errlen, "cannot start the timer");
        return SLUICE_ERR_UNSUPPORTED;
    }
    hb->host->log(hb->ctx, SLUICE_LOG_INFO, "heartbeat started: every %" PRId64 " ms, persisting "
                  "every %" PRId64 " ticks", hb->interval_ms, hb->persist_every);
    return 0;
}

static void hb_stop(void *state)
{
    struct heartbeat *hb = state;
    hb->host->timer_stop(hb->ctx, hb->timer);
    hb->timer = NULL;
    /* The metadata log is still open during stop(): the final state is
     * written and flushed when the broker closes it. */
    persist(hb);
    hb->host->log(hb->ctx, SLUICE_LOG_INFO,
                  "heartbeat stopped: %" PRIu64 " ticks this run, ticks=%" PRIu64
                  " last_run_ms=%" PRId64,
                  hb->ticks_run, hb->ticks_total, hb->last_run_ms);
}

static const struct sluice_service_ops hb_service = {
    .struct_size = sizeof(struct sluice_service_ops),
    .name = "heartbeat",
    .start = hb_start,
    .stop = hb_stop,
};

/* ---- module ----------------------------------------------------------- */

static int opt_int(const struct sluice_host_api *host, struct sluice_module_ctx *ctx,
                   const char *key, int64_t def, int64_t min, int64_t max, int64_t *out,
                   char *err, size_t errlen)
{
    if (host->config_get_int(ctx, key, def, out) != 0 || *out < min || *out > max) {
        snprintf(err, errlen, "module." NAME ".%s must be an integer in %" PRId64 "..%" PRId64
                 " (got '%s')", key, min, max, host->config_get_string(ctx, key, "?"));
        return SLUICE_ERR_INVALID;
    }
    return 0;
}

static int hb_init(const struct sluice_host_api *host, struct sluice_module_ctx *ctx, char *err,
                   size_t errlen)
{
    struct heartbeat *hb = host->alloc(ctx, sizeof *hb);
    if (!hb)
        return SLUICE_ERR_NOMEM;
    memset(hb, 0, sizeof *hb);
    hb->host = host;
    hb->ctx = ctx;
    int rc = opt_int(host, ctx, "interval.ms", 1000, 1, 3600000, &hb->interval_ms, err, errlen);
    if (rc == 0)
        rc = opt_int(host, ctx, "persist.every", 10, 1, 1000000, &hb->persist_every, err, errlen);
    if (rc != 0) {
        host->free(ctx, hb);
        return rc;
    }
    snprintf(hb->message, sizeof hb->message, "%s", host->config_get_string(ctx, "message", "alive"));

    static const double lag_buckets[] = {0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1};
    struct sluice_metric_desc d = {
        .struct_size = sizeof d,
        .type = SLUICE_METRIC_COUNTER,
        .name = NAME "_ticks_total",
        .help = "Heartbeat ticks since the broker started.",
    };
    if ((rc = host->metric_register(ctx, &d, &hb->m_ticks)) == 0) {
        d.type = SLUICE_METRIC_GAUGE;
        d.name = NAME "_last_run_timestamp_seconds";
        d.help = "Unix time of the last heartbeat tick.";
        rc = host->metric_register(ctx, &d, &hb->m_last);
    }
    if (rc == 0) {
        d.type = SLUICE_METRIC_HISTOGRAM;
        d.name = NAME "_tick_lag_seconds";
        d.help = "How late each tick fired compared with its schedule.";
        d.buckets = lag_buckets;
        d.nbuckets = sizeof lag_buckets / sizeof lag_buckets[0];
        rc = host->metric_register(ctx, &d, &hb->m_lag);
    }
    if (rc != 0) {
        snprintf(err, errlen, "cannot register metrics (%d)", rc);
        host->free(ctx, hb);
        return rc;
    }

    rc = host->record_iterate(ctx, NULL, restore_one, hb);
    if (rc != 0) {
        snprintf(err, errlen, "cannot read the stored state (%d)", rc);
        host->free(ctx, hb);
        return rc;
    }
    if (hb->last_run_ms)
        host->log(ctx, SLUICE_LOG_INFO, "restored state: ticks=%" PRIu64 " last_run_ms=%" PRId64,
                  hb->ticks_total, hb->last_run_ms);
    else
        host->log(ctx, SLUICE_LOG_INFO, "no stored state: first run");
    host->set_data(ctx, hb);
    /* On failure the host fails the load with the reason and calls fini. */
    return host->register_service(ctx, &hb_service, hb);
}

static void hb_fini(const struct sluice_host_api *host, struct sluice_module_ctx *ctx)
{
    struct heartbeat *hb = host->get_data(ctx);
    if (!hb)
        return;
    if (hb->unacked)
        host->log(ctx, SLUICE_LOG_DEBUG, "%" PRIu64 " state writes still being flushed",
                  hb->unacked);
    host->free(ctx, hb);
}

SLUICE_MODULE_DECLARE(NAME, "1.0.0", SLUICE_KIND_SERVICE, hb_init, hb_fini,
                      "example service: ticks, a metric and durable state");
