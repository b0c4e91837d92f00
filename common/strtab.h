/*
 * Interns short strings (ids of tenants, pools, skills, workers) as dense
 * integers 0..n-1, so hot code compares ints. Not thread-safe.
 */
#ifndef TL_STRTAB_H
#define TL_STRTAB_H

#include "err.h"

typedef struct strtab strtab;

status strtab_create(strtab **out, err *e);
void strtab_destroy(strtab *t);

/* The id of s, adding it when new. s is copied. */
status strtab_intern(strtab *t, const char *s, int *id, err *e);

/* The id of s, or -1. */
int strtab_find(const strtab *t, const char *s);

/* The string of id (borrowed), or NULL when out of range. */
const char *strtab_name(const strtab *t, int id);

int strtab_count(const strtab *t);

#endif
