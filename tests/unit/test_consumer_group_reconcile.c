/* KIP-848 member reconciliation: the transitions of Kafka's
 * CurrentAssignmentBuilder (its test cases, same inputs and expected
 * states/epochs/sets), the heartbeat member-epoch check with Kafka's
 * messages, the partition-epoch table, and a many-member simulation where
 * clients acknowledge revocations late: no partition is ever owned by two
 * clients and everybody converges to the target. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "group/consumer_group_reconcile.h"
#include "tap.h"

static const uint8_t T1[16] = {0x11}, T2[16] = {0x22};

/* "1:1 1:2 2:4" -> {T1-1, T1-2, T2-4} */
static struct cgr_set S(const char *spec)
{
    struct cgr_set s = {0};
    const char *p = spec;
    while (*p) {
        while (*p == ' ')
            p++;
        if (!*p)
            break;
        int t = *p - '0';
        int part = atoi(p + 2);
        cgr_set_add(&s, t == 1 ? T1 : T2, part);
        while (*p && *p != ' ')
            p++;
    }
    return s;
}

static int set_is(const struct cgr_set *got, const char *spec)
{
    struct cgr_set want = S(spec);
    int eq = cgr_set_equal(got, &want);
    cgr_set_free(&want);
    return eq;
}

static struct cgr_member M(enum cgr_state st, int32_t epoch, int32_t prev, const char *assigned,
                           const char *pending)
{
    struct cgr_member m = {.state = st, .member_epoch = epoch, .previous_member_epoch = prev};
    m.assigned = S(assigned);
    m.pending_revocation = S(pending);
    return m;
}

/* Partition epochs for the single-member cases: "others" own these at
 * epoch 10; everything else is free (or owned by the member itself, which
 * the builder never asks about). */
struct others {
    struct cgr_set owned;
    int32_t epoch;
};

static int32_t others_epoch(void *ud, const uint8_t t[16], int32_t p)
{
    struct others *o = ud;
    return cgr_set_contains(&o->owned, t, p) ? o->epoch : -1;
}

static int member_is(const struct cgr_member *m, enum cgr_state st, int32_t epoch, int32_t prev,
                     const char *assigned, const char *pending)
{
    return m->state == st && m->member_epoch == epoch && m->previous_member_epoch == prev &&
           set_is(&m->assigned, assigned) && set_is(&m->pending_revocation, pending);
}

static void describe(const char *what, const struct cgr_member *m)
{
    diag("%s: state %d epoch %d prev %d assigned %zu pending %zu", what, m->state, m->member_epoch,
         m->previous_member_epoch, m->assigned.n, m->pending_revocation.n);
}

/* Runs one reconcile and compares. owned_spec NULL = not reported. */
static void step(const char *name, struct cgr_member cur, int32_t target_epoch,
                 const char *target_spec, const char *others_spec, const char *owned_spec,
                 int want_rc, int want_changed, enum cgr_state st, int32_t epoch, int32_t prev,
                 const char *assigned, const char *pending)
{
    struct cgr_set target = S(target_spec), owned = S(owned_spec ? owned_spec : "");
    struct others o = {.owned = S(others_spec), .epoch = 10};
    struct cgr_input in = {
        .target_epoch = target_epoch,
        .target = &target,
        .partition_epoch = others_epoch,
        .partition_epoch_ud = &o,
        .owned = owned_spec ? &owned : NULL,
    };
    struct cgr_member next = {0};
    int changed = -1;
    int rc = cgr_reconcile(&cur, &in, &next, &changed);
    if (want_rc) {
        is_int(rc, want_rc, "%s: rc", name);
    } else {
        int good = rc == 0 && changed == want_changed &&
                   member_is(&next, st, epoch, prev, assigned, pending);
        ok(good, "%s", name);
        if (!good)
            describe("got", &next);
    }
    cgr_member_free(&next);
    cgr_member_free(&cur);
    cgr_set_free(&target);
    cgr_set_free(&owned);
    cgr_set_free(&o.owned);
}

