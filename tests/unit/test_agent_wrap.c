/*
 * Unit tests of agent_wrap, the screen's line wrapping: Latin text breaks
 * at spaces and never mid-word, a word longer than the row is cut at the
 * row's end and nothing is lost, rows after the first hang, Chinese takes
 * two columns a character and may break anywhere but before a closing
 * mark, bytes that are not UTF-8 count one column, and the key line packs
 * whole items.
 */
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent_wrap.h"
#include "tl_test.h"

#define ROWS 64

/* The rows joined back, one space where a break dropped spaces. */
static void rejoin(const char *s, const agent_wrap_row *r, int n, char *out,
                   size_t cap)
{
    size_t used = 0;

    out[0] = '\0';
    for (int i = 0; i < n; i++) {
        used += (size_t)snprintf(out + used, cap - used, "%s%.*s",
                                 i > 0 && s[r[i].off - 1] == ' ' ? " " : "",
                                 (int)r[i].len, s + r[i].off);
    }
}

/* Every row fits, and rows after the first are indented by hang. */
static void check_rows(const char *s, const agent_wrap_row *r, int n, int width,
                       int hang)
{
    for (int i = 0; i < n; i++) {
        int cols = agent_wrap_width(s + r[i].off, r[i].len);

        if (r[i].indent + cols > width)
            fail_msg("row %d \"%.*s\" takes %d columns of %d", i, (int)r[i].len,
                     s + r[i].off, r[i].indent + cols, width);
        assert_int_equal(r[i].cols, r[i].indent + cols);
        assert_int_equal(r[i].indent, i == 0 ? 0 : hang);
    }
}

static void test_words(void **state)
{
    const char *s = "The customer asked for a callback tomorrow morning "
                    "after nine, before the branch opens.";
    agent_wrap_row r[ROWS];
    char back[512];
    int n;

    (void)state;
    n = agent_wrap(s, strlen(s), 30, 4, r, ROWS);
    assert_int_equal(n, 4);
    check_rows(s, r, n, 30, 4);
    /* Rows end at whole words. */
    for (int i = 0; i < n; i++) {
        char last = s[r[i].off + r[i].len - 1];
        char after = s[r[i].off + r[i].len];

        assert_true(last != ' ');
        assert_true(after == ' ' || after == '\0');
    }
    rejoin(s, r, n, back, sizeof(back));
    assert_string_equal(back, s);
    assert_int_equal(r[0].len, strlen("The customer asked for a"));
    assert_memory_equal(s + r[0].off, "The customer asked for a", r[0].len);
    assert_int_equal(r[1].len, strlen("callback tomorrow morning"));
    assert_memory_equal(s + r[1].off, "callback tomorrow morning", r[1].len);

    /* A line that fits is one row, however many spaces end it. */
    assert_int_equal(agent_wrap("abc def   ", 10, 7, 2, r, ROWS), 1);
    assert_int_equal(r[0].len, 7);
    /* An empty line is one empty row. */
    assert_int_equal(agent_wrap("", 0, 10, 2, r, ROWS), 1);
    assert_int_equal(r[0].len, 0);
}

static void test_long_word(void **state)
{
    char s[200];
    agent_wrap_row r[ROWS];
    size_t total = 0;
    int n;

    (void)state;
    snprintf(s, sizeof(s), "see https://example.com/%s/end",
             "aaaaaaaaaabbbbbbbbbbccccccccccddddddddddeeeeeeeeee"
             "ffffffffffgggggggggg");
    n = agent_wrap(s, strlen(s), 25, 3, r, ROWS);
    check_rows(s, r, n, 25, 3);
    /* "see" alone, then the address cut at each row's end: nothing lost. */
    assert_int_equal(r[0].len, 3);
    for (int i = 1; i < n - 1; i++)
        assert_int_equal(r[i].len, 22);
    for (int i = 0; i < n; i++)
        total += r[i].len;
    assert_int_equal(total, strlen(s) - 1); /* the one space dropped */
    assert_int_equal(r[n - 1].off + r[n - 1].len, strlen(s));
}

static void test_hanging_indent(void **state)
{
    const char *s = "    \"I am calling about your loan. Our records show an "
                    "overdue amount.\"";
    agent_wrap_row r[ROWS];
    int hang = agent_wrap_hang(s, strlen(s), 40), n;

    (void)state;
    assert_int_equal(hang, 6);
    assert_int_equal(agent_wrap_hang("x", 1, 12), 2);
    assert_int_equal(agent_wrap_hang("          x", 11, 12), 4);
    n = agent_wrap(s, strlen(s), 40, hang, r, ROWS);
    assert_true(n >= 2);
    check_rows(s, r, n, 40, hang);
    /* The first row keeps its own indentation. */
    assert_int_equal(r[0].off, 0);
    assert_memory_equal(s, "    \"I am", 9);
}

