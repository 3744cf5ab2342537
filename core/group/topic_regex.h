/* Topic regular expressions of KIP-848 subscriptions (SubscribedTopicRegex).
 *
 * Kafka compiles them with RE2/J and matches whole topic names
 * (Pattern.matcher(topic).matches()).  Sluice uses PCRE2 anchored at both
 * ends, which accepts every RE2 pattern a client sends in practice (classes,
 * \d \w \s, alternation, non-greedy quantifiers, (?i) flags, named groups
 * (?P<n>...)).  Differences: PCRE2 also accepts what RE2 refuses
 * (backreferences, lookaround, possessive quantifiers), so a pattern Kafka
 * rejects with INVALID_REGULAR_EXPRESSION may be accepted here; and PCRE2
 * backtracks, so matching has a bounded match limit instead of RE2's linear
 * time (a pattern that exceeds it simply matches nothing). */
#ifndef SLUICE_GROUP_TOPIC_REGEX_H
#define SLUICE_GROUP_TOPIC_REGEX_H

#include <stdbool.h>
#include <stddef.h>

struct topic_regex;

/* Compiles pattern; NULL with a message in err when it is invalid. */
struct topic_regex *topic_regex_compile(const char *pattern, char *err, size_t errlen);
/* Whole-name match. */
bool topic_regex_match(const struct topic_regex *re, const char *topic);
void topic_regex_free(struct topic_regex *re);

#endif
