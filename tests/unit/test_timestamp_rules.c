/* Record timestamp rules (Kafka's LogValidator.validateTimestamp) and the
 * append-path limits: exact messages, record indexes, Java wrap-around at
 * the "no bound" values, LogAppendTime flags from producers, nothing
 * appended on refusal; max.message.bytes / segment.bytes wording;
 * segment.jitter.ms. */
#include "storage/partition_log.h"
#include "storage/timestamp_rules.h"
#include "plog_fixture.h"

#include <inttypes.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#define NOW 1700000000000LL

static int seq;

struct errs {
    int n;
    int32_t index[8];
    char msg[8][300];
};

static void collect(void *ud, int32_t index, const char *msg)
{
    struct errs *e = ud;
    if (e->n < 8) {
        e->index[e->n] = index;
        snprintf(e->msg[e->n], sizeof e->msg[e->n], "%s", msg);
    }
    e->n++;
}

static uint8_t *batch3(int64_t t0, int64_t t1, int64_t t2, int16_t attrs, size_t *len)
{
    struct bb_record recs[3] = { BB_REC("k0", "v0", t0), BB_REC("k1", "v1", t1),
                                 BB_REC("k2", "v2", t2) };
    struct bb_opts o = bb_default_opts();
    o.attributes = attrs;
    return bb_build(recs, 3, &o, len);
}

static void test_range(void)
{
    struct ts_rules r = { false, 60000, 60000 };
    ok(!ts_out_of_range(NOW, NOW, &r), "now is in range");
    ok(!ts_out_of_range(NOW - 60000, NOW, &r), "exactly before.max.ms old: in range (strict >)");
    ok(ts_out_of_range(NOW - 60001, NOW, &r), "one ms older: out of range");
    ok(!ts_out_of_range(NOW + 60000, NOW, &r), "exactly after.max.ms ahead: in range");
    ok(ts_out_of_range(NOW + 60001, NOW, &r), "one ms further: out of range");
    ok(ts_out_of_range(-5, NOW, &r), "a negative timestamp other than -1 is checked");
    struct ts_rules none = { false, INT64_MAX, INT64_MAX };
    ok(!ts_out_of_range(INT64_MIN + 1, NOW, &none) && !ts_out_of_range(INT64_MAX, NOW, &none) &&
           !ts_out_of_range(0, NOW, &none),
       "Long.MAX_VALUE bounds accept anything, as Java's arithmetic does");
}

static void test_batch_messages(void)
{
    struct ts_rules r = { false, 60000, 60000 };
    size_t len;
    uint8_t *b = batch3(NOW, NOW - 120000, NOW + 120000, 0, &len);
    struct errs e = { 0 };
    is_int(ts_check_batch(b, len, NOW, &r, NULL, NULL, collect, &e), 2, "two records refused");
    is_int(e.index[0], 1, "record index 1 first");
    char want[300];
    snprintf(want, sizeof want,
             "Timestamp %" PRId64 " of message with offset 1 is out of range. The timestamp "
             "should be within [%" PRId64 ", %" PRId64 "]",
             NOW - 120000, NOW - 60000, NOW + 60000);
    is_str(e.msg[0], want, "Kafka's message for record 1");
    is_int(e.index[1], 2, "then record 2");
    struct rb_info info;
    char err[128];
    rb_validate(b, len, RB_VALIDATE_PRODUCE, NULL, NULL, &info, err, sizeof err);
    ok(ts_batch_suspect(&info, NOW, &r), "the pre-check flags the batch");
    free(b);

    b = batch3(NOW, NOW - 1000, NOW + 1000, 0, &len);
    rb_validate(b, len, RB_VALIDATE_PRODUCE, NULL, NULL, &info, err, sizeof err);
    ok(!ts_batch_suspect(&info, NOW, &r), "an in-range batch skips the per-record check");
    is_int(ts_check_batch(b, len, NOW, &r, NULL, NULL, NULL, NULL), 0, "and none would be refused");
    free(b);

    b = batch3(-1, -1, NOW, 0, &len);
    is_int(ts_check_batch(b, len, NOW, &r, NULL, NULL, NULL, NULL), 0,
           "NO_TIMESTAMP (-1) records are not range-checked");
    free(b);

    /* A producer claiming LogAppendTime: refused on a LogAppendTime topic,
     * and on a CreateTime topic only where the timestamp is -1. */
    b = batch3(NOW, NOW, NOW, RB_ATTR_LOG_APPEND_TIME, &len);
    struct ts_rules lat = { true, INT64_MAX, INT64_MAX };
    memset(&e, 0, sizeof e);
    is_int(ts_check_batch(b, len, NOW, &lat, NULL, NULL, collect, &e), 3,
           "LogAppendTime topic: every record of a producer-flagged batch refused");
    snprintf(want, sizeof want,
             "Invalid timestamp type in message DefaultRecord(offset=0, timestamp=%" PRId64
             ", key=2 bytes, value=2 bytes). Producer should not set timestamp type to "
             "LogAppendTime.",
             NOW);
    is_str(e.msg[0], want, "with Kafka's DefaultRecord.toString() message");
    is_int(ts_check_batch(b, len, NOW, &r, NULL, NULL, NULL, NULL), 0,
           "CreateTime topic: the range check comes first and passes");
    free(b);
    b = batch3(-1, -1, -1, RB_ATTR_LOG_APPEND_TIME, &len);
    rb_put_i64(b + RB_OFF_MAX_TIMESTAMP, -1);
    bb_fix_crc(b, len);
    is_int(ts_check_batch(b, len, NOW, &r, NULL, NULL, NULL, NULL), 3,
           "CreateTime topic, flagged batch without timestamps: refused");
    free(b);
}

