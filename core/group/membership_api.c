/* JoinGroup (11), SyncGroup (14), Heartbeat (12), LeaveGroup (13): decode,
 * hand to the coordinator, encode its answer (possibly much later: a
 * JoinGroup waits for the rebalance, a SyncGroup for the leader). */
#include "broker/authz.h"
#include "broker/broker.h"
#include "group/coordinator.h"
#include "group/group_api.h"

#include <stdio.h>
#include <string.h>

const char *group_client_host(struct request *rq)
{
    struct net_conn *c = net_request_conn(rq->nreq);
    const char *peer = c ? net_conn_peer(c) : "";
    char buf[80];
    snprintf(buf, sizeof buf, "/%s", peer);
    /* Drop the port: the last ':' (IPv6 addresses come bracketed). */
    char *colon = strrchr(buf, ':');
    if (colon && colon != buf + 1)
        *colon = '\0';
    if (buf[1] == '[') {
        size_t n = strlen(buf);
        memmove(buf + 1, buf + 2, n - 1);
        n = strlen(buf);
        if (n && buf[n - 1] == ']')
            buf[n - 1] = '\0';
    }
    return rq_str(rq, buf).s;
}

/* ---- JoinGroup ------------------------------------------------------------ */

static void join_done(void *ud, const struct gc_join_result *res)
{
    struct request *rq = ud;
    const struct kp_message *rm = kp_response_message(KP_API_JOIN_GROUP);
    struct kp_JoinGroupResponse resp;
    memset(&resp, 0, sizeof resp);
    kp_struct_defaults(rm->body, &resp);
    resp.ErrorCode = res->error;
    resp.GenerationId = res->generation_id;
    resp.ProtocolType = kp_str_c(res->protocol_type);
    /* Before v7 the protocol name is not nullable: Kafka sends "". */
    resp.ProtocolName = kp_str_c(res->protocol_name ? res->protocol_name
                                 : rq->hdr.ApiVersion < 7 ? "" : NULL);
    resp.Leader = kp_str_c(res->leader_id ? res->leader_id : "");
    resp.SkipAssignment = res->skip_assignment;
    resp.MemberId = kp_str_c(res->member_id ? res->member_id : "");
    const struct kp_struct *md = kp_sub(rm->body, "Members");
    resp.Members.count = res->nmembers;
    resp.Members.items = rq_items(rq, md, res->nmembers);
    for (int i = 0; i < res->nmembers && resp.Members.items; i++) {
        struct kp_JoinGroupResponse_JoinGroupResponseMember *m = &resp.Members.items[i];
        m->MemberId = kp_str_c(res->members[i].member_id);
        m->GroupInstanceId = kp_str_c(res->members[i].group_instance_id);
        m->Metadata.p = res->members[i].metadata ? res->members[i].metadata
                                                 : (const uint8_t *)"";
        m->Metadata.len = res->members[i].metadata ? res->members[i].len : 0;
    }
    if (res->nmembers && !resp.Members.items) {
        resp.Members.count = 0;
        resp.ErrorCode = KP_ERR_UNKNOWN_SERVER_ERROR;
    }
    rq_respond(rq, &resp);
}

