/* Routing state: loaded from PostgreSQL at start and after a rollback. */
#include "state.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "dsp_sql.h"
#include "log.h"

#define MOD "dispatcher"

static status ensure_winfo(dispatcher *d, int w, err *e)
{
    if (w < d->cap_winfo)
        return ST_OK;
    int ncap = d->cap_winfo > 0 ? d->cap_winfo : 64;
    while (ncap <= w)
        ncap *= 2;
    worker_info *n = realloc(d->winfo, sizeof(worker_info) * (size_t)ncap);
    if (n == NULL)
        return err_set(e, ST_NOMEM, "out of memory");
    memset(n + d->cap_winfo, 0,
           sizeof(worker_info) * (size_t)(ncap - d->cap_winfo));
    d->winfo = n;
    d->cap_winfo = ncap;
    return ST_OK;
}

typedef struct wdef {
    router_worker_def def;
    bool available;
    int64_t idle_us;
} wdef;

static status ensure_pinfo(dispatcher *d, int pool, err *e)
{
    if (pool < d->cap_pinfo)
        return ST_OK;
    int ncap = d->cap_pinfo > 0 ? d->cap_pinfo : 16;
    while (ncap <= pool)
        ncap *= 2;
    pool_info *n = realloc(d->pinfo, sizeof(pool_info) * (size_t)ncap);
    if (n == NULL)
        return err_set(e, ST_NOMEM, "out of memory");
    memset(n + d->cap_pinfo, 0,
           sizeof(pool_info) * (size_t)(ncap - d->cap_pinfo));
    d->pinfo = n;
    d->cap_pinfo = ncap;
    return ST_OK;
}

/*
 * Pool weights and wrap-up (pool_routing). The router is told only about
 * weights that changed: setting them re-sorts the pool's queues. Channel
 * offer settings are read by the reserving statement itself (offers.c).
 */
static status load_settings(dispatcher *d, err *e)
{
    db_res *r = NULL;
    status s = db_run(d->db, &dsp_sql_pool_routing, NULL, &r, e);

    for (int i = 0; s == ST_OK && i < db_rows(r); i++) {
        router_weights w;
        pool_info *pi;
        int pool;
        s = strtab_intern(d->pools, db_val(r, i, DSP_POOL_ROUTING_POOL_ID),
                          &pool, e);
        if (s == ST_OK)
            s = ensure_pinfo(d, pool, e);
        if (s != ST_OK)
            break;
        pi = &d->pinfo[pool];
        pi->wrapup_us = db_i64(r, i, DSP_POOL_ROUTING_WRAPUP_SECONDS) * 1000000;
        memset(&w, 0, sizeof(w));
        w.fit = db_i64(r, i, DSP_POOL_ROUTING_W_FIT);
        w.occupancy = db_i64(r, i, DSP_POOL_ROUTING_W_OCCUPANCY);
        w.quality = db_i64(r, i, DSP_POOL_ROUTING_W_QUALITY);
        w.cost = db_i64(r, i, DSP_POOL_ROUTING_W_COST);
        w.fairness = db_i64(r, i, DSP_POOL_ROUTING_W_FAIRNESS);
        w.fairness_cap = db_i64(r, i, DSP_POOL_ROUTING_FAIRNESS_CAP);
        if (pi->has_weights && memcmp(&pi->weights, &w, sizeof(w)) == 0)
            continue;
        s = router_pool_weights_set(d->router, pool, &w, e);
        pi->has_weights = s == ST_OK;
        pi->weights = w;
    }
    db_res_free(r);
    return s;
}

/*
 * Load workers (all, or one when id != NULL) with skills, capacity,
 * licences, kind, quality and their pool's wrap-up into the router.
 */
