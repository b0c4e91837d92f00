#include "assist_panel.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sbuf.h"

struct assist_kb {
    assist_index *index;
    assist_rules *rules;
};

status assist_kb_load(assist_kb **out, const char *dir, err *e)
{
    assist_kb *kb = calloc(1, sizeof(*kb));
    char path[4096];
    status st;

    if (kb == NULL)
        return err_set(e, ST_NOMEM, "out of memory");
    if (snprintf(path, sizeof(path), "%s/rules.json", dir) >=
        (int)sizeof(path)) {
        st = err_set(e, ST_INVALID, "knowledge base path is too long");
        goto out;
    }
    if ((st = assist_index_load_dir(&kb->index, dir, e)) != ST_OK ||
        (st = assist_rules_load(&kb->rules, path, e)) != ST_OK)
        goto out;
    *out = kb;
    kb = NULL;
out:
    assist_kb_destroy(kb);
    return st;
}

void assist_kb_destroy(assist_kb *kb)
{
    if (kb == NULL)
        return;
    assist_index_destroy(kb->index);
    assist_rules_destroy(kb->rules);
    free(kb);
}

const assist_index *assist_kb_index(const assist_kb *kb)
{
    return kb->index;
}

const assist_rules *assist_kb_rules(const assist_kb *kb)
{
    return kb->rules;
}

/* Length of s cut to at most max bytes at a character boundary. */
static size_t cut_utf8(const char *s, size_t max)
{
    size_t n = strlen(s);

    if (n <= max)
        return n;
    while (max > 0 && ((unsigned char)s[max] & 0xC0) == 0x80)
        max--;
    return max;
}

/* Append words to the query (space-separated, '_' read as a space),
 * dropping what does not fit. */
static void query_add(char *q, const char *words)
{
    size_t used = strlen(q), room, n;

    if (words == NULL || words[0] == '\0' || used + 1 >= ASSIST_QUERY_MAX)
        return;
    if (used > 0)
        q[used++] = ' ';
    room = ASSIST_QUERY_MAX - used;
    n = cut_utf8(words, room);
    for (size_t i = 0; i < n; i++)
        q[used + i] = words[i] == '_' ? ' ' : words[i];
    q[used + n] = '\0';
}

static void payload_member(const char *key, const char *value, void *arg)
{
    char *q = arg;
    char k[ID_MAX + 1];
    size_t kl = strlen(key);
    const char *v = value;

    /* Amount keys end in "_minor" (minor units); "minor" would only
     * mislead retrieval. */
    if (kl > 6 && kl <= ID_MAX && strcmp(key + kl - 6, "_minor") == 0) {
        memcpy(k, key, kl - 6);
        k[kl - 6] = '\0';
        key = k;
    }
    query_add(q, key);
    /* Plain numbers (amounts, days) say nothing about which rule applies. */
    if (strspn(v, "0123456789.-") != strlen(v))
        query_add(q, v);
}

static void build_query(assist_panel *p, const assist_kb *kb,
                        const assist_task *t, const char *language)
{
    p->query[0] = '\0';
    query_add(p->query,
              assist_rules_query_hint(kb->rules, assist_task_case_type(t),
                                      assist_task_step(t), language));
    query_add(p->query, assist_task_case_type(t));
    query_add(p->query, assist_task_step(t));
    assist_task_payload_each(t, payload_member, p->query);
    for (int i = 0; i < assist_task_history_count(t); i++) {
        const assist_history_entry *h = assist_task_history(t, i);

        query_add(p->query, h->step);
        query_add(p->query, h->code);
    }
}

static void fill_passage(assist_panel_passage *pp, const assist_passage *ps,
                         double score)
{
    size_t n;

    pp->passage = ps;
    pp->score = score;
    if (ps->heading[0] != '\0')
        snprintf(pp->citation, sizeof(pp->citation), "%s \xC2\xA7 %s", ps->file,
                 ps->heading);
    else
        snprintf(pp->citation, sizeof(pp->citation), "%s", ps->file);
    n = cut_utf8(ps->text, ASSIST_EXCERPT_MAX - 3);
    memcpy(pp->excerpt, ps->text, n);
    if (n < strlen(ps->text)) {
        memcpy(pp->excerpt + n, "...", 3);
        n += 3;
    }
    pp->excerpt[n] = '\0';
    for (size_t i = 0; i < n; i++)
        if (pp->excerpt[i] == '\n' || pp->excerpt[i] == '\r' ||
            pp->excerpt[i] == '\t')
            pp->excerpt[i] = ' ';
}

