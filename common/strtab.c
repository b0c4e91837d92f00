#include "strtab.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct strtab {
    char **names;
    int count;
    int cap_names;
    int *buckets; /* id + 1, 0 = empty; open addressing */
    int nbuckets; /* power of two */
};

static uint32_t hash(const char *s)
{
    uint32_t h = 2166136261u; /* FNV-1a */

    for (; *s != '\0'; s++) {
        h ^= (unsigned char)*s;
        h *= 16777619u;
    }
    return h;
}

status strtab_create(strtab **out, err *e)
{
    strtab *t = calloc(1, sizeof(*t));

    if (t == NULL)
        return err_set(e, ST_NOMEM, "out of memory");
    t->nbuckets = 64;
    t->buckets = calloc((size_t)t->nbuckets, sizeof(int));
    if (t->buckets == NULL) {
        free(t);
        return err_set(e, ST_NOMEM, "out of memory");
    }
    *out = t;
    return ST_OK;
}

void strtab_destroy(strtab *t)
{
    if (t == NULL)
        return;
    for (int i = 0; i < t->count; i++)
        free(t->names[i]);
    free(t->names);
    free(t->buckets);
    free(t);
}

int strtab_find(const strtab *t, const char *s)
{
    int mask = t->nbuckets - 1;
    int i = (int)(hash(s) & (uint32_t)mask);

    while (t->buckets[i] != 0) {
        int id = t->buckets[i] - 1;
        if (strcmp(t->names[id], s) == 0)
            return id;
        i = (i + 1) & mask;
    }
    return -1;
}

static void place(strtab *t, int id)
{
    int mask = t->nbuckets - 1;
    int i = (int)(hash(t->names[id]) & (uint32_t)mask);

    while (t->buckets[i] != 0)
        i = (i + 1) & mask;
    t->buckets[i] = id + 1;
}

status strtab_intern(strtab *t, const char *s, int *id, err *e)
{
    int found = strtab_find(t, s);
    char *copy;

    if (found >= 0) {
        *id = found;
        return ST_OK;
    }
    if ((t->count + 1) * 2 > t->nbuckets) {
        int *nb = calloc((size_t)t->nbuckets * 2, sizeof(int));
        if (nb == NULL)
            return err_set(e, ST_NOMEM, "out of memory");
        free(t->buckets);
        t->buckets = nb;
        t->nbuckets *= 2;
        for (int i = 0; i < t->count; i++)
            place(t, i);
    }
    if (t->count == t->cap_names) {
        int ncap = t->cap_names > 0 ? t->cap_names * 2 : 16;
        char **nn = realloc(t->names, sizeof(char *) * (size_t)ncap);
        if (nn == NULL)
            return err_set(e, ST_NOMEM, "out of memory");
        t->names = nn;
        t->cap_names = ncap;
    }
    copy = strdup(s);
    if (copy == NULL)
        return err_set(e, ST_NOMEM, "out of memory");
    t->names[t->count] = copy;
    place(t, t->count);
    *id = t->count++;
    return ST_OK;
}

const char *strtab_name(const strtab *t, int id)
{
    if (id < 0 || id >= t->count)
        return NULL;
    return t->names[id];
}

int strtab_count(const strtab *t)
{
    return t->count;
}
