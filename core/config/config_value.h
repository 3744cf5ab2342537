/* String-to-value conversions shared by the broker and topic config tables,
 * with the short "why" texts that end up in start-up errors and in
 * CreateTopics/AlterConfigs error messages. */
#ifndef SLUICE_CONFIG_VALUE_H
#define SLUICE_CONFIG_VALUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/broker_config.h"

/* Kafka's Boolean parsing: "true"/"false", case-insensitive. */
int cv_parse_bool(const char *s, bool *out, char *why, size_t whylen);
/* Decimal integer (optional sign, surrounding blanks allowed) within
 * [min, max]. */
int cv_parse_int(const char *s, int64_t min, int64_t max, int64_t *out, char *why, size_t whylen);
/* Finite double within [min, max]. */
int cv_parse_double(const char *s, double min, double max, double *out, char *why, size_t whylen);
/* One of names (NULL-terminated), case-insensitive; *out = index. */
int cv_parse_enum(const char *s, const char *const *names, int *out, char *why, size_t whylen);
/* Comma-separated list, items trimmed, empty items dropped. */
int cv_parse_list(const char *s, struct sluice_strlist *out);
/* cleanup.policy: items from {delete, compact}; *bits = SLUICE_CLEANUP_*. */
int cv_parse_cleanup_policy(const char *s, unsigned *bits, char *why, size_t whylen);

void cv_strlist_free(struct sluice_strlist *l);
int cv_strlist_copy(struct sluice_strlist *dst, const struct sluice_strlist *src);
int cv_strlist_append(struct sluice_strlist *l, const char *item);
/* "a,b,c" (malloc'd), or NULL on ENOMEM. */
char *cv_strlist_join(const struct sluice_strlist *l);

/* Lower-case names of enum sluice_compression / sluice_timestamp_type. */
extern const char *const cv_compression_names[];
extern const char *const cv_timestamp_type_names[];

#endif
