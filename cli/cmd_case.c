#include "cmd_case.h"

#include <stdlib.h>
#include <string.h>

#include "cli_sql.h"
#include "cli_table.h"
#include "ids.h"
#include "jsonx.h"
#include "money.h"

#define SUBJECT_MAX    256
#define CASE_MAX_BYTES (64u * 1024u) /* the dispatcher's limit */

/*
 * case show reads a case by id (cli/sql/case_by_id.sql) or by external id
 * (case_by_external_id.sql), which return the same columns; the first's
 * enum names them for both.
 */
#define CASE_SAME_COLUMN(col)                                                  \
    _Static_assert((int)CLI_CASE_BY_ID_##col ==                                \
                       (int)CLI_CASE_BY_EXTERNAL_ID_##col,                     \
                   "case_by_id.sql and case_by_external_id.sql declare the "   \
                   "same columns")
CASE_SAME_COLUMN(ID);
CASE_SAME_COLUMN(EXTERNAL_ID);
CASE_SAME_COLUMN(CASE_TYPE);
CASE_SAME_COLUMN(PLAYBOOK_VERSION);
CASE_SAME_COLUMN(PRIORITY);
CASE_SAME_COLUMN(STATE);
CASE_SAME_COLUMN(CREATED_AT);
CASE_SAME_COLUMN(CLOSED_AT);
CASE_SAME_COLUMN(RESOLVE_S);
CASE_SAME_COLUMN(PAYLOAD);

/* Parse an optional flag value that must be a JSON object. */
static status object_arg(const char *flag, const char *text, json_t **out,
                         err *e)
{
    json_t *v = NULL;
    status s;

    if (text == NULL) {
        *out = NULL;
        return ST_OK;
    }
    s = jsonx_parse(text, strlen(text), CASE_MAX_BYTES, &v, e);
    if (s != ST_OK)
        return err_wrap(e, "%s", flag);
    *out = v;
    return ST_OK;
}

status cmd_case_body(const char *case_type, const char *external_id,
                     int priority, const char *payload_json,
                     const char *customer_json, char **out, err *e)
{
    json_t *body = NULL, *payload = NULL, *customer = NULL;
    char *text = NULL;
    status s;

    if (case_type == NULL || !ids_token_valid(case_type))
        return err_set(e, ST_INVALID,
                       "--type must be a case type such as loan_overdue; "
                       "run: twinline playbook list");
    if (external_id == NULL || external_id[0] == '\0' ||
        strlen(external_id) > 128)
        return err_set(e, ST_INVALID,
                       "--external-id must be 1..128 characters (your own "
                       "id for the case)");
    if (priority > 9)
        return err_set(e, ST_INVALID, "--priority must be 0..9");
    if ((s = object_arg("--payload", payload_json, &payload, e)) != ST_OK ||
        (s = object_arg("--customer", customer_json, &customer, e)) != ST_OK)
        goto out;
    body = json_pack("{s:s, s:s}", "external_id", external_id, "case_type",
                     case_type);
    if (body == NULL ||
        (priority >= 0 &&
         json_object_set_new(body, "priority", json_integer(priority)) != 0) ||
        (customer != NULL &&
         json_object_set(body, "customer", customer) != 0) ||
        (payload != NULL && json_object_set(body, "payload", payload) != 0) ||
        (text = jsonx_dump(body)) == NULL) {
        s = err_set(e, ST_NOMEM, "out of memory");
        goto out;
    }
    *out = text;
out:
    json_decref(body);
    json_decref(payload);
    json_decref(customer);
    return s;
}

status cmd_case_body_file(const char *path, char **out, err *e)
{
    json_t *v = NULL;
    char *text;
    status s;

    if ((s = jsonx_load_file(path, &v, e)) != ST_OK)
        return s;
    text = jsonx_dump(v);
    json_decref(v);
    if (text == NULL)
        return err_set(e, ST_NOMEM, "out of memory");
    *out = text;
    return ST_OK;
}

static status status_of_code(const char *code)
{
    for (int i = 1; i < ST__COUNT; i++)
        if (strcmp(status_code((status)i), code) == 0)
            return (status)i;
    return ST_INTERNAL;
}

