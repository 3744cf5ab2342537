/* Java String.hashCode over UTF-16 and Kafka's abs(hash) % n partitioning.
 * Expected values computed from the UTF-16 definition (Java's own
 * "polygenelubricants".hashCode() == Integer.MIN_VALUE included). */
#include "group/partitioner.h"
#include "tap.h"

#include <string.h>

static const struct {
    const char *s;
    int32_t hash, part50;
} cases[] = {
    { "", 0, 0 },
    { "a", 97, 47 },
    { "abc", 96354, 4 },
    { "hello", 99162322, 22 },
    { "polygenelubricants", INT32_MIN, 0 }, /* Utils.abs(MIN_VALUE) == 0 */
    { "test-group", 627841412, 12 },
    { "consumer-group-1", 147483020, 20 },
    { "gr\xc3\xbc\xc3\x9f" "e", 98768023, 23 },           /* "grüße" */
    { "\xf0\x9f\x98\x80x", 54959989, 39 },                /* U+1F600 as a surrogate pair */
    { "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e\xe3\x82\xb0\xe3\x83\xab\xe3\x83\xbc\xe3\x83\x97",
      -305235731, 31 },                                   /* "日本語グループ" */
};

int main(void)
{
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        is_int(java_string_hashcode(cases[i].s, strlen(cases[i].s)), cases[i].hash,
               "hashCode of case %zu", i);
        is_int(group_partition_for(cases[i].s, 50), cases[i].part50, "partition of case %zu", i);
    }
    /* "Aa" and "BB" collide in Java. */
    is_int(java_string_hashcode("Aa", 2), java_string_hashcode("BB", 2), "Aa/BB collide");
    /* A lone continuation byte decodes to U+FFFD like Java's decoder. */
    is_int(java_string_hashcode("\x80", 1), 0xfffd, "malformed byte is U+FFFD");
    is_int(group_partition_for("hello", 1), 0, "one partition");
    done_testing();
}
