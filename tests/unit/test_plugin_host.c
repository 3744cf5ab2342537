/* Plugin ABI 1.1 host functions, through real modules: metrics in the
 * broker's registry, durable records in a real metadata log (acknowledged
 * after fsync, replayed after reopen), services started and stopped in
 * order; plus the compatibility cases: a module compiled against the
 * frozen 1.0 headers and one targeting 1.0 from the 1.1 header. */
#include "config.h"

#include <ev.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "meta/metadata_store.h"
#include "meta/module_record.h"
#include "metrics/metrics.h"
#include "plugin/host_api.h"
#include "module_fixture.h"
#include "storage/flusher.h"
#include "tap.h"
#include "util/logger.h"

static char h11_dir[512], abi10_dir[512];

struct env {
    struct ev_loop *loop;
    struct flusher *fl;
    struct meta_store *ms;
    struct metrics_registry *metrics;
    struct sluice_logger lg;
    char dir[64];
};

static void env_open_store(struct env *e)
{
    char err[256];
    e->ms = NULL;
    if (meta_store_open(&e->ms, e->dir, e->fl, &e->lg, 1000, err, sizeof err) != 0)
        diag("meta_store_open: %s", err);
}

static void reg_setup(struct module_registry *reg, struct fixture *f, struct env *e)
{
    char err[256];
    mf_setup(reg, f);
    module_registry_set_loop(reg, e->loop, err, sizeof err);
    module_registry_set_metrics(reg, e->metrics);
    module_registry_set_meta(reg, e->ms);
}

static void run_until(struct env *e, const struct fixture *f, const char *line, int times)
{
    for (int i = 0; i < 2000 && count_log(f, line) < times; i++)
        ev_run(e->loop, EVRUN_ONCE);
}

