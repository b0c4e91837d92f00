#include "agent_ai.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The support of outcome spec over the panel's passages (see the header). */
static status outcome_support(const assist_kb *kb, const assist_panel *p,
                              const agent_outcome_spec *spec, double *out,
                              err *e)
{
    const assist_index *idx = assist_kb_index(kb);
    assist_hit hits[ASSIST_K_MAX];
    char query[ID_MAX + 1];
    double top = p->passages[0].score, sum = 0;
    int n = 0;
    status st;

    snprintf(query, sizeof(query), "%s", spec->code);
    for (char *c = query; *c != '\0'; c++)
        if (*c == '_')
            *c = ' ';
    st = assist_index_query(idx, query, ASSIST_K_MAX, hits, &n, e);
    if (st != ST_OK)
        return st;
    for (int i = 0; i < p->npassages; i++) {
        for (int h = 0; h < n; h++) {
            if (assist_index_passage(idx, hits[h].passage) ==
                p->passages[i].passage) {
                sum += p->passages[i].score / top * hits[h].score;
                break;
            }
        }
    }
    *out = sum;
    return ST_OK;
}

static void fill_date(int64_t now, char *buf, size_t cap)
{
    time_t t = (time_t)now;
    struct tm tm;

    gmtime_r(&t, &tm);
    snprintf(buf, cap, "%04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday);
}

static bool adverse(const char *code)
{
    static const char *const words[] = {"non",    "not",      "no",
                                        "reject", "rejected", "refused"};
    const char *w = code;

    while (*w != '\0') {
        size_t n = strcspn(w, "_");

        for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
            if (strlen(words[i]) == n && strncmp(w, words[i], n) == 0)
                return true;
        w += n;
        if (*w == '_')
            w++;
    }
    return false;
}

typedef struct doc {
    char text[AGENT_AI_DOC_MAX + 1];
    size_t len;
} doc;

/* Append one payload value; a value that does not fit whole is left out,
 * so no character is cut. */
static void doc_add(const char *key, const char *value, void *arg)
{
    doc *d = arg;
    size_t n = strlen(value);

    (void)key;
    if (d->len + n + 1 > AGENT_AI_DOC_MAX)
        return;
    memcpy(d->text + d->len, value, n);
    d->len += n;
    d->text[d->len++] = '\n';
    d->text[d->len] = '\0';
}

/* The retrieval rule (see the header) into d. */
static status by_retrieval(const assist_kb *kb, const assist_task *t,
                           const assist_panel *p, agent_ai_decision *d, err *e)
{
    int n = assist_task_outcome_count(t), second = -1;
    double s, b, r, strength, evidence, margin;
    status st;

    d->chosen = -1;
    if (p->npassages == 0 || p->passages[0].score <= 0) {
        for (int i = n - 1; i >= 0; i--)
            if (!adverse(assist_task_outcome(t, i)->code))
                d->chosen = i;
        d->chosen = d->chosen < 0 ? 0 : d->chosen;
        snprintf(d->note, sizeof(d->note),
                 "AI assessment: no knowledge passage fits this case");
        return ST_OK;
    }
    for (int i = 0; i < n; i++) {
        st = outcome_support(kb, p, assist_task_outcome(t, i), &d->support[i],
                             e);
        if (st != ST_OK)
            return st;
        if (d->chosen < 0 || d->support[i] > d->support[d->chosen])
            d->chosen = i;
    }
    if (d->support[d->chosen] <= 0) {
        for (int i = n - 1; i >= 0; i--)
            if (!adverse(assist_task_outcome(t, i)->code))
                d->chosen = i;
    }
    for (int i = 0; i < n; i++)
        if (i != d->chosen &&
            (second < 0 || d->support[i] > d->support[second]))
            second = i;
    s = p->passages[0].score;
    b = d->support[d->chosen];
    r = second >= 0 ? d->support[second] : 0;
    strength = s / (s + AGENT_AI_SCORE_HALF);
    evidence = b / (b + AGENT_AI_SCORE_HALF);
    margin = b > 0 ? (b - r) / b : 0;
    d->confidence = (int)lround(AGENT_AI_CONF_MAX * strength *
                                (1.0 + evidence * margin) / 2.0);
    if (d->confidence > AGENT_AI_CONF_MAX)
        d->confidence = AGENT_AI_CONF_MAX;
    snprintf(d->note, sizeof(d->note), "AI assessment from %s",
             p->passages[0].citation);
    return ST_OK;
}

/* The first outcome of t that is billable and not adverse (the verdict
 * "the document is fine"), or -1. */
static int first_agreeable(const assist_task *t)
{
    for (int i = 0; i < assist_task_outcome_count(t); i++) {
        const agent_outcome_spec *o = assist_task_outcome(t, i);

        if (o->billable && !adverse(o->code))
            return i;
    }
    return -1;
}

/* The first non-billable outcome of t ("needs a person"), else the first
 * non-adverse one, else the first. */
static int first_cautious(const assist_task *t)
{
    int n = assist_task_outcome_count(t), pick = -1;

    for (int i = n - 1; i >= 0; i--)
        if (!adverse(assist_task_outcome(t, i)->code))
            pick = i;
    for (int i = n - 1; i >= 0; i--)
        if (!assist_task_outcome(t, i)->billable)
            pick = i;
    return pick < 0 ? 0 : pick;
}

/* The document rule (see the header) into d; false when it has no
 * verdict and retrieval decides. */
static bool by_document(const assist_task *t, agent_ai_decision *d)
{
    const assist_doc_findings *f = &d->findings;
    int flaws = f->breaches + f->missing, bad = -1, good = first_agreeable(t);

    for (int i = assist_task_outcome_count(t) - 1; i >= 0; i--)
        if (adverse(assist_task_outcome(t, i)->code))
            bad = i;
    if (flaws > 0 && bad >= 0) {
        d->chosen = bad;
        d->confidence = AGENT_AI_CONF_MAX - 100 / flaws;
        snprintf(d->note, sizeof(d->note),
                 "AI assessment: %d problem(s) with the tenant's rules, "
                 "first %s",
                 flaws, f->breaches > 0 ? f->breach : f->gap);
        return true;
    }
    if (f->cautions > 0) {
        d->chosen = first_cautious(t);
        d->confidence = AGENT_AI_CAUTION_CONF;
        snprintf(d->note, sizeof(d->note),
                 "AI assessment: a person should judge %d point(s), first "
                 "%s",
                 f->cautions, f->caution);
        return true;
    }
    if (f->checks > 0 && good >= 0) {
        d->chosen = good;
        d->confidence = AGENT_AI_CONF_MAX - 200 / (1 + f->mentioned);
        snprintf(d->note, sizeof(d->note),
                 "AI assessment: %d document check(s) passed, %d required "
                 "topic(s) mentioned, no forbidden phrase",
                 f->checks, f->mentioned);
        return true;
    }
    return false;
}

status agent_ai_decide(const assist_kb *kb, const assist_task *t, int64_t now,
                       int floor, agent_ai_decision *out, err *e)
{
    agent_ai_decision *d = NULL;
    assist_panel *p = NULL;
    doc *text = NULL;
    int n = assist_task_outcome_count(t);
    status st;

    if (n < 1)
        return err_set(e, ST_INVALID, "the task lists no outcomes");
    if (floor < 0 || floor > AGENT_AI_CONF_MAX)
        return err_set(e, ST_INVALID,
                       "confidence floor must be between 0 and 1000 (got %d)",
                       floor);
    d = calloc(1, sizeof(*d));
    text = calloc(1, sizeof(*text));
    if (d == NULL || text == NULL) {
        st = err_set(e, ST_NOMEM, "out of memory");
        goto out;
    }
    st = assist_panel_build(&p, kb, t, now, AGENT_AI_PASSAGES, e);
    if (st != ST_OK)
        goto out;
    assist_task_payload_each(t, doc_add, text);
    st = assist_rules_check_document(assist_kb_rules(kb), &p->ctx, text->text,
                                     &d->findings, e);
    if (st != ST_OK)
        goto out;
    d->breaches = d->findings.breaches;
    if (!by_document(t, d) && (st = by_retrieval(kb, t, p, d, e)) != ST_OK)
        goto out;
    d->index = d->chosen;
    if (d->confidence < floor) {
        for (int i = n - 1; i >= 0; i--)
            if (!assist_task_outcome(t, i)->billable)
                d->index = i;
        d->abstained = d->index != d->chosen;
    }
    snprintf(d->code, sizeof(d->code), "%s",
             assist_task_outcome(t, d->index)->code);
    fill_date(now, d->date, sizeof(d->date));
    *out = *d;
out:
    assist_panel_destroy(p);
    free(text);
    free(d);
    return st;
}

void agent_ai_fallback(const agent_offer *o, int64_t now,
                       agent_ai_decision *out)
{
    memset(out, 0, sizeof(*out));
    for (int i = o->noutcomes - 1; i >= 0; i--)
        if (!o->outcomes[i].billable)
            out->index = i;
    out->chosen = out->index;
    if (o->noutcomes > 0)
        snprintf(out->code, sizeof(out->code), "%s",
                 o->outcomes[out->index].code);
    snprintf(out->note, sizeof(out->note), "AI could not assess this case");
    fill_date(now, out->date, sizeof(out->date));
}

status agent_ai_complete_body(const agent_offer *o, const agent_ai_decision *d,
                              char **out, size_t *len, err *e)
{
    const agent_outcome_spec *spec = NULL;
    agent_outcome oc;

    memset(&oc, 0, sizeof(oc));
    for (int i = 0; i < o->noutcomes && spec == NULL; i++) {
        if (strcmp(o->outcomes[i].code, d->code) == 0) {
            spec = &o->outcomes[i];
            oc.index = i;
        }
    }
    if (spec == NULL)
        return err_set(e, ST_INVALID, "outcome %s is not in the offer",
                       d->code);
    oc.nvalues = spec->nfields;
    for (int f = 0; f < spec->nfields; f++) {
        agent_value *v = &oc.values[f];

        v->type = spec->fields[f].type;
        if (v->type == AGENT_FIELD_DATE)
            snprintf(v->s, sizeof(v->s), "%s", d->date);
        else if (v->type == AGENT_FIELD_STRING)
            snprintf(v->s, sizeof(v->s), "%s", d->note);
    }
    return agent_msg_complete_confidence(o, &oc, d->confidence, out, len, e);
}
