/*
 * The suggested reply and the next steps obey the rules, for every rule of
 * the example knowledge bases (examples/kb/ * /rules.json): for every step
 * of the example playbooks, in both languages, inside and outside the
 * contact hours, a task whose case data has a distinct value at every path
 * the tenant's templates use is put on a panel. While a prompt that must
 * be acknowledged is not, nothing it withholds is suggested: not the reply
 * when it withholds "reply", no value under a path it withholds, no next
 * step "outcomes.<code>" it withholds. Prompts are then acknowledged one
 * by one and the check repeated; once all are, the whole reply and every
 * next step are suggested again, so the check could fail. Every rule with
 * "withholds" must have held something back somewhere, and no reply ever
 * contains a forbidden phrase. A case whose data holds a forbidden phrase
 * loses that sentence; a bad "withholds" is refused with a message naming
 * the field.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "assist_panel.h"
#include "money.h"
#include "sbuf.h"
#include "tl_test.h"

#define EX(f) TL_SOURCE_DIR "/examples/" f
/* 2026-11-25T04:00:00Z is 12:00 in Beijing; 15:00Z is 23:00. */
#define NOON_BJ  1795579200
#define NIGHT_BJ (NOON_BJ + 11 * 3600)
#define VALS_MAX 64

/* A distinct value for every path the templates use, and how the reply
 * shows it. */
typedef struct value {
    char path[ASSIST_PATH_MAX + 1];
    bool money; /* used with |money: an amount in minor units */
    json_int_t minor;
    char shown[64]; /* the text or the amount as the reply shows it */
} value;

typedef struct tenant {
    const char *name;
    char kb_dir[512];
    char rules_file[640];
    assist_kb *kb;
    json_t *rules;
    int nvals;
    value vals[VALS_MAX];
} tenant;

/* Rules with "withholds" that did hold something back. */
static char exercised[64][ID_MAX + 1];
static int nexercised;

static void note_exercised(const char *id)
{
    for (int i = 0; i < nexercised; i++)
        if (strcmp(exercised[i], id) == 0)
            return;
    assert_true(nexercised < 64);
    snprintf(exercised[nexercised++], ID_MAX + 1, "%s", id);
}

static void add_value(tenant *t, const char *path, bool amount)
{
    value *v;

    for (int i = 0; i < t->nvals; i++)
        if (strcmp(t->vals[i].path, path) == 0)
            return;
    assert_true(t->nvals < VALS_MAX);
    v = &t->vals[t->nvals];
    snprintf(v->path, sizeof(v->path), "%s", path);
    v->money = amount;
    v->minor = 9876500 + t->nvals * 100 + 11;
    if (amount)
        money_format_amount(v->shown, sizeof(v->shown), "CNY", v->minor);
    else
        snprintf(v->shown, sizeof(v->shown), "Q%dZ", 7001 + t->nvals);
    t->nvals++;
}

/* Every "{path}" and "{path|money}" of the tenant's templates. */
static void collect_paths(tenant *t)
{
    size_t i;
    json_t *r;

    json_array_foreach(json_object_get(t->rules, "replies"), i, r)
    {
        const char *s = json_string_value(json_object_get(r, "text"));

        for (const char *p = strchr(s, '{'); p != NULL;
             p = strchr(p + 1, '{')) {
            size_t n = strspn(p + 1, "abcdefghijklmnopqrstuvwxyz"
                                     "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-");
            char path[ASSIST_PATH_MAX + 1];

            if (n == 0 || n > ASSIST_PATH_MAX)
                continue;
            memcpy(path, p + 1, n);
            path[n] = '\0';
            add_value(t, path, strncmp(p + 1 + n, "|money}", 7) == 0);
        }
    }
}

/* The value as it goes into the task's JSON. */
static json_t *json_value(const value *v)
{
    return v->money ? json_integer(v->minor) : json_string(v->shown);
}

/* Put value v at its dotted path into task (objects are made on the way;
 * "history.0.fields.reason" goes into the first history entry). */
static void put_path(json_t *task, const value *v)
{
    char path[ASSIST_PATH_MAX + 1];
    json_t *at = task;
    char *seg, *save = NULL;

    snprintf(path, sizeof(path), "%s", v->path);
    for (seg = strtok_r(path, ".", &save); seg != NULL;) {
        char *next = strtok_r(NULL, ".", &save);
        json_t *child;

        if (json_is_array(at)) {
            child = json_array_get(at, (size_t)atoi(seg));
        } else if (next == NULL) {
            json_object_set_new(at, seg, json_value(v));
            return;
        } else {
            child = json_object_get(at, seg);
            if (child == NULL) {
                child = json_object();
                json_object_set_new(at, seg, child);
            }
        }
        if (child == NULL)
            return;
        at = child;
        seg = next;
    }
}

