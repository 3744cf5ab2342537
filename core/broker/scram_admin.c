/* AlterUserScramCredentials (51) and DescribeUserScramCredentials (50),
 * with Kafka's rules (ScramControlManager, KafkaApis): the credentials live
 * in the SCRAM mechanism modules (<sluice/sasl.h> credential_*). */
#include "broker/authz.h"
#include "broker/broker.h"
#include "plugin/module_loader.h"

#include <string.h>

static const struct module_sasl_mech *scram_mech(struct broker *b, int8_t id)
{
    size_t n;
    const struct module_sasl_mech *m = module_registry_sasl_mechs(b->modules, &n);
    for (size_t i = 0; i < n; i++)
        if (id != 0 && m[i].ops.scram_mechanism == id && m[i].ops.credential_upsert)
            return &m[i];
    return NULL;
}

static bool str_eq(const struct kp_str *a, const struct kp_str *b)
{
    return a->len == b->len && (a->len <= 0 || memcmp(a->s, b->s, (size_t)a->len) == 0);
}

void handle_alter_user_scram_credentials(struct broker *b, struct request *rq)
{
    const struct kp_AlterUserScramCredentialsRequest *req = rq->body;
    const struct kp_message *rm = kp_response_message(KP_API_ALTER_USER_SCRAM_CREDENTIALS);
    struct kp_AlterUserScramCredentialsResponse resp;
    memset(&resp, 0, sizeof resp);
    kp_struct_defaults(rm->body, &resp);
    int32_t nd = req->Deletions.count > 0 ? req->Deletions.count : 0;
    int32_t nu = req->Upsertions.count > 0 ? req->Upsertions.count : 0;
    /* One result per distinct user, in request order. */
    struct kp_AlterUserScramCredentialsResponse_AlterUserScramCredentialsResult *res =
        rq_items(rq, kp_sub(rm->body, "Results"), nd + nu);
    int32_t nres = 0;
    bool cluster_ok = authz_cluster(rq, SLUICE_ACL_OP_ALTER);
    for (int32_t i = 0; res && i < nd + nu; i++) {
        const struct kp_str *name = i < nd ? &req->Deletions.items[i].Name
                                           : &req->Upsertions.items[i - nd].Name;
        int32_t k;
        for (k = 0; k < nres && !str_eq(&res[k].User, name); k++)
            ;
        if (k == nres) {
            res[nres].User = *name;
            res[nres].ErrorMessage = (struct kp_str){ NULL, -1 };
            nres++;
        }
    }
    /* Validation first (nothing is written for a user with any error). */
    for (int32_t i = 0; res && i < nd + nu; i++) {
        bool del = i < nd;
        const struct kp_str *name = del ? &req->Deletions.items[i].Name
                                        : &req->Upsertions.items[i - nd].Name;
        int8_t mech = del ? req->Deletions.items[i].Mechanism
                          : req->Upsertions.items[i - nd].Mechanism;
        int32_t k;
        for (k = 0; !str_eq(&res[k].User, name); k++)
            ;
        if (res[k].ErrorCode)
            continue;
        const char *msg = NULL;
        int16_t ec = 0;
        if (!cluster_ok) {
            ec = KP_ERR_CLUSTER_AUTHORIZATION_FAILED;
        } else if (name->len <= 0) {
            ec = KP_ERR_UNACCEPTABLE_CREDENTIAL;
            msg = "Username must not be empty";
        } else if (!scram_mech(b, mech)) {
            ec = KP_ERR_UNSUPPORTED_SASL_MECHANISM;
            msg = "Unknown SCRAM mechanism";
        } else if (!del && req->Upsertions.items[i - nd].Iterations < 4096) {
            ec = KP_ERR_UNACCEPTABLE_CREDENTIAL;
            msg = "Too few iterations";
        } else if (!del && req->Upsertions.items[i - nd].Iterations > 16384) {
            ec = KP_ERR_UNACCEPTABLE_CREDENTIAL;
            msg = "Too many iterations";
        } else {
            for (int32_t j = 0; j < i; j++) {
                const struct kp_str *n2 = j < nd ? &req->Deletions.items[j].Name
                                                 : &req->Upsertions.items[j - nd].Name;
                int8_t m2 = j < nd ? req->Deletions.items[j].Mechanism
                                   : req->Upsertions.items[j - nd].Mechanism;
                if (m2 == mech && str_eq(n2, name)) {
                    ec = KP_ERR_DUPLICATE_RESOURCE;
                    msg = "A user credential cannot be altered twice in the same request";
                }
            }
            int32_t it;
            if (!ec && del &&
                scram_mech(b, mech)->ops.credential_get(scram_mech(b, mech)->state, name->s, &it) != 0) {
                ec = KP_ERR_RESOURCE_NOT_FOUND;
                msg = "Attempt to delete a user credential that does not exist";
            }
        }
        res[k].ErrorCode = ec;
        if (msg)
            res[k].ErrorMessage = rq_str(rq, msg);
    }
    /* Then apply, per user without error. */
    for (int32_t i = 0; res && i < nd + nu; i++) {
        bool del = i < nd;
        const struct kp_str *name = del ? &req->Deletions.items[i].Name
                                        : &req->Upsertions.items[i - nd].Name;
        int32_t k;
        for (k = 0; !str_eq(&res[k].User, name); k++)
            ;
        if (res[k].ErrorCode)
            continue;
        if (del) {
            const struct module_sasl_mech *m = scram_mech(b, req->Deletions.items[i].Mechanism);
            m->ops.credential_delete(m->state, name->s);
            continue;
        }
        const struct kp_AlterUserScramCredentialsRequest_ScramCredentialUpsertion *u =
            &req->Upsertions.items[i - nd];
        const struct module_sasl_mech *m = scram_mech(b, u->Mechanism);
        char err[256] = "";
        int rc = m->ops.credential_upsert(m->state, name->s, u->Iterations, u->Salt.p,
                                          u->Salt.len > 0 ? (size_t)u->Salt.len : 0,
                                          u->SaltedPassword.p,
                                          u->SaltedPassword.len > 0 ? (size_t)u->SaltedPassword.len
                                                                    : 0,
                                          err, sizeof err);
        if (rc != 0) {
            res[k].ErrorCode = rc == SLUICE_ERR_INVALID ? KP_ERR_UNACCEPTABLE_CREDENTIAL
                                                        : KP_ERR_UNKNOWN_SERVER_ERROR;
            res[k].ErrorMessage = rq_str(rq, err);
        }
    }
    resp.Results.items = res;
    resp.Results.count = res ? nres : 0;
    rq_respond_after_meta_sync(rq, &resp);
}

