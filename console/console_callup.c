/* The elastic call-up: who to invite and who to release, every round. */
#include "console_callup.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "clock.h"
#include "console_sql.h"
#include "ids.h"
#include "jsonx.h"
#include "log.h"
#include "staffing.h"
#include "subjects.h"

#define MOD         "console"
#define TIMERS_MAX  256   /* queues whose surplus is being timed */
#define INVITE_STEP 5     /* invitations per queue and round at most */
#define DEFAULT_AHT 180.0 /* seconds, before the rollup has any */

typedef struct surplus {
    char pool[ID_MAX + 1];
    char skill[ID_MAX + 1];
    int64_t since_us; /* 0: no surplus */
} surplus;

struct console_callup {
    console_callup_opts o;
    surplus timers[TIMERS_MAX];
    int ntimers;
};

status console_callup_create(console_callup **out, const console_callup_opts *o,
                             err *e)
{
    console_callup *cu = calloc(1, sizeof(*cu));

    if (cu == NULL)
        return err_set(e, ST_NOMEM, "out of memory");
    cu->o = *o;
    *out = cu;
    return ST_OK;
}

void console_callup_destroy(console_callup *cu)
{
    free(cu);
}

static surplus *timer_of(console_callup *cu, const char *pool,
                         const char *skill)
{
    surplus *t;

    for (int i = 0; i < cu->ntimers; i++) {
        t = &cu->timers[i];
        if (strcmp(t->pool, pool) == 0 && strcmp(t->skill, skill) == 0)
            return t;
    }
    if (cu->ntimers == TIMERS_MAX)
        return NULL;
    t = &cu->timers[cu->ntimers++];
    snprintf(t->pool, sizeof(t->pool), "%s", pool);
    snprintf(t->skill, sizeof(t->skill), "%s", skill);
    t->since_us = 0;
    return t;
}

/* Send req (stolen) to <prefix>.ops.<op>.<verb>; true when done. */
static bool send(const console_callup *cu, bus *b, const char *prefix,
                 const char *op, const char *verb, json_t *req)
{
    char subject[SUBJECTS_MAX], *body = jsonx_dump(req);
    bus_msg *m = NULL;
    json_t *rep = NULL;
    err e = {0};
    bool ok = false;

    json_decref(req);
    if (body == NULL ||
        subjects_ops(subject, sizeof(subject), prefix, op, verb, &e) != ST_OK ||
        bus_request(b, subject, body, strlen(body), cu->o.request_timeout_ms,
                    &m, &e) != ST_OK ||
        jsonx_parse(bus_msg_data(m), bus_msg_len(m), 1 << 16, &rep, &e) !=
            ST_OK) {
        log_warn(MOD, "call-up: %s not done: %s", verb,
                 e.msg[0] ? e.msg : "out of memory");
        goto out;
    }
    ok = json_is_true(json_object_get(rep, "ok"));
    if (!ok)
        log_info(MOD, "call-up: the dispatcher refused %s: %s", verb,
                 jsonx_str(json_object_get(rep, "error"), "message"));
out:
    json_decref(rep);
    bus_msg_free(m);
    free(body);
    return ok;
}

/* The workers the next interval needs: the pool's model and target on the
 * arrivals expected (the recent rate over an interval, plus the backlog). */
