/* Plain-words rendering of a routing decision (router_explain). */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>

#include "router.h"

static const char *const rule_names[] = {
    "affinity", "best score", "only eligible", "ring", "batch optimum"};
static const char *const filter_names[ROUTER_FILTERS] = {
    "lacking a required skill level",
    "without a contract for the case type",
    "without a valid licence",
    "offline or on a break",
    "in wrap-up",
    "without a free slot on the channel",
    "who declined or let it time out",
    "that are AI workers while the step is not fully automated"};
static const char *const part_names[ROUTER_PARTS] = {
    "fit", "idle", "occupancy", "quality", "cost", "fairness"};

const char *router_rule_name(router_rule rule)
{
    if ((int)rule < 0 ||
        (int)rule >= (int)(sizeof(rule_names) / sizeof(rule_names[0])))
        return "unknown";
    return rule_names[rule];
}

const char *router_filter_name(int filter)
{
    if (filter < 0 || filter >= ROUTER_FILTERS)
        return "unknown";
    return filter_names[filter];
}

const char *router_part_name(int part)
{
    if (part < 0 || part >= ROUTER_PARTS)
        return "unknown";
    return part_names[part];
}

typedef struct out {
    char *buf;
    size_t len;
    size_t used; /* what the whole text needs, even past len */
} out;

static void put(out *o, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void put(out *o, const char *fmt, ...)
{
    va_list ap;
    size_t room = o->used < o->len ? o->len - o->used : 0;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(room > 0 ? o->buf + o->used : NULL, room, fmt, ap);
    va_end(ap);
    if (n > 0)
        o->used += (size_t)n;
}

static void put_ring(out *o, const router_explain *x)
{
    const router_ring *g = &x->ring_def;
    const char *sep = "";

    put(o, "ring %d (", x->ring);
    if (g->lower_by > 0) {
        put(o, "levels lowered by %d", g->lower_by);
        sep = ", ";
    }
    if (g->assist) {
        put(o, "%sAI-assisted levels allowed", sep);
        sep = ", ";
    }
    if (g->overflow) {
        put(o, "%soverflow pool %d allowed", sep, g->overflow_pool);
        sep = ", ";
    }
    if (g->priority_boost != 0) {
        put(o, "%spriority raised by %d", sep, g->priority_boost);
        sep = ", ";
    }
    put(o, "%s)", *sep != '\0' ? "" : "no relaxation");
}

int router_explain_render(const router_explain *x, char *buf, size_t len)
{
    out o = {buf, len, 0};
    bool any = false;

    if (len > 0)
        buf[0] = '\0';
    put(&o, "Task %" PRId64 " went to worker %d", x->task_id, x->worker);
    switch (x->rule) {
    case ROUTER_RULE_AFFINITY:
        put(&o, " because that worker handled the case before and was "
                "eligible (affinity).");
        break;
    case ROUTER_RULE_BEST:
        put(&o, " because it had the best score among eligible workers.");
        break;
    case ROUTER_RULE_ONLY:
        put(&o, " because it was the only eligible worker.");
        break;
    case ROUTER_RULE_RING:
        put(&o, " because the task's relaxation made it eligible: ");
        put_ring(&o, x);
        put(&o, ".");
        break;
    case ROUTER_RULE_BATCH:
        put(&o, " as part of the batch assignment with the best total "
                "score (batch optimum).");
        break;
    }
    put(&o, " It had waited %" PRId64 " s at priority %d",
        x->waited_us / 1000000, x->priority);
    if (x->ring > 0 && x->rule != ROUTER_RULE_RING) {
        put(&o, ", in ");
        put_ring(&o, x);
    }
    put(&o, ".");
    if (x->ncandidates > 0) {
        put(&o, " Candidates (best first, %d examined):", x->examined);
        for (int i = 0; i < x->ncandidates; i++) {
            const router_candidate *c = &x->candidates[i];
            put(&o, "%s worker %d scored %" PRId64 " (", i > 0 ? ";" : "",
                c->worker, c->score);
            for (int p = 0; p < ROUTER_PARTS; p++)
                put(&o, "%s%s %" PRId64, p > 0 ? ", " : "", part_names[p],
                    c->parts[p]);
            put(&o, ")");
        }
        put(&o, ".");
    }
    for (int f = 0; f < ROUTER_FILTERS; f++) {
        if (x->filtered[f] == 0)
            continue;
        put(&o, "%s %d %s %s", any ? ";" : " Ruled out:", x->filtered[f],
            x->filtered[f] == 1 ? "worker" : "workers", filter_names[f]);
        any = true;
    }
    if (any)
        put(&o, ".");
    return o.used > INT32_MAX ? INT32_MAX : (int)o.used;
}