static void test_transitions(void)
{
    step("STABLE -> STABLE: same partitions, new epoch",
         M(CGR_STABLE, 10, 9, "1:1 1:2 1:3 2:4 2:5 2:6", ""), 11, "1:1 1:2 1:3 2:4 2:5 2:6", "",
         NULL, 0, 1, CGR_STABLE, 11, 10, "1:1 1:2 1:3 2:4 2:5 2:6", "");
    step("STABLE, epoch == target epoch: unchanged",
         M(CGR_STABLE, 11, 10, "1:1 1:2", ""), 11, "1:1 1:2 1:3", "", NULL, 0, 0, CGR_STABLE, 11,
         10, "1:1 1:2", "");
    step("STABLE -> STABLE with new free partitions",
         M(CGR_STABLE, 10, 9, "1:1 1:2 1:3 2:4 2:5 2:6", ""), 11,
         "1:1 1:2 1:3 1:4 2:4 2:5 2:6 2:7", "", NULL, 0, 1, CGR_STABLE, 11, 10,
         "1:1 1:2 1:3 1:4 2:4 2:5 2:6 2:7", "");
    step("STABLE -> UNREVOKED_PARTITIONS (owned not reported)",
         M(CGR_STABLE, 10, 9, "1:1 1:2 1:3 2:4 2:5 2:6", ""), 11, "1:2 1:3 1:4 2:5 2:6 2:7", "",
         NULL, 0, 1, CGR_UNREVOKED_PARTITIONS, 10, 10, "1:2 1:3 2:5 2:6", "1:1 2:4");
    step("STABLE -> UNRELEASED_PARTITIONS",
         M(CGR_STABLE, 10, 9, "1:1 1:2 1:3 2:4 2:5 2:6", ""), 11,
         "1:1 1:2 1:3 1:4 2:4 2:5 2:6 2:7", "1:4 2:7", NULL, 0, 1, CGR_UNRELEASED_PARTITIONS, 11,
         10, "1:1 1:2 1:3 2:4 2:5 2:6", "");
    step("STABLE, already revoked per owned -> skips UNREVOKED, waits on unreleased",
         M(CGR_STABLE, 10, 9, "1:1 1:2 1:3", ""), 11, "1:2 1:3 1:4", "1:4", "1:2 1:3", 0, 1,
         CGR_UNRELEASED_PARTITIONS, 11, 10, "1:2 1:3", "");
    step("UNREVOKED -> STABLE once revoked",
         M(CGR_UNREVOKED_PARTITIONS, 10, 10, "1:2 1:3 2:5 2:6", "1:1 2:4"), 11,
         "1:2 1:3 2:5 2:6", "", "1:2 1:3 2:5 2:6", 0, 1, CGR_STABLE, 11, 10, "1:2 1:3 2:5 2:6", "");
    step("UNREVOKED stays while a pending partition is still owned",
         M(CGR_UNREVOKED_PARTITIONS, 10, 10, "1:2 1:3 2:5 2:6", "1:1 2:4"), 11,
         "1:2 1:3 2:5 2:6", "", "1:1 1:2 1:3 2:5 2:6", 0, 0, CGR_UNREVOKED_PARTITIONS, 10, 10,
         "1:2 1:3 2:5 2:6", "1:1 2:4");
    step("UNREVOKED stays when owned is not reported",
         M(CGR_UNREVOKED_PARTITIONS, 10, 10, "1:2 1:3", "1:1"), 11, "1:2 1:3", "", NULL, 0, 0,
         CGR_UNREVOKED_PARTITIONS, 10, 10, "1:2 1:3", "1:1");
    step("UNREVOKED -> UNREVOKED when the target moved on",
         M(CGR_UNREVOKED_PARTITIONS, 10, 10, "1:2 1:3 2:5 2:6", "1:1 2:4"), 12, "1:3 2:6", "",
         "1:2 1:3 2:5 2:6", 0, 1, CGR_UNREVOKED_PARTITIONS, 10, 10, "1:3 2:6", "1:2 2:5");
    step("UNREVOKED -> UNRELEASED",
         M(CGR_UNREVOKED_PARTITIONS, 10, 10, "1:2 1:3 2:5 2:6", "1:1 2:4"), 11,
         "1:2 1:3 1:4 2:5 2:6 2:7", "1:4 2:7", "1:2 1:3 2:5 2:6", 0, 1, CGR_UNRELEASED_PARTITIONS,
         11, 10, "1:2 1:3 2:5 2:6", "");
    step("UNRELEASED -> STABLE when the partitions are released",
         M(CGR_UNRELEASED_PARTITIONS, 11, 10, "1:2 1:3 2:5 2:6", ""), 11,
         "1:2 1:3 1:4 2:5 2:6 2:7", "", "1:2 1:3 2:5 2:6", 0, 1, CGR_STABLE, 11, 11,
         "1:2 1:3 1:4 2:5 2:6 2:7", "");
    step("UNRELEASED stays while they are owned elsewhere",
         M(CGR_UNRELEASED_PARTITIONS, 11, 11, "1:2 1:3 2:5 2:6", ""), 11,
         "1:2 1:3 1:4 2:5 2:6 2:7", "1:4 2:7", "1:2 1:3 2:5 2:6", 0, 0,
         CGR_UNRELEASED_PARTITIONS, 11, 11, "1:2 1:3 2:5 2:6", "");
    step("UNRELEASED -> UNREVOKED on a newer target",
         M(CGR_UNRELEASED_PARTITIONS, 11, 10, "1:2 1:3 2:5 2:6", ""), 12, "1:3 2:6", "",
         "1:2 1:3 2:5 2:6", 0, 1, CGR_UNREVOKED_PARTITIONS, 11, 11, "1:3 2:6", "1:2 2:5");
    step("a partition the member itself is revoking is not unreleased",
         M(CGR_UNREVOKED_PARTITIONS, 10, 10, "1:2 1:3", "1:1"), 12, "1:1 1:2 1:3", "1:1",
         "1:2 1:3", 0, 1, CGR_STABLE, 12, 10, "1:1 1:2 1:3", "");
    step("UNKNOWN state, owned not reported -> FENCED_MEMBER_EPOCH",
         M(CGR_UNKNOWN, 10, 9, "1:1", ""), 11, "1:1", "", NULL, CGR_FENCED_MEMBER_EPOCH, 0, 0, 0, 0,
         "", "");
    step("UNKNOWN state, still owns partitions -> FENCED_MEMBER_EPOCH",
         M(CGR_UNKNOWN, 10, 9, "1:1", ""), 11, "1:1", "", "1:1", CGR_FENCED_MEMBER_EPOCH, 0, 0, 0,
         0, "", "");
    step("UNKNOWN state, owns nothing -> reconciled at the target epoch",
         M(CGR_UNKNOWN, 10, 9, "1:1", ""), 11, "1:1 1:2", "", "", 0, 1, CGR_STABLE, 11, 10,
         "1:1 1:2", "");

    /* Unsubscribed topics in a stale target are not handed out and are
     * revoked when held. */
    struct cgr_member cur = M(CGR_STABLE, 10, 9, "1:1 2:1", "");
    struct cgr_set target = S("1:1 1:2 2:1 2:2");
    const uint8_t subs[1][16] = {{0x11}};
    struct cgr_input in = {.target_epoch = 11, .target = &target, .subscribed = subs,
                           .nsubscribed = 1};
    struct cgr_member next = {0};
    int changed;
    is_int(cgr_reconcile(&cur, &in, &next, &changed), 0, "subscription filter: rc");
    ok(member_is(&next, CGR_UNREVOKED_PARTITIONS, 10, 10, "1:1", "2:1"),
       "subscription filter: unsubscribed topic revoked, not handed out");
    cgr_member_free(&next);
    cgr_member_free(&cur);
    cgr_set_free(&target);
}