static int required_of(const console_callup *cu, const db_res *r, int i,
                       double *arrivals_out)
{
    staffing_params p;
    staffing_interval si;
    double rate, arrivals, aht;
    int slots;
    err e = {0};

    staffing_params_default(&p);
    (void)staffing_model_parse(db_val(r, i, CONSOLE_CALLUP_QUEUES_MODEL),
                               &p.model, &e);
    p.threshold_s = (double)db_i64(r, i, CONSOLE_CALLUP_QUEUES_THRESHOLD_S);
    p.target.service_level =
        (double)db_i64(r, i, CONSOLE_CALLUP_QUEUES_TARGET_PERMILLE) / 1000.0;
    p.target.max_occupancy = p.model == STAFFING_WORKLOAD ? 0.85 : 0;
    p.patience_s = (double)db_i64(r, i, CONSOLE_CALLUP_QUEUES_PATIENCE_S);
    slots = (int)db_i64(r, i, CONSOLE_CALLUP_QUEUES_SLOTS);
    p.slots = slots < 1                    ? 1
              : slots > STAFFING_MAX_SLOTS ? STAFFING_MAX_SLOTS
                                           : slots;
    aht = strtod(db_val(r, i, CONSOLE_CALLUP_QUEUES_AHT_S), NULL);
    if (!(aht > 0))
        aht = DEFAULT_AHT;
    rate = (double)db_i64(r, i, CONSOLE_CALLUP_QUEUES_ARRIVALS) /
           (double)cu->o.window_s;
    arrivals = rate * p.interval_s +
               (double)db_i64(r, i, CONSOLE_CALLUP_QUEUES_WAITING);
    *arrivals_out = arrivals;
    if (staffing_required(&p, arrivals, aht, &si, &e) != ST_OK) {
        log_warn(MOD, "call-up: staffing pool %s: %s",
                 db_val(r, i, CONSOLE_CALLUP_QUEUES_POOL_ID), e.msg);
        return 0;
    }
    return si.workers;
}

static int invite(const console_callup *cu, db *d, bus *b, const char *prefix,
                  const db_res *r, int i, int required, int online, int gap,
                  double arrivals, err *e)
{
    const char *op = db_val(r, i, CONSOLE_CALLUP_QUEUES_OPERATOR_ID);
    const char *pool = db_val(r, i, CONSOLE_CALLUP_QUEUES_POOL_ID);
    const char *skill = db_val(r, i, CONSOLE_CALLUP_QUEUES_SKILL);
    char lim[24], reason[300];
    const char *params[3] = {pool, skill, lim};
    db_res *c = NULL;
    int n = 0;

    snprintf(lim, sizeof(lim), "%d", gap < INVITE_STEP ? gap : INVITE_STEP);
    if (db_run(d, &console_sql_callup_candidates, params, &c, e) != ST_OK)
        return -1;
    snprintf(reason, sizeof(reason),
             "the next interval needs %d workers with %s in pool %s "
             "(%.0f tasks expected, %lld waiting); %d online",
             required, skill, pool, arrivals,
             (long long)db_i64(r, i, CONSOLE_CALLUP_QUEUES_WAITING), online);
    for (int k = 0; k < db_rows(c); k++) {
        json_t *req =
            json_pack("{s:s, s:s, s:s, s:i, s:i, s:i, s:s}", "worker",
                      db_val(c, k, CONSOLE_CALLUP_CANDIDATES_WORKER_ID), "pool",
                      pool, "skill", skill, "required", required, "online",
                      online, "answer_s", cu->o.answer_s, "reason", reason);

        if (req != NULL && send(cu, b, prefix, op, "callup.invite", req)) {
            log_info(MOD, "call-up: invited %s to pool %s (%s)",
                     db_val(c, k, CONSOLE_CALLUP_CANDIDATES_WORKER_ID), pool,
                     reason);
            n++;
        }
    }
    db_res_free(c);
    return n;
}

