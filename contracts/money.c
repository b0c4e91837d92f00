#include "money.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
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

/*
 * ISO 4217 List One (as amended to 2025): every active alphabetic code with
 * its minor units, sorted by code for bsearch. Fund codes (BOV, CHE, CHW,
 * CLF, COU, MXV, USN, UYI, UYW) are units of account, settled in their
 * country's currency; the X codes without minor units are precious metals,
 * bond-market and drawing-right units, testing and "no currency". Both are
 * listed so a refusal can say what the code is. Withdrawn currencies (HRK,
 * CUC, SLL, ZWL, ...) are not listed.
 */
typedef enum iso_kind {
    MONEY_ISO_CURRENCY,
    MONEY_ISO_FUND,
    MONEY_ISO_OTHER
} iso_kind;

typedef struct iso_currency {
    char code[MONEY_CURRENCY_LEN + 1];
    signed char minor_units; /* -1: not applicable (MONEY_ISO_OTHER) */
    iso_kind kind;
} iso_currency;

static const iso_currency iso_4217[] = {
    {"AED", 2, MONEY_ISO_CURRENCY}, {"AFN", 2, MONEY_ISO_CURRENCY},
    {"ALL", 2, MONEY_ISO_CURRENCY}, {"AMD", 2, MONEY_ISO_CURRENCY},
    {"ANG", 2, MONEY_ISO_CURRENCY}, {"AOA", 2, MONEY_ISO_CURRENCY},
    {"ARS", 2, MONEY_ISO_CURRENCY}, {"AUD", 2, MONEY_ISO_CURRENCY},
    {"AWG", 2, MONEY_ISO_CURRENCY}, {"AZN", 2, MONEY_ISO_CURRENCY},
    {"BAM", 2, MONEY_ISO_CURRENCY}, {"BBD", 2, MONEY_ISO_CURRENCY},
    {"BDT", 2, MONEY_ISO_CURRENCY}, {"BGN", 2, MONEY_ISO_CURRENCY},
    {"BHD", 3, MONEY_ISO_CURRENCY}, {"BIF", 0, MONEY_ISO_CURRENCY},
    {"BMD", 2, MONEY_ISO_CURRENCY}, {"BND", 2, MONEY_ISO_CURRENCY},
    {"BOB", 2, MONEY_ISO_CURRENCY}, {"BOV", 2, MONEY_ISO_FUND},
    {"BRL", 2, MONEY_ISO_CURRENCY}, {"BSD", 2, MONEY_ISO_CURRENCY},
    {"BTN", 2, MONEY_ISO_CURRENCY}, {"BWP", 2, MONEY_ISO_CURRENCY},
    {"BYN", 2, MONEY_ISO_CURRENCY}, {"BZD", 2, MONEY_ISO_CURRENCY},
    {"CAD", 2, MONEY_ISO_CURRENCY}, {"CDF", 2, MONEY_ISO_CURRENCY},
    {"CHE", 2, MONEY_ISO_FUND},     {"CHF", 2, MONEY_ISO_CURRENCY},
    {"CHW", 2, MONEY_ISO_FUND},     {"CLF", 4, MONEY_ISO_FUND},
    {"CLP", 0, MONEY_ISO_CURRENCY}, {"CNY", 2, MONEY_ISO_CURRENCY},
    {"COP", 2, MONEY_ISO_CURRENCY}, {"COU", 2, MONEY_ISO_FUND},
    {"CRC", 2, MONEY_ISO_CURRENCY}, {"CUP", 2, MONEY_ISO_CURRENCY},
    {"CVE", 2, MONEY_ISO_CURRENCY}, {"CZK", 2, MONEY_ISO_CURRENCY},
    {"DJF", 0, MONEY_ISO_CURRENCY}, {"DKK", 2, MONEY_ISO_CURRENCY},
    {"DOP", 2, MONEY_ISO_CURRENCY}, {"DZD", 2, MONEY_ISO_CURRENCY},
    {"EGP", 2, MONEY_ISO_CURRENCY}, {"ERN", 2, MONEY_ISO_CURRENCY},
    {"ETB", 2, MONEY_ISO_CURRENCY}, {"EUR", 2, MONEY_ISO_CURRENCY},
    {"FJD", 2, MONEY_ISO_CURRENCY}, {"FKP", 2, MONEY_ISO_CURRENCY},
    {"GBP", 2, MONEY_ISO_CURRENCY}, {"GEL", 2, MONEY_ISO_CURRENCY},
    {"GHS", 2, MONEY_ISO_CURRENCY}, {"GIP", 2, MONEY_ISO_CURRENCY},
    {"GMD", 2, MONEY_ISO_CURRENCY}, {"GNF", 0, MONEY_ISO_CURRENCY},
    {"GTQ", 2, MONEY_ISO_CURRENCY}, {"GYD", 2, MONEY_ISO_CURRENCY},
    {"HKD", 2, MONEY_ISO_CURRENCY}, {"HNL", 2, MONEY_ISO_CURRENCY},
    {"HTG", 2, MONEY_ISO_CURRENCY}, {"HUF", 2, MONEY_ISO_CURRENCY},
    {"IDR", 2, MONEY_ISO_CURRENCY}, {"ILS", 2, MONEY_ISO_CURRENCY},
    {"INR", 2, MONEY_ISO_CURRENCY}, {"IQD", 3, MONEY_ISO_CURRENCY},
    {"IRR", 2, MONEY_ISO_CURRENCY}, {"ISK", 0, MONEY_ISO_CURRENCY},
    {"JMD", 2, MONEY_ISO_CURRENCY}, {"JOD", 3, MONEY_ISO_CURRENCY},
    {"JPY", 0, MONEY_ISO_CURRENCY}, {"KES", 2, MONEY_ISO_CURRENCY},
    {"KGS", 2, MONEY_ISO_CURRENCY}, {"KHR", 2, MONEY_ISO_CURRENCY},
    {"KMF", 0, MONEY_ISO_CURRENCY}, {"KPW", 2, MONEY_ISO_CURRENCY},
    {"KRW", 0, MONEY_ISO_CURRENCY}, {"KWD", 3, MONEY_ISO_CURRENCY},
    {"KYD", 2, MONEY_ISO_CURRENCY}, {"KZT", 2, MONEY_ISO_CURRENCY},
    {"LAK", 2, MONEY_ISO_CURRENCY}, {"LBP", 2, MONEY_ISO_CURRENCY},
    {"LKR", 2, MONEY_ISO_CURRENCY}, {"LRD", 2, MONEY_ISO_CURRENCY},
    {"LSL", 2, MONEY_ISO_CURRENCY}, {"LYD", 3, MONEY_ISO_CURRENCY},
    {"MAD", 2, MONEY_ISO_CURRENCY}, {"MDL", 2, MONEY_ISO_CURRENCY},
    {"MGA", 2, MONEY_ISO_CURRENCY}, {"MKD", 2, MONEY_ISO_CURRENCY},
    {"MMK", 2, MONEY_ISO_CURRENCY}, {"MNT", 2, MONEY_ISO_CURRENCY},
    {"MOP", 2, MONEY_ISO_CURRENCY}, {"MRU", 2, MONEY_ISO_CURRENCY},
    {"MUR", 2, MONEY_ISO_CURRENCY}, {"MVR", 2, MONEY_ISO_CURRENCY},
    {"MWK", 2, MONEY_ISO_CURRENCY}, {"MXN", 2, MONEY_ISO_CURRENCY},
    {"MXV", 2, MONEY_ISO_FUND},     {"MYR", 2, MONEY_ISO_CURRENCY},
    {"MZN", 2, MONEY_ISO_CURRENCY}, {"NAD", 2, MONEY_ISO_CURRENCY},
    {"NGN", 2, MONEY_ISO_CURRENCY}, {"NIO", 2, MONEY_ISO_CURRENCY},
    {"NOK", 2, MONEY_ISO_CURRENCY}, {"NPR", 2, MONEY_ISO_CURRENCY},
    {"NZD", 2, MONEY_ISO_CURRENCY}, {"OMR", 3, MONEY_ISO_CURRENCY},
    {"PAB", 2, MONEY_ISO_CURRENCY}, {"PEN", 2, MONEY_ISO_CURRENCY},
    {"PGK", 2, MONEY_ISO_CURRENCY}, {"PHP", 2, MONEY_ISO_CURRENCY},
    {"PKR", 2, MONEY_ISO_CURRENCY}, {"PLN", 2, MONEY_ISO_CURRENCY},
    {"PYG", 0, MONEY_ISO_CURRENCY}, {"QAR", 2, MONEY_ISO_CURRENCY},
    {"RON", 2, MONEY_ISO_CURRENCY}, {"RSD", 2, MONEY_ISO_CURRENCY},
    {"RUB", 2, MONEY_ISO_CURRENCY}, {"RWF", 0, MONEY_ISO_CURRENCY},
    {"SAR", 2, MONEY_ISO_CURRENCY}, {"SBD", 2, MONEY_ISO_CURRENCY},
    {"SCR", 2, MONEY_ISO_CURRENCY}, {"SDG", 2, MONEY_ISO_CURRENCY},
    {"SEK", 2, MONEY_ISO_CURRENCY}, {"SGD", 2, MONEY_ISO_CURRENCY},
    {"SHP", 2, MONEY_ISO_CURRENCY}, {"SLE", 2, MONEY_ISO_CURRENCY},
    {"SOS", 2, MONEY_ISO_CURRENCY}, {"SRD", 2, MONEY_ISO_CURRENCY},
    {"SSP", 2, MONEY_ISO_CURRENCY}, {"STN", 2, MONEY_ISO_CURRENCY},
    {"SVC", 2, MONEY_ISO_CURRENCY}, {"SYP", 2, MONEY_ISO_CURRENCY},
    {"SZL", 2, MONEY_ISO_CURRENCY}, {"THB", 2, MONEY_ISO_CURRENCY},
    {"TJS", 2, MONEY_ISO_CURRENCY}, {"TMT", 2, MONEY_ISO_CURRENCY},
    {"TND", 3, MONEY_ISO_CURRENCY}, {"TOP", 2, MONEY_ISO_CURRENCY},
    {"TRY", 2, MONEY_ISO_CURRENCY}, {"TTD", 2, MONEY_ISO_CURRENCY},
    {"TWD", 2, MONEY_ISO_CURRENCY}, {"TZS", 2, MONEY_ISO_CURRENCY},
    {"UAH", 2, MONEY_ISO_CURRENCY}, {"UGX", 0, MONEY_ISO_CURRENCY},
    {"USD", 2, MONEY_ISO_CURRENCY}, {"USN", 2, MONEY_ISO_FUND},
    {"UYI", 0, MONEY_ISO_FUND},     {"UYU", 2, MONEY_ISO_CURRENCY},
    {"UYW", 4, MONEY_ISO_FUND},     {"UZS", 2, MONEY_ISO_CURRENCY},
    {"VED", 2, MONEY_ISO_CURRENCY}, {"VES", 2, MONEY_ISO_CURRENCY},
    {"VND", 0, MONEY_ISO_CURRENCY}, {"VUV", 0, MONEY_ISO_CURRENCY},
    {"WST", 2, MONEY_ISO_CURRENCY}, {"XAF", 0, MONEY_ISO_CURRENCY},
    {"XAG", -1, MONEY_ISO_OTHER},   {"XAU", -1, MONEY_ISO_OTHER},
    {"XBA", -1, MONEY_ISO_OTHER},   {"XBB", -1, MONEY_ISO_OTHER},
    {"XBC", -1, MONEY_ISO_OTHER},   {"XBD", -1, MONEY_ISO_OTHER},
    {"XCD", 2, MONEY_ISO_CURRENCY}, {"XCG", 2, MONEY_ISO_CURRENCY},
    {"XDR", -1, MONEY_ISO_OTHER},   {"XOF", 0, MONEY_ISO_CURRENCY},
    {"XPD", -1, MONEY_ISO_OTHER},   {"XPF", 0, MONEY_ISO_CURRENCY},
    {"XPT", -1, MONEY_ISO_OTHER},   {"XSU", -1, MONEY_ISO_OTHER},
    {"XTS", -1, MONEY_ISO_OTHER},   {"XUA", -1, MONEY_ISO_OTHER},
    {"XXX", -1, MONEY_ISO_OTHER},   {"YER", 2, MONEY_ISO_CURRENCY},
    {"ZAR", 2, MONEY_ISO_CURRENCY}, {"ZMW", 2, MONEY_ISO_CURRENCY},
    {"ZWG", 2, MONEY_ISO_CURRENCY}};

