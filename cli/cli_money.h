/*
 * Formatting of money for people. Amounts are int64 minor units; every
 * currency Twinline bills in has two decimals (CNY, USD, EUR, HKD).
 */
#ifndef TL_CLI_MONEY_H
#define TL_CLI_MONEY_H

#include <stddef.h>
#include <stdint.h>

/* Longest result: "XXX -92,233,720,368,547,758.08" plus NUL. */
#define ADMIN_MONEY_MAX 40

/*
 * Write minor as major units with two decimals and thousands separators,
 * e.g. ("CNY", 123450) -> "CNY 1,234.50", ("CNY", -5) -> "CNY -0.05".
 * currency may be NULL or "" for the number alone. Returns buf, which is
 * always NUL-terminated (truncated when cap is too small).
 */
char *cli_money_format(char *buf, size_t cap, const char *currency,
                       int64_t minor);

#endif
