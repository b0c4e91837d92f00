#include "subjects.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

static const char *const kind_tokens[] = {
    [SUBJECTS_API] = "api",       [SUBJECTS_AGENT] = "agent",
    [SUBJECTS_WORKER] = "worker", [SUBJECTS_EVT] = "evt",
    [SUBJECTS_OPS] = "ops",       [SUBJECTS_STATS] = "stats",
    [SUBJECTS_ADMIN] = "admin",
};

/* Kinds whose second token names a party (tenant, worker or operator). */
static bool has_party(subjects_kind k)
{
    return k == SUBJECTS_API || k == SUBJECTS_AGENT || k == SUBJECTS_WORKER ||
           k == SUBJECTS_EVT || k == SUBJECTS_OPS;
}

static bool party_valid(const char *p)
{
    return p != NULL && (strcmp(p, "*") == 0 || ids_token_valid(p));
}

/* "<prefix>.<kind>[.<party>].<rest>" into buf. */
static status build(char *buf, size_t cap, const char *prefix,
                    subjects_kind kind, const char *party, const char *rest,
                    err *e)
{
    int n;

    if (prefix == NULL || !ids_token_valid(prefix))
        return err_set(e, ST_INVALID,
                       "subject prefix \"%.80s\" must be 1-64 letters, digits, "
                       "'_' or '-'",
                       prefix != NULL ? prefix : "");
    if (has_party(kind) && !party_valid(party))
        return err_set(e, ST_INVALID,
                       "\"%.80s\" cannot stand in a subject: identifiers are "
                       "1-64 letters, digits, '_' or '-'",
                       party != NULL ? party : "");
    if (rest == NULL || rest[0] == '\0')
        return err_set(e, ST_INVALID, "a subject needs a verb after %s.%s",
                       prefix, kind_tokens[kind]);
    if (has_party(kind))
        n = snprintf(buf, cap, "%s.%s.%s.%s", prefix, kind_tokens[kind], party,
                     rest);
    else
        n = snprintf(buf, cap, "%s.%s.%s", prefix, kind_tokens[kind], rest);
    if (n < 0 || (size_t)n >= cap)
        return err_set(e, ST_INVALID, "subject for %s is too long",
                       has_party(kind) ? party : rest);
    return ST_OK;
}

status subjects_api(char *buf, size_t cap, const char *prefix,
                    const char *tenant, const char *verb, err *e)
{
    return build(buf, cap, prefix, SUBJECTS_API, tenant, verb, e);
}

status subjects_agent(char *buf, size_t cap, const char *prefix,
                      const char *worker, const char *verb, err *e)
{
    return build(buf, cap, prefix, SUBJECTS_AGENT, worker, verb, e);
}

status subjects_worker(char *buf, size_t cap, const char *prefix,
                       const char *worker, const char *kind, err *e)
{
    return build(buf, cap, prefix, SUBJECTS_WORKER, worker, kind, e);
}

status subjects_event(char *buf, size_t cap, const char *prefix,
                      const char *tenant, const char *kind, err *e)
{
    return build(buf, cap, prefix, SUBJECTS_EVT, tenant, kind, e);
}

status subjects_ops(char *buf, size_t cap, const char *prefix, const char *op,
                    const char *verb, err *e)
{
    return build(buf, cap, prefix, SUBJECTS_OPS, op, verb, e);
}

status subjects_stats(char *buf, size_t cap, const char *prefix,
                      const char *source, err *e)
{
    return build(buf, cap, prefix, SUBJECTS_STATS, NULL, source, e);
}

status subjects_admin(char *buf, size_t cap, const char *prefix,
                      const char *verb, err *e)
{
    return build(buf, cap, prefix, SUBJECTS_ADMIN, NULL, verb, e);
}

status subjects_events_all(char *buf, size_t cap, const char *prefix, err *e)
{
    /* ">" stands for the tenant and the kind: every event. */
    char probe[SUBJECTS_MAX];
    status s = subjects_event(probe, sizeof(probe), prefix, "*", ">", e);
    int n;

    if (s != ST_OK)
        return s;
    n = snprintf(buf, cap, "%s.%s.>", prefix, kind_tokens[SUBJECTS_EVT]);
    if (n < 0 || (size_t)n >= cap)
        return err_set(e, ST_INVALID, "subject for %s is too long", prefix);
    return ST_OK;
}

status subjects_event_parts(char head[SUBJECTS_MAX], char tail[SUBJECTS_MAX],
                            const char *prefix, const char *kind, err *e)
{
    char whole[SUBJECTS_MAX];
    status s = subjects_event(whole, sizeof(whole), prefix, "*", kind, e);

    if (s != ST_OK)
        return s;
    snprintf(head, SUBJECTS_MAX, "%s.%s.", prefix, kind_tokens[SUBJECTS_EVT]);
    snprintf(tail, SUBJECTS_MAX, ".%s", kind);
    return ST_OK;
}

status subjects_stream(char *buf, size_t cap, const char *prefix, err *e)
{
    size_t len;
    int n;

    if (prefix == NULL || !ids_token_valid(prefix))
        return err_set(e, ST_INVALID,
                       "subject prefix \"%.80s\" must be 1-64 letters, digits, "
                       "'_' or '-'",
                       prefix != NULL ? prefix : "");
    n = snprintf(buf, cap, "%s_EVENTS", prefix);
    if (n < 0 || (size_t)n >= cap)
        return err_set(e, ST_INVALID, "stream name for prefix %s is too long",
                       prefix);
    len = strlen(prefix);
    for (size_t i = 0; i < len; i++)
        buf[i] = (char)toupper((unsigned char)buf[i]);
    return ST_OK;
}

/* Copy the token at *p up to the next '.' into out (cap bytes with the
 * NUL) and step past the dot; false when there is no dot or it is too
 * long. */
static bool take_token(const char **p, char *out, size_t cap)
{
    const char *dot = strchr(*p, '.');
    size_t n;

    if (dot == NULL)
        return false;
    n = (size_t)(dot - *p);
    if (n == 0 || n >= cap)
        return false;
    memcpy(out, *p, n);
    out[n] = '\0';
    *p = dot + 1;
    return true;
}

bool subjects_parse(const char *subject, const char *prefix,
                    subjects_parsed *out)
{
    size_t plen = strlen(prefix);
    char kind[16];
    const char *p;
    size_t n;
    int k;

    if (strncmp(subject, prefix, plen) != 0 || subject[plen] != '.')
        return false;
    p = subject + plen + 1;
    if (!take_token(&p, kind, sizeof(kind)))
        return false;
    for (k = 0; k <= SUBJECTS_ADMIN; k++)
        if (strcmp(kind, kind_tokens[k]) == 0)
            break;
    if (k > SUBJECTS_ADMIN)
        return false;
    out->kind = (subjects_kind)k;
    out->party[0] = '\0';
    if (has_party(out->kind) &&
        (!take_token(&p, out->party, sizeof(out->party)) ||
         !ids_token_valid(out->party)))
        return false;
    n = strlen(p);
    if (n == 0 || n > SUBJECTS_VERB_MAX)
        return false;
    memcpy(out->verb, p, n + 1);
    return true;
}
