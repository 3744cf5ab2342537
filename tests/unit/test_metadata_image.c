#include "meta/metadata_image.h"
#include "tap.h"

int main(void)
{
    struct meta_image img;
    meta_image_init(&img);
    struct meta_uuid a = { { 1 } }, b = { { 2 } };
    is_int(meta_image_apply_topic(&img, "orders", &a), 0, "topic applied");
    is_int(meta_image_apply_topic(&img, "orders", &b), -1, "duplicate topic name refused");
    is_int(meta_image_apply_topic(&img, "users", &b), 0, "second topic applied");
    int32_t r[] = { 1 };
    for (int p = 0; p < 3; p++)
        meta_image_apply_partition(&img, &a, p, r, 1, r, 1, 1, 0, 0);
    struct meta_topic *t = meta_image_topic(&img, "orders");
    ok(t != NULL, "lookup by name");
    is_int(t->nparts, 3, "three partitions");
    is_int(t->parts[2].leader, 1, "leader set");
    struct meta_uuid zz = { { 9 } };
    is_int(meta_image_apply_partition(&img, &zz, 0, r, 1, r, 1, 1, 0, 0), -1,
           "partition for unknown topic id refused");
    is_int(meta_image_apply_config(&img, META_RESOURCE_TOPIC, "orders", "retention.ms", "1000"), 0,
           "config override");
    is_str(meta_configs_get(&t->configs, "retention.ms"), "1000", "override visible");
    meta_image_apply_config(&img, META_RESOURCE_TOPIC, "orders", "retention.ms", "2000");
    is_str(meta_configs_get(&t->configs, "retention.ms"), "2000", "override replaced");
    meta_image_apply_config(&img, META_RESOURCE_TOPIC, "orders", "retention.ms", NULL);
    ok(meta_configs_get(&t->configs, "retention.ms") == NULL, "override removed by null");
    ok(meta_image_topic_by_id(&img, &b) == meta_image_topic(&img, "users"), "lookup by id");
    is_int(meta_image_apply_remove_topic(&img, &a), 0, "remove topic");
    ok(meta_image_topic(&img, "orders") == NULL, "removed topic gone");
    is_int(meta_image_topic_count(&img), 1, "one topic left");
    struct meta_uuid u = { { 0xff, 0xee, 0xdd, 0xcc, 0xbb, 0xaa, 0x99, 0x88, 0x77, 0x66, 0x55, 0x44,
                             0x33, 0x22, 0x11, 0x00 } };
    char s[23];
    meta_uuid_to_base64(&u, s);
    is_str(s, "_-7dzLuqmYh3ZlVEMyIRAA", "uuid base64url as Kafka prints it");
    meta_uuid_random(&u);
    ok((u.b[6] >> 4) == 4 && !meta_uuid_is_zero(&u), "random uuid is v4");
    meta_image_free(&img);
    return done_testing();
}
