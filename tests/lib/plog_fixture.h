/* Test helper: partition logs in a private temp dir.
 *
 *   int main(void) {
 *       plf_begin("sluice-pstate");    // mkdtemp /tmp/sluice-pstate-XXXXXX or skip_all
 *       ... new_dir(dir, sizeof dir); struct plog_config c = cfg_big(); ...
 *       plf_end();                     // rm -rf the temp dir
 *       return done_testing();
 *   }
 *
 * plf_producer_batch() builds a batch as an idempotent/transactional
 * producer sends it (see batch_builder.h).  Header-only, static helpers:
 * include it once per test program. */
#ifndef SLUICE_PLOG_FIXTURE_H
#define SLUICE_PLOG_FIXTURE_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "storage/partition_log.h"
#include "storage/producer_state.h"
#include "batch_builder.h"
#include "tap.h"

static char root[256]; /* the temp dir of this test program */
static int dir_seq;

/* A fresh (not yet created) log dir below root. */
static inline void new_dir(char *buf, size_t n)
{
    snprintf(buf, n, "%s/t-%d", root, dir_seq++);
}

/* Default config without retention or a timestamp window, so test
 * timestamps of any age are accepted and kept. */
static inline struct plog_config cfg_big(void)
{
    struct plog_config c;
    plog_config_default(&c);
    c.retention_ms = -1;
    c.message_timestamp_after_max_ms = INT64_MAX;
    return c;
}

static inline int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* mkdtemp /tmp/<prefix>-XXXXXX into root; skip_all when that fails. */
static inline void plf_begin(const char *prefix)
{
    snprintf(root, sizeof root, "/tmp/%s-XXXXXX", prefix);
    if (!mkdtemp(root))
        skip_all("mkdtemp failed");
}

static inline void plf_end(void)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    if (system(cmd) != 0)
        diag("cleanup failed");
}

/* A batch of n (<= 8) records from producer pid/epoch starting at sequence
 * seq (wrapping at INT32_MAX as Kafka does), with the given attributes
 * (e.g. RB_ATTR_TRANSACTIONAL).  Record i has key `key` (NULL: no key),
 * value "p<pid>-<seq_tag><sequence of record i>" and timestamp 1000 + i.  malloc'd, free() it. */
static inline uint8_t *plf_producer_batch(int64_t pid, int16_t epoch, int32_t seq, int n,
                                          int16_t attributes, const char *key,
                                          const char *seq_tag, size_t *len)
{
    struct bb_record recs[8];
    char vals[8][48];
    for (int i = 0; i < n && i < 8; i++) {
        snprintf(vals[i], sizeof vals[i], "p%lld-%s%d", (long long)pid, seq_tag,
                 (int)pstate_seq_add(seq, i));
        struct bb_record r = BB_REC(key, vals[i], 1000 + i);
        recs[i] = r;
    }
    struct bb_opts o = bb_default_opts();
    o.producer_id = pid;
    o.producer_epoch = epoch;
    o.base_sequence = seq;
    o.attributes = attributes;
    return bb_build(recs, n < 8 ? n : 8, &o, len);
}

#endif