static int release(const console_callup *cu, db *d, bus *b, const char *prefix,
                   const db_res *r, int i, int required, int online, err *e)
{
    const char *op = db_val(r, i, CONSOLE_CALLUP_QUEUES_OPERATOR_ID);
    const char *pool = db_val(r, i, CONSOLE_CALLUP_QUEUES_POOL_ID);
    const char *skill = db_val(r, i, CONSOLE_CALLUP_QUEUES_SKILL);
    const char *params[3] = {pool, skill, "1"};
    char reason[300];
    db_res *c = NULL;
    int n = 0;

    if (db_run(d, &console_sql_callup_releasable, params, &c, e) != ST_OK)
        return -1;
    snprintf(reason, sizeof(reason),
             "the queue shrank: %d workers with %s in pool %s are enough "
             "for the next interval and %d are online",
             required, skill, pool, online);
    for (int k = 0; k < db_rows(c); k++) {
        json_t *req =
            json_pack("{s:s, s:s}", "worker",
                      db_val(c, k, CONSOLE_CALLUP_RELEASABLE_WORKER_ID),
                      "reason", reason);

        if (req != NULL && send(cu, b, prefix, op, "callup.release", req)) {
            log_info(MOD, "call-up: released %s from pool %s (%s)",
                     db_val(c, k, CONSOLE_CALLUP_RELEASABLE_WORKER_ID), pool,
                     reason);
            n++;
        }
    }
    db_res_free(c);
    return n;
}

status console_callup_step(console_callup *cu, db *d, bus *b,
                           const char *prefix, int *invited, int *released,
                           err *e)
{
    char wbuf[24];
    const char *params[1] = {wbuf};
    int64_t now = clock_mono_us();
    db_res *r = NULL;
    int ni = 0, nr = 0;
    status s;

    snprintf(wbuf, sizeof(wbuf), "%d", cu->o.window_s);
    s = db_run(d, &console_sql_callup_queues, params, &r, e);
    /* A call-up is for a pool and skill, whatever the channel: the rows
     * of one (pool, skill) are adjacent, and the figure is the largest
     * any of its channels needs (the row i that needs it speaks for
     * them). */
    for (int i = 0, j; s == ST_OK && i < db_rows(r); i = j) {
        const char *pool = db_val(r, i, CONSOLE_CALLUP_QUEUES_POOL_ID);
        const char *skill = db_val(r, i, CONSOLE_CALLUP_QUEUES_SKILL);
        int online = (int)db_i64(r, i, CONSOLE_CALLUP_QUEUES_ONLINE);
        int pending = (int)db_i64(r, i, CONSOLE_CALLUP_QUEUES_INVITED);
        int accepted = (int)db_i64(r, i, CONSOLE_CALLUP_QUEUES_ACCEPTED);
        surplus *t = timer_of(cu, pool, skill);
        double arrivals = 0;
        int required = -1, at = i, k;

        for (j = i;
             j < db_rows(r) &&
             strcmp(db_val(r, j, CONSOLE_CALLUP_QUEUES_POOL_ID), pool) == 0 &&
             strcmp(db_val(r, j, CONSOLE_CALLUP_QUEUES_SKILL), skill) == 0;
             j++) {
            double a = 0;
            int need = required_of(cu, r, j, &a);

            if (need > required) {
                required = need;
                arrivals = a;
                at = j;
            }
        }
        /* Invite when the figure exceeds who is online or coming; release
         * only when one fewer would still meet it, and only once that has
         * lasted hold_s: between the two the pool is left as it is. */
        if (required > online + pending) {
            if (t != NULL)
                t->since_us = 0;
            k = invite(cu, d, b, prefix, r, at, required, online,
                       required - online - pending, arrivals, e);
            if (k < 0)
                s = e->code;
            else
                ni += k;
        } else if (accepted > 0 && online - 1 >= required && t != NULL) {
            if (t->since_us == 0) {
                t->since_us = now;
            } else if (now - t->since_us >= (int64_t)cu->o.hold_s * 1000000) {
                k = release(cu, d, b, prefix, r, at, required, online, e);
                if (k < 0)
                    s = e->code;
                nr += k > 0 ? k : 0;
                t->since_us = now; /* the next one after another hold */
            }
        } else if (t != NULL) {
            t->since_us = 0;
        }
    }
    db_res_free(r);
    if (invited != NULL)
        *invited = ni;
    if (released != NULL)
        *released = nr;
    return s;
}
