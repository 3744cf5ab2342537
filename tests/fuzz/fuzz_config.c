/* libFuzzer target for the properties parser: any input must either parse
 * or fail with a "<file>:<line>: ..." message, without memory errors, and
 * every parsed entry must have a non-empty key and a sane line number. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config/properties.h"

static int repeatable(const char *key) { return strcmp(key, "module.load") == 0; }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct prop_list pl;
    char err[256];
    props_init(&pl);
    int rc = props_parse_buffer(&pl, (const char *)data, size, "fuzz", repeatable, err, sizeof err);
    if (rc != 0 && strncmp(err, "fuzz:", 5) != 0)
        abort();
    size_t lines = 1;
    for (size_t i = 0; i < size; i++)
        lines += data[i] == '\n' || data[i] == '\r';
    for (size_t i = 0; i < pl.n; i++) {
        const struct prop *p = &pl.items[i];
        if (!p->key[0] || p->line < 1 || (size_t)p->line > lines)
            abort();
        if (!repeatable(p->key) && props_get(&pl, p->key) != p)
            abort(); /* non-repeatable keys are unique */
        (void)strlen(p->value);
    }
    props_free(&pl);
    return 0;
}
