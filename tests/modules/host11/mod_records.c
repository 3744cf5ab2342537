/* Test module for the ABI 1.1 host functions: metrics, durable records and
 * a service.  Everything it observes goes to host->log so the unit test can
 * assert on exact lines.  Option fail_start=true makes start() fail. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sluice/plugin.h>

struct rs {
    const struct sluice_host_api *host;
    struct sluice_module_ctx *ctx;
    struct sluice_metric *puts, *keys, *sizes;
    int fail_start;
};

static void acked(void *ud, int err)
{
    struct rs *s = ud;
    s->host->log(s->ctx, SLUICE_LOG_INFO, "acked err=%d", err);
}

static int put(struct rs *s, const char *key, const char *value)
{
    int rc = s->host->record_put(s->ctx, key, value, strlen(value), acked, s);
    if (rc == 0) {
        s->host->metric_add(s->puts, 1);
        s->host->metric_observe(s->sizes, (double)strlen(value));
    }
    return rc;
}

static int count_cb(void *ud, const char *key, const void *value, size_t len)
{
    (*(int *)ud)++;
    return 0;
}

static int log_cb(void *ud, const char *key, const void *value, size_t len)
{
    struct rs *s = ud;
    s->host->log(s->ctx, SLUICE_LOG_INFO, "iter %s=%.*s", key, (int)len, (const char *)value);
    return 0;
}

static int r_start(void *state, char *err, size_t errlen)
{
    struct rs *s = state;
    if (s->fail_start) {
        snprintf(err, errlen, "asked to fail");
        return SLUICE_ERR_INVALID;
    }
    s->host->record_iterate(s->ctx, "tmp/", log_cb, s);
    int n = 0;
    s->host->record_iterate(s->ctx, NULL, count_cb, &n);
    s->host->metric_set(s->keys, n);
    s->host->log(s->ctx, SLUICE_LOG_INFO, "started with %d keys", n);
    return 0;
}

static void r_stop(void *state)
{
    struct rs *s = state;
    int rc = s->host->record_put(s->ctx, "stopped", "yes", 3, NULL, NULL);
    s->host->log(s->ctx, SLUICE_LOG_INFO, "stop put rc=%d", rc);
}

static const struct sluice_service_ops svc = {
    .struct_size = sizeof(struct sluice_service_ops),
    .name = "recorder",
    .start = r_start,
    .stop = r_stop,
};

static int r_init(const struct sluice_host_api *host, struct sluice_module_ctx *ctx, char *err,
                  size_t errlen)
{
    if (!SLUICE_HOST_HAS(host, register_service)) {
        snprintf(err, errlen, "needs ABI 1.1");
        return SLUICE_ERR_UNSUPPORTED;
    }
    struct rs *s = host->alloc(ctx, sizeof *s);
    if (!s)
        return SLUICE_ERR_NOMEM;
    memset(s, 0, sizeof *s);
    s->host = host;
    s->ctx = ctx;
    host->set_data(ctx, s);
    host->config_get_bool(ctx, "fail_start", 0, &s->fail_start);

    /* Metrics. */
    const char *lbl[] = {"op", "put", NULL};
    struct sluice_metric_desc d = {.struct_size = sizeof d,
                                   .type = SLUICE_METRIC_COUNTER,
                                   .name = "mod_records_puts_total",
                                   .help = "Records written.",
                                   .labels = lbl};
    int rc = host->metric_register(ctx, &d, &s->puts);
    d.type = SLUICE_METRIC_GAUGE;
    d.name = "mod_records_keys";
    d.help = "Records stored.";
    d.labels = NULL;
    rc |= host->metric_register(ctx, &d, &s->keys);
    static const double b[] = {1, 10, 100};
    d.type = SLUICE_METRIC_HISTOGRAM;
    d.name = "mod_records_value_bytes";
    d.help = "Sizes of values written.";
    d.buckets = b;
    d.nbuckets = 3;
    rc |= host->metric_register(ctx, &d, &s->sizes);
    host->log(ctx, SLUICE_LOG_INFO, "metrics rc=%d", rc);
    struct sluice_metric *m = NULL;
    struct sluice_metric_desc steal = {.struct_size = sizeof steal,
                                       .type = SLUICE_METRIC_COUNTER,
                                       .name = "sluice_requests_total"};
    host->log(ctx, SLUICE_LOG_INFO, "steal core metric rc=%d",
              host->metric_register(ctx, &steal, &m));
    steal.struct_size = 4;
    host->log(ctx, SLUICE_LOG_INFO, "short desc rc=%d", host->metric_register(ctx, &steal, &m));

    /* Records. */
    char buf[32];
    size_t len = 0;
    long boots = 0;
    rc = host->record_get(ctx, "boot_count", buf, sizeof buf - 1, &len);
    if (rc == 0) {
        buf[len < sizeof buf - 1 ? len : sizeof buf - 1] = '\0';
        boots = strtol(buf, NULL, 10);
    }
    host->log(ctx, SLUICE_LOG_INFO, "boot_count was %ld (rc=%d)", boots, rc);
    snprintf(buf, sizeof buf, "%ld", boots + 1);
    host->log(ctx, SLUICE_LOG_INFO, "put boot_count rc=%d", put(s, "boot_count", buf));
    put(s, "tmp/a", "A");
    put(s, "tmp/b", "B");
    put(s, "tmp/c", "C");
    host->log(ctx, SLUICE_LOG_INFO, "delete tmp/b rc=%d",
              host->record_delete(ctx, "tmp/b", acked, s));
    host->log(ctx, SLUICE_LOG_INFO, "delete missing rc=%d",
              host->record_delete(ctx, "nope", acked, s));
    char longkey[SLUICE_RECORD_MAX_KEY + 2];
    memset(longkey, 'k', sizeof longkey - 1);
    longkey[sizeof longkey - 1] = '\0';
    host->log(ctx, SLUICE_LOG_INFO, "long key rc=%d",
              host->record_put(ctx, longkey, "x", 1, NULL, NULL));
    static char big[SLUICE_RECORD_MAX_VALUE + 1];
    host->log(ctx, SLUICE_LOG_INFO, "big value rc=%d",
              host->record_put(ctx, "big", big, sizeof big, NULL, NULL));
    len = 0;
    rc = host->record_get(ctx, "boot_count", NULL, 0, &len);
    host->log(ctx, SLUICE_LOG_INFO, "sized boot_count rc=%d len=%zu", rc, len);
    host->log(ctx, SLUICE_LOG_INFO, "get missing rc=%d",
              host->record_get(ctx, "tmp/b", buf, sizeof buf, &len));

    return host->register_service(ctx, &svc, s);
}

static void r_fini(const struct sluice_host_api *host, struct sluice_module_ctx *ctx)
{
    struct rs *s = host->get_data(ctx);
    char buf[8] = "";
    size_t len = 0;
    int rc = host->record_get(ctx, "stopped", buf, sizeof buf - 1, &len);
    host->log(ctx, SLUICE_LOG_INFO, "fini sees stopped=%.*s rc=%d", (int)len, buf, rc);
    host->free(ctx, s);
}

SLUICE_MODULE_DECLARE("mod_records", "0.0.1", SLUICE_KIND_SERVICE, r_init, r_fini,
                      "exercises metrics, records and services");
