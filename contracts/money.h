/*
 * Money: int64 minor units with an ISO 4217 currency, checked arithmetic,
 * rates applied with exactly one rounding in a named mode, and the one
 * formatter for people (by the currency's minor units: "JPY 1,500",
 * "KWD 1.250", "CNY 12.50").
 *
 * Currencies are the active codes of ISO 4217 List One with their minor
 * units (docs/billing.md, "Currencies"). Every place a currency enters
 * Twinline (a contract, a price plan, a ledger account, an assist rules
 * file) checks it with money_currency_check(), so ZZZ or RMB is refused
 * with a message saying what to write instead.
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

/* Largest amount a person enters: a price, an outcome's amount_minor
 * (10^15 minor units, far beyond any real case, far below INT64_MAX). */
#define MONEY_AMOUNT_MAX 1000000000000000LL

/* Denominators of the two rate units. */
#define MONEY_BPS 10000
#define MONEY_PPM 1000000

/* Largest |rate| accepted by money_scale and friends (in the rate's unit).
 * 10^12 ppm is a factor of a million: far beyond any real price, and small
 * enough that the exact computation never needs more than 64 bits. */
#define MONEY_RATE_MAX 1000000000000LL

/* Longest money_format result: "XXX -9,223,372,036,854,775,808" (no
 * decimals; four give "XXX -922,337,203,685,477.5808") plus NUL. */
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

/*
 * True when c is an active ISO 4217 currency a contract can be paid in:
 * not an unknown code, and not a fund code (CLF, UYW, ...), a precious
 * metal, a unit of account or a testing code (XAU, XDR, XTS, ...).
 */
bool money_currency_valid(const char *c);

/*
 * ST_OK when money_currency_valid(c); otherwise ST_INVALID with a message
 * naming c, why it is refused and what to write ("RMB": the renminbi's
 * code is CNY). Callers add where the code came from (err_wrap).
 */
status money_currency_check(const char *c, err *e);

/*
 * The minor units (decimal places) of currency in ISO 4217: 0 for JPY,
 * KRW, CLP, ...; 3 for BHD, KWD, TND, ...; 4 for CLF and UYW; 2 for CNY,
 * USD, EUR and most others. 2 for NULL or a code not in the list (which
 * no entry point accepts; only rows stored before the list existed).
 */
int money_decimals(const char *currency);

/*
 * Build a money value. ST_INVALID (money_currency_check's message) when
 * currency is not an active ISO 4217 currency.
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
 * As money_format without the currency code: "1,234.50", "-1,500" (JPY), for
 * a table whose currency is in a column of its own or a text that places
 * the code itself.
 */
char *money_format_amount(char *buf, size_t cap, const char *currency,
                          int64_t minor);

/*
 * As money_format without currency and separators: "-1234.50", for CSV and
 * JSON exports that a spreadsheet reads as a number.
 */
char *money_format_plain(char *buf, size_t cap, const char *currency,
                         int64_t minor);

#endif
