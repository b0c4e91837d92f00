#include "assist_rules.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fileio.h"
#include "jsonx.h"
#include "money.h"

#define PREFIX_MAX 16 /* bytes of a phone prefix */
#define WHERE_MAX  96 /* bytes of a field path in messages */

typedef enum rule_kind {
    R_HOURS,
    R_PHRASES,
    R_DISCLOSURE,
    R_DOCUMENT
} rule_kind;

/* One topic a document must mention: any of its phrases will do. */
typedef struct topic {
    char name[ID_MAX + 1];
    int n;
    char **folded;
} topic;

/* A rule's scope: NULL (everything) or "|a|b|" for quick lookups. */
typedef struct scope {
    char *case_types;
    char *steps;
    char *channels;
} scope;

typedef struct rule {
    rule_kind kind;
    char id[ID_MAX + 1];
    assist_severity severity;
    bool ack_required;
    char *text;
    char withholds[ASSIST_WITHHOLDS_TEXT_MAX + 1]; /* " a b " or "" */
    scope sc;
    int from_min, to_min; /* R_HOURS: minutes after local midnight */
    int nphrases;         /* R_PHRASES */
    char **phrases;       /* as written, for messages */
    char **folded;        /* normalised for matching */
    int ntriggers;        /* R_DOCUMENT: applies_if, folded */
    char **triggers;
    int ntopics; /* R_DOCUMENT: must_mention */
    topic *topics;
} rule;

typedef struct reply_tmpl {
    char case_type[ID_MAX + 1];
    char step[ID_MAX + 1];     /* "" for any */
    char language[ID_MAX + 1]; /* "" for any */
    char *text;
} reply_tmpl;

typedef struct prefix_offset {
    char prefix[PREFIX_MAX + 1];
    int offset;
} prefix_offset;

struct assist_rules {
    char tenant[ID_MAX + 1];
    char currency[ID_MAX + 1];
    bool has_default;
    int default_offset;
    int nprefixes;
    prefix_offset prefixes[ASSIST_PREFIXES_MAX];
    int nrules;
    rule *rules;
    int nreplies;
    reply_tmpl *replies;
    int nhints;
    reply_tmpl *hints; /* query hints, chosen like replies */
};

const char *assist_severity_name(assist_severity s)
{
    switch (s) {
    case ASSIST_INFO:
        return "info";
    case ASSIST_WARN:
        return "warn";
    case ASSIST_BLOCK:
        return "block";
    }
    return "info";
}

static void free_list(char **l, int n)
{
    for (int i = 0; i < n; i++)
        free(l[i]);
    free(l);
}

static void rule_free(rule *r)
{
    free(r->text);
    free(r->sc.case_types);
    free(r->sc.steps);
    free(r->sc.channels);
    for (int i = 0; i < r->nphrases; i++) {
        free(r->phrases[i]);
        free(r->folded[i]);
    }
    free(r->phrases);
    free(r->folded);
    free_list(r->triggers, r->ntriggers);
    for (int i = 0; i < r->ntopics; i++)
        free_list(r->topics[i].folded, r->topics[i].n);
    free(r->topics);
}

void assist_rules_destroy(assist_rules *r)
{
    if (r == NULL)
        return;
    for (int i = 0; i < r->nrules; i++)
        rule_free(&r->rules[i]);
    free(r->rules);
    for (int i = 0; i < r->nreplies; i++)
        free(r->replies[i].text);
    free(r->replies);
    for (int i = 0; i < r->nhints; i++)
        free(r->hints[i].text);
    free(r->hints);
    free(r);
}

bool assist_utc_offset_parse(const char *s, int *minutes)
{
    int sign, h, m;

    if (strcmp(s, "Z") == 0) {
        *minutes = 0;
        return true;
    }
    if (strlen(s) != 6 || (s[0] != '+' && s[0] != '-') || s[3] != ':')
        return false;
    for (int i = 1; i < 6; i++)
        if (i != 3 && (s[i] < '0' || s[i] > '9'))
            return false;
    sign = s[0] == '-' ? -1 : 1;
    h = (s[1] - '0') * 10 + (s[2] - '0');
    m = (s[4] - '0') * 10 + (s[5] - '0');
    if (m > 59 || h * 60 + m > 14 * 60)
        return false;
    *minutes = sign * (h * 60 + m);
    return true;
}

/* "HH:MM" (00:00..24:00) into minutes after midnight. */
static bool clock_parse(const char *s, int *minutes)
{
    int h, m;

    if (strlen(s) != 5 || s[2] != ':')
        return false;
    for (int i = 0; i < 5; i++)
        if (i != 2 && (s[i] < '0' || s[i] > '9'))
            return false;
    h = (s[0] - '0') * 10 + (s[1] - '0');
    m = (s[3] - '0') * 10 + (s[4] - '0');
    if (m > 59 || h > 24 || (h == 24 && m != 0))
        return false;
    *minutes = h * 60 + m;
    return true;
}

/* Length of the UTF-8 character starting with byte c (1 for stray
 * bytes), for the folding below. */
static size_t char_len(unsigned char c)
{
    return c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
}

/*
 * Fold s for matching into a new string: ASCII letters lowercased,
 * full-width ASCII (U+FF01..U+FF5E) mapped to ASCII, every run of white
 * space (ASCII, U+3000) made one space, leading and trailing space
 * dropped. The result is never longer than s. NULL when out of memory.
 */
