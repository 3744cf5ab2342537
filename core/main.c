/* sluiced: the Sluice broker daemon. */
#include "config.h"

#include <ev.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/broker.h"
#include "broker/transports.h"
#include "broker/broker_metrics.h"
#include "config/broker_config.h"
#include "plugin/module_loader.h"
#include "util/logger.h"

struct daemon_ctx {
    struct broker broker;
    struct sluice_logger log;
    struct sluice_config cfg;
    struct module_registry modules;
    ev_signal sigterm, sigint, sighup, sigusr1;
};

static void usage(FILE *out)
{
    fprintf(out,
            "usage: sluiced -c FILE [--port-file FILE] [--metrics-file FILE]\n"
            "       sluiced --list-modules [-c FILE]\n"
            "  -c, --config FILE     broker properties (Kafka names: listeners, log.dirs, ...)\n"
            "      --port-file FILE  write 'LISTENER PORT' lines once listening\n"
            "      --metrics-file FILE\n"
            "                        write the metrics (Prometheus text format) to FILE on\n"
            "                        SIGUSR1 and at shutdown\n"
            "      --list-modules    list the modules in plugin.dir and exit\n"
            "      --plugin-dir DIR  look modules up in DIR (overrides plugin.dir)\n"
            "  -V, --version         print the version and exit\n");
}

static void on_stop(struct ev_loop *loop, ev_signal *w, int revents)
{
    (void)revents;
    struct daemon_ctx *d = w->data;
    slog(&d->log, SLOG_INFO, "broker", "received %s: shutting down",
         w->signum == SIGTERM ? "SIGTERM" : "SIGINT");
    ev_break(loop, EVBREAK_ALL);
}

static void on_hup(struct ev_loop *loop, ev_signal *w, int revents)
{
    (void)loop;
    (void)revents;
    struct daemon_ctx *d = w->data;
    char err[256];
    if (logger_reopen(&d->log, err, sizeof err) < 0)
        fprintf(stderr, "sluiced: SIGHUP: cannot reopen log file: %s\n", err);
    else
        slog(&d->log, SLOG_INFO, "broker", "log file reopened (SIGHUP)");
    /* TLS listeners re-read their key and trust stores for new connections. */
    broker_transports_reload(d->broker.transports);
}

static void on_usr1(struct ev_loop *loop, ev_signal *w, int revents)
{
    (void)loop;
    (void)revents;
    struct daemon_ctx *d = w->data;
    broker_metrics_dump(&d->broker, d->broker.metrics_file);
}

/* Start-up failures: one line on stderr, and the same in the log file
 * when there is one (without a log file the log *is* stderr). */
static int startup_failed(struct daemon_ctx *d, const char *err)
{
    fprintf(stderr, "sluiced: %s\n", err);
    if (d->log.path)
        slog(&d->log, SLOG_ERROR, "broker", "start-up failed: %s", err);
    return 1;
}

static const char *config_lookup(void *ud, const char *key)
{
    return sluice_config_value(ud, key);
}

