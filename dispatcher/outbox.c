/*
 * The outbox relay. Events are inserted in the same transaction as the
 * change they describe; this thread publishes committed ones to JetStream
 * with Nats-Msg-Id "evt-<id>" (the server drops duplicates within its
 * window) and marks them published only after JetStream acknowledged them.
 * After a crash, whatever is unmarked is published again.
 */
#include "outbox.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "dsp_sql.h"
#include "log.h"
#include "sbuf.h"

#define MOD       "outbox"
#define OBX_BATCH 512

/* Publish one batch; returns how many were published, or -1 on error. */
static int relay_once(db *conn, bus *b, err *e)
{
    const char *subjects[OBX_BATCH], *datas[OBX_BATCH], *ids[OBX_BATCH];
    size_t lens[OBX_BATCH];
    char idbuf[OBX_BATCH][32];
    sbuf marks = {0};
    db_res *r = NULL;
    int n = -1;
    status s;

    s = db_run(conn, &dsp_sql_outbox_pending, NULL, &r, e);
    if (s != ST_OK)
        goto out;
    n = db_rows(r);
    if (n == 0)
        goto out;
    sbuf_append(&marks, "{", 1);
    for (int i = 0; i < n; i++) {
        subjects[i] = db_val(r, i, DSP_OUTBOX_PENDING_SUBJECT);
        datas[i] = db_val(r, i, DSP_OUTBOX_PENDING_PAYLOAD);
        lens[i] = strlen(datas[i]);
        snprintf(idbuf[i], sizeof(idbuf[i]), "evt-%s",
                 db_val(r, i, DSP_OUTBOX_PENDING_ID));
        ids[i] = idbuf[i];
        sbuf_printf(&marks, "%s%s", i > 0 ? "," : "",
                    db_val(r, i, DSP_OUTBOX_PENDING_ID));
    }
    sbuf_append(&marks, "}", 1);
    s = bus_js_publish_batch(b, n, subjects, datas, lens, ids, e);
    if (s == ST_OK) {
        const char *params[1] = {sbuf_str(&marks)};
        s = db_run(conn, &dsp_sql_outbox_mark, params, NULL, e);
    }
    if (s != ST_OK)
        n = -1;
out:
    sbuf_free(&marks);
    db_res_free(r);
    return s == ST_OK ? n : -1;
}

static void *outbox_main(void *arg)
{
    dispatcher *d = arg;
    db *conn = NULL;
    err e = {0};
    int backoff_ms = 100;
    int64_t next_analyze = 0;

    while (!atomic_load(&d->stopping)) {
        err ae = {0};
        int n;
        if (conn == NULL && db_connect(&conn, d->cfg.db, &e) != ST_OK) {
            log_warn(MOD, "%s", e.msg);
            clock_sleep_ms(1000);
            continue;
        }
        /* Plans made on a fresh database's empty tables would make every
         * batch slower than the last (db.h): the statistics are refreshed
         * here, off the loop's connection, which goes on meanwhile; a
         * failure costs only speed. */
        if (db_analyze_growing(conn, DSP_TABLES, atomic_load(&d->msgs_seen),
                               &next_analyze, NULL, &ae) != ST_OK)
            log_warn(MOD, "refreshing table statistics: %s", ae.msg);
        /* Among several dispatchers one relay publishes (the lead's),
         * so the events keep the order of their ids; a lead that dies is
         * replaced within a lease, and the table keeps what waits. */
        n = atomic_load(&d->relay_lead) ? relay_once(conn, d->bus, &e) : 0;
        if (n < 0) {
            log_warn(MOD, "relay failed, will retry: %s", e.msg);
            if (e.code == ST_UNAVAILABLE) {
                db_close(conn);
                conn = NULL;
            }
            clock_sleep_ms(backoff_ms);
            backoff_ms = backoff_ms < 2000 ? backoff_ms * 2 : 2000;
            continue;
        }
        backoff_ms = 100;
        if (n == OBX_BATCH)
            continue; /* more waiting */
        pthread_mutex_lock(&d->obx_lock);
        if (!d->obx_kick && !atomic_load(&d->stopping)) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_nsec += 500L * 1000000L;
            ts.tv_sec += ts.tv_nsec / 1000000000L;
            ts.tv_nsec %= 1000000000L;
            pthread_cond_timedwait(&d->obx_cond, &d->obx_lock, &ts);
        }
        d->obx_kick = false;
        pthread_mutex_unlock(&d->obx_lock);
    }
    db_close(conn);
    return NULL;
}

status dsp_outbox_start(dispatcher *d, err *e)
{
    if (pthread_create(&d->outbox_thread, NULL, outbox_main, d) != 0)
        return err_set(e, ST_INTERNAL, "cannot start the outbox thread");
    d->outbox_running = true;
    return ST_OK;
}

void dsp_outbox_kick(dispatcher *d)
{
    pthread_mutex_lock(&d->obx_lock);
    d->obx_kick = true;
    pthread_cond_signal(&d->obx_cond);
    pthread_mutex_unlock(&d->obx_lock);
}

void dsp_outbox_stop(dispatcher *d)
{
    if (!d->outbox_running)
        return;
    atomic_store(&d->stopping, true);
    dsp_outbox_kick(d);
    pthread_join(d->outbox_thread, NULL);
    d->outbox_running = false;
}