static char *fold(const char *s)
{
    size_t n = strlen(s), w = 0;
    char *out = malloc(n + 1);
    bool space = false;

    if (out == NULL)
        return NULL;
    for (size_t i = 0; i < n;) {
        const unsigned char *p = (const unsigned char *)s + i;
        size_t cl = char_len(p[0]);
        int ascii = -1;

        if (cl > n - i)
            cl = 1;
        if (p[0] < 0x80)
            ascii = p[0];
        else if (cl == 3 && p[0] == 0xEF && (p[1] == 0xBC || p[1] == 0xBD)) {
            /* U+FF01..U+FF5E are EF BC 81..EF BD 9E. */
            unsigned cp =
                ((p[0] & 0x0Fu) << 12) | ((p[1] & 0x3Fu) << 6) | (p[2] & 0x3Fu);
            if (cp >= 0xFF01 && cp <= 0xFF5E)
                ascii = (int)(cp - 0xFF01 + 0x21);
        } else if (cl == 3 && p[0] == 0xE3 && p[1] == 0x80 && p[2] == 0x80) {
            ascii = ' '; /* U+3000 ideographic space */
        }
        if (ascii == ' ' || ascii == '\t' || ascii == '\n' || ascii == '\r') {
            space = w > 0;
            i += cl;
            continue;
        }
        if (space) {
            out[w++] = ' ';
            space = false;
        }
        if (ascii >= 0) {
            out[w++] =
                (char)(ascii >= 'A' && ascii <= 'Z' ? ascii + 32 : ascii);
        } else {
            memcpy(out + w, p, cl);
            w += cl;
        }
        i += cl;
    }
    out[w] = '\0';
    return out;
}

static bool in_scope(const char *list, const char *v)
{
    char key[ID_MAX + 3];

    if (list == NULL)
        return true;
    if (v == NULL || strlen(v) > ID_MAX)
        return false;
    snprintf(key, sizeof(key), "|%s|", v);
    return strstr(list, key) != NULL;
}

static bool applies(const rule *r, const assist_rules_ctx *c)
{
    return in_scope(r->sc.case_types, c->case_type) &&
           in_scope(r->sc.steps, c->step) &&
           in_scope(r->sc.channels, c->channel);
}

/* Parse the optional array of identifiers obj.name into *out. */
static status parse_scope(const json_t *obj, const char *name,
                          const char *where, char **out, err *e)
{
    const json_t *a = json_object_get(obj, name);
    size_t i, n;
    json_t *v;
    char *s;

    if (a == NULL)
        return ST_OK;
    n = json_array_size(a);
    if (n == 0)
        return err_set(e, ST_INVALID,
                       "%s.%s is empty; leave it out to mean every value",
                       where, name);
    if (n > ASSIST_SCOPE_MAX)
        return err_set(e, ST_TOO_LARGE, "%s.%s has more than %d entries", where,
                       name, ASSIST_SCOPE_MAX);
    s = calloc(1, n * (ID_MAX + 1) + 2);
    if (s == NULL)
        return err_set(e, ST_NOMEM, "out of memory");
    strcpy(s, "|");
    json_array_foreach(a, i, v)
    {
        const char *t = json_string_value(v);

        if (t == NULL || !ids_token_valid(t)) {
            free(s);
            return err_set(e, ST_INVALID,
                           "%s.%s[%zu] must be an identifier (1-64 letters, "
                           "digits, '_' or '-')",
                           where, name, i);
        }
        strcat(s, t);
        strcat(s, "|");
    }
    *out = s;
    return ST_OK;
}

static status parse_text(const json_t *obj, const char *name, const char *where,
                         size_t max, char **out, err *e)
{
    const char *t = jsonx_str(obj, name);

    if (t == NULL)
        return ST_OK;
    if (t[0] == '\0')
        return err_set(e, ST_INVALID, "%s.%s is empty", where, name);
    if (strlen(t) > max)
        return err_set(e, ST_TOO_LARGE, "%s.%s has more than %zu bytes", where,
                       name, max);
    *out = strdup(t);
    if (*out == NULL)
        return err_set(e, ST_NOMEM, "out of memory");
    return ST_OK;
}

/* A "withholds" entry: "reply", or a dotted path of identifiers under one
 * of the task's parts the assist panel suggests from. */
static bool withhold_valid(const char *s)
{
    static const char *const roots[] = {"customer", "payload", "history",
                                        "external_id", "outcomes"};
    size_t n = strlen(s), root = strcspn(s, ".");
    bool known = false;

    if (strcmp(s, "reply") == 0)
        return true;
    if (n == 0 || n > ASSIST_WITHHOLD_MAX)
        return false;
    for (size_t i = 0; i < sizeof(roots) / sizeof(roots[0]); i++)
        known = known ||
                (strlen(roots[i]) == root && strncmp(s, roots[i], root) == 0);
    if (!known)
        return false;
    for (const char *p = s; *p != '\0';) {
        size_t seg = strcspn(p, ".");
        char id[ID_MAX + 1];

        if (seg == 0 || seg > ID_MAX)
            return false;
        memcpy(id, p, seg);
        id[seg] = '\0';
        if (!ids_token_valid(id))
            return false;
        p += seg;
        if (*p == '.' && *++p == '\0')
            return false;
    }
    return true;
}

/* The optional list obj.withholds into out->withholds; it needs the
 * acknowledgement that releases it. */
