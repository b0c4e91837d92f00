/*
 * Fuzz target for the playbook codec (contracts/playbook.h), the decoder
 * `twinline load` and the dispatcher share. The input is a load document
 * ({"playbooks": [...]}) or one playbook object. Every playbook that
 * decodes is stored as the loader stores it (playbook_step_encode) and
 * decoded again from those rows as the dispatcher does; the two must be the
 * same playbook, or the target aborts. Built as a libFuzzer binary with
 * clang (-DTL_FUZZ=ON) and, always, as a replay of the seed corpus (the
 * playbooks of examples/ and edge cases) under the sanitizer build.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "jsonx.h"
#include "playbook.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The rows of pb as the loader stores them, decoded as the dispatcher
 * does; aborts when they differ from pb. */
static void round_trip(const playbook *pb)
{
    playbook rows;
    err e = {0};

    memset(&rows, 0, sizeof(rows));
    for (int k = 0; k < pb->nsteps; k++) {
        const pb_step *st = &pb->steps[k];
        pb_step_text t;

        if (playbook_step_encode(st, &t, &e) != ST_OK)
            abort();
        if (playbook_add_step(
                &rows, st->key, playbook_channel_name(st->channel),
                st->sla_seconds, playbook_ai_name(st->ai), t.skills, t.after,
                t.when, t.outcomes, &e) != ST_OK ||
            playbook_step_routing(&rows, k, st->licence, t.rings,
                                  st->ttl_seconds, &e) != ST_OK)
            abort(); /* the loader stored what the dispatcher refuses */
        rows.steps[k].broadcast = st->broadcast;
        playbook_step_text_free(&t);
    }
    if (playbook_resolve(&rows, &e) != ST_OK)
        abort();
    {
        /* The schemas as the loader stores them in the definition. */
        char *p = pb->payload != NULL
                      ? jsonx_dump(payload_schema_json(pb->payload))
                      : NULL;
        char *c = pb->customer != NULL
                      ? jsonx_dump(payload_schema_json(pb->customer))
                      : NULL;
        status s = playbook_set_schemas(&rows, p, c, &e);

        free(p);
        free(c);
        if (s != ST_OK)
            abort();
    }
    if (!playbook_same(pb, &rows))
        abort();
    playbook_release(&rows);
}

/* Run the progression rule with every step completed by its first
 * outcome: it must terminate and finish the playbook. */
static void progress(const playbook *pb)
{
    pb_state states[PB_MAX_STEPS];
    char codes[PB_MAX_STEPS][ID_MAX + 1];

    for (int i = 0; i < pb->nsteps; i++) {
        states[i] = PB_WAITING;
        codes[i][0] = '\0';
    }
    for (int round = 0; round <= pb->nsteps; round++) {
        playbook_advance(pb, states, (const char(*)[ID_MAX + 1]) codes);
        for (int i = 0; i < pb->nsteps; i++)
            if (states[i] == PB_READY) {
                states[i] = PB_COMPLETED;
                memcpy(codes[i], pb->steps[i].outcomes[0].code, ID_MAX + 1);
            }
    }
    if (!playbook_finished(pb, states))
        abort(); /* an acyclic graph always finishes */
}

static void one(const json_t *doc)
{
    playbook *pb = NULL;
    err e = {0};

    if (playbook_decode(doc, "playbooks[0]", &pb, &e) != ST_OK)
        return;
    round_trip(pb);
    progress(pb);
    playbook_destroy(pb);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *root = NULL;
    const json_t *pbs;
    err e = {0};

    if (jsonx_parse((const char *)data, size, 1024 * 1024, &root, &e) != ST_OK)
        return 0;
    pbs = json_object_get(root, "playbooks");
    if (json_is_array(pbs))
        for (size_t i = 0; i < json_array_size(pbs); i++)
            one(json_array_get(pbs, i));
    else
        one(root);
    json_decref(root);
    return 0;
}