static status load_workers(dispatcher *d, const char *id, err *e)
{
    const char *p[1] = {id};
    const char *const *params = id != NULL ? p : NULL;
    db_res *rw = NULL, *rs = NULL, *rc = NULL, *rl = NULL;
    wdef *defs = NULL;
    int n = 0;
    status s;

    /* The statements for one worker return the same columns as those for
     * all (itest_sql checks both), so rows are read by the latter's enums. */
    s = db_run(d->db, id != NULL ? &dsp_sql_worker_one : &dsp_sql_workers,
               params, &rw, e);
    if (s == ST_OK)
        s = db_run(d->db, id != NULL ? &dsp_sql_skills_one : &dsp_sql_skills,
                   params, &rs, e);
    if (s == ST_OK)
        s = db_run(d->db,
                   id != NULL ? &dsp_sql_capacity_one : &dsp_sql_capacity,
                   params, &rc, e);
    if (s == ST_OK)
        s = db_run(d->db,
                   id != NULL ? &dsp_sql_licences_one : &dsp_sql_licences,
                   params, &rl, e);
    if (s != ST_OK)
        goto out;
    n = db_rows(rw);
    if (n == 0)
        goto out;
    for (int i = 0; i < n; i++) {
        int w;
        s = strtab_intern(d->workers, db_val(rw, i, DSP_WORKERS_ID), &w, e);
        if (s != ST_OK)
            goto out;
    }
    defs = calloc((size_t)strtab_count(d->workers), sizeof(wdef));
    if (defs == NULL) {
        s = err_set(e, ST_NOMEM, "out of memory");
        goto out;
    }
    for (int i = 0; i < n; i++) {
        int w = strtab_find(d->workers, db_val(rw, i, DSP_WORKERS_ID)), pool;
        s = strtab_intern(d->pools, db_val(rw, i, DSP_WORKERS_POOL_ID), &pool,
                          e);
        if (s == ST_OK)
            s = ensure_pinfo(d, pool, e);
        if (s != ST_OK)
            goto out;
        defs[w].def.pool = pool;
        defs[w].available = db_bool(rw, i, DSP_WORKERS_AVAILABLE);
        defs[w].idle_us = db_i64(rw, i, DSP_WORKERS_IDLE_US);
        defs[w].def.ai = db_bool(rw, i, DSP_WORKERS_AI);
        defs[w].def.quality_permille =
            (int)db_i64(rw, i, DSP_WORKERS_QUALITY) * 10;
        defs[w].def.wrapup_us = d->pinfo[pool].wrapup_us;
    }
    for (int i = 0; i < db_rows(rs); i++) {
        int w = strtab_find(d->workers, db_val(rs, i, DSP_SKILLS_WORKER_ID)),
            sk;
        router_worker_def *def;
        if (w < 0)
            continue;
        def = &defs[w].def;
        if (def->nskills >= ROUTER_WORKER_SKILLS)
            continue;
        s = strtab_intern(d->skills, db_val(rs, i, DSP_SKILLS_SKILL), &sk, e);
        if (s != ST_OK)
            goto out;
        def->skills[def->nskills].skill = sk;
        def->skills[def->nskills].level = (int)db_i64(rs, i, DSP_SKILLS_LEVEL);
        def->skills[def->nskills].ai_level =
            (int)db_i64(rs, i, DSP_SKILLS_AI_LEVEL);
        def->nskills++;
    }
    for (int i = 0; i < db_rows(rc); i++) {
        int w = strtab_find(d->workers, db_val(rc, i, DSP_CAPACITY_WORKER_ID));
        int ch = playbook_channel(db_val(rc, i, DSP_CAPACITY_CHANNEL));
        if (w >= 0 && ch >= 0)
            defs[w].def.capacity[ch] = (int)db_i64(rc, i, DSP_CAPACITY_SLOTS);
    }
    for (int i = 0; i < db_rows(rl); i++) {
        int w = strtab_find(d->workers, db_val(rl, i, DSP_LICENCES_WORKER_ID)),
            code;
        router_worker_def *def;
        if (w < 0)
            continue;
        def = &defs[w].def;
        if (def->nlicences >= ROUTER_WORKER_LICENCES) {
            log_warn(MOD, "worker %s has more than %d licences; %s ignored",
                     db_val(rl, i, DSP_LICENCES_WORKER_ID),
                     ROUTER_WORKER_LICENCES, db_val(rl, i, DSP_LICENCES_CODE));
            continue;
        }
        s = strtab_intern(d->licences, db_val(rl, i, DSP_LICENCES_CODE), &code,
                          e);
        if (s != ST_OK)
            goto out;
        def->licences[def->nlicences].code = code + 1;
        def->licences[def->nlicences].expires_day =
            (int)db_i64(rl, i, DSP_LICENCES_EXPIRES_DAY);
        def->nlicences++;
    }
    for (int i = 0; i < n; i++) {
        int w = strtab_find(d->workers, db_val(rw, i, DSP_WORKERS_ID));
        s = ensure_winfo(d, w, e);
        if (s == ST_OK)
            s = router_worker_set(d->router, w, &defs[w].def, e);
        if (s != ST_OK)
            goto out;
        d->winfo[w].pool = defs[w].def.pool;
        d->winfo[w].available = defs[w].available;
        router_worker_available(d->router, w, defs[w].available,
                                defs[w].idle_us);
    }
out:
    free(defs);
    db_res_free(rw);
    db_res_free(rs);
    db_res_free(rc);
    db_res_free(rl);
    return s;
}

