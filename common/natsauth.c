#include "natsauth.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sbuf.h"
#include "strtab.h"

#define LIST_LINE_MAX 512

static const char *const role_names[NATSAUTH__ROLES] = {
    "dispatcher", "billing", "tenant", "operator", "worker", "admin", "console",
};

const char *natsauth_role_name(natsauth_role r)
{
    if ((unsigned)r >= NATSAUTH__ROLES)
        return "unknown";
    return role_names[r];
}

status natsauth_role_parse(const char *s, natsauth_role *out, err *e)
{
    for (int i = 0; i < NATSAUTH__ROLES; i++) {
        if (s != NULL && strcmp(s, role_names[i]) == 0) {
            *out = (natsauth_role)i;
            return ST_OK;
        }
    }
    return err_set(e, ST_INVALID,
                   "role \"%.16s\" is not known; roles: dispatcher, billing, "
                   "console, tenant, operator, worker, admin",
                   s != NULL ? s : "");
}

/* Roles that speak for one tenant, operator or worker. */
static bool role_has_party(natsauth_role r)
{
    return r == NATSAUTH_TENANT || r == NATSAUTH_OPERATOR ||
           r == NATSAUTH_WORKER;
}

status natsauth_identity_check(const natsauth_identity *id, err *e)
{
    status s;

    if (!ids_token_valid(id->id))
        return err_set(e, ST_INVALID,
                       "identity \"%.64s\" must be 1-64 letters, digits, '_' "
                       "or '-'",
                       id->id);
    if ((unsigned)id->role >= NATSAUTH__ROLES)
        return err_set(e, ST_INVALID, "identity %s has no known role", id->id);
    if (role_has_party(id->role) &&
        (!ids_token_valid(id->party) || strcmp(id->party, "-") == 0))
        return err_set(e, ST_INVALID,
                       "identity %s: the %s's id \"%.64s\" must be 1-64 "
                       "letters, digits, '_' or '-'",
                       id->id, natsauth_role_name(id->role), id->party);
    if (!role_has_party(id->role) && strcmp(id->party, "-") != 0)
        return err_set(e, ST_INVALID,
                       "identity %s: a %s speaks for the installation, so its "
                       "party is \"-\", not \"%.64s\"",
                       id->id, natsauth_role_name(id->role), id->party);
    s = nkey_public_decode(id->public_key, NULL, e);
    if (s != ST_OK)
        return err_wrap(e, "identity %s", id->id);
    return ST_OK;
}

void natsauth_inbox_prefix(const char *id, char *buf, size_t cap)
{
    snprintf(buf, cap, "_INBOX_%s", id);
}

void natsauth_stream_name(const char *prefix, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s_EVENTS", prefix);
    for (size_t i = 0; buf[i] != '\0'; i++)
        buf[i] = (char)toupper((unsigned char)buf[i]);
}

void natsauth_events_consumer(const char *tenant, char *buf, size_t cap)
{
    snprintf(buf, cap, "events_%s", tenant);
}

/* Append a subject to list (pub or sub) of p. Every subject is made from
 * tokens of at most ID_MAX characters, so it always fits. */
