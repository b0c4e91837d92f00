#include "money.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static const char *const round_names[] = {
#define MONEY_X(name, str) str,
    MONEY_ROUND_LIST(MONEY_X)
#undef MONEY_X
};

#define ROUND_COUNT ((int)(sizeof(round_names) / sizeof(round_names[0])))

const char *money_round_name(money_round m)
{
    if ((int)m < 0 || (int)m >= ROUND_COUNT)
        return "?";
    return round_names[m];
}

status money_round_parse(const char *name, money_round *out, err *e)
{
    for (int i = 0; i < ROUND_COUNT; i++) {
        if (name != NULL && strcmp(name, round_names[i]) == 0) {
            *out = (money_round)i;
            return ST_OK;
        }
    }
    return err_set(e, ST_INVALID,
                   "rounding mode \"%.32s\" is not known; use half_even, "
                   "half_up or down",
                   name != NULL ? name : "");
}

bool money_currency_valid(const char *c)
{
    if (c == NULL)
        return false;
    for (int i = 0; i < MONEY_CURRENCY_LEN; i++)
        if (c[i] < 'A' || c[i] > 'Z')
            return false;
    return c[MONEY_CURRENCY_LEN] == '\0';
}

int money_decimals(const char *currency)
{
    /* ISO 4217 minor-unit exponents other than 2, for the currencies a
     * bank or insurer is likely to be billed in. */
    static const char zero[][4] = {"BIF", "CLP", "DJF", "GNF", "ISK", "JPY",
                                   "KMF", "KRW", "PYG", "RWF", "UGX", "VND",
                                   "VUV", "XAF", "XOF", "XPF"};
    static const char three[][4] = {"BHD", "IQD", "JOD", "KWD",
                                    "LYD", "OMR", "TND"};

    if (currency == NULL)
        return 2;
    for (size_t i = 0; i < sizeof(zero) / sizeof(zero[0]); i++)
        if (strcmp(currency, zero[i]) == 0)
            return 0;
    for (size_t i = 0; i < sizeof(three) / sizeof(three[0]); i++)
        if (strcmp(currency, three[i]) == 0)
            return 3;
    return 2;
}

status money_make(const char *currency, int64_t minor, money *out, err *e)
{
    if (!money_currency_valid(currency))
        return err_set(e, ST_INVALID,
                       "currency \"%.16s\" is not an ISO 4217 code (three "
                       "upper-case letters, e.g. CNY)",
                       currency != NULL ? currency : "");
    out->minor = minor;
    memcpy(out->currency, currency, MONEY_CURRENCY_LEN + 1);
    return ST_OK;
}

status money_add(int64_t a, int64_t b, int64_t *out, err *e)
{
    int64_t r;

    if (__builtin_add_overflow(a, b, &r))
        return err_set(e, ST_INVALID,
                       "amount overflow: %" PRId64 " + %" PRId64
                       " does not fit in 64 bits",
                       a, b);
    *out = r;
    return ST_OK;
}

status money_sub(int64_t a, int64_t b, int64_t *out, err *e)
{
    int64_t r;

    if (__builtin_sub_overflow(a, b, &r))
        return err_set(e, ST_INVALID,
                       "amount overflow: %" PRId64 " - %" PRId64
                       " does not fit in 64 bits",
                       a, b);
    *out = r;
    return ST_OK;
}

status money_mul(int64_t a, int64_t k, int64_t *out, err *e)
{
    int64_t r;

    if (__builtin_mul_overflow(a, k, &r))
        return err_set(e, ST_INVALID,
                       "amount overflow: %" PRId64 " * %" PRId64
                       " does not fit in 64 bits",
                       a, k);
    *out = r;
    return ST_OK;
}

status money_neg(int64_t a, int64_t *out, err *e)
{
    return money_sub(0, a, out, e);
}

status money_sum(const money *a, const money *b, money *out, err *e)
{
    int64_t r = 0;
    status s;

    if (strcmp(a->currency, b->currency) != 0)
        return err_set(e, ST_INVALID,
                       "cannot add %.3s to %.3s: currencies "
                       "differ",
                       b->currency, a->currency);
    s = money_add(a->minor, b->minor, &r, e);
    if (s != ST_OK)
        return s;
    out->minor = r;
    memcpy(out->currency, a->currency, sizeof(out->currency));
    return ST_OK;
}

/* |v| as unsigned; exact for INT64_MIN too. */
static uint64_t magnitude(int64_t v)
{
    return v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
}

/*
 * a * num = *q * den + *r exactly, without a 128-bit type: split a into
 * qa * den + ra, then a * num = qa * num * den + ra * num. ra * num < den *
 * num, which the caller guarantees fits. False when *q would overflow.
 */
static bool mag_muldiv(uint64_t a, uint64_t num, uint64_t den, uint64_t *q,
                       uint64_t *r)
{
    uint64_t qa = a / den;
    uint64_t ra = a % den;
    uint64_t hi;
    uint64_t lo = ra * num;

    if (__builtin_mul_overflow(qa, num, &hi))
        return false;
    if (__builtin_add_overflow(hi, lo / den, &hi))
        return false;
    *q = hi;
    *r = lo % den;
    return true;
}