static status parse_withholds(const json_t *obj, const char *where, rule *out,
                              err *e)
{
    const json_t *a = json_object_get(obj, "withholds");
    size_t n = json_array_size(a), i, used = 1;
    json_t *v;

    if (a == NULL)
        return ST_OK;
    if (n == 0)
        return err_set(e, ST_INVALID,
                       "%s.withholds is empty; leave it out to withhold "
                       "nothing",
                       where);
    if (n > ASSIST_WITHHOLDS_MAX)
        return err_set(e, ST_TOO_LARGE, "%s.withholds has more than %d entries",
                       where, ASSIST_WITHHOLDS_MAX);
    if (!out->ack_required)
        return err_set(e, ST_INVALID,
                       "%s.withholds needs \"ack_required\": true: only an "
                       "acknowledgement releases what a rule withholds",
                       where);
    strcpy(out->withholds, " ");
    json_array_foreach(a, i, v)
    {
        const char *t = json_string_value(v);

        if (t == NULL || !withhold_valid(t))
            return err_set(
                e, ST_INVALID,
                "%s.withholds[%zu] must be \"reply\" or a dotted "
                "path under customer, payload, history, "
                "external_id or outcomes (\"payload.overdue_minor\", "
                "\"outcomes.paid\")",
                where, i);
        if (used + strlen(t) + 1 > ASSIST_WITHHOLDS_TEXT_MAX)
            return err_set(e, ST_TOO_LARGE,
                           "%s.withholds has more than %d bytes in all", where,
                           ASSIST_WITHHOLDS_TEXT_MAX - 2);
        strcat(out->withholds, t);
        strcat(out->withholds, " ");
        used += strlen(t) + 1;
    }
    return ST_OK;
}

static status parse_common(const json_t *obj, const char *where,
                           const assist_rules *r, rule *out, err *e)
{
    const char *id = jsonx_str(obj, "id");
    const char *sev = jsonx_str(obj, "severity");
    const json_t *ack = json_object_get(obj, "ack_required");
    status st;

    if (!ids_token_valid(id))
        return err_set(e, ST_INVALID,
                       "%s.id must be 1-64 letters, digits, '_' or '-'", where);
    for (int i = 0; i < r->nrules; i++)
        if (strcmp(r->rules[i].id, id) == 0)
            return err_set(e, ST_INVALID,
                           "%s.id \"%s\" is used by another rule; rule ids "
                           "must be unique (prompts are acknowledged by id)",
                           where, id);
    snprintf(out->id, sizeof(out->id), "%s", id);
    if (sev == NULL || strcmp(sev, "warn") == 0)
        out->severity = ASSIST_WARN;
    else if (strcmp(sev, "info") == 0)
        out->severity = ASSIST_INFO;
    else if (strcmp(sev, "block") == 0)
        out->severity = ASSIST_BLOCK;
    else
        return err_set(e, ST_INVALID,
                       "%s.severity must be \"info\", \"warn\" or \"block\"",
                       where);
    out->ack_required = ack != NULL && json_is_true(ack);
    if ((st = parse_text(obj, "text", where, ASSIST_RULE_TEXT_MAX, &out->text,
                         e)) != ST_OK ||
        (st = parse_scope(obj, "case_types", where, &out->sc.case_types, e)) !=
            ST_OK ||
        (st = parse_scope(obj, "steps", where, &out->sc.steps, e)) != ST_OK ||
        (st = parse_scope(obj, "channels", where, &out->sc.channels, e)) !=
            ST_OK)
        return st;
    return parse_withholds(obj, where, out, e);
}

static status parse_hours(const json_t *obj, const char *where, rule *out,
                          err *e)
{
    if (!clock_parse(jsonx_str(obj, "from"), &out->from_min))
        return err_set(e, ST_INVALID, "%s.from must be a time \"HH:MM\"",
                       where);
    if (!clock_parse(jsonx_str(obj, "to"), &out->to_min))
        return err_set(e, ST_INVALID, "%s.to must be a time \"HH:MM\"", where);
    if (out->from_min == out->to_min)
        return err_set(e, ST_INVALID,
                       "%s: from and to are equal; leave the rule out to "
                       "allow contact at any time",
                       where);
    return ST_OK;
}

static status parse_phrases(const json_t *obj, const char *where, rule *out,
                            err *e)
{
    const json_t *a = json_object_get(obj, "phrases");
    size_t n = json_array_size(a), i;
    json_t *v;

    if (n == 0)
        return err_set(e, ST_INVALID, "%s.phrases is empty", where);
    if (n > ASSIST_PHRASES_MAX)
        return err_set(e, ST_TOO_LARGE, "%s.phrases has more than %d entries",
                       where, ASSIST_PHRASES_MAX);
    out->phrases = calloc(n, sizeof(*out->phrases));
    out->folded = calloc(n, sizeof(*out->folded));
    if (out->phrases == NULL || out->folded == NULL)
        return err_set(e, ST_NOMEM, "out of memory");
    json_array_foreach(a, i, v)
    {
        const char *t = json_string_value(v);

        if (t == NULL)
            return err_set(e, ST_WRONG_TYPE, "%s.phrases[%zu] must be a string",
                           where, i);
        if (strlen(t) > ASSIST_PHRASE_MAX)
            return err_set(e, ST_TOO_LARGE,
                           "%s.phrases[%zu] has more than %d bytes", where, i,
                           ASSIST_PHRASE_MAX);
        out->phrases[i] = strdup(t);
        out->folded[i] = fold(t);
        out->nphrases = (int)i + 1;
        if (out->phrases[i] == NULL || out->folded[i] == NULL)
            return err_set(e, ST_NOMEM, "out of memory");
        if (out->folded[i][0] == '\0')
            return err_set(e, ST_INVALID, "%s.phrases[%zu] is blank", where, i);
    }
    return ST_OK;
}