void handle_join_group(struct broker *b, struct request *rq)
{
    const struct kp_JoinGroupRequest *req = rq->body;
    int16_t v = rq->hdr.ApiVersion;
    if (!authz_allowed(rq, SLUICE_ACL_OP_READ, SLUICE_RES_GROUP, req->GroupId.s)) {
        struct gc_join_result r = { .error = KP_ERR_GROUP_AUTHORIZATION_FAILED, .generation_id = -1 };
        join_done(rq, &r);
        return;
    }
    struct gc_protocol *protocols = rq_alloc(rq, sizeof *protocols, req->Protocols.count);
    if (req->Protocols.count > 0 && !protocols) {
        struct gc_join_result r = { .error = KP_ERR_UNKNOWN_SERVER_ERROR, .generation_id = -1 };
        join_done(rq, &r);
        return;
    }
    for (int32_t i = 0; i < req->Protocols.count; i++) {
        protocols[i].name = req->Protocols.items[i].Name.s ? req->Protocols.items[i].Name.s : "";
        protocols[i].metadata = req->Protocols.items[i].Metadata.p;
        protocols[i].len = req->Protocols.items[i].Metadata.len;
    }
    const char *instance = v >= 5 ? req->GroupInstanceId.s : NULL;
    struct gc_join_req jr = {
        .group_id = req->GroupId.s ? req->GroupId.s : "",
        .member_id = req->MemberId.s ? req->MemberId.s : "",
        .group_instance_id = instance,
        .client_id = rq->hdr.ClientId.s ? rq->hdr.ClientId.s : "",
        .client_host = group_client_host(rq),
        .protocol_type = req->ProtocolType.s ? req->ProtocolType.s : "",
        .reason = v >= 8 ? req->Reason.s : NULL,
        .session_timeout_ms = req->SessionTimeoutMs,
        /* v0 has no rebalance timeout: the session timeout serves. */
        .rebalance_timeout_ms = v >= 1 ? req->RebalanceTimeoutMs : req->SessionTimeoutMs,
        .protocols = protocols,
        .nprotocols = req->Protocols.count > 0 ? req->Protocols.count : 0,
        .require_known_member_id = v >= 4 && !instance,
        .supports_skip_assignment = v >= 9,
    };
    gc_join(b->groups, &jr, join_done, rq);
}

/* ---- SyncGroup ------------------------------------------------------------ */

static void sync_done(void *ud, const struct gc_sync_result *res)
{
    struct request *rq = ud;
    struct kp_SyncGroupResponse resp;
    memset(&resp, 0, sizeof resp);
    kp_struct_defaults(kp_response_message(KP_API_SYNC_GROUP)->body, &resp);
    resp.ErrorCode = res->error;
    resp.ProtocolType = kp_str_c(res->error ? NULL : res->protocol_type);
    resp.ProtocolName = kp_str_c(res->error ? NULL : res->protocol_name);
    resp.Assignment.p = res->assignment ? res->assignment : (const uint8_t *)"";
    resp.Assignment.len = res->assignment ? res->len : 0;
    rq_respond(rq, &resp);
}

void handle_sync_group(struct broker *b, struct request *rq)
{
    const struct kp_SyncGroupRequest *req = rq->body;
    int16_t v = rq->hdr.ApiVersion;
    if (!authz_allowed(rq, SLUICE_ACL_OP_READ, SLUICE_RES_GROUP, req->GroupId.s)) {
        struct gc_sync_result r = { .error = KP_ERR_GROUP_AUTHORIZATION_FAILED };
        sync_done(rq, &r);
        return;
    }
    if (v >= 5 && (!req->ProtocolType.s || !req->ProtocolName.s)) {
        /* KIP-559: from v5 both are mandatory. */
        struct gc_sync_result r = { .error = KP_ERR_INCONSISTENT_GROUP_PROTOCOL };
        sync_done(rq, &r);
        return;
    }
    int32_t n = req->Assignments.count > 0 ? req->Assignments.count : 0;
    struct gc_assignment *as = rq_alloc(rq, sizeof *as, n);
    if (n && !as) {
        struct gc_sync_result r = { .error = KP_ERR_UNKNOWN_SERVER_ERROR };
        sync_done(rq, &r);
        return;
    }
    for (int32_t i = 0; i < n; i++) {
        as[i].member_id = req->Assignments.items[i].MemberId.s;
        as[i].data = req->Assignments.items[i].Assignment.p;
        as[i].len = req->Assignments.items[i].Assignment.len;
    }
    struct gc_sync_req sr = {
        .group_id = req->GroupId.s ? req->GroupId.s : "",
        .member_id = req->MemberId.s ? req->MemberId.s : "",
        .group_instance_id = v >= 3 ? req->GroupInstanceId.s : NULL,
        .protocol_type = v >= 5 ? req->ProtocolType.s : NULL,
        .protocol_name = v >= 5 ? req->ProtocolName.s : NULL,
        .generation_id = req->GenerationId,
        .assignments = as,
        .nassignments = n,
    };
    gc_sync(b->groups, &sr, sync_done, rq);
}

