/* SASL PLAIN (RFC 4616) with users from a file, in the form of Kafka's JAAS
 * configuration for PlainLoginModule: every user_<name>="<password>" entry
 * is a user, e.g.
 *
 *     KafkaServer {
 *         org.apache.kafka.common.security.plain.PlainLoginModule required
 *         user_admin="admin-secret"
 *         user_alice="alice-secret";
 *     };
 *
 * Options (module.sasl_plain.*): users.file (the file above), or
 * sasl.jaas.config (the same entries inline).  As in Kafka, a listener may
 * have its own users in listener.name.<listener>.plain.sasl.jaas.config:
 * on that listener only they authenticate.  Everything is read once at
 * start-up.  Passwords are compared in constant time and never logged.
 * PLAIN sends passwords in clear: use it over TLS (SASL_SSL). */
#include <sluice/plugin.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <strings.h>

#define PLAIN_MAX_USERS 4096
#define PLAIN_MAX_FIELD 256
#define PLAIN_MAX_LISTENERS 16
#define PLAIN_ANY_LISTENER (-1)

struct user {
    char name[PLAIN_MAX_FIELD];
    char password[PLAIN_MAX_FIELD];
    int listener; /* index into plain_state.listeners, or PLAIN_ANY_LISTENER */
};

struct plain_state {
    const struct sluice_host_api *host;
    struct sluice_module_ctx *ctx;
    struct user *users;
    size_t n;
    /* Listeners with their own listener.name.<l>.plain.sasl.jaas.config. */
    char listeners[PLAIN_MAX_LISTENERS][64];
    int nlisteners;
    int parsing; /* the listener tag parse_jaas gives new users */
};

struct session {
    char user[PLAIN_MAX_FIELD];
    int listener; /* whose users apply: an own-config listener, or any */
    int done;
};

/* Constant time in the length of the stored password; a length mismatch
 * still walks it. */
static int secret_equal(const char *stored, const uint8_t *given, size_t glen)
{
    size_t sl = strlen(stored);
    unsigned diff = (unsigned)(sl ^ glen);
    for (size_t i = 0; i < sl; i++)
        diff |= (unsigned)(uint8_t)stored[i] ^ (i < glen ? given[i] : 0u);
    return diff == 0;
}

/* Adds every user_<name>="<password>" of text (backslash escapes in the
 * quoted value as in JAAS). */
static int parse_jaas(struct plain_state *st, const char *text, char *err, size_t errlen)
{
    const char *p = text;
    while ((p = strstr(p, "user_")) != NULL) {
        if (p != text && !(p[-1] == ' ' || p[-1] == '\t' || p[-1] == '\n' || p[-1] == '\r')) {
            p += 5;
            continue;
        }
        const char *name = p + 5, *eq = name;
        while (*eq && *eq != '=' && *eq != ' ' && *eq != '\n')
            eq++;
        if (*eq != '=' || eq == name || eq[1] != '"' || (size_t)(eq - name) >= PLAIN_MAX_FIELD) {
            snprintf(err, errlen, "bad user entry '%.*s': expected user_<name>=\"<password>\"",
                     (int)(eq - p), p);
            return SLUICE_ERR_INVALID;
        }
        if (st->n == PLAIN_MAX_USERS) {
            snprintf(err, errlen, "more than %d users", PLAIN_MAX_USERS);
            return SLUICE_ERR_INVALID;
        }
        struct user *u = &st->users[st->n];
        memset(u, 0, sizeof *u);
        memcpy(u->name, name, (size_t)(eq - name));
        u->listener = st->parsing;
        const char *v = eq + 2;
        size_t o = 0;
        while (*v && *v != '"') {
            if (*v == '\\' && v[1])
                v++;
            if (o + 1 >= PLAIN_MAX_FIELD) {
                snprintf(err, errlen, "password of user '%s' is too long", u->name);
                return SLUICE_ERR_INVALID;
            }
            u->password[o++] = *v++;
        }
        if (*v != '"') {
            snprintf(err, errlen, "unterminated password of user '%s'", u->name);
            return SLUICE_ERR_INVALID;
        }
        /* A later entry for the same name replaces the earlier one. */
        size_t i;
        for (i = 0; i < st->n && (strcmp(st->users[i].name, u->name) != 0 ||
                                  st->users[i].listener != u->listener);
             i++)
            ;
        if (i < st->n) {
            st->users[i] = *u;
            memset(u, 0, sizeof *u);
        } else {
            st->n++;
        }
        p = v + 1;
    }
    return 0;
}

