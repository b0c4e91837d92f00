#include "assist_index.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "assist_tokenize.h"
#include "fileio.h"

#define HEADING_LEVELS 6

/* One occurrence of a term in a passage, collected while adding. */
typedef struct pair {
    int term;
    int passage;
} pair;

typedef struct posting {
    int passage;
    int tf;
} posting;

struct assist_index {
    bool built;
    assist_passage *passages;
    int npassages, passages_cap;
    char **files; /* owned file names; passages point into them */
    int nfiles, files_cap;
    /* Terms: an open-addressing table of term id + 1 (0 is empty). */
    uint32_t *slots;
    size_t nslots;
    char **terms;
    int nterms, terms_cap;
    /* Occurrences while adding; freed by build. */
    pair *pairs;
    size_t npairs, pairs_cap;
    /* Built: postings of term t are postings[off[t] .. off[t + 1]). */
    size_t *off;
    posting *postings;
    double *idf;  /* per term */
    double *norm; /* per passage: k1 * (1 - b + b * |D| / avgdl) */
};

static uint32_t hash_bytes(const char *s, size_t n)
{
    uint32_t h = 2166136261u;

    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 16777619u;
    }
    return h;
}

/* The slot holding term s, or the empty slot where it would go. */
static size_t term_slot(const assist_index *idx, const char *s, size_t n)
{
    size_t mask = idx->nslots - 1;
    size_t i = hash_bytes(s, n) & mask;

    for (;;) {
        uint32_t v = idx->slots[i];
        if (v == 0)
            return i;
        const char *t = idx->terms[v - 1];
        if (strncmp(t, s, n) == 0 && t[n] == '\0')
            return i;
        i = (i + 1) & mask;
    }
}

static int term_find(const assist_index *idx, const char *s, size_t n)
{
    uint32_t v;

    if (idx->nslots == 0)
        return -1;
    v = idx->slots[term_slot(idx, s, n)];
    return v == 0 ? -1 : (int)v - 1;
}

static bool grow_slots(assist_index *idx)
{
    size_t ncap = idx->nslots > 0 ? idx->nslots * 2 : 1024;
    uint32_t *old = idx->slots;
    size_t oldn = idx->nslots;

    idx->slots = calloc(ncap, sizeof(*idx->slots));
    if (idx->slots == NULL) {
        idx->slots = old;
        return false;
    }
    idx->nslots = ncap;
    for (size_t i = 0; i < oldn; i++) {
        if (old[i] == 0)
            continue;
        const char *t = idx->terms[old[i] - 1];
        idx->slots[term_slot(idx, t, strlen(t))] = old[i];
    }
    free(old);
    return true;
}

/* The id of term s[0..n), adding it when new; -1 when out of memory. */
static int term_intern(assist_index *idx, const char *s, size_t n)
{
    size_t slot;
    char *copy;

    if ((size_t)(idx->nterms + 1) * 2 > idx->nslots && !grow_slots(idx))
        return -1;
    slot = term_slot(idx, s, n);
    if (idx->slots[slot] != 0)
        return (int)idx->slots[slot] - 1;
    if (idx->nterms == idx->terms_cap) {
        int ncap = idx->terms_cap > 0 ? idx->terms_cap * 2 : 1024;
        char **nt = realloc(idx->terms, (size_t)ncap * sizeof(*nt));
        if (nt == NULL)
            return -1;
        idx->terms = nt;
        idx->terms_cap = ncap;
    }
    copy = malloc(n + 1);
    if (copy == NULL)
        return -1;
    memcpy(copy, s, n);
    copy[n] = '\0';
    idx->terms[idx->nterms] = copy;
    idx->slots[slot] = (uint32_t)idx->nterms + 1;
    return idx->nterms++;
}

status assist_index_create(assist_index **out, err *e)
{
    assist_index *idx = calloc(1, sizeof(*idx));

    if (idx == NULL)
        return err_set(e, ST_NOMEM, "out of memory");
    *out = idx;
    return ST_OK;
}

void assist_index_destroy(assist_index *idx)
{
    if (idx == NULL)
        return;
    for (int i = 0; i < idx->npassages; i++) {
        free((char *)idx->passages[i].heading);
        free((char *)idx->passages[i].text);
    }
    free(idx->passages);
    for (int i = 0; i < idx->nfiles; i++)
        free(idx->files[i]);
    free(idx->files);
    for (int i = 0; i < idx->nterms; i++)
        free(idx->terms[i]);
    free(idx->terms);
    free(idx->slots);
    free(idx->pairs);
    free(idx->off);
    free(idx->postings);
    free(idx->idf);
    free(idx->norm);
    free(idx);
}

