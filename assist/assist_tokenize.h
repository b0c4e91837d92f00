/*
 * The tokeniser of the assist panel's retrieval (docs/assist.md).
 *
 * Text is UTF-8. Runs of CJK characters (Han, Hiragana, Katakana, Hangul)
 * become overlapping character bigrams ("逾期还款" gives "逾期", "期还",
 * "还款"); a CJK character standing alone becomes a unigram. Everything
 * else becomes words of letters and digits, ASCII lowercased (full-width
 * ASCII letters and digits are folded to ASCII first), with common English
 * stopwords dropped. Mixed text is split where the script changes, so
 * "ATM取款" gives "atm" and "取款". Bytes that are not valid UTF-8 are
 * skipped and separate tokens; they never stop the scan.
 *
 * The module allocates nothing and keeps no state, so threads may share it.
 */
#ifndef TL_ASSIST_TOKENIZE_H
#define TL_ASSIST_TOKENIZE_H

#include <stdbool.h>
#include <stddef.h>

/* Longest token in bytes, without the NUL; longer words are cut at a
 * character boundary. */
#define ASSIST_TOKEN_MAX 48

/*
 * Called once per token with a NUL-terminated token of len bytes (borrowed;
 * valid during the call). Return false to stop the scan.
 */
typedef bool (*assist_token_fn)(const char *token, size_t len, void *arg);

/*
 * Call fn for each token of text[0..len) in order and return how many
 * tokens were passed to fn. text need not be NUL-terminated.
 */
int assist_tokenize(const char *text, size_t len, assist_token_fn fn,
                    void *arg);

/* True when word (lowercase ASCII) is one of the dropped English
 * stopwords. */
bool assist_tokenize_is_stopword(const char *word, size_t len);

#endif
