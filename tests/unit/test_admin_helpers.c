/* The pure rules behind the admin handlers (core/broker/admin_helpers.c). */
#include "broker/admin_helpers.h"
#include "tap.h"

#include <stdlib.h>

static void check_list(const char *cur, const char *op, bool append, const char *want)
{
    char *got = admin_list_apply(cur, op, append);
    is_str(got, want, "%s '%s' %s '%s' -> '%s'", append ? "APPEND" : "SUBTRACT", op,
           append ? "to" : "from", cur ? cur : "(null)", want);
    free(got);
}

int main(void)
{
    /* APPEND: adds missing items at the end, keeps order, no duplicates. */
    check_list("delete", "compact", true, "delete,compact");
    check_list("delete", "delete", true, "delete");
    check_list("delete,compact", "compact,delete", true, "delete,compact");
    check_list(NULL, "compact", true, "compact");
    check_list("", "a,b", true, "a,b");
    check_list("a,,b,", "c", true, "a,b,c");
    check_list("a", "b,,c", true, "a,b,c");
    /* SUBTRACT: removes listed items; unknown items are ignored. */
    check_list("delete,compact", "delete", false, "compact");
    check_list("delete,compact", "compact,delete", false, "");
    check_list("delete", "compact", false, "delete");
    check_list(NULL, "x", false, "");
    check_list("a,b,a,c", "a", false, "b,c");

    int32_t v = 0;
    ok(admin_parse_int32("1", &v) == 0 && v == 1, "parse 1");
    ok(admin_parse_int32("-7", &v) == 0 && v == -7, "parse -7");
    ok(admin_parse_int32("+3", &v) == 0 && v == 3, "parse +3 (Java accepts a plus sign)");
    ok(admin_parse_int32("2147483647", &v) == 0 && v == INT32_MAX, "parse INT32_MAX");
    ok(admin_parse_int32("-2147483648", &v) == 0 && v == INT32_MIN, "parse INT32_MIN");
    ok(admin_parse_int32("2147483648", &v) < 0, "reject INT32_MAX+1");
    ok(admin_parse_int32("", &v) < 0, "reject empty");
    ok(admin_parse_int32("-", &v) < 0, "reject lone sign");
    ok(admin_parse_int32(" 1", &v) < 0, "reject leading blank (Java does)");
    ok(admin_parse_int32("1a", &v) < 0, "reject trailing junk");
    ok(admin_parse_int32("99999999999999999999", &v) < 0, "reject huge");
    ok(admin_parse_int32(NULL, &v) < 0, "reject NULL");

    ok(admin_topic_names_collide("a.b", "a_b"), "a.b collides with a_b");
    ok(admin_topic_names_collide("a_b", "a.b"), "a_b collides with a.b");
    ok(admin_topic_names_collide("x.y_z", "x_y.z"), "mixed collide");
    ok(!admin_topic_names_collide("a.b", "a.b"), "same name is not a collision");
    ok(!admin_topic_names_collide("a.b", "a.bc"), "different lengths");
    ok(!admin_topic_names_collide("a.b", "a-b"), "'-' is not a collision char");
    ok(!admin_topic_names_collide("ab", "a_"), "different chars");

    ok(admin_topic_is_internal("__consumer_offsets"), "__consumer_offsets is internal");
    ok(admin_topic_is_internal("__transaction_state"), "__transaction_state is internal");
    ok(admin_topic_is_internal("__share_group_state"), "__share_group_state is internal");
    ok(!admin_topic_is_internal("__other"), "__other is not");
    ok(!admin_topic_is_internal("orders"), "orders is not");

    /* CREATE(5) ALTER(7) DESCRIBE(8) CLUSTER_ACTION(9) DESCRIBE_CONFIGS(10)
     * ALTER_CONFIGS(11) IDEMPOTENT_WRITE(12). */
    is_int(admin_cluster_authorized_operations(),
           (1 << 5) | (1 << 7) | (1 << 8) | (1 << 9) | (1 << 10) | (1 << 11) | (1 << 12),
           "cluster authorized operations bitfield");
    is_int(admin_cluster_authorized_operations(), 8096, "= 8096");
    return done_testing();
}