status dsp_refresh_contracts(dispatcher *d, err *e)
{
    db_res *r = NULL;
    status s = db_run(d->db, &dsp_sql_contracts, NULL, &r, e);

    for (int i = 0; s == ST_OK && i < db_rows(r); i++) {
        int t, p, c;
        s = strtab_intern(d->tenants, db_val(r, i, DSP_CONTRACTS_TENANT_ID), &t,
                          e);
        if (s == ST_OK)
            s = strtab_intern(d->pools, db_val(r, i, DSP_CONTRACTS_POOL_ID), &p,
                              e);
        if (s == ST_OK)
            s = strtab_intern(d->case_types,
                              db_val(r, i, DSP_CONTRACTS_CASE_TYPE), &c, e);
        if (s == ST_OK)
            s = router_contract_price_set(
                d->router, t, p, c, db_i64(r, i, DSP_CONTRACTS_PRICE_MINOR), e);
    }
    db_res_free(r);
    if (s == ST_OK)
        s = load_settings(d, e);
    /* Data keys rotated in by `twinline keys rotate` are used from now. */
    if (s == ST_OK)
        s = keystore_refresh(d->keys, d->db, NULL, NULL, e);
    return s;
}

/* The playbook codec (contracts/playbook.h) bounds what a step may ask of
 * the router, and a step becomes a router task here: a step that loads
 * must fit in a router task. */
_Static_assert((int)PB_CHANNELS == (int)ROUTER_CHANNELS &&
                   (int)PB_VOICE == (int)ROUTER_VOICE &&
                   (int)PB_CHAT == (int)ROUTER_CHAT &&
                   (int)PB_BACKOFFICE == (int)ROUTER_BACKOFFICE,
               "playbook and router channels differ");
_Static_assert(PB_MAX_SKILLS <= ROUTER_TASK_SKILLS,
               "a step may need more skills than a router task holds");
_Static_assert(PB_MAX_RINGS <= ROUTER_RINGS,
               "a step may have more rings than a router task holds");
_Static_assert(PB_MAX_BROADCAST <= ROUTER_BROADCAST_MAX,
               "a step may be broadcast wider than the router offers");