static void module_log(void *ud, int level, const char *msg)
{
    slog(ud, level, "module", "%s", msg);
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        { "config", required_argument, NULL, 'c' },
        { "port-file", required_argument, NULL, 'p' },
        { "metrics-file", required_argument, NULL, 'm' },
        { "list-modules", no_argument, NULL, 'l' },
        { "plugin-dir", required_argument, NULL, 'P' },
        { "version", no_argument, NULL, 'V' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *config_path = NULL, *port_file = NULL, *metrics_file = NULL, *plugin_dir = NULL;
    int list_modules = 0, c;
    while ((c = getopt_long(argc, argv, "c:Vh", opts, NULL)) != -1) {
        switch (c) {
        case 'c': config_path = optarg; break;
        case 'p': port_file = optarg; break;
        case 'm': metrics_file = optarg; break;
        case 'l': list_modules = 1; break;
        case 'P': plugin_dir = optarg; break;
        case 'V': printf("sluiced %s\n", PACKAGE_VERSION); return 0;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind < argc || (!config_path && !list_modules)) {
        usage(stderr);
        return 2;
    }

    static struct daemon_ctx d; /* lives for the whole process; not shared state */
    char err[1024];
    logger_init_stderr(&d.log);
    if (config_path) {
        /* First pass silent, only to learn log.file; the second pass sends
         * the warnings (unknown keys, ignored Kafka keys) to the log the
         * operator configured. */
        if (sluice_config_load(&d.cfg, config_path, NULL, err, sizeof err) < 0) {
            fprintf(stderr, "sluiced: %s\n", err);
            return 1;
        }
        if (d.cfg.log_file && !list_modules &&
            logger_open(&d.log, d.cfg.log_file, d.cfg.log_level, err, sizeof err) < 0) {
            fprintf(stderr, "sluiced: log.file: %s\n", err);
            return 1;
        }
        sluice_config_free(&d.cfg);
        if (sluice_config_load(&d.cfg, config_path, &d.log, err, sizeof err) < 0) {
            fprintf(stderr, "sluiced: %s\n", err);
            return 1;
        }
    } else {
        sluice_config_defaults(&d.cfg);
    }
    if (plugin_dir) {
        /* A build tree's modules (tools/start-broker.sh) without editing
         * the config. */
        char *dup = strdup(plugin_dir);
        if (!dup) {
            fprintf(stderr, "sluiced: out of memory\n");
            return 1;
        }
        free(d.cfg.plugin_dir);
        d.cfg.plugin_dir = dup;
    }
    if (list_modules) {
        const char *dir = d.cfg.plugin_dir ? d.cfg.plugin_dir : SLUICE_MODULE_DIR;
        return module_list_dir(dir, stdout) < 0 ? 1 : 0;
    }
    logger_set_level(&d.log, d.cfg.log_level);
    signal(SIGPIPE, SIG_IGN);

    struct ev_loop *loop = ev_default_loop(EVFLAG_AUTO);
    module_registry_init(&d.modules);
    module_registry_set_config(&d.modules, config_lookup, &d.cfg);
    module_registry_set_log(&d.modules, module_log, &d.log);
    if (module_registry_set_loop(&d.modules, loop, err, sizeof err) < 0)
        return startup_failed(&d, err);

    /* broker_init loads the modules (after opening the metadata log);
     * broker_listen starts their services once the listeners are bound. */
    if (broker_init(&d.broker, loop, &d.cfg, &d.log, &d.modules, err, sizeof err) < 0 ||
        broker_listen(&d.broker, port_file, err, sizeof err) < 0)
        return startup_failed(&d, err);
    d.broker.metrics_file = metrics_file;
    slog(&d.log, SLOG_INFO, "broker", "sluiced %s started (node.id %d, cluster id %s)",
         PACKAGE_VERSION, d.cfg.node_id, d.broker.cluster_id);

    ev_signal_init(&d.sigterm, on_stop, SIGTERM);
    ev_signal_init(&d.sigint, on_stop, SIGINT);
    ev_signal_init(&d.sighup, on_hup, SIGHUP);
    ev_signal_init(&d.sigusr1, on_usr1, SIGUSR1);
    d.sigterm.data = d.sigint.data = d.sighup.data = d.sigusr1.data = &d;
    ev_signal_start(loop, &d.sigterm);
    ev_signal_start(loop, &d.sigint);
    ev_signal_start(loop, &d.sighup);
    ev_signal_start(loop, &d.sigusr1);

    ev_run(loop, 0);

    broker_shutdown(&d.broker);
    module_registry_free(&d.modules);
    slog(&d.log, SLOG_INFO, "broker", "shutdown complete");
    logger_close(&d.log);
    sluice_config_free(&d.cfg);
    ev_loop_destroy(loop);
    return 0;
}