status cmd_case_dispute_body(int64_t case_id, const char *external_id,
                             const char *reason, const char *request_id,
                             char **out, err *e)
{
    json_t *body;
    char *text;

    if ((case_id > 0) == (external_id != NULL))
        return err_set(e, ST_INVALID,
                       "give either a CASE_ID or --external-id X");
    if (external_id != NULL &&
        (external_id[0] == '\0' || strlen(external_id) > 128))
        return err_set(e, ST_INVALID,
                       "--external-id must be 1..128 characters");
    if (reason == NULL || reason[0] == '\0' || strlen(reason) > 500)
        return err_set(e, ST_INVALID,
                       "--reason must be 1..500 characters: why the bank "
                       "disputes the result");
    if (request_id != NULL && !ids_token_valid(request_id))
        return err_set(e, ST_INVALID,
                       "--request-id \"%.64s\" must be 1-64 letters, digits, "
                       "'_' or '-'",
                       request_id);
    body = case_id > 0 ? json_pack("{s:I, s:s}", "case_id", (json_int_t)case_id,
                                   "reason", reason)
                       : json_pack("{s:s, s:s}", "external_id", external_id,
                                   "reason", reason);
    if (body == NULL ||
        (request_id != NULL &&
         json_object_set_new(body, "request_id", json_string(request_id)) !=
             0) ||
        (text = jsonx_dump(body)) == NULL) {
        json_decref(body);
        return err_set(e, ST_NOMEM, "out of memory");
    }
    json_decref(body);
    *out = text;
    return ST_OK;
}

