/* Unit tests of assist_index: BM25 scores and order on a fixture computed
 * by hand, tie-breaks, Markdown splitting with heading paths, and loading
 * the example knowledge base. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "assist_index.h"
#include "tl_test.h"

#define EPS 1e-6

/*
 * The fixture: N = 3 passages, lengths 2, 3, 4, so avgdl = 3.
 *   P0 "apple banana"                 |D| = 2
 *   P1 "apple apple cherry"           |D| = 3
 *   P2 "banana cherry cherry cherry"  |D| = 4
 * Every term is in two passages: idf = ln(1 + (3 - 2 + 0.5) / (2 + 0.5))
 * = ln 1.6 = 0.470004. With k1 = 1.2, b = 0.75 the length factor
 * K = k1 * (0.25 + 0.75 * |D| / 3) is 0.9 (P0), 1.2 (P1), 1.5 (P2), and
 * a term scores idf * tf * 2.2 / (tf + K):
 *   "apple":  P1 = 0.470004 * 2 * 2.2 / 3.2 = 0.646255
 *             P0 = 0.470004 * 1 * 2.2 / 1.9 = 0.544215
 *   "cherry banana":
 *             P2 = 0.470004 * 2.2 / 2.5 + 0.470004 * 3 * 2.2 / 4.5
 *                = 0.413603 + 0.689339 = 1.102942
 *             P0 = 0.544215 (banana), P1 = 0.470004 * 2.2 / 2.2 = 0.470004
 */
static assist_index *fixture(void)
{
    assist_index *idx = NULL;
    err e = {0};

    assert_int_equal(assist_index_create(&idx, &e), ST_OK);
    assert_int_equal(
        assist_index_add_passage(idx, "f.md", "", 1, "apple banana", &e),
        ST_OK);
    assert_int_equal(
        assist_index_add_passage(idx, "f.md", "", 2, "apple apple cherry", &e),
        ST_OK);
    assert_int_equal(assist_index_add_passage(
                         idx, "f.md", "", 3, "banana cherry cherry cherry", &e),
                     ST_OK);
    assert_int_equal(assist_index_build(idx, &e), ST_OK);
    return idx;
}

static void test_bm25_by_hand(void **state)
{
    assist_index *idx = fixture();
    assist_hit hits[5];
    int n = -1;
    err e = {0};

    (void)state;
    assert_int_equal(assist_index_query(idx, "apple", 5, hits, &n, &e), ST_OK);
    assert_int_equal(n, 2);
    assert_int_equal(hits[0].passage, 1);
    assert_float_equal(hits[0].score, 0.646255, EPS);
    assert_int_equal(hits[1].passage, 0);
    assert_float_equal(hits[1].score, 0.544215, EPS);

    /* Repeating a query term and adding stopwords change nothing. */
    assert_int_equal(assist_index_query(idx, "the cherry and banana, cherry", 5,
                                        hits, &n, &e),
                     ST_OK);
    assert_int_equal(n, 3);
    assert_int_equal(hits[0].passage, 2);
    assert_float_equal(hits[0].score, 1.102942, EPS);
    assert_int_equal(hits[1].passage, 0);
    assert_float_equal(hits[1].score, 0.544215, EPS);
    assert_int_equal(hits[2].passage, 1);
    assert_float_equal(hits[2].score, 0.470004, EPS);

    /* k cuts the list; unknown words find nothing. */
    assert_int_equal(assist_index_query(idx, "cherry banana", 1, hits, &n, &e),
                     ST_OK);
    assert_int_equal(n, 1);
    assert_int_equal(hits[0].passage, 2);
    assert_int_equal(assist_index_query(idx, "durian", 5, hits, &n, &e), ST_OK);
    assert_int_equal(n, 0);
    assert_int_equal(assist_index_query(idx, "apple", 0, hits, &n, &e),
                     ST_INVALID);
    assist_index_destroy(idx);
}

static void test_ties_keep_insertion_order(void **state)
{
    assist_index *idx = NULL;
    assist_hit hits[4];
    int n = 0;
    err e = {0};

    (void)state;
    assert_int_equal(assist_index_create(&idx, &e), ST_OK);
    for (int i = 0; i < 4; i++)
        assert_int_equal(
            assist_index_add_passage(idx, "t.md", "", i + 1,
                                     i == 1 ? "other words" : "逾期 还款", &e),
            ST_OK);
    /* Querying before build is refused. */
    assert_int_equal(assist_index_query(idx, "逾期", 4, hits, &n, &e),
                     ST_INVALID);
    assert_int_equal(assist_index_build(idx, &e), ST_OK);
    assert_int_equal(assist_index_build(idx, &e), ST_INVALID);
    assert_int_equal(assist_index_query(idx, "逾期", 4, hits, &n, &e), ST_OK);
    assert_int_equal(n, 3);
    assert_int_equal(hits[0].passage, 0);
    assert_int_equal(hits[1].passage, 2);
    assert_int_equal(hits[2].passage, 3);
    assert_true(hits[0].score == hits[2].score);
    assist_index_destroy(idx);
}