status dsp_route_task(dispatcher *d, const playbook *pb, int step,
                      int64_t task_id, int64_t case_id, int priority,
                      int64_t ready_us, int holder, err *e)
{
    const pb_step *st = &pb->steps[step];
    bool assist_ok = !d->opts.no_assist;
    router_task_def def;
    status s;

    memset(&def, 0, sizeof(def));
    def.id = task_id;
    def.case_id = case_id;
    def.channel = st->channel;
    def.priority = priority;
    def.ready_us = ready_us;
    def.assist = assist_ok && st->ai != PB_AI_NONE;
    def.ai_auto = st->ai == PB_AI_AUTO;
    def.broadcast = st->broadcast < 1 ? 1
                    : st->broadcast > ROUTER_BROADCAST_MAX
                        ? ROUTER_BROADCAST_MAX
                        : st->broadcast;
    /* sla_due_at is ready_at + the step's SLA (case_api.c, progress.c). */
    def.deadline_us = ready_us + (int64_t)st->sla_seconds * 1000000;
    def.ttl_us = (int64_t)st->ttl_seconds * 1000000;
    s = strtab_intern(d->tenants, pb->tenant, &def.tenant, e);
    if (s == ST_OK)
        s = strtab_intern(d->case_types, pb->case_type, &def.case_type, e);
    if (s == ST_OK && st->licence[0] != '\0') {
        s = strtab_intern(d->licences, st->licence, &def.licence, e);
        def.licence++;
    }
    for (int i = 0; s == ST_OK && i < st->nskills && i < ROUTER_TASK_SKILLS;
         i++) {
        s = strtab_intern(d->skills, st->skills[i].skill, &def.skills[i].skill,
                          e);
        def.skills[i].level = st->skills[i].level;
        def.nskills = i + 1;
    }
    for (int i = 0; s == ST_OK && i < st->nrings && i < ROUTER_RINGS; i++) {
        const pb_ring *g = &st->rings[i];
        router_ring *rg = &def.rings[i];
        rg->after_us = (int64_t)g->after_seconds * 1000000;
        rg->lower_by = g->lower_by;
        rg->assist = assist_ok && g->assist;
        rg->priority_boost = g->priority_boost;
        if (g->overflow_pool[0] != '\0') {
            rg->overflow = true;
            s = strtab_intern(d->pools, g->overflow_pool, &rg->overflow_pool,
                              e);
        }
        def.nrings = i + 1;
    }
    if (s == ST_OK)
        s = router_task_add(d->router, &def, holder, e);
    return s;
}

/* The first worker of a comma-separated list of the workers a task is
 * offered to (-1: none known). */
static int first_holder(dispatcher *d, const char *list)
{
    char id[ID_MAX + 1];
    size_t n = strcspn(list, ",");

    if (n == 0 || n > ID_MAX)
        return -1;
    memcpy(id, list, n);
    id[n] = '\0';
    return strtab_find(d->workers, id);
}

/* The other workers a broadcast offer of task is pending with. */
static status hold_rest(dispatcher *d, int64_t task, const char *list, err *e)
{
    const char *p = strchr(list, ',');
    status s = ST_OK;

    while (s == ST_OK && p != NULL) {
        int w = first_holder(d, p + 1);
        if (w >= 0)
            s = router_task_hold(d->router, task, w, e);
        p = strchr(p + 1, ',');
    }
    return s;
}

static status load_tasks(dispatcher *d, err *e)
{
    db_res *r = NULL, *x = NULL, *a = NULL;
    status s = db_run(d->db, &dsp_sql_open_tasks, NULL, &r, e);

    for (int i = 0; s == ST_OK && i < db_rows(r); i++) {
        const playbook *pb;
        int step, holder = -1;
        const char *state = db_val(r, i, DSP_OPEN_TASKS_STATE);

        s = dsp_playbook(d, db_val(r, i, DSP_OPEN_TASKS_TENANT_ID),
                         db_val(r, i, DSP_OPEN_TASKS_CASE_TYPE),
                         (int)db_i64(r, i, DSP_OPEN_TASKS_PLAYBOOK_VERSION),
                         &pb, e);
        if (s != ST_OK)
            break;
        step = playbook_step_index(pb, db_val(r, i, DSP_OPEN_TASKS_STEP));
        if (step < 0) {
            log_warn(MOD, "task %s names unknown step %s; skipped",
                     db_val(r, i, DSP_OPEN_TASKS_ID),
                     db_val(r, i, DSP_OPEN_TASKS_STEP));
            continue;
        }
        if (strcmp(state, "pending") != 0)
            holder =
                strtab_find(d->workers, db_val(r, i, DSP_OPEN_TASKS_WORKER_ID));
        if (strcmp(state, "reserved") == 0 &&
            db_val(r, i, DSP_OPEN_TASKS_OFFERED_TO)[0] != '\0')
            holder = first_holder(d, db_val(r, i, DSP_OPEN_TASKS_OFFERED_TO));
        s = dsp_route_task(d, pb, step, db_i64(r, i, DSP_OPEN_TASKS_ID),
                           db_i64(r, i, DSP_OPEN_TASKS_CASE_ID),
                           (int)db_i64(r, i, DSP_OPEN_TASKS_PRIORITY),
                           db_i64(r, i, DSP_OPEN_TASKS_READY_US), holder, e);
        if (s == ST_OK && strcmp(state, "reserved") == 0)
            s = hold_rest(d, db_i64(r, i, DSP_OPEN_TASKS_ID),
                          db_val(r, i, DSP_OPEN_TASKS_OFFERED_TO), e);
        /* The holder's wrap-up runs from the completion on. */
        if (s == ST_OK && strcmp(state, "wrapping") == 0)
            router_task_wrapping(d->router, db_i64(r, i, DSP_OPEN_TASKS_ID),
                                 db_i64(r, i, DSP_OPEN_TASKS_COMPLETED_US));
    }
    if (s == ST_OK)
        s = db_run(d->db, &dsp_sql_exclusions, NULL, &x, e);
    for (int i = 0; s == ST_OK && i < db_rows(x); i++) {
        int w = strtab_find(d->workers, db_val(x, i, DSP_EXCLUSIONS_WORKER_ID));
        if (w >= 0)
            s = router_task_exclude(d->router,
                                    db_i64(x, i, DSP_EXCLUSIONS_TASK_ID), w, e);
    }
    if (s == ST_OK)
        s = db_run(d->db, &dsp_sql_affinity, NULL, &a, e);
    for (int i = 0; s == ST_OK && i < db_rows(a); i++) {
        int w = strtab_find(d->workers, db_val(a, i, DSP_AFFINITY_WORKER_ID));
        if (w >= 0)
            s = router_affinity_set(d->router,
                                    db_i64(a, i, DSP_AFFINITY_CASE_ID), w, e);
    }
    db_res_free(r);
    db_res_free(x);
    db_res_free(a);
    return s;
}

