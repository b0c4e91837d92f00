#include "stats.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "dsp_sql.h"
#include "jsonx.h"

static void copy_id(char *dst, size_t cap, const char *src)
{
    size_t n = strlen(src);

    if (n >= cap)
        n = cap - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

status stats_collect(db *d, stats **out, err *e)
{
    stats *s = calloc(1, sizeof(*s));
    db_res *q = NULL, *w = NULL, *v = NULL, *p = NULL;
    status st;

    if (s == NULL)
        return err_set(e, ST_NOMEM, "out of memory");
    if ((st = db_run(d, &dsp_sql_stats_queues, NULL, &q, e)) != ST_OK ||
        (st = db_run(d, &dsp_sql_stats_workers, NULL, &w, e)) != ST_OK ||
        (st = db_run(d, &dsp_sql_stats_violations, NULL, &v, e)) != ST_OK ||
        (st = db_run(d, &dsp_sql_stats_partitions, NULL, &p, e)) != ST_OK)
        goto out;
    s->queues = calloc((size_t)db_rows(q) + 1, sizeof(stats_queue));
    s->workers = calloc((size_t)db_rows(w) + 1, sizeof(stats_worker));
    s->violations = calloc((size_t)db_rows(v) + 1, sizeof(stats_violation));
    s->partitions = calloc((size_t)db_rows(p) + 1, sizeof(stats_partition));
    if (s->queues == NULL || s->workers == NULL || s->violations == NULL ||
        s->partitions == NULL) {
        st = err_set(e, ST_NOMEM, "out of memory");
        goto out;
    }
    for (int i = 0; i < db_rows(q); i++) {
        stats_queue *x = &s->queues[s->nqueues++];
        copy_id(x->tenant, sizeof(x->tenant),
                db_val(q, i, DSP_STATS_QUEUES_TENANT_ID));
        copy_id(x->case_type, sizeof(x->case_type),
                db_val(q, i, DSP_STATS_QUEUES_CASE_TYPE));
        copy_id(x->step, sizeof(x->step), db_val(q, i, DSP_STATS_QUEUES_STEP));
        x->waiting = db_i64(q, i, DSP_STATS_QUEUES_WAITING);
        x->in_progress = db_i64(q, i, DSP_STATS_QUEUES_IN_PROGRESS);
        x->oldest_wait_ms = db_i64(q, i, DSP_STATS_QUEUES_OLDEST_WAIT_MS);
        x->sla_done = db_i64(q, i, DSP_STATS_QUEUES_SLA_DONE);
        x->sla_met = db_i64(q, i, DSP_STATS_QUEUES_SLA_MET);
    }
    for (int i = 0; i < db_rows(w); i++) {
        stats_worker *x = &s->workers[s->nworkers++];
        copy_id(x->worker, sizeof(x->worker),
                db_val(w, i, DSP_STATS_WORKERS_ID));
        copy_id(x->pool, sizeof(x->pool),
                db_val(w, i, DSP_STATS_WORKERS_POOL_ID));
        copy_id(x->kind, sizeof(x->kind), db_val(w, i, DSP_STATS_WORKERS_KIND));
        copy_id(x->state, sizeof(x->state),
                db_val(w, i, DSP_STATS_WORKERS_STATE));
        x->load = db_i64(w, i, DSP_STATS_WORKERS_LOAD);
        x->slots = db_i64(w, i, DSP_STATS_WORKERS_SLOTS);
        x->tasks_last_hour = db_i64(w, i, DSP_STATS_WORKERS_TASKS_LAST_HOUR);
        x->occupancy_permille =
            x->slots > 0 ? (int)(x->load * 1000 / x->slots) : 0;
    }
    for (int i = 0; i < db_rows(v); i++) {
        stats_violation *x = &s->violations[s->nviolations++];
        copy_id(x->identity, sizeof(x->identity),
                db_val(v, i, DSP_STATS_VIOLATIONS_IDENTITY));
        copy_id(x->role, sizeof(x->role),
                db_val(v, i, DSP_STATS_VIOLATIONS_ROLE));
        copy_id(x->party, sizeof(x->party),
                db_val(v, i, DSP_STATS_VIOLATIONS_PARTY));
        copy_id(x->kind, sizeof(x->kind),
                db_val(v, i, DSP_STATS_VIOLATIONS_KIND));
        copy_id(x->last_subject, sizeof(x->last_subject),
                db_val(v, i, DSP_STATS_VIOLATIONS_LAST_SUBJECT));
        x->count = db_i64(v, i, DSP_STATS_VIOLATIONS_COUNT);
        x->last_at_ms = db_i64(v, i, DSP_STATS_VIOLATIONS_LAST_AT_MS);
        s->violations_24h = db_i64(v, i, DSP_STATS_VIOLATIONS_TOTAL_VIOLATIONS);
        s->refused_24h = db_i64(v, i, DSP_STATS_VIOLATIONS_TOTAL_REFUSED);
    }
    for (int i = 0; i < db_rows(p); i++) {
        stats_partition *x = &s->partitions[s->npartitions++];
        copy_id(x->partition, sizeof(x->partition),
                db_val(p, i, DSP_STATS_PARTITIONS_PARTITION));
        copy_id(x->pools, sizeof(x->pools),
                db_val(p, i, DSP_STATS_PARTITIONS_POOLS));
        copy_id(x->tenants, sizeof(x->tenants),
                db_val(p, i, DSP_STATS_PARTITIONS_TENANTS));
        copy_id(x->owner, sizeof(x->owner),
                db_val(p, i, DSP_STATS_PARTITIONS_OWNER));
        x->token = db_i64(p, i, DSP_STATS_PARTITIONS_TOKEN);
        x->lease_left_ms = db_i64(p, i, DSP_STATS_PARTITIONS_LEASE_LEFT_MS);
    }
out:
    db_res_free(q);
    db_res_free(w);
    db_res_free(v);
    db_res_free(p);
    if (st != ST_OK) {
        stats_destroy(s);
        return st;
    }
    *out = s;
    return ST_OK;
}

/* SLA attainment in per mille, or -1 when nothing was due. */
static int attainment(const stats_queue *q)
{
    return q->sla_done > 0 ? (int)(q->sla_met * 1000 / q->sla_done) : -1;
}

char *stats_json(const stats *s)
{
    json_t *root = json_object(), *qs = json_array(), *ws = json_array();
    json_t *vs = json_array(), *ps = json_array();
    char *text = NULL;

    if (root == NULL || qs == NULL || ws == NULL || vs == NULL || ps == NULL)
        goto out;
    for (int i = 0; i < s->npartitions; i++) {
        const stats_partition *p = &s->partitions[i];
        json_t *o = json_pack(
            "{s:s, s:s, s:s, s:o, s:I, s:I}", "partition", p->partition,
            "pools", p->pools, "tenants", p->tenants, "owner",
            p->owner[0] != '\0' ? json_string(p->owner) : json_null(), "token",
            (json_int_t)p->token, "lease_left_ms",
            (json_int_t)p->lease_left_ms);
        if (o == NULL || json_array_append_new(ps, o) != 0)
            goto out;
    }
    for (int i = 0; i < s->nqueues; i++) {
        const stats_queue *q = &s->queues[i];
        int a = attainment(q);
        json_t *o = json_pack(
            "{s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:o}", "tenant",
            q->tenant, "case_type", q->case_type, "step", q->step, "waiting",
            (json_int_t)q->waiting, "in_progress", (json_int_t)q->in_progress,
            "oldest_wait_ms", (json_int_t)q->oldest_wait_ms, "sla_done_24h",
            (json_int_t)q->sla_done, "sla_met_24h", (json_int_t)q->sla_met,
            "sla_attainment_permille", a >= 0 ? json_integer(a) : json_null());
        if (o == NULL || json_array_append_new(qs, o) != 0)
            goto out;
    }
    for (int i = 0; i < s->nworkers; i++) {
        const stats_worker *w = &s->workers[i];
        json_t *o = json_pack(
            "{s:s, s:s, s:s, s:s, s:I, s:I, s:i, s:I}", "worker", w->worker,
            "pool", w->pool, "kind", w->kind, "state", w->state, "load",
            (json_int_t)w->load, "slots", (json_int_t)w->slots,
            "occupancy_permille", w->occupancy_permille, "tasks_last_hour",
            (json_int_t)w->tasks_last_hour);
        if (o == NULL || json_array_append_new(ws, o) != 0)
            goto out;
    }
    for (int i = 0; i < s->nviolations; i++) {
        const stats_violation *v = &s->violations[i];
        json_t *o = json_pack(
            "{s:o, s:o, s:o, s:s, s:I, s:s, s:I}", "identity",
            v->identity[0] ? json_string(v->identity) : json_null(), "role",
            v->role[0] ? json_string(v->role) : json_null(), "party",
            v->party[0] ? json_string(v->party) : json_null(), "kind", v->kind,
            "count_24h", (json_int_t)v->count, "last_subject", v->last_subject,
            "last_at_ms", (json_int_t)v->last_at_ms);
        if (o == NULL || json_array_append_new(vs, o) != 0)
            goto out;
    }
    if (json_object_set_new(root, "type", json_string("stats")) != 0 ||
        json_object_set(root, "queues", qs) != 0 ||
        json_object_set(root, "workers", ws) != 0 ||
        json_object_set_new(root, "violations_24h",
                            json_integer(s->violations_24h)) != 0 ||
        json_object_set_new(root, "refused_connections_24h",
                            json_integer(s->refused_24h)) != 0 ||
        json_object_set(root, "violations", vs) != 0 ||
        json_object_set(root, "partitions", ps) != 0)
        goto out;
    text = jsonx_dump(root);
out:
    json_decref(root);
    json_decref(qs);
    json_decref(ws);
    json_decref(vs);
    json_decref(ps);
    return text;
}

static void fmt_ms(char *buf, size_t cap, int64_t ms)
{
    if (ms < 60000)
        snprintf(buf, cap, "%.1f s", (double)ms / 1000.0);
    else
        snprintf(buf, cap, "%lld min %02lld s", (long long)(ms / 60000),
                 (long long)(ms / 1000 % 60));
}

void stats_print(const stats *s, FILE *out)
{
    fprintf(out, "Partitions (docs/ha.md)\n");
    fprintf(out, "  %-16s %-16s %8s %8s  %s\n", "partition", "owner", "token",
            "lease", "pools; tenants");
    for (int i = 0; i < s->npartitions; i++) {
        const stats_partition *p = &s->partitions[i];
        char lease[32];
        snprintf(lease, sizeof(lease), "%.1f s",
                 (double)p->lease_left_ms / 1000.0);
        fprintf(out, "  %-16s %-16s %8lld %8s  %s; %s\n", p->partition,
                p->owner[0] != '\0' ? p->owner : "(none)", (long long)p->token,
                p->owner[0] != '\0' ? lease : "-", p->pools, p->tenants);
    }
    fprintf(out, "\n");
    fprintf(out, "Queues (tenant / case type / step)\n");
    fprintf(out, "  %-36s %8s %8s %12s %14s\n", "queue", "waiting", "working",
            "oldest wait", "SLA met (24h)");
    if (s->nqueues == 0)
        fprintf(out, "  (no open or recently completed tasks)\n");
    for (int i = 0; i < s->nqueues; i++) {
        const stats_queue *q = &s->queues[i];
        char name[3 * (ID_MAX + 1) + 8], wait[32], sla[48];
        int a = attainment(q);
        snprintf(name, sizeof(name), "%s/%s/%s", q->tenant, q->case_type,
                 q->step);
        if (q->waiting > 0)
            fmt_ms(wait, sizeof(wait), q->oldest_wait_ms);
        else
            snprintf(wait, sizeof(wait), "-");
        if (a >= 0)
            snprintf(sla, sizeof(sla), "%d.%d%% of %lld", a / 10, a % 10,
                     (long long)q->sla_done);
        else
            snprintf(sla, sizeof(sla), "n/a");
        fprintf(out, "  %-36s %8lld %8lld %12s %14s\n", name,
                (long long)q->waiting, (long long)q->in_progress, wait, sla);
    }
    fprintf(out, "\nWorkers\n");
    fprintf(out, "  %-16s %-12s %-6s %-10s %9s %10s %10s\n", "worker", "pool",
            "kind", "state", "load", "occupancy", "tasks/hour");
    for (int i = 0; i < s->nworkers; i++) {
        const stats_worker *w = &s->workers[i];
        char load[48];
        snprintf(load, sizeof(load), "%lld/%lld", (long long)w->load,
                 (long long)w->slots);
        fprintf(out, "  %-16s %-12s %-6s %-10s %9s %8d.%d%% %10lld\n",
                w->worker, w->pool, w->kind, w->state, load,
                w->occupancy_permille / 10, w->occupancy_permille % 10,
                (long long)w->tasks_last_hour);
    }
    fprintf(out,
            "\nRefused by NATS (24h): permission violations %lld, "
            "connections %lld\n",
            (long long)s->violations_24h, (long long)s->refused_24h);
    if (s->nviolations > 0)
        fprintf(out, "  %-24s %-10s %-16s %-9s %7s  %s\n", "identity", "role",
                "party", "kind", "count", "last subject");
    for (int i = 0; i < s->nviolations; i++) {
        const stats_violation *v = &s->violations[i];
        fprintf(out, "  %-24s %-10s %-16s %-9s %7lld  %s\n",
                v->identity[0] ? v->identity : "(unknown key)",
                v->role[0] ? v->role : "-", v->party[0] ? v->party : "-",
                v->kind, (long long)v->count,
                v->last_subject[0] ? v->last_subject : "-");
    }
}

void stats_destroy(stats *s)
{
    if (s == NULL)
        return;
    free(s->queues);
    free(s->workers);
    free(s->violations);
    free(s->partitions);
    free(s);
}
