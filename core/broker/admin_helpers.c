/* Pure helpers of the admin handlers; see admin_helpers.h. */
#include "broker/admin_helpers.h"

#include <stdlib.h>
#include <string.h>

struct item_list {
    char **v;
    size_t n, cap;
};

static int list_push(struct item_list *l, const char *s, size_t len)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 8;
        char **nv = realloc(l->v, cap * sizeof *nv);
        if (!nv)
            return -1;
        l->v = nv;
        l->cap = cap;
    }
    char *c = malloc(len + 1);
    if (!c)
        return -1;
    memcpy(c, s, len);
    c[len] = '\0';
    l->v[l->n++] = c;
    return 0;
}

static void list_free(struct item_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
}

/* Split on ',' dropping empty items (Kafka's getParts does the same for the
 * current value; for the operand, an empty item would mean "append the empty
 * string", which no list config accepts, so it is dropped too). */
static int list_split(struct item_list *l, const char *s)
{
    if (!s)
        return 0;
    while (*s) {
        const char *e = strchr(s, ',');
        size_t len = e ? (size_t)(e - s) : strlen(s);
        if (len > 0 && list_push(l, s, len) < 0)
            return -1;
        s += len;
        if (*s == ',')
            s++;
    }
    return 0;
}

static bool list_contains(const struct item_list *l, const char *s)
{
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->v[i], s) == 0)
            return true;
    return false;
}

char *admin_list_apply(const char *current, const char *operand, bool append)
{
    struct item_list cur = { 0 }, ops = { 0 };
    char *out = NULL;
    if (list_split(&cur, current) < 0 || list_split(&ops, operand) < 0)
        goto done;
    for (size_t i = 0; i < ops.n; i++) {
        if (append) {
            if (!list_contains(&cur, ops.v[i]) && list_push(&cur, ops.v[i], strlen(ops.v[i])) < 0)
                goto done;
        } else {
            /* Java's List.remove(Object) removes the first occurrence only,
             * but getParts never yields duplicates for values Kafka itself
             * wrote; removing them all keeps a hand-edited "a,a" sane. */
            size_t k = 0;
            for (size_t j = 0; j < cur.n; j++) {
                if (strcmp(cur.v[j], ops.v[i]) == 0)
                    free(cur.v[j]);
                else
                    cur.v[k++] = cur.v[j];
            }
            cur.n = k;
        }
    }
    size_t total = 1;
    for (size_t i = 0; i < cur.n; i++)
        total += strlen(cur.v[i]) + 1;
    out = malloc(total);
    if (!out)
        goto done;
    size_t pos = 0;
    for (size_t i = 0; i < cur.n; i++) {
        if (i)
            out[pos++] = ',';
        size_t len = strlen(cur.v[i]);
        memcpy(out + pos, cur.v[i], len);
        pos += len;
    }
    out[pos] = '\0';
done:
    list_free(&cur);
    list_free(&ops);
    return out;
}

int admin_parse_int32(const char *s, int32_t *out)
{
    if (!s || !*s)
        return -1;
    bool neg = false;
    if (*s == '-' || *s == '+') {
        neg = *s == '-';
        s++;
    }
    if (!*s)
        return -1;
    int64_t v = 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return -1;
        v = v * 10 + (*s - '0');
        if (v > (int64_t)INT32_MAX + 1)
            return -1;
    }
    if (neg)
        v = -v;
    if (v > INT32_MAX || v < INT32_MIN)
        return -1;
    *out = (int32_t)v;
    return 0;
}

bool admin_topic_names_collide(const char *a, const char *b)
{
    if (!a || !b || strcmp(a, b) == 0)
        return false;
    for (; *a && *b; a++, b++) {
        char ca = *a == '.' ? '_' : *a;
        char cb = *b == '.' ? '_' : *b;
        if (ca != cb)
            return false;
    }
    return *a == '\0' && *b == '\0';
}

bool admin_topic_is_internal(const char *name)
{
    return name && (strcmp(name, "__consumer_offsets") == 0 ||
                    strcmp(name, "__transaction_state") == 0 ||
                    strcmp(name, "__share_group_state") == 0);
}

int32_t admin_cluster_authorized_operations(void)
{
    /* AclOperation codes: CREATE 5, ALTER 7, DESCRIBE 8, CLUSTER_ACTION 9,
     * DESCRIBE_CONFIGS 10, ALTER_CONFIGS 11, IDEMPOTENT_WRITE 12 — the set
     * AclEntry.supportedOperations(CLUSTER) returns. */
    static const int ops[] = { 5, 7, 8, 9, 10, 11, 12 };
    int32_t bits = 0;
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
        bits |= (int32_t)1 << ops[i];
    return bits;
}