static char *task_json(const tenant *t, const char *case_type,
                       const json_t *step, const char *language)
{
    json_t *task =
        json_pack("{s:i,s:i,s:i,s:i,s:s,s:s,s:s,s:s,s:s,s:{s:s,s:s,s:s},s:{},"
                  "s:[{s:s,s:s,s:s,s:{}}],s:O}",
                  "reservation_id", 1, "epoch", 1, "task_id", 1, "case_id", 1,
                  "tenant", t->name, "case_type", case_type, "step",
                  json_string_value(json_object_get(step, "key")), "channel",
                  json_string_value(json_object_get(step, "channel")),
                  "external_id", "EXT-Q7000Z", "customer", "name", "Kim Tester",
                  "phone", "+86 139 0000 0000", "language", language, "payload",
                  "history", "step", "intake", "worker", "w9", "code", "logged",
                  "fields", "outcomes", json_object_get(step, "outcomes"));
    char *s;

    assert_non_null(task);
    for (int i = 0; i < t->nvals; i++)
        put_path(task, &t->vals[i]);
    s = json_dumps(task, JSON_COMPACT);
    json_decref(task);
    return s;
}

/* Whether the panel suggests the next step code. */
static bool suggests_step(const assist_panel *p, const char *code)
{
    char want[ID_MAX + 8];

    snprintf(want, sizeof(want), " - %s (", code);
    for (int i = 0; i < p->nlines; i++)
        if (strncmp(assist_panel_line(p, i), want, strlen(want)) == 0)
            return true;
    return false;
}

/* Does the withheld entry ent (a "withholds" entry) cover path? */
static bool covers(const char *ent, const char *path)
{
    size_t n = strlen(ent);

    return strncmp(path, ent, n) == 0 && (path[n] == '\0' || path[n] == '.');
}

/* Nothing a prompt not yet acknowledged withholds is suggested. */
static void check_held(const tenant *t, const assist_panel *p,
                       const char *where)
{
    const char *reply = p->reply != NULL ? p->reply : "";

    for (int i = 0; i < p->prompts.n; i++) {
        const assist_prompt *pr = &p->prompts.items[i];
        char list[ASSIST_WITHHOLDS_TEXT_MAX + 1], *ent, *save = NULL;

        if (!pr->ack_required || pr->acked || pr->withholds[0] == '\0')
            continue;
        snprintf(list, sizeof(list), "%s", pr->withholds);
        for (ent = strtok_r(list, " ", &save); ent != NULL;
             ent = strtok_r(NULL, " ", &save)) {
            if (strcmp(ent, "reply") == 0) {
                if (p->reply != NULL)
                    fail_msg("%s: %s withholds the reply, but it is "
                             "suggested: %s",
                             where, pr->id, p->reply);
                if (p->has_template)
                    note_exercised(pr->id);
                continue;
            }
            if (strncmp(ent, "outcomes.", 9) == 0) {
                for (int s = 0; s < p->nsteps; s++) {
                    if (!covers(ent, "outcomes") &&
                        strcmp(p->step_codes[s], ent + 9) != 0)
                        continue;
                    if (suggests_step(p, p->step_codes[s]))
                        fail_msg("%s: %s withholds %s, but it is a next step",
                                 where, pr->id, p->step_codes[s]);
                    note_exercised(pr->id);
                }
                continue;
            }
            for (int v = 0; v < t->nvals; v++) {
                if (!covers(ent, t->vals[v].path))
                    continue;
                if (strstr(reply, t->vals[v].shown) != NULL)
                    fail_msg("%s: %s withholds %s, but the reply states it "
                             "(%s): %s",
                             where, pr->id, t->vals[v].path, t->vals[v].shown,
                             reply);
                if (p->reply_held > 0)
                    note_exercised(pr->id);
            }
        }
    }
    if (p->reply != NULL &&
        assist_rules_forbidden_in(assist_kb_rules(t->kb), &p->ctx, p->reply) !=
            NULL)
        fail_msg("%s: the reply holds a forbidden phrase: %s", where, p->reply);
}

