/*
 * The load feed: `twinline feed` plays the banks. It reads which tenants
 * have which case types from the playbooks table, makes up realistic cases
 * for them (overdue loans, card disputes, complaints, insurance claims,
 * product leaflets for consumer-protection review) and
 * submits them over the bank API (<p>.api.<tenant>.case.submit) at a steady
 * rate with many requests in flight, showing progress on one line. With
 * --wait it stays until every case it submitted is closed.
 *
 * The demo and the benchmark drive the whole system through it, so it only
 * uses the public protocol and reads the database only to show progress.
 */
#ifndef TL_FEED_H
#define TL_FEED_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "err.h"

#define FEED_MAX_TENANTS 32
#define FEED_PREFIX_MAX  64 /* longest --id-prefix, without the NUL */

typedef struct feed_opts {
    long cases;  /* how many cases to submit */
    double rate; /* cases per second; 0 = as fast as possible */
    char tenants[FEED_MAX_TENANTS][65]; /* only these tenants (none = all) */
    int ntenants;
    bool wait;                           /* wait until all are closed */
    int timeout_s;                       /* how long --wait waits */
    uint64_t seed;                       /* for the case generator */
    char id_prefix[FEED_PREFIX_MAX + 1]; /* external ids start with it */
    int inflight;                        /* most requests in flight */
    int review_share; /* per cent of cases of consumer_review, 0-100 */
    bool help;        /* --help was given */
} feed_opts;

/*
 * Parse the feed's command line: argv[0] is the command name and is skipped.
 * Shared flags (--db, --nats, --prefix) update *cfg. Defaults: rate 50/s,
 * timeout 120 s, a time-based seed and id prefix, 256 in flight.
 * Errors: ST_CONFIG with a message naming the flag.
 */
status feed_opts_parse(feed_opts *o, config *cfg, int argc, char **argv,
                       err *e);

/*
 * True for the case type --review-share governs, "consumer_review": its
 * cases are a product leaflet for the AI workers to review, and it is fed
 * only at that share (all cases when no other case type exists).
 */
bool feed_is_review(const char *case_type);

/* Next value of a small deterministic generator (splitmix64) over *state. */
uint64_t feed_rand(uint64_t *state);

/*
 * The body of a case.submit request for a case of case_type with external
 * id ext_id, drawn from *rng: customer and payload fields that fit the case
 * type (loan, card dispute, complaint, claim; consumer_review a leaflet
 * with document_type, language, channel, title and document, 60 % clean,
 * 15 % with a forbidden phrase, 15 % missing a disclosure, 10 % with a
 * claim to judge; anything else gets a generic payload). *out is a
 * NUL-terminated JSON string owned by the caller (free). Errors: ST_NOMEM.
 */
status feed_case_json(uint64_t *rng, const char *case_type, const char *ext_id,
                      char **out, err *e);

/*
 * Run `twinline feed` with argv as above on the installation cfg (borrowed).
 * Returns the process exit status: 0 when every case was accepted (and,
 * with --wait, closed), 1 on errors or time-out, 2 on a usage error.
 */
int feed_main(int argc, char **argv, const config *cfg);

#endif