/* Parse the array a of phrases (where names it in messages) into new
 * folded strings *out, *n of them; a partial list is left for the caller
 * to free. */
static status parse_folded(const json_t *a, const char *where, char ***out,
                           int *n, err *e)
{
    size_t cnt = json_array_size(a), i;
    json_t *v;

    if (!json_is_array(a))
        return err_set(e, ST_WRONG_TYPE, "%s must be an array of phrases",
                       where);
    if (cnt == 0)
        return err_set(e, ST_INVALID, "%s is empty", where);
    if (cnt > ASSIST_PHRASES_MAX)
        return err_set(e, ST_TOO_LARGE, "%s has more than %d entries", where,
                       ASSIST_PHRASES_MAX);
    *out = calloc(cnt, sizeof(**out));
    if (*out == NULL)
        return err_set(e, ST_NOMEM, "out of memory");
    json_array_foreach(a, i, v)
    {
        const char *t = json_string_value(v);

        if (t == NULL)
            return err_set(e, ST_WRONG_TYPE, "%s[%zu] must be a string", where,
                           i);
        if (strlen(t) > ASSIST_PHRASE_MAX)
            return err_set(e, ST_TOO_LARGE, "%s[%zu] has more than %d bytes",
                           where, i, ASSIST_PHRASE_MAX);
        (*out)[i] = fold(t);
        *n = (int)i + 1;
        if ((*out)[i] == NULL)
            return err_set(e, ST_NOMEM, "out of memory");
        if ((*out)[i][0] == '\0')
            return err_set(e, ST_INVALID, "%s[%zu] is blank", where, i);
    }
    return ST_OK;
}

static status parse_document(const json_t *obj, const char *where, rule *out,
                             err *e)
{
    json_t *trig = json_object_get(obj, "applies_if");
    json_t *mm = json_object_get(obj, "must_mention");
    size_t n = json_object_size(mm);
    char w[WHERE_MAX + ID_MAX + 16];
    const char *name;
    json_t *v;
    status st;

    if (trig != NULL) {
        snprintf(w, sizeof(w), "%s.applies_if", where);
        st = parse_folded(trig, w, &out->triggers, &out->ntriggers, e);
        if (st != ST_OK)
            return st;
    }
    if (n == 0)
        return err_set(e, ST_INVALID,
                       "%s.must_mention is empty; name at least one topic",
                       where);
    if (n > ASSIST_TOPICS_MAX)
        return err_set(e, ST_TOO_LARGE,
                       "%s.must_mention has more than %d topics", where,
                       ASSIST_TOPICS_MAX);
    out->topics = calloc(n, sizeof(*out->topics));
    if (out->topics == NULL)
        return err_set(e, ST_NOMEM, "out of memory");
    json_object_foreach(mm, name, v)
    {
        topic *t = &out->topics[out->ntopics];

        if (!ids_token_valid(name))
            return err_set(e, ST_INVALID,
                           "%s.must_mention has topic \"%.64s\"; topics are "
                           "1-64 letters, digits, '_' or '-'",
                           where, name);
        snprintf(t->name, sizeof(t->name), "%s", name);
        out->ntopics++;
        snprintf(w, sizeof(w), "%s.must_mention.%s", where, name);
        if ((st = parse_folded(v, w, &t->folded, &t->n, e)) != ST_OK)
            return st;
    }
    return ST_OK;
}

static const jfield hours_fields[] = {
    {"id", JF_TOKEN, true},         {"case_types", JF_ARRAY, false},
    {"steps", JF_ARRAY, false},     {"channels", JF_ARRAY, false},
    {"from", JF_STRING, true},      {"to", JF_STRING, true},
    {"severity", JF_STRING, false}, {"ack_required", JF_BOOL, false},
    {"text", JF_STRING, false},     {"withholds", JF_ARRAY, false},
};
static const jfield phrase_fields[] = {
    {"id", JF_TOKEN, true},           {"case_types", JF_ARRAY, false},
    {"steps", JF_ARRAY, false},       {"channels", JF_ARRAY, false},
    {"phrases", JF_ARRAY, true},      {"severity", JF_STRING, false},
    {"ack_required", JF_BOOL, false}, {"text", JF_STRING, true},
    {"withholds", JF_ARRAY, false},
};
static const jfield disclosure_fields[] = {
    {"id", JF_TOKEN, true},         {"case_types", JF_ARRAY, false},
    {"steps", JF_ARRAY, false},     {"channels", JF_ARRAY, false},
    {"severity", JF_STRING, false}, {"ack_required", JF_BOOL, false},
    {"text", JF_STRING, true},      {"withholds", JF_ARRAY, false},
};
static const jfield document_fields[] = {
    {"id", JF_TOKEN, true},
    {"case_types", JF_ARRAY, false},
    {"steps", JF_ARRAY, false},
    {"channels", JF_ARRAY, false},
    {"severity", JF_STRING, false},
    {"ack_required", JF_BOOL, false},
    {"text", JF_STRING, true},
    {"applies_if", JF_ARRAY, false},
    {"must_mention", JF_OBJECT, true},
    {"withholds", JF_ARRAY, false},
};
static const jfield reply_fields[] = {
    {"case_type", JF_TOKEN, true},
    {"step", JF_TOKEN, false},
    {"language", JF_TOKEN, false},
    {"text", JF_STRING, true},
};
static const jfield tz_fields[] = {
    {"default_utc_offset", JF_STRING, false},
    {"by_phone_prefix", JF_OBJECT, false},
};
static const jfield top_fields[] = {
    {"tenant", JF_TOKEN, true},
    {"currency", JF_TOKEN, false},
    {"time_zone", JF_OBJECT, false},
    {"contact_hours", JF_ARRAY, false},
    {"forbidden_phrases", JF_ARRAY, false},
    {"disclosures", JF_ARRAY, false},
    {"document_checks", JF_ARRAY, false},
    {"replies", JF_ARRAY, false},
    {"query_hints", JF_ARRAY, false},
};
#define NF(a) ((int)(sizeof(a) / sizeof((a)[0])))

