/*
 * The payload schema of a case type: what a bank may put in a case's
 * `payload` (and, optionally, its `customer`), declared in the playbook
 * (docs/config.md, "payload"), and which of those fields are the
 * customer's personal data. The dispatcher checks every submit against
 * it and splits the case into what PostgreSQL may hold in plain text and
 * what is sealed (common/keystore.h); it merges the two again for the
 * worker who accepted a task and for the tenant's own case.get.
 *
 * A schema maps field names (identifiers) to specs:
 *
 *   {"type": "string", "max_length": 40, "values": ["a", "b"]}
 *   {"type": "int", "min": 0, "max": 3650}
 *   {"type": "amount_minor"}          0 .. 10^15 minor units
 *   {"type": "date"}                  "YYYY-MM-DD", a real date
 *   {"type": "bool"}
 *   {"type": "object", "fields": {...}}
 *   {"type": "array", "items": {...}, "max_items": 20}
 *
 * each with "required" (default true), "personal" (default false; only
 * in a payload schema: every customer field is personal) and an optional
 * "description". Everything under a personal field is personal; inside
 * an array only the array itself may be marked, since the sealed part
 * keeps objects, not positions in arrays.
 *
 * Messages never quote a value of the case (it may be personal), only
 * paths and what the schema expects. Statuses are those of the bank API:
 * ST_MISSING_FIELD, ST_WRONG_TYPE, ST_UNKNOWN_FIELD, ST_INVALID; ST_NOMEM.
 * Pure functions, no I/O.
 */
#ifndef TL_PAYLOAD_H
#define TL_PAYLOAD_H

#include <stdbool.h>

#include <jansson.h>

#include "err.h"

#define PAYLOAD_FIELDS_MAX  64    /* fields of one object of a schema */
#define PAYLOAD_NODES_MAX   256   /* fields of a whole schema */
#define PAYLOAD_DEPTH_MAX   4     /* objects and arrays inside each other */
#define PAYLOAD_STRING_MAX  16384 /* the largest max_length, characters */
#define PAYLOAD_STRING_DEF  500   /* max_length when the schema says none */
#define PAYLOAD_VALUES_MAX  64    /* values of a string enumeration */
#define PAYLOAD_ITEMS_MAX   1000  /* the largest max_items */
#define PAYLOAD_ITEMS_DEF   100   /* max_items when the schema says none */
#define PAYLOAD_DESCRIPTION 200   /* bytes of a description */

typedef struct payload_schema payload_schema;

/*
 * Decode the schema obj (a JSON object of field specs). `where` is its
 * JSON path for messages ("playbooks[0].payload"); customer says it is
 * the schema of the customer object, where "personal" is implied and may
 * not be written. Errors: ST_WRONG_TYPE, ST_UNKNOWN_FIELD,
 * ST_MISSING_FIELD, ST_INVALID with the path of the bad spec; ST_NOMEM.
 * *out is the caller's (payload_schema_destroy).
 */
status payload_schema_decode(const json_t *obj, const char *where,
                             bool customer, payload_schema **out, err *e);

/* Free s; NULL is a no-op. */
void payload_schema_destroy(payload_schema *s);

/* The schema as it was decoded (borrowed, lives as long as s). */
const json_t *payload_schema_json(const payload_schema *s);

/* True when a payload checked against s may have personal fields. */
bool payload_schema_has_personal(const payload_schema *s);

/* The same schema (NULL equals only NULL). */
bool payload_schema_same(const payload_schema *a, const payload_schema *b);

/*
 * Check a submit's customer and payload (JSON object texts) against the
 * case type's schemas (each may be NULL: no schema, any object) and split
 * them. *plain (always set) is the payload without its personal fields,
 * as PostgreSQL may hold it; *personal is {"customer": {...}, "payload":
 * {the personal fields, at their paths}} (payload left out when it has
 * none), or NULL when the case carries no personal data at all (an empty
 * customer and no personal payload field). Both are the caller's (free).
 * case_type names the playbook in messages. Nothing is written on error.
 */
status payload_check(const payload_schema *payload,
                     const payload_schema *customer, const char *case_type,
                     const char *customer_json, const char *payload_json,
                     char **plain, char **personal, err *e);

/*
 * The view of a case or task (a JSON object with "customer" and "payload"
 * members, as the database builds it) with the personal part put back:
 * "customer" replaced by the sealed customer, the sealed payload fields
 * merged into "payload" at their paths and their dotted paths listed in
 * "personal_fields" (so that an agent can keep them from what it sends
 * elsewhere, e.g. a model endpoint). personal NULL: the view as it is. *out is
 * the caller's (free). Errors: ST_INVALID (either text is not such an object),
 * ST_NOMEM.
 */
status payload_merge(const char *view_json, const char *personal, char **out,
                     err *e);

#endif
