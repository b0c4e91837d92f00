#include "agent_options.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent_msg.h"
#include "ids.h"

const char agent_options_help[] =
    "usage: twinline-agent --workers w001,w002,... [options]\n"
    "       twinline-agent --workers-file FILE [options]\n"
    "\n"
    "Simulated workers: announce presence, heartbeat, accept offers, work\n"
    "for a handle time and complete with an outcome drawn from a policy.\n"
    "\n"
    "  --workers LIST      comma-separated worker ids\n"
    "  --workers-file FILE one worker id per line ('#' starts a comment)\n"
    "  --standby LIST      on-call workers: offline until their operator\n"
    "                      calls them up, then they accept and work\n"
    "  --handle-ms MEAN    mean handle time in ms (default 1000; 0 = instant)\n"
    "  --jitter PCT        handle time uniform within +-PCT % of the mean\n"
    "                      (default 20)\n"
    "  --reject-rate R     share of offers to reject, 0..1 (default 0)\n"
    "  --policy FILE       outcome weights (JSON; see docs/agent.md)\n"
    "  --stats-file FILE   write name=value statistics at exit\n"
    "  --duration-s N      stop after N seconds\n"
    "  --max-tasks N       take at most N tasks, then finish them and exit\n"
    "  --seed N            random seed (default 1)\n"
    "  --ai                AI workers: decide each task from the knowledge\n"
    "                      base and complete it with a confidence\n"
    "  --kb DIR            a tenant's knowledge base (with --ai; repeat per\n"
    "                      tenant, at most 16)\n"
    "  --confidence-floor N  with --ai, below N (0..1000, default 0) send the\n"
    "                      step's first non-billable outcome instead\n"
    "  --batch N           send a worker's accepts and completions together\n"
    "                      in accept_many / complete_many requests of up to\n"
    "                      N (0..64; default 64 with --ai, else 1: one each)\n"
    "  --help              this text\n";

/* Split "--flag=value" or "--flag value"; sets *val or fails. */
static bool flag_value(const char *flag, int argc, char **argv, int *i,
                       const char **val, status *st, err *e)
{
    size_t n = strlen(flag);
    const char *arg = argv[*i];

    if (strncmp(arg, flag, n) != 0 || (arg[n] != '\0' && arg[n] != '='))
        return false;
    if (arg[n] == '=') {
        *val = arg + n + 1;
    } else if (*i + 1 < argc) {
        *val = argv[++*i];
    } else {
        *st = err_set(e, ST_CONFIG, "%s needs a value", flag);
        *val = NULL;
    }
    return true;
}

static status parse_i64(const char *flag, const char *v, int64_t min,
                        int64_t max, int64_t *out, err *e)
{
    char *end = NULL;
    long long x;

    errno = 0;
    x = strtoll(v, &end, 10);
    if (errno != 0 || end == v || *end != '\0' || x < min || x > max)
        return err_set(e, ST_CONFIG, "%s must be an integer from %lld to %lld",
                       flag, (long long)min, (long long)max);
    *out = x;
    return ST_OK;
}

static status add_worker(agent_options *o, const char *id, size_t n,
                         const char *where, err *e)
{
    char *copy;

    if (n == 0 || n > ID_MAX)
        return err_set(e, ST_CONFIG,
                       "%s: worker id \"%.*s\" must be 1-64 characters of "
                       "letters, digits, '_' or '-'",
                       where, (int)(n > 80 ? 80 : n), id);
    copy = strndup(id, n);
    if (copy == NULL)
        return err_set(e, ST_NOMEM, "out of memory");
    if (!ids_token_valid(copy)) {
        free(copy);
        return err_set(e, ST_CONFIG,
                       "%s: worker id \"%.*s\" must be 1-64 characters of "
                       "letters, digits, '_' or '-'",
                       where, (int)n, id);
    }
    if (o->nworkers >= AGENT_MAX_WORKERS) {
        free(copy);
        return err_set(e, ST_CONFIG, "%s: more than %d workers", where,
                       AGENT_MAX_WORKERS);
    }
    if (o->workers == NULL) {
        o->workers = calloc(AGENT_MAX_WORKERS, sizeof(*o->workers));
        if (o->workers == NULL) {
            free(copy);
            return err_set(e, ST_NOMEM, "out of memory");
        }
    }
    o->workers[o->nworkers++] = copy;
    return ST_OK;
}

static status parse_list(agent_options *o, const char *list, err *e)
{
    const char *p = list;
    status st = ST_OK;

    for (;;) {
        const char *comma = strchr(p, ',');
        size_t n = comma != NULL ? (size_t)(comma - p) : strlen(p);

        if ((st = add_worker(o, p, n, "--workers", e)) != ST_OK)
            return st;
        if (comma == NULL)
            return ST_OK;
        p = comma + 1;
    }
}

static status parse_file(agent_options *o, const char *path, err *e)
{
    char line[256], where[300];
    FILE *f = fopen(path, "r");
    int lineno = 0;
    status st = ST_OK;

    if (f == NULL)
        return err_set(e, ST_CONFIG, "--workers-file %s: %s", path,
                       strerror(errno));
    while (fgets(line, sizeof(line), f) != NULL) {
        char *hash = strchr(line, '#');
        char *b = line, *end;

        lineno++;
        if (hash != NULL)
            *hash = '\0';
        while (*b == ' ' || *b == '\t')
            b++;
        end = b + strlen(b);
        while (end > b && (end[-1] == '\n' || end[-1] == '\r' ||
                           end[-1] == ' ' || end[-1] == '\t'))
            *--end = '\0';
        if (*b == '\0')
            continue;
        snprintf(where, sizeof(where), "%s:%d", path, lineno);
        if ((st = add_worker(o, b, strlen(b), where, e)) != ST_OK)
            goto out;
    }
    if (ferror(f))
        st = err_set(e, ST_CONFIG, "--workers-file %s: read error", path);
out:
    fclose(f);
    return st;
}

