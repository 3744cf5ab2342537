/* Test helper: a module registry with a config table and captured log
 * lines, for the unit tests that load real modules (test_plugin_loader,
 * test_codecs, test_plugin_host).
 *
 *   struct module_registry reg;
 *   struct fixture f;
 *   mf_setup(&reg, &f);                  // empty config, no log lines yet
 *   cfg_set(&f, "module.x.level", "3");  // what the module reads
 *   ... load ...; ok(has_log(&f, "[x] ready"), ...);
 *
 * Header-only static helpers: include it once per test program. */
#ifndef SLUICE_MODULE_FIXTURE_H
#define SLUICE_MODULE_FIXTURE_H

#include <stdio.h>
#include <string.h>

#include "plugin/module_loader.h"
#include "tap.h"

struct kv {
    const char *key, *val;
};

struct fixture {
    struct kv cfg[16];
    int ncfg;
    char logs[128][512];
    int nlogs;
};

static inline const char *cfg_lookup(void *ud, const char *key)
{
    struct fixture *f = ud;
    for (int i = 0; i < f->ncfg; i++)
        if (strcmp(f->cfg[i].key, key) == 0)
            return f->cfg[i].val;
    return NULL;
}

/* Set (or replace) key; f keeps the pointers. */
static inline void cfg_set(struct fixture *f, const char *key, const char *val)
{
    for (int i = 0; i < f->ncfg; i++)
        if (strcmp(f->cfg[i].key, key) == 0) {
            f->cfg[i].val = val;
            return;
        }
    f->cfg[f->ncfg++] = (struct kv){key, val};
}

static inline void log_capture(void *ud, int level, const char *msg)
{
    (void)level;
    struct fixture *f = ud;
    if (f->nlogs < 128)
        snprintf(f->logs[f->nlogs++], sizeof f->logs[0], "%s", msg);
}

/* How many captured lines are exactly want. */
static inline int count_log(const struct fixture *f, const char *want)
{
    int n = 0;
    for (int i = 0; i < f->nlogs; i++)
        n += strcmp(f->logs[i], want) == 0;
    return n;
}

static inline int has_log(const struct fixture *f, const char *want)
{
    return count_log(f, want) > 0;
}

static inline int has_log_prefix(const struct fixture *f, const char *want)
{
    for (int i = 0; i < f->nlogs; i++)
        if (strncmp(f->logs[i], want, strlen(want)) == 0)
            return 1;
    return 0;
}

static inline void dump_logs(const struct fixture *f)
{
    for (int i = 0; i < f->nlogs; i++)
        diag("log: %s", f->logs[i]);
}

/* A fresh registry reading its config from f and logging into f. */
static inline void mf_setup(struct module_registry *reg, struct fixture *f)
{
    memset(f, 0, sizeof *f);
    module_registry_init(reg);
    module_registry_set_config(reg, cfg_lookup, f);
    module_registry_set_log(reg, log_capture, f);
}

#endif
