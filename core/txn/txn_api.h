/* Kafka API handlers of the transaction coordinator (dispatched from
 * core/broker/api_table.c; InitProducerId with a TransactionalId comes
 * through core/broker/init_producer_id.c). */
#ifndef SLUICE_TXN_API_H
#define SLUICE_TXN_API_H

struct broker;
struct request;

void txn_handle_init_producer_id(struct broker *b, struct request *rq);
void handle_add_partitions_to_txn(struct broker *b, struct request *rq);
void handle_add_offsets_to_txn(struct broker *b, struct request *rq);
void handle_end_txn(struct broker *b, struct request *rq);
void handle_write_txn_markers(struct broker *b, struct request *rq);
void handle_txn_offset_commit(struct broker *b, struct request *rq);
void handle_describe_transactions(struct broker *b, struct request *rq);
void handle_list_transactions(struct broker *b, struct request *rq);

#endif