static void check_step(const tenant *t, const char *case_type,
                       const json_t *step, const char *language, int64_t now)
{
    char *body = task_json(t, case_type, step, language);
    char where[256];
    const char *tmpl;
    assist_task *task = NULL;
    assist_panel *p = NULL;
    err e = {0};

    snprintf(where, sizeof(where), "%s %s.%s (%s, %s)", t->name, case_type,
             json_string_value(json_object_get(step, "key")), language,
             now == NOON_BJ ? "noon" : "night");
    if (assist_task_parse(&task, body, strlen(body), &e) != ST_OK ||
        assist_panel_build(&p, t->kb, task, now, 5, &e) != ST_OK)
        fail_msg("%s: %s", where, e.msg);
    check_held(t, p, where);
    for (int i = 0; i < p->prompts.n; i++) {
        if (!p->prompts.items[i].ack_required || p->prompts.items[i].acked)
            continue;
        assert_int_equal(assist_panel_ack(p, p->prompts.items[i].id, &e),
                         ST_OK);
        check_held(t, p, where);
    }
    /* Everything acknowledged: the whole reply and every step again. */
    tmpl = assist_rules_reply(assist_kb_rules(t->kb), case_type,
                              assist_task_step(task), language);
    if (tmpl != NULL) {
        char *full = NULL;

        assert_int_equal(
            assist_reply_render(tmpl, task, "CNY", &full, NULL, &e), ST_OK);
        assert_non_null(p->reply);
        if (strcmp(p->reply, full) != 0)
            fail_msg("%s: acknowledged, the reply should be whole:\n%s\n%s",
                     where, p->reply, full);
        free(full);
    }
    for (int s = 0; s < p->nsteps; s++)
        assert_true(suggests_step(p, p->step_codes[s]));
    assist_panel_destroy(p);
    assist_task_destroy(task);
    free(body);
}

static void tenant_load(tenant *t, const char *name)
{
    json_error_t je;
    err e = {0};

    memset(t, 0, sizeof(*t));
    t->name = name;
    snprintf(t->kb_dir, sizeof(t->kb_dir), "%s/examples/kb/%s", TL_SOURCE_DIR,
             name);
    snprintf(t->rules_file, sizeof(t->rules_file), "%s/rules.json", t->kb_dir);
    if (assist_kb_load(&t->kb, t->kb_dir, &e) != ST_OK)
        fail_msg("%s", e.msg);
    t->rules = json_load_file(t->rules_file, 0, &je);
    assert_non_null(t->rules);
    collect_paths(t);
}

static void tenant_free(tenant *t)
{
    assist_kb_destroy(t->kb);
    json_decref(t->rules);
}

static void test_every_example_rule(void **state)
{
    static const char *const files[] = {EX("bank.json"), EX("insurer.json")};
    static const char *const tenants[] = {"jsbank", "hzinsure"};
    static const char *const languages[] = {"zh", "en"};
    int withholding = 0;

    (void)state;
    for (int f = 0; f < 2; f++) {
        json_error_t je;
        json_t *doc = json_load_file(files[f], 0, &je), *pb;
        tenant t;
        size_t i, j, r;
        json_t *step, *rule;
        static const char *const sections[] = {
            "contact_hours", "forbidden_phrases", "disclosures"};

        assert_non_null(doc);
        tenant_load(&t, tenants[f]);
        for (int s = 0; s < 3; s++)
            json_array_foreach(json_object_get(t.rules, sections[s]), r, rule)
                withholding += json_object_get(rule, "withholds") != NULL;
        json_array_foreach(json_object_get(doc, "playbooks"), i, pb)
        {
            const char *ct =
                json_string_value(json_object_get(pb, "case_type"));

            if (strcmp(json_string_value(json_object_get(pb, "tenant")),
                       t.name) != 0)
                continue;
            json_array_foreach(json_object_get(pb, "steps"), j, step)
            {
                for (int l = 0; l < 2; l++) {
                    check_step(&t, ct, step, languages[l], NOON_BJ);
                    check_step(&t, ct, step, languages[l], NIGHT_BJ);
                }
            }
        }
        tenant_free(&t);
        json_decref(doc);
    }
    /* Every rule that withholds something held it back at least once:
     * verify_identity, collections_contact_hours, no_payout_promise and
     * four_eyes. */
    assert_true(withholding >= 4);
    if (nexercised != withholding)
        fail_msg("%d rules withhold something, %d held it back", withholding,
                 nexercised);
}

/* A sentence whose case data holds a forbidden phrase is never suggested,
 * whatever is acknowledged. */
static void test_forbidden_phrase_in_case_data(void **state)
{
    static const char body[] =
        "{\"tenant\":\"jsbank\",\"case_type\":\"card_dispute\","
        "\"step\":\"intake\",\"channel\":\"chat\",\"customer\":{\"name\":"
        "\"Emma\",\"language\":\"en\"},\"payload\":{\"card_last4\":\"1234\","
        "\"merchant\":\"This Is The Police Bar\",\"transaction_date\":"
        "\"2026-11-02\",\"amount_minor\":45900}}";
    assist_kb *kb = NULL;
    assist_task *t = NULL;
    assist_panel *p = NULL;
    err e = {0};
    bool said = false;

    (void)state;
    assert_int_equal(assist_kb_load(&kb, EX("kb/jsbank"), &e), ST_OK);
    assert_int_equal(assist_task_parse(&t, body, strlen(body), &e), ST_OK);
    assert_int_equal(assist_panel_build(&p, kb, t, NOON_BJ, 3, &e), ST_OK);
    assert_int_equal(assist_panel_ack(p, "verify_identity", &e), ST_OK);
    assert_non_null(p->reply);
    assert_null(strstr(p->reply, "Police"));
    assert_non_null(strstr(p->reply, "within 10 working days"));
    assert_int_equal(p->reply_forbidden, 1);
    assert_string_equal(p->reply_forbidden_by, "no_impersonation");
    for (int i = 0; i < p->nlines; i++)
        said =
            said || strstr(assist_panel_line(p, i),
                           "(1 sentence(s) left out: the case data in them "
                           "holds a phrase no_impersonation forbids)") != NULL;
    assert_true(said);
    assist_panel_destroy(p);
    assist_task_destroy(t);
    assist_kb_destroy(kb);
}