static void free_lines(assist_panel *p)
{
    for (int i = 0; i < p->nlines; i++)
        free(p->lines[i]);
    free(p->lines);
    p->lines = NULL;
    p->nlines = 0;
}

typedef struct liner {
    assist_panel *p;
    int cap;
    bool failed;
} liner;

static void line(liner *l, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void line(liner *l, const char *fmt, ...)
{
    va_list ap;
    char *s;
    int n;

    if (l->failed)
        return;
    if (l->p->nlines == l->cap) {
        int ncap = l->cap > 0 ? l->cap * 2 : 32;
        char **nl = realloc(l->p->lines, (size_t)ncap * sizeof(*nl));
        if (nl == NULL) {
            l->failed = true;
            return;
        }
        l->p->lines = nl;
        l->cap = ncap;
    }
    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    s = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (s == NULL) {
        l->failed = true;
        return;
    }
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    l->p->lines[l->p->nlines++] = s;
}

/* Whether sentence i may be said now; *by gets the prompt that holds it
 * back. */
static bool sentence_free(const assist_panel *p, int i, const char **by)
{
    const char *paths = p->sentences[i].paths;

    if (assist_prompts_withheld(&p->prompts, "reply", by))
        return false;
    while (*paths != '\0') {
        char path[ASSIST_PATH_MAX + 1];
        size_t n;

        paths += strspn(paths, " ");
        n = strcspn(paths, " ");
        if (n == 0 || n > ASSIST_PATH_MAX)
            break;
        memcpy(path, paths, n);
        path[n] = '\0';
        if (assist_prompts_withheld(&p->prompts, path, by))
            return false;
        paths += n;
    }
    return true;
}

/* The reply and next steps as the prompts allow them now. */
static status compose(assist_panel *p, err *e)
{
    sbuf b = {0};
    const char *by = NULL;

    free(p->reply);
    p->reply = NULL;
    p->reply_missing = 0;
    p->reply_held = 0;
    p->reply_held_by[0] = '\0';
    for (int i = 0; i < p->nsentences; i++) {
        if (p->sentence_forbidden[i])
            continue;
        if (!sentence_free(p, i, &by)) {
            if (p->reply_held++ == 0)
                snprintf(p->reply_held_by, sizeof(p->reply_held_by), "%s", by);
            continue;
        }
        sbuf_append(&b, p->sentences[i].text, strlen(p->sentences[i].text));
        p->reply_missing += p->sentences[i].missing;
    }
    /* Cut like a whole rendered reply, at a character boundary. */
    if (b.len > ASSIST_REPLY_MAX) {
        size_t cut = ASSIST_REPLY_MAX - 3;

        while (cut > 0 && ((unsigned char)b.data[cut] & 0xC0) == 0x80)
            cut--;
        memcpy(b.data + cut, "...", 4);
        b.len = cut + 3;
    }
    while (b.len > 0 && (b.data[b.len - 1] == ' ' || b.data[b.len - 1] == '\n'))
        b.data[--b.len] = '\0';
    if (b.failed) {
        sbuf_free(&b);
        return err_set(e, ST_NOMEM, "out of memory");
    }
    if (b.len > 0)
        p->reply = sbuf_take(&b);
    sbuf_free(&b);
    p->steps_held = 0;
    p->steps_held_by[0] = '\0';
    for (int i = 0; i < p->nsteps; i++) {
        char path[ID_MAX + 16];

        snprintf(path, sizeof(path), "outcomes.%s", p->step_codes[i]);
        p->step_held[i] = assist_prompts_withheld(&p->prompts, path, &by);
        if (p->step_held[i] && p->steps_held++ == 0)
            snprintf(p->steps_held_by, sizeof(p->steps_held_by), "%s", by);
    }
    return ST_OK;
}

/* Draw the panel as text lines (replacing any earlier ones). */
static status render(assist_panel *p, err *e)
{
    liner l = {p, 0, false};
    int pending = 0;
    status st = compose(p, e);

    if (st != ST_OK)
        return st;
    free_lines(p);
    line(&l, "== Knowledge (%d passages)", p->npassages);
    if (p->npassages == 0)
        line(&l, "   nothing in the knowledge base matches this case");
    for (int i = 0; i < p->npassages; i++) {
        const assist_panel_passage *pp = &p->passages[i];

        line(&l, "[%d] %s (line %d, score %.2f)", i + 1, pp->citation,
             pp->passage->line, pp->score);
        line(&l, "    %s", pp->excerpt);
    }
    line(&l, "== Compliance (%d prompts)", p->prompts.n);
    for (int i = 0; i < p->prompts.n; i++) {
        const assist_prompt *pr = &p->prompts.items[i];

        line(&l, "[%s%s] %s: %s", assist_severity_name(pr->severity),
             !pr->ack_required ? ""
             : pr->acked       ? ", acknowledged"
                               : ", acknowledge",
             pr->id, pr->text);
    }
    if (p->prompts.truncated)
        line(&l, "   (more prompts were due than the panel holds)");
    line(&l, "== Suggested reply");
    if (!p->has_template) {
        line(&l, "   no reply template for this case type and step");
    } else {
        const char *s = p->reply != NULL ? p->reply : "";

        while (*s != '\0') {
            size_t n = strcspn(s, "\n");
            line(&l, "   %.*s", (int)n, s);
            s += n + (s[n] == '\n' ? 1 : 0);
        }
        if (p->reply_missing > 0)
            line(&l, "   (%d value(s) missing: fill in each [?...])",
                 p->reply_missing);
        if (p->reply_held > 0 && p->reply == NULL)
            line(&l,
                 "   (held back until %s is acknowledged: press k for the "
                 "prompt)",
                 p->reply_held_by);
        else if (p->reply_held > 0)
            line(&l,
                 "   (%d sentence(s) held back until %s is acknowledged: "
                 "they state what it withholds)",
                 p->reply_held, p->reply_held_by);
        if (p->reply_forbidden > 0)
            line(&l,
                 "   (%d sentence(s) left out: the case data in them holds a "
                 "phrase %s forbids)",
                 p->reply_forbidden, p->reply_forbidden_by);
    }
    line(&l, "== Next steps (outcomes of this step)");
    for (int i = 0; i < p->nsteps; i++)
        if (!p->step_held[i])
            line(&l, " - %s", p->steps[i]);
    if (p->steps_held > 0)
        line(&l, "   (%d held back until %s is acknowledged)", p->steps_held,
             p->steps_held_by);
    if (p->nsteps == 0)
        line(&l, "   the task lists no outcomes");
    for (int i = 0; i < p->prompts.n; i++)
        if (p->prompts.items[i].ack_required && !p->prompts.items[i].acked)
            pending++;
    if (pending == 0)
        line(&l, "== The outcome may be sent");
    else
        line(&l, "== Acknowledge %d prompt(s) before the outcome may be sent",
             pending);
    if (l.failed) {
        free_lines(p);
        return err_set(e, ST_NOMEM, "out of memory");
    }
    return ST_OK;
}

/*
 * The reply of template tmpl, sentence by sentence. A sentence whose case
 * data holds a forbidden phrase (a merchant or a note may) is never
 * suggested: the panel must not put words in the worker's mouth that the
 * rules forbid.
 */
static status reply_build(assist_panel *p, const assist_kb *kb,
                          const assist_task *t, const char *tmpl, err *e)
{
    const char *by;
    status st =
        assist_reply_render_sentences(tmpl, t, assist_rules_currency(kb->rules),
                                      &p->sentences, &p->nsentences, NULL, e);

    if (st != ST_OK)
        return st;
    p->has_template = true;
    p->sentence_forbidden =
        calloc((size_t)p->nsentences + 1, sizeof(*p->sentence_forbidden));
    if (p->sentence_forbidden == NULL)
        return err_set(e, ST_NOMEM, "out of memory");
    for (int i = 0; i < p->nsentences; i++) {
        by =
            assist_rules_forbidden_in(kb->rules, &p->ctx, p->sentences[i].text);
        if (by == NULL)
            continue;
        p->sentence_forbidden[i] = true;
        if (p->reply_forbidden++ == 0)
            snprintf(p->reply_forbidden_by, sizeof(p->reply_forbidden_by), "%s",
                     by);
    }
    return ST_OK;
}

status assist_panel_build(assist_panel **out, const assist_kb *kb,
                          const assist_task *t, int64_t now, int k, err *e)
{
    assist_panel *p = NULL;
    assist_hit hits[ASSIST_PANEL_K_MAX];
    assist_value lang, phone, offset;
    const char *tmpl;
    int nhits = 0;
    status st;

    if (strcmp(assist_task_tenant(t), assist_rules_tenant(kb->rules)) != 0)
        return err_set(e, ST_INVALID,
                       "the task is for tenant \"%s\" but the knowledge base "
                       "is for \"%s\"",
                       assist_task_tenant(t), assist_rules_tenant(kb->rules));
    if (k < 1 || k > ASSIST_PANEL_K_MAX)
        return err_set(e, ST_INVALID, "k must be 1 to %d", ASSIST_PANEL_K_MAX);
    p = calloc(1, sizeof(*p));
    if (p == NULL)
        return err_set(e, ST_NOMEM, "out of memory");
    assist_task_value(t, "customer.language", &lang);
    assist_task_value(t, "customer.phone", &phone);
    assist_task_value(t, "customer.utc_offset", &offset);

    build_query(p, kb, t, lang.kind == ASSIST_VALUE_STRING ? lang.s : NULL);
    if ((st = assist_index_query(kb->index, p->query, k, hits, &nhits, e)) !=
        ST_OK)
        goto out;
    for (int i = 0; i < nhits; i++)
        fill_passage(&p->passages[i],
                     assist_index_passage(kb->index, hits[i].passage),
                     hits[i].score);
    p->npassages = nhits;

    snprintf(p->case_type, sizeof(p->case_type), "%s",
             assist_task_case_type(t));
    snprintf(p->step, sizeof(p->step), "%s", assist_task_step(t));
    snprintf(p->channel, sizeof(p->channel), "%s", assist_task_channel(t));
    p->ctx.case_type = p->case_type;
    p->ctx.step = p->step;
    p->ctx.channel = p->channel;
    p->ctx.utc_offset_min = assist_rules_utc_offset(
        kb->rules, offset.kind == ASSIST_VALUE_STRING ? offset.s : NULL,
        phone.kind == ASSIST_VALUE_STRING ? phone.s : NULL,
        &p->ctx.offset_known);
    assist_rules_check(kb->rules, &p->ctx, now, &p->prompts);

    tmpl = assist_rules_reply(kb->rules, p->ctx.case_type, p->ctx.step,
                              lang.kind == ASSIST_VALUE_STRING ? lang.s : NULL);
    if (tmpl != NULL && (st = reply_build(p, kb, t, tmpl, e)) != ST_OK)
        goto out;
    for (int i = 0; i < assist_task_outcome_count(t); i++) {
        const agent_outcome_spec *o = assist_task_outcome(t, i);

        snprintf(p->step_codes[p->nsteps], sizeof(p->step_codes[0]), "%s",
                 o->code);
        assist_reply_next_step(o, p->steps[p->nsteps++], ASSIST_STEP_MAX);
    }
    if ((st = render(p, e)) != ST_OK)
        goto out;
    *out = p;
    p = NULL;
out:
    assist_panel_destroy(p);
    return st;
}

status assist_panel_check_draft(assist_panel *p, const assist_kb *kb,
                                const char *draft, int *found, err *e)
{
    int n = assist_rules_check_draft(kb->rules, &p->ctx, draft, &p->prompts);

    if (found != NULL)
        *found = n;
    return render(p, e);
}

status assist_panel_ack(assist_panel *p, const char *id, err *e)
{
    status st = assist_prompts_ack(&p->prompts, id, e);

    if (st != ST_OK)
        return st;
    return render(p, e);
}

bool assist_panel_may_complete(const assist_panel *p)
{
    return assist_prompts_all_acked(&p->prompts);
}

const char *assist_panel_line(const assist_panel *p, int i)
{
    if (i < 0 || i >= p->nlines)
        return NULL;
    return p->lines[i];
}

void assist_panel_destroy(assist_panel *p)
{
    if (p == NULL)
        return;
    free_lines(p);
    free(p->reply);
    assist_sentences_free(p->sentences, p->nsentences);
    free(p->sentence_forbidden);
    free(p);
}
