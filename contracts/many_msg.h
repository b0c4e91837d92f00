/*
 * The envelope of the bulk messages (docs/protocol.md, "Bulk requests"):
 * a request that carries many items of one kind, {"<member>": [I, ...)},
 * and its one reply, {"ok": true, "results": [R, ...]}, where each R is
 * exactly the reply the item would get as a request of its own. The items
 * and results travel as the JSON text of each, so that the codecs of the
 * single messages (case_msg.h, agent_msg.h) decode and encode them, and a
 * bulk request is answered by the same code as its items sent alone.
 *
 * Pure functions, no I/O. Lists and encoded texts are the caller's.
 */
#ifndef TL_MANY_MSG_H
#define TL_MANY_MSG_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"

/* Items (or results), each as compact JSON text with its length. */
typedef struct many_list {
    char **text;
    size_t *len;
    int n;
} many_list;

/*
 * Split a bulk request of at most max bytes whose only member is the
 * array member, of 1..max_items elements, into *out (written on success
 * only; many_list_release). An element may be any JSON value: the single
 * decoder judges it. Errors name the member: ST_TOO_LARGE (bytes, or more
 * than max_items elements), ST_BAD_JSON, ST_WRONG_TYPE, ST_UNKNOWN_FIELD,
 * ST_MISSING_FIELD, ST_INVALID (an empty array), ST_NOMEM.
 */
status many_msg_split(const char *buf, size_t len, size_t max,
                      const char *member, int max_items, many_list *out,
                      err *e);

/* {"<member>": [items...]} from n item texts (each a JSON value; else
 * ST_INVALID naming its index). */
status many_msg_encode(const char *member, char *const *items, int n,
                       char **out, size_t *len, err *e);

/* {"ok": true, "results": [...]} from n reply bodies as the single
 * replies are encoded (JSON objects, inserted as they are). */
status many_msg_reply(char *const *bodies, int n, char **out, size_t *len,
                      err *e);

/*
 * A bulk reply: *ok false with code and message for an error reply of the
 * whole request (nothing of it was done), else its results into *out
 * (many_list_release). An empty body is ST_UNAVAILABLE (no responders);
 * anything else that is not such a reply is ST_BAD_JSON or ST_WRONG_TYPE.
 */
status many_msg_reply_split(const char *buf, size_t len, bool *ok,
                            char code[48], char message[256], many_list *out,
                            err *e);

/* Free what l holds (not l); a zeroed l is fine. */
void many_list_release(many_list *l);

#endif