status agent_options_parse(agent_options *o, int argc, char **argv, err *e)
{
    status st = ST_OK;
    int64_t v;

    memset(o, 0, sizeof(*o));
    config_from_env(&o->cfg);
    o->handle_ms = 1000;
    o->jitter_pct = 20;
    o->seed = 1;
    o->batch = -1;
    for (int i = 1; i < argc && st == ST_OK; i++) {
        const char *val = NULL;
        err ce = {0};

        if (config_take_flag(&o->cfg, argc, argv, &i, &ce)) {
            if (ce.code != ST_OK)
                st = err_set(e, ST_CONFIG, "%s", ce.msg);
            continue;
        }
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            o->help = true;
        } else if (flag_value("--workers", argc, argv, &i, &val, &st, e)) {
            if (val != NULL)
                st = parse_list(o, val, e);
        } else if (flag_value("--standby", argc, argv, &i, &val, &st, e)) {
            if (val != NULL && o->nstandby > 0)
                st = err_set(e, ST_CONFIG, "--standby may be given once");
            else if (val != NULL) {
                o->standby_from = o->nworkers;
                st = parse_list(o, val, e);
                o->nstandby = o->nworkers - o->standby_from;
            }
        } else if (flag_value("--workers-file", argc, argv, &i, &val, &st, e)) {
            if (val != NULL)
                st = parse_file(o, val, e);
        } else if (flag_value("--handle-ms", argc, argv, &i, &val, &st, e)) {
            if (val != NULL && (st = parse_i64("--handle-ms", val, 0, 86400000,
                                               &v, e)) == ST_OK)
                o->handle_ms = (int)v;
        } else if (flag_value("--jitter", argc, argv, &i, &val, &st, e)) {
            if (val != NULL &&
                (st = parse_i64("--jitter", val, 0, 100, &v, e)) == ST_OK)
                o->jitter_pct = (int)v;
        } else if (flag_value("--reject-rate", argc, argv, &i, &val, &st, e)) {
            char *end = NULL;
            double r;

            if (val == NULL)
                continue;
            errno = 0;
            r = strtod(val, &end);
            if (errno != 0 || end == val || *end != '\0' || !isfinite(r) ||
                r < 0 || r > 1)
                st = err_set(e, ST_CONFIG,
                             "--reject-rate must be between 0 and 1 (got "
                             "\"%.40s\")",
                             val);
            else
                o->reject_rate = r;
        } else if (flag_value("--policy", argc, argv, &i, &val, &st, e)) {
            o->policy_path = val;
        } else if (flag_value("--stats-file", argc, argv, &i, &val, &st, e)) {
            o->stats_path = val;
        } else if (flag_value("--duration-s", argc, argv, &i, &val, &st, e)) {
            if (val != NULL)
                st = parse_i64("--duration-s", val, 1, 315360000,
                               &o->duration_s, e);
        } else if (flag_value("--max-tasks", argc, argv, &i, &val, &st, e)) {
            if (val != NULL)
                st = parse_i64("--max-tasks", val, 1, INT64_MAX, &o->max_tasks,
                               e);
        } else if (strcmp(argv[i], "--ai") == 0) {
            o->ai = true;
        } else if (flag_value("--kb", argc, argv, &i, &val, &st, e)) {
            if (val != NULL && o->nkbs >= AGENT_MAX_KBS)
                st = err_set(e, ST_CONFIG, "--kb given more than %d times",
                             AGENT_MAX_KBS);
            else if (val != NULL)
                o->kbs[o->nkbs++] = val;
        } else if (flag_value("--confidence-floor", argc, argv, &i, &val, &st,
                              e)) {
            if (val != NULL && (st = parse_i64("--confidence-floor", val, 0,
                                               1000, &v, e)) == ST_OK)
                o->confidence_floor = (int)v;
        } else if (flag_value("--batch", argc, argv, &i, &val, &st, e)) {
            if (val != NULL && (st = parse_i64("--batch", val, 0,
                                               AGENT_MANY_MAX, &v, e)) == ST_OK)
                o->batch = (int)v;
        } else if (flag_value("--seed", argc, argv, &i, &val, &st, e)) {
            if (val != NULL &&
                (st = parse_i64("--seed", val, 0, INT64_MAX, &v, e)) == ST_OK)
                o->seed = (uint64_t)v;
        } else {
            st = err_set(e, ST_CONFIG,
                         "unknown argument \"%.80s\"; run twinline-agent "
                         "--help",
                         argv[i]);
        }
    }
    if (st == ST_OK && !o->help && o->nworkers == 0)
        st = err_set(e, ST_CONFIG,
                     "no workers given; pass --workers w001,w002, --standby or "
                     "--workers-file FILE");
    if (st == ST_OK && !o->help && o->ai && o->nkbs == 0)
        st = err_set(e, ST_CONFIG,
                     "--ai needs a knowledge base; pass --kb "
                     "examples/kb/<tenant>");
    if (st == ST_OK && !o->help && !o->ai &&
        (o->nkbs > 0 || o->confidence_floor > 0))
        st = err_set(e, ST_CONFIG,
                     "--kb and --confidence-floor need --ai (or "
                     "--interactive for --kb)");
    return st;
}

void agent_options_free(agent_options *o)
{
    for (int i = 0; i < o->nworkers; i++)
        free(o->workers[i]);
    free(o->workers);
    o->workers = NULL;
    o->nworkers = 0;
}
