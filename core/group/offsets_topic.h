/* __consumer_offsets: the group coordinator's log, an internal compacted
 * topic of this broker's own log (offsets.topic.num.partitions partitions,
 * cleanup.policy=compact, segment.bytes=offsets.topic.segment.bytes,
 * compression.type=producer, as Kafka creates it).  It is created on first
 * use (FindCoordinator for a group, or the first write); on start-up its
 * partitions are replayed into the coordinator before the broker listens.
 * Writes are acknowledged once durable by the topic's flush policy, exactly
 * like Produce. */
#ifndef SLUICE_GROUP_OFFSETS_TOPIC_H
#define SLUICE_GROUP_OFFSETS_TOPIC_H

#include <stddef.h>
#include <stdint.h>

struct broker;
struct broker_topic;

#define OFFSETS_TOPIC "__consumer_offsets"

/* Create the coordinator, replay the topic if it exists, start it.
 * Returns 0 or -1 with err set. */
int offsets_topic_start(struct broker *b, char *err, size_t errlen);
void offsets_topic_stop(struct broker *b);

/* The topic, created now if missing; NULL with *err (a Kafka code). */
struct broker_topic *offsets_topic_ensure(struct broker *b, int16_t *err);
/* The partition holding group_id (by the topic's partition count when it
 * exists, else offsets.topic.num.partitions). */
int32_t offsets_topic_partition_for(struct broker *b, const char *group_id);

#endif
