/* Parser of the log dir's "cleaner-offset-checkpoint" (Kafka's
 * OffsetCheckpointFile text: version 0, entry count, then "topic partition
 * offset" lines).  Its own file so the fuzzer can build it alone; declared
 * in log_cleaner.h. */
#include "storage/log_cleaner.h"

static int parse_i64(const char **p, const char *end, int64_t *out)
{
    const char *s = *p;
    int neg = 0;
    if (s < end && *s == '-') {
        neg = 1;
        s++;
    }
    if (s >= end || *s < '0' || *s > '9')
        return -1;
    uint64_t v = 0;
    while (s < end && *s >= '0' && *s <= '9') {
        if (v > (UINT64_MAX - 9) / 10)
            return -1;
        v = v * 10 + (uint64_t)(*s - '0');
        s++;
    }
    if (v > (uint64_t)INT64_MAX)
        return -1;
    *out = neg ? -(int64_t)v : (int64_t)v;
    *p = s;
    return 0;
}

int log_cleaner_checkpoint_parse(const char *text, size_t len,
                                 void (*cb)(void *ud, const char *topic, size_t topic_len,
                                            int32_t partition, int64_t offset),
                                 void *ud)
{
    const char *p = text, *end = text + len;
    int64_t version, count;
    if (parse_i64(&p, end, &version) || version != 0 || p >= end || *p++ != '\n' ||
        parse_i64(&p, end, &count) || count < 0 || p >= end || *p++ != '\n')
        return -1;
    int64_t seen = 0;
    while (p < end && seen < count) {
        const char *t = p;
        while (p < end && *p != ' ' && *p != '\n')
            p++;
        size_t tlen = (size_t)(p - t);
        if (tlen == 0 || tlen > 249 || p >= end || *p++ != ' ')
            return -1;
        int64_t part, off;
        if (parse_i64(&p, end, &part) || part < 0 || part > INT32_MAX || p >= end || *p++ != ' ' ||
            parse_i64(&p, end, &off) || (p < end && *p++ != '\n'))
            return -1;
        if (cb)
            cb(ud, t, tlen, (int32_t)part, off);
        seen++;
    }
    if (seen != count || p != end)
        return -1;
    return (int)seen;
}

