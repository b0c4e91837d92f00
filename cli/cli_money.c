#include "cli_money.h"

#include <stdio.h>

char *cli_money_format(char *buf, size_t cap, const char *currency,
                       int64_t minor)
{
    /* Work in unsigned so INT64_MIN has a magnitude. */
    uint64_t mag = minor < 0 ? (uint64_t)0 - (uint64_t)minor : (uint64_t)minor;
    uint64_t major = mag / 100;
    char digits[32];
    char grouped[48];
    int nd, g = 0;

    if (cap == 0)
        return buf;
    nd = snprintf(digits, sizeof(digits), "%llu", (unsigned long long)major);
    for (int i = 0; i < nd; i++) {
        if (i > 0 && (nd - i) % 3 == 0)
            grouped[g++] = ',';
        grouped[g++] = digits[i];
    }
    grouped[g] = '\0';
    snprintf(buf, cap, "%s%s%s%s.%02u", currency != NULL ? currency : "",
             currency != NULL && currency[0] != '\0' ? " " : "",
             minor < 0 ? "-" : "", grouped, (unsigned)(mag % 100));
    return buf;
}
