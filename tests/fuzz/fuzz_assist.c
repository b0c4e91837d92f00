/*
 * Fuzz target for the assist panel's parsers of outside input: the
 * tokeniser (any bytes), the rules file parser, and a rules file's checks
 * and templates run against a draft and a task made of the same bytes.
 * Built as a libFuzzer binary with clang (-DTL_FUZZ=ON) and, always, as a
 * replay of the seed corpus under the normal sanitizer build.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "assist_reply.h"
#include "assist_rules.h"
#include "assist_task.h"
#include "assist_tokenize.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool count_token(const char *tok, size_t len, void *arg)
{
    size_t *total = arg;

    /* Tokens are never empty, never longer than the bound, always
     * terminated. */
    if (len == 0 || len > ASSIST_TOKEN_MAX || tok[len] != '\0')
        abort();
    *total += len;
    return true;
}

static void exercise_rules(const assist_rules *r, const char *text)
{
    assist_rules_ctx c = {"loan_overdue", "contact", "voice", 480, true};
    assist_prompts *p = calloc(1, sizeof(*p));
    assist_rules_ctx doc = {"consumer_review", "assess", "backoffice", 480,
                            true};
    assist_doc_findings f;
    err e = {0};

    if (p == NULL)
        return;
    assist_rules_check(r, &c, 1795609800, p);
    assist_rules_check_draft(r, &c, text, p);
    assist_prompts_all_acked(p);
    /* The same bytes as a document under review (the AI worker's check). */
    if (assist_rules_check_document(r, &doc, text, &f, &e) == ST_OK &&
        (f.mentioned > 0 && f.checks == 0))
        abort(); /* a topic is mentioned only for a check that applies */
    free(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char task_json[] =
        "{\"tenant\":\"t\",\"case_type\":\"c\",\"step\":\"s\","
        "\"customer\":{\"name\":\"王伟\"},\"payload\":{\"a_minor\":5}}";
    char *text = malloc(size + 1);
    size_t total = 0;
    assist_rules *r = NULL;
    assist_task *t = NULL;
    char *out = NULL;
    err e = {0};

    if (text == NULL)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    assist_tokenize((const char *)data, size, count_token, &total);
    if (assist_rules_parse(&r, (const char *)data, size, "fuzz", &e) == ST_OK)
        exercise_rules(r, text);
    /* The input as a template, and as a task for a fixed template. */
    if (assist_task_parse(&t, task_json, strlen(task_json), &e) == ST_OK &&
        assist_reply_render(text, t, "CNY", &out, NULL, &e) == ST_OK)
        free(out);
    assist_task_destroy(t);
    t = NULL;
    if (assist_task_parse(&t, (const char *)data, size, &e) == ST_OK &&
        assist_reply_render(
            "{customer.name} {payload.x|money} {history.0.code}", t, NULL, &out,
            NULL, &e) == ST_OK)
        free(out);
    assist_task_destroy(t);
    assist_rules_destroy(r);
    free(text);
    return 0;
}