static void test_epoch_check(void)
{
    struct cgr_member m = M(CGR_STABLE, 12, 11, "1:1 1:2", "");
    struct cgr_set sub = S("1:1"), other = S("1:3");
    char err[256];
    is_int(cgr_check_member_epoch(&m, 12, NULL, err, sizeof err), 0, "epoch: current accepted");
    is_int(cgr_check_member_epoch(&m, 13, &sub, err, sizeof err), CGR_FENCED_MEMBER_EPOCH,
           "epoch: greater fenced");
    is_str(err,
           "The consumer group member has a greater member epoch (13) than the one known by the "
           "group coordinator (12). The member must abandon all its partitions and rejoin.",
           "epoch: greater message");
    is_int(cgr_check_member_epoch(&m, 11, &sub, err, sizeof err), 0,
           "epoch: previous epoch with a subset of the assignment accepted (lost response)");
    is_int(cgr_check_member_epoch(&m, 11, &other, err, sizeof err), CGR_FENCED_MEMBER_EPOCH,
           "epoch: previous epoch owning something else fenced");
    is_int(cgr_check_member_epoch(&m, 11, NULL, err, sizeof err), CGR_FENCED_MEMBER_EPOCH,
           "epoch: previous epoch without owned partitions fenced");
    is_int(cgr_check_member_epoch(&m, 10, &sub, err, sizeof err), CGR_FENCED_MEMBER_EPOCH,
           "epoch: older than previous fenced");
    is_str(err,
           "The consumer group member has a smaller member epoch (10) than the one known by the "
           "group coordinator (12). The member must abandon all its partitions and rejoin.",
           "epoch: smaller message");
    cgr_member_free(&m);
    cgr_set_free(&sub);
    cgr_set_free(&other);
}