static const char markdown[] = "# Rules\n"
                               "\n"
                               "Intro paragraph that is long enough to stand "
                               "alone as a passage of its own, really.\n"
                               "\n"
                               "## Contact hours\n"
                               "Call only 08:00-21:00.\n"
                               "\n"
                               "Never call at night; this is a second line "
                               "of the same short section here.\n"
                               "### Detail\r\n"
                               "```\n"
                               "# not a heading\n"
                               "```\n"
                               "## 联系时间 ##\n"
                               "当地时间八点至二十一点。\n";

static void test_markdown_split(void **state)
{
    assist_index *idx = NULL;
    const assist_passage *p;
    err e = {0};

    (void)state;
    assert_int_equal(assist_index_create(&idx, &e), ST_OK);
    assert_int_equal(
        assist_index_add_text(idx, "rules.md", markdown, strlen(markdown), &e),
        ST_OK);
    assert_int_equal(assist_index_build(idx, &e), ST_OK);
    assert_int_equal(assist_index_count(idx), 4);
    p = assist_index_passage(idx, 0);
    assert_string_equal(p->file, "rules.md");
    assert_string_equal(p->heading, "Rules");
    assert_int_equal(p->line, 3);
    /* The short paragraph joins the next one of its section. */
    p = assist_index_passage(idx, 1);
    assert_string_equal(p->heading, "Rules > Contact hours");
    assert_int_equal(p->line, 6);
    assert_non_null(strstr(p->text, "08:00-21:00.\nNever call"));
    p = assist_index_passage(idx, 2);
    assert_string_equal(p->heading, "Rules > Contact hours > Detail");
    assert_string_equal(p->text, "```\n# not a heading\n```");
    p = assist_index_passage(idx, 3);
    assert_string_equal(p->heading, "Rules > 联系时间");
    assert_int_equal(p->line, 14);
    assert_null(assist_index_passage(idx, 4));
    assist_index_destroy(idx);
}

static void test_long_paragraph_is_cut(void **state)
{
    static char text[3 * ASSIST_PASSAGE_MAX];
    assist_index *idx = NULL;
    err e = {0};

    (void)state;
    /* One line of 3-byte characters, longer than a passage. */
    for (size_t i = 0; i + 3 < sizeof(text); i += 3)
        memcpy(text + i, "款", 3);
    assert_int_equal(assist_index_create(&idx, &e), ST_OK);
    assert_int_equal(
        assist_index_add_text(idx, "long.txt", text, strlen(text), &e), ST_OK);
    assert_int_equal(assist_index_build(idx, &e), ST_OK);
    assert_true(assist_index_count(idx) >= 3);
    for (int i = 0; i < assist_index_count(idx); i++) {
        const assist_passage *p = assist_index_passage(idx, i);
        assert_true(strlen(p->text) <= ASSIST_PASSAGE_MAX);
        assert_int_equal(strlen(p->text) % 3, 0);
    }
    assist_index_destroy(idx);
}

static void test_load_example_kb(void **state)
{
    assist_index *idx = NULL;
    assist_hit hits[3];
    int n = 0;
    err e = {0};

    (void)state;
    assert_int_equal(
        assist_index_load_dir(&idx, TL_SOURCE_DIR "/examples/kb/jsbank", &e),
        ST_OK);
    assert_true(assist_index_count(idx) > 20);
    assert_int_equal(assist_index_query(idx, "拒付时限 银联", 3, hits, &n, &e),
                     ST_OK);
    assert_true(n > 0);
    assert_string_equal(assist_index_passage(idx, hits[0].passage)->file,
                        "card-disputes-zh.md");
    assist_index_destroy(idx);
    assert_int_equal(assist_index_load_dir(&idx, "/nonexistent/kb", &e), ST_IO);
    assert_non_null(strstr(e.msg, "/nonexistent/kb"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bm25_by_hand),
        cmocka_unit_test(test_ties_keep_insertion_order),
        cmocka_unit_test(test_markdown_split),
        cmocka_unit_test(test_long_paragraph_is_cut),
        cmocka_unit_test(test_load_example_kb),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
