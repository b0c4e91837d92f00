/*
 * A tenant's knowledge base as passages with a BM25 inverted index
 * (docs/assist.md).
 *
 * Markdown or text files are split into passages at headings ("#" to
 * "######") and blank lines; a paragraph shorter than ASSIST_PASSAGE_MIN
 * bytes or ending in a colon joins the next paragraph of its section, and
 * one longer than
 * ASSIST_PASSAGE_MAX bytes is cut at line (or, for one huge line,
 * character) boundaries. Each
 * passage remembers its file, the path of headings above it ("Overdue
 * loans > Contact hours") and its first line. The heading path is indexed
 * together with the text, so a passage is found by its section's name too.
 *
 * Ranking is Okapi BM25 with k1 = 1.2 and b = 0.75:
 *   score(D, Q) = sum over distinct terms t of Q found in D of
 *     idf(t) * tf * (k1 + 1) / (tf + k1 * (1 - b + b * |D| / avgdl))
 *   idf(t) = ln(1 + (N - n(t) + 0.5) / (n(t) + 0.5))
 * where tf is how often t occurs in D, |D| the token count of D, avgdl the
 * mean token count, N the number of passages and n(t) how many contain t.
 * Equal scores rank the passage added first (file name order, then
 * position) first, so results are deterministic.
 *
 * Life cycle: create, add files or passages, build once, then query as
 * often as needed. A built index is immutable; threads may query it
 * concurrently (each query allocates its own scratch memory).
 */
#ifndef TL_ASSIST_INDEX_H
#define TL_ASSIST_INDEX_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"

#define ASSIST_BM25_K1       1.2
#define ASSIST_BM25_B        0.75
#define ASSIST_PASSAGE_MAX   1200 /* bytes of one passage's text */
#define ASSIST_PASSAGE_MIN   80   /* shorter paragraphs join the next one */
#define ASSIST_HEADING_MAX   256  /* bytes of a heading path */
#define ASSIST_FILE_NAME_MAX 128  /* bytes of a file's name */
#define ASSIST_FILE_MAX      (4 * 1024 * 1024) /* bytes of one file */
#define ASSIST_FILES_MAX     1000              /* files in one folder */
#define ASSIST_PASSAGES_MAX  1000000           /* passages in one index */
#define ASSIST_QUERY_TERMS   256               /* distinct terms per query */
#define ASSIST_K_MAX         100               /* most results per query */

typedef struct assist_passage {
    const char *file;    /* file name inside the knowledge base folder */
    const char *heading; /* "A > B" heading path; "" before any heading */
    int line;            /* first line of the passage, from 1 */
    const char *text;    /* the passage's lines joined by '\n' */
    int length;          /* tokens, heading path included */
} assist_passage;

typedef struct assist_hit {
    int passage; /* index for assist_index_passage */
    double score;
} assist_hit;

typedef struct assist_index assist_index;

/* An empty index, open for adding. */
status assist_index_create(assist_index **out, err *e);

/* Free idx and all its passages; NULL is a no-op. */
void assist_index_destroy(assist_index *idx);

/*
 * Split the Markdown or plain text text[0..len) into passages and add them
 * under the file name file (copied). ST_INVALID after build, ST_TOO_LARGE
 * past ASSIST_PASSAGES_MAX, ST_NOMEM.
 */
status assist_index_add_text(assist_index *idx, const char *file,
                             const char *text, size_t len, err *e);

/* Add one passage as given (strings copied; heading may be ""); for
 * generated bases in tests and benchmarks. Errors as add_text. */
status assist_index_add_passage(assist_index *idx, const char *file,
                                const char *heading, int line, const char *text,
                                err *e);

/* Build the inverted index; after this only queries are allowed.
 * ST_INVALID when called twice, ST_NOMEM. */
status assist_index_build(assist_index *idx, err *e);

/*
 * Create, add every "*.md" and "*.txt" file of folder dir in name order,
 * and build. ST_IO (folder or file unreadable, naming it), ST_TOO_LARGE (a
 * file past ASSIST_FILE_MAX, more than ASSIST_FILES_MAX files), ST_NOMEM.
 * An empty folder is ST_NOT_FOUND.
 */
status assist_index_load_dir(assist_index **out, const char *dir, err *e);

/*
 * The best k (1..ASSIST_K_MAX) passages for text, best first, into
 * results (room for k) and their number into *n (0 when no term of text is
 * in the index). ST_INVALID before build or for k out of range; ST_NOMEM.
 */
status assist_index_query(const assist_index *idx, const char *text, int k,
                          assist_hit *results, int *n, err *e);

int assist_index_count(const assist_index *idx);

/* Passage i, 0 <= i < count (borrowed from idx), or NULL. */
const assist_passage *assist_index_passage(const assist_index *idx, int i);

/* Distinct terms in the built index. */
int assist_index_terms(const assist_index *idx);

#endif
