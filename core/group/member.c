#include "group/member.h"

#include <stdlib.h>
#include <string.h>

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

struct cg_member *member_new(const char *member_id, const char *group_instance_id,
                             const char *client_id, const char *client_host,
                             const char *protocol_type, int32_t rebalance_timeout_ms,
                             int32_t session_timeout_ms)
{
    struct cg_member *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->member_id = strdup(member_id);
    m->group_instance_id = dup_or_null(group_instance_id);
    m->client_id = strdup(client_id ? client_id : "");
    m->client_host = strdup(client_host ? client_host : "");
    m->protocol_type = strdup(protocol_type ? protocol_type : "");
    m->rebalance_timeout_ms = rebalance_timeout_ms;
    m->session_timeout_ms = session_timeout_ms;
    if (!m->member_id || (group_instance_id && !m->group_instance_id) || !m->client_id ||
        !m->client_host || !m->protocol_type) {
        member_free(m);
        return NULL;
    }
    return m;
}

static void free_protocols(struct cg_protocol *p, int n)
{
    for (int i = 0; i < n; i++) {
        free(p[i].name);
        free(p[i].metadata);
    }
    free(p);
}

void member_free(struct cg_member *m)
{
    if (!m)
        return;
    free(m->member_id);
    free(m->group_instance_id);
    free(m->client_id);
    free(m->client_host);
    free(m->protocol_type);
    free_protocols(m->protocols, m->nprotocols);
    free(m->assignment);
    free(m);
}

static uint8_t *dup_bytes(const uint8_t *p, int32_t len)
{
    uint8_t *d = malloc(len > 0 ? (size_t)len : 1);
    if (d && len > 0)
        memcpy(d, p, (size_t)len);
    return d;
}

int member_set_protocols(struct cg_member *m, const struct gc_protocol *p, int n)
{
    struct cg_protocol *np = calloc(n > 0 ? (size_t)n : 1, sizeof *np);
    if (!np)
        return -1;
    for (int i = 0; i < n; i++) {
        np[i].name = strdup(p[i].name ? p[i].name : "");
        np[i].len = p[i].len > 0 ? p[i].len : 0;
        np[i].metadata = dup_bytes(p[i].metadata, np[i].len);
        if (!np[i].name || !np[i].metadata) {
            free_protocols(np, i + 1);
            return -1;
        }
    }
    free_protocols(m->protocols, m->nprotocols);
    m->protocols = np;
    m->nprotocols = n;
    return 0;
}

int member_set_assignment(struct cg_member *m, const uint8_t *data, int32_t len)
{
    uint8_t *a = dup_bytes(data, len > 0 ? len : 0);
    if (!a)
        return -1;
    free(m->assignment);
    m->assignment = a;
    m->assignment_len = len > 0 ? len : 0;
    return 0;
}

int member_set_id(struct cg_member *m, const char *member_id)
{
    char *id = strdup(member_id);
    if (!id)
        return -1;
    free(m->member_id);
    m->member_id = id;
    return 0;
}

bool member_matches(const struct cg_member *m, const struct gc_protocol *p, int n)
{
    if (n != m->nprotocols)
        return false;
    for (int i = 0; i < n; i++) {
        int32_t len = p[i].len > 0 ? p[i].len : 0;
        if (strcmp(m->protocols[i].name, p[i].name ? p[i].name : "") != 0 ||
            m->protocols[i].len != len ||
            (len && memcmp(m->protocols[i].metadata, p[i].metadata, (size_t)len) != 0))
            return false;
    }
    return true;
}

const struct cg_protocol *member_protocol(const struct cg_member *m, const char *protocol)
{
    for (int i = 0; protocol && i < m->nprotocols; i++)
        if (strcmp(m->protocols[i].name, protocol) == 0)
            return &m->protocols[i];
    return NULL;
}

bool member_supports(const struct cg_member *m, const char *protocol)
{
    return member_protocol(m, protocol) != NULL;
}