struct desc_ud {
    struct request *rq;
    const struct kp_struct *rd, *cd;
    struct kp_DescribeUserScramCredentialsResponse *resp;
    int32_t cap;
    int8_t mech;
};

static struct kp_DescribeUserScramCredentialsResponse_DescribeUserScramCredentialsResult *
result_for(struct desc_ud *d, const char *user)
{
    for (int32_t i = 0; i < d->resp->Results.count; i++)
        if (strcmp(d->resp->Results.items[i].User.s, user) == 0)
            return &d->resp->Results.items[i];
    if (d->resp->Results.count == d->cap) {
        int32_t cap = d->cap ? d->cap * 2 : 16;
        void *n = rq_items(d->rq, d->rd, cap);
        if (!n)
            return NULL;
        if (d->cap)
            memcpy(n, d->resp->Results.items, (size_t)d->cap * d->rd->size);
        d->resp->Results.items = n;
        d->cap = cap;
    }
    struct kp_DescribeUserScramCredentialsResponse_DescribeUserScramCredentialsResult *r =
        &d->resp->Results.items[d->resp->Results.count++];
    r->User = rq_str(d->rq, user);
    r->ErrorMessage = (struct kp_str){ NULL, -1 };
    return r;
}

static void add_info(struct desc_ud *d,
                     struct kp_DescribeUserScramCredentialsResponse_DescribeUserScramCredentialsResult *r,
                     int8_t mech, int32_t iterations)
{
    struct kp_DescribeUserScramCredentialsResponse_CredentialInfo *n =
        rq_items(d->rq, d->cd, r->CredentialInfos.count + 1);
    if (!n)
        return;
    if (r->CredentialInfos.count)
        memcpy(n, r->CredentialInfos.items, (size_t)r->CredentialInfos.count * sizeof *n);
    n[r->CredentialInfos.count].Mechanism = mech;
    n[r->CredentialInfos.count].Iterations = iterations;
    r->CredentialInfos.items = n;
    r->CredentialInfos.count++;
}