static void test_records_metrics_services(struct env *e)
{
    struct module_registry reg;
    struct fixture f;
    char err[512], want[1200];
    reg_setup(&reg, &f, e);

    is_int(module_load(&reg, "mod_records", h11_dir, err, sizeof err), 0, "mod_records loads");
    ok(has_log(&f, "[mod_records] metrics rc=0"), "counter, gauge and histogram registered");
    ok(has_log(&f, "[mod_records] steal core metric rc=-6"),
       "a broker-owned metric name is SLUICE_ERR_EXISTS");
    ok(has_log(&f, "[mod_records] metric_register: metric sluice_requests_total is already "
                   "registered by another owner"),
       "... and the reason is logged under the module name");
    ok(has_log(&f, "[mod_records] short desc rc=-3"), "desc struct_size below 1.1 minimum refused");
    ok(has_log(&f, "[mod_records] boot_count was 0 (rc=-7)"), "first boot: record not found");
    ok(has_log(&f, "[mod_records] put boot_count rc=0"), "record_put accepted");
    ok(has_log(&f, "[mod_records] delete tmp/b rc=0"), "record_delete accepted");
    ok(has_log(&f, "[mod_records] delete missing rc=-7"), "deleting a missing key: NOT_FOUND");
    ok(has_log(&f, "[mod_records] long key rc=-3"), "256-byte key: INVALID");
    ok(has_log(&f, "[mod_records] big value rc=-5"), "65537-byte value: TOO_LARGE");
    ok(has_log(&f, "[mod_records] sized boot_count rc=0 len=1"), "cap 0 reports the length");
    ok(has_log(&f, "[mod_records] get missing rc=-7"), "deleted key reads as NOT_FOUND");
    is_int(count_log(&f, "[mod_records] acked err=0"), 0, "no acknowledgement before the loop runs");
    run_until(e, &f, "[mod_records] acked err=0", 5);
    is_int(count_log(&f, "[mod_records] acked err=0"), 5,
           "4 puts + 1 delete acknowledged after fsync, on the loop");

    char *text = metrics_expose(e->metrics, NULL);
    ok(strstr(text, "# TYPE mod_records_puts_total counter\n"
                    "mod_records_puts_total{op=\"put\"} 4\n") != NULL,
       "module counter in the exposition");
    ok(strstr(text, "mod_records_value_bytes_bucket{le=\"1\"} 4\n"
                    "mod_records_value_bytes_bucket{le=\"10\"} 4\n") != NULL &&
           strstr(text, "mod_records_value_bytes_count 4\n") != NULL,
       "module histogram in the exposition");
    free(text);

    is_int(module_registry_start_services(&reg, err, sizeof err), 0, "services start");
    ok(has_log(&f, "[mod_records] iter tmp/a=A") && has_log(&f, "[mod_records] iter tmp/c=C") &&
           !has_log(&f, "[mod_records] iter tmp/b=B"),
       "record_iterate by prefix, deleted key absent");
    ok(has_log(&f, "[mod_records] started with 3 keys"), "iterate over all keys");
    ok(has_log(&f, "[mod_records] service recorder started"), "host logs the start");
    text = metrics_expose(e->metrics, NULL);
    ok(strstr(text, "\nmod_records_keys 3\n") != NULL, "gauge set from the service");
    free(text);

    module_registry_free(&reg);
    ok(has_log(&f, "[mod_records] stop put rc=0"), "stop() can still write records");
    ok(has_log(&f, "[mod_records] fini sees stopped=yes rc=0"), "fini reads what stop wrote");
    text = metrics_expose(e->metrics, NULL);
    ok(strstr(text, "mod_records_") == NULL, "module metrics gone after unload");
    ok(strstr(text, "sluice_requests_total") != NULL, "core metrics stay");
    free(text);
    /* The "stopped" put's ack is still queued in the flusher: it must be
     * dropped, not delivered into an unloaded module. */
    for (int i = 0; i < 50; i++)
        ev_run(e->loop, EVRUN_NOWAIT);
    is_int(count_log(&f, "[mod_records] acked err=0"), 5, "no ack delivered after unload");

    /* Restart: close the metadata log and replay it. */
    meta_store_close(e->ms);
    env_open_store(e);
    size_t len = 0;
    const uint8_t *v =
        meta_module_record_get(meta_store_image(e->ms), "mod_records", "stopped", &len);
    ok(v && len == 3 && memcmp(v, "yes", 3) == 0, "unacknowledged write from stop() persisted");
    is_int(meta_module_record_count(meta_store_image(e->ms), "mod_records"), 4,
           "boot_count, tmp/a, tmp/c, stopped replayed");

    reg_setup(&reg, &f, e);
    is_int(module_load(&reg, "mod_records", h11_dir, err, sizeof err), 0, "loads again");
    ok(has_log(&f, "[mod_records] boot_count was 1 (rc=0)"), "record survived the restart");
    run_until(e, &f, "[mod_records] acked err=0", 5);
    module_registry_free(&reg);

    /* A failing start stops start-up with one message. */
    reg_setup(&reg, &f, e);
    cfg_set(&f, "module.mod_records.fail_start", "true");
    is_int(module_load(&reg, "mod_records", h11_dir, err, sizeof err), 0, "loads with fail_start");
    is_int(module_registry_start_services(&reg, err, sizeof err), -1, "start fails");
    snprintf(want, sizeof want,
             "module 'mod_records' (%s/mod_records.so): service recorder failed to start (-3): "
             "asked to fail",
             h11_dir);
    is_str(err, want, "message names module, file, service and reason");
    ok(!has_log(&f, "[mod_records] stop put rc=0"), "stop not called for a service that never started");
    run_until(e, &f, "[mod_records] acked err=0", 5);
    module_registry_free(&reg);
    if (f.nlogs && !has_log(&f, "[mod_records] fini sees stopped=yes rc=0"))
        dump_logs(&f);
}

static void test_without_store(void)
{
    /* --list-modules style host: no metadata log, no metrics registry. */
    struct module_registry reg;
    struct fixture f;
    char err[512];
    memset(&f, 0, sizeof f);
    module_registry_init(&reg);
    module_registry_set_config(&reg, cfg_lookup, &f);
    module_registry_set_log(&reg, log_capture, &f);
    is_int(module_load(&reg, "mod_records", h11_dir, err, sizeof err), 0,
           "loads without store or registry");
    ok(has_log(&f, "[mod_records] boot_count was 0 (rc=-8)") &&
           has_log(&f, "[mod_records] put boot_count rc=-8"),
       "record_* answer SLUICE_ERR_UNSUPPORTED");
    ok(has_log(&f, "[mod_records] metrics rc=-8"), "metric_register answers SLUICE_ERR_UNSUPPORTED");
    module_registry_free(&reg);
}

