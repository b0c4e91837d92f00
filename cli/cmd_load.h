/*
 * Loading of configuration documents (tenants, operators, pools, workers,
 * contracts with their price plans, playbooks, routing and channel
 * settings) into PostgreSQL. The format is described field by
 * field in docs/config.md.
 *
 * Each document is validated strictly and loaded in one transaction: an
 * error names the file and the JSON path of the bad field, and leaves the
 * database exactly as it was. Objects are upserted by id, so loading the same
 * document twice changes nothing; a playbook whose definition differs from
 * its latest version is stored as a new version.
 */
#ifndef TL_CMD_LOAD_H
#define TL_CMD_LOAD_H

#include <stddef.h>

#include "db.h"
#include "err.h"

/* What one document contained; playbook_versions counts new versions. */
typedef struct cmd_load_counts {
    int tenants;
    int operators;
    int pools;
    int workers;
    int playbooks;
    int playbook_versions;
    int contracts;
    int plan_versions; /* new price plan versions */
    int channels;      /* channel settings given */
} cmd_load_counts;

/* Largest document accepted, in bytes. */
#define ADMIN_LOAD_MAX_BYTES (16u * 1024u * 1024u)

/*
 * Validate and load the JSON document in text[0..len). name (a file name or
 * "-") prefixes every error message. *out (may be NULL) receives the counts
 * on success. Errors: ST_BAD_JSON, ST_TOO_LARGE, ST_UNKNOWN_FIELD,
 * ST_MISSING_FIELD, ST_WRONG_TYPE, ST_INVALID (bad values and references),
 * ST_UNKNOWN_CASE_TYPE, ST_DB/ST_UNAVAILABLE/ST_CONFLICT from the database.
 */
status cmd_load_text(db *d, const char *name, const char *text, size_t len,
                     cmd_load_counts *out, err *e);

/* As cmd_load_text for the file at path; ST_IO when it cannot be read. */
status cmd_load_file(db *d, const char *path, cmd_load_counts *out, err *e);

/*
 * Write "loaded: 1 tenant, 2 pools, ..." (or "loaded: nothing") into buf.
 */
void cmd_load_summary(const cmd_load_counts *c, char *buf, size_t cap);

#endif
