#include "agent_tui_options.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char agent_tui_options_help[] =
    "usage: twinline-agent --interactive --worker W --kb DIR [options]\n"
    "\n"
    "The screen a person works in: presence, offers with a countdown, the\n"
    "case, the assist panel and the outcome form (docs/agent.md, \"Working\n"
    "interactively\"). Keyboard only; the keys are shown on the screen.\n"
    "The terminal must be at least 100 columns by 30 rows. One session per\n"
    "worker: a second sign-in is refused unless it takes over.\n"
    "\n"
    "  --worker W            the worker you sign in as\n"
    "  --kb DIR              a tenant's knowledge base (examples/kb/jsbank);\n"
    "                        repeat for more tenants (at most 16)\n"
    "  --passages K          knowledge passages shown, 1..10 (default 5)\n"
    "  --model-url URL       OpenAI-compatible chat completions endpoint\n"
    "                        (off by default)\n"
    "  --model-name NAME     the model to ask for\n"
    "  --model-key-file F    file holding the API key (bearer token)\n"
    "  --model-timeout-ms N  hard limit of a model call (default 3000)\n"
    "  --log-file FILE       where log lines go while the screen is up\n"
    "                        (default /tmp/twinline-agent-<worker>.log)\n"
    "  --takeover            sign in even if the worker is signed in\n"
    "                        elsewhere: that session is told and stops\n"
    "  --help                this text\n";

bool agent_tui_options_wanted(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--interactive") == 0)
            return true;
    return false;
}

/* "--flag value" or "--flag=value": true when argv[*i] is flag. */
static bool take(const char *flag, int argc, char **argv, int *i,
                 const char **val, status *st, err *e)
{
    size_t n = strlen(flag);
    const char *arg = argv[*i];

    if (strncmp(arg, flag, n) != 0 || (arg[n] != '\0' && arg[n] != '='))
        return false;
    if (arg[n] == '=')
        *val = arg + n + 1;
    else if (*i + 1 < argc)
        *val = argv[++*i];
    else
        *st = err_set(e, ST_CONFIG, "%s needs a value", flag);
    return true;
}

static status int_in(const char *flag, const char *v, long min, long max,
                     int *out, err *e)
{
    char *end = NULL;
    long x;

    errno = 0;
    x = strtol(v, &end, 10);
    if (errno != 0 || end == v || *end != '\0' || x < min || x > max)
        return err_set(e, ST_CONFIG,
                       "%s must be an integer from %ld to %ld (got \"%.40s\")",
                       flag, min, max, v);
    *out = (int)x;
    return ST_OK;
}

status agent_tui_options_parse(agent_tui_options *o, int argc, char **argv,
                               err *e)
{
    status st = ST_OK;

    memset(o, 0, sizeof(*o));
    config_from_env(&o->cfg);
    o->model_timeout_ms = 3000;
    o->passages = 5;
    for (int i = 1; i < argc && st == ST_OK; i++) {
        const char *v = NULL;
        err ce = {0};

        if (config_take_flag(&o->cfg, argc, argv, &i, &ce)) {
            if (ce.code != ST_OK)
                st = err_set(e, ST_CONFIG, "%s", ce.msg);
            continue;
        }
        if (strcmp(argv[i], "--interactive") == 0)
            continue;
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            o->help = true;
        } else if (take("--worker", argc, argv, &i, &v, &st, e)) {
            if (v != NULL && (strlen(v) > ID_MAX || !ids_token_valid(v)))
                st = err_set(e, ST_CONFIG,
                             "--worker \"%.80s\" must be 1-64 characters of "
                             "letters, digits, '_' or '-'",
                             v);
            else if (v != NULL)
                snprintf(o->worker, sizeof(o->worker), "%s", v);
        } else if (take("--kb", argc, argv, &i, &v, &st, e)) {
            if (v != NULL && o->nkbs == AGENT_CONSOLE_KBS_MAX)
                st = err_set(e, ST_CONFIG, "--kb given more than %d times",
                             AGENT_CONSOLE_KBS_MAX);
            else if (v != NULL)
                o->kbs[o->nkbs++] = v;
        } else if (take("--passages", argc, argv, &i, &v, &st, e)) {
            if (v != NULL)
                st = int_in("--passages", v, 1, ASSIST_PANEL_K_MAX,
                            &o->passages, e);
        } else if (take("--model-url", argc, argv, &i, &v, &st, e)) {
            o->model_url = v;
        } else if (take("--model-name", argc, argv, &i, &v, &st, e)) {
            o->model_name = v;
        } else if (take("--model-key-file", argc, argv, &i, &v, &st, e)) {
            o->model_key_file = v;
        } else if (take("--model-timeout-ms", argc, argv, &i, &v, &st, e)) {
            if (v != NULL)
                st = int_in("--model-timeout-ms", v, 100, 60000,
                            &o->model_timeout_ms, e);
        } else if (take("--log-file", argc, argv, &i, &v, &st, e)) {
            o->log_file = v;
        } else if (strcmp(argv[i], "--takeover") == 0) {
            o->takeover = true;
        } else {
            st = err_set(e, ST_CONFIG,
                         "unknown argument \"%.80s\"; run twinline-agent "
                         "--interactive --help",
                         argv[i]);
        }
    }
    if (st == ST_OK && !o->help && o->worker[0] == '\0')
        st = err_set(e, ST_CONFIG,
                     "--interactive needs --worker W: the worker you sign in "
                     "as");
    if (st == ST_OK && !o->help && o->model_url == NULL &&
        (o->model_name != NULL || o->model_key_file != NULL))
        st = err_set(e, ST_CONFIG,
                     "--model-name and --model-key-file need --model-url");
    return st;
}