/* ---- Heartbeat ------------------------------------------------------------ */

void handle_heartbeat(struct broker *b, struct request *rq)
{
    const struct kp_HeartbeatRequest *req = rq->body;
    struct kp_HeartbeatResponse resp;
    memset(&resp, 0, sizeof resp);
    if (!authz_allowed(rq, SLUICE_ACL_OP_READ, SLUICE_RES_GROUP, req->GroupId.s)) {
        resp.ErrorCode = KP_ERR_GROUP_AUTHORIZATION_FAILED;
        rq_respond(rq, &resp);
        return;
    }
    resp.ErrorCode = gc_heartbeat(b->groups, req->GroupId.s ? req->GroupId.s : "",
                                  req->GenerationId, req->MemberId.s ? req->MemberId.s : "",
                                  rq->hdr.ApiVersion >= 3 ? req->GroupInstanceId.s : NULL);
    rq_respond(rq, &resp);
}

/* ---- LeaveGroup ----------------------------------------------------------- */

void handle_leave_group(struct broker *b, struct request *rq)
{
    const struct kp_LeaveGroupRequest *req = rq->body;
    const struct kp_message *rm = kp_response_message(KP_API_LEAVE_GROUP);
    int16_t v = rq->hdr.ApiVersion;
    struct kp_LeaveGroupResponse resp;
    memset(&resp, 0, sizeof resp);
    kp_struct_defaults(rm->body, &resp);
    if (!authz_allowed(rq, SLUICE_ACL_OP_READ, SLUICE_RES_GROUP, req->GroupId.s)) {
        resp.ErrorCode = KP_ERR_GROUP_AUTHORIZATION_FAILED;
        rq_respond(rq, &resp);
        return;
    }
    int32_t n = v >= 3 ? (req->Members.count > 0 ? req->Members.count : 0) : 1;
    struct gc_leave_member *lm = rq_alloc(rq, sizeof *lm, n);
    if (n && !lm) {
        resp.ErrorCode = KP_ERR_UNKNOWN_SERVER_ERROR;
        rq_respond(rq, &resp);
        return;
    }
    for (int32_t i = 0; i < n; i++) {
        if (v >= 3) {
            lm[i].member_id = req->Members.items[i].MemberId.s;
            lm[i].group_instance_id = req->Members.items[i].GroupInstanceId.s;
            lm[i].reason = v >= 5 ? req->Members.items[i].Reason.s : NULL;
        } else {
            lm[i].member_id = req->MemberId.s;
        }
    }
    int16_t top = gc_leave(b->groups, req->GroupId.s ? req->GroupId.s : "", lm, n);
    if (v <= 2) {
        /* One member: its error is the response's error. */
        resp.ErrorCode = top ? top : (n ? lm[0].error : 0);
        rq_respond(rq, &resp);
        return;
    }
    resp.ErrorCode = top;
    if (!top) {
        const struct kp_struct *md = kp_sub(rm->body, "Members");
        resp.Members.count = n;
        resp.Members.items = rq_items(rq, md, n);
        for (int32_t i = 0; i < n && resp.Members.items; i++) {
            resp.Members.items[i].MemberId = req->Members.items[i].MemberId;
            resp.Members.items[i].GroupInstanceId = req->Members.items[i].GroupInstanceId;
            resp.Members.items[i].ErrorCode = lm[i].error;
        }
    }
    rq_respond(rq, &resp);
}
