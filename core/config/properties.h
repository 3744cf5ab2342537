/* Java-properties-style parser (java.util.Properties.load semantics) that
 * remembers where every key came from, so configuration errors can point at
 * "<file>:<line>".
 *
 * Syntax: "key=value", "key: value" or "key value"; '#' or '!' as the first
 * non-blank character starts a comment line; blank lines are skipped; leading
 * whitespace of a line and whitespace around the separator are skipped, and
 * (unlike Java) trailing unescaped whitespace of the value is trimmed too,
 * because invisible trailing blanks in hand-edited files were a frequent
 * source of "invalid value" reports.  A line ending in an odd number of
 * backslashes continues on the next line (whose leading blanks are dropped).
 * Escapes: \t \n \r \f \uXXXX (UTF-16, surrogate pairs combined, emitted as
 * UTF-8); a backslash before any other character yields that character
 * (\\ \: \= \# \! and "\ " for a significant blank).
 *
 * Duplicate keys: the later one wins (the entry keeps its first position but
 * takes the later value, file and line), except for keys the caller declares
 * repeatable, which get one entry per occurrence in file order.
 *
 * Stricter than Java on purpose: an empty key, a malformed or lone-surrogate
 * \u escape, \u0000 and NUL bytes are errors rather than silently accepted. */
#ifndef SLUICE_PROPERTIES_H
#define SLUICE_PROPERTIES_H

#include <stddef.h>

struct prop {
    char *key;
    char *value;
    const char *file; /* owned by the list (one copy per file parsed) */
    int line;         /* physical line where the logical line started */
};

struct prop_list {
    struct prop *items;
    size_t n, cap;
    char **files;
    size_t nfiles;
};

/* Returns non-zero for keys that may appear several times. */
typedef int (*prop_repeatable_fn)(const char *key);

void props_init(struct prop_list *pl);
void props_free(struct prop_list *pl);

/* Appends the entries of buf (len bytes, need not be NUL-terminated) to pl;
 * filename is only used for messages and prop.file.  Returns 0, or -1 with
 * err = "<filename>:<line>: <why>" (entries before the error stay in pl). */
int props_parse_buffer(struct prop_list *pl, const char *buf, size_t len, const char *filename,
                       prop_repeatable_fn repeatable, char *err, size_t errlen);

/* Same for a file on disk; err names the file when it cannot be read. */
int props_parse_file(struct prop_list *pl, const char *path, prop_repeatable_fn repeatable,
                     char *err, size_t errlen);

/* The (last) entry for key, or NULL. */
const struct prop *props_get(const struct prop_list *pl, const char *key);

#endif
