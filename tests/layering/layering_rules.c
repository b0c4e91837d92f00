/*
 * The layering of the Twinline tree (docs/architecture.md, "Folders and
 * libraries"): the level of every product folder, what is still being
 * converted, and the few includes allowed against the direction, each
 * with its reason.
 */
#include "layering.h"

/*
 * common <- {contracts, staffing} <- {dispatcher, billing, assist} <-
 * worker <- sim <- cli. Folders on one level are siblings and include
 * neither each other nor anything above. staffing/ (merged on main) is a
 * pure library over common that the dispatcher and the console feed.
 */
static const layering_folder folders[] = {
    {"common", 0},     {"contracts", 1}, {"staffing", 1},
    {"dispatcher", 2}, {"billing", 2},   {"assist", 2},
    {"worker", 3},     {"sim", 4},       {"cli", 5},
};

/* Tests and benchmarks may include anything and are not checked. */
static const char *const free_folders[] = {"tests", "bench", NULL};

/*
 * Folders whose SQL is still being moved into <folder>/sql/NAME.sql (issue 9)
 * by other branches: rules (b) and (c) skip them until those branches are
 * merged. The lead empties this list after the merge.
 */
static const char *const sql_pending[] = {"dispatcher", "billing", NULL};

/*
 * Folders whose include cycle is being removed by another branch (issue
 * 9: dispatcher.c includes dispatcher_int.h, which includes dispatcher.h).
 * The lead empties this list after the merge.
 */
static const char *const cycle_pending[] = {"dispatcher", NULL};

/* Transaction control (BEGIN, COMMIT) is the db module's own. */
static const char *const exec_exempt_files[] = {"common/db.c", NULL};

static const layering_exception exceptions[] = {
    {"worker/main.c", "sim",
     "twinline-agent --workers runs simulated workers: the program links "
     "tl_sim (sim/) above the agent library tl_agent"},
};

const layering_rules layering_twinline = {
    .folders = folders,
    .nfolders = (int)(sizeof(folders) / sizeof(folders[0])),
    .free_folders = free_folders,
    .sql_pending = sql_pending,
    .cycle_pending = cycle_pending,
    .exec_exempt_files = exec_exempt_files,
    .exceptions = exceptions,
    .nexceptions = (int)(sizeof(exceptions) / sizeof(exceptions[0])),
};