static void test_epochs_table(void)
{
    struct cgr_epochs e = {0};
    struct cgr_member a = M(CGR_STABLE, 5, 4, "1:1 1:2", "1:3");
    struct cgr_member b = M(CGR_STABLE, 6, 5, "1:3 2:1", "");
    is_int(cgr_epochs_update(&e, NULL, &a), 0, "epochs: member a added");
    ok(cgr_epochs_get(&e, T1, 1) == 5 && cgr_epochs_get(&e, T1, 3) == 5 &&
           cgr_epochs_get(&e, T2, 1) == -1,
       "epochs: assigned and pending recorded at a's epoch");
    is_int(cgr_epochs_update(&e, NULL, &b), -2, "epochs: b cannot take 1-3 while a holds it");
    ok(cgr_epochs_get(&e, T2, 1) == -1, "epochs: refused update leaves the table unchanged");
    struct cgr_member a2 = M(CGR_STABLE, 6, 5, "1:1 1:2", "");
    is_int(cgr_epochs_update(&e, &a, &a2), 0, "epochs: a revoked 1-3 and moved to epoch 6");
    ok(cgr_epochs_get(&e, T1, 3) == -1 && cgr_epochs_get(&e, T1, 1) == 6, "epochs: 1-3 free");
    is_int(cgr_epochs_update(&e, NULL, &b), 0, "epochs: now b may take it");
    is_int(cgr_epochs_update(&e, &a, NULL), -2, "epochs: removing at a stale epoch refused");
    is_int(cgr_epochs_update(&e, &a2, NULL), 0, "epochs: a leaves");
    ok(cgr_epochs_get(&e, T1, 1) == -1 && cgr_epochs_get(&e, T1, 3) == 6 && e.n == 2,
       "epochs: only b's two partitions left");
    /* Many partitions: growth and deletion keep lookups right. */
    struct cgr_member big = {.state = CGR_STABLE, .member_epoch = 9};
    for (int p = 0; p < 5000; p++)
        cgr_set_add(&big.assigned, T2, 100 + p);
    is_int(cgr_epochs_update(&e, NULL, &big), 0, "epochs: 5000 partitions");
    int bad = 0;
    for (int p = 0; p < 5000; p++)
        bad += cgr_epochs_get(&e, T2, 100 + p) != 9;
    struct cgr_member half = {.state = CGR_STABLE, .member_epoch = 10};
    for (int p = 0; p < 5000; p += 2)
        cgr_set_add(&half.assigned, T2, 100 + p);
    is_int(cgr_epochs_update(&e, &big, &half), 0, "epochs: drop every other one");
    for (int p = 0; p < 5000; p++)
        bad += cgr_epochs_get(&e, T2, 100 + p) != (p % 2 ? -1 : 10);
    bad += cgr_epochs_get(&e, T1, 3) != 6;
    is_int(bad, 0, "epochs: lookups right after growth and backward-shift deletes");
    cgr_member_free(&a);
    cgr_member_free(&a2);
    cgr_member_free(&b);
    cgr_member_free(&big);
    cgr_member_free(&half);
    cgr_epochs_free(&e);
}

/* ---- simulation ------------------------------------------------------- */

#define NPART 24
#define MAXM 8

struct client {
    int present;
    int32_t epoch;        /* what the client last heard */
    struct cgr_set owned; /* what it really owns */
    struct cgr_set pending_assignment;
};

static uint64_t rng = 0x2545f4914f6cdd1dull;
static uint32_t rnd(uint32_t n)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng % n);
}

