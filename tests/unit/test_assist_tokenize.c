/* Unit tests of assist_tokenize: Chinese bigrams, English words and
 * stopwords, mixed text, full-width folding and invalid UTF-8. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "assist_tokenize.h"
#include "tl_test.h"

#define MAX_TOKENS 64

typedef struct tokens {
    int n;
    char t[MAX_TOKENS][ASSIST_TOKEN_MAX + 1];
} tokens;

static bool collect(const char *tok, size_t len, void *arg)
{
    tokens *ts = arg;

    assert_int_equal(strlen(tok), len);
    assert_true(len > 0 && len <= ASSIST_TOKEN_MAX);
    if (ts->n < MAX_TOKENS)
        memcpy(ts->t[ts->n++], tok, len + 1);
    return true;
}

/* Tokenise text and compare with the expected tokens, joined by '|'. */
static void expect(const char *text, size_t len, const char *joined)
{
    tokens ts = {0};
    char got[2048] = "";
    int n = assist_tokenize(text, len, collect, &ts);

    assert_int_equal(n, ts.n);
    for (int i = 0; i < ts.n; i++) {
        if (i > 0)
            strcat(got, "|");
        strcat(got, ts.t[i]);
    }
    assert_string_equal(got, joined);
}

#define EXPECT(text, joined) expect(text, strlen(text), joined)

static void test_chinese_bigrams(void **state)
{
    (void)state;
    EXPECT("逾期还款", "逾期|期还|还款");
    /* Punctuation splits runs; a lone character is a unigram. */
    EXPECT("催收，禁止。我", "催收|禁止|我");
    EXPECT("", "");
}

static void test_english_words_and_stopwords(void **state)
{
    (void)state;
    EXPECT("The Customer is NOT able to pay the overdue amount!",
           "customer|not|able|pay|overdue|amount");
    EXPECT("promise_to_pay due-date 2026", "promise|pay|due|date|2026");
}

static void test_mixed_and_other_scripts(void **state)
{
    (void)state;
    EXPECT("ATM取款失败35天", "atm|取款|款失|失败|35|天");
    EXPECT("Visa拒付120天", "visa|拒付|120|天");
    /* Full-width ASCII folds; Japanese and Korean are CJK. */
    EXPECT("ＡＴＭ　カード 카드", "atm|カー|ード|카드");
    /* Accented Latin stays inside a word, unchanged. */
    EXPECT("Café crème", "café|crème");
}

static void test_invalid_utf8(void **state)
{
    static const char bad[] = "ab\xff"
                              "cd\xe9\x80"
                              "逾\xc0\xaf"
                              "期\xed\xa0\x80x";
    tokens ts = {0};

    (void)state;
    /* Stray, truncated, overlong and surrogate sequences separate tokens
     * and are never copied into them. */
    expect(bad, sizeof(bad) - 1, "ab|cd|逾|期|x");
    /* A sequence cut at the end of the buffer. */
    expect("逾期", 4, "逾");
    /* Every single byte value, alone, is safe. */
    for (int c = 0; c < 256; c++) {
        char one = (char)c;
        assist_tokenize(&one, 1, collect, &ts);
        ts.n = 0;
    }
}

static void test_long_word_is_cut(void **state)
{
    char word[200];
    tokens ts = {0};

    (void)state;
    memset(word, 'x', sizeof(word) - 1);
    word[sizeof(word) - 1] = '\0';
    assert_int_equal(assist_tokenize(word, strlen(word), collect, &ts), 1);
    assert_int_equal(strlen(ts.t[0]), ASSIST_TOKEN_MAX);
}

static bool stop_after_two(const char *tok, size_t len, void *arg)
{
    int *n = arg;

    (void)tok;
    (void)len;
    return ++*n < 2;
}

static void test_callback_stops(void **state)
{
    int n = 0;

    (void)state;
    assert_int_equal(
        assist_tokenize("one two three four", 18, stop_after_two, &n), 2);
    assert_true(assist_tokenize_is_stopword("the", 3));
    assert_false(assist_tokenize_is_stopword("then1", 5));
    assert_false(assist_tokenize_is_stopword("not", 3));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_chinese_bigrams),
        cmocka_unit_test(test_english_words_and_stopwords),
        cmocka_unit_test(test_mixed_and_other_scripts),
        cmocka_unit_test(test_invalid_utf8),
        cmocka_unit_test(test_long_word_is_cut),
        cmocka_unit_test(test_callback_stops),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
