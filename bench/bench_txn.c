/* Producer throughput of exactly-once features: plain (acks=all),
 * idempotent (enable.idempotence=true) and transactional producers
 * committing every 10 and every 1,000 records, against a sluiced started
 * here and, side by side in the same run, librdkafka's in-process mock
 * cluster (which has a transaction coordinator but no disk), with
 * librdkafka as the client.  Each scenario writes to its own
 * single-partition topic so they do not share a log.
 *
 *   make bench-txn BENCH_TXN_ARGS='--records 100000 --size 100'
 *
 * Prints one line per scenario and target: records, seconds, records/s,
 * MB/s and, for transactions, transactions/s; then sluice/mock ratios. */
#include <errno.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench_sluiced.h"

struct opts {
    const char *sluiced;
    long records;      /* per non-transactional scenario */
    long txn_records;  /* transactional scenario with 1,000 records per transaction */
    long small_txn_records; /* ... with 10 per transaction */
    int size;
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static long delivered, failed;

static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    (void)opaque;
    if (m->err)
        failed++;
    else
        delivered++;
}

static rd_kafka_t *producer(const char *bootstrap, const char *mode, const char *txid)
{
    char err[512];
    rd_kafka_conf_t *c = rd_kafka_conf_new();
    rd_kafka_conf_set(c, "bootstrap.servers", bootstrap, err, sizeof err);
    rd_kafka_conf_set(c, "acks", "all", err, sizeof err);
    rd_kafka_conf_set(c, "linger.ms", "5", err, sizeof err);
    rd_kafka_conf_set(c, "queue.buffering.max.messages", "1000000", err, sizeof err);
    if (!strcmp(mode, "idempotent"))
        rd_kafka_conf_set(c, "enable.idempotence", "true", err, sizeof err);
    if (txid)
        rd_kafka_conf_set(c, "transactional.id", txid, err, sizeof err);
    rd_kafka_conf_set_dr_msg_cb(c, dr_cb);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, c, err, sizeof err);
    if (!rk)
        fprintf(stderr, "rd_kafka_new: %s\n", err);
    return rk;
}

static int produce_one(rd_kafka_t *rk, const char *topic, const char *buf, int size)
{
    for (;;) {
        rd_kafka_resp_err_t e = rd_kafka_producev(
            rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(0),
            RD_KAFKA_V_VALUE((void *)buf, (size_t)size), RD_KAFKA_V_END);
        if (e == RD_KAFKA_RESP_ERR_NO_ERROR)
            return 0;
        if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
            fprintf(stderr, "produce: %s\n", rd_kafka_err2str(e));
            return -1;
        }
        rd_kafka_poll(rk, 10);
    }
}

static int check(rd_kafka_error_t *e, const char *what)
{
    if (!e)
        return 0;
    fprintf(stderr, "%s: %s\n", what, rd_kafka_error_string(e));
    rd_kafka_error_destroy(e);
    return -1;
}

/* per_txn 0: not transactional.  *rate_out: records/s. */
static int run(const char *target, const char *bootstrap, const char *mode, long n, int per_txn,
               int size, double *rate_out)
{
    char topic[64], txid[64];
    snprintf(topic, sizeof topic, "bench-%s-%d", mode, per_txn);
    snprintf(txid, sizeof txid, "bench-tx-%d", per_txn);
    rd_kafka_t *rk = producer(bootstrap, mode, per_txn ? txid : NULL);
    if (!rk)
        return -1;
    char *buf = malloc((size_t)size);
    for (int i = 0; i < size; i++)
        buf[i] = (char)('a' + i % 26);
    /* Warm-up: metadata, topic creation, producer id. */
    if (per_txn && check(rd_kafka_init_transactions(rk, 30000), "init_transactions"))
        return -1;
    if (per_txn && check(rd_kafka_begin_transaction(rk), "begin"))
        return -1;
    produce_one(rk, topic, buf, size);
    if (per_txn && check(rd_kafka_commit_transaction(rk, 30000), "commit"))
        return -1;
    rd_kafka_flush(rk, 30000);
    delivered = failed = 0;
    long txns = 0;
    double t0 = now_s();
    for (long i = 0; i < n;) {
        if (per_txn && check(rd_kafka_begin_transaction(rk), "begin"))
            return -1;
        long end = per_txn ? i + per_txn : n;
        for (; i < end && i < n; i++) {
            if (produce_one(rk, topic, buf, size) < 0)
                return -1;
            rd_kafka_poll(rk, 0);
        }
        if (per_txn) {
            if (check(rd_kafka_commit_transaction(rk, 60000), "commit"))
                return -1;
            txns++;
        }
    }
    rd_kafka_flush(rk, 60000);
    double dt = now_s() - t0;
    char label[48];
    if (per_txn)
        snprintf(label, sizeof label, "transactional, %d/txn", per_txn);
    else
        snprintf(label, sizeof label, "%s", mode);
    *rate_out = delivered / dt;
    printf("%-26s %-7s %8ld %8.2f %12.0f %8.2f", label, target, delivered, dt, delivered / dt,
           delivered * (double)size / dt / 1e6);
    if (per_txn)
        printf(" %10.0f", txns / dt);
    printf("%s\n", failed ? "  (delivery failures!)" : "");
    fflush(stdout);
    free(buf);
    rd_kafka_destroy(rk);
    return failed ? -1 : 0;
}

