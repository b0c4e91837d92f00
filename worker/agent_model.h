/*
 * The optional model client of the assist panel (docs/agent.md, "A model
 * beside the panel"): an OpenAI-compatible chat-completions endpoint is
 * given the case context and the retrieved passages, each with an id
 * ("P1".."Pk"), and asked for a suggested reply that cites the ids it
 * used. Off unless a URL is configured; the panel never depends on it.
 *
 * Only this module sees libcurl and the endpoint's JSON. A call has a hard
 * time limit; every failure (connection, HTTP status, time-out, a reply
 * that is not the expected shape, a citation of an id that was not given)
 * is a result with ok false and a reason a person can read, so the panel
 * shows the retrieval result and says why.
 *
 * The customer's name, phone and other contact data are not sent: the
 * model sees the case type, step, channel, language, payload, history and
 * passages. An agent_model may be used by one thread at a time.
 */
#ifndef TL_AGENT_MODEL_H
#define TL_AGENT_MODEL_H

#include <stdbool.h>
#include <stdint.h>

#include "assist_panel.h"
#include "assist_task.h"
#include "err.h"

#define AGENT_MODEL_RESPONSE_MAX (256 * 1024) /* bytes of an HTTP body */
#define AGENT_MODEL_REPLY_MAX    4096         /* bytes of the suggestion */
#define AGENT_MODEL_KEY_MAX      4096         /* bytes of the API key */
#define AGENT_MODEL_PROMPT_MAX   (32 * 1024)  /* bytes of the user prompt */
#define AGENT_MODEL_REASON_MAX   255

typedef struct agent_model_opts {
    const char *url;      /* full URL of .../v1/chat/completions */
    const char *name;     /* the "model" member; may be NULL */
    const char *key_file; /* file holding the bearer key; may be NULL */
    int timeout_ms;       /* hard limit of one call, > 0 */
} agent_model_opts;

/* The question for one task: built without I/O from the task and panel. */
typedef struct agent_model_request {
    int64_t task_id;
    char *system; /* owned */
    char *user;   /* owned */
    int npassages;
} agent_model_request;

typedef struct agent_model_result {
    int64_t task_id;
    bool ok;
    char reason[AGENT_MODEL_REASON_MAX + 1]; /* why not, when !ok */
    char reply[AGENT_MODEL_REPLY_MAX + 1];   /* the suggestion, when ok */
    int ncited;
    int cited[ASSIST_PANEL_K_MAX]; /* passage indexes (0-based), in order */
    int64_t elapsed_ms;
} agent_model_result;

typedef struct agent_model agent_model;

/*
 * A client for o (copied). Reads the key file (trailing white space
 * dropped) into guarded memory. ST_CONFIG for a bad URL, time-out or key
 * file; ST_NOMEM.
 */
status agent_model_create(agent_model **out, const agent_model_opts *o, err *e);

/* Wipe the key and free; NULL is a no-op. */
void agent_model_destroy(agent_model *m);

/*
 * Build the request for task t with panel p's passages (P1 is
 * p->passages[0]). Payload values a prompt of p still withholds are left
 * out. *out is the caller's (agent_model_request_free). ST_NOMEM.
 */
status agent_model_request_build(agent_model_request *out, int64_t task_id,
                                 const assist_task *t, const assist_panel *p,
                                 err *e);

void agent_model_request_free(agent_model_request *r);

/*
 * Ask the endpoint. Blocks for at most the configured time-out. Always
 * fills *out; out->ok says whether the suggestion may be shown.
 */
void agent_model_suggest(agent_model *m, const agent_model_request *rq,
                         agent_model_result *out);

/*
 * Check a chat-completions response body strictly and fill *out (ok, reply
 * and citations, or the reason). npassages is how many ids were given.
 * Exposed for tests.
 */
void agent_model_parse(const char *body, size_t len, int npassages,
                       agent_model_result *out);

#endif
