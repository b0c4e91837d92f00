#include "assist_reply.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "money.h"
#include "sbuf.h"

#define FILTER_MAX 16 /* bytes of a filter name */

/* True when c may appear in a placeholder's path. */
static bool path_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.';
}

/*
 * Parse a placeholder at s (just after "{"): the path into path, the
 * filter (or "") into filter, and return its length up to and including
 * "}"; 0 when s does not start a placeholder.
 */
static size_t placeholder(const char *s, char *path, char *filter)
{
    size_t n = 0, f = 0;

    while (path_char(s[n]) && n < ASSIST_PATH_MAX)
        n++;
    if (n == 0)
        return 0;
    memcpy(path, s, n);
    path[n] = '\0';
    filter[0] = '\0';
    if (s[n] == '|') {
        n++;
        while (s[n + f] >= 'a' && s[n + f] <= 'z' && f < FILTER_MAX)
            f++;
        memcpy(filter, s + n, f);
        filter[f] = '\0';
        n += f;
    }
    return s[n] == '}' ? n + 1 : 0;
}

static void render_value(sbuf *b, const assist_task *t, const char *path,
                         const char *filter, const char *currency, int *missing)
{
    assist_value v;
    bool found = assist_task_value(t, path, &v);

    if (found && filter[0] == '\0') {
        sbuf_append(b, v.s, strlen(v.s));
        return;
    }
    if (found && strcmp(filter, "money") == 0 && v.kind == ASSIST_VALUE_INT) {
        char amount[MONEY_FORMAT_MAX];
        assist_value cur;
        const char *code = currency;

        /* The payload's own currency wins; one that is not an ISO 4217
         * currency would give the amount wrong decimals, so the worker
         * sees it as a value to check instead. */
        if (assist_task_value(t, "payload.currency", &cur)) {
            if (cur.kind != ASSIST_VALUE_STRING ||
                !money_currency_valid(cur.s)) {
                (*missing)++;
                sbuf_printf(b, "[?payload.currency]");
                return;
            }
            code = cur.s;
        }
        money_format_amount(amount, sizeof(amount), code, v.i);
        sbuf_printf(b, "%s%s%s", amount, code != NULL && code[0] ? " " : "",
                    code != NULL ? code : "");
        return;
    }
    (*missing)++;
    if (filter[0] != '\0' && strcmp(filter, "money") != 0)
        sbuf_printf(b, "[?%s|%s]", path, filter);
    else
        sbuf_printf(b, "[?%s]", path);
}

status assist_reply_render(const char *tmpl, const assist_task *t,
                           const char *currency, char **out, int *missing,
                           err *e)
{
    sbuf b = {0};
    int miss = 0;
    const char *p = tmpl;

    while (*p != '\0' && b.len <= ASSIST_REPLY_MAX) {
        char path[ASSIST_PATH_MAX + 1], filter[FILTER_MAX + 1];
        size_t n;

        if ((p[0] == '{' && p[1] == '{') || (p[0] == '}' && p[1] == '}')) {
            sbuf_append(&b, p, 1);
            p += 2;
            continue;
        }
        if (p[0] == '{' && (n = placeholder(p + 1, path, filter)) > 0) {
            render_value(&b, t, path, filter, currency, &miss);
            p += 1 + n;
            continue;
        }
        n = strcspn(p, "{}");
        if (n == 0)
            n = 1;
        sbuf_append(&b, p, n);
        p += n;
    }
    if (b.failed) {
        sbuf_free(&b);
        return err_set(e, ST_NOMEM, "out of memory");
    }
    if (b.len > ASSIST_REPLY_MAX) {
        size_t cut = ASSIST_REPLY_MAX - 3;

        while (cut > 0 && ((unsigned char)b.data[cut] & 0xC0) == 0x80)
            cut--;
        memcpy(b.data + cut, "...", 4);
        b.len = cut + 3;
    }
    if (b.data == NULL)
        sbuf_append(&b, "", 0);
    if (b.failed) {
        sbuf_free(&b);
        return err_set(e, ST_NOMEM, "out of memory");
    }
    if (missing != NULL)
        *missing = miss;
    *out = sbuf_take(&b);
    return ST_OK;
}

/* Length of the template sentence starting at s: up to and including its
 * terminator and the white space after it. */
