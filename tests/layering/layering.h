/*
 * The layering check: reads the C sources of a tree and reports, as
 * "path:line: message" lines, every place that breaks the architecture's
 * rules (docs/architecture.md, "Folders and libraries"):
 *
 *  (a) Folders include only downwards. Each product folder has a level;
 *      a file may include headers of its own folder and of folders on a
 *      lower level, never of a sibling on its own level, a higher one, or
 *      tests/ and bench/. Inside a folder the modules (a .c and .h of one
 *      name) include each other without cycles.
 *  (b) No query result is read by column number: db_val, db_i64, db_bool
 *      and db_null take a column of the statement's generated enum, never
 *      a literal.
 *  (c) No SQL text in C: no db_stmt defined in C (nor the old DB_STMT
 *      macro), and no db_query or db_exec given a string literal;
 *      statements live in <folder>/sql/NAME.sql.
 *  (d) In a folder whose modules are layered (the dispatcher), every
 *      module has a layer and includes only modules of layers below its
 *      own.
 *
 * tests/ and bench/ ("free" folders) may include anything and are not
 * checked. The rules of this tree are layering_twinline (layering_rules.c).
 */
#ifndef TL_LAYERING_H
#define TL_LAYERING_H

#include <stdio.h>

#include "err.h"

typedef struct layering_folder {
    const char *name;
    int level; /* includes go to lower levels only */
} layering_folder;

/* One allowed include against the direction, with the reason. */
typedef struct layering_exception {
    const char *file;   /* relative to the root, "worker/main.c" */
    const char *folder; /* the folder it may include from */
    const char *why;
} layering_exception;

/*
 * The layer of one module of a layered folder, 0 at the top: a module
 * includes only modules of higher numbers (its own header aside).
 */
typedef struct layering_module {
    const char *folder; /* "dispatcher" */
    const char *module; /* "state": state.c and state.h */
    int layer;
} layering_module;

typedef struct layering_rules {
    const layering_folder *folders; /* product folders */
    int nfolders;
    const char *const *free_folders;      /* NULL-terminated */
    const char *const *sql_pending;       /* folders exempt from (b), (c) */
    const char *const *cycle_pending;     /* folders exempt from cycles */
    const char *const *exec_exempt_files; /* may give db_exec a literal */
    const layering_exception *exceptions;
    int nexceptions;
    const layering_module *modules; /* of the layered folders, rule (d) */
    int nmodules;
} layering_rules;

/* A file checked as if it were at `as` (relative to the root). */
typedef struct layering_extra {
    const char *path; /* where it is on disk */
    const char *as;   /* "common/bad.c"; replaces a real file there */
} layering_extra;

/* The rules of the Twinline tree (layering_rules.c). */
extern const layering_rules layering_twinline;

/*
 * Check the tree at root (plus the nextras extra files) against rules,
 * writing one line per problem to report. *problems receives their
 * number (0: the tree keeps the rules) and *files the number of files
 * read (either may be NULL). Returns ST_IO when a file or folder cannot be
 * read, ST_NOMEM, or ST_OK (also when problems were found).
 */
status layering_check(const char *root, const layering_rules *rules,
                      const layering_extra *extras, int nextras, FILE *report,
                      int *problems, int *files, err *e);

#endif