static void add(natsauth_perms *p, bool pub, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void add(natsauth_perms *p, bool pub, const char *fmt, ...)
{
    int *n = pub ? &p->npub : &p->nsub;
    char *dst = pub ? p->pub[*n] : p->sub[*n];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(dst, NATSAUTH_SUBJECT_MAX, fmt, ap);
    va_end(ap);
    (*n)++;
}

status natsauth_permissions(const char *prefix, const natsauth_identity *id,
                            natsauth_perms *out, err *e)
{
    natsauth_perms p;
    char stream[ID_MAX + 16], consumer[ID_MAX + 16];
    const char *x = prefix, *party = id->party;
    status s;

    if (!ids_token_valid(prefix))
        return err_set(e, ST_INVALID,
                       "prefix \"%.64s\" must be 1-64 letters, digits, '_' or "
                       "'-'",
                       prefix != NULL ? prefix : "");
    if ((s = natsauth_identity_check(id, e)) != ST_OK)
        return s;
    memset(&p, 0, sizeof(p));
    natsauth_stream_name(prefix, stream, sizeof(stream));
    /* Every party reads its replies on an inbox nobody else may read. */
    add(&p, false, "_INBOX_%s.>", id->id);
    switch (id->role) {
    case NATSAUTH_DISPATCHER:
        add(&p, true, "%s.worker.>", x);
        add(&p, true, "%s.stats.>", x);
        add(&p, true, "%s.evt.>", x);
        /* It keeps the event stream and makes the tenants' consumers. */
        add(&p, true, "$JS.API.>");
        add(&p, false, "%s.api.>", x);
        add(&p, false, "%s.agent.>", x);
        add(&p, false, "%s.ops.>", x);
        /* Notices of the admin command line (a revoked identity). */
        add(&p, false, "%s.admin.>", x);
        p.allow_responses = true;
        break;
    case NATSAUTH_BILLING:
        /* The stream (it makes it when it starts first) and its own
         * consumer on it; no deleting, no other stream or consumer. */
        add(&p, true, "$JS.API.STREAM.CREATE.%s", stream);
        add(&p, true, "$JS.API.STREAM.UPDATE.%s", stream);
        add(&p, true, "$JS.API.STREAM.INFO.%s", stream);
        add(&p, true, "$JS.API.CONSUMER.INFO.%s.billing", stream);
        add(&p, true, "$JS.API.CONSUMER.DURABLE.CREATE.%s.billing", stream);
        add(&p, true, "$JS.API.CONSUMER.CREATE.%s.billing.>", stream);
        add(&p, true, "$JS.API.CONSUMER.MSG.NEXT.%s.billing", stream);
        add(&p, true, "$JS.ACK.%s.billing.>", stream);
        p.allow_responses = true;
        break;
    case NATSAUTH_TENANT:
        natsauth_events_consumer(party, consumer, sizeof(consumer));
        add(&p, true, "%s.api.%s.>", x, party);
        /* Read its consumer (which the dispatcher makes): never create,
         * change or delete it. INFO is needed to bind without a 5 s
         * stall (NATS-NOTES). */
        add(&p, true, "$JS.API.CONSUMER.INFO.%s.%s", stream, consumer);
        add(&p, true, "$JS.API.CONSUMER.MSG.NEXT.%s.%s", stream, consumer);
        add(&p, true, "$JS.ACK.%s.%s.>", stream, consumer);
        break;
    case NATSAUTH_OPERATOR:
        add(&p, true, "%s.ops.%s.>", x, party);
        break;
    case NATSAUTH_WORKER:
        add(&p, true, "%s.agent.%s.>", x, party);
        add(&p, false, "%s.worker.%s.>", x, party);
        break;
    case NATSAUTH_ADMIN:
        add(&p, true, "%s.api.>", x);
        add(&p, true, "%s.ops.>", x);
        add(&p, true, "%s.admin.>", x);
        add(&p, false, "%s.stats.>", x);
        break;
    case NATSAUTH_CONSOLE:
        /* It forwards the requests of the banks' and operators' keys it
         * checked itself, publishes its alerts and reads them back with
         * the dispatcher's figures for its live stream, and feeds its
         * webhooks from its own consumer (made by itself, like billing's). */
        add(&p, true, "%s.api.*.>", x);
        add(&p, true, "%s.ops.*.>", x);
        add(&p, true, "%s.alerts.*", x);
        add(&p, true, "$JS.API.CONSUMER.INFO.%s.console_hooks", stream);
        add(&p, true, "$JS.API.CONSUMER.DURABLE.CREATE.%s.console_hooks",
            stream);
        add(&p, true, "$JS.API.CONSUMER.CREATE.%s.console_hooks.>", stream);
        add(&p, true, "$JS.API.CONSUMER.MSG.NEXT.%s.console_hooks", stream);
        add(&p, true, "$JS.ACK.%s.console_hooks.>", stream);
        add(&p, false, "%s.stats.dispatcher", x);
        add(&p, false, "%s.alerts.*", x);
        break;
    default:
        return err_set(e, ST_INVALID, "identity %s has no known role", id->id);
    }
    *out = p;
    return ST_OK;
}

static void subject_list(sbuf *b, const char *what, int n,
                         char (*subjects)[NATSAUTH_SUBJECT_MAX])
{
    sbuf_printf(b, "        %s: { allow: [", what);
    for (int i = 0; i < n; i++)
        sbuf_printf(b, "%s\"%s\"", i > 0 ? ", " : "", subjects[i]);
    sbuf_printf(b, "] }\n");
}

/*
 * Check the whole set: every identity valid, no identity or key twice.
 * line (may be NULL) gives each identity's line for messages.
 */
static status check_set(const natsauth_identity *ids, size_t n, const int *line,
                        err *e)
{
    strtab *names = NULL, *keys = NULL;
    status s;

    if ((s = strtab_create(&names, e)) != ST_OK ||
        (s = strtab_create(&keys, e)) != ST_OK)
        goto out;
    for (size_t i = 0; i < n && s == ST_OK; i++) {
        int at, ignored;

        if ((s = natsauth_identity_check(&ids[i], e)) != ST_OK) {
            if (line != NULL)
                err_wrap(e, "line %d", line[i]);
            break;
        }
        if ((at = strtab_find(names, ids[i].id)) >= 0) {
            s = line != NULL
                    ? err_set(e, ST_INVALID,
                              "line %d: identity %s is already listed on "
                              "line %d",
                              line[i], ids[i].id, line[at])
                    : err_set(e, ST_INVALID, "identity %s is listed twice",
                              ids[i].id);
            break;
        }
        if ((at = strtab_find(keys, ids[i].public_key)) >= 0) {
            s = line != NULL
                    ? err_set(e, ST_INVALID,
                              "line %d: identity %s has the public key of "
                              "identity %s (line %d); every identity needs a "
                              "key of its own",
                              line[i], ids[i].id, ids[at].id, line[at])
                    : err_set(e, ST_INVALID,
                              "identity %s has the public key of identity "
                              "%s; every identity needs a key of its own",
                              ids[i].id, ids[at].id);
            break;
        }
        /* Both tables grow in step, so an index is an identity. */
        if ((s = strtab_intern(names, ids[i].id, &ignored, e)) != ST_OK ||
            (s = strtab_intern(keys, ids[i].public_key, &ignored, e)) != ST_OK)
            break;
    }
out:
    strtab_destroy(names);
    strtab_destroy(keys);
    return s;
}

status natsauth_config(const char *prefix, const natsauth_identity *ids,
                       size_t n, char **out, err *e)
{
    return natsauth_config_probed(prefix, ids, n, NULL, out, e);
}

status natsauth_config_probed(const char *prefix, const natsauth_identity *ids,
                              size_t n, const char *probe_key, char **out,
                              err *e)
{
    sbuf b = {0};
    status s;

    if (!ids_token_valid(prefix))
        return err_set(e, ST_INVALID,
                       "prefix \"%.64s\" must be 1-64 letters, digits, '_' or "
                       "'-'",
                       prefix != NULL ? prefix : "");
    if (n == 0)
        return err_set(e, ST_INVALID,
                       "no identities: nats-server without users would let "
                       "anyone in; create the service identities first");
    if (n > NATSAUTH_MAX_IDENTITIES)
        return err_set(e, ST_INVALID, "%zu identities; at most %d are allowed",
                       n, NATSAUTH_MAX_IDENTITIES);
    if ((s = check_set(ids, n, NULL, e)) != ST_OK)
        return s;
    if (probe_key != NULL) {
        if ((s = nkey_public_decode(probe_key, NULL, e)) != ST_OK)
            return err_wrap(e, "reload probe");
        for (size_t i = 0; i < n; i++)
            if (strcmp(ids[i].public_key, probe_key) == 0)
                return err_set(e, ST_INVALID,
                               "the reload probe has the key of identity %s",
                               ids[i].id);
    }
    sbuf_printf(&b,
                "# Generated by Twinline for prefix %s: %zu identities.\n"
                "# Do not edit: regenerate it and reload nats-server "
                "(nats-server --signal reload=PID).\n"
                "authorization {\n  users = [\n",
                prefix, n);
    for (size_t i = 0; i < n; i++) {
        natsauth_perms p;

        if ((s = natsauth_permissions(prefix, &ids[i], &p, e)) != ST_OK)
            goto out;
        sbuf_printf(&b, "    # %s: %s %s\n    {\n      nkey: \"%s\"\n",
                    ids[i].id, natsauth_role_name(ids[i].role), ids[i].party,
                    ids[i].public_key);
        sbuf_printf(&b, "      permissions: {\n");
        if (p.npub > 0)
            subject_list(&b, "publish", p.npub, p.pub);
        else
            sbuf_printf(&b, "        publish: { deny: [\">\"] }\n");
        subject_list(&b, "subscribe", p.nsub, p.sub);
        if (p.allow_responses)
            sbuf_printf(&b, "        allow_responses: true\n");
        sbuf_printf(&b, "      }\n    }\n");
    }
    if (probe_key != NULL)
        sbuf_printf(&b,
                    "    # The reload probe: a key only the generator held, "
                    "to see this file applied.\n"
                    "    {\n      nkey: \"%s\"\n      permissions: {\n"
                    "        publish: { deny: [\">\"] }\n"
                    "        subscribe: { deny: [\">\"] }\n      }\n    }\n",
                    probe_key);
    sbuf_printf(&b, "  ]\n}\n");
    if (b.failed) {
        s = err_set(e, ST_NOMEM, "out of memory");
        goto out;
    }
    *out = sbuf_take(&b);
out:
    sbuf_free(&b);
    return s;
}

/* Split line[0..n) into at most max fields at spaces and tabs; the fields
 * are copied NUL-terminated into f (each cap bytes, truncated fields are
 * reported by a length over cap - 1 in len). Returns the field count, or
 * max + 1 when there are more. */
static int split(const char *line, size_t n, char f[][LIST_LINE_MAX + 1],
                 int max)
{
    int nf = 0;
    size_t i = 0;

    while (i < n) {
        size_t start;

        while (i < n && (line[i] == ' ' || line[i] == '\t'))
            i++;
        if (i >= n)
            break;
        if (nf == max)
            return max + 1;
        start = i;
        while (i < n && line[i] != ' ' && line[i] != '\t')
            i++;
        memcpy(f[nf], line + start, i - start);
        f[nf][i - start] = '\0';
        nf++;
    }
    return nf;
}

status natsauth_list_parse(const char *text, size_t len,
                           natsauth_identity **out, size_t *n, err *e)
{
    natsauth_identity *ids = NULL;
    int *lines = NULL;
    size_t count = 0, cap = 0, pos = 0;
    char f[4][LIST_LINE_MAX + 1];
    int lineno = 0;
    status s = ST_OK;

    if (len > NATSAUTH_LIST_MAX)
        return err_set(e, ST_TOO_LARGE,
                       "the identity list is %zu bytes; at most %u are "
                       "allowed",
                       len, NATSAUTH_LIST_MAX);
    while (pos < len) {
        const char *line = text + pos;
        const char *nl = memchr(line, '\n', len - pos);
        size_t ln = nl != NULL ? (size_t)(nl - line) : len - pos;
        natsauth_identity *id;
        int nf;

        pos += ln + (nl != NULL);
        lineno++;
        if (ln > 0 && line[ln - 1] == '\r')
            ln--;
        if (ln > LIST_LINE_MAX) {
            s = err_set(e, ST_INVALID, "line %d is longer than %d bytes",
                        lineno, LIST_LINE_MAX);
            goto out;
        }
        if (memchr(line, '\0', ln) != NULL) {
            s = err_set(e, ST_INVALID, "line %d contains a NUL byte", lineno);
            goto out;
        }
        nf = split(line, ln, f, 4);
        if (nf == 0 || f[0][0] == '#')
            continue;
        if (nf != 4) {
            s = err_set(e, ST_INVALID,
                        "line %d: expected 4 fields (identity role party "
                        "public_key), found %s%d",
                        lineno, nf > 4 ? "more than " : "", nf > 4 ? 4 : nf);
            goto out;
        }
        if (count == NATSAUTH_MAX_IDENTITIES) {
            s = err_set(e, ST_TOO_LARGE, "line %d: more than %d identities",
                        lineno, NATSAUTH_MAX_IDENTITIES);
            goto out;
        }
        if (count == cap) {
            size_t ncap = cap == 0 ? 64 : cap * 2;
            natsauth_identity *ni = realloc(ids, ncap * sizeof(*ids));
            int *nl2 =
                ni != NULL ? realloc(lines, ncap * sizeof(*lines)) : NULL;
            if (ni != NULL)
                ids = ni;
            if (nl2 == NULL) {
                s = err_set(e, ST_NOMEM, "out of memory");
                goto out;
            }
            lines = nl2;
            cap = ncap;
        }
        id = &ids[count];
        memset(id, 0, sizeof(*id));
        if (strlen(f[0]) > ID_MAX || strlen(f[2]) > ID_MAX) {
            s = err_set(e, ST_INVALID,
                        "line %d: identity and party have at most %d "
                        "characters",
                        lineno, ID_MAX);
            goto out;
        }
        /* Checked before it is copied: a seed pasted here is named as such
         * and never repeated. */
        if ((s = nkey_public_decode(f[3], NULL, e)) != ST_OK) {
            err_wrap(e, "line %d", lineno);
            goto out;
        }
        strcpy(id->id, f[0]);
        strcpy(id->party, f[2]);
        strcpy(id->public_key, f[3]);
        if ((s = natsauth_role_parse(f[1], &id->role, e)) != ST_OK) {
            err_wrap(e, "line %d", lineno);
            goto out;
        }
        lines[count++] = lineno;
    }
    if ((s = check_set(ids, count, lines, e)) != ST_OK)
        goto out;
    *out = ids;
    *n = count;
    ids = NULL;
out:
    free(ids);
    free(lines);
    return s;
}
