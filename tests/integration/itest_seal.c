/*
 * Customer data at rest, on the real services: a submit is checked against
 * its case type's payload schema (each error, nothing stored); what is
 * stored holds the customer and the personal payload fields only sealed,
 * and they are opened only for the worker who accepted the task and for
 * the tenant's own case.get; `twinline case erase` makes them unreadable
 * and keeps the billing records; `twinline keys rotate` (a tenant's data
 * key, then the master key) and `keys reseal` run while the dispatcher
 * serves, which picks the new keys up and keeps opening old cases.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clock.h"
#include "cmd_bill_reconcile.h"
#include "cmd_erase.h"
#include "cmd_explain.h"
#include "cmd_keys.h"
#include "harness.h"
#include "keystore.h"
#include "seal.h"
#include "tl_test.h"

typedef harness_world world;

static const char *const workers[3] = {"wa", "wb", "wc"};

/* bank1's loan with a payload schema: plain loan fields, a personal note
 * and address, and a customer schema. */
static const char *schema_sql =
    "UPDATE playbooks SET definition = '{"
    "\"payload\": {"
    " \"loan_id\": {\"type\": \"string\", \"max_length\": 16},"
    " \"days_past_due\": {\"type\": \"int\", \"min\": 0, \"max\": 3650},"
    " \"overdue_minor\": {\"type\": \"amount_minor\"},"
    " \"note\": {\"type\": \"string\", \"max_length\": 200,"
    "            \"required\": false, \"personal\": true},"
    " \"address\": {\"type\": \"object\", \"required\": false,"
    "   \"personal\": true, \"fields\": {\"street\": {\"type\": \"string\"},"
    "   \"city\": {\"type\": \"string\"}}}},"
    "\"customer\": {"
    " \"name\": {\"type\": \"string\", \"max_length\": 100},"
    " \"phone\": {\"type\": \"string\", \"max_length\": 32},"
    " \"id_number\": {\"type\": \"string\", \"required\": false}}}'"
    " WHERE tenant_id = 'bank1' AND case_type = 'loan'";

#define NAME   "欧阳秀英"
#define PHONE  "+86 139 8765 4321"
#define IDNUM  "330106198807156622"
#define NOTE   "客户说三月在医院住了两周"
#define STREET "文三路 477 号 1203 室"

static void world_up(world *w, const char *name, const dispatcher_opts *o)
{
    const harness_world_opts wo = {
        .sql = schema_sql, .dispatcher = o, .workers = workers, .nworkers = 3};

    harness_world_up(w, name, &wo);
}

static json_t *req(world *w, const char *rest, const char *body)
{
    return harness_request(&w->f, w->b, rest, body);
}

static void presence(world *w, const char *worker, const char *p)
{
    char rest[128], body[64];
    json_t *r;

    snprintf(rest, sizeof(rest), "agent.%s.presence", worker);
    snprintf(body, sizeof(body), "{\"presence\":\"%s\"}", p);
    r = req(w, rest, body);
    assert_true(json_is_true(json_object_get(r, "ok")));
    json_decref(r);
}

/* A loan case with ext, the customer and personal fields above; its id. */
static int64_t submit(world *w, const char *ext)
{
    char body[1024];
    json_t *r;
    int64_t id;

    snprintf(body, sizeof(body),
             "{\"external_id\":\"%s\",\"case_type\":\"loan\","
             "\"customer\":{\"name\":\"" NAME "\",\"phone\":\"" PHONE "\","
             "\"id_number\":\"" IDNUM "\"},"
             "\"payload\":{\"loan_id\":\"L-77\",\"days_past_due\":35,"
             "\"overdue_minor\":120000,\"note\":\"" NOTE "\","
             "\"address\":{\"street\":\"" STREET "\",\"city\":\"杭州\"}}}",
             ext);
    r = req(w, "api.bank1.case.submit", body);
    if (!json_is_true(json_object_get(r, "ok")))
        fail_msg("submit failed: %s", json_dumps(r, 0));
    id = json_integer_value(json_object_get(json_object_get(r, "case"), "id"));
    json_decref(r);
    return id;
}

