/* CreateAcls (30), DescribeAcls (29), DeleteAcls (31): Kafka's rules
 * (KafkaApis/AclApis) in the broker, the ACLs in the authorizer module
 * (<sluice/authorizer.h>).  Without an authorizer Kafka answers
 * SECURITY_DISABLED ("No Authorizer is configured."). */
#include "broker/authz.h"
#include "broker/broker.h"
#include "plugin/module_loader.h"

#include <stdlib.h>
#include <string.h>

#define NO_AUTHORIZER "No Authorizer is configured."

static const char *cstr(const struct kp_str *s)
{
    return s->len < 0 ? NULL : s->s ? s->s : "";
}

void handle_create_acls(struct broker *b, struct request *rq)
{
    const struct kp_CreateAclsRequest *req = rq->body;
    const struct kp_message *rm = kp_response_message(KP_API_CREATE_ACLS);
    struct kp_CreateAclsResponse resp;
    memset(&resp, 0, sizeof resp);
    kp_struct_defaults(rm->body, &resp);
    int32_t n = req->Creations.count > 0 ? req->Creations.count : 0;
    resp.Results.items = rq_items(rq, kp_sub(rm->body, "Results"), n);
    resp.Results.count = resp.Results.items ? n : 0;
    const struct module_authorizer *az = module_registry_authorizer(b->modules);
    bool allowed = authz_cluster(rq, SLUICE_ACL_OP_ALTER);
    if (!az || !allowed || n == 0) {
        for (int32_t i = 0; i < resp.Results.count; i++) {
            resp.Results.items[i].ErrorCode =
                !az ? KP_ERR_SECURITY_DISABLED : KP_ERR_CLUSTER_AUTHORIZATION_FAILED;
            resp.Results.items[i].ErrorMessage =
                !az ? rq_str(rq, NO_AUTHORIZER) : (struct kp_str){ NULL, -1 };
        }
        rq_respond(rq, &resp);
        return;
    }
    struct sluice_acl_binding *acls = rq_alloc(rq, sizeof *acls, n);
    int16_t *errors = rq_alloc(rq, sizeof *errors, n);
    char *msgs = rq_alloc(rq, 256, n);
    if (!acls || !errors || !msgs) {
        rq_respond(rq, &resp);
        return;
    }
    for (int32_t i = 0; i < n; i++) {
        const struct kp_CreateAclsRequest_AclCreation *c = &req->Creations.items[i];
        acls[i] = (struct sluice_acl_binding){
            sizeof acls[i], c->ResourceType, cstr(&c->ResourceName),
            rq->hdr.ApiVersion >= 1 ? c->ResourcePatternType : SLUICE_PATTERN_LITERAL,
            cstr(&c->Principal), cstr(&c->Host), c->Operation, c->PermissionType,
        };
    }
    az->ops.create_acls(az->state, acls, (size_t)n, errors, msgs, 256);
    for (int32_t i = 0; i < n; i++) {
        resp.Results.items[i].ErrorCode = errors[i];
        msgs[i * 256 + 255] = '\0';
        resp.Results.items[i].ErrorMessage =
            errors[i] ? rq_str(rq, msgs + i * 256) : (struct kp_str){ NULL, -1 };
    }
    rq_respond_after_meta_sync(rq, &resp);
}

/* Filters of DescribeAcls and DeleteAcls. */
static struct sluice_acl_binding filter_of(int16_t version, int8_t rtype, const struct kp_str *name,
                                           int8_t pattern, const struct kp_str *principal,
                                           const struct kp_str *host, int8_t op, int8_t perm)
{
    return (struct sluice_acl_binding){
        sizeof(struct sluice_acl_binding), rtype, cstr(name),
        version >= 1 ? pattern : SLUICE_PATTERN_LITERAL, cstr(principal), cstr(host), op, perm,
    };
}

struct acl_list {
    struct request *rq;
    struct sluice_acl_binding *items;
    size_t n, cap;
};

static int collect(void *ud, const struct sluice_acl_binding *a)
{
    struct acl_list *l = ud;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        struct sluice_acl_binding *n = rq_alloc(l->rq, sizeof *n, (int32_t)cap);
        if (!n)
            return 1;
        if (l->n)
            memcpy(n, l->items, l->n * sizeof *n);
        l->items = n;
        l->cap = cap;
    }
    struct sluice_acl_binding *c = &l->items[l->n++];
    *c = *a;
    c->resource_name = rq_str(l->rq, a->resource_name).s;
    c->principal = rq_str(l->rq, a->principal).s;
    c->host = rq_str(l->rq, a->host).s;
    return 0;
}