status dsp_reconcile(dispatcher *d, int *fixed, err *e)
{
    db_res *r = NULL;
    status s = db_run(d->db, &dsp_sql_stale_pending, NULL, &r, e);
    int n = 0;

    for (int i = 0; s == ST_OK && i < db_rows(r); i++) {
        int64_t task = db_i64(r, i, DSP_STALE_PENDING_ID);
        const playbook *pb;
        int step;

        if (router_task_holder(d->router, task) >= 0) {
            /* The router thinks a worker holds it; the database says
             * nobody does. */
            router_task_requeue(d->router, task, clock_wall_us());
            n++;
            continue;
        }
        s = dsp_playbook(d, db_val(r, i, DSP_STALE_PENDING_TENANT_ID),
                         db_val(r, i, DSP_STALE_PENDING_CASE_TYPE),
                         (int)db_i64(r, i, DSP_STALE_PENDING_PLAYBOOK_VERSION),
                         &pb, e);
        if (s != ST_OK)
            break;
        step = playbook_step_index(pb, db_val(r, i, DSP_STALE_PENDING_STEP));
        if (step < 0)
            continue;
        /* Adding a task the router already has is a no-op. */
        if (router_task_count(d->router) >= 0) {
            int before = router_task_count(d->router);
            s = dsp_route_task(d, pb, step, task,
                               db_i64(r, i, DSP_STALE_PENDING_CASE_ID),
                               (int)db_i64(r, i, DSP_STALE_PENDING_PRIORITY),
                               db_i64(r, i, DSP_STALE_PENDING_READY_US), -1, e);
            if (router_task_count(d->router) != before)
                n++;
        }
    }
    db_res_free(r);
    if (fixed != NULL)
        *fixed = n;
    return s;
}

status dsp_rebuild(dispatcher *d, err *e)
{
    int64_t t0 = clock_mono_us();
    status s;

    router_clear(d->router);
    /* A rollback may have undone a data key made in the batch. */
    s = keystore_reload(d->keys, d->db, e);
    if (s == ST_OK)
        s = load_settings(d, e);
    if (s == ST_OK)
        s = load_workers(d, NULL, e);
    if (s == ST_OK)
        s = dsp_refresh_contracts(d, e);
    if (s == ST_OK)
        s = load_tasks(d, e);
    if (s == ST_OK)
        log_info(MOD,
                 "routing state loaded: %d workers, %d open tasks (%d "
                 "pending) in %lld ms",
                 strtab_count(d->workers), router_task_count(d->router),
                 router_pending_count(d->router),
                 (long long)(clock_mono_us() - t0) / 1000);
    return s;
}

