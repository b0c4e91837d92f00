/*
 * Partitions and their leases (docs/ha.md): which partitions this
 * dispatcher owns, kept in PostgreSQL by schema 016, and which of the
 * requests it hears are its own to answer.
 *
 * Every dispatcher subscribes to every request subject; each request
 * names its partition through its tenant or worker, and only the owner of
 * that partition handles it. A request of a partition that no live
 * dispatcher holds (a failover in progress) is parked for up to
 * DSP_PART_PARK_MS and handled by whoever takes the partition in that
 * time, so a takeover loses no request. Requests of other owners are
 * dropped: their owner heard them too.
 *
 * A round (dsp_part_round, every lease/6) renews the leases this
 * dispatcher holds, gives one up when it holds more than its share of the
 * live dispatchers and another has less, takes free ones up to its share,
 * and tells the session which leases it holds (the fence of schema 016
 * checks every write against them). All lease times are PostgreSQL's; the
 * local deadline, after which this dispatcher treats itself as owning
 * nothing until a renewal succeeds, is the renewal's sending time plus
 * the lease less a quarter of it, so it stops before another can take
 * over (lease > round + margin).
 *
 * Runs on the loop's thread and connection, between batches; not
 * thread-safe.
 */
#ifndef TL_PARTITION_H
#define TL_PARTITION_H

#include <stdbool.h>
#include <stdint.h>

#include "dsp.h"

/* How long a request of a partition without an owner waits for one. */
#define DSP_PART_PARK_MS 5000

/* Join as a member (d->opts.member, or <host>-<pid>), take the partitions
 * this dispatcher's share allows and set the session's fence. */
status dsp_part_create(dispatcher *d, err *e);

/* Give up every lease and leave (a clean stop: the others take over at
 * once), free the parked requests; NULL part is a no-op. */
void dsp_part_destroy(dispatcher *d);

/*
 * A round when one is due (or force): renew, rebalance, set the fence.
 * *changed becomes true when the set of owned partitions changed (the
 * routing state must then be rebuilt). Outside any transaction.
 */
status dsp_part_round(dispatcher *d, bool force, bool *changed, err *e);

/* The session was reconnected: its settings are gone; set them again
 * before any write. */
status dsp_part_reconnected(dispatcher *d, err *e);

/*
 * Keep in msgs[0..n) the requests this dispatcher handles now, in order;
 * park those of a partition without an owner, free those of other
 * owners. Then append, up to max, parked requests that became this
 * dispatcher's, and free those parked too long. Returns the new count.
 */
int dsp_part_filter(dispatcher *d, bus_msg **msgs, int n, int max);

/* Whether m is this dispatcher's to answer now (used again after a
 * rollback, before a request is retried alone). */
bool dsp_part_mine(dispatcher *d, const bus_msg *m);

/* Whether the local lease deadline has not passed: a batch may commit. */
bool dsp_part_valid(const dispatcher *d);

/*
 * Workers' leases are judged only from when this dispatcher could hear
 * them: after a takeover, a database or NATS outage or a stalled loop,
 * none expires before a full lease of listening. dsp_part_deaf marks such
 * a moment; dsp_part_may_expire says whether leases may expire now.
 */
void dsp_part_deaf(dispatcher *d, const char *why);
bool dsp_part_may_expire(const dispatcher *d);

/* Whether e is the fence's refusal (SQLSTATE TL001: a lease was lost). */
bool dsp_part_fenced(const err *e);

/* Whether this dispatcher leads: it answers what belongs to no partition
 * and its relay publishes the outbox (the holder of the first partition,
 * or the first live member when there are none). */
bool dsp_part_lead(const dispatcher *d);

/* Partitions held and in total, for logs and figures. */
void dsp_part_counts(const dispatcher *d, int *held, int *total);

#endif
