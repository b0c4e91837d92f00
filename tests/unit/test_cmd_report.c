/*
 * `twinline report` prints billed amounts with their currency's minor
 * units (contracts/money.h): yen without decimals, dinars with three.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd_report.h"
#include "tl_test.h"

static void test_amounts_by_currency(void **state)
{
    cmd_billed billed[3] = {{"jpbank", "JPY", 2, 150000},
                            {"jsbank", "CNY", 3, 123450},
                            {"kwbank", "KWD", 1, 1250}};
    cmd_report_figures r;
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);

    (void)state;
    memset(&r, 0, sizeof(r));
    r.nbilled = 3;
    r.billed = billed;
    assert_non_null(out);
    cmd_report_print(&r, ADMIN_FMT_TABLE, out);
    fclose(out);
    assert_non_null(strstr(text, "JPY 150,000\n"));
    assert_null(strstr(text, "JPY 1,500.00"));
    assert_non_null(strstr(text, "CNY 1,234.50\n"));
    assert_non_null(strstr(text, "KWD 1.250\n"));
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_amounts_by_currency),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