static json_t *case_get(world *w, const char *tenant, int64_t id)
{
    char rest[96], body[64];

    snprintf(rest, sizeof(rest), "api.%s.case.get", tenant);
    snprintf(body, sizeof(body), "{\"case_id\":%lld}", (long long)id);
    return req(w, rest, body);
}

static const char *str_at(const json_t *o, const char *a, const char *b)
{
    const json_t *v = json_object_get(o, a);

    if (b != NULL)
        v = json_object_get(v, b);
    return json_string_value(v) != NULL ? json_string_value(v) : "";
}

static int64_t count(world *w, const char *sql)
{
    return fixture_i64(&w->f, sql);
}

/* Submit body; expect error code and part in the message. */
static void refused(world *w, const char *body, const char *code,
                    const char *part)
{
    json_t *r = req(w, "api.bank1.case.submit", body);
    const char *msg = str_at(json_object_get(r, "error"), "message", NULL);

    if (strcmp(harness_error_code(r), code) != 0 || strstr(msg, part) == NULL)
        fail_msg("want %s \"%s\", got %s", code, part, json_dumps(r, 0));
    /* The message never quotes the case: no personal value in it. */
    assert_null(strstr(msg, NAME));
    assert_null(strstr(msg, NOTE));
    json_decref(r);
}

#define CUSTOMER "\"customer\":{\"name\":\"" NAME "\",\"phone\":\"" PHONE "\"}"
#define LOAN     "\"loan_id\":\"L-1\",\"days_past_due\":35,\"overdue_minor\":120000"

static void test_submit_checked_against_the_schema(void **state)
{
    world w;
    json_t *r;

    (void)state;
    world_up(&w, "seal_schema", NULL);
    /* No payload, while the playbook requires fields. */
    refused(&w, "{\"external_id\":\"S-1\",\"case_type\":\"loan\"," CUSTOMER "}",
            "missing_field",
            "request.payload is empty or missing, but the loan playbook "
            "requires: days_past_due, loan_id, overdue_minor");
    refused(&w,
            "{\"external_id\":\"S-2\",\"case_type\":\"loan\"," CUSTOMER
            ",\"payload\":{\"loan_id\":\"L-1\",\"days_past_due\":\"35\","
            "\"overdue_minor\":1}}",
            "wrong_type", "request.payload.days_past_due must be an integer");
    refused(&w,
            "{\"external_id\":\"S-3\",\"case_type\":\"loan\"," CUSTOMER
            ",\"payload\":{" LOAN ",\"colour\":\"red\"}}",
            "unknown_field",
            "unknown field \"colour\" in request.payload; the loan playbook "
            "allows: address, days_past_due, loan_id, note, overdue_minor");
    refused(&w,
            "{\"external_id\":\"S-4\",\"case_type\":\"loan\"," CUSTOMER
            ",\"payload\":{\"loan_id\":\"L-1\",\"days_past_due\":9000,"
            "\"overdue_minor\":1}}",
            "invalid_value",
            "request.payload.days_past_due must be between 0 and 3650");
    refused(&w,
            "{\"external_id\":\"S-5\",\"case_type\":\"loan\","
            "\"customer\":{\"name\":\"" NAME "\"},\"payload\":{" LOAN "}}",
            "missing_field", "request.customer.phone is required");
    refused(&w,
            "{\"external_id\":\"S-6\",\"case_type\":\"loan\"," CUSTOMER
            ",\"payload\":{" LOAN ",\"address\":{\"street\":\"" STREET "\"}}}",
            "missing_field", "request.payload.address.city is required");
    /* Nothing of any of them was stored: no case, task or data key. */
    assert_int_equal(count(&w, "SELECT count(*) FROM cases"), 0);
    assert_int_equal(count(&w, "SELECT count(*) FROM tasks"), 0);
    assert_int_equal(count(&w, "SELECT count(*) FROM tenant_data_keys"), 0);
    /* A valid one is stored; submitting its external id again returns the
     * stored case whatever the rest says (the protocol's idempotency). */
    submit(&w, "S-7");
    r = req(&w, "api.bank1.case.submit",
            "{\"external_id\":\"S-7\",\"case_type\":\"loan\"}");
    assert_true(json_is_true(json_object_get(r, "ok")));
    assert_false(json_is_true(json_object_get(r, "created")));
    json_decref(r);
    assert_int_equal(count(&w, "SELECT count(*) FROM cases"), 1);
    harness_world_down(&w);
}