static int read_file(struct plain_state *st, const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "users.file %s: cannot open", path);
        return SLUICE_ERR_INVALID;
    }
    char *buf = st->host->alloc(st->ctx, 1 << 20);
    if (!buf) {
        fclose(f);
        return SLUICE_ERR_NOMEM;
    }
    size_t n = fread(buf, 1, (1 << 20) - 1, f);
    int big = !feof(f);
    fclose(f);
    buf[n] = '\0';
    int rc = big ? SLUICE_ERR_TOO_LARGE : parse_jaas(st, buf, err, errlen);
    if (big)
        snprintf(err, errlen, "users.file %s: larger than 1 MiB", path);
    memset(buf, 0, n);
    st->host->free(st->ctx, buf);
    return rc;
}

/* listener.name.<l>.plain.sasl.jaas.config for every listener of the
 * `listeners` list (names before "://"; Kafka's prefix is lower case). */
static int read_listener_configs(struct plain_state *st, char *err, size_t errlen)
{
    const char *list = st->host->config_get_string(st->ctx, "listeners", NULL);
    for (const char *p = list; p && *p;) {
        const char *sep = strstr(p, "://"), *comma = strchr(p, ',');
        if (!sep || (comma && comma < sep))
            break;
        while (*p == ' ')
            p++;
        char name[64], key[160];
        size_t len = (size_t)(sep - p);
        if (len > 0 && len < sizeof name && st->nlisteners < PLAIN_MAX_LISTENERS) {
            for (size_t i = 0; i < len; i++)
                name[i] = (char)(p[i] >= 'A' && p[i] <= 'Z' ? p[i] - 'A' + 'a' : p[i]);
            name[len] = '\0';
            snprintf(key, sizeof key, "listener.name.%s.plain.sasl.jaas.config", name);
            const char *jaas = st->host->config_get_string(st->ctx, key, NULL);
            if (jaas) {
                st->parsing = st->nlisteners;
                snprintf(st->listeners[st->nlisteners++], sizeof st->listeners[0], "%s", name);
                int rc = parse_jaas(st, jaas, err, errlen);
                st->parsing = PLAIN_ANY_LISTENER;
                if (rc != 0)
                    return rc;
            }
        }
        p = comma ? comma + 1 : NULL;
    }
    return 0;
}

static int p_new(void *state, const struct sluice_sasl_conn_info *info, void **session, char *err,
                 size_t errlen)
{
    (void)err;
    (void)errlen;
    struct plain_state *st = state;
    struct session *s = st->host->alloc(st->ctx, sizeof *s);
    if (!s)
        return SLUICE_ERR_NOMEM;
    memset(s, 0, sizeof *s);
    s->listener = PLAIN_ANY_LISTENER;
    for (int i = 0; info && info->listener && i < st->nlisteners; i++)
        if (strcasecmp(st->listeners[i], info->listener) == 0)
            s->listener = i;
    *session = s;
    return 0;
}

static void p_free(void *state, void *session)
{
    struct plain_state *st = state;
    st->host->free(st->ctx, session);
}

