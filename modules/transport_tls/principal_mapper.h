/* Kafka's ssl.principal.mapping.rules (KIP-371, SslPrincipalMapper): a
 * comma-separated list of DEFAULT and RULE:pattern/replacement/[LU]
 * entries, tried in order on a client certificate's distinguished name
 * (RFC 2253 form, "CN=alice,OU=eng,O=Acme").  A RULE applies when pattern
 * (a Java-style regular expression, here PCRE2) matches the whole name;
 * the result is name.replaceAll(pattern, replacement) with Java's
 * replacement syntax ($n, \x), then lower- (L) or upper-cased (U).
 * DEFAULT returns the name unchanged.  Parsing reproduces Kafka's own
 * splitter and parser regexes, so whatever Kafka accepts or refuses, this
 * does too. */
#ifndef SLUICE_TLS_PRINCIPAL_MAPPER_H
#define SLUICE_TLS_PRINCIPAL_MAPPER_H

#include <stddef.h>

struct principal_mapper;

/* NULL rules mean "DEFAULT".  Returns 0 and *out, or -1 with err (e.g.
 * "invalid rule: `RULE:x/y/Q`, unmatched substring: `Q`"). */
int principal_mapper_new(const char *rules, struct principal_mapper **out, char *err,
                         size_t errlen);

/* Maps dn: 1 with *out (malloc'd), 0 when no rule applies (Kafka then fails
 * the authentication), -1 with err when a replacement is invalid (e.g. a
 * group reference with no group) or out of memory. */
int principal_mapper_map(const struct principal_mapper *m, const char *dn, char **out, char *err,
                         size_t errlen);

/* Number of rules (DEFAULT counts; empty entries are dropped). */
size_t principal_mapper_count(const struct principal_mapper *m);

/* Kafka's toString of the rule list, "[RULE:p/r/L, DEFAULT]", into buf
 * (truncated); returns buf. */
char *principal_mapper_describe(const struct principal_mapper *m, char *buf, size_t len);

void principal_mapper_free(struct principal_mapper *m);

#endif