static status parse_rules(assist_rules *r, const json_t *root,
                          const char *section, rule_kind kind, size_t max,
                          err *e)
{
    const json_t *a = json_object_get(root, section);
    size_t n = json_array_size(a), i;
    json_t *obj;
    rule *grown;

    if (n > max)
        return err_set(e, ST_TOO_LARGE, "%s has more than %zu rules", section,
                       max);
    if (n == 0)
        return ST_OK;
    grown = realloc(r->rules, ((size_t)r->nrules + n) * sizeof(*grown));
    if (grown == NULL)
        return err_set(e, ST_NOMEM, "out of memory");
    r->rules = grown;
    json_array_foreach(a, i, obj)
    {
        char where[WHERE_MAX];
        rule *ru = &r->rules[r->nrules];
        const jfield *f = kind == R_HOURS      ? hours_fields
                          : kind == R_PHRASES  ? phrase_fields
                          : kind == R_DOCUMENT ? document_fields
                                               : disclosure_fields;
        int nf = kind == R_HOURS      ? NF(hours_fields)
                 : kind == R_PHRASES  ? NF(phrase_fields)
                 : kind == R_DOCUMENT ? NF(document_fields)
                                      : NF(disclosure_fields);
        status st;

        snprintf(where, sizeof(where), "%s[%zu]", section, i);
        if (!json_is_object(obj))
            return err_set(e, ST_WRONG_TYPE, "%s must be an object", where);
        if ((st = jsonx_check(obj, where, f, nf, e)) != ST_OK)
            return st;
        memset(ru, 0, sizeof(*ru));
        ru->kind = kind;
        /* Counted before parsing so that rules_destroy frees a partial
         * rule; the id check above runs on the earlier ones only. */
        st = parse_common(obj, where, r, ru, e);
        r->nrules++;
        if (st == ST_OK && kind == R_HOURS)
            st = parse_hours(obj, where, ru, e);
        if (st == ST_OK && kind == R_PHRASES)
            st = parse_phrases(obj, where, ru, e);
        if (st == ST_OK && kind == R_DOCUMENT)
            st = parse_document(obj, where, ru, e);
        if (st != ST_OK)
            return st;
    }
    return ST_OK;
}

/* Parse the optional array section of templates chosen by case type, step
 * and language ("replies", "query_hints") into *out / *n. */
static status parse_templates(const json_t *root, const char *section,
                              size_t max_text, reply_tmpl **out, int *count,
                              err *e)
{
    const json_t *a = json_object_get(root, section);
    size_t n = json_array_size(a), i;
    json_t *obj;

    if (n > ASSIST_REPLIES_MAX)
        return err_set(e, ST_TOO_LARGE, "%s has more than %d entries", section,
                       ASSIST_REPLIES_MAX);
    if (n == 0)
        return ST_OK;
    *out = calloc(n, sizeof(**out));
    if (*out == NULL)
        return err_set(e, ST_NOMEM, "out of memory");
    json_array_foreach(a, i, obj)
    {
        char where[WHERE_MAX];
        reply_tmpl *t = &(*out)[i];
        const char *step, *lang;
        status st;

        snprintf(where, sizeof(where), "%s[%zu]", section, i);
        if (!json_is_object(obj))
            return err_set(e, ST_WRONG_TYPE, "%s must be an object", where);
        if ((st = jsonx_check(obj, where, reply_fields, NF(reply_fields), e)) !=
            ST_OK)
            return st;
        snprintf(t->case_type, sizeof(t->case_type), "%s",
                 jsonx_str(obj, "case_type"));
        step = jsonx_str(obj, "step");
        lang = jsonx_str(obj, "language");
        snprintf(t->step, sizeof(t->step), "%s", step != NULL ? step : "");
        snprintf(t->language, sizeof(t->language), "%s",
                 lang != NULL ? lang : "");
        *count = (int)i + 1;
        if ((st = parse_text(obj, "text", where, max_text, &t->text, e)) !=
            ST_OK)
            return st;
    }
    return ST_OK;
}

