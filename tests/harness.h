/*
 * Helpers for integration tests that drive the dispatcher over NATS: run it
 * in a thread, send requests as a bank or a worker, collect what the
 * dispatcher publishes to a worker. Test code: failures abort the test.
 */
#ifndef TL_HARNESS_H
#define TL_HARNESS_H

#include <pthread.h>
#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>

#include "agent_sim.h"
#include "agent_stats.h"
#include "bus.h"
#include "dispatcher.h"
#include "fixture.h"

typedef struct running_dispatcher {
    dispatcher *d;
    pthread_t thread;
} running_dispatcher;

/* Create and run a dispatcher for f in a thread. */
void harness_start(running_dispatcher *rd, fixture *f,
                   const dispatcher_opts *o);
void harness_stop(running_dispatcher *rd);

/* Messages published to one subject pattern, kept in arrival order. */
typedef struct inbox {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    char *bodies[512];
    int n;
    int head;
} inbox;

/* Subscribe ib to subject on b. */
void inbox_listen(inbox *ib, bus *b, const char *subject);
/* Next message parsed as JSON within timeout_ms, or NULL. Caller decrefs. */
json_t *inbox_next(inbox *ib, int timeout_ms);
/* Discard what has arrived. */
void inbox_drain(inbox *ib);

/* Request on "<prefix>.<rest>" with body; reply parsed (caller decrefs). */
json_t *harness_request(fixture *f, bus *b, const char *rest, const char *body);

/* Error code of a reply ("" when ok). */
const char *harness_error_code(const json_t *reply);

/* Load the shipped examples (operator, bank, insurer) into f's database. */
void harness_load_examples(fixture *f);

/* The billing service of f, running in a thread (small stream, fast
 * sweeper). */
typedef struct running_billing {
    struct billing_service *s;
    pthread_t thread;
} running_billing;

/* Start billing; retries for a few seconds while the event stream is not
 * there yet (a dispatcher in another process creates it). */
void harness_billing_start(running_billing *rb, fixture *f);
void harness_billing_stop(running_billing *rb);

/* Seed a small world: tenant bank1 with case type loan (steps contact ->
 * legal when dispute), pools front (wa, wb) and spec (wc), contracts. */
void harness_seed(fixture *f);

/*
 * The world of a dispatcher test: a fresh database seeded by harness_seed
 * and then the world's and the test's own SQL, the dispatcher running in
 * a thread, a bus, and an inbox of the offers and one of the notices of
 * each worker listed (offers[i] and notices[i] for workers[i]).
 */
#define HARNESS_WORKERS_MAX 8

typedef struct harness_world_opts {
    const char *seed_sql;              /* the file's world, or NULL */
    const char *sql;                   /* the test's additions, or NULL */
    const dispatcher_opts *dispatcher; /* NULL: the defaults */
    const char *const *workers;        /* whose offers and notices to keep */
    int nworkers;                      /* at most HARNESS_WORKERS_MAX */
} harness_world_opts;

typedef struct harness_world {
    fixture f;
    running_dispatcher rd;
    bus *b;
    int nworkers;
    inbox offers[HARNESS_WORKERS_MAX];
    inbox notices[HARNESS_WORKERS_MAX];
} harness_world;

/* Set up *w for the test name as o says; harness_world_down ends it. */
void harness_world_up(harness_world *w, const char *name,
                      const harness_world_opts *o);
/* Stop the dispatcher, close the bus, drop the inboxes and the database. */
void harness_world_down(harness_world *w);

/* The real dispatcher binary of this build in a child process that dies
 * with the test (lease and offer time-out 3 s, an 8 MB stream), on f's
 * database, NATS and prefix. */
pid_t harness_spawn_dispatcher(fixture *f);

/*
 * A case.submit body for case type case_type of the examples with external
 * id ext: a realistic case of the simulated bank feed (sim/feed.h), drawn
 * from seed, that the example playbook's payload schema accepts. The
 * caller frees it.
 */
char *harness_case_body(const char *case_type, const char *ext, uint64_t seed);

/* Submit case <ext_prefix>-<i> (case types of harness_load_examples in
 * turn), retrying for up to 30 s while no dispatcher answers: a
 * resubmission is idempotent, so a retry after a lost reply creates
 * nothing twice. Fails the test when it is never accepted. */
void harness_submit_retry(fixture *f, bus *b, const char *ext_prefix, int i);

/* Simulated agents (agent_sim) for every worker in f's database, each
 * taking handle_ms per task, counting into a new *stats; on-call workers
 * wait offline for a call-up (agent_sim_opts.standby). The caller
 * destroys both (agent_sim_destroy, agent_stats_destroy). */
void harness_agents_start(fixture *f, int handle_ms, agent_sim **sim,
                          agent_stats **stats);

#endif