/* The stored copy of file name file, adding it when it differs from the
 * last one (files are added one after another). */
static const char *file_intern(assist_index *idx, const char *file)
{
    char *copy;

    if (idx->nfiles > 0 && strcmp(idx->files[idx->nfiles - 1], file) == 0)
        return idx->files[idx->nfiles - 1];
    if (idx->nfiles == idx->files_cap) {
        int ncap = idx->files_cap > 0 ? idx->files_cap * 2 : 16;
        char **nf = realloc(idx->files, (size_t)ncap * sizeof(*nf));
        if (nf == NULL)
            return NULL;
        idx->files = nf;
        idx->files_cap = ncap;
    }
    copy = strdup(file);
    if (copy == NULL)
        return NULL;
    idx->files[idx->nfiles++] = copy;
    return copy;
}

typedef struct add_ctx {
    assist_index *idx;
    int passage;
    int tokens;
    bool failed;
} add_ctx;

static bool add_token(const char *tok, size_t len, void *arg)
{
    add_ctx *c = arg;
    assist_index *idx = c->idx;
    int t = term_intern(idx, tok, len);

    if (t < 0)
        goto fail;
    if (idx->npairs == idx->pairs_cap) {
        size_t ncap = idx->pairs_cap > 0 ? idx->pairs_cap * 2 : 4096;
        pair *np = realloc(idx->pairs, ncap * sizeof(*np));
        if (np == NULL)
            goto fail;
        idx->pairs = np;
        idx->pairs_cap = ncap;
    }
    idx->pairs[idx->npairs].term = t;
    idx->pairs[idx->npairs].passage = c->passage;
    idx->npairs++;
    c->tokens++;
    return true;
fail:
    c->failed = true;
    return false;
}

status assist_index_add_passage(assist_index *idx, const char *file,
                                const char *heading, int line, const char *text,
                                err *e)
{
    assist_passage *p;
    add_ctx c = {idx, idx->npassages, 0, false};

    if (idx->built)
        return err_set(e, ST_INVALID, "the index is already built");
    if (idx->npassages >= ASSIST_PASSAGES_MAX)
        return err_set(e, ST_TOO_LARGE,
                       "the knowledge base has more than %d passages",
                       ASSIST_PASSAGES_MAX);
    if (idx->npassages == idx->passages_cap) {
        int ncap = idx->passages_cap > 0 ? idx->passages_cap * 2 : 256;
        assist_passage *np = realloc(idx->passages, (size_t)ncap * sizeof(*np));
        if (np == NULL)
            return err_set(e, ST_NOMEM, "out of memory");
        idx->passages = np;
        idx->passages_cap = ncap;
    }
    p = &idx->passages[idx->npassages];
    memset(p, 0, sizeof(*p));
    p->line = line;
    p->file = file_intern(idx, file);
    p->heading = strdup(heading);
    p->text = strdup(text);
    if (p->file == NULL || p->heading == NULL || p->text == NULL) {
        free((char *)p->heading);
        free((char *)p->text);
        return err_set(e, ST_NOMEM, "out of memory");
    }
    idx->npassages++;
    assist_tokenize(heading, strlen(heading), add_token, &c);
    if (!c.failed)
        assist_tokenize(text, strlen(text), add_token, &c);
    if (c.failed)
        return err_set(e, ST_NOMEM, "out of memory");
    p->length = c.tokens;
    return ST_OK;
}

/* Length of s[0..n) cut to at most max bytes without splitting a UTF-8
 * character. */
static size_t utf8_cut(const char *s, size_t n, size_t max)
{
    if (n <= max)
        return n;
    while (max > 0 && ((unsigned char)s[max] & 0xC0) == 0x80)
        max--;
    return max;
}

/* State of splitting one file into passages. */
typedef struct splitter {
    assist_index *idx;
    const char *file;
    char headings[HEADING_LEVELS][ASSIST_HEADING_MAX + 1];
    char path[ASSIST_HEADING_MAX + 1];
    char para[ASSIST_PASSAGE_MAX + 1];
    size_t plen;
    int pline;
} splitter;

static void heading_path(splitter *s)
{
    size_t used = 0;

    s->path[0] = '\0';
    for (int i = 0; i < HEADING_LEVELS; i++) {
        const char *h = s->headings[i];
        size_t hl = strlen(h), sep = used > 0 ? 3 : 0;

        if (hl == 0)
            continue;
        if (used + sep + hl > ASSIST_HEADING_MAX)
            hl = utf8_cut(h, hl, ASSIST_HEADING_MAX - used - sep);
        if (hl == 0)
            break;
        memcpy(s->path + used, " > ", sep);
        memcpy(s->path + used + sep, h, hl);
        used += sep + hl;
        s->path[used] = '\0';
    }
}

