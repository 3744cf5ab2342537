/* ssl.principal.mapping.rules (modules/transport_tls/principal_mapper.c)
 * against the cases of Kafka's SslPrincipalMapperTest, plus tricky
 * inputs for the parser. */
#include <stdlib.h>
#include <string.h>

#include "../lib/tap.h"
#include "../../modules/transport_tls/principal_mapper.h"

static void splitting(const char *want, const char *rules)
{
    struct principal_mapper *m;
    char err[256] = "", buf[512];
    if (principal_mapper_new(rules, &m, err, sizeof err) != 0) {
        ok(0, "rules '%s' parse (%s)", rules, err);
        return;
    }
    is_str(principal_mapper_describe(m, buf, sizeof buf), want, "split '%s'", rules);
    principal_mapper_free(m);
}

static void invalid(const char *rules, const char *why_part)
{
    struct principal_mapper *m = NULL;
    char err[256] = "";
    int rc = principal_mapper_new(rules, &m, err, sizeof err);
    ok(rc == -1 && m == NULL && strstr(err, why_part), "'%s' refused: %s", rules, err);
    principal_mapper_free(m);
}

static void maps(const struct principal_mapper *m, const char *dn, const char *want)
{
    char *out = NULL, err[256] = "";
    int rc = principal_mapper_map(m, dn, &out, err, sizeof err);
    if (want)
        ok(rc == 1 && out && strcmp(out, want) == 0, "'%s' -> '%s' (got rc %d '%s' %s)", dn, want,
           rc, out ? out : "(null)", err);
    else
        ok(rc == 0 && !out, "'%s' matches no rule (rc %d)", dn, rc);
    free(out);
}

static struct principal_mapper *mk(const char *rules)
{
    struct principal_mapper *m = NULL;
    char err[256] = "";
    if (principal_mapper_new(rules, &m, err, sizeof err) != 0)
        diag("cannot parse %s: %s", rules, err);
    return m;
}