/* The row holds none of the personal values; the worker who accepts and
 * the tenant's case.get get them all; offers, events and explain none. */
static void test_sealed_and_opened_for_the_holder(void **state)
{
    world w;
    json_t *offer, *r, *task, *c;
    char sql[512], body[128];
    int64_t id;
    char *text = NULL;
    size_t len = 0;
    FILE *out;
    err e = {0};

    (void)state;
    world_up(&w, "seal_open", NULL);
    presence(&w, "wa", "available");
    id = submit(&w, "O-1");
    /* At rest: an empty customer column, a payload without the personal
     * fields, the sealed part under bank1's data key 1. */
    snprintf(sql, sizeof(sql),
             "SELECT count(*) FROM cases WHERE id = %lld AND customer = '{}'"
             " AND payload = '{\"loan_id\": \"L-77\", \"days_past_due\": 35,"
             " \"overdue_minor\": 120000}' AND seal_key_id(personal) = 1",
             (long long)id);
    assert_int_equal(count(&w, sql), 1);
    assert_int_equal(count(&w, "SELECT count(*) FROM tenant_data_keys WHERE"
                               " tenant_id = 'bank1' AND key_id = 1"),
                     1);
    /* The row as text, but for the sealed value's hex (where any digits
     * may turn up by chance) and the times. */
    assert_int_equal(count(&w, "SELECT count(*) FROM (SELECT (to_jsonb(c) -"
                               " 'personal' - 'created_at' - 'updated_at' -"
                               " 'closed_at')::text AS t FROM cases c) c"
                               " WHERE t LIKE '%" NAME "%' OR t LIKE '%8765%'"
                               " OR t LIKE '%" NOTE "%' OR t LIKE '%" STREET
                               "%' OR t LIKE '%" IDNUM "%'"),
                     0);

    offer = inbox_next(&w.offers[0], 3000);
    assert_non_null(offer);
    text = json_dumps(offer, 0);
    assert_null(strstr(text, NAME)); /* the offer carries none of it */
    assert_null(strstr(text, NOTE));
    free(text);
    snprintf(
        body, sizeof(body), "{\"reservation_id\":%lld,\"epoch\":%lld}",
        (long long)json_integer_value(json_object_get(offer, "reservation_id")),
        (long long)json_integer_value(json_object_get(offer, "epoch")));
    r = req(&w, "agent.wa.accept", body);
    task = json_object_get(r, "task");
    assert_string_equal(str_at(task, "customer", "name"), NAME);
    assert_string_equal(str_at(task, "customer", "phone"), PHONE);
    assert_string_equal(str_at(task, "customer", "id_number"), IDNUM);
    assert_string_equal(str_at(task, "payload", "note"), NOTE);
    assert_string_equal(
        str_at(json_object_get(task, "payload"), "address", "street"), STREET);
    assert_int_equal(json_integer_value(json_object_get(
                         json_object_get(task, "payload"), "overdue_minor")),
                     120000);
    assert_true(json_is_null(json_object_get(task, "erased_at")));
    json_decref(r);
    /* Another worker asking for the same reservation gets nothing of it. */
    r = req(&w, "agent.wb.accept", body);
    assert_string_equal(harness_error_code(r), "not_yours");
    text = json_dumps(r, 0);
    assert_null(strstr(text, NAME));
    free(text);
    json_decref(r);

    /* The tenant's own case.get; another tenant's is not found. */
    r = case_get(&w, "bank1", id);
    c = json_object_get(r, "case");
    assert_string_equal(str_at(c, "customer", "name"), NAME);
    assert_string_equal(str_at(c, "payload", "note"), NOTE);
    assert_string_equal(
        str_at(json_object_get(c, "payload"), "address", "city"), "杭州");
    assert_string_equal(str_at(c, "payload", "loan_id"), "L-77");
    json_decref(r);
    r = case_get(&w, "bank2", id);
    assert_string_equal(harness_error_code(r), "not_found");
    json_decref(r);

    /* Nothing else the dispatcher writes holds them. */
    assert_int_equal(count(&w, "SELECT count(*) FROM outbox WHERE payload::text"
                               " LIKE '%" NAME "%'"),
                     0);
    assert_int_equal(count(&w, "SELECT count(*) FROM routing_decisions d"
                               " WHERE d::text LIKE '%" NAME "%'"),
                     0);
    out = open_memstream(&text, &len);
    snprintf(sql, sizeof(sql), "SELECT id FROM tasks WHERE case_id = %lld",
             (long long)id);
    assert_int_equal(cmd_explain_task(w.f.db, count(&w, sql), out, &e), ST_OK);
    fclose(out);
    assert_non_null(strstr(text, "wa"));
    assert_null(strstr(text, NAME));
    assert_null(strstr(text, NOTE));
    free(text);
    json_decref(offer);
    harness_world_down(&w);
}