static void test_withholds_parse_errors(void **state)
{
    static const struct {
        const char *json;
        const char *msg;
    } cases[] = {
        {"{\"tenant\":\"t\",\"disclosures\":[{\"id\":\"a\",\"text\":\"x\","
         "\"withholds\":[\"payload\"]}]}",
         "disclosures[0].withholds needs \"ack_required\": true"},
        {"{\"tenant\":\"t\",\"disclosures\":[{\"id\":\"a\",\"text\":\"x\","
         "\"ack_required\":true,\"withholds\":[]}]}",
         "disclosures[0].withholds is empty"},
        {"{\"tenant\":\"t\",\"disclosures\":[{\"id\":\"a\",\"text\":\"x\","
         "\"ack_required\":true,\"withholds\":[\"paylod.amount\"]}]}",
         "disclosures[0].withholds[0] must be \"reply\" or a dotted path"},
        {"{\"tenant\":\"t\",\"disclosures\":[{\"id\":\"a\",\"text\":\"x\","
         "\"ack_required\":true,\"withholds\":[\"payload..x\"]}]}",
         "disclosures[0].withholds[0] must be"},
        {"{\"tenant\":\"t\",\"forbidden_phrases\":[{\"id\":\"a\",\"text\":"
         "\"x\",\"phrases\":[\"p\"],\"ack_required\":true,\"withholds\":"
         "[\"payload.\"]}]}",
         "forbidden_phrases[0].withholds[0] must be"},
        {"{\"tenant\":\"t\",\"disclosures\":[{\"id\":\"a\",\"text\":\"x\","
         "\"ack_required\":true,\"withholds\":[7]}]}",
         "disclosures[0].withholds[0] must be"},
    };
    static const char good[] =
        "{\"tenant\":\"t\",\"disclosures\":[{\"id\":\"a\",\"text\":\"x\","
        "\"ack_required\":true,\"withholds\":[\"reply\",\"customer.phone\","
        "\"outcomes.paid\",\"history.0.fields\"]}]}";
    assist_rules *r = NULL;
    err e = {0};

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        status st = assist_rules_parse(&r, cases[i].json, strlen(cases[i].json),
                                       "r.json", &e);

        if (st == ST_OK || strstr(e.msg, cases[i].msg) == NULL)
            fail_msg("case %zu: got %s: %s", i, status_code(st), e.msg);
        assert_null(strstr(e.msg, "(null)"));
    }
    if (assist_rules_parse(&r, good, strlen(good), "r.json", &e) != ST_OK)
        fail_msg("%s", e.msg);
    assist_rules_destroy(r);
}

/* assist_prompts_withheld: a path, a path above it, and nothing once the
 * prompt is acknowledged. */
static void test_withheld_paths(void **state)
{
    assist_prompts p;
    const char *by = NULL;
    err e = {0};

    (void)state;
    memset(&p, 0, sizeof(p));
    p.n = 1;
    snprintf(p.items[0].id, sizeof(p.items[0].id), "verify_identity");
    p.items[0].ack_required = true;
    snprintf(p.items[0].withholds, sizeof(p.items[0].withholds),
             " payload external_id ");
    assert_true(assist_prompts_withheld(&p, "payload", &by));
    assert_string_equal(by, "verify_identity");
    assert_true(assist_prompts_withheld(&p, "payload.overdue_minor", NULL));
    assert_true(assist_prompts_withheld(&p, "payload.a.b", NULL));
    assert_true(assist_prompts_withheld(&p, "external_id", NULL));
    assert_false(assist_prompts_withheld(&p, "payloads", NULL));
    assert_false(assist_prompts_withheld(&p, "customer.name", NULL));
    assert_false(assist_prompts_withheld(&p, "reply", NULL));
    assert_int_equal(assist_prompts_ack(&p, "verify_identity", &e), ST_OK);
    assert_false(assist_prompts_withheld(&p, "payload.overdue_minor", NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_example_rule),
        cmocka_unit_test(test_forbidden_phrase_in_case_data),
        cmocka_unit_test(test_withholds_parse_errors),
        cmocka_unit_test(test_withheld_paths),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
