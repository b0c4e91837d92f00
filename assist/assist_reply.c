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