static void test_cjk(void **state)
{
    const char *s = "王伟您好，我是江南农商银行的客服代表，本通话将被录音。";
    const char *mixed = "您的贷款 L-88812 目前逾期 35 天，逾期金额 "
                        "12,500.00 CNY。";
    agent_wrap_row r[ROWS];
    char back[512];
    int n;

    (void)state;
    assert_int_equal(agent_wrap_width("王伟", strlen("王伟")), 4);
    assert_int_equal(agent_wrap_width("abc", 3), 3);
    assert_int_equal(agent_wrap_width("e\xCC\x81", 3), 1); /* e + U+0301 */
    assert_int_equal(agent_wrap_width(s, strlen(s)), 2 * 27);

    /* 10 columns: five characters a row, broken anywhere, but never
     * before "，" or "。". */
    n = agent_wrap(s, strlen(s), 10, 0, r, ROWS);
    check_rows(s, r, n, 10, 0);
    for (int i = 0; i < n; i++) {
        assert_true(strncmp(s + r[i].off, "，", 3) != 0);
        assert_true(strncmp(s + r[i].off, "。", 3) != 0);
    }
    /* "，" fits the row's last two columns, so it ends the row. */
    assert_int_equal(r[0].len, strlen("王伟您好，"));
    assert_memory_equal(s + r[0].off, "王伟您好，", r[0].len);
    assert_int_equal(r[0].cols, 10);
    /* At 9 columns it cannot, and takes "好" with it to the next row. */
    n = agent_wrap(s, strlen(s), 9, 0, r, ROWS);
    assert_int_equal(r[0].len, strlen("王伟您"));
    assert_memory_equal(s + r[1].off, "好，", strlen("好，"));
    n = agent_wrap(s, strlen(s), 10, 0, r, ROWS);
    rejoin(s, r, n, back, sizeof(back));
    assert_string_equal(back, s);

    /* Mixed: breaks at spaces and between Chinese characters alike, and
     * "12,500.00" is never cut. */
    n = agent_wrap(mixed, strlen(mixed), 16, 2, r, ROWS);
    check_rows(mixed, r, n, 16, 2);
    for (int i = 0; i < n; i++) {
        const char *p = mixed + r[i].off;

        assert_false(r[i].len > 0 && strncmp(p, "500", 3) == 0);
        assert_false(r[i].len > 0 && strncmp(p, "，", 3) == 0);
    }
}

static void test_invalid_utf8(void **state)
{
    const char s[] = "ab\xFF\xFE cd \xE4\xB8 ef \xE4\xB8\xAD";
    agent_wrap_row r[ROWS];
    int n;

    (void)state;
    assert_int_equal(agent_wrap_width(s, strlen(s)),
                     2 + 2 + 1 + 2 + 1 + 2 + 1 + 2 + 1 + 2);
    n = agent_wrap(s, strlen(s), 4, 0, r, ROWS);
    check_rows(s, r, n, 4, 0);
    assert_int_equal(r[n - 1].off + r[n - 1].len, strlen(s));
    /* Too few rows to hold them all: the count says how many. */
    assert_int_equal(agent_wrap(s, strlen(s), 4, 0, r, 1), n);
}

static void test_key_items(void **state)
{
    const char *keys =
        "1-5 outcome · ↑/↓ field · Enter edit · k acknowledge · d check "
        "draft · p passage · v open · c copy · r reply used · s send · "
        "PgUp/PgDn scroll · [/] task · b break · o offline · q quit";
    agent_wrap_row r[ROWS];
    int n;

    (void)state;
    n = agent_wrap_items(keys, " · ", 100, r, ROWS);
    assert_int_equal(n, 2);
    for (int i = 0; i < n; i++) {
        const char *p = keys + r[i].off;

        assert_true(r[i].cols <= 100);
        assert_int_equal(r[i].cols, agent_wrap_width(p, r[i].len));
        /* A row starts and ends with a whole item. */
        assert_true(strncmp(p, " · ", strlen(" · ")) != 0);
        assert_true(p[r[i].len] == '\0' ||
                    strncmp(p + r[i].len, " · ", strlen(" · ")) == 0);
    }
    assert_non_null(strstr(keys + r[n - 1].off, "q quit"));
    /* At 40 columns: more rows, no item cut. */
    n = agent_wrap_items(keys, " · ", 40, r, ROWS);
    assert_true(n >= 5);
    for (int i = 0; i < n; i++) {
        assert_true(r[i].cols <= 40);
        assert_true(keys[r[i].off + r[i].len] == '\0' ||
                    strncmp(keys + r[i].off + r[i].len, " · ", strlen(" · ")) ==
                        0);
    }
    /* An item wider than the row is wrapped on its own. */
    n = agent_wrap_items("a · bbbb bbbb bbbb · c", " · ", 6, r, ROWS);
    assert_int_equal(n, 5);
    assert_int_equal(r[0].len, 1);
    assert_int_equal(r[4].len, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_words),          cmocka_unit_test(test_long_word),
        cmocka_unit_test(test_hanging_indent), cmocka_unit_test(test_cjk),
        cmocka_unit_test(test_invalid_utf8),   cmocka_unit_test(test_key_items),
    };

    if (setlocale(LC_CTYPE, "C.UTF-8") == NULL)
        fprintf(stderr, "C.UTF-8 is not available; wide ranges are "
                        "measured by the fallback\n");
    return cmocka_run_group_tests(tests, NULL, NULL);
}