status dsp_worker_index(dispatcher *d, const char *worker_id, int *out, err *e)
{
    int w = strtab_find(d->workers, worker_id);
    status s;

    if (w < 0 || w >= d->cap_winfo) {
        s = load_workers(d, worker_id, e);
        if (s != ST_OK)
            return s;
        w = strtab_find(d->workers, worker_id);
        if (w < 0)
            return err_set(e, ST_NOT_FOUND,
                           "worker \"%s\" is not registered; an operator "
                           "adds it with: twinline load FILE",
                           worker_id);
    }
    *out = w;
    return ST_OK;
}

status dsp_worker_reload(dispatcher *d, const char *worker_id, err *e)
{
    status s = load_workers(d, worker_id, e);

    if (s == ST_OK && strtab_find(d->workers, worker_id) < 0)
        s = err_set(e, ST_NOT_FOUND, "worker \"%s\" is not registered",
                    worker_id);
    return s;
}

status dsp_worker_refusal(dispatcher *d, const char *worker, err *e)
{
    const char *params[2] = {worker, ""};
    db_res *r = NULL;
    status s = db_run(d->db, &dsp_sql_ops_worker, params, &r, e);

    if (s == ST_OK && db_rows(r) > 0 && !db_bool(r, 0, DSP_OPS_WORKER_ACTIVE))
        s = err_set(e, ST_DEACTIVATED,
                    "worker %s is deactivated by its operator and cannot "
                    "sign in; the operator activates it again with: "
                    "twinline worker activate %s --reason TEXT",
                    worker, worker);
    else if (s == ST_OK)
        s = err_set(e, ST_NOT_FOUND,
                    "worker \"%s\" is not registered; an operator adds it "
                    "with: twinline load FILE",
                    worker);
    db_res_free(r);
    return s;
}

status dsp_playbook(dispatcher *d, const char *tenant, const char *case_type,
                    int version, const playbook **out, err *e)
{
    char vbuf[24];
    const char *params[3] = {tenant, case_type, db_i64_str(vbuf, version)};
    db_res *r = NULL;
    playbook *pb;
    status s;

    for (int i = 0; i < d->nplaybooks; i++) {
        pb = d->playbooks[i];
        if (pb->version == version && strcmp(pb->tenant, tenant) == 0 &&
            strcmp(pb->case_type, case_type) == 0) {
            *out = pb;
            return ST_OK;
        }
    }
    s = db_run(d->db, &dsp_sql_playbook_steps, params, &r, e);
    if (s != ST_OK)
        return s;
    if (db_rows(r) == 0) {
        db_res_free(r);
        return err_set(e, ST_UNKNOWN_CASE_TYPE,
                       "playbook %s/%s version %d has no steps", tenant,
                       case_type, version);
    }
    pb = calloc(1, sizeof(*pb));
    if (pb == NULL) {
        db_res_free(r);
        return err_set(e, ST_NOMEM, "out of memory");
    }
    snprintf(pb->tenant, sizeof(pb->tenant), "%s", tenant);
    snprintf(pb->case_type, sizeof(pb->case_type), "%s", case_type);
    pb->version = version;
    for (int i = 0; s == ST_OK && i < db_rows(r); i++)
        s = playbook_add_step(pb, db_val(r, i, DSP_PLAYBOOK_STEPS_STEP),
                              db_val(r, i, DSP_PLAYBOOK_STEPS_CHANNEL),
                              (int)db_i64(r, i, DSP_PLAYBOOK_STEPS_SLA_SECONDS),
                              db_val(r, i, DSP_PLAYBOOK_STEPS_AI_MODE),
                              db_val(r, i, DSP_PLAYBOOK_STEPS_SKILLS),
                              db_val(r, i, DSP_PLAYBOOK_STEPS_AFTER_STEPS),
                              db_val(r, i, DSP_PLAYBOOK_STEPS_WHEN_OUTCOMES),
                              db_val(r, i, DSP_PLAYBOOK_STEPS_OUTCOMES), e);
    for (int i = 0; s == ST_OK && i < db_rows(r); i++) {
        s = playbook_step_routing(
            pb, i, db_val(r, i, DSP_PLAYBOOK_STEPS_LICENCE),
            db_val(r, i, DSP_PLAYBOOK_STEPS_RINGS),
            (int)db_i64(r, i, DSP_PLAYBOOK_STEPS_TTL_SECONDS), e);
        pb->steps[i].broadcast =
            (int)db_i64(r, i, DSP_PLAYBOOK_STEPS_BROADCAST);
    }
    if (s == ST_OK)
        s = playbook_resolve(pb, e);
    db_res_free(r);
    r = NULL;
    /* The payload and customer schemas submits are checked against. */
    if (s == ST_OK)
        s = db_run(d->db, &dsp_sql_playbook_schemas, params, &r, e);
    if (s == ST_OK && db_rows(r) == 1)
        s = playbook_set_schemas(pb, db_val(r, 0, DSP_PLAYBOOK_SCHEMAS_PAYLOAD),
                                 db_val(r, 0, DSP_PLAYBOOK_SCHEMAS_CUSTOMER),
                                 e);
    db_res_free(r);
    if (s == ST_OK && d->nplaybooks == d->cap_playbooks) {
        int ncap = d->cap_playbooks > 0 ? d->cap_playbooks * 2 : 16;
        playbook **n = realloc(d->playbooks, sizeof(*n) * (size_t)ncap);
        if (n == NULL)
            s = err_set(e, ST_NOMEM, "out of memory");
        else {
            d->playbooks = n;
            d->cap_playbooks = ncap;
        }
    }
    if (s != ST_OK) {
        playbook_release(pb);
        free(pb);
        /* A broken stored playbook is a data problem, not an outage. */
        return s == ST_INVALID ? err_wrap(e, "playbook %s/%s v%d", tenant,
                                          case_type, version)
                               : s;
    }
    d->playbooks[d->nplaybooks++] = pb;
    *out = pb;
    return ST_OK;
}