static status parse_time_zone(assist_rules *r, const json_t *root, err *e)
{
    const json_t *tz = json_object_get(root, "time_zone");
    const json_t *map;
    const char *def, *key;
    json_t *v;
    status st;

    if (tz == NULL)
        return ST_OK;
    if ((st = jsonx_check(tz, "time_zone", tz_fields, NF(tz_fields), e)) !=
        ST_OK)
        return st;
    def = jsonx_str(tz, "default_utc_offset");
    if (def != NULL) {
        if (!assist_utc_offset_parse(def, &r->default_offset))
            return err_set(e, ST_INVALID,
                           "time_zone.default_utc_offset must be \"+HH:MM\" "
                           "or \"-HH:MM\" (at most 14:00), not \"%.32s\"",
                           def);
        r->has_default = true;
    }
    map = json_object_get(tz, "by_phone_prefix");
    if (json_object_size(map) > ASSIST_PREFIXES_MAX)
        return err_set(e, ST_TOO_LARGE,
                       "time_zone.by_phone_prefix has more than %d entries",
                       ASSIST_PREFIXES_MAX);
    json_object_foreach((json_t *)map, key, v)
    {
        prefix_offset *p = &r->prefixes[r->nprefixes];
        const char *off = json_string_value(v);
        size_t kl = strlen(key);

        if (kl < 2 || kl > PREFIX_MAX || key[0] != '+' ||
            strspn(key + 1, "0123456789") != kl - 1)
            return err_set(e, ST_INVALID,
                           "time_zone.by_phone_prefix key \"%.32s\" must be "
                           "\"+\" and 1-%d digits",
                           key, PREFIX_MAX - 1);
        if (off == NULL || !assist_utc_offset_parse(off, &p->offset))
            return err_set(e, ST_INVALID,
                           "time_zone.by_phone_prefix.%s must be \"+HH:MM\" "
                           "or \"-HH:MM\"",
                           key);
        memcpy(p->prefix, key, kl + 1);
        r->nprefixes++;
    }
    return ST_OK;
}

status assist_rules_parse(assist_rules **out, const char *buf, size_t len,
                          const char *name, err *e)
{
    assist_rules *r = NULL;
    json_t *root = NULL;
    status st;

    if ((st = jsonx_parse(buf, len, ASSIST_RULES_FILE_MAX, &root, e)) != ST_OK)
        goto out;
    r = calloc(1, sizeof(*r));
    if (r == NULL) {
        st = err_set(e, ST_NOMEM, "out of memory");
        goto out;
    }
    if ((st = jsonx_check(root, "rules", top_fields, NF(top_fields), e)) !=
        ST_OK)
        goto out;
    snprintf(r->tenant, sizeof(r->tenant), "%s", jsonx_str(root, "tenant"));
    if (jsonx_str(root, "currency") != NULL) {
        if ((st = money_currency_check(jsonx_str(root, "currency"), e)) !=
            ST_OK) {
            err_wrap(e, "rules.currency");
            goto out;
        }
        snprintf(r->currency, sizeof(r->currency), "%s",
                 jsonx_str(root, "currency"));
    }
    if ((st = parse_time_zone(r, root, e)) != ST_OK ||
        (st = parse_rules(r, root, "contact_hours", R_HOURS,
                          ASSIST_HOURS_RULES_MAX, e)) != ST_OK ||
        (st = parse_rules(r, root, "forbidden_phrases", R_PHRASES,
                          ASSIST_PHRASE_RULES_MAX, e)) != ST_OK ||
        (st = parse_rules(r, root, "disclosures", R_DISCLOSURE,
                          ASSIST_DISCLOSURES_MAX, e)) != ST_OK ||
        (st = parse_rules(r, root, "document_checks", R_DOCUMENT,
                          ASSIST_DOC_CHECKS_MAX, e)) != ST_OK ||
        (st = parse_templates(root, "replies", ASSIST_TEMPLATE_MAX, &r->replies,
                              &r->nreplies, e)) != ST_OK ||
        (st = parse_templates(root, "query_hints", ASSIST_HINT_MAX, &r->hints,
                              &r->nhints, e)) != ST_OK)
        goto out;
    *out = r;
    r = NULL;
out:
    if (st != ST_OK)
        err_wrap(e, "%s", name);
    json_decref(root);
    assist_rules_destroy(r);
    return st;
}

status assist_rules_load(assist_rules **out, const char *path, err *e)
{
    char *buf = NULL;
    size_t len = 0;
    status st =
        fileio_read(path, ASSIST_RULES_FILE_MAX, "rules file", &buf, &len, e);

    if (st == ST_OK)
        st = assist_rules_parse(out, buf, len, path, e);
    free(buf);
    return st;
}

const char *assist_rules_tenant(const assist_rules *r)
{
    return r->tenant;
}

const char *assist_rules_currency(const assist_rules *r)
{
    return r->currency;
}

int assist_rules_utc_offset(const assist_rules *r, const char *explicit_offset,
                            const char *phone, bool *known)
{
    int off, best = -1;
    size_t best_len = 0;

    *known = true;
    if (explicit_offset != NULL &&
        assist_utc_offset_parse(explicit_offset, &off))
        return off;
    for (int i = 0; phone != NULL && i < r->nprefixes; i++) {
        size_t pl = strlen(r->prefixes[i].prefix);
        if (pl > best_len && strncmp(phone, r->prefixes[i].prefix, pl) == 0) {
            best = i;
            best_len = pl;
        }
    }
    if (best >= 0)
        return r->prefixes[best].offset;
    if (r->has_default)
        return r->default_offset;
    *known = false;
    return 0;
}

/* Copy text into the prompt, cut at a character boundary with "..." when
 * it does not fit. */
