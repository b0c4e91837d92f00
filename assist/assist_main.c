/* twinline-assist: print the assist panel of one task, to try a knowledge
 * base and its rules without the dispatcher (docs/assist.md). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "assist_panel.h"

#define ACKS_MAX 32

static const char help[] =
    "usage: twinline-assist --kb DIR --task FILE [--k N] [--now TIME]\n"
    "                       [--draft TEXT] [--ack ID]...\n"
    "  --kb DIR      knowledge base folder: *.md, *.txt and rules.json\n"
    "  --task FILE   an accept reply, or its \"task\" object, as JSON\n"
    "  --k N         passages to show, 1-10 (default 5)\n"
    "  --now TIME    the time to check contact hours at, as\n"
    "                YYYY-MM-DDTHH:MM:SSZ (UTC) or @SECONDS (default: now)\n"
    "  --draft TEXT  check a draft reply for forbidden phrases\n"
    "  --ack ID      acknowledge the prompt ID (repeatable)\n"
    "Exit status: 0 when the outcome may be sent, 3 when a prompt still\n"
    "needs an acknowledgement or the draft has a forbidden phrase, 2 on\n"
    "bad usage, 1 on any other error.\n";

/* Seconds since the epoch from "YYYY-MM-DDTHH:MM:SSZ" or "@N". */
static int parse_now(const char *s, int64_t *out)
{
    struct tm tm;
    const char *end;
    char *stop;

    if (s[0] == '@') {
        long long v = strtoll(s + 1, &stop, 10);
        if (stop == s + 1 || *stop != '\0')
            return -1;
        *out = v;
        return 0;
    }
    memset(&tm, 0, sizeof(tm));
    end = strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm);
    if (end == NULL || *end != '\0')
        return -1;
    *out = (int64_t)timegm(&tm);
    return 0;
}

int main(int argc, char **argv)
{
    const char *kb_dir = NULL, *task_path = NULL, *draft = NULL;
    const char *acks[ACKS_MAX];
    int nacks = 0, k = 5, found = 0, rc = 1;
    int64_t now = (int64_t)time(NULL);
    assist_kb *kb = NULL;
    assist_task *task = NULL;
    assist_panel *panel = NULL;
    err e = {0};

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            fputs(help, stdout);
            return 0;
        }
        if (v == NULL) {
            fprintf(stderr,
                    "twinline-assist: %s needs a value (or is not an "
                    "option); see --help\n",
                    a);
            return 2;
        }
        i++;
        if (strcmp(a, "--kb") == 0) {
            kb_dir = v;
        } else if (strcmp(a, "--task") == 0) {
            task_path = v;
        } else if (strcmp(a, "--draft") == 0) {
            draft = v;
        } else if (strcmp(a, "--k") == 0) {
            char *stop;
            long n = strtol(v, &stop, 10);
            if (*stop != '\0' || n < 1 || n > ASSIST_PANEL_K_MAX) {
                fprintf(stderr, "twinline-assist: --k must be 1 to %d\n",
                        ASSIST_PANEL_K_MAX);
                return 2;
            }
            k = (int)n;
        } else if (strcmp(a, "--now") == 0) {
            if (parse_now(v, &now) != 0) {
                fprintf(stderr, "twinline-assist: --now must be "
                                "YYYY-MM-DDTHH:MM:SSZ or @SECONDS\n");
                return 2;
            }
        } else if (strcmp(a, "--ack") == 0) {
            if (nacks == ACKS_MAX) {
                fprintf(stderr, "twinline-assist: at most %d --ack\n",
                        ACKS_MAX);
                return 2;
            }
            acks[nacks++] = v;
        } else {
            fprintf(stderr, "twinline-assist: unknown option %s; see --help\n",
                    a);
            return 2;
        }
    }
    if (kb_dir == NULL || task_path == NULL) {
        fprintf(stderr, "twinline-assist: --kb and --task are required; see "
                        "--help\n");
        return 2;
    }
    if (assist_kb_load(&kb, kb_dir, &e) != ST_OK ||
        assist_task_load(&task, task_path, &e) != ST_OK ||
        assist_panel_build(&panel, kb, task, now, k, &e) != ST_OK ||
        (draft != NULL &&
         assist_panel_check_draft(panel, kb, draft, &found, &e) != ST_OK))
        goto fail;
    for (int i = 0; i < nacks; i++)
        if (assist_panel_ack(panel, acks[i], &e) != ST_OK)
            goto fail;
    for (int i = 0; i < panel->nlines; i++)
        printf("%s\n", assist_panel_line(panel, i));
    rc = assist_panel_may_complete(panel) && found == 0 ? 0 : 3;
    goto out;
fail:
    fprintf(stderr, "twinline-assist: %s\n", e.msg);
out:
    assist_panel_destroy(panel);
    assist_task_destroy(task);
    assist_kb_destroy(kb);
    return rc;
}