status cmd_case_request(bus *b, const char *prefix, const char *tenant,
                        const char *verb, const char *body, int timeout_ms,
                        FILE *out, err *e)
{
    char subject[SUBJECT_MAX];
    bus_msg *reply = NULL;
    json_t *v = NULL;
    json_error_t jerr;
    char *pretty = NULL;
    status s;

    if (!ids_token_valid(tenant))
        return err_set(e, ST_INVALID,
                       "--tenant \"%.64s\" must be 1-64 letters, digits, '_' "
                       "or '-'; run: twinline tenant list",
                       tenant);
    snprintf(subject, sizeof(subject), "%s.api.%s.case.%s", prefix, tenant,
             verb);
    s = bus_request(b, subject, body, strlen(body), timeout_ms, &reply, e);
    if (s != ST_OK)
        return s;
    v = json_loadb(bus_msg_data(reply), bus_msg_len(reply), 0, &jerr);
    if (!json_is_object(v)) {
        s = err_set(e, ST_INTERNAL,
                    "the reply on %s is not a JSON object: "
                    "%.200s",
                    subject, bus_msg_data(reply));
        goto out;
    }
    if (!json_is_true(json_object_get(v, "ok"))) {
        const json_t *er = json_object_get(v, "error");
        const char *code = jsonx_str(er, "code");
        const char *msg = jsonx_str(er, "message");

        s = err_set(e, status_of_code(code != NULL ? code : "internal"),
                    "%s: %s", code != NULL ? code : "internal",
                    msg != NULL ? msg : "(the reply has no message)");
        goto out;
    }
    pretty = json_dumps(v, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    if (pretty == NULL) {
        s = err_set(e, ST_NOMEM, "out of memory");
        goto out;
    }
    fprintf(out, "%s\n", pretty);
out:
    free(pretty);
    json_decref(v);
    bus_msg_free(reply);
    return s;
}

/*
 * Print all rows of the statement st for case id as a table of its ncols
 * columns, in the order its file declares them, under heads (one per
 * column: the callers check the count against the column enum).
 */
static status section(db *d, const db_stmt *st, const char *case_id,
                      const char *title, int ncols, const char *const *heads,
                      FILE *out, err *e)
{
    const char *params[1] = {case_id};
    cli_table *t = NULL;
    db_res *r = NULL;
    const char *cells[16];
    status s;

    if ((s = db_run(d, st, params, &r, e)) != ST_OK)
        return s;
    fprintf(out, "\n%s\n", title);
    if (db_rows(r) == 0) {
        fprintf(out, "  (none)\n");
        goto out;
    }
    if ((s = cli_table_create(&t, ncols, heads, e)) != ST_OK)
        goto out;
    for (int i = 0; i < db_rows(r); i++) {
        for (int c = 0; c < ncols; c++)
            cells[c] = db_val(r, i, c);
        if ((s = cli_table_add(t, cells, e)) != ST_OK)
            goto out;
    }
    cli_table_print(t, out);
out:
    cli_table_destroy(t);
    db_res_free(r);
    return s;
}

/* Outcomes need money formatting, so they are not a plain section. */
static status outcomes_section(db *d, const char *case_id, FILE *out, err *e)
{
    static const char *const heads[] = {"OUTCOME", "STEP",     "WORKER", "CODE",
                                        "FIELDS",  "BILLABLE", "BILLED", "AT"};
    const char *params[1] = {case_id};
    cli_table *t = NULL;
    db_res *r = NULL;
    char amount[MONEY_FORMAT_MAX];
    status s;

    if ((s = db_run(d, &cli_sql_case_outcomes, params, &r, e)) != ST_OK)
        return s;
    fprintf(out, "\nOutcomes\n");
    if (db_rows(r) == 0) {
        fprintf(out, "  (none)\n");
        goto out;
    }
    if ((s = cli_table_create(&t, 8, heads, e)) != ST_OK)
        goto out;
    for (int i = 0; i < db_rows(r); i++) {
        const char *cells[8] = {db_val(r, i, CLI_CASE_OUTCOMES_ID),
                                db_val(r, i, CLI_CASE_OUTCOMES_STEP),
                                db_val(r, i, CLI_CASE_OUTCOMES_WORKER_ID),
                                db_val(r, i, CLI_CASE_OUTCOMES_CODE),
                                db_val(r, i, CLI_CASE_OUTCOMES_FIELDS),
                                db_val(r, i, CLI_CASE_OUTCOMES_BILLABLE),
                                "",
                                db_val(r, i, CLI_CASE_OUTCOMES_CREATED_AT)};
        if (!db_null(r, i, CLI_CASE_OUTCOMES_AMOUNT_MINOR))
            cells[6] =
                money_format(amount, sizeof(amount),
                             db_val(r, i, CLI_CASE_OUTCOMES_CURRENCY),
                             db_i64(r, i, CLI_CASE_OUTCOMES_AMOUNT_MINOR));
        else if (strcmp(db_val(r, i, CLI_CASE_OUTCOMES_BILLABLE), "yes") == 0)
            cells[6] = "pending";
        if ((s = cli_table_add(t, cells, e)) != ST_OK)
            goto out;
    }
    cli_table_print(t, out);
out:
    cli_table_destroy(t);
    db_res_free(r);
    return s;
}

status cmd_case_show(db *d, const char *tenant, int64_t case_id,
                     const char *external_id, FILE *out, err *e)
{
    static const char *const task_heads[] = {
        "TASK",  "STEP",  "STATE",    "WORKER",    "OFFERS",
        "EPOCH", "READY", "ASSIGNED", "COMPLETED", "SLA_DUE"};
    static const char *const offer_heads[] = {"OFFER",    "STEP",     "WORKER",
                                              "EPOCH",    "STATE",    "OFFERED",
                                              "DEADLINE", "ANSWERED", "REASON"};
    _Static_assert(sizeof(task_heads) / sizeof(task_heads[0]) ==
                       CLI_CASE_TASKS_NCOLS,
                   "a head per column of case_tasks.sql");
    _Static_assert(sizeof(offer_heads) / sizeof(offer_heads[0]) ==
                       CLI_CASE_OFFERS_NCOLS,
                   "a head per column of case_offers.sql");
    char idbuf[24];
    const char *params[2] = {tenant, external_id};
    db_res *c = NULL;
    char id[24];
    status s;

    if (external_id == NULL)
        params[1] = db_i64_str(idbuf, case_id);
    s = db_run(d,
               external_id != NULL ? &cli_sql_case_by_external_id
                                   : &cli_sql_case_by_id,
               params, &c, e);
    if (s != ST_OK)
        return s;
    if (db_rows(c) == 0) {
        if (external_id != NULL)
            s = err_set(e, ST_NOT_FOUND,
                        "tenant \"%s\" has no case with external id \"%s\"; "
                        "check --tenant and the id",
                        tenant, external_id);
        else
            s = err_set(e, ST_NOT_FOUND,
                        "tenant \"%s\" has no case %lld; check --tenant and "
                        "the id",
                        tenant, (long long)case_id);
        goto out;
    }
    snprintf(id, sizeof(id), "%s", db_val(c, 0, CLI_CASE_BY_ID_ID));
    fprintf(out,
            "case %s  tenant %s  external id %s\n"
            "type %s (playbook version %s)  priority %s  state %s\n"
            "times in %s\n"
            "created %s",
            id, tenant, db_val(c, 0, CLI_CASE_BY_ID_EXTERNAL_ID),
            db_val(c, 0, CLI_CASE_BY_ID_CASE_TYPE),
            db_val(c, 0, CLI_CASE_BY_ID_PLAYBOOK_VERSION),
            db_val(c, 0, CLI_CASE_BY_ID_PRIORITY),
            db_val(c, 0, CLI_CASE_BY_ID_STATE),
            db_val(c, 0, CLI_CASE_BY_ID_TIME_ZONE),
            db_val(c, 0, CLI_CASE_BY_ID_CREATED_AT));
    if (db_val(c, 0, CLI_CASE_BY_ID_CLOSED_AT)[0] != '\0')
        fprintf(out, "  closed %s (%s s)",
                db_val(c, 0, CLI_CASE_BY_ID_CLOSED_AT),
                db_val(c, 0, CLI_CASE_BY_ID_RESOLVE_S));
    fprintf(out, "\npayload %s\n", db_val(c, 0, CLI_CASE_BY_ID_PAYLOAD));
    if ((s = section(d, &cli_sql_case_tasks, id, "Tasks", CLI_CASE_TASKS_NCOLS,
                     task_heads, out, e)) != ST_OK ||
        (s = section(d, &cli_sql_case_offers, id, "Offers (reservations)",
                     CLI_CASE_OFFERS_NCOLS, offer_heads, out, e)) != ST_OK ||
        (s = outcomes_section(d, id, out, e)) != ST_OK)
        goto out;
out:
    db_res_free(c);
    return s;
}