static const char *promise =
    ",\"outcome\":{\"code\":\"promise_to_pay\",\"fields\":"
    "{\"amount_minor\":50000,\"due_date\":\"2026-12-05\"}}";

/* Offer to wa, accept, complete with a billable promise; the offer. */
static void work_case(world *w)
{
    json_t *offer = inbox_next(&w->offers[0], 5000), *r;
    char body[256];

    assert_non_null(offer);
    snprintf(
        body, sizeof(body), "{\"reservation_id\":%lld,\"epoch\":%lld}",
        (long long)json_integer_value(json_object_get(offer, "reservation_id")),
        (long long)json_integer_value(json_object_get(offer, "epoch")));
    r = req(w, "agent.wa.accept", body);
    assert_true(json_is_true(json_object_get(r, "ok")));
    json_decref(r);
    body[strlen(body) - 1] = '\0';
    strncat(body, promise, sizeof(body) - strlen(body) - 2);
    strncat(body, "}", sizeof(body) - strlen(body) - 1);
    r = req(w, "agent.wa.complete", body);
    if (!json_is_true(json_object_get(r, "ok")))
        fail_msg("complete: %s", json_dumps(r, 0));
    json_decref(r);
    json_decref(offer);
}

static char *reconcile(world *w)
{
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    int mismatches = -1;
    err e = {0};

    assert_int_equal(cmd_bill_reconcile(w->f.db, "bank1", NULL, ADMIN_FMT_KV,
                                        out, &mismatches, &e),
                     ST_OK);
    fclose(out);
    assert_int_equal(mismatches, 0);
    return text;
}

static status erase(world *w, int64_t id, const char *ext, const char *ref,
                    bool force, char **said, err *e)
{
    size_t len = 0;
    FILE *out = open_memstream(said, &len);
    status s = cmd_case_erase(w->f.db, w->f.cfg.prefix, "bank1", id, ext, ref,
                              force, out, e);

    fclose(out);
    return s;
}