status money_scale(int64_t amount, int64_t num, int64_t den, money_round mode,
                   int64_t *out, err *e)
{
    uint64_t q;
    uint64_t r;
    uint64_t unum = magnitude(num);
    uint64_t guard;
    bool negative = (amount < 0) != (num < 0);
    bool up = false;

    if (den <= 0 || unum > (uint64_t)MONEY_RATE_MAX ||
        __builtin_mul_overflow(unum, (uint64_t)den, &guard))
        return err_set(e, ST_INVALID,
                       "rate %" PRId64 "/%" PRId64 " is out of range", num,
                       den);
    if (!mag_muldiv(magnitude(amount), unum, (uint64_t)den, &q, &r))
        goto overflow;
    switch (mode) {
    case MONEY_ROUND_HALF_EVEN:
        up = r > (uint64_t)den - r || (r == (uint64_t)den - r && (q & 1u));
        break;
    case MONEY_ROUND_HALF_UP:
        up = r != 0 && r >= (uint64_t)den - r;
        break;
    case MONEY_ROUND_DOWN:
        up = false;
        break;
    default:
        return err_set(e, ST_INVALID, "rounding mode %d is not known",
                       (int)mode);
    }
    if (up && __builtin_add_overflow(q, 1u, &q))
        goto overflow;
    if (q == 0) {
        *out = 0;
    } else if (negative) {
        if (q > (uint64_t)INT64_MAX + 1u)
            goto overflow;
        *out = -(int64_t)(q - 1u) - 1;
    } else {
        if (q > (uint64_t)INT64_MAX)
            goto overflow;
        *out = (int64_t)q;
    }
    return ST_OK;
overflow:
    return err_set(e, ST_INVALID,
                   "amount overflow: %" PRId64 " * %" PRId64 " / %" PRId64
                   " does not fit in 64 bits",
                   amount, num, den);
}

status money_apply_bps(int64_t amount, int64_t bps, money_round mode,
                       int64_t *out, err *e)
{
    return money_scale(amount, bps, MONEY_BPS, mode, out, e);
}

status money_apply_ppm(int64_t amount, int64_t ppm, money_round mode,
                       int64_t *out, err *e)
{
    return money_scale(amount, ppm, MONEY_PPM, mode, out, e);
}

status money_muldiv_rem(int64_t amount, int64_t num, int64_t den, int64_t *quot,
                        int64_t *rem, err *e)
{
    uint64_t q;
    uint64_t r;
    uint64_t guard;

    if (amount < 0 || num < 0 || den <= 0 ||
        __builtin_mul_overflow((uint64_t)num, (uint64_t)den, &guard))
        return err_set(e, ST_INVALID,
                       "cannot divide %" PRId64 " * %" PRId64 " by %" PRId64
                       ": amounts must be non-negative, the divisor positive",
                       amount, num, den);
    if (!mag_muldiv((uint64_t)amount, (uint64_t)num, (uint64_t)den, &q, &r) ||
        q > (uint64_t)INT64_MAX)
        return err_set(e, ST_INVALID,
                       "amount overflow: %" PRId64 " * %" PRId64 " / %" PRId64
                       " does not fit in 64 bits",
                       amount, num, den);
    *quot = (int64_t)q;
    *rem = (int64_t)r;
    return ST_OK;
}

/* Digits of minor as major units into out (room for 40), grouped with
 * commas when group is set. */
static void format_number(char *out, const char *currency, int64_t minor,
                          bool group)
{
    char rev[48];
    int n = 0;
    int decimals = money_decimals(currency);
    uint64_t mag = magnitude(minor);
    int digits = 0;
    int o = 0;

    /* Build the digits backwards: the fraction first, then the integer
     * part with a separator every three digits. */
    for (int i = 0; i < decimals; i++) {
        rev[n++] = (char)('0' + mag % 10);
        mag /= 10;
    }
    if (decimals > 0)
        rev[n++] = '.';
    do {
        if (group && digits > 0 && digits % 3 == 0)
            rev[n++] = ',';
        rev[n++] = (char)('0' + mag % 10);
        mag /= 10;
        digits++;
    } while (mag != 0);
    if (minor < 0)
        rev[n++] = '-';
    while (n > 0)
        out[o++] = rev[--n];
    out[o] = '\0';
}

char *money_format(char *buf, size_t cap, const char *currency, int64_t minor)
{
    char num[48];

    if (cap == 0)
        return buf;
    format_number(num, currency, minor, true);
    if (currency != NULL && currency[0] != '\0')
        snprintf(buf, cap, "%.3s %s", currency, num);
    else
        snprintf(buf, cap, "%s", num);
    return buf;
}

char *money_format_plain(char *buf, size_t cap, const char *currency,
                         int64_t minor)
{
    char num[48];

    if (cap == 0)
        return buf;
    format_number(num, currency, minor, false);
    snprintf(buf, cap, "%s", num);
    return buf;
}
