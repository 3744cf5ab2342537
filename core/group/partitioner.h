/* Which __consumer_offsets partition holds a group: Kafka's
 * Utils.abs(groupId.hashCode()) % offsets.topic.num.partitions, with Java's
 * String.hashCode over UTF-16 code units, so a group lands on the same
 * partition number as on a Kafka broker and tools that compute it agree. */
#ifndef SLUICE_GROUP_PARTITIONER_H
#define SLUICE_GROUP_PARTITIONER_H

#include <stddef.h>
#include <stdint.h>

/* Java's String.hashCode() of the string whose UTF-8 bytes are s[0..len):
 * s[0]*31^(n-1) + ... over UTF-16 code units (supplementary characters
 * count as their two surrogates).  Malformed UTF-8 decodes to U+FFFD per
 * bad byte, as Java's decoder substitutes it. */
int32_t java_string_hashcode(const char *s, size_t len);

/* Kafka's Utils.abs (MIN_VALUE maps to 0) of the hash, modulo nparts. */
int32_t group_partition_for(const char *group_id, int32_t nparts);

#endif