static status flush(splitter *s, err *e)
{
    status st;

    if (s->plen == 0)
        return ST_OK;
    s->para[s->plen] = '\0';
    st = assist_index_add_passage(s->idx, s->file, s->path, s->pline, s->para,
                                  e);
    s->plen = 0;
    return st;
}

/* True when the paragraph so far ends in a colon (ASCII or full-width):
 * it introduces what follows and belongs with it. */
static bool introduces(const splitter *s)
{
    return (s->plen >= 1 && s->para[s->plen - 1] == ':') ||
           (s->plen >= 3 &&
            memcmp(s->para + s->plen - 3, "\xEF\xBC\x9A", 3) == 0);
}

static bool blank(const char *l, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (l[i] != ' ' && l[i] != '\t')
            return false;
    return true;
}

/* The heading level (1..6) of line l, with its text in *text / *tlen; 0
 * when l is not an ATX heading. */
static int heading_level(const char *l, size_t n, const char **text,
                         size_t *tlen)
{
    size_t level = 0, i;

    while (level < n && level <= HEADING_LEVELS && l[level] == '#')
        level++;
    if (level == 0 || level > HEADING_LEVELS ||
        (level < n && l[level] != ' ' && l[level] != '\t'))
        return 0;
    i = level;
    while (i < n && (l[i] == ' ' || l[i] == '\t'))
        i++;
    while (n > i && (l[n - 1] == ' ' || l[n - 1] == '\t' || l[n - 1] == '#'))
        n--;
    *text = l + i;
    *tlen = n - i;
    return (int)level;
}

static status add_line(splitter *s, const char *l, size_t n, int lineno, err *e)
{
    status st = ST_OK;

    if (s->plen > 0 && s->plen + 1 + n > ASSIST_PASSAGE_MAX &&
        (st = flush(s, e)) != ST_OK)
        return st;
    while (n > ASSIST_PASSAGE_MAX) {
        size_t cut = utf8_cut(l, n, ASSIST_PASSAGE_MAX);

        if (cut == 0)
            cut = 1; /* not UTF-8 at all: any cut will do */
        memcpy(s->para, l, cut);
        s->plen = cut;
        s->pline = lineno;
        if ((st = flush(s, e)) != ST_OK)
            return st;
        l += cut;
        n -= cut;
    }
    if (s->plen == 0)
        s->pline = lineno;
    else
        s->para[s->plen++] = '\n';
    memcpy(s->para + s->plen, l, n);
    s->plen += n;
    return ST_OK;
}

status assist_index_add_text(assist_index *idx, const char *file,
                             const char *text, size_t len, err *e)
{
    splitter *s = calloc(1, sizeof(*s));
    status st = ST_OK;
    size_t pos = 0;
    int lineno = 0;
    bool fence = false;

    if (s == NULL)
        return err_set(e, ST_NOMEM, "out of memory");
    s->idx = idx;
    s->file = file;
    while (pos < len && st == ST_OK) {
        const char *l = text + pos;
        const char *nl = memchr(l, '\n', len - pos);
        size_t n = nl != NULL ? (size_t)(nl - l) : len - pos;
        const char *htext;
        size_t hlen;
        int level;

        pos += n + (nl != NULL ? 1 : 0);
        lineno++;
        if (n > 0 && l[n - 1] == '\r')
            n--;
        if (n >= 3 && memcmp(l, "```", 3) == 0)
            fence = !fence;
        level = fence ? 0 : heading_level(l, n, &htext, &hlen);
        if (level > 0) {
            st = flush(s, e);
            hlen = utf8_cut(htext, hlen, ASSIST_HEADING_MAX);
            memcpy(s->headings[level - 1], htext, hlen);
            s->headings[level - 1][hlen] = '\0';
            for (int i = level; i < HEADING_LEVELS; i++)
                s->headings[i][0] = '\0';
            heading_path(s);
        } else if (!fence && blank(l, n)) {
            /* A short paragraph ("Never do the following:") belongs with
             * the next one of its section. */
            if (s->plen >= ASSIST_PASSAGE_MIN && !introduces(s))
                st = flush(s, e);
        } else {
            st = add_line(s, l, n, lineno, e);
        }
    }
    if (st == ST_OK)
        st = flush(s, e);
    free(s);
    if (st != ST_OK)
        err_wrap(e, "%s line %d", file, lineno);
    return st;
}

