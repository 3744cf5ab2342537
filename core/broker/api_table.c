/* The one table that drives dispatch and ApiVersions.  A row is added only
 * when the API is implemented over its whole range: min..max are what we
 * advertise and serve.  Produce v0-v2 (message formats v0/v1) are served by
 * up-converting to record batches v2 (storage/message_format_legacy.h);
 * librdkafka only compresses gzip/snappy when Produce v0 is advertised.
 * Fetch below v4 would need down-conversion, which Kafka 4 dropped too. */
#include "broker/broker.h"
#include "group/coordinator.h"
#include "group/group_api.h"
#include "txn/txn_api.h"

static bool consumer_protocol_on(const struct broker *b)
{
    return b && b->groups && b->groups->consumer_protocol;
}

static const struct api_entry api_table[] = {
    { KP_API_PRODUCE, 0, 11, handle_produce },
    { KP_API_FETCH, 4, 17, handle_fetch },
    { KP_API_LIST_OFFSETS, 1, 10, handle_list_offsets },
    { KP_API_METADATA, 0, 12, handle_metadata },
    { KP_API_OFFSET_COMMIT, 0, 9, handle_offset_commit },
    { KP_API_OFFSET_FETCH, 0, 9, handle_offset_fetch },
    { KP_API_FIND_COORDINATOR, 0, 6, handle_find_coordinator },
    { KP_API_JOIN_GROUP, 0, 9, handle_join_group },
    { KP_API_HEARTBEAT, 0, 4, handle_heartbeat },
    { KP_API_LEAVE_GROUP, 0, 5, handle_leave_group },
    { KP_API_SYNC_GROUP, 0, 5, handle_sync_group },
    { KP_API_DESCRIBE_GROUPS, 0, 5, handle_describe_groups },
    { KP_API_LIST_GROUPS, 0, 5, handle_list_groups },
    { KP_API_SASL_HANDSHAKE, 0, 1, handle_sasl_handshake },
    { KP_API_API_VERSIONS, 0, 4, handle_api_versions },
    { KP_API_CREATE_TOPICS, 0, 7, handle_create_topics },
    { KP_API_DELETE_TOPICS, 0, 6, handle_delete_topics },
    { KP_API_DELETE_RECORDS, 0, 2, handle_delete_records },
    { KP_API_INIT_PRODUCER_ID, 0, 5, handle_init_producer_id },
    /* Transactions (core/txn).  EndTxn v5 (KIP-890 part 2, an epoch bump
     * per transaction, transaction.version 2) is not served. */
    { KP_API_ADD_PARTITIONS_TO_TXN, 0, 5, handle_add_partitions_to_txn },
    { KP_API_ADD_OFFSETS_TO_TXN, 0, 4, handle_add_offsets_to_txn },
    { KP_API_END_TXN, 0, 4, handle_end_txn },
    { KP_API_WRITE_TXN_MARKERS, 0, 1, handle_write_txn_markers },
    { KP_API_TXN_OFFSET_COMMIT, 0, 4, handle_txn_offset_commit },
    { KP_API_DESCRIBE_TRANSACTIONS, 0, 0, handle_describe_transactions },
    { KP_API_LIST_TRANSACTIONS, 0, 1, handle_list_transactions },
    { KP_API_DESCRIBE_ACLS, 0, 3, handle_describe_acls },
    { KP_API_CREATE_ACLS, 0, 3, handle_create_acls },
    { KP_API_DELETE_ACLS, 0, 3, handle_delete_acls },
    { KP_API_DELETE_GROUPS, 0, 2, handle_delete_groups },
    { KP_API_OFFSET_DELETE, 0, 0, handle_offset_delete },
    { KP_API_DESCRIBE_CONFIGS, 0, 4, handle_describe_configs },
    { KP_API_ALTER_CONFIGS, 0, 2, handle_alter_configs },
    { KP_API_ALTER_REPLICA_LOG_DIRS, 0, 2, handle_alter_replica_log_dirs },
    { KP_API_DESCRIBE_LOG_DIRS, 0, 4, handle_describe_log_dirs },
    { KP_API_SASL_AUTHENTICATE, 0, 2, handle_sasl_authenticate },
    { KP_API_CREATE_PARTITIONS, 0, 3, handle_create_partitions },
    { KP_API_INCREMENTAL_ALTER_CONFIGS, 0, 1, handle_incremental_alter_configs },
    { KP_API_DESCRIBE_USER_SCRAM_CREDENTIALS, 0, 0, handle_describe_user_scram_credentials },
    { KP_API_ALTER_USER_SCRAM_CREDENTIALS, 0, 0, handle_alter_user_scram_credentials },
    { KP_API_DESCRIBE_CLUSTER, 0, 1, handle_describe_cluster },
    { KP_API_DESCRIBE_PRODUCERS, 0, 0, handle_describe_producers },
    /* KIP-848.  v1 (SubscribedTopicRegex, client-generated member ids) is
     * latestVersionUnstable in the schemas this tree follows; Kafka 4.0
     * released it as stable and librdkafka >= 2.10 requires it. */
    { KP_API_CONSUMER_GROUP_HEARTBEAT, 0, 0, handle_consumer_group_heartbeat, 1,
      consumer_protocol_on },
    { KP_API_CONSUMER_GROUP_DESCRIBE, 0, 0, handle_consumer_group_describe, 0,
      consumer_protocol_on },
};

int16_t api_max_version(const struct broker *b, const struct api_entry *e)
{
    if (e->unstable_max > e->max_version && b && b->cfg && b->cfg->unstable_api_versions_enable)
        return e->unstable_max;
    return e->max_version;
}

bool api_available(const struct broker *b, const struct api_entry *e)
{
    return !e->available || e->available(b);
}

const struct api_entry *api_table_entries(size_t *n)
{
    *n = sizeof api_table / sizeof api_table[0];
    return api_table;
}

const struct api_entry *api_table_lookup(int16_t api_key)
{
    for (size_t i = 0; i < sizeof api_table / sizeof api_table[0]; i++)
        if (api_table[i].api_key == api_key)
            return &api_table[i];
    return NULL;
}
