/*
 * Fuzz target for what the dispatcher does with outside input before it
 * touches the database: strict JSON parsing, the field check of a case
 * submission, and the validation of a worker's outcome against a step.
 * Built as a libFuzzer binary with clang (-DTL_FUZZ=ON) and, always, as a
 * replay of the seed corpus under the normal sanitizer build.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "jsonx.h"
#include "playbook.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const jfield submit_fields[] = {
    {"external_id", JF_STRING, true}, {"case_type", JF_TOKEN, true},
    {"priority", JF_INT, false},      {"customer", JF_OBJECT, false},
    {"payload", JF_OBJECT, false},
};

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
    ready = 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *root = NULL;
    err e = {0};

    if (!ready)
        setup();
    if (jsonx_parse((const char *)data, size, 64 * 1024, &root, &e) != ST_OK)
        return 0;
    jsonx_check(root, "request", submit_fields, 5, &e);
    if (jsonx_str(root, "code") != NULL)
        playbook_check_outcome(&pb.steps[0], jsonx_str(root, "code"),
                               json_object_get(root, "fields"), &e);
    json_decref(root);
    return 0;
}
