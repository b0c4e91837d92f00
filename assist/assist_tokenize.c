#include "assist_tokenize.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define CP_INVALID 0xFFFFFFFFu

typedef enum cclass { C_SEP, C_WORD, C_CJK } cclass;

/* Sorted for bsearch. Negations ("no", "not") are kept: in rules they
 * carry meaning. */
static const char *const stopwords[] = {
    "a",    "about", "also",  "an",    "and",  "any",  "are",   "as",
    "at",   "be",    "been",  "but",   "by",   "can",  "could", "did",
    "do",   "does",  "each",  "for",   "from", "had",  "has",   "have",
    "he",   "her",   "here",  "his",   "how",  "i",    "if",    "in",
    "into", "is",    "it",    "its",   "me",   "my",   "of",    "on",
    "or",   "our",   "she",   "so",    "than", "that", "the",   "their",
    "them", "then",  "there", "these", "they", "this", "those", "to",
    "us",   "was",   "we",    "were",  "what", "when", "where", "which",
    "who",  "will",  "with",  "would", "you",  "your",
};

typedef struct keyref {
    const char *s;
    size_t len;
} keyref;

static int stop_cmp(const void *key, const void *elem)
{
    const keyref *k = key;
    const char *w = *(const char *const *)elem;
    size_t wl = strlen(w);
    int c = memcmp(k->s, w, k->len < wl ? k->len : wl);

    if (c != 0)
        return c;
    return k->len < wl ? -1 : k->len > wl ? 1 : 0;
}

bool assist_tokenize_is_stopword(const char *word, size_t len)
{
    keyref k = {word, len};

    return bsearch(&k, stopwords, sizeof(stopwords) / sizeof(stopwords[0]),
                   sizeof(stopwords[0]), stop_cmp) != NULL;
}

/* Decode one character at s (n > 0 bytes left) into *cp and return its
 * length. Overlong forms, surrogates and values past U+10FFFF decode as
 * CP_INVALID with length 1, so the scan resynchronises on the next byte. */
static size_t utf8_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
    uint32_t c = s[0], min;
    size_t len;

    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if ((c & 0xE0) == 0xC0) {
        len = 2, c &= 0x1F, min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
        len = 3, c &= 0x0F, min = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
        len = 4, c &= 0x07, min = 0x10000;
    } else {
        *cp = CP_INVALID;
        return 1;
    }
    if (len > n) {
        *cp = CP_INVALID;
        return 1;
    }
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80) {
            *cp = CP_INVALID;
            return 1;
        }
        c = (c << 6) | (s[i] & 0x3F);
    }
    if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) {
        *cp = CP_INVALID;
        return 1;
    }
    *cp = c;
    return len;
}

static bool is_cjk(uint32_t c)
{
    return (c >= 0x4E00 && c <= 0x9FFF) ||   /* CJK unified ideographs */
           (c >= 0x3400 && c <= 0x4DBF) ||   /* extension A */
           (c >= 0x20000 && c <= 0x2FA1F) || /* extensions B-F, compat */
           (c >= 0xF900 && c <= 0xFAFF) ||   /* compatibility ideographs */
           (c >= 0x3040 && c <= 0x30FF) ||   /* Hiragana, Katakana */
           (c >= 0x31F0 && c <= 0x31FF) ||   /* Katakana extensions */
           (c >= 0xAC00 && c <= 0xD7AF) ||   /* Hangul syllables */
           (c >= 0x1100 && c <= 0x11FF) ||   /* Hangul Jamo */
           (c >= 0x3130 && c <= 0x318F);     /* Hangul compatibility Jamo */
}

/* The class of c; for ASCII-foldable characters *fold is the lowercase
 * ASCII byte to use instead of the character's own bytes, else 0. */
static cclass classify(uint32_t c, char *fold)
{
    *fold = 0;
    if (c < 0x80) {
        if (c >= 'A' && c <= 'Z') {
            *fold = (char)(c - 'A' + 'a');
            return C_WORD;
        }
        if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
            *fold = (char)c;
            return C_WORD;
        }
        return C_SEP;
    }
    if (c >= 0xFF10 && c <= 0xFF19) {
        *fold = (char)('0' + (c - 0xFF10));
        return C_WORD;
    }
    if (c >= 0xFF21 && c <= 0xFF3A) {
        *fold = (char)('a' + (c - 0xFF21));
        return C_WORD;
    }
    if (c >= 0xFF41 && c <= 0xFF5A) {
        *fold = (char)('a' + (c - 0xFF41));
        return C_WORD;
    }
    if (is_cjk(c))
        return C_CJK;
    /* Accented Latin, Greek and Cyrillic letters stay inside words. */
    if ((c >= 0xC0 && c <= 0x24F && c != 0xD7 && c != 0xF7) ||
        (c >= 0x370 && c <= 0x52F))
        return C_WORD;
    return C_SEP;
}

typedef struct scan {
    assist_token_fn fn;
    void *arg;
    int count;
    bool stopped;
    char word[ASSIST_TOKEN_MAX + 1];
    size_t wlen;
    char prev[4]; /* the previous CJK character of the current run */
    size_t prev_len;
    int run; /* CJK characters in the current run */
} scan;

static void emit(scan *s, const char *tok, size_t len)
{
    char buf[ASSIST_TOKEN_MAX + 1];

    if (s->stopped)
        return;
    memcpy(buf, tok, len);
    buf[len] = '\0';
    s->count++;
    if (!s->fn(buf, len, s->arg))
        s->stopped = true;
}

static void end_word(scan *s)
{
    if (s->wlen > 0 && !assist_tokenize_is_stopword(s->word, s->wlen))
        emit(s, s->word, s->wlen);
    s->wlen = 0;
}

static void end_run(scan *s)
{
    if (s->run == 1)
        emit(s, s->prev, s->prev_len);
    s->run = 0;
}

static void add_cjk(scan *s, const char *ch, size_t len)
{
    if (s->run > 0) {
        char pair[8];

        memcpy(pair, s->prev, s->prev_len);
        memcpy(pair + s->prev_len, ch, len);
        emit(s, pair, s->prev_len + len);
    }
    memcpy(s->prev, ch, len);
    s->prev_len = len;
    s->run++;
}

/* Append one character to the current word; a word that reached
 * ASSIST_TOKEN_MAX keeps its prefix and drops the rest. */
static void add_word(scan *s, const char *ch, size_t len, char fold)
{
    if (fold != 0) {
        ch = &fold;
        len = 1;
    }
    if (s->wlen + len > ASSIST_TOKEN_MAX)
        return;
    memcpy(s->word + s->wlen, ch, len);
    s->wlen += len;
}

int assist_tokenize(const char *text, size_t len, assist_token_fn fn, void *arg)
{
    const unsigned char *p = (const unsigned char *)text;
    scan s;
    size_t i = 0;

    memset(&s, 0, sizeof(s));
    s.fn = fn;
    s.arg = arg;
    while (i < len && !s.stopped) {
        uint32_t cp;
        size_t n = utf8_decode(p + i, len - i, &cp);
        char fold = 0;
        cclass cl = cp == CP_INVALID ? C_SEP : classify(cp, &fold);

        if (cl == C_CJK) {
            end_word(&s);
            add_cjk(&s, text + i, n);
        } else if (cl == C_WORD) {
            end_run(&s);
            add_word(&s, text + i, n, fold);
        } else {
            end_run(&s);
            end_word(&s);
        }
        i += n;
    }
    end_run(&s);
    end_word(&s);
    return s.count;
}