static int list_cb(void *ud, const char *user, int32_t iterations)
{
    struct desc_ud *d = ud;
    struct kp_DescribeUserScramCredentialsResponse_DescribeUserScramCredentialsResult *r =
        result_for(d, user);
    if (r)
        add_info(d, r, d->mech, iterations);
    return 0;
}

void handle_describe_user_scram_credentials(struct broker *b, struct request *rq)
{
    const struct kp_DescribeUserScramCredentialsRequest *req = rq->body;
    const struct kp_message *rm = kp_response_message(KP_API_DESCRIBE_USER_SCRAM_CREDENTIALS);
    struct kp_DescribeUserScramCredentialsResponse resp;
    memset(&resp, 0, sizeof resp);
    kp_struct_defaults(rm->body, &resp);
    resp.ErrorMessage = (struct kp_str){ NULL, -1 };
    struct desc_ud d = { rq, kp_sub(rm->body, "Results"), NULL, &resp, 0, 0 };
    d.cd = kp_sub(d.rd, "CredentialInfos");
    if (!authz_cluster(rq, SLUICE_ACL_OP_DESCRIBE)) {
        resp.ErrorCode = KP_ERR_CLUSTER_AUTHORIZATION_FAILED;
        rq_respond(rq, &resp);
        return;
    }
    size_t nm;
    const struct module_sasl_mech *mechs = module_registry_sasl_mechs(b->modules, &nm);
    if (req->Users.count <= 0) {
        /* Null or empty: every user with a credential. */
        for (size_t i = 0; i < nm; i++) {
            if (!mechs[i].ops.scram_mechanism || !mechs[i].ops.credential_list)
                continue;
            d.mech = mechs[i].ops.scram_mechanism;
            mechs[i].ops.credential_list(mechs[i].state, list_cb, &d);
        }
        rq_respond(rq, &resp);
        return;
    }
    for (int32_t u = 0; u < req->Users.count; u++) {
        const struct kp_str *name = &req->Users.items[u].Name;
        const char *user = name->s ? name->s : "";
        bool dup = false;
        for (int32_t j = 0; j < u; j++)
            dup |= str_eq(&req->Users.items[j].Name, name);
        struct kp_DescribeUserScramCredentialsResponse_DescribeUserScramCredentialsResult *r =
            result_for(&d, user);
        if (!r)
            break;
        if (dup) {
            r->ErrorCode = KP_ERR_DUPLICATE_RESOURCE;
            r->ErrorMessage = rq_str(rq, "Cannot describe SCRAM credentials for the same user "
                                         "twice in a single request");
            r->CredentialInfos.count = 0;
            continue;
        }
        for (size_t i = 0; i < nm; i++) {
            int32_t it;
            if (mechs[i].ops.scram_mechanism && mechs[i].ops.credential_get &&
                mechs[i].ops.credential_get(mechs[i].state, user, &it) == 0)
                add_info(&d, r, mechs[i].ops.scram_mechanism, it);
        }
        if (r->CredentialInfos.count == 0) {
            r->ErrorCode = KP_ERR_RESOURCE_NOT_FOUND;
            r->ErrorMessage = rq_str(rq, "Attempt to describe a user credential that does not "
                                         "exist");
        }
    }
    rq_respond(rq, &resp);
}
