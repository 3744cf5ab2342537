#include "group/topic_regex.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct topic_regex {
    pcre2_code *code;
    pcre2_match_context *mctx;
};

/* Enough for any sane topic pattern; a pathological one stops here rather
 * than stalling the event loop. */
#define TOPIC_REGEX_MATCH_LIMIT 100000

struct topic_regex *topic_regex_compile(const char *pattern, char *err, size_t errlen)
{
    int ec;
    PCRE2_SIZE off;
    /* PCRE2_ENDANCHORED + PCRE2_ANCHORED = RE2/J's matches(): the whole name. */
    pcre2_code *code = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED,
                                     PCRE2_ANCHORED | PCRE2_ENDANCHORED | PCRE2_UTF, &ec, &off,
                                     NULL);
    if (!code) {
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(ec, msg, sizeof msg);
        snprintf(err, errlen, "%s at offset %zu", (const char *)msg, (size_t)off);
        return NULL;
    }
    struct topic_regex *re = calloc(1, sizeof *re);
    if (!re || !(re->mctx = pcre2_match_context_create(NULL))) {
        pcre2_code_free(code);
        free(re);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    pcre2_set_match_limit(re->mctx, TOPIC_REGEX_MATCH_LIMIT);
    re->code = code;
    return re;
}

bool topic_regex_match(const struct topic_regex *re, const char *topic)
{
    if (!re)
        return false;
    pcre2_match_data *md = pcre2_match_data_create_from_pattern(re->code, NULL);
    if (!md)
        return false;
    int rc = pcre2_match(re->code, (PCRE2_SPTR)topic, strlen(topic), 0, 0, md, re->mctx);
    pcre2_match_data_free(md);
    return rc >= 0;
}

void topic_regex_free(struct topic_regex *re)
{
    if (!re)
        return;
    pcre2_match_context_free(re->mctx);
    pcre2_code_free(re->code);
    free(re);
}