static void prompt_text(assist_prompt *p, const char *text)
{
    size_t n = strlen(text), max = sizeof(p->text) - 1;

    if (n > max) {
        n = max - 3;
        while (n > 0 && ((unsigned char)text[n] & 0xC0) == 0x80)
            n--;
        memcpy(p->text, text, n);
        memcpy(p->text + n, "...", 4);
        return;
    }
    memcpy(p->text, text, n + 1);
}

static assist_prompt *prompt_add(assist_prompts *out, const rule *r,
                                 assist_severity sev, bool ack)
{
    assist_prompt *p;

    if (out->n == ASSIST_PROMPTS_MAX) {
        out->truncated = true;
        return NULL;
    }
    p = &out->items[out->n++];
    memset(p, 0, sizeof(*p));
    snprintf(p->id, sizeof(p->id), "%s", r->id);
    p->severity = sev;
    p->ack_required = ack;
    if (ack)
        snprintf(p->withholds, sizeof(p->withholds), "%s", r->withholds);
    return p;
}

static bool within(int from, int to, int m)
{
    return from < to ? m >= from && m < to : m >= from || m < to;
}

static void hours_prompt(const rule *r, const assist_rules_ctx *c, int64_t now,
                         assist_prompts *out)
{
    int64_t local = now + (int64_t)c->utc_offset_min * 60;
    int m = (int)(((local % 86400) + 86400) % 86400 / 60);
    int ao = c->utc_offset_min < 0 ? -c->utc_offset_min : c->utc_offset_min;
    char zone[48], msg[ASSIST_PROMPT_TEXT_MAX + 1];
    bool ok = within(r->from_min, r->to_min, m);
    assist_prompt *p;

    if (c->offset_known)
        snprintf(zone, sizeof(zone), "UTC%c%02d:%02d",
                 c->utc_offset_min < 0 ? '-' : '+', ao / 60, ao % 60);
    else
        snprintf(zone, sizeof(zone), "time zone unknown, UTC assumed");
    if (ok)
        snprintf(msg, sizeof(msg),
                 "Within contact hours: it is %02d:%02d for the customer "
                 "(%s); contact is allowed %02d:%02d-%02d:%02d.",
                 m / 60, m % 60, zone, r->from_min / 60, r->from_min % 60,
                 r->to_min / 60, r->to_min % 60);
    else
        snprintf(msg, sizeof(msg),
                 "Outside contact hours: it is %02d:%02d for the customer "
                 "(%s); contact is allowed only %02d:%02d-%02d:%02d. %s",
                 m / 60, m % 60, zone, r->from_min / 60, r->from_min % 60,
                 r->to_min / 60, r->to_min % 60,
                 r->text != NULL ? r->text : "");
    /* Inside the hours the prompt is a reminder, but an unknown zone is
     * worth a warning. */
    p = prompt_add(out, r,
                   ok ? (c->offset_known ? ASSIST_INFO : ASSIST_WARN)
                      : r->severity,
                   ok ? false : r->ack_required);
    if (p != NULL)
        prompt_text(p, msg);
}

void assist_rules_check(const assist_rules *r, const assist_rules_ctx *ctx,
                        int64_t now, assist_prompts *out)
{
    out->n = 0;
    out->truncated = false;
    for (int i = 0; i < r->nrules; i++) {
        const rule *ru = &r->rules[i];
        assist_prompt *p;

        if (!applies(ru, ctx))
            continue;
        if (ru->kind == R_HOURS) {
            hours_prompt(ru, ctx, now, out);
            continue;
        }
        p = prompt_add(out, ru, ru->severity, ru->ack_required);
        if (p != NULL)
            prompt_text(p, ru->text);
    }
}

int assist_rules_check_draft(const assist_rules *r, const assist_rules_ctx *ctx,
                             const char *draft, assist_prompts *out)
{
    char *folded = fold(draft);
    int found = 0;

    /* Without memory the draft cannot be checked: say so as a block. */
    if (folded == NULL) {
        if (out->n < ASSIST_PROMPTS_MAX) {
            assist_prompt *p = &out->items[out->n++];
            memset(p, 0, sizeof(*p));
            snprintf(p->id, sizeof(p->id), "draft_check");
            p->severity = ASSIST_BLOCK;
            prompt_text(p, "The draft could not be checked (out of memory).");
        }
        return 1;
    }
    for (int i = 0; i < r->nrules; i++) {
        const rule *ru = &r->rules[i];

        if (ru->kind != R_PHRASES || !applies(ru, ctx))
            continue;
        for (int j = 0; j < ru->nphrases; j++) {
            char msg[ASSIST_PROMPT_TEXT_MAX + 1];
            assist_prompt *p;

            if (strstr(folded, ru->folded[j]) == NULL)
                continue;
            found++;
            p = prompt_add(out, ru, ASSIST_BLOCK, false);
            if (p == NULL)
                continue;
            snprintf(msg, sizeof(msg),
                     "The draft contains the forbidden phrase \"%s\"; "
                     "rephrase it. %s",
                     ru->phrases[j], ru->text);
            prompt_text(p, msg);
        }
    }
    free(folded);
    return found;
}

static bool mentions(const char *folded, char *const *list, int n)
{
    for (int i = 0; i < n; i++)
        if (strstr(folded, list[i]) != NULL)
            return true;
    return false;
}