/* message = [authzid] NUL authcid NUL passwd */
static int p_step(void *state, void *session, const uint8_t *in, size_t len,
                  struct sluice_buf *out, char *err, size_t errlen)
{
    (void)out;
    struct plain_state *st = state;
    struct session *s = session;
    const uint8_t *n1 = memchr(in, 0, len);
    const uint8_t *n2 = n1 ? memchr(n1 + 1, 0, len - (size_t)(n1 + 1 - in)) : NULL;
    if (s->done || !n2) {
        snprintf(err, errlen, "Invalid SASL/PLAIN response: expected 3 tokens");
        return SLUICE_SASL_FAIL;
    }
    size_t azl = (size_t)(n1 - in), ul = (size_t)(n2 - n1 - 1);
    const uint8_t *pw = n2 + 1;
    size_t pwl = len - (size_t)(pw - in);
    if (ul == 0 || ul >= PLAIN_MAX_FIELD) {
        snprintf(err, errlen, "Authentication failed: username not specified");
        return SLUICE_SASL_FAIL;
    }
    if (pwl == 0) {
        snprintf(err, errlen, "Authentication failed: password not specified");
        return SLUICE_SASL_FAIL;
    }
    if (azl && (azl != ul || memcmp(in, n1 + 1, ul) != 0)) {
        snprintf(err, errlen, "Authentication failed: Client requested an authorization id that "
                              "is different from username");
        return SLUICE_SASL_FAIL;
    }
    const struct user *u = NULL;
    for (size_t i = 0; i < st->n; i++)
        if (st->users[i].listener == s->listener && strlen(st->users[i].name) == ul &&
            memcmp(st->users[i].name, n1 + 1, ul) == 0)
            u = &st->users[i];
    if (!u || !secret_equal(u->password, pw, pwl)) {
        snprintf(err, errlen, "Authentication failed: Invalid username or password");
        return SLUICE_SASL_FAIL;
    }
    memcpy(s->user, n1 + 1, ul);
    s->done = 1;
    return SLUICE_SASL_DONE;
}

static const char *p_principal(void *state, void *session)
{
    (void)state;
    return ((struct session *)session)->user;
}

static const struct sluice_sasl_mech_ops plain_ops = {
    .struct_size = sizeof(struct sluice_sasl_mech_ops),
    .mechanism = "PLAIN",
    .session_new = p_new,
    .step = p_step,
    .principal = p_principal,
    .session_free = p_free,
};

static void plain_fini(const struct sluice_host_api *host, struct sluice_module_ctx *ctx)
{
    struct plain_state *st = host->get_data(ctx);
    if (!st)
        return;
    if (st->users) {
        memset(st->users, 0, PLAIN_MAX_USERS * sizeof *st->users);
        host->free(ctx, st->users);
    }
    host->free(ctx, st);
}

static int plain_init(const struct sluice_host_api *host, struct sluice_module_ctx *ctx, char *err,
                      size_t errlen)
{
    struct plain_state *st = host->alloc(ctx, sizeof *st);
    if (!st)
        return SLUICE_ERR_NOMEM;
    *st = (struct plain_state){ .host = host, .ctx = ctx, .parsing = PLAIN_ANY_LISTENER };
    st->users = host->alloc(ctx, PLAIN_MAX_USERS * sizeof *st->users);
    host->set_data(ctx, st);
    if (!st->users) {
        host->free(ctx, st);
        return SLUICE_ERR_NOMEM;
    }
    const char *file = host->config_get_string(ctx, "users.file", NULL);
    const char *jaas = host->config_get_string(ctx, "sasl.jaas.config", NULL);
    int rc = 0;
    if (file)
        rc = read_file(st, file, err, errlen);
    if (rc == 0 && jaas)
        rc = parse_jaas(st, jaas, err, errlen);
    if (rc == 0)
        rc = read_listener_configs(st, err, errlen);
    if (rc == 0 && !file && !jaas && st->nlisteners == 0) {
        snprintf(err, errlen, "set module.sasl_plain.users.file, module.sasl_plain.sasl.jaas.config "
                              "or listener.name.<listener>.plain.sasl.jaas.config");
        rc = SLUICE_ERR_INVALID;
    }
    if (rc != 0) {
        plain_fini(host, ctx);
        return rc;
    }
    host->log(ctx, SLUICE_LOG_INFO, "%zu PLAIN user(s) loaded (%d listener(s) with their own)",
              st->n, st->nlisteners);
    return host->register_sasl_mechanism(ctx, &plain_ops, st);
}

SLUICE_MODULE_DECLARE("sasl_plain", "1.0.0", SLUICE_KIND_SASL, plain_init, plain_fini,
                      "SASL PLAIN with users from a JAAS-style file");
