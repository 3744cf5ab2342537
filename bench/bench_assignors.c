/* Partition assignor benchmark: loads the assignor modules of this build
 * through the module loader and times one assignment of 10,000 partitions
 * (100 topics x 100) for 10, 100 and 1,000 members:
 *   fresh        no current assignment (a new group);
 *   incremental  the fresh result as the current target, one member left;
 * printing milliseconds per assignment (median of --repeat runs), the
 * partitions that moved, the minimum that had to move (uniform
 * subscriptions), and the final max-min load spread.
 *
 * Shapes: "uniform" (every member subscribes to every topic), "mixed"
 * (member i skips the topics t with (t + i) % 4 == 0: heterogeneous, takes
 * the balancing paths), "sparse" (each member subscribes to 10 scattered
 * topics: very heterogeneous) and "racks" (uniform plus 3 racks, each
 * partition with one replica on rack p % 3).
 *
 *   make bench-assignors [BENCH_ARGS='--repeat 9 --members 1000']
 *   ./bench/bench_assignors --top <builddir> [--repeat N] [--members M]
 *                           [--shape uniform|mixed|sparse|racks] */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "assignor_fixture.h"
#include "plugin/assignor.h"
#include "plugin/module_loader.h"

#define TOPICS 100
#define PARTS 100

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static const char *const racks3[] = {"az-a", "az-b", "az-c"};

static struct fx *build(int members, const char *shape)
{
    struct fx *f = fx_new();
    for (int t = 0; t < TOPICS; t++) {
        char name[32];
        snprintf(name, sizeof name, "topic-%03d", t);
        fx_topic(f, name, PARTS);
        if (!strcmp(shape, "racks"))
            for (int32_t p = 0; p < PARTS; p++)
                fx_prack(f, (uint32_t)t, p, (const char *const[]){racks3[p % 3], NULL});
    }
    for (int i = 0; i < members; i++) {
        char id[48];
        snprintf(id, sizeof id, "consumer-%04d-5f1c2a", i);
        uint32_t m = fx_member(f, id, NULL, !strcmp(shape, "racks") ? racks3[i % 3] : NULL);
        if (!strcmp(shape, "sparse")) {
            for (int k = 0; k < 10; k++)
                fx_sub(f, m, (uint32_t)((i * 7 + k * 13 + (i / 10) * k) % TOPICS));
            continue;
        }
        for (int t = 0; t < TOPICS; t++)
            if (strcmp(shape, "mixed") || (t + i) % 4 != 0)
                fx_sub(f, m, (uint32_t)t);
    }
    return f;
}

/* Median ms of `repeat` assignments of g; leaves the last result in *out. */
static double time_assign(const struct module_assignor *a, const struct sluice_assignor_group *g,
                          int repeat, struct assignor_result *out)
{
    double *ms = malloc((size_t)repeat * sizeof *ms);
    char err[512];
    for (int i = 0; i < repeat; i++) {
        if (i)
            assignor_result_free(out);
        double t0 = now_ms();
        if (assignor_run(a, g, out, err, sizeof err) != 0) {
            fprintf(stderr, "bench: %s: %s\n", a->ops.name, err);
            exit(1);
        }
        ms[i] = now_ms() - t0;
    }
    qsort(ms, (size_t)repeat, sizeof *ms, cmp_double);
    double med = ms[repeat / 2];
    free(ms);
    return med;
}

static void stats(const struct sluice_assignor_group *g, int32_t *const *own, size_t *moved,
                  int64_t *spread)
{
    int64_t *load = calloc(g->num_members + 1, sizeof *load);
    *moved = 0;
    for (uint32_t t = 0; t < g->num_topics; t++)
        for (int32_t p = 0; p < g->topics[t]->num_partitions; p++) {
            int32_t o = own[t][p];
            if (o >= 0)
                load[o]++;
            if (o != g->topics[t]->current_owner[p])
                (*moved)++;
        }
    int64_t mn = INT64_MAX, mx = 0;
    for (uint32_t m = 0; m < g->num_members; m++) {
        mn = load[m] < mn ? load[m] : mn;
        mx = load[m] > mx ? load[m] : mx;
    }
    *spread = g->num_members ? mx - mn : 0;
    free(load);
}

/* Fewest moves for a uniform-subscription group (see test_assignors.c). */
static size_t min_moves(const struct sluice_assignor_group *g)
{
    int64_t P = (int64_t)TOPICS * PARTS, M = g->num_members, base = P / M, extra = P % M;
    int64_t *c = calloc((size_t)M, sizeof *c), keep = 0, over = 0;
    for (uint32_t t = 0; t < g->num_topics; t++)
        for (int32_t p = 0; p < g->topics[t]->num_partitions; p++)
            if (g->topics[t]->current_owner[p] >= 0)
                c[g->topics[t]->current_owner[p]]++;
    for (int64_t m = 0; m < M; m++) {
        keep += c[m] < base ? c[m] : base;
        over += c[m] > base;
    }
    keep += over < extra ? over : extra;
    free(c);
    return (size_t)(P - keep);
}

