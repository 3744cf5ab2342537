/* DescribeGroups (15), ListGroups (16), DeleteGroups (42). */
#include "broker/authz.h"
#include "broker/broker.h"
#include "group/classic_group.h"
#include "group/consumer_group.h"
#include "group/coordinator.h"
#include "group/group_api.h"

#include <string.h>
#include <strings.h>

/* AclOperation codes a group supports (AclEntry.supportedOperations(GROUP):
 * READ, DELETE, DESCRIBE, DESCRIBE_CONFIGS, ALTER_CONFIGS); with no
 * authorizer Kafka reports them all. */
static int32_t group_authorized_operations(void)
{
    return (1 << 3) | (1 << 6) | (1 << 8) | (1 << 10) | (1 << 11);
}

void handle_describe_groups(struct broker *b, struct request *rq)
{
    const struct kp_DescribeGroupsRequest *req = rq->body;
    const struct kp_message *rm = kp_response_message(KP_API_DESCRIBE_GROUPS);
    const struct kp_struct *gd = kp_sub(rm->body, "Groups");
    const struct kp_struct *md = kp_sub(gd, "Members");
    struct kp_DescribeGroupsResponse resp;
    memset(&resp, 0, sizeof resp);
    kp_struct_defaults(rm->body, &resp);
    int32_t n = req->Groups.count > 0 ? req->Groups.count : 0;
    resp.Groups.count = n;
    resp.Groups.items = rq_items(rq, gd, n);
    for (int32_t i = 0; i < n && resp.Groups.items; i++) {
        struct kp_DescribeGroupsResponse_DescribedGroup *dg = &resp.Groups.items[i];
        const char *id = req->Groups.items[i].s ? req->Groups.items[i].s : "";
        dg->GroupId = req->Groups.items[i];
        dg->GroupState = kp_str_c("");
        dg->ProtocolType = kp_str_c("");
        dg->ProtocolData = kp_str_c("");
        if (rq->hdr.ApiVersion >= 3 && req->IncludeAuthorizedOperations)
            dg->AuthorizedOperations = authz_active(b) ? authz_operations(rq, SLUICE_RES_GROUP, id)
                                                       : group_authorized_operations();
        if (!authz_allowed(rq, SLUICE_ACL_OP_DESCRIBE, SLUICE_RES_GROUP, id)) {
            dg->ErrorCode = KP_ERR_GROUP_AUTHORIZATION_FAILED;
            continue;
        }
        dg->ErrorCode = gc_validate_group(b->groups, id, true);
        if (dg->ErrorCode)
            continue;
        struct group *base = gc_group(b->groups, id);
        if (!base || base->type != GROUP_TYPE_CLASSIC) {
            /* Unknown groups describe as Dead (consumer groups answer
             * through ConsumerGroupDescribe). */
            dg->GroupState = kp_str_c(cg_state_name(CG_DEAD));
            continue;
        }
        struct classic_group *g = (struct classic_group *)base;
        bool stable = g->state == CG_STABLE;
        dg->GroupState = kp_str_c(cg_state_name(g->state));
        dg->ProtocolType = kp_str_c(g->protocol_type ? g->protocol_type : "");
        dg->ProtocolData = kp_str_c(stable && g->protocol_name ? g->protocol_name : "");
        dg->Members.count = g->nmembers;
        dg->Members.items = rq_items(rq, md, g->nmembers);
        int k = 0;
        for (struct cg_member *m = g->head; m && dg->Members.items; m = m->next, k++) {
            struct kp_DescribeGroupsResponse_DescribedGroupMember *dm = &dg->Members.items[k];
            dm->MemberId = rq_str(rq, m->member_id);
            dm->GroupInstanceId = rq_str(rq, m->group_instance_id);
            dm->ClientId = rq_str(rq, m->client_id);
            dm->ClientHost = rq_str(rq, m->client_host);
            const struct cg_protocol *p = stable ? member_protocol(m, g->protocol_name) : NULL;
            dm->MemberMetadata.p = p ? p->metadata : (const uint8_t *)"";
            dm->MemberMetadata.len = p ? p->len : 0;
            dm->MemberAssignment.p = stable ? m->assignment : (const uint8_t *)"";
            dm->MemberAssignment.len = stable ? m->assignment_len : 0;
        }
    }
    rq_respond(rq, &resp);
}