/* The phrases of rule ru found in folded, into out. */
static void document_phrases(const rule *ru, const char *folded,
                             assist_doc_findings *out)
{
    for (int j = 0; j < ru->nphrases; j++) {
        bool block = ru->severity == ASSIST_BLOCK;
        int *count = block ? &out->breaches : &out->cautions;
        char *first = block ? out->breach : out->caution;

        if (strstr(folded, ru->folded[j]) == NULL)
            continue;
        if ((*count)++ == 0)
            snprintf(first, sizeof(out->breach), "%s: \"%s\"", ru->id,
                     ru->phrases[j]);
    }
}

/* The topics of document check ru that folded mentions or lacks. */
static void document_topics(const rule *ru, const char *folded,
                            assist_doc_findings *out)
{
    bool block = ru->severity == ASSIST_BLOCK;

    if (ru->ntriggers > 0 && !mentions(folded, ru->triggers, ru->ntriggers))
        return;
    out->checks++;
    for (int t = 0; t < ru->ntopics; t++) {
        const topic *tp = &ru->topics[t];
        char *first = block ? out->gap : out->caution;
        int *count = block ? &out->missing : &out->cautions;

        if (mentions(folded, tp->folded, tp->n)) {
            out->mentioned++;
            continue;
        }
        if ((*count)++ == 0)
            snprintf(first, sizeof(out->gap), "%s: no %s", ru->id, tp->name);
    }
}

status assist_rules_check_document(const assist_rules *r,
                                   const assist_rules_ctx *ctx,
                                   const char *text, assist_doc_findings *out,
                                   err *e)
{
    char *folded = fold(text);

    if (folded == NULL)
        return err_set(e, ST_NOMEM, "out of memory");
    memset(out, 0, sizeof(*out));
    for (int i = 0; i < r->nrules; i++) {
        const rule *ru = &r->rules[i];

        if (!applies(ru, ctx))
            continue;
        if (ru->kind == R_PHRASES)
            document_phrases(ru, folded, out);
        else if (ru->kind == R_DOCUMENT)
            document_topics(ru, folded, out);
    }
    free(folded);
    return ST_OK;
}

static const char *choose(const reply_tmpl *list, int n, const char *case_type,
                          const char *step, const char *language)
{
    const reply_tmpl *best = NULL;
    int best_rank = -1;

    for (int i = 0; i < n; i++) {
        const reply_tmpl *t = &list[i];
        int rank = 0;

        if (case_type == NULL || strcmp(t->case_type, case_type) != 0)
            continue;
        if (t->step[0] != '\0') {
            if (step == NULL || strcmp(t->step, step) != 0)
                continue;
            rank += 2;
        }
        if (t->language[0] != '\0') {
            if (language == NULL || strcmp(t->language, language) != 0)
                continue;
            rank += 1;
        }
        if (rank > best_rank) {
            best = t;
            best_rank = rank;
        }
    }
    return best != NULL ? best->text : NULL;
}

const char *assist_rules_reply(const assist_rules *r, const char *case_type,
                               const char *step, const char *language)
{
    return choose(r->replies, r->nreplies, case_type, step, language);
}

const char *assist_rules_query_hint(const assist_rules *r,
                                    const char *case_type, const char *step,
                                    const char *language)
{
    return choose(r->hints, r->nhints, case_type, step, language);
}

status assist_prompts_ack(assist_prompts *p, const char *id, err *e)
{
    bool found = false;

    for (int i = 0; i < p->n; i++) {
        if (strcmp(p->items[i].id, id) == 0) {
            p->items[i].acked = true;
            found = true;
        }
    }
    if (!found)
        return err_set(e, ST_NOT_FOUND, "no prompt has the id \"%.64s\"", id);
    return ST_OK;
}

bool assist_prompts_all_acked(const assist_prompts *p)
{
    for (int i = 0; i < p->n; i++)
        if (p->items[i].ack_required && !p->items[i].acked)
            return false;
    return true;
}

bool assist_prompts_withheld(const assist_prompts *p, const char *path,
                             const char **by)
{
    char key[ASSIST_WITHHOLD_MAX + 3];
    size_t n = strlen(path);

    if (n == 0)
        return false;
    for (int i = 0; i < p->n; i++) {
        const assist_prompt *pr = &p->items[i];

        if (!pr->ack_required || pr->acked || pr->withholds[0] == '\0')
            continue;
        /* The path itself, or any path above it, between spaces. */
        for (size_t cut = n; cut > 0; cut--) {
            if (cut < n && path[cut] != '.')
                continue;
            if (cut > ASSIST_WITHHOLD_MAX)
                continue;
            snprintf(key, sizeof(key), " %.*s ", (int)cut, path);
            if (strstr(pr->withholds, key) != NULL) {
                if (by != NULL)
                    *by = pr->id;
                return true;
            }
        }
    }
    return false;
}

const char *assist_rules_forbidden_in(const assist_rules *r,
                                      const assist_rules_ctx *ctx,
                                      const char *text)
{
    char *folded = fold(text);
    const char *id = NULL;

    /* Unchecked text is never suggested as safe. */
    if (folded == NULL)
        return "out_of_memory";
    for (int i = 0; i < r->nrules && id == NULL; i++) {
        const rule *ru = &r->rules[i];

        if (ru->kind != R_PHRASES || !applies(ru, ctx))
            continue;
        for (int j = 0; j < ru->nphrases && id == NULL; j++)
            if (strstr(folded, ru->folded[j]) != NULL)
                id = ru->id;
    }
    free(folded);
    return id;
}