int main(void)
{
    plan(47);

    /* Kafka's testRulesSplitting. */
    splitting("[]", "");
    splitting("[DEFAULT]", "DEFAULT");
    splitting("[DEFAULT]", NULL);
    splitting("[RULE:/]", "RULE://");
    splitting("[RULE:/.*]", "RULE:/.*/");
    splitting("[RULE:/.*/L]", "RULE:/.*/L");
    splitting("[RULE:/, DEFAULT]", "RULE://,DEFAULT");
    splitting("[RULE:/, DEFAULT]", "  RULE:// ,  DEFAULT  ");
    splitting("[RULE:   /     , DEFAULT]", "  RULE:   /     / ,  DEFAULT  ");
    splitting("[RULE:  /     /U, DEFAULT]", "  RULE:  /     /U   ,DEFAULT  ");
    splitting("[RULE:([A-Z]*)/$1/U, RULE:([a-z]+)/$1, DEFAULT]",
              "  RULE:([A-Z]*)/$1/U   ,RULE:([a-z]+)/$1/,   DEFAULT  ");
    /* Empty rules are ignored. */
    splitting("[]", ",   , , ,      , , ,   ");
    splitting("[RULE:/, DEFAULT]", ",,RULE://,,,DEFAULT,,");
    splitting("[RULE: /   , DEFAULT]", ",  , RULE: /   /    ,,,   DEFAULT, ,   ");
    splitting("[RULE:   /  , DEFAULT]", "     ,  , RULE:   /  /    ,,,   DEFAULT, ,   ");
    /* Escaped delimiters stay in the pattern. */
    splitting("[RULE:\\/\\\\\\/\\/\\/\\\\/\\/\\/, DEFAULT]", "RULE:\\/\\\\\\/\\/\\/\\\\/\\/\\//,DEFAULT");
    splitting("[RULE:\\/\\\\\\/\\/\\/\\\\/\\/\\//L, DEFAULT]",
              "RULE:\\/\\\\\\/\\/\\/\\\\/\\/\\//L,DEFAULT");
    /* A comma inside a rule's pattern does not split it. */
    splitting("[RULE:^CN=([^,]+),.*$/$1, DEFAULT]", "RULE:^CN=([^,]+),.*$/$1/,DEFAULT");

    /* Kafka's testInvalidRules. */
    invalid("default", "invalid rule");
    invalid("DEFAUL", "invalid rule");
    invalid("DEFAULT/L", "unmatched substring: `/L`");
    invalid("DEFAULT/U", "unmatched substring");
    invalid("RULE:CN=(.*?),OU=ServiceUsers.*/$1", "invalid rule");
    invalid("rule:^CN=(.*?),OU=ServiceUsers.*$/$1/", "invalid rule");
    invalid("RULE:^CN=(.*?),OU=ServiceUsers.*$/$1/L/U", "unmatched substring: `/U`");
    invalid("RULE:^CN=(.*?),OU=ServiceUsers.*$/L", "invalid rule");
    invalid("RULE:^CN=(.*?),OU=ServiceUsers.*$/U", "invalid rule");
    invalid("RULE:^CN=(.*?),OU=ServiceUsers.*$/LU", "invalid rule");
    /* Our own: a pattern PCRE2 cannot compile is refused at parse time. */
    invalid("RULE:^CN=(.*/$1/", "invalid pattern");

    /* Kafka's testSslPrincipalMapper. */
    struct principal_mapper *m = mk("RULE:^CN=(.*?),OU=ServiceUsers.*$/$1/L, "
                                    "RULE:^CN=(.*?),OU=(.*?),O=(.*?),L=(.*?),ST=(.*?),C=(.*?)$/$1@$2/L, "
                                    "RULE:^cn=(.*?),ou=(.*?),dc=(.*?),dc=(.*?)$/$1@$2/U, "
                                    "RULE:^.*[Cc][Nn]=([a-zA-Z0-9.]*).*$/$1/U, DEFAULT");
    ok(m != NULL, "Kafka's test rules parse");
    if (m) {
        is_int((int)principal_mapper_count(m), 5, "five rules");
        maps(m, "CN=Duke,OU=ServiceUsers,O=Org,C=US", "duke");
        maps(m, "CN=Duke,OU=SME,O=mycp,L=Fulton,ST=MD,C=US", "duke@sme");
        maps(m, "cn=duke,ou=sme,dc=mycp,dc=com", "DUKE@SME");
        maps(m, "cN=duke,OU=JavaSoft,O=Sun Microsystems", "DUKE");
        maps(m, "OU=JavaSoft,O=Sun Microsystems,C=US", "OU=JavaSoft,O=Sun Microsystems,C=US");
    }
    principal_mapper_free(m);

    /* Kafka's testCommaWithWhitespace: an escaped comma inside the CN. */
    m = mk("RULE:^CN=((\\\\, *|\\w)+)(,.*|$)/$1/,DEFAULT");
    if (m)
        maps(m, "CN=Tkac\\, Adam,OU=ITZ,DC=geodis,DC=cz", "Tkac\\, Adam");
    else
        ok(0, "comma rule parses");
    principal_mapper_free(m);

    /* No DEFAULT: a DN no rule matches is refused (Kafka fails the
     * authentication with NoMatchingRule). */
    m = mk("RULE:^CN=([a-z]+),O=Acme$/$1/");
    maps(m, "CN=alice,O=Acme", "alice");
    maps(m, "CN=alice,O=Other", NULL);
    maps(m, "CN=Alice,O=Acme", NULL); /* the whole DN must match */
    principal_mapper_free(m);

    /* Back references past the group count are literal (Kafka's
     * escapeLiteralBackReferences); $12 with one group is $1 then "2". */
    m = mk("RULE:^CN=(\\w+),.*$/$1@$4/,RULE:^X=(\\w+)$/$12/");
    maps(m, "CN=bob,O=Acme", "bob@$4");
    maps(m, "X=ab", "ab2");
    principal_mapper_free(m);

    /* replaceAll is global: a pattern that also matches the empty string
     * at the end adds a second replacement, as in Java. */
    m = mk("RULE:(.*)/[$1]/");
    maps(m, "CN=a", "[CN=a][]");
    principal_mapper_free(m);

    /* A group reference with no groups at all is an error, not a crash. */
    m = mk("RULE:^CN=.*$/$1/");
    {
        char *out = NULL, err[128] = "";
        int rc = principal_mapper_map(m, "CN=x", &out, err, sizeof err);
        ok(rc == -1 && !out && strstr(err, "group"), "$1 without groups fails: %s", err);
        free(out);
    }
    principal_mapper_free(m);

    /* Escapes in the replacement, and a trailing lone backslash. */
    m = mk("RULE:^CN=(\\w+)$/\\$$1\\\\/");
    maps(m, "CN=z", "$z\\");
    principal_mapper_free(m);
    m = mk("RULE:^CN=(\\w+)$/$1\\/");
    ok(m == NULL, "a replacement ending in an escaped delimiter leaves the rule unterminated");
    principal_mapper_free(m);

    /* UTF-8 names pass through; U upper-cases ASCII only. */
    m = mk("RULE:^CN=(.*),O=.*$/$1/U");
    maps(m, "CN=j\xc3\xb6rg,O=Acme", "J\xc3\xb6RG");
    principal_mapper_free(m);

    return done_testing();
}
