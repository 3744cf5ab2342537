/* ABI 1.2 SASL mechanism and authorizer registration through the real
 * loader: lookups, every refusal with its message, unload, and the
 * in-tree modules' registrations (sasl_scram's two mechanisms with their
 * Kafka ids, authorizer_acl). */
#include "plugin/module_loader.h"
#include "tap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *top;
static const char *mode = "ok";

static const char *cfg_lookup(void *ud, const char *key)
{
    (void)ud;
    return strcmp(key, "module.mod_security_test.mode") == 0 ? mode : NULL;
}

static void quiet_log(void *ud, int level, const char *msg)
{
    (void)ud, (void)level, (void)msg;
}

static int load(struct module_registry *reg, const char *name, const char *dir, char *err,
                size_t errlen)
{
    char path[700];
    snprintf(path, sizeof path, "%s/%s/.libs", top, dir);
    return module_load(reg, name, path, err, errlen);
}

static void refused(const char *m, const char *want)
{
    struct module_registry reg;
    char err[1024];
    module_registry_init(&reg);
    module_registry_set_config(&reg, cfg_lookup, NULL);
    module_registry_set_log(&reg, quiet_log, NULL);
    mode = m;
    is_int(load(&reg, "mod_security_test", "tests/modules/security", err, sizeof err), -1,
           "mode %s refused", m);
    ok(strstr(err, want) != NULL, "mode %s: '%s' in '%s'", m, want, err);
    ok(!module_registry_sasl_mech(&reg, "TEST-MECH") && !module_registry_authorizer(&reg),
       "mode %s: a refused module leaves nothing registered", m);
    module_registry_free(&reg);
}

int main(void)
{
    top = getenv("SLUICE_TOP_BUILDDIR");
    if (!top)
        skip_all("SLUICE_TOP_BUILDDIR not set (run via make check)");
    struct module_registry reg;
    char err[1024];
    module_registry_init(&reg);
    module_registry_set_config(&reg, cfg_lookup, NULL);
    module_registry_set_log(&reg, quiet_log, NULL);
    is_int(load(&reg, "mod_security_test", "tests/modules/security", err, sizeof err), 0,
           "mechanism and authorizer register %s", err);
    const struct module_sasl_mech *m = module_registry_sasl_mech(&reg, "TEST-MECH");
    ok(m && m->ops.step && m->ops.struct_size == sizeof(struct sluice_sasl_mech_ops),
       "TEST-MECH found, ops copied at the host's size");
    ok(!module_registry_sasl_mech(&reg, "test-mech"), "mechanism names are case-sensitive");
    ok(module_registry_authorizer(&reg) != NULL, "the authorizer is registered");
    ok(module_registry_authorizer(&reg)->ops.authorize_by_resource_type != NULL,
       "its optional authorize_by_resource_type is copied");
    is_int(load(&reg, "sasl_scram", "modules/sasl_scram", err, sizeof err), 0, "sasl_scram loads %s",
           err);
    const struct module_sasl_mech *s256 = module_registry_sasl_mech(&reg, "SCRAM-SHA-256");
    const struct module_sasl_mech *s512 = module_registry_sasl_mech(&reg, "SCRAM-SHA-512");
    ok(s256 && s512 && s256->ops.scram_mechanism == SLUICE_SCRAM_SHA_256 &&
           s512->ops.scram_mechanism == SLUICE_SCRAM_SHA_512 && s256->ops.credential_upsert,
       "sasl_scram registers SCRAM-SHA-256 (id 1) and SCRAM-SHA-512 (id 2) with credentials");
    size_t n;
    module_registry_sasl_mechs(&reg, &n);
    is_int((int)n, 3, "three mechanisms in registration order");
    /* authorizer_acl reads its ACLs from the metadata log in init: without
     * one (this registry has none) it refuses to load rather than run
     * with no ACLs. */
    is_int(load(&reg, "authorizer_acl", "modules/authorizer_acl", err, sizeof err), -1,
           "authorizer_acl without a metadata log refuses to load");
    ok(strstr(err, "cannot load the ACLs") != NULL, "%s", err);
    module_registry_free(&reg);
    ok(!module_registry_sasl_mech(&reg, "TEST-MECH") && !module_registry_authorizer(&reg),
       "unloading drops the registrations");

    refused("badname", "SASL mechanism name 'bad mech' is not [A-Z0-9_-]{1,20}");
    refused("nostep", "SASL mechanism TEST-MECH: session_new, step and principal are required");
    refused("small", "sasl_mechanism ops struct_size 8 is smaller than the ABI 1.2 minimum");
    refused("twice", "SASL mechanism TEST-MECH is already provided by module 'mod_security_test'");
    refused("twoauth", "an authorizer is already provided by module 'mod_security_test'");
    refused("noacl", "authorizer: authorize, create_acls, describe_acls and delete_acls are required");

    /* An authorizer whose struct_size stops at delete_acls (built before
     * the optional member was appended) loads, and the host reads the
     * member beyond its size as NULL, so the broker falls back. */
    module_registry_init(&reg);
    module_registry_set_config(&reg, cfg_lookup, NULL);
    module_registry_set_log(&reg, quiet_log, NULL);
    mode = "minsize";
    is_int(load(&reg, "mod_security_test", "tests/modules/security", err, sizeof err), 0,
           "authorizer at the 1.2 minimum size loads %s", err);
    ok(module_registry_authorizer(&reg) &&
           !module_registry_authorizer(&reg)->ops.authorize_by_resource_type,
       "authorize_by_resource_type beyond its struct_size reads as NULL");
    module_registry_free(&reg);

    module_registry_init(&reg);
    module_registry_set_log(&reg, quiet_log, NULL);
    is_int(load(&reg, "mod_security_nokind", "tests/modules/security", err, sizeof err), -1,
           "a mechanism without the SASL kind bit is refused");
    ok(strstr(err, "register_sasl_mechanism called but the module does not declare SLUICE_KIND_SASL") !=
           NULL,
       "%s", err);
    module_registry_free(&reg);
    return done_testing();
}