#define ISO_COUNT (sizeof(iso_4217) / sizeof(iso_4217[0]))

static int iso_cmp(const void *key, const void *elem)
{
    return strcmp(key, ((const iso_currency *)elem)->code);
}

static const iso_currency *iso_find(const char *code)
{
    if (code == NULL || strlen(code) != MONEY_CURRENCY_LEN)
        return NULL;
    return bsearch(code, iso_4217, ISO_COUNT, sizeof(iso_4217[0]), iso_cmp);
}

bool money_currency_valid(const char *c)
{
    const iso_currency *x = iso_find(c);

    return x != NULL && x->kind == MONEY_ISO_CURRENCY;
}

status money_currency_check(const char *c, err *e)
{
    const iso_currency *x = iso_find(c);
    char upper[MONEY_CURRENCY_LEN + 1] = "";

    if (x != NULL && x->kind == MONEY_ISO_CURRENCY)
        return ST_OK;
    if (x != NULL && x->kind == MONEY_ISO_FUND)
        return err_set(e, ST_INVALID,
                       "currency \"%s\" is an ISO 4217 fund code (a unit of "
                       "account), not a currency a contract is paid in; use "
                       "the currency it is settled in (CLP for CLF, UYU for "
                       "UYW)",
                       c);
    if (x != NULL)
        return err_set(e, ST_INVALID,
                       "currency \"%s\" is an ISO 4217 code for a metal, a "
                       "unit of account or testing, not a currency a "
                       "contract is paid in",
                       c);
    if (c != NULL && strlen(c) == MONEY_CURRENCY_LEN) {
        for (int i = 0; i < MONEY_CURRENCY_LEN; i++)
            upper[i] =
                (char)(c[i] >= 'a' && c[i] <= 'z' ? c[i] - 'a' + 'A' : c[i]);
        if (strcmp(upper, c) != 0 && money_currency_valid(upper))
            return err_set(e, ST_INVALID,
                           "currency \"%s\" must be written in capitals: "
                           "\"%s\"",
                           c, upper);
    }
    /* The renminbi is often written RMB, which is not its code. */
    if (c != NULL && strcmp(c, "RMB") == 0)
        return err_set(e, ST_INVALID,
                       "currency \"RMB\" is not an ISO 4217 code; the "
                       "renminbi's code is \"CNY\"");
    return err_set(e, ST_INVALID,
                   "currency \"%.16s\" is not an active ISO 4217 currency "
                   "code; use one such as \"CNY\", \"USD\", \"EUR\" or "
                   "\"JPY\" (docs/billing.md, \"Currencies\")",
                   c != NULL ? c : "");
}

int money_decimals(const char *currency)
{
    const iso_currency *x = iso_find(currency);

    return x != NULL && x->minor_units >= 0 ? x->minor_units : 2;
}

status money_make(const char *currency, int64_t minor, money *out, err *e)
{
    status s = money_currency_check(currency, e);

    if (s != ST_OK)
        return s;
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

char *money_format_amount(char *buf, size_t cap, const char *currency,
                          int64_t minor)
{
    char num[48];

    if (cap == 0)
        return buf;
    format_number(num, currency, minor, true);
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
