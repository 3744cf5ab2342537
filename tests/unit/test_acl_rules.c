/* Kafka's ACL model in authorizer_acl (modules/authorizer_acl/acl_rules.c):
 * literal, wildcard and prefixed patterns, principal/host wildcards, deny
 * wins, ALL and implied operations, allow.everyone.if.no.acl.found, filters
 * (ANY, MATCH, exact), validation and the record format. */
#include "acl_rules.h"
#include "tap.h"

#include <string.h>

#define T SLUICE_RES_TOPIC
#define G SLUICE_RES_GROUP
#define LIT SLUICE_PATTERN_LITERAL
#define PRE SLUICE_PATTERN_PREFIXED

static struct acl mk(int8_t rt, const char *name, int8_t pt, const char *p, const char *h,
                     int8_t op, int8_t perm)
{
    return (struct acl){ rt, pt, op, perm, (char *)name, (char *)p, (char *)h };
}

int main(void)
{
    struct acl acls[] = {
        mk(T, "orders", LIT, "User:alice", "*", SLUICE_ACL_OP_WRITE, SLUICE_PERM_ALLOW),
        mk(T, "logs-", PRE, "User:alice", "*", SLUICE_ACL_OP_READ, SLUICE_PERM_ALLOW),
        mk(T, "*", LIT, "User:bob", "*", SLUICE_ACL_OP_ALL, SLUICE_PERM_ALLOW),
        mk(T, "orders", LIT, "User:bob", "*", SLUICE_ACL_OP_WRITE, SLUICE_PERM_DENY),
        mk(T, "secret", LIT, "User:*", "10.0.0.1", SLUICE_ACL_OP_READ, SLUICE_PERM_DENY),
        mk(T, "cfg", LIT, "User:carol", "*", SLUICE_ACL_OP_ALTER_CONFIGS, SLUICE_PERM_ALLOW),
        mk(G, "g", LIT, "User:alice", "127.0.0.1", SLUICE_ACL_OP_READ, SLUICE_PERM_ALLOW),
    };
    size_t n = sizeof acls / sizeof *acls;
#define DECIDE(p, h, op, rt, name, every) acl_decide(acls, n, p, h, op, rt, name, every)
    ok(DECIDE("User:alice", "1.2.3.4", SLUICE_ACL_OP_WRITE, T, "orders", false), "literal allow");
    ok(!DECIDE("User:alice", "1.2.3.4", SLUICE_ACL_OP_READ, T, "orders", false),
       "WRITE does not grant READ");
    ok(DECIDE("User:alice", "1.2.3.4", SLUICE_ACL_OP_DESCRIBE, T, "orders", false),
       "WRITE implies DESCRIBE");
    ok(DECIDE("User:alice", "1.2.3.4", SLUICE_ACL_OP_READ, T, "logs-app", false),
       "prefixed pattern covers logs-app");
    ok(!DECIDE("User:alice", "1.2.3.4", SLUICE_ACL_OP_READ, T, "log", false),
       "prefix longer than the name does not match");
    ok(DECIDE("User:bob", "h", SLUICE_ACL_OP_READ, T, "anything", false), "wildcard '*' with ALL");
    ok(!DECIDE("User:bob", "h", SLUICE_ACL_OP_WRITE, T, "orders", false), "DENY beats ALLOW ALL");
    ok(DECIDE("User:bob", "h", SLUICE_ACL_OP_READ, T, "orders", false),
       "the DENY is for WRITE only");
    ok(!DECIDE("User:bob", "10.0.0.1", SLUICE_ACL_OP_READ, T, "secret", false),
       "User:* DENY from one host applies to bob there");
    ok(DECIDE("User:bob", "10.0.0.2", SLUICE_ACL_OP_READ, T, "secret", false),
       "... but not from another host");
    ok(DECIDE("User:carol", "h", SLUICE_ACL_OP_DESCRIBE_CONFIGS, T, "cfg", false),
       "ALTER_CONFIGS implies DESCRIBE_CONFIGS");
    ok(!DECIDE("User:carol", "h", SLUICE_ACL_OP_DESCRIBE, T, "cfg", false),
       "ALTER_CONFIGS does not imply DESCRIBE");
    ok(DECIDE("User:alice", "127.0.0.1", SLUICE_ACL_OP_READ, G, "g", false), "group ACL by host");
    ok(!DECIDE("User:alice", "127.0.0.2", SLUICE_ACL_OP_READ, G, "g", false),
       "group ACL from another host denied");
    ok(!DECIDE("User:alice", "h", SLUICE_ACL_OP_READ, G, "other", false), "no ACL: denied");
    ok(DECIDE("User:alice", "h", SLUICE_ACL_OP_READ, G, "other", true),
       "no ACL on the resource + allow.everyone.if.no.acl.found: allowed");
    ok(!DECIDE("User:carol", "h", SLUICE_ACL_OP_WRITE, T, "orders", true),
       "allow.everyone does not apply when the resource has ACLs");

    /* authorizeByResourceType (KIP-679): WRITE on any topic, existing
     * or not.  Each case is its own ACL set. */
#define W SLUICE_ACL_OP_WRITE
#define ALLOW SLUICE_PERM_ALLOW
#define DENY SLUICE_PERM_DENY
#define BYTYPE(set, p, h, every)                                                                   \
    acl_decide_by_type(set, sizeof set / sizeof *set, supers, 1, p, h, W, T, every)
    char *supers[] = { "User:admin" };
    struct acl none[] = { mk(G, "g", LIT, "User:alice", "*", SLUICE_ACL_OP_READ, ALLOW) };
    struct acl lit[] = { mk(T, "not-created-yet", LIT, "User:alice", "*", W, ALLOW) };
    ok(BYTYPE(lit, "User:alice", "h", false), "by type: literal allow on a topic not created");
    ok(!BYTYPE(lit, "User:bob", "h", false), "by type: another principal's ACL does not count");
    struct acl lit_read[] = { mk(T, "t", LIT, "User:alice", "*", SLUICE_ACL_OP_READ, ALLOW) };
    ok(!BYTYPE(lit_read, "User:alice", "h", false), "by type: READ is not WRITE");
    struct acl grp[] = { mk(G, "g", LIT, "User:alice", "*", W, ALLOW) };
    ok(!BYTYPE(grp, "User:alice", "h", false), "by type: a group ACL is not a topic ACL");
    struct acl pre[] = { mk(T, "app-", PRE, "User:alice", "*", W, ALLOW) };
    ok(BYTYPE(pre, "User:alice", "h", false), "by type: prefixed allow");
    struct acl all[] = { mk(T, "x", LIT, "User:alice", "*", SLUICE_ACL_OP_ALL, ALLOW) };
    ok(BYTYPE(all, "User:alice", "h", false), "by type: ALL grants WRITE");
    struct acl anyone[] = { mk(T, "x", LIT, "User:*", "*", W, ALLOW) };
    ok(BYTYPE(anyone, "User:alice", "h", false), "by type: User:* allow applies to alice");
    struct acl deny_wild[] = { mk(T, "app-", PRE, "User:alice", "*", W, ALLOW),
                               mk(T, "*", LIT, "User:alice", "*", W, ALLOW),
                               mk(T, "*", LIT, "User:alice", "*", W, DENY) };
    ok(!BYTYPE(deny_wild, "User:alice", "h", false), "by type: DENY on '*' wins over any allow");
    struct acl deny_wild_all[] = { mk(T, "x", LIT, "User:alice", "*", W, ALLOW),
                                   mk(T, "*", LIT, "User:*", "*", SLUICE_ACL_OP_ALL, DENY) };
    ok(!BYTYPE(deny_wild_all, "User:alice", "h", false), "by type: DENY ALL on '*' by User:*");
    struct acl deny_wild_pre[] = { mk(T, "x", LIT, "User:alice", "*", W, ALLOW),
                                   mk(T, "*", PRE, "User:alice", "*", W, DENY) };
    ok(BYTYPE(deny_wild_pre, "User:alice", "h", false),
       "by type: a PREFIXED '*' deny is not the wildcard");
    struct acl deny_pre[] = { mk(T, "app-x", LIT, "User:alice", "*", W, ALLOW),
                              mk(T, "app-1", PRE, "User:alice", "*", W, ALLOW),
                              mk(T, "app", PRE, "User:alice", "*", W, DENY) };
    ok(!BYTYPE(deny_pre, "User:alice", "h", false),
       "by type: DENY prefix covering every allowed literal and prefix");
    struct acl deny_longer[] = { mk(T, "app", PRE, "User:alice", "*", W, ALLOW),
                                 mk(T, "app-", PRE, "User:alice", "*", W, DENY) };
    ok(BYTYPE(deny_longer, "User:alice", "h", false),
       "by type: a longer DENY prefix leaves part of the allowed prefix");
    ok(BYTYPE(deny_wild, "User:admin", "h", false), "by type: a super user despite DENY on '*'");
    ok(BYTYPE(none, "User:admin", "h", false), "by type: a super user without any topic ACL");
    ok(!acl_is_super(supers, 1, "User:Admin") && !acl_is_super(supers, 1, "User:*"),
       "super.users match exactly");
    struct acl deny_lit[] = { mk(T, "t", LIT, "User:alice", "*", W, ALLOW),
                              mk(T, "t", LIT, "User:alice", "*", W, DENY) };
    ok(!BYTYPE(deny_lit, "User:alice", "h", false), "by type: DENY literal of the same name");
    struct acl deny_lit_pre[] = { mk(T, "t", PRE, "User:alice", "*", W, ALLOW),
                                  mk(T, "t", LIT, "User:alice", "*", W, DENY) };
    ok(BYTYPE(deny_lit_pre, "User:alice", "h", false),
       "by type: a DENY literal does not cover an allowed prefix");
    struct acl deny_other[] = { mk(T, "t", LIT, "User:alice", "*", W, ALLOW),
                                mk(T, "*", LIT, "User:bob", "*", W, DENY),
                                mk(T, "*", LIT, "User:alice", "*", SLUICE_ACL_OP_READ, DENY) };
    ok(BYTYPE(deny_other, "User:alice", "h", false),
       "by type: DENY of another principal or operation does not count");
    struct acl hosts[] = { mk(T, "t", LIT, "User:alice", "10.0.0.1", W, ALLOW),
                           mk(T, "*", LIT, "User:alice", "10.0.0.2", W, DENY) };
    ok(BYTYPE(hosts, "User:alice", "10.0.0.1", false), "by type: allow from the ACL's host");
    ok(!BYTYPE(hosts, "User:alice", "10.0.0.3", false), "by type: not from another host");
    struct acl hosts2[] = { mk(T, "t", LIT, "User:alice", "*", W, ALLOW),
                            mk(T, "*", LIT, "User:alice", "10.0.0.2", W, DENY) };
    ok(!BYTYPE(hosts2, "User:alice", "10.0.0.2", false), "by type: wildcard DENY from its host");
    ok(BYTYPE(hosts2, "User:alice", "10.0.0.1", false), "by type: ... not from another host");
    ok(!BYTYPE(none, "User:alice", "h", false), "by type: no topic ACL: denied");
    ok(BYTYPE(none, "User:alice", "h", true),
       "by type: no topic ACL + allow.everyone.if.no.acl.found: allowed");
    struct acl deny_everyone[] = { mk(T, "*", LIT, "User:bob", "*", W, DENY) };
    ok(!BYTYPE(deny_everyone, "User:alice", "h", true),
       "by type: allow.everyone does not apply when '*' has ACLs (of anyone)");
    struct acl deny_t[] = { mk(T, "t", LIT, "User:alice", "*", W, DENY) };
    ok(BYTYPE(deny_t, "User:alice", "h", true),
       "by type: allow.everyone applies as authorize() does for an unnamed topic");

    /* Filters. */
    struct sluice_acl_binding f = { sizeof f, SLUICE_RES_ANY, NULL, SLUICE_PATTERN_ANY, NULL, NULL,
                                    SLUICE_ACL_OP_ANY, SLUICE_PERM_ANY };
    int cnt = 0;
    for (size_t i = 0; i < n; i++)
        cnt += acl_filter_matches(&f, &acls[i]);
    is_int(cnt, (int)n, "ANY filter matches everything");
    f.resource_type = T;
    f.pattern_type = SLUICE_PATTERN_MATCH;
    f.resource_name = "logs-app";
    cnt = 0;
    for (size_t i = 0; i < n; i++)
        cnt += acl_filter_matches(&f, &acls[i]);
    is_int(cnt, 2, "MATCH logs-app: the prefixed and the wildcard ACL");
    f.pattern_type = LIT;
    f.resource_name = "logs-";
    cnt = 0;
    for (size_t i = 0; i < n; i++)
        cnt += acl_filter_matches(&f, &acls[i]);
    is_int(cnt, 0, "LITERAL filter does not match a PREFIXED ACL of the same name");
    f.pattern_type = PRE;
    ok(acl_filter_matches(&f, &acls[1]), "PREFIXED filter matches it");
    f.pattern_type = SLUICE_PATTERN_ANY;
    f.resource_name = NULL;
    f.principal = "User:bob";
    f.permission = SLUICE_PERM_DENY;
    ok(acl_filter_matches(&f, &acls[3]) && !acl_filter_matches(&f, &acls[2]),
       "principal + permission filter");
    char msg[200];
    f.pattern_type = SLUICE_PATTERN_UNKNOWN;
    is_int(acl_validate_filter(&f, msg, sizeof msg), 42, "UNKNOWN pattern filter: INVALID_REQUEST");

    /* Validation of new ACLs. */
    struct sluice_acl_binding b = { sizeof b, T, "t", LIT, "User:x", "*", SLUICE_ACL_OP_READ,
                                    SLUICE_PERM_ALLOW };
    is_int(acl_validate_new(&b, msg, sizeof msg), 0, "a valid ACL");
    b.pattern_type = SLUICE_PATTERN_MATCH;
    is_int(acl_validate_new(&b, msg, sizeof msg), 42, "MATCH is not a pattern of an ACL");
    b.pattern_type = LIT;
    b.principal = "alice";
    is_int(acl_validate_new(&b, msg, sizeof msg), 42, "principal without a type refused");
    b.principal = "User:x";
    b.operation = SLUICE_ACL_OP_ANY;
    is_int(acl_validate_new(&b, msg, sizeof msg), 42, "operation ANY refused");
    b.operation = SLUICE_ACL_OP_READ;
    b.resource_type = SLUICE_RES_CLUSTER;
    b.resource_name = "c";
    is_int(acl_validate_new(&b, msg, sizeof msg), 42, "cluster must be named kafka-cluster");
    b.resource_name = "";
    b.resource_type = T;
    is_int(acl_validate_new(&b, msg, sizeof msg), 42, "empty resource name refused");

    /* Record format. */
    char buf[4096];
    size_t len = acl_encode(&acls[4], buf, sizeof buf);
    is_str(buf, "1 2 3 3 2 6:User:*8:10.0.0.16:secret", "encoded record");
    struct acl back;
    is_int(acl_decode(buf, len, &back), 0, "record decodes");
    ok(acl_equal(&back, &acls[4]), "decoded ACL equals the original");
    ok(acl_hash(&back) == acl_hash(&acls[4]), "same hash");
    acl_free(&back);
    const char *bad[] = { "", "1", "2 2 3 3 2 1:a1:b1:c", "1 2 3 3 2 6:User:*8:10.0.0.16:secre",
                          "1 2 3 3 2 6:User:*8:10.0.0.16:secretX", "1 2 1 3 2 6:User:*1:*1:x",
                          "1 2 3 3 2 99999:x", "1 2 3 3 2 4:User1:*1:x" };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        is_int(acl_decode(bad[i], strlen(bad[i]), &back), -1, "bad record '%s' refused", bad[i]);
    return done_testing();
}