static void test_erase_keeps_billing(void **state)
{
    world w;
    running_billing rb;
    json_t *r, *c;
    char sql[256], *before, *after, *said = NULL;
    int64_t id, open_id, lines;
    err e = {0};

    (void)state;
    world_up(&w, "seal_erase", NULL);
    harness_billing_start(&rb, &w.f);
    presence(&w, "wa", "available");
    id = submit(&w, "E-1");
    work_case(&w);
    snprintf(sql, sizeof(sql),
             "SELECT count(*) FROM billable_lines l JOIN outcomes o ON"
             " o.id = l.outcome_id WHERE o.case_id = %lld",
             (long long)id);
    assert_int_equal(fixture_wait_i64(&w.f, sql, 1, 10000), 1);
    lines = count(&w, "SELECT sum(amount_minor) FROM billable_lines");
    before = reconcile(&w);

    /* Clear errors, nothing changed. */
    assert_int_equal(erase(&w, 0, "NO-SUCH", NULL, false, &said, &e),
                     ST_NOT_FOUND);
    free(said);
    assert_int_equal(erase(&w, id, NULL, "ticket 7", false, &said, &e),
                     ST_INVALID);
    free(said);
    open_id = submit(&w, "E-2"); /* wa is busy: it waits, open */
    assert_int_equal(erase(&w, open_id, NULL, NULL, false, &said, &e),
                     ST_CONFLICT);
    assert_non_null(strstr(e.msg, "is open"));
    assert_non_null(strstr(e.msg, "--force"));
    free(said);
    assert_int_equal(count(&w, "SELECT count(*) FROM cases WHERE personal IS"
                               " NULL OR erased_at IS NOT NULL"),
                     0);
    assert_int_equal(
        count(&w, "SELECT count(*) FROM audit_log WHERE action = 'case.erase'"),
        0);

    /* The closed case: its personal part gone, its billing as it was. */
    assert_int_equal(erase(&w, 0, "E-1", "GDPR-2026-0042", false, &said, &e),
                     ST_OK);
    assert_non_null(strstr(said, "erased the customer's personal data"));
    free(said);
    snprintf(sql, sizeof(sql),
             "SELECT count(*) FROM cases WHERE id = %lld AND personal IS NULL"
             " AND customer = '{}' AND erased_at IS NOT NULL AND"
             " erase_request = 'GDPR-2026-0042' AND payload ->> 'loan_id' ="
             " 'L-77'",
             (long long)id);
    assert_int_equal(count(&w, sql), 1);
    assert_int_equal(count(&w, "SELECT sum(amount_minor) FROM billable_lines"),
                     lines);
    after = reconcile(&w);
    assert_string_equal(after, before);
    free(before);
    free(after);
    snprintf(sql, sizeof(sql),
             "SELECT count(*) FROM outbox WHERE payload ->> 'type' ="
             " 'case.erased' AND (payload ->> 'case_id')::bigint = %lld",
             (long long)id);
    assert_int_equal(count(&w, sql), 1);
    /* The tenant sees the case as erased. */
    r = case_get(&w, "bank1", id);
    c = json_object_get(r, "case");
    assert_true(json_is_string(json_object_get(c, "erased_at")));
    assert_int_equal(json_object_size(json_object_get(c, "customer")), 0);
    assert_null(json_object_get(json_object_get(c, "payload"), "note"));
    assert_string_equal(str_at(c, "payload", "loan_id"), "L-77");
    assert_int_equal(json_array_size(json_object_get(c, "tasks")), 2);
    json_decref(r);
    /* Again: said so, nothing changed. */
    assert_int_equal(erase(&w, id, NULL, NULL, false, &said, &e), ST_OK);
    assert_non_null(strstr(said, "was erased at"));
    free(said);
    assert_int_equal(count(&w, sql), 1);
    /* One audit record, naming the case and the request, nothing of
     * what was erased. */
    snprintf(sql, sizeof(sql),
             "SELECT count(*) FROM audit_log WHERE action = 'case.erase' AND"
             " subjects = 'case:%lld' AND party LIKE 'admin:%%' AND"
             " details::jsonb->>'request_id' = 'GDPR-2026-0042' AND"
             " details::jsonb->>'forced' = 'false' AND details NOT LIKE"
             " '%%" NAME "%%'",
             (long long)id);
    assert_int_equal(count(&w, sql), 1);
    assert_int_equal(
        count(&w, "SELECT count(*) FROM audit_log WHERE action = 'case.erase'"),
        1);

    /* An open case with --force: its next worker gets no customer. */
    assert_int_equal(erase(&w, open_id, NULL, NULL, true, &said, &e), ST_OK);
    free(said);
    work_case(&w);
    r = case_get(&w, "bank1", open_id);
    assert_true(json_is_string(
        json_object_get(json_object_get(r, "case"), "erased_at")));
    json_decref(r);
    harness_billing_stop(&rb);
    harness_world_down(&w);
}

/* The case's sealed part's key id (0: none). */
static int64_t key_of(world *w, int64_t id)
{
    char sql[128];

    snprintf(sql, sizeof(sql),
             "SELECT COALESCE(seal_key_id(personal), 0) FROM cases WHERE"
             " id = %lld",
             (long long)id);
    return count(w, sql);
}

/* Submit cases until one is sealed under key want (the dispatcher looks
 * for new keys every 5 s); fails after 20 s. */
