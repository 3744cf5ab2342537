/* The broker's side of log compaction: the log cleaner's life cycle and
 * configuration (log.cleaner.* keys), and internal compacted topics
 * (__consumer_offsets, __transaction_state) for the coordinators. */
#include "broker/broker.h"
#include "plugin/module_loader.h"
#include "storage/log_cleaner.h"
#include "storage/partition_log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

_Static_assert(BF_CODEC_LEVEL_DEFAULT == SLUICE_CODEC_LEVEL_DEFAULT, "codec level constant");
_Static_assert((int)PLOG_CLEANUP_DELETE == (int)SLUICE_CLEANUP_DELETE &&
                   (int)PLOG_CLEANUP_COMPACT == (int)SLUICE_CLEANUP_COMPACT,
               "cleanup.policy bits");

static void cleaner_config(const struct broker *b, struct log_cleaner_config *c)
{
    const struct sluice_config *cfg = b->cfg;
    log_cleaner_config_default(c);
    c->enable = cfg->log_cleaner_enable;
    c->threads = cfg->log_cleaner_threads;
    c->dedupe_buffer_size = cfg->log_cleaner_dedupe_buffer_size;
    c->io_buffer_size = cfg->log_cleaner_io_buffer_size;
    c->io_buffer_load_factor = cfg->log_cleaner_io_buffer_load_factor;
    c->io_max_bytes_per_second = cfg->log_cleaner_io_max_bytes_per_second;
    c->backoff_ms = cfg->log_cleaner_backoff_ms;
    /* Crash-point tests (tests/integration/06x-compaction-*): stop the
     * loop thread after that swap step so the test can kill -9 there. */
    const char *pause = getenv("SLUICE_TEST_CLEANER_SWAP_PAUSE");
    if (pause && *pause)
        c->test_pause_step = atoi(pause);
}

int broker_cleaner_start(struct broker *b, char *err, size_t errlen)
{
    struct log_cleaner_config c;
    cleaner_config(b, &c);
    char e[256];
    b->cleaner = log_cleaner_new(b->loop, b->flusher, b->log, &c, module_registry_decompress,
                                 module_registry_compress, b->modules, e, sizeof e);
    if (!b->cleaner) {
        snprintf(err, errlen, "log cleaner: %s", e);
        return -1;
    }
    if (c.test_pause_step > 0)
        slog(b->log, SLOG_WARN, "log-cleaner",
             "SLUICE_TEST_CLEANER_SWAP_PAUSE=%d: the broker stops after that swap step "
             "(tests only)",
             c.test_pause_step);
    return 0;
}

void broker_cleaner_reconfigure(struct broker *b)
{
    if (!b->cleaner)
        return;
    struct log_cleaner_config c;
    cleaner_config(b, &c);
    log_cleaner_reconfigure(b->cleaner, &c);
}

void broker_cleaner_stop(struct broker *b)
{
    log_cleaner_free(b->cleaner);
    b->cleaner = NULL;
}

int16_t broker_create_internal_topic(struct broker *b, const char *name, int32_t nparts,
                                     int16_t replication_factor, int32_t segment_bytes,
                                     const struct kv *extra, size_t nextra, char *errmsg,
                                     size_t errlen)
{
    struct meta_configs cfgs = { 0 };
    char seg[16];
    snprintf(seg, sizeof seg, "%d", segment_bytes);
    /* Kafka's GroupCoordinator/TransactionCoordinator topic configs:
     * compacted, segment size from the broker key; callers add the rest
     * (compression.type, min.insync.replicas, ...). */
    meta_configs_set(&cfgs, "cleanup.policy", "compact");
    meta_configs_set(&cfgs, "segment.bytes", seg);
    for (size_t i = 0; i < nextra; i++)
        meta_configs_set(&cfgs, extra[i].key, extra[i].value);
    int16_t ec = broker_create_topic(b, name, nparts, replication_factor, &cfgs, false, errmsg,
                                     errlen);
    meta_configs_free(&cfgs);
    return ec;
}