static void bench_one(const struct module_assignor *a, int members, const char *shape, int repeat)
{
    struct fx *f = build(members, shape);
    const struct sluice_assignor_group *g = fx_finish(f);
    struct assignor_result r;
    double fresh = time_assign(a, g, repeat, &r);

    fx_set_current(f, r.owner);
    assignor_result_free(&r);
    fx_remove_member(f, (uint32_t)members / 2);
    g = fx_finish(f);
    double incr = time_assign(a, g, repeat, &r);
    size_t moved;
    int64_t spread;
    stats(g, r.owner, &moved, &spread);
    char minbuf[32] = "-";
    /* The minimum is only defined here for balanced targets of uniform
     * subscriptions; range does not aim for it. */
    if ((!strcmp(shape, "uniform") || !strcmp(shape, "racks")) && strcmp(a->ops.name, "range"))
        snprintf(minbuf, sizeof minbuf, "%zu", min_moves(g));

    char stepbuf[32] = "-";
    if (a->ops.next_step) {
        struct assignor_result step;
        char err[512];
        double t0 = now_ms();
        if (assignor_run_step(a, g, &r.res, &step, err, sizeof err) == 0) {
            snprintf(stepbuf, sizeof stepbuf, "%.3f", now_ms() - t0);
            assignor_result_free(&step);
        }
    }
    printf("%-19s %-7s %7d %10d %10.3f %10.3f %7zu %9s %6lld %8s\n", a->ops.name, shape, members,
           TOPICS * PARTS, fresh, incr, moved, minbuf, (long long)spread, stepbuf);
    fflush(stdout);
    assignor_result_free(&r);
    fx_free(f);
}

static void quiet(void *ud, int level, const char *msg)
{
    (void)ud;
    (void)level;
    (void)msg;
}

int main(int argc, char **argv)
{
    const char *top = getenv("SLUICE_TOP_BUILDDIR"), *only_shape = NULL;
    int repeat = 5, only_members = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--top") && i + 1 < argc)
            top = argv[++i];
        else if (!strcmp(argv[i], "--repeat") && i + 1 < argc)
            repeat = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--members") && i + 1 < argc)
            only_members = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--shape") && i + 1 < argc)
            only_shape = argv[++i];
        else {
            fprintf(stderr,
                    "usage: %s --top BUILDDIR [--repeat N] [--members M] [--shape "
                    "uniform|mixed|sparse|racks]\n",
                    argv[0]);
            return 2;
        }
    }
    if (!top || repeat < 1) {
        fprintf(stderr, "bench: --top BUILDDIR (or SLUICE_TOP_BUILDDIR) is required\n");
        return 2;
    }
    struct module_registry reg;
    module_registry_init(&reg);
    module_registry_set_log(&reg, quiet, NULL);
    static const char *const mods[] = {"assignor_range", "assignor_sticky",
                                       "assignor_cooperative_sticky"};
    for (size_t i = 0; i < 3; i++) {
        char dir[1024], err[1024];
        snprintf(dir, sizeof dir, "%s/modules/%s/.libs", top, mods[i]);
        if (module_load(&reg, mods[i], dir, err, sizeof err) != 0) {
            fprintf(stderr, "bench: %s\n", err);
            return 1;
        }
    }
    static const char *const names[] = {"range", "uniform", "cooperative-sticky"};
    static const char *const shapes[] = {"uniform", "mixed", "sparse", "racks"};
    static const int sizes[] = {10, 100, 1000};
    printf("# %d topics x %d partitions; median of %d runs; incremental = one member left\n",
           TOPICS, PARTS, repeat);
    printf("%-19s %-7s %7s %10s %10s %10s %7s %9s %6s %8s\n", "assignor", "shape", "members",
           "partitions", "fresh_ms", "incr_ms", "moved", "min_moved", "spread", "step_ms");
    for (size_t s = 0; s < 4; s++) {
        if (only_shape && strcmp(only_shape, shapes[s]))
            continue;
        for (size_t n = 0; n < 3; n++) {
            if (only_members && only_members != sizes[n])
                continue;
            for (size_t k = 0; k < 3; k++)
                bench_one(module_registry_assignor(&reg, names[k]), sizes[n], shapes[s], repeat);
        }
    }
    module_registry_free(&reg);
    return 0;
}