static int64_t submit_until_key(world *w, const char *prefix, int64_t want)
{
    int64_t deadline = clock_mono_us() + 20000000;

    for (int i = 0; clock_mono_us() < deadline; i++) {
        char ext[48];
        int64_t id;

        snprintf(ext, sizeof(ext), "%s-%d", prefix, i);
        id = submit(w, ext);
        if (key_of(w, id) == want)
            return id;
        clock_sleep_ms(250);
    }
    fail_msg("no case was sealed under key %lld", (long long)want);
    return 0;
}

static void opens(world *w, int64_t id)
{
    json_t *r = case_get(w, "bank1", id);

    if (strcmp(str_at(json_object_get(r, "case"), "customer", "name"), NAME) !=
        0)
        fail_msg("case %lld: %s", (long long)id, json_dumps(r, 0));
    json_decref(r);
}

static void test_rotation_without_downtime(void **state)
{
    char dir[] = "/tmp/tl-seal-XXXXXX", mk[160], mk_new[160], mk_old[160];
    const char *bank1[1] = {"bank1"};
    dispatcher_opts o;
    world w;
    keystore *ks = NULL, *ks2 = NULL, *old = NULL;
    cmd_keys_resealed done;
    int64_t a, b, c;
    char *said = NULL, *plain = NULL, hex[4096];
    size_t len = 0;
    FILE *out;
    err e = {0};

    (void)state;
    assert_non_null(mkdtemp(dir));
    snprintf(mk, sizeof(mk), "%s/master.key", dir);
    snprintf(mk_new, sizeof(mk_new), "%s/master-2.key", dir);
    snprintf(mk_old, sizeof(mk_old), "%s/master-1.key", dir);
    assert_int_equal(seal_master_keygen(mk, NULL, &e), ST_OK);
    dispatcher_opts_default(&o);
    snprintf(o.master_key_file, sizeof(o.master_key_file), "%s", mk);
    world_up(&w, "seal_rotate", &o);
    a = submit(&w, "R-A");
    assert_int_equal(key_of(&w, a), 1);

    /* Refused, with nothing changed or recorded: a tenant that does not
     * exist (a list with one stops the whole rotation), and a "new" master
     * key file that holds the current key. */
    assert_int_equal(keystore_create(&ks, mk, &e), ST_OK);
    {
        const char *some[2] = {"bank1", "nobank"};

        out = open_memstream(&said, &len);
        assert_int_equal(cmd_keys_rotate(w.f.db, ks, some, 2, out, &e),
                         ST_NOT_FOUND);
        fclose(out);
        free(said);
        assert_non_null(strstr(e.msg, "no tenant \"nobank\""));
        out = open_memstream(&said, &len);
        assert_int_equal(cmd_keys_rotate_master(w.f.db, ks, mk, out, &e),
                         ST_CONFIG);
        fclose(out);
        free(said);
        assert_non_null(strstr(e.msg, "holds the current master key"));
        assert_int_equal(count(&w, "SELECT count(*) FROM tenant_data_keys"
                                   " WHERE tenant_id = 'bank1'"),
                         1);
        assert_int_equal(count(&w, "SELECT count(*) FROM audit_log WHERE"
                                   " action LIKE 'keys.%'"),
                         0);
    }

    /* A new data key: the running dispatcher seals new cases under it. */
    out = open_memstream(&said, &len);
    if (cmd_keys_rotate(w.f.db, ks, bank1, 1, out, &e) != ST_OK)
        fail_msg("rotate: %s", e.msg);
    fclose(out);
    assert_non_null(strstr(said, "bank1: new data key 2"));
    free(said);
    /* Recorded in the audit trail, with the key's id and no key. */
    assert_int_equal(count(&w, "SELECT count(*) FROM audit_log WHERE"
                               " action = 'keys.rotate' AND subjects ="
                               " 'tenant:bank1' AND party LIKE 'admin:%'"
                               " AND details::jsonb->>'key_id' = '2'"),
                     1);
    b = submit_until_key(&w, "R-B", 2);
    opens(&w, a); /* still under key 1 */
    opens(&w, b);

    /* Reseal: every case under key 2, still readable. */
    out = open_memstream(&said, &len);
    assert_int_equal(cmd_keys_reseal(w.f.db, ks, "bank1", 2, out, &done, &e),
                     ST_OK);
    fclose(out);
    assert_true(done.resealed >= 1);
    assert_int_equal(done.skipped, 0);
    assert_non_null(strstr(said, "done"));
    free(said);
    assert_int_equal(count(&w, "SELECT count(*) FROM cases WHERE"
                               " seal_key_id(personal) <> 2"),
                     0);
    opens(&w, a);

    /* The master key: rewrapped, nothing sealed changes, the running
     * dispatcher keeps serving with the keys it holds. */
    {
        char sql[128];
        snprintf(sql, sizeof(sql),
                 "SELECT encode(personal, 'hex') FROM cases WHERE id = %lld",
                 (long long)a);
        fixture_str(&w.f, sql, hex, sizeof(hex));
    }
    out = open_memstream(&said, &len);
    assert_int_equal(cmd_keys_rotate_master(w.f.db, ks, mk_new, out, &e),
                     ST_OK);
    fclose(out);
    assert_non_null(strstr(said, "rewrapped 2 data keys"));
    free(said);
    assert_int_equal(count(&w, "SELECT count(*) FROM audit_log WHERE"
                               " action = 'keys.rewrap' AND subjects ="
                               " 'keys:master' AND details::jsonb->>"
                               "'data_keys' = '2'"),
                     1);
    assert_int_equal(count(&w, "SELECT count(DISTINCT master_key_id) FROM"
                               " tenant_data_keys"),
                     1);
    opens(&w, a);
    /* The old key file can no longer unwrap anything: a clear error. */
    assert_int_equal(rename(mk, mk_old), 0);
    assert_int_equal(keystore_create(&old, mk_old, &e), ST_OK);
    assert_int_equal(
        keystore_open_hex(old, w.f.db, "bank1", a, hex, &plain, &e),
        ST_UNAVAILABLE);
    assert_non_null(strstr(e.msg, "data key 2 of tenant bank1"));
    /* The new key file takes the old one's place; a data key wrapped by
     * it is picked up too. */
    assert_int_equal(rename(mk_new, mk), 0);
    assert_int_equal(keystore_create(&ks2, mk, &e), ST_OK);
    out = open_memstream(&said, &len);
    assert_int_equal(cmd_keys_rotate(w.f.db, ks2, bank1, 1, out, &e), ST_OK);
    fclose(out);
    free(said);
    c = submit_until_key(&w, "R-C", 3);
    opens(&w, a);
    opens(&w, c);

    keystore_destroy(ks);
    keystore_destroy(ks2);
    keystore_destroy(old);
    harness_world_down(&w);
    unlink(mk);
    unlink(mk_old);
    rmdir(dir);
}

