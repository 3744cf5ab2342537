/* Kafka API handlers of the group coordinator (dispatched from
 * core/broker/api_table.c). */
#ifndef SLUICE_GROUP_API_H
#define SLUICE_GROUP_API_H

struct broker;
struct request;

void handle_find_coordinator(struct broker *b, struct request *rq);
void handle_join_group(struct broker *b, struct request *rq);
void handle_sync_group(struct broker *b, struct request *rq);
void handle_heartbeat(struct broker *b, struct request *rq);
void handle_leave_group(struct broker *b, struct request *rq);
void handle_offset_commit(struct broker *b, struct request *rq);
void handle_offset_fetch(struct broker *b, struct request *rq);
void handle_offset_delete(struct broker *b, struct request *rq);
void handle_describe_groups(struct broker *b, struct request *rq);
void handle_list_groups(struct broker *b, struct request *rq);
void handle_delete_groups(struct broker *b, struct request *rq);
void handle_consumer_group_heartbeat(struct broker *b, struct request *rq);
void handle_consumer_group_describe(struct broker *b, struct request *rq);

/* "/127.0.0.1" for a peer "127.0.0.1:54321", as Kafka reports a member's
 * client host (InetAddress.toString). */
const char *group_client_host(struct request *rq);

#endif
