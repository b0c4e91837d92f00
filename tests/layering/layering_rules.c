/*
 * The layering of the Twinline tree (docs/architecture.md, "Folders and
 * libraries"): the level of every product folder, the layers of the
 * dispatcher's modules, and the few includes allowed against the
 * direction, each with its reason.
 */
#include "layering.h"

/*
 * common <- {contracts, staffing} <- {dispatcher, billing, assist} <-
 * worker <- sim <- {cli, console}. Folders on one level are siblings and
 * include neither each other nor anything above. staffing/ is a pure
 * library over common that the dispatcher and the console feed. console/
 * is a program of its own (the operator's console over PostgreSQL and
 * NATS) beside cli/: it may use everything below, and neither includes
 * the other.
 */
static const layering_folder folders[] = {
    {"common", 0},  {"contracts", 1}, {"staffing", 1}, {"dispatcher", 2},
    {"billing", 2}, {"assist", 2},    {"worker", 3},   {"sim", 4},
    {"cli", 5},     {"console", 5},
};

/* Tests and benchmarks may include anything and are not checked. */
static const char *const free_folders[] = {"tests", "bench", NULL};

/*
 * Folders whose SQL is still being moved into <folder>/sql/NAME.sql: rules
 * (b) and (c) skip them. None: every folder's statements are files.
 */
static const char *const sql_pending[] = {NULL};

/* Folders whose include cycle is still being removed. None. */
static const char *const cycle_pending[] = {NULL};

/* Transaction control (BEGIN, COMMIT) is the db module's own. */
static const char *const exec_exempt_files[] = {"common/db.c", NULL};

static const layering_exception exceptions[] = {
    {"worker/main.c", "sim",
     "twinline-agent --workers runs simulated workers: the program links "
     "tl_sim (sim/) above the agent library tl_agent"},
};

/*
 * The dispatcher's modules, top (0) to bottom (docs/architecture.md, "The
 * dispatcher's files"): the program, the loop and its route table, the
 * handlers (one per message kind), the batch steps, the modules below
 * them, the shared state and options, and the pure router.
 */
static const layering_module modules[] = {
    {"dispatcher", "main", 0},
    {"dispatcher", "dispatcher", 1},
    {"dispatcher", "case_api", 2},
    {"dispatcher", "worker_api", 2},
    {"dispatcher", "accept", 2},
    {"dispatcher", "complete", 2},
    {"dispatcher", "feedback_api", 2},
    {"dispatcher", "ops_api", 2},
    {"dispatcher", "ops_actions", 2},
    {"dispatcher", "callup", 2},
    {"dispatcher", "admin_api", 2},
    {"dispatcher", "offers", 3},
    {"dispatcher", "outbox", 3},
    {"dispatcher", "partition", 3},
    {"dispatcher", "progress", 3},
    {"dispatcher", "review", 3},
    {"dispatcher", "consumers", 3},
    {"dispatcher", "violations", 3},
    {"dispatcher", "bulk", 3},
    {"dispatcher", "ops_record", 3},
    {"dispatcher", "intake", 4},
    {"dispatcher", "outq", 4},
    {"dispatcher", "reservations", 4},
    {"dispatcher", "state", 4},
    {"dispatcher", "stats", 4},
    {"dispatcher", "dsp", 5},
    {"dispatcher", "dispatcher_opts", 6},
    {"dispatcher", "router_explain", 7},
    {"dispatcher", "router", 8},
    {"dispatcher", "router_batch", 9},
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
    .modules = modules,
    .nmodules = (int)(sizeof(modules) / sizeof(modules[0])),
};
