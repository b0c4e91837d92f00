/*
 * Fuzz target for what the dispatcher does with outside input before it
 * touches the database: the real decoders of every request a bank, an
 * operator, an admin or an agent sends (contracts/case_msg.h,
 * contracts/admin_msg.h, contracts/agent_msg.h), the validation of a
 * completion's outcome against a step, and of a submit's customer and payload
 * against the case type's schema: what is split off to be sealed must merge
 * back into exactly what was sent, or the target aborts. Built as a libFuzzer
 * binary with clang (-DTL_FUZZ=ON) and, always, as a replay of the seed corpus
 * under the normal sanitizer build.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "admin_msg.h"
#include "agent_msg.h"
#include "case_msg.h"
#include "many_msg.h"
#include "payload.h"
#include "playbook.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static playbook pb;
static int ready;

static void setup(void)
{
    err e = {0};

    strcpy(pb.tenant, "bank");
    strcpy(pb.case_type, "loan");
    pb.version = 1;
    playbook_add_step(
        &pb, "contact", "voice", 300, "assist", "{\"collections\": 2}", "[]",
        "[]",
        "{\"promise_to_pay\": {\"billable\": true, \"fields\":"
        " {\"amount_minor\": \"amount_minor\", \"due_date\":"
        " \"date\", \"note\": \"string\", \"n\": \"int\","
        " \"ok\": \"bool\"}}, \"dispute\": {\"billable\": false}}",
        &e);
    playbook_resolve(&pb, &e);
    playbook_set_schemas(
        &pb,
        "{\"loan_id\": {\"type\": \"string\", \"max_length\": 16},"
        " \"days\": {\"type\": \"int\", \"min\": 0, \"max\": 999},"
        " \"due\": {\"type\": \"date\", \"required\": false},"
        " \"ok\": {\"type\": \"bool\", \"required\": false},"
        " \"note\": {\"type\": \"string\", \"required\": false,"
        "  \"personal\": true},"
        " \"home\": {\"type\": \"object\", \"required\": false,"
        "  \"personal\": true, \"fields\": {\"city\": {\"type\": \"string\"}}},"
        " \"guarantor\": {\"type\": \"object\", \"required\": false,"
        "  \"fields\": {\"name\": {\"type\": \"string\", \"personal\": true},"
        "  \"age\": {\"type\": \"int\", \"required\": false}}},"
        " \"items\": {\"type\": \"array\", \"required\": false,"
        "  \"items\": {\"type\": \"amount_minor\"}}}",
        "{\"name\": {\"type\": \"string\", \"max_length\": 40},"
        " \"phone\": {\"type\": \"string\", \"required\": false}}",
        &e);
    ready = 1;
}

/* A submit the schema accepts splits into a plain payload and a sealed
 * part that merge back into what was sent. */
static void split_and_merge(const case_submit *sub)
{
    char *plain = NULL, *personal = NULL, *view = NULL, *merged = NULL;
    json_t *sent_c, *sent_p, *got;
    err e = {0};
    size_t n;

    if (playbook_check_case(&pb, sub->customer, sub->payload, &plain, &personal,
                            &e) != ST_OK)
        return;
    n = strlen(plain) + 64;
    view = malloc(n);
    if (view == NULL)
        abort();
    snprintf(view, n, "{\"customer\":{},\"payload\":%s}", plain);
    if (payload_merge(view, personal, &merged, &e) != ST_OK)
        abort();
    sent_c = json_loads(sub->customer, 0, NULL);
    sent_p = json_loads(sub->payload, 0, NULL);
    got = json_loads(merged, 0, NULL);
    if (!json_equal(json_object_get(got, "payload"), sent_p) ||
        !json_equal(json_object_get(got, "customer"), sent_c))
        abort();
    json_decref(sent_c);
    json_decref(sent_p);
    json_decref(got);
    free(plain);
    free(personal);
    free(view);
    free(merged);
}

/* A bulk request's items through the single decoders, as the dispatcher
 * answers them (dispatcher/bulk.h); a bulk reply's results. */
static void bulk(const char *buf, size_t size)
{
    many_list l = {0};
    case_submit sub;
    agent_answer ans;
    agent_completion comp;
    bool ok;
    char code[48], message[256];
    err e = {0};

    if (case_msg_submit_many_decode(buf, size, &l, &e) == ST_OK) {
        for (int i = 0; i < l.n; i++)
            if (case_msg_submit_decode(l.text[i], l.len[i], &sub, &e) ==
                ST_OK) {
                split_and_merge(&sub);
                case_submit_release(&sub);
            }
        many_list_release(&l);
    }
    if (agent_msg_accept_many_decode(buf, size, &l, &e) == ST_OK) {
        for (int i = 0; i < l.n; i++)
            (void)agent_msg_accept_decode(l.text[i], l.len[i], &ans, &e);
        many_list_release(&l);
    }
    if (agent_msg_complete_many_decode(buf, size, &l, &e) == ST_OK) {
        for (int i = 0; i < l.n; i++)
            if (agent_msg_complete_decode(l.text[i], l.len[i], &comp, &e) ==
                ST_OK) {
                playbook_check_outcome(&pb.steps[0], comp.code, comp.fields,
                                       &e);
                agent_completion_release(&comp);
            }
        many_list_release(&l);
    }
    if (many_msg_reply_split(buf, size, &ok, code, message, &l, &e) == ST_OK)
        many_list_release(&l);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *buf = (const char *)data;
    case_submit sub;
    case_ref ref;
    case_dispute dis;
    case_task_priority prio;
    agent_presence_req pres;
    agent_heartbeat hb;
    agent_answer ans;
    agent_completion comp;
    static agent_feedback fb;
    admin_revoked rev;
    bool ok, released;
    char code[48];
    err e = {0};

    if (!ready)
        setup();
    if (case_msg_submit_decode(buf, size, &sub, &e) == ST_OK) {
        split_and_merge(&sub);
        case_submit_release(&sub);
    }
    (void)case_msg_get_decode(buf, size, &ref, &e);
    (void)case_msg_dispute_decode(buf, size, &dis, &e);
    (void)case_msg_priority_decode(buf, size, &prio, &e);
    (void)admin_msg_revoked_decode(buf, size, &rev, &e);
    (void)admin_msg_revoked_reply_decode(buf, size, &ok, &released, code, &e);
    (void)agent_msg_presence_decode(buf, size, &pres, &e);
    (void)agent_msg_heartbeat_decode(buf, size, &hb, &e);
    (void)agent_msg_accept_decode(buf, size, &ans, &e);
    (void)agent_msg_reject_decode(buf, size, &ans, &e);
    (void)agent_msg_feedback_decode(buf, size, &fb, &e);
    if (agent_msg_complete_decode(buf, size, &comp, &e) == ST_OK) {
        playbook_check_outcome(&pb.steps[0], comp.code, comp.fields, &e);
        agent_completion_release(&comp);
    }
    bulk(buf, size);
    return 0;
}
