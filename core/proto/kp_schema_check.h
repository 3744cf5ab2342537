/* Cross-check the generated descriptors against Kafka's JSON schemas: for
 * each version, the fields active in that version (name, type, array-ness,
 * nullability, tagging and tag, defaults, nested structure, recursively) and
 * the valid/flexible version ranges must be exactly what the JSON says.
 * Used by tests/unit/test_kp_schema.c, and by broker tests that restrict the
 * check to the versions the broker advertises. */
#ifndef SLUICE_KP_SCHEMA_CHECK_H
#define SLUICE_KP_SCHEMA_CHECK_H

#include <stddef.h>
#include <stdint.h>

/* Checks the message defined by the JSON file at path, for the versions in
 * [vmin, vmax] (vmax -1: no upper bound) that the message has.  Returns 0
 * when everything matches, 1 on a mismatch, -1 when the file can't be read
 * or parsed; err gets the first problem. */
int kp_schema_check_file(const char *path, int16_t vmin, int16_t vmax, char *err, size_t errlen);

/* Kafka's JSON with // comments removed outside strings (malloc'd). */
char *kp_schema_strip_comments(const char *text, size_t len);

#endif