static size_t sentence_len(const char *s)
{
    size_t i = 0;

    while (s[i] != '\0') {
        char path[ASSIST_PATH_MAX + 1], filter[FILTER_MAX + 1];
        const unsigned char *u = (const unsigned char *)s + i;
        size_t end = 0, n;

        if ((s[i] == '{' && s[i + 1] == '{') ||
            (s[i] == '}' && s[i + 1] == '}')) {
            i += 2;
            continue;
        }
        if (s[i] == '{' && (n = placeholder(s + i + 1, path, filter)) > 0) {
            i += 1 + n;
            continue;
        }
        /* 。 is E3 80 82; ！ EF BC 81; ？ EF BC 9F. */
        if ((u[0] == 0xE3 && u[1] == 0x80 && u[2] == 0x82) ||
            (u[0] == 0xEF && u[1] == 0xBC && (u[2] == 0x81 || u[2] == 0x9F)))
            end = i + 3;
        else if (s[i] == '\n')
            end = i + 1;
        else if ((s[i] == '.' || s[i] == '!' || s[i] == '?') &&
                 (s[i + 1] == ' ' || s[i + 1] == '\n' || s[i + 1] == '\t' ||
                  s[i + 1] == '\0'))
            end = i + 1;
        if (end > 0) {
            while (s[end] == ' ' || s[end] == '\t' || s[end] == '\n')
                end++;
            return end;
        }
        i++;
    }
    return i;
}

/* The placeholders' paths of tmpl[0..n) as " a b ", into *b. */
static void sentence_paths(const char *tmpl, size_t n, sbuf *b)
{
    sbuf_append(b, " ", 1);
    for (size_t i = 0; i < n; i++) {
        char path[ASSIST_PATH_MAX + 1], filter[FILTER_MAX + 1];
        size_t k;

        if ((tmpl[i] == '{' && tmpl[i + 1] == '{') ||
            (tmpl[i] == '}' && tmpl[i + 1] == '}')) {
            i++;
            continue;
        }
        if (tmpl[i] == '{' &&
            (k = placeholder(tmpl + i + 1, path, filter)) > 0) {
            sbuf_printf(b, "%s ", path);
            i += k;
        }
    }
}

void assist_sentences_free(assist_sentence *s, int n)
{
    if (s == NULL)
        return;
    for (int i = 0; i < n; i++) {
        free(s[i].text);
        free(s[i].paths);
    }
    free(s);
}

status assist_reply_render_sentences(const char *tmpl, const assist_task *t,
                                     const char *currency,
                                     assist_sentence **out, int *n,
                                     int *missing, err *e)
{
    assist_sentence *list = calloc(ASSIST_SENTENCES_MAX, sizeof(*list));
    const char *p = tmpl;
    int count = 0, miss = 0;
    status st = ST_OK;

    if (list == NULL)
        return err_set(e, ST_NOMEM, "out of memory");
    while (*p != '\0' && st == ST_OK) {
        size_t len =
            count + 1 < ASSIST_SENTENCES_MAX ? sentence_len(p) : strlen(p);
        char *part = strndup(p, len);
        sbuf paths = {0};
        int m = 0;

        if (part == NULL) {
            st = err_set(e, ST_NOMEM, "out of memory");
            break;
        }
        st = assist_reply_render(part, t, currency, &list[count].text, &m, e);
        sentence_paths(part, len, &paths);
        free(part);
        if (st == ST_OK && paths.failed)
            st = err_set(e, ST_NOMEM, "out of memory");
        list[count].paths = sbuf_take(&paths);
        list[count].missing = m;
        sbuf_free(&paths);
        count++;
        miss += m;
        p += len;
    }
    if (st != ST_OK) {
        assist_sentences_free(list, count);
        return st;
    }
    *out = list;
    *n = count;
    if (missing != NULL)
        *missing = miss;
    return ST_OK;
}

void assist_reply_next_step(const agent_outcome_spec *o, char *buf, size_t cap)
{
    size_t used;

    snprintf(buf, cap, "%s (%s): ", o->code,
             o->billable ? "billable" : "not billable");
    used = strlen(buf);
    if (o->nfields == 0 && used < cap)
        snprintf(buf + used, cap - used, "no fields");
    for (int i = 0; i < o->nfields && used < cap; i++) {
        snprintf(buf + used, cap - used, "%s%s %s", i > 0 ? ", " : "",
                 o->fields[i].name, agent_field_type_name(o->fields[i].type));
        used = strlen(buf);
    }
}
