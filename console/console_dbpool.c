#include "console_dbpool.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DBPOOL_MAX 32

struct console_dbpool {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    char conninfo[512];
    int n;
    db *conns[DBPOOL_MAX];
    bool busy[DBPOOL_MAX];
    bool broken[DBPOOL_MAX];
};

status console_dbpool_create(console_dbpool **out, const char *conninfo, int n,
                             err *e)
{
    console_dbpool *p;
    status st = ST_OK;

    if (n < 1 || n > DBPOOL_MAX)
        return err_set(e, ST_INVALID, "database connections must be 1 to %d",
                       DBPOOL_MAX);
    if (strlen(conninfo) >= sizeof(p->conninfo))
        return err_set(e, ST_INVALID, "database conninfo is too long");
    p = calloc(1, sizeof(*p));
    if (p == NULL)
        return err_set(e, ST_NOMEM, "out of memory");
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    strcpy(p->conninfo, conninfo);
    for (int i = 0; i < n; i++) {
        st = db_connect(&p->conns[i], conninfo, e);
        if (st != ST_OK)
            break;
        p->n++;
    }
    if (st != ST_OK) {
        console_dbpool_destroy(p);
        return st;
    }
    *out = p;
    return ST_OK;
}

void console_dbpool_destroy(console_dbpool *p)
{
    if (p == NULL)
        return;
    for (int i = 0; i < p->n; i++)
        db_close(p->conns[i]);
    pthread_cond_destroy(&p->cv);
    pthread_mutex_destroy(&p->mu);
    free(p);
}

status console_dbpool_get(console_dbpool *p, int timeout_ms, db **out, err *e)
{
    struct timespec until;
    int slot = -1;
    status st = ST_OK;

    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += timeout_ms / 1000;
    until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&p->mu);
    for (;;) {
        for (int i = 0; i < p->n; i++) {
            if (!p->busy[i]) {
                slot = i;
                break;
            }
        }
        if (slot >= 0)
            break;
        if (pthread_cond_timedwait(&p->cv, &p->mu, &until) == ETIMEDOUT)
            break;
    }
    if (slot >= 0)
        p->busy[slot] = true;
    pthread_mutex_unlock(&p->mu);
    if (slot < 0)
        return err_set(e, ST_UNAVAILABLE,
                       "every database connection is busy; retry later");
    if (p->broken[slot]) {
        err re = {0};

        st = db_reconnect(p->conns[slot], &re);
        if (st != ST_OK) {
            console_dbpool_put(p, p->conns[slot], true);
            return err_set(e, ST_UNAVAILABLE, "the database is unreachable: %s",
                           re.msg);
        }
        p->broken[slot] = false;
    }
    *out = p->conns[slot];
    return ST_OK;
}

void console_dbpool_put(console_dbpool *p, db *d, bool broken)
{
    pthread_mutex_lock(&p->mu);
    for (int i = 0; i < p->n; i++) {
        if (p->conns[i] == d) {
            p->busy[i] = false;
            if (broken)
                p->broken[i] = true;
            break;
        }
    }
    pthread_cond_signal(&p->cv);
    pthread_mutex_unlock(&p->mu);
}