status assist_index_build(assist_index *idx, err *e)
{
    size_t *cnt = NULL;
    int *raw = NULL;
    status st = ST_OK;
    size_t n = (size_t)idx->nterms, w = 0;
    double total = 0, avgdl;

    if (idx->built)
        return err_set(e, ST_INVALID, "the index is already built");
    idx->off = calloc(n + 1, sizeof(*idx->off));
    cnt = calloc(n + 1, sizeof(*cnt));
    raw = malloc((idx->npairs > 0 ? idx->npairs : 1) * sizeof(*raw));
    idx->postings =
        malloc((idx->npairs > 0 ? idx->npairs : 1) * sizeof(*idx->postings));
    idx->idf = malloc((n > 0 ? n : 1) * sizeof(*idx->idf));
    idx->norm = malloc((idx->npassages > 0 ? (size_t)idx->npassages : 1) *
                       sizeof(double));
    if (idx->off == NULL || cnt == NULL || raw == NULL ||
        idx->postings == NULL || idx->idf == NULL || idx->norm == NULL) {
        st = err_set(e, ST_NOMEM, "out of memory");
        goto out;
    }
    /* A counting sort by term keeps each term's passages in the order they
     * were added, so repeats of a term in one passage are adjacent. */
    for (size_t i = 0; i < idx->npairs; i++)
        cnt[idx->pairs[i].term + 1]++;
    for (size_t t = 0; t < n; t++)
        cnt[t + 1] += cnt[t];
    for (size_t i = 0; i < idx->npairs; i++)
        raw[cnt[idx->pairs[i].term]++] = idx->pairs[i].passage;
    /* cnt[t] is now the end of term t's run; merge repeats into tf. */
    for (size_t t = 0, start = 0; t < n; t++) {
        size_t end = cnt[t];

        idx->off[t] = w;
        for (size_t i = start; i < end; i++) {
            if (w > idx->off[t] && idx->postings[w - 1].passage == raw[i]) {
                idx->postings[w - 1].tf++;
            } else {
                idx->postings[w].passage = raw[i];
                idx->postings[w].tf = 1;
                w++;
            }
        }
        start = end;
        double df = (double)(w - idx->off[t]);
        idx->idf[t] =
            log(1.0 + ((double)idx->npassages - df + 0.5) / (df + 0.5));
    }
    idx->off[n] = w;
    for (int i = 0; i < idx->npassages; i++)
        total += idx->passages[i].length;
    avgdl = idx->npassages > 0 && total > 0 ? total / idx->npassages : 1.0;
    for (int i = 0; i < idx->npassages; i++)
        idx->norm[i] =
            ASSIST_BM25_K1 * (1.0 - ASSIST_BM25_B +
                              ASSIST_BM25_B * idx->passages[i].length / avgdl);
    free(idx->pairs);
    idx->pairs = NULL;
    idx->npairs = idx->pairs_cap = 0;
    idx->built = true;
out:
    free(cnt);
    free(raw);
    return st;
}

typedef struct query_ctx {
    const assist_index *idx;
    int terms[ASSIST_QUERY_TERMS];
    int nterms;
} query_ctx;

static bool query_token(const char *tok, size_t len, void *arg)
{
    query_ctx *q = arg;
    int t = term_find(q->idx, tok, len);

    if (t < 0)
        return true;
    for (int i = 0; i < q->nterms; i++)
        if (q->terms[i] == t)
            return true;
    q->terms[q->nterms++] = t;
    return q->nterms < ASSIST_QUERY_TERMS;
}

/* True when hit a ranks before hit b: higher score, then earlier
 * passage. */
static bool before(double sa, int pa, double sb, int pb)
{
    return sa > sb || (sa == sb && pa < pb);
}