status dsp_latest_version(dispatcher *d, const char *tenant,
                          const char *case_type, int *out, err *e)
{
    const char *params[2] = {tenant, case_type};
    int64_t now = clock_mono_us();
    latest_version *lv = NULL;
    db_res *r = NULL;
    status s;

    for (int i = 0; i < d->nlatest; i++)
        if (strcmp(d->latest[i].tenant, tenant) == 0 &&
            strcmp(d->latest[i].case_type, case_type) == 0) {
            lv = &d->latest[i];
            break;
        }
    /* New playbook versions are picked up within two seconds. */
    if (lv != NULL && now - lv->checked_us < 2000000) {
        *out = lv->version;
        return ST_OK;
    }
    s = db_run(d->db, &dsp_sql_playbook_latest, params, &r, e);
    if (s != ST_OK)
        return s;
    if (!db_bool(r, 0, DSP_PLAYBOOK_LATEST_TENANT_EXISTS)) {
        db_res_free(r);
        return err_set(e, ST_UNKNOWN_TENANT,
                       "tenant \"%s\" is not registered; check the subject "
                       "(%s.api.<tenant>.case.submit)",
                       tenant, d->cfg.prefix);
    }
    if (db_null(r, 0, DSP_PLAYBOOK_LATEST_VERSION)) {
        db_res_free(r);
        return err_set(e, ST_UNKNOWN_CASE_TYPE,
                       "case type \"%s\" is not defined for tenant \"%s\"; "
                       "an operator lists them with: twinline playbook list",
                       case_type, tenant);
    }
    if (lv == NULL) {
        if (d->nlatest == d->cap_latest) {
            int ncap = d->cap_latest > 0 ? d->cap_latest * 2 : 16;
            latest_version *n = realloc(d->latest, sizeof(*n) * (size_t)ncap);
            if (n == NULL) {
                db_res_free(r);
                return err_set(e, ST_NOMEM, "out of memory");
            }
            d->latest = n;
            d->cap_latest = ncap;
        }
        lv = &d->latest[d->nlatest++];
        snprintf(lv->tenant, sizeof(lv->tenant), "%s", tenant);
        snprintf(lv->case_type, sizeof(lv->case_type), "%s", case_type);
    }
    lv->version = (int)db_i64(r, 0, DSP_PLAYBOOK_LATEST_VERSION);
    lv->checked_us = now;
    db_res_free(r);
    *out = lv->version;
    return ST_OK;
}
