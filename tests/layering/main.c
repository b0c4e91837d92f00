/*
 * tl_layering [--as FILE AS]... [ROOT]: check the tree at ROOT (default:
 * the source tree this was built from) against its layering rules
 * (layering_rules.c), printing one "path:line: message" line per problem.
 * --as FILE AS checks FILE as if it were at AS (relative to ROOT), to try
 * a change out. Exit status 0: the tree keeps the rules; 1: problems were
 * found; 2: usage or read errors.
 */
#include <stdio.h>
#include <string.h>

#include "layering.h"

#define MAX_EXTRAS 16

int main(int argc, char **argv)
{
    layering_extra extras[MAX_EXTRAS];
    const char *root = TL_SOURCE_DIR;
    int nextras = 0, problems = 0, files = 0;
    err e = {0};

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--as") == 0 && i + 2 < argc &&
            nextras < MAX_EXTRAS) {
            extras[nextras].path = argv[i + 1];
            extras[nextras].as = argv[i + 2];
            nextras++;
            i += 2;
        } else if (argv[i][0] != '-' && i == argc - 1) {
            root = argv[i];
        } else {
            fprintf(stderr, "usage: tl_layering [--as FILE AS]... [ROOT]\n");
            return 2;
        }
    }
    if (layering_check(root, &layering_twinline, extras, nextras, stdout,
                       &problems, &files, &e) != ST_OK) {
        fprintf(stderr, "tl_layering: %s\n", e.msg);
        return 2;
    }
    if (problems > 0) {
        printf("layering: %d problem%s in %s (the rules: docs/architecture.md, "
               "\"Folders and libraries\"; tests/layering/layering_rules.c)\n",
               problems, problems == 1 ? "" : "s", root);
        return 1;
    }
    printf("layering: %d files keep the rules\n", files);
    return 0;
}
