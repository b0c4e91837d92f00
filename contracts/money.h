/*
 * Money: int64 minor units with an ISO 4217 currency, checked arithmetic and
 * rates applied with exactly one rounding in a named mode.
 *
 * Pure functions, no I/O, no floating point. Every operation that could
 * overflow int64 is checked and fails with ST_INVALID instead of wrapping
 * (signed overflow would be undefined behaviour in C). Results go through
 * a trailing out parameter that is written only on success.
 *
 * Rates are integers: basis points (1 bps = 1/10,000) or parts per million
 * (1 ppm = 1/1,000,000). amount * rate / denominator is computed exactly and
 * rounded once; rounding intermediate results would let cents drift.
 */
#ifndef TL_MONEY_H
#define TL_MONEY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define MONEY_CURRENCY_LEN 3

/* Denominators of the two rate units. */
#define MONEY_BPS 10000
#define MONEY_PPM 1000000

/* Largest |rate| accepted by money_scale and friends (in the rate's unit).
 * 10^12 ppm is a factor of a million: far beyond any real price, and small
 * enough that the exact computation never needs more than 64 bits. */
#define MONEY_RATE_MAX 1000000000000LL

/* Longest money_format result: "XXX -92,233,720,368,547,758.08" plus NUL. */
#define MONEY_FORMAT_MAX 40

typedef struct money {
    int64_t minor;                         /* minor units (cents, fen) */
    char currency[MONEY_CURRENCY_LEN + 1]; /* "CNY"; always NUL-terminated */
} money;

/*
 * Rounding modes, symmetric around zero so that rating a negative amount
 * (a reversal) gives exactly the negation of rating the positive one.
 *   HALF_EVEN  nearest; a tie goes to the even neighbour (banker's rounding)
 *   HALF_UP    nearest; a tie goes away from zero (0.5 -> 1, -0.5 -> -1)
 *   DOWN       toward zero (truncation)
 */
#define MONEY_ROUND_LIST(X)                                                    \
    X(MONEY_ROUND_HALF_EVEN, "half_even")                                      \
    X(MONEY_ROUND_HALF_UP, "half_up")                                          \
    X(MONEY_ROUND_DOWN, "down")

typedef enum money_round {
#define MONEY_X(name, str) name,
    MONEY_ROUND_LIST(MONEY_X)
#undef MONEY_X
} money_round;

/* "half_even", "half_up", "down"; "?" for a value outside the enum. */
const char *money_round_name(money_round m);

/* Parse a rounding mode name into *out. ST_INVALID names the valid ones. */
status money_round_parse(const char *name, money_round *out, err *e);

/* True when c is three upper-case ASCII letters. */
bool money_currency_valid(const char *c);

/* Decimal places of c's minor unit: 0 for JPY, KRW, ...; 3 for BHD, KWD,
 * ...; 2 for every other currency. */
int money_decimals(const char *currency);

/*
 * Build a money value. ST_INVALID when currency is not three upper-case
 * letters.
 */
status money_make(const char *currency, int64_t minor, money *out, err *e);

/* Checked int64 arithmetic on minor units: ST_INVALID on overflow. */
status money_add(int64_t a, int64_t b, int64_t *out, err *e);
status money_sub(int64_t a, int64_t b, int64_t *out, err *e);
status money_mul(int64_t a, int64_t k, int64_t *out, err *e);
status money_neg(int64_t a, int64_t *out, err *e);

/*
 * a + b for two values of the same currency. ST_INVALID when the
 * currencies differ or the sum overflows.
 */
status money_sum(const money *a, const money *b, money *out, err *e);

/*
 * amount * num / den rounded once in mode. Requires 0 < den,
 * |num| <= MONEY_RATE_MAX and |num| * den < 2^64 (true for bps and ppm);
 * otherwise, or when the result does not fit in int64, ST_INVALID.
 */
status money_scale(int64_t amount, int64_t num, int64_t den, money_round mode,
                   int64_t *out, err *e);

/* amount * bps / 10,000 rounded once; as money_scale. */
status money_apply_bps(int64_t amount, int64_t bps, money_round mode,
                       int64_t *out, err *e);

/* amount * ppm / 1,000,000 rounded once; as money_scale. */
status money_apply_ppm(int64_t amount, int64_t ppm, money_round mode,
                       int64_t *out, err *e);

/*
 * For amount >= 0, 0 <= num and 0 < den with num * den <= UINT64_MAX:
 * the exact quotient and remainder of amount * num / den, i.e.
 * amount * num = *quot * den + *rem with 0 <= *rem < den. This is what
 * largest-remainder splitting needs. ST_INVALID otherwise or on overflow.
 */
status money_muldiv_rem(int64_t amount, int64_t num, int64_t den, int64_t *quot,
                        int64_t *rem, err *e);

/*
 * Write minor units of currency for people: major units with the
 * currency's decimals and thousands separators, "CNY 1,234.50",
 * "JPY -1,500", exact for every int64. currency NULL or "" gives the number
 * alone. Returns buf, always NUL-terminated (truncated when cap is small).
 */
char *money_format(char *buf, size_t cap, const char *currency, int64_t minor);

/*
 * As money_format without currency and separators: "-1234.50", for CSV and
 * JSON exports that a spreadsheet reads as a number.
 */
char *money_format_plain(char *buf, size_t cap, const char *currency,
                         int64_t minor);

#endif
