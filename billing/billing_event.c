#include "billing_event.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "jsonx.h"
#include "subjects.h"

static const jfield event_fields[] = {
    {"type", JF_STRING, true},   {"outcome_id", JF_INT, true},
    {"task_id", JF_INT, false},  {"case_id", JF_INT, false},
    {"tenant", JF_TOKEN, false}, {"worker", JF_TOKEN, false},
    {"code", JF_TOKEN, false},   {"billable", JF_BOOL, false},
};

static void copy_token(char *dst, const json_t *obj, const char *name)
{
    const char *v = jsonx_str(obj, name);

    /* jsonx_check has already limited tokens to ID_MAX characters. */
    snprintf(dst, ID_MAX + 1, "%s", v != NULL ? v : "");
}

status billing_event_parse(const char *buf, size_t len, billing_event *out,
                           err *e)
{
    json_t *obj = NULL;
    billing_event ev;
    const char *type;
    status s;

    memset(&ev, 0, sizeof(ev));
    s = jsonx_parse(buf, len, BILLING_EVENT_MAX, &obj, e);
    if (s != ST_OK)
        goto out;
    s = jsonx_check(obj, "outcome event", event_fields,
                    (int)(sizeof(event_fields) / sizeof(event_fields[0])), e);
    if (s != ST_OK)
        goto out;
    type = jsonx_str(obj, "type");
    if (strcmp(type, BILLING_EVENT_TYPE) != 0) {
        s = err_set(e, ST_INVALID,
                    "outcome event has type \"%.64s\"; expected \"%s\"", type,
                    BILLING_EVENT_TYPE);
        goto out;
    }
    jsonx_int(obj, "outcome_id", &ev.outcome_id);
    if (ev.outcome_id <= 0) {
        s = err_set(e, ST_INVALID,
                    "outcome event has outcome_id %" PRId64
                    "; expected a positive id",
                    ev.outcome_id);
        goto out;
    }
    jsonx_int(obj, "task_id", &ev.task_id);
    jsonx_int(obj, "case_id", &ev.case_id);
    copy_token(ev.tenant, obj, "tenant");
    copy_token(ev.worker, obj, "worker");
    copy_token(ev.code, obj, "code");
    ev.billable = json_is_true(json_object_get(obj, "billable"));
    *out = ev;
out:
    json_decref(obj);
    return s;
}

status billing_names_make(const char *prefix, billing_names *out, err *e)
{
    billing_names n;

    if (prefix == NULL || !ids_token_valid(prefix))
        return err_set(e, ST_CONFIG,
                       "prefix \"%s\" must be 1-64 letters, digits, '_' or "
                       "'-'",
                       prefix != NULL ? prefix : "");
    memset(&n, 0, sizeof(n));
    if (subjects_stream(n.stream, sizeof(n.stream), prefix, e) != ST_OK ||
        subjects_events_all(n.subjects, sizeof(n.subjects), prefix, e) !=
            ST_OK ||
        subjects_event(n.filter, sizeof(n.filter), prefix, "*",
                       SUBJECTS_EVT_OUTCOME, e) != ST_OK)
        return err_wrap(e, "event names for prefix %s", prefix);
    *out = n;
    return ST_OK;
}

status billing_ids_format(const int64_t *ids, int n, char *buf, size_t cap,
                          err *e)
{
    size_t used = 0;
    int w;

    if (cap < 3)
        return err_set(e, ST_TOO_LARGE, "id list buffer too small");
    buf[used++] = '{';
    for (int i = 0; i < n; i++) {
        w = snprintf(buf + used, cap - used, "%s%" PRId64, i > 0 ? "," : "",
                     ids[i]);
        if (w < 0 || (size_t)w >= cap - used - 1)
            return err_set(e, ST_TOO_LARGE, "%d ids do not fit in %zu bytes", n,
                           cap);
        used += (size_t)w;
    }
    buf[used++] = '}';
    buf[used] = '\0';
    return ST_OK;
}