static void test_compat(struct env *e)
{
    struct module_registry reg;
    struct fixture f;
    char err[512];
    reg_setup(&reg, &f, e);
    is_int(module_load(&reg, "mod_abi10", abi10_dir, err, sizeof err), 0,
           "module compiled against the frozen 1.0 headers loads");
    char want[128];
    snprintf(want, sizeof want, "[mod_abi10] built for 1.0, host is 1.%d, table covers post=1",
             SLUICE_ABI_MINOR);
    ok(has_log(&f, want), "it sees the newer host table");
    const struct sluice_module *d = module_registry_find(&reg, "mod_abi10");
    ok(d && d->abi_minor == 0, "descriptor says 1.0");
    uint8_t *out;
    size_t outlen;
    is_int(module_registry_compress(&reg, 7, SLUICE_CODEC_LEVEL_DEFAULT, (const uint8_t *)"old", 3,
                                    &out, &outlen),
           0, "its codec works");
    ok(outlen == 3 && memcmp(out, "old", 3) == 0, "... identity");
    free(out);

    is_int(module_load(&reg, "mod_target10", h11_dir, err, sizeof err), 0,
           "SLUICE_TARGET_ABI_MINOR 0 module loads");
    d = module_registry_find(&reg, "mod_target10");
    ok(d && d->abi_minor == 0, "its descriptor declares minor 0");
    ok(has_log(&f, "[mod_target10] has metric_register=1 has register_service=1"),
       "SLUICE_HOST_HAS finds the 1.1 members on this host");
    module_registry_free(&reg);

    /* On a 1.0-sized host table the same checks come out false. */
    struct sluice_host_api v10;
    memcpy(&v10, host_api_table(), sizeof v10);
    v10.size = offsetof(struct sluice_host_api, metric_register);
    ok(SLUICE_HOST_HAS(&v10, post) && !SLUICE_HOST_HAS(&v10, metric_register) &&
           !SLUICE_HOST_HAS(&v10, register_service),
       "SLUICE_HOST_HAS on a 1.0-sized table");
    ok(host_api_table()->size == sizeof(struct sluice_host_api) &&
           host_api_table()->abi_minor == SLUICE_ABI_MINOR,
       "host table header: size and minor");
}

int main(void)
{
    const char *top = getenv("SLUICE_TOP_BUILDDIR");
    if (!top)
        skip_all("SLUICE_TOP_BUILDDIR not set (run via make check)");
    snprintf(h11_dir, sizeof h11_dir, "%s/tests/modules/host11/.libs", top);
    snprintf(abi10_dir, sizeof abi10_dir, "%s/tests/modules/abi-1.0/.libs", top);

    struct env e;
    memset(&e, 0, sizeof e);
    snprintf(e.dir, sizeof e.dir, "/tmp/sluice-host11-XXXXXX");
    if (!mkdtemp(e.dir))
        skip_all("mkdtemp failed");
    e.loop = ev_loop_new(EVFLAG_AUTO);
    e.fl = flusher_new(e.loop);
    logger_init_stderr(&e.lg);
    logger_set_level(&e.lg, SLOG_WARN);
    env_open_store(&e);
    e.metrics = metrics_registry_new();
    /* The broker registers its own families first. */
    struct metric *core;
    char err[256];
    struct metric_spec cs = {.type = METRIC_COUNTER, .name = "sluice_requests_total"};
    metrics_register(e.metrics, NULL, &cs, &core, err, sizeof err);

    test_records_metrics_services(&e);
    test_without_store();
    test_compat(&e);

    meta_store_close(e.ms);
    flusher_free(e.fl);
    metrics_registry_free(e.metrics);
    ev_loop_destroy(e.loop);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", e.dir);
    if (system(cmd) != 0)
        diag("could not remove %s", e.dir);
    return done_testing();
}