static struct partition_log *open_log(struct plog_config *c, const char *name)
{
    char dir[512], err[256];
    snprintf(dir, sizeof dir, "%s/%s-%d", root, name, seq++);
    return plog_open(dir, c, NULL, NOW, err, sizeof err);
}

static void test_append(void)
{
    struct plog_config c;
    plog_config_default(&c);
    c.message_timestamp_before_max_ms = 60000;
    c.message_timestamp_after_max_ms = 60000;
    struct partition_log *pl = open_log(&c, "ts");
    size_t len;
    uint8_t *b = batch3(NOW, NOW - 120000, NOW, 0, &len);
    struct plog_append_result res;
    is_int(plog_append(pl, b, len, 0, NOW, NULL, NULL, &res), KP_ERR_INVALID_TIMESTAMP,
           "append refused: INVALID_TIMESTAMP");
    is_str(res.errmsg, "One or more records have been rejected due to invalid timestamp",
           "Kafka's RecordValidationException message");
    is_int(res.bad_batch_pos, 0, "the refused batch is the first one");
    is_int(plog_log_end_offset(pl), 0, "nothing appended");
    struct errs e = { 0 };
    is_int(plog_timestamp_errors(pl, b, len, NOW, NULL, NULL, collect, &e), 1,
           "plog_timestamp_errors lists one record");
    is_int(e.index[0], 1, "record 1");
    free(b);

    b = batch3(NOW, NOW, NOW, RB_ATTR_LOG_APPEND_TIME, &len);
    is_int(plog_append(pl, b, len, 0, NOW, NULL, NULL, &res), 0,
           "CreateTime log: a flagged in-range batch is appended");
    int16_t attrs = (int16_t)(b[RB_OFF_ATTRIBUTES] << 8 | b[RB_OFF_ATTRIBUTES + 1]);
    ok(!(attrs & RB_ATTR_LOG_APPEND_TIME), "stored as CreateTime (Kafka rewrites the type)");
    free(b);

    /* Size limits, with Kafka's wording naming the partition. */
    c.max_message_bytes = 50;
    plog_set_config(pl, &c);
    b = batch3(NOW, NOW, NOW, 0, &len);
    is_int(plog_append(pl, b, len, 0, NOW, NULL, NULL, &res), KP_ERR_MESSAGE_TOO_LARGE,
           "batch over max.message.bytes: MESSAGE_TOO_LARGE");
    char want[300];
    snprintf(want, sizeof want,
             "The record batch size in the append to ts-%d is %zu bytes which exceeds the "
             "maximum configured value of 50.",
             seq - 1, len);
    is_str(res.errmsg, want, "RecordTooLargeException's message");
    c.max_message_bytes = 1000000;
    c.segment_bytes = 50;
    plog_set_config(pl, &c);
    is_int(plog_append(pl, b, len, 0, NOW, NULL, NULL, &res), KP_ERR_RECORD_LIST_TOO_LARGE,
           "records over segment.bytes: RECORD_LIST_TOO_LARGE");
    snprintf(want, sizeof want,
             "Message batch size is %zu bytes in append to partition ts-%d, which exceeds the "
             "maximum configured segment size of 50.",
             len, seq - 1);
    is_str(res.errmsg, want, "RecordBatchTooLargeException's message");
    free(b);
    plog_close(pl);
}

/* Appends at 0 and at `at` ms (record time = wall time); 1 if it rolled. */
static int rolls_at(struct plog_config *c, int64_t at)
{
    struct partition_log *pl = open_log(c, "jit");
    size_t len;
    struct plog_append_result res;
    uint8_t *b = batch3(NOW, NOW, NOW, 0, &len);
    plog_append(pl, b, len, 0, NOW, NULL, NULL, &res);
    free(b);
    b = batch3(NOW + at, NOW + at, NOW + at, 0, &len);
    plog_append(pl, b, len, 0, NOW + at, NULL, NULL, &res);
    free(b);
    int rolled = plog_segment_count(pl) == 2;
    plog_close(pl);
    return rolled;
}

static void test_jitter(void)
{
    struct plog_config c;
    plog_config_default(&c);
    c.segment_ms = 1000;
    int r900 = 0, r1001 = 0;
    for (int i = 0; i < 10; i++) {
        r900 += rolls_at(&c, 900);
        r1001 += rolls_at(&c, 1001);
    }
    ok(r900 == 0 && r1001 == 10, "segment.ms=1000 without jitter: no roll at 900 ms, a roll at 1001");
    c.segment_jitter_ms = 999;
    r900 = 0;
    for (int i = 0; i < 20; i++)
        r900 += rolls_at(&c, 900);
    /* Each log draws its jitter in [0, 999): P(jitter <= 100) = 0.1 per log. */
    ok(r900 > 0, "segment.jitter.ms=999: %d of 20 logs rolled at 900 ms (each with p = 0.9)", r900);
    r1001 = 0;
    for (int i = 0; i < 5; i++)
        r1001 += rolls_at(&c, 1001);
    is_int(r1001, 5, "jitter only ever rolls earlier");
}

int main(void)
{
    plf_begin("sluice-ts");
    test_range();
    test_batch_messages();
    test_append();
    test_jitter();
    plf_end();
    return done_testing();
}