static bool filter_has(const struct kp_str *items, int32_t n, const char *value)
{
    if (n <= 0)
        return true;
    for (int32_t i = 0; i < n; i++)
        if (items[i].s && strcasecmp(items[i].s, value) == 0)
            return true;
    return false;
}

void handle_list_groups(struct broker *b, struct request *rq)
{
    const struct kp_ListGroupsRequest *req = rq->body;
    const struct kp_message *rm = kp_response_message(KP_API_LIST_GROUPS);
    const struct kp_struct *ld = kp_sub(rm->body, "Groups");
    struct kp_ListGroupsResponse resp;
    memset(&resp, 0, sizeof resp);
    kp_struct_defaults(rm->body, &resp);
    struct group_coordinator *gc = b->groups;
    if (!gc->active) {
        resp.ErrorCode = KP_ERR_COORDINATOR_NOT_AVAILABLE;
        rq_respond(rq, &resp);
        return;
    }
    /* DESCRIBE on the cluster lists every group, else those the principal
     * may DESCRIBE (KafkaApis.handleListGroupsRequest). */
    bool all_groups = authz_cluster(rq, SLUICE_ACL_OP_DESCRIBE);
    int32_t ns = rq->hdr.ApiVersion >= 4 ? req->StatesFilter.count : 0;
    int32_t nt = rq->hdr.ApiVersion >= 5 ? req->TypesFilter.count : 0;
    resp.Groups.items = rq_items(rq, ld, (int32_t)gc->groups.count);
    size_t it = 0;
    void *v;
    int32_t k = 0;
    while (resp.Groups.items && strmap_next(&gc->groups, &it, NULL, &v)) {
        struct group *base = v;
        if (!all_groups && !authz_allowed(rq, SLUICE_ACL_OP_DESCRIBE, SLUICE_RES_GROUP, base->id))
            continue;
        if (base->type == GROUP_TYPE_CONSUMER) {
            /* KIP-848 groups: protocol type "consumer", type "consumer". */
            const char *st = cgrp_state_name(cgrp_state((struct consumer_group *)base));
            if (!filter_has(req->StatesFilter.items, ns, st) ||
                !filter_has(req->TypesFilter.items, nt, "consumer"))
                continue;
            struct kp_ListGroupsResponse_ListedGroup *lg = &resp.Groups.items[k++];
            lg->GroupId = rq_str(rq, base->id);
            lg->ProtocolType = kp_str_c("consumer");
            lg->GroupState = kp_str_c(st);
            lg->GroupType = kp_str_c("consumer");
            continue;
        }
        struct classic_group *g = v;
        if (g->state == CG_DEAD || !filter_has(req->StatesFilter.items, ns, cg_state_name(g->state)) ||
            !filter_has(req->TypesFilter.items, nt, "classic"))
            continue;
        struct kp_ListGroupsResponse_ListedGroup *lg = &resp.Groups.items[k++];
        lg->GroupId = rq_str(rq, g->base.id);
        lg->ProtocolType = rq_str(rq, g->protocol_type ? g->protocol_type : "");
        lg->GroupState = kp_str_c(cg_state_name(g->state));
        lg->GroupType = kp_str_c("classic");
    }
    resp.Groups.count = k;
    rq_respond(rq, &resp);
}

void handle_delete_groups(struct broker *b, struct request *rq)
{
    const struct kp_DeleteGroupsRequest *req = rq->body;
    const struct kp_message *rm = kp_response_message(KP_API_DELETE_GROUPS);
    const struct kp_struct *rd = kp_sub(rm->body, "Results");
    struct kp_DeleteGroupsResponse resp;
    memset(&resp, 0, sizeof resp);
    kp_struct_defaults(rm->body, &resp);
    int32_t n = req->GroupsNames.count > 0 ? req->GroupsNames.count : 0;
    resp.Results.count = n;
    resp.Results.items = rq_items(rq, rd, n);
    for (int32_t i = 0; i < n && resp.Results.items; i++) {
        resp.Results.items[i].GroupId = req->GroupsNames.items[i];
        resp.Results.items[i].ErrorCode =
            !authz_allowed(rq, SLUICE_ACL_OP_DELETE, SLUICE_RES_GROUP, req->GroupsNames.items[i].s)
                ? KP_ERR_GROUP_AUTHORIZATION_FAILED :
            gc_delete_group(b->groups, req->GroupsNames.items[i].s ? req->GroupsNames.items[i].s
                                                                   : "");
    }
    rq_respond(rq, &resp);
}