void handle_describe_acls(struct broker *b, struct request *rq)
{
    const struct kp_DescribeAclsRequest *req = rq->body;
    const struct kp_message *rm = kp_response_message(KP_API_DESCRIBE_ACLS);
    struct kp_DescribeAclsResponse resp;
    memset(&resp, 0, sizeof resp);
    kp_struct_defaults(rm->body, &resp);
    resp.ErrorMessage = (struct kp_str){ NULL, -1 };
    const struct module_authorizer *az = module_registry_authorizer(b->modules);
    if (!az) {
        resp.ErrorCode = KP_ERR_SECURITY_DISABLED;
        resp.ErrorMessage = rq_str(rq, NO_AUTHORIZER);
        rq_respond(rq, &resp);
        return;
    }
    if (!authz_cluster(rq, SLUICE_ACL_OP_DESCRIBE)) {
        resp.ErrorCode = KP_ERR_CLUSTER_AUTHORIZATION_FAILED;
        rq_respond(rq, &resp);
        return;
    }
    struct sluice_acl_binding f =
        filter_of(rq->hdr.ApiVersion, req->ResourceTypeFilter, &req->ResourceNameFilter,
                  req->PatternTypeFilter, &req->PrincipalFilter, &req->HostFilter, req->Operation,
                  req->PermissionType);
    struct acl_list l = { rq, NULL, 0, 0 };
    int16_t ec = az->ops.describe_acls(az->state, &f, collect, &l);
    if (ec) {
        resp.ErrorCode = ec;
        rq_respond(rq, &resp);
        return;
    }
    /* Grouped by resource pattern, in the order the authorizer gave. */
    const struct kp_struct *rd = kp_sub(rm->body, "Resources");
    const struct kp_struct *ad = kp_sub(rd, "Acls");
    resp.Resources.items = rq_items(rq, rd, (int32_t)l.n);
    for (size_t i = 0; i < l.n && resp.Resources.items; i++) {
        const struct sluice_acl_binding *a = &l.items[i];
        struct kp_DescribeAclsResponse_DescribeAclsResource *r = NULL;
        for (int32_t k = 0; k < resp.Resources.count; k++) {
            struct kp_DescribeAclsResponse_DescribeAclsResource *x = &resp.Resources.items[k];
            if (x->ResourceType == a->resource_type && x->PatternType == a->pattern_type &&
                strcmp(x->ResourceName.s, a->resource_name) == 0)
                r = x;
        }
        if (!r) {
            r = &resp.Resources.items[resp.Resources.count++];
            r->ResourceType = a->resource_type;
            r->ResourceName = rq_str(rq, a->resource_name);
            r->PatternType = a->pattern_type;
            r->Acls.items = rq_items(rq, ad, (int32_t)l.n);
        }
        if (!r->Acls.items)
            continue;
        struct kp_DescribeAclsResponse_AclDescription *d = &r->Acls.items[r->Acls.count++];
        d->Principal = rq_str(rq, a->principal);
        d->Host = rq_str(rq, a->host);
        d->Operation = a->operation;
        d->PermissionType = a->permission;
    }
    rq_respond(rq, &resp);
}

void handle_delete_acls(struct broker *b, struct request *rq)
{
    const struct kp_DeleteAclsRequest *req = rq->body;
    const struct kp_message *rm = kp_response_message(KP_API_DELETE_ACLS);
    struct kp_DeleteAclsResponse resp;
    memset(&resp, 0, sizeof resp);
    kp_struct_defaults(rm->body, &resp);
    int32_t n = req->Filters.count > 0 ? req->Filters.count : 0;
    const struct kp_struct *fd = kp_sub(rm->body, "FilterResults");
    const struct kp_struct *md = kp_sub(fd, "MatchingAcls");
    resp.FilterResults.items = rq_items(rq, fd, n);
    resp.FilterResults.count = resp.FilterResults.items ? n : 0;
    const struct module_authorizer *az = module_registry_authorizer(b->modules);
    bool allowed = authz_cluster(rq, SLUICE_ACL_OP_ALTER);
    bool wrote = false;
    for (int32_t i = 0; i < resp.FilterResults.count; i++) {
        struct kp_DeleteAclsResponse_DeleteAclsFilterResult *fr = &resp.FilterResults.items[i];
        fr->ErrorMessage = (struct kp_str){ NULL, -1 };
        if (!az) {
            fr->ErrorCode = KP_ERR_SECURITY_DISABLED;
            fr->ErrorMessage = rq_str(rq, NO_AUTHORIZER);
            continue;
        }
        if (!allowed) {
            fr->ErrorCode = KP_ERR_CLUSTER_AUTHORIZATION_FAILED;
            continue;
        }
        const struct kp_DeleteAclsRequest_DeleteAclsFilter *f = &req->Filters.items[i];
        struct sluice_acl_binding flt =
            filter_of(rq->hdr.ApiVersion, f->ResourceTypeFilter, &f->ResourceNameFilter,
                      f->PatternTypeFilter, &f->PrincipalFilter, &f->HostFilter, f->Operation,
                      f->PermissionType);
        struct acl_list l = { rq, NULL, 0, 0 };
        fr->ErrorCode = az->ops.delete_acls(az->state, &flt, collect, &l);
        if (fr->ErrorCode)
            continue;
        wrote |= l.n > 0;
        fr->MatchingAcls.items = rq_items(rq, md, (int32_t)l.n);
        fr->MatchingAcls.count = fr->MatchingAcls.items ? (int32_t)l.n : 0;
        for (int32_t k = 0; k < fr->MatchingAcls.count; k++) {
            struct kp_DeleteAclsResponse_DeleteAclsMatchingAcl *m = &fr->MatchingAcls.items[k];
            const struct sluice_acl_binding *a = &l.items[k];
            m->ErrorMessage = (struct kp_str){ NULL, -1 };
            m->ResourceType = a->resource_type;
            m->ResourceName = rq_str(rq, a->resource_name);
            m->PatternType = a->pattern_type;
            m->Principal = rq_str(rq, a->principal);
            m->Host = rq_str(rq, a->host);
            m->Operation = a->operation;
            m->PermissionType = a->permission;
        }
    }
    if (wrote)
        rq_respond_after_meta_sync(rq, &resp);
    else
        rq_respond(rq, &resp);
}