int main(int argc, char **argv)
{
    struct opts o = { "./sluiced", 200000, 100000, 20000, 100 };
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--sluiced") && i + 1 < argc)
            o.sluiced = argv[++i];
        else if (!strcmp(argv[i], "--records") && i + 1 < argc)
            o.records = atol(argv[++i]);
        else if (!strcmp(argv[i], "--txn-records") && i + 1 < argc)
            o.txn_records = atol(argv[++i]);
        else if (!strcmp(argv[i], "--small-txn-records") && i + 1 < argc)
            o.small_txn_records = atol(argv[++i]);
        else if (!strcmp(argv[i], "--size") && i + 1 < argc)
            o.size = atoi(argv[++i]);
        else {
            fprintf(stderr, "usage: %s [--sluiced PATH] [--records N] [--txn-records N] "
                            "[--small-txn-records N] [--size BYTES]\n", argv[0]);
            return 2;
        }
    }
    char tmp[] = "/tmp/bench-txn.XXXXXX", sluice[64], config[1024];
    if (!mkdtemp(tmp))
        return 1;
    /* No assignor modules: KIP-848 groups stay off, which this does not need. */
    snprintf(config, sizeof config,
             "listeners=PLAINTEXT://127.0.0.1:0\nlog.dirs=%s/data\nnum.partitions=1\n"
             "auto.create.topics.enable=true\n", tmp);
    int port;
    pid_t pid = bench_start_sluiced(o.sluiced, tmp, config, &port, 1);
    snprintf(sluice, sizeof sluice, "127.0.0.1:%d", port);

    char err[512];
    rd_kafka_t *mock_rk = rd_kafka_new(RD_KAFKA_PRODUCER, rd_kafka_conf_new(), err, sizeof err);
    rd_kafka_mock_cluster_t *mc = mock_rk ? rd_kafka_mock_cluster_new(mock_rk, 1) : NULL;
    if (!mc) {
        fprintf(stderr, "cannot create librdkafka's mock cluster: %s\n", err);
        kill(pid, SIGTERM);
        return 1;
    }
    const char *mock = rd_kafka_mock_cluster_bootstraps(mc);

    printf("sluice %s, mock %s, librdkafka %s, %d-byte records, acks=all, linger.ms=5\n", sluice,
           mock, rd_kafka_version_str(), o.size);
    printf("%-26s %-7s %8s %8s %12s %8s %10s\n", "producer", "target", "records", "seconds",
           "records/s", "MB/s", "txns/s");
    static const struct {
        const char *mode;
        int per_txn;
    } scen[] = {{"plain", 0}, {"idempotent", 0}, {"txn", 10}, {"txn", 1000}};
    double rate[4][2] = {{0}};
    int rc = 0;
    for (int i = 0; i < 4; i++) {
        long n = scen[i].per_txn == 10 ? o.small_txn_records
                 : scen[i].per_txn   ? o.txn_records
                                     : o.records;
        rc |= run("sluice", sluice, scen[i].mode, n, scen[i].per_txn, o.size, &rate[i][0]);
        rc |= run("mock", mock, scen[i].mode, n, scen[i].per_txn, o.size, &rate[i][1]);
    }
    printf("\nratio sluice/mock (records/s; above 1: sluice faster)\n");
    for (int i = 0; i < 4; i++) {
        char label[48];
        if (scen[i].per_txn)
            snprintf(label, sizeof label, "transactional, %d/txn", scen[i].per_txn);
        else
            snprintf(label, sizeof label, "%s", scen[i].mode);
        printf("%-26s %6.2f\n", label, rate[i][1] > 0 ? rate[i][0] / rate[i][1] : 0.0);
    }
    rd_kafka_mock_cluster_destroy(mc);
    rd_kafka_destroy(mock_rk);
    kill(pid, SIGTERM);
    int st;
    waitpid(pid, &st, 0);
    char cmd[PATH_MAX];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmp);
    if (system(cmd) != 0)
        rc = 1;
    return rc ? 1 : 0;
}
