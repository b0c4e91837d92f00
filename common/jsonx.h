/*
 * Strict JSON decoding for outside input, shared by the protocol codecs.
 * Only codec modules include this header (it exposes json_t).
 *
 * A request is checked against a field table: an unknown field, a missing
 * required field or a wrong type is an error that names the field, so a
 * bank's integrator sees exactly what to fix.
 */
#ifndef TL_JSONX_H
#define TL_JSONX_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "err.h"

typedef enum jf_type {
    JF_STRING, /* any string */
    JF_TOKEN,  /* identifier: [A-Za-z0-9_-]{1,64} */
    JF_INT,    /* integer (no fraction) */
    JF_BOOL,
    JF_OBJECT,
    JF_ARRAY,
    JF_ANY
} jf_type;

typedef struct jfield {
    const char *name;
    jf_type type;
    bool required;
} jfield;

/*
 * Parse buf as one JSON object of at most max bytes. *out is a new reference
 * owned by the caller. Errors: ST_TOO_LARGE, ST_BAD_JSON (with position),
 * ST_WRONG_TYPE when the top level is not an object.
 */
status jsonx_parse(const char *buf, size_t len, size_t max, json_t **out,
                   err *e);

/*
 * Check obj against fields. `where` names the object in messages
 * ("request", "outcome.fields"). Errors: ST_UNKNOWN_FIELD,
 * ST_MISSING_FIELD, ST_WRONG_TYPE, ST_INVALID (bad token).
 */
status jsonx_check(const json_t *obj, const char *where, const jfield *fields,
                   int nfields, err *e);

/* The string member name, or NULL when absent or not a string. Borrowed. */
const char *jsonx_str(const json_t *obj, const char *name);

/* The integer member name into *out; false when absent or not an integer. */
bool jsonx_int(const json_t *obj, const char *name, int64_t *out);

/* Compact serialisation; caller frees. NULL on allocation failure. */
char *jsonx_dump(const json_t *v);

/* Load a whole file as a JSON object (for CLI input). */
status jsonx_load_file(const char *path, json_t **out, err *e);

/*
 * Error reply body: {"ok":false,"error":{"code":"...","message":"..."}}.
 * Caller frees. Never NULL (falls back to a static-size allocation).
 */
char *jsonx_error_reply(status s, const char *message);

#endif