status assist_index_query(const assist_index *idx, const char *text, int k,
                          assist_hit *results, int *n, err *e)
{
    query_ctx *q = NULL;
    double *scores = NULL;
    int *touched = NULL;
    int ntouched = 0, nres = 0;
    status st = ST_OK;

    if (!idx->built)
        return err_set(e, ST_INVALID, "the index is not built yet");
    if (k < 1 || k > ASSIST_K_MAX)
        return err_set(e, ST_INVALID, "k must be 1 to %d, not %d", ASSIST_K_MAX,
                       k);
    q = calloc(1, sizeof(*q));
    scores = calloc(idx->npassages > 0 ? (size_t)idx->npassages : 1,
                    sizeof(*scores));
    touched = malloc((idx->npassages > 0 ? (size_t)idx->npassages : 1) *
                     sizeof(*touched));
    if (q == NULL || scores == NULL || touched == NULL) {
        st = err_set(e, ST_NOMEM, "out of memory");
        goto out;
    }
    q->idx = idx;
    assist_tokenize(text, strlen(text), query_token, q);
    for (int i = 0; i < q->nterms; i++) {
        int t = q->terms[i];
        double idf = idx->idf[t];

        for (size_t j = idx->off[t]; j < idx->off[t + 1]; j++) {
            const posting *p = &idx->postings[j];
            double tf = p->tf;

            if (scores[p->passage] == 0)
                touched[ntouched++] = p->passage;
            scores[p->passage] += idf * tf * (ASSIST_BM25_K1 + 1.0) /
                                  (tf + idx->norm[p->passage]);
        }
    }
    /* Insertion into a sorted array of at most k: cheap for small k. */
    for (int i = 0; i < ntouched; i++) {
        int p = touched[i], j;
        double s = scores[p];

        if (nres == k &&
            !before(s, p, results[k - 1].score, results[k - 1].passage))
            continue;
        j = nres < k ? nres++ : k - 1;
        while (j > 0 &&
               before(s, p, results[j - 1].score, results[j - 1].passage)) {
            results[j] = results[j - 1];
            j--;
        }
        results[j].passage = p;
        results[j].score = s;
    }
    *n = nres;
out:
    free(q);
    free(scores);
    free(touched);
    return st;
}

int assist_index_count(const assist_index *idx)
{
    return idx->npassages;
}

const assist_passage *assist_index_passage(const assist_index *idx, int i)
{
    if (i < 0 || i >= idx->npassages)
        return NULL;
    return &idx->passages[i];
}

int assist_index_terms(const assist_index *idx)
{
    return idx->nterms;
}

static bool kb_file(const char *name)
{
    size_t n = strlen(name);

    if (name[0] == '.')
        return false;
    return (n > 3 && strcmp(name + n - 3, ".md") == 0) ||
           (n > 4 && strcmp(name + n - 4, ".txt") == 0);
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

status assist_index_load_dir(assist_index **out, const char *dir, err *e)
{
    assist_index *idx = NULL;
    DIR *d = opendir(dir);
    struct dirent *de;
    char **names = NULL;
    int nnames = 0;
    status st = ST_OK;

    if (d == NULL)
        return err_set(e, ST_IO, "cannot open knowledge base folder %s: %s",
                       dir, strerror(errno));
    names = calloc(ASSIST_FILES_MAX, sizeof(*names));
    if (names == NULL) {
        st = err_set(e, ST_NOMEM, "out of memory");
        goto out;
    }
    while ((de = readdir(d)) != NULL) {
        if (!kb_file(de->d_name))
            continue;
        if (strlen(de->d_name) > ASSIST_FILE_NAME_MAX) {
            st = err_set(e, ST_INVALID,
                         "%s/%.40s...: file names may have at most %d bytes",
                         dir, de->d_name, ASSIST_FILE_NAME_MAX);
            goto out;
        }
        if (nnames == ASSIST_FILES_MAX) {
            st = err_set(e, ST_TOO_LARGE, "%s has more than %d knowledge files",
                         dir, ASSIST_FILES_MAX);
            goto out;
        }
        if ((names[nnames] = strdup(de->d_name)) == NULL) {
            st = err_set(e, ST_NOMEM, "out of memory");
            goto out;
        }
        nnames++;
    }
    if (nnames == 0) {
        st = err_set(e, ST_NOT_FOUND,
                     "%s has no knowledge files (*.md or *.txt)", dir);
        goto out;
    }
    qsort(names, (size_t)nnames, sizeof(*names), name_cmp);
    if ((st = assist_index_create(&idx, e)) != ST_OK)
        goto out;
    for (int i = 0; i < nnames; i++) {
        char path[4096];
        char *text = NULL;
        size_t len = 0;

        if (snprintf(path, sizeof(path), "%s/%s", dir, names[i]) >=
            (int)sizeof(path)) {
            st = err_set(e, ST_INVALID, "path of %s is too long", names[i]);
            goto out;
        }
        if ((st = fileio_read(path, ASSIST_FILE_MAX, "knowledge file", &text,
                              &len, e)) != ST_OK)
            goto out;
        st = assist_index_add_text(idx, names[i], text, len, e);
        free(text);
        if (st != ST_OK)
            goto out;
    }
    if ((st = assist_index_build(idx, e)) != ST_OK)
        goto out;
    *out = idx;
    idx = NULL;
out:
    for (int i = 0; i < nnames; i++)
        free(names[i]);
    free(names);
    closedir(d);
    assist_index_destroy(idx);
    return st;
}
