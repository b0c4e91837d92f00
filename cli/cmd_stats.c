#include "cmd_stats.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "stats.h"

static const char stats_usage[] =
    "usage: twinline stats [--json]\n"
    "\n"
    "Live figures from the database: per queue (tenant / case type / step)\n"
    "the tasks waiting and being worked on, the oldest wait and the share\n"
    "of tasks completed within their SLA over the last 24 hours; per\n"
    "worker its state (offline, break, wrap_up, busy, available), load,\n"
    "occupancy and tasks completed in the last hour. --json prints the\n"
    "document the dispatcher publishes on <prefix>.stats.dispatcher.\n";

int cmd_stats(int argc, char **argv, const config *cfg)
{
    config c = *cfg;
    bool json = false;
    stats *st = NULL;
    db *d = NULL;
    err e = {0};
    int rc = 0;

    for (int i = 1; i < argc; i++) {
        if (config_take_flag(&c, argc, argv, &i, &e)) {
            if (e.code != ST_OK) {
                fprintf(stderr, "twinline: %s\n%s", e.msg, stats_usage);
                return 2;
            }
        } else if (strcmp(argv[i], "--json") == 0) {
            json = true;
        } else if (strcmp(argv[i], "--help") == 0 ||
                   strcmp(argv[i], "-h") == 0) {
            printf("%s\n%s", stats_usage, config_flags_help);
            return 0;
        } else {
            fprintf(stderr, "twinline: unexpected argument %s\n%s", argv[i],
                    stats_usage);
            return 2;
        }
    }
    if (db_connect(&d, c.db, &e) != ST_OK ||
        stats_collect(d, &st, &e) != ST_OK) {
        fprintf(stderr, "twinline: %s\n", e.msg);
        rc = 1;
        goto out;
    }
    if (json) {
        char *text = stats_json(st);
        if (text == NULL) {
            fprintf(stderr, "twinline: out of memory\n");
            rc = 1;
            goto out;
        }
        printf("%s\n", text);
        free(text);
    } else {
        stats_print(st, stdout);
    }
out:
    stats_destroy(st);
    db_close(d);
    return rc;
}
