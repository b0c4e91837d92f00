#include "agent_session.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "subjects.h"

struct agent_session {
    char worker[ID_MAX + 1];
    agent_presence presence;
    agent_item **items; /* each item is its own allocation, so it stays put */
    int nitems;
    int cap;
};

status agent_subject(char *buf, size_t cap, const char *prefix,
                     const char *worker, const char *verb, err *e)
{
    return subjects_agent(buf, cap, prefix, worker, verb, e);
}

status agent_inbound_subject(char *buf, size_t cap, const char *prefix,
                             const char *worker, const char *kind, err *e)
{
    return subjects_worker(buf, cap, prefix, worker, kind, e);
}

const char *agent_inbound_parse(const char *subject, const char *prefix,
                                char *worker)
{
    subjects_parsed p;
    const char *dot;

    if (!subjects_parse(subject, prefix, &p) || p.kind != SUBJECTS_WORKER ||
        strchr(p.verb, '.') != NULL)
        return NULL;
    memcpy(worker, p.party, strlen(p.party) + 1);
    /* The kind, borrowed from subject: what follows the worker's dot. */
    dot = strrchr(subject, '.');
    return dot + 1;
}

agent_refusal agent_refusal_of(const agent_reply *r)
{
    if (strcmp(r->code, status_code(ST_CONFLICT)) == 0)
        return AGENT_REFUSAL_CONFLICT;
    if (strcmp(r->code, status_code(ST_STALE)) == 0 ||
        strcmp(r->code, status_code(ST_NOT_YOURS)) == 0 ||
        strcmp(r->code, status_code(ST_NOT_FOUND)) == 0)
        return AGENT_REFUSAL_GONE;
    return AGENT_REFUSAL_OTHER;
}

void agent_conflict_text(const agent_reply *r, int64_t res_id, char *buf,
                         size_t cap)
{
    if (r->standing_code[0] != '\0')
        snprintf(buf, cap,
                 "your outcome for reservation %lld was NOT recorded: a "
                 "different completion (outcome %s, id %lld) was recorded "
                 "first and stands; tell your supervisor if you did not send "
                 "it",
                 (long long)res_id, r->standing_code,
                 (long long)r->standing_outcome_id);
    else
        snprintf(buf, cap,
                 "your outcome for reservation %lld was NOT recorded: %s",
                 (long long)res_id, r->message);
}

status agent_session_create(agent_session **out, const char *worker, err *e)
{
    agent_session *s;

    if (!ids_token_valid(worker))
        return err_set(e, ST_INVALID,
                       "worker id \"%.80s\" must be 1-64 characters of "
                       "letters, digits, '_' or '-'",
                       worker);
    s = calloc(1, sizeof(*s));
    if (s == NULL)
        return err_set(e, ST_NOMEM, "out of memory");
    snprintf(s->worker, sizeof(s->worker), "%s", worker);
    s->presence = AGENT_PRESENCE_OFFLINE;
    *out = s;
    return ST_OK;
}

static void item_free(agent_item *it)
{
    if (it == NULL)
        return;
    free(it->complete_body);
    free(it);
}

void agent_session_destroy(agent_session *s)
{
    if (s == NULL)
        return;
    for (int i = 0; i < s->nitems; i++)
        item_free(s->items[i]);
    free(s->items);
    free(s);
}

const char *agent_session_worker(const agent_session *s)
{
    return s->worker;
}

agent_presence agent_session_presence(const agent_session *s)
{
    return s->presence;
}

void agent_session_set_presence(agent_session *s, agent_presence p)
{
    s->presence = p;
}

status agent_session_offer_add(agent_session *s, const agent_offer *o,
                               int64_t now_mono_us, agent_item **out, err *e)
{
    agent_item *it;

    if (agent_session_find(s, o->reservation_id) != NULL)
        return err_set(e, ST_CONFLICT,
                       "worker %s already holds reservation "
                       "%lld",
                       s->worker, (long long)o->reservation_id);
    if (s->nitems == s->cap) {
        int cap = s->cap > 0 ? s->cap * 2 : 4;
        agent_item **grown = realloc(s->items, (size_t)cap * sizeof(*grown));

        if (grown == NULL)
            return err_set(e, ST_NOMEM, "out of memory");
        s->items = grown;
        s->cap = cap;
    }
    it = calloc(1, sizeof(*it));
    if (it == NULL)
        return err_set(e, ST_NOMEM, "out of memory");
    it->offer = *o;
    it->state = AGENT_ITEM_OFFERED;
    it->received_mono_us = now_mono_us;
    s->items[s->nitems++] = it;
    *out = it;
    return ST_OK;
}

agent_item *agent_session_find(agent_session *s, int64_t reservation_id)
{
    for (int i = 0; i < s->nitems; i++)
        if (s->items[i]->offer.reservation_id == reservation_id)
            return s->items[i];
    return NULL;
}

bool agent_session_remove(agent_session *s, int64_t reservation_id)
{
    for (int i = 0; i < s->nitems; i++) {
        if (s->items[i]->offer.reservation_id == reservation_id) {
            item_free(s->items[i]);
            s->items[i] = s->items[--s->nitems];
            return true;
        }
    }
    return false;
}

int agent_session_count(const agent_session *s)
{
    return s->nitems;
}

agent_item *agent_session_item(agent_session *s, int i)
{
    return s->items[i];
}

int agent_session_held(const agent_session *s, int64_t *ids, int max)
{
    int n = 0;

    for (int i = 0; i < s->nitems && n < max; i++)
        if (s->items[i]->state == AGENT_ITEM_WORKING ||
            s->items[i]->state == AGENT_ITEM_ACCEPTING ||
            s->items[i]->state == AGENT_ITEM_COMPLETING)
            ids[n++] = s->items[i]->offer.reservation_id;
    return n;
}