static void test_simulation(void)
{
    struct cgr_member mem[MAXM] = {0};
    struct client cl[MAXM] = {0};
    struct cgr_set target[MAXM] = {0};
    struct cgr_epochs e = {0};
    int32_t group_epoch = 0;
    int overlaps = 0, conflicts = 0, rejects = 0, heartbeats = 0, unconverged = 0, phases = 0;

    for (int phase = 0; phase < 12; phase++) {
        /* membership change: join until 6, then alternate leave/join */
        int m;
        if (phase < 6) {
            m = phase;
        } else {
            m = (int)rnd(MAXM);
        }
        if (!cl[m].present) {
            cl[m].present = 1;
            cl[m].epoch = 0;
            mem[m].state = CGR_STABLE;
            mem[m].member_epoch = 0;
            mem[m].previous_member_epoch = -1;
        } else {
            /* leave: the coordinator fences it, its partitions are free */
            if (cgr_epochs_update(&e, &mem[m], NULL))
                conflicts++;
            cgr_member_free(&mem[m]);
            cl[m].present = 0;
            cl[m].owned.n = 0;
        }
        /* new target: round robin over present members */
        group_epoch++;
        int present[MAXM], np = 0;
        for (int i = 0; i < MAXM; i++) {
            target[i].n = 0;
            if (cl[i].present)
                present[np++] = i;
        }
        for (int p = 0; p < NPART && np; p++)
            cgr_set_add(&target[present[(p + phase) % np]], p % 2 ? T2 : T1, p);

        /* heartbeats in random order; clients process assignments late */
        int converged = 0;
        for (int round = 0; round < 200 && !converged; round++) {
            int i = present[rnd((uint32_t)np)];
            heartbeats++;
            char err[256];
            if (cgr_check_member_epoch(&mem[i], cl[i].epoch, &cl[i].owned, err, sizeof err)) {
                rejects++;
                diag("%s", err);
            }
            struct cgr_input in = {
                .target_epoch = group_epoch,
                .target = &target[i],
                .partition_epoch = cgr_epochs_lookup,
                .partition_epoch_ud = &e,
                .owned = &cl[i].owned,
            };
            struct cgr_member next = {0};
            int changed;
            if (cgr_reconcile(&mem[i], &in, &next, &changed) == 0) {
                if (changed && cgr_epochs_update(&e, &mem[i], &next))
                    conflicts++;
                cgr_member_free(&mem[i]);
                mem[i] = next;
            }
            cl[i].epoch = mem[i].member_epoch;
            /* The client applies the assignment now or on a later
             * heartbeat (slow revocation callbacks). */
            if (rnd(3) != 0)
                cgr_set_copy(&cl[i].owned, &mem[i].assigned);

            /* Invariant: no partition owned by two clients. */
            for (int a = 0; a < MAXM; a++)
                for (int b = a + 1; b < MAXM; b++)
                    if (cl[a].present && cl[b].present)
                        for (size_t k = 0; k < cl[a].owned.n; k++)
                            overlaps += cgr_set_contains(&cl[b].owned, cl[a].owned.v[k].topic_id,
                                                         cl[a].owned.v[k].partition);
            converged = 1;
            for (int a = 0; a < np; a++) {
                int x = present[a];
                converged &= mem[x].state == CGR_STABLE && mem[x].member_epoch == group_epoch &&
                             cgr_set_equal(&mem[x].assigned, &target[x]) &&
                             cgr_set_equal(&cl[x].owned, &target[x]);
            }
        }
        phases++;
        unconverged += !converged;
    }
    is_int(overlaps, 0, "simulation: %d heartbeats, no partition ever owned by two clients",
           heartbeats);
    is_int(conflicts, 0, "simulation: the partition-epoch table never saw a double owner");
    is_int(rejects, 0, "simulation: well-behaved clients are never fenced");
    is_int(unconverged, 0, "simulation: all %d membership changes converge to the target", phases);
    for (int i = 0; i < MAXM; i++) {
        cgr_member_free(&mem[i]);
        cgr_set_free(&cl[i].owned);
        cgr_set_free(&cl[i].pending_assignment);
        cgr_set_free(&target[i]);
    }
    cgr_epochs_free(&e);
}

int main(void)
{
    test_transitions();
    test_epoch_check();
    test_epochs_table();
    test_simulation();
    return done_testing();
}
