#include "util/strmap.h"
#include "tap.h"

#include <stdio.h>

int main(void)
{
    struct strmap m;
    strmap_init(&m);
    static char keys[5000][16];
    for (int i = 0; i < 5000; i++) {
        snprintf(keys[i], sizeof keys[i], "topic-%d", i);
        strmap_put(&m, keys[i], (void *)(intptr_t)(i + 1));
    }
    is_int(m.count, 5000, "5000 entries");
    int bad = 0;
    for (int i = 0; i < 5000; i++)
        bad += strmap_get(&m, keys[i]) != (void *)(intptr_t)(i + 1);
    is_int(bad, 0, "every key maps to its value");
    ok(strmap_get(&m, "missing") == NULL, "missing key is NULL");
    for (int i = 0; i < 5000; i += 2)
        strmap_del(&m, keys[i]);
    is_int(m.count, 2500, "half deleted");
    bad = 0;
    for (int i = 0; i < 5000; i++)
        bad += (strmap_get(&m, keys[i]) != NULL) != (i % 2 == 1);
    is_int(bad, 0, "deleted keys gone, others present");
    strmap_put(&m, keys[1], (void *)7);
    ok(strmap_get(&m, keys[1]) == (void *)7, "replace keeps one entry");
    is_int(m.count, 2500, "count unchanged by replace");
    size_t it = 0, n = 0;
    const char *k;
    void *v;
    while (strmap_next(&m, &it, &k, &v))
        n++;
    is_int(n, 2500, "iteration visits every live entry");
    for (int i = 0; i < 100000; i++) { /* churn: tombstones must not fill the table */
        strmap_put(&m, keys[0], (void *)1);
        strmap_del(&m, keys[0]);
    }
    ok(m.cap <= 8192, "churn does not grow the table without bound (cap %zu)", m.cap);
    strmap_free(&m);
    return done_testing();
}