/* Without a master key the dispatcher does not start, and says how. */
static void test_no_master_key(void **state)
{
    char *file = getenv(KEYSTORE_ENV_FILE) != NULL
                     ? strdup(getenv(KEYSTORE_ENV_FILE))
                     : NULL;
    dispatcher_opts o;
    dispatcher *d = NULL;
    fixture f;
    err e = {0};

    (void)state;
    fixture_setup(&f, "seal_nokey");
    dispatcher_opts_default(&o);
    unsetenv(KEYSTORE_ENV_FILE);
    unsetenv(KEYSTORE_ENV_KEY);
    assert_int_equal(dispatcher_create(&d, &f.cfg, &o, &e), ST_CONFIG);
    assert_null(d);
    assert_non_null(strstr(e.msg, "set TL_MASTER_KEY_FILE"));
    assert_non_null(strstr(e.msg, "twinline keys init FILE"));
    if (file != NULL)
        setenv(KEYSTORE_ENV_FILE, file, 1);
    free(file);
    fixture_teardown(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_submit_checked_against_the_schema),
        cmocka_unit_test(test_sealed_and_opened_for_the_holder),
        cmocka_unit_test(test_erase_keeps_billing),
        cmocka_unit_test(test_rotation_without_downtime),
        cmocka_unit_test(test_no_master_key),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
