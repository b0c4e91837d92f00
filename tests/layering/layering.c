#include "layering.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define LY_PATH_MAX  1024
#define LY_NAME_MAX  128
#define LY_FILE_MAX  (4L * 1024 * 1024) /* no source file is near this */
#define LY_CHAIN_MAX 512
#define LY_MSG_MAX   1024
#define LY_DEPTH_MAX 8 /* folder nesting below the root */
#define LY_ARGS_MAX  8

typedef struct ly_file {
    char *rel;  /* "cli/cmd_case.c" */
    char *disk; /* where it is read from */
    char folder[LY_NAME_MAX];
    char module[LY_NAME_MAX]; /* the file name without its extension */
    bool header;
} ly_file;

/* An include between two modules of one folder, for the cycle check. */
typedef struct ly_edge {
    int from, to; /* indexes into the folder's modules */
    int file;     /* where the include is */
    int line;
    char name[LY_NAME_MAX];
} ly_edge;

/* A header name and the folder it belongs to. */
typedef struct ly_header {
    char name[LY_NAME_MAX];
    char folder[LY_NAME_MAX];
    const char *rel; /* NULL for a generated header */
} ly_header;

typedef struct ly_token {
    enum { TK_IDENT, TK_NUMBER, TK_STRING, TK_CHAR, TK_PUNCT } kind;
    const char *text;
    int len;
    int line;
    bool directive; /* on a preprocessor line */
} ly_token;

typedef struct ly_run {
    const char *root;
    const layering_rules *rules;
    FILE *report;
    int problems;
    ly_file *files;
    int nfiles, capfiles;
    ly_header *headers;
    int nheaders, capheaders;
    ly_edge *edges;
    int nedges, capedges;
} ly_run;

static bool in_list(const char *const *list, const char *s)
{
    for (int i = 0; list != NULL && list[i] != NULL; i++)
        if (strcmp(list[i], s) == 0)
            return true;
    return false;
}

static const layering_folder *product(const ly_run *r, const char *folder)
{
    for (int i = 0; i < r->rules->nfolders; i++)
        if (strcmp(r->rules->folders[i].name, folder) == 0)
            return &r->rules->folders[i];
    return NULL;
}

static void problem(ly_run *r, const char *rel, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void problem(ly_run *r, const char *rel, int line, const char *fmt, ...)
{
    char msg[LY_MSG_MAX];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (line > 0)
        fprintf(r->report, "%s:%d: %s\n", rel, line, msg);
    else
        fprintf(r->report, "%s: %s\n", rel, msg);
    r->problems++;
}

/* Grow *items (of size each) to hold one more than *n. */
static status grow(void **items, int *cap, int n, size_t each, err *e)
{
    void *p;
    int ncap;

    if (n < *cap)
        return ST_OK;
    ncap = *cap > 0 ? *cap * 2 : 64;
    p = realloc(*items, (size_t)ncap * each);
    if (p == NULL)
        return err_set(e, ST_NOMEM, "out of memory");
    *items = p;
    *cap = ncap;
    return ST_OK;
}

static bool source_name(const char *name, bool *header)
{
    size_t n = strlen(name);

    if (n < 3 || name[n - 2] != '.' ||
        (name[n - 1] != 'c' && name[n - 1] != 'h'))
        return false;
    *header = name[n - 1] == 'h';
    return true;
}

static status add_file(ly_run *r, const char *rel, const char *disk, err *e)
{
    const char *slash = strchr(rel, '/');
    const char *base = strrchr(rel, '/');
    ly_file *f;
    bool header = false;
    status s;

    if (slash == NULL || !source_name(base + 1, &header))
        return err_set(e, ST_INVALID,
                       "%s: not a .c or .h file in a folder of the tree", rel);
    for (int i = 0; i < r->nfiles; i++) {
        if (strcmp(r->files[i].rel, rel) == 0) {
            char *d = strdup(disk);

            if (d == NULL)
                return err_set(e, ST_NOMEM, "out of memory");
            free(r->files[i].disk);
            r->files[i].disk = d;
            return ST_OK;
        }
    }
    s = grow((void **)&r->files, &r->capfiles, r->nfiles, sizeof(*r->files), e);
    if (s != ST_OK)
        return s;
    f = &r->files[r->nfiles];
    memset(f, 0, sizeof(*f));
    f->rel = strdup(rel);
    f->disk = strdup(disk);
    if (f->rel == NULL || f->disk == NULL) {
        free(f->rel);
        free(f->disk);
        return err_set(e, ST_NOMEM, "out of memory");
    }
    snprintf(f->folder, sizeof(f->folder), "%.*s", (int)(slash - rel), rel);
    snprintf(f->module, sizeof(f->module), "%.*s", (int)(strlen(base + 1) - 2),
             base + 1);
    f->header = header;
    r->nfiles++;
    return ST_OK;
}

/* Collect the .c and .h files below rel (a folder relative to the root). */
static status walk(ly_run *r, const char *rel, int depth, err *e)
{
    char path[LY_PATH_MAX];
    struct dirent *d;
    DIR *dir;
    status s = ST_OK;

    snprintf(path, sizeof(path), "%s/%s", r->root, rel);
    if ((dir = opendir(path)) == NULL)
        return err_set(e, ST_IO, "%s: cannot open: %s", path, strerror(errno));
    while (s == ST_OK && (d = readdir(dir)) != NULL) {
        char sub[LY_PATH_MAX], disk[LY_PATH_MAX];
        struct stat st;
        bool header;

        if (d->d_name[0] == '.')
            continue;
        if (snprintf(sub, sizeof(sub), "%s/%s", rel, d->d_name) >=
                (int)sizeof(sub) ||
            snprintf(disk, sizeof(disk), "%s/%s", r->root, sub) >=
                (int)sizeof(disk)) {
            s = err_set(e, ST_IO, "%s/%s: path too long", path, d->d_name);
            break;
        }
        if (stat(disk, &st) != 0) {
            s = err_set(e, ST_IO, "%s: cannot stat: %s", disk, strerror(errno));
            break;
        }
        if (S_ISDIR(st.st_mode) && depth < LY_DEPTH_MAX)
            s = walk(r, sub, depth + 1, e);
        else if (S_ISREG(st.st_mode) && source_name(d->d_name, &header))
            s = add_file(r, sub, disk, e);
    }
    closedir(dir);
    return s;
}

/* The top-level folders: build output and run directories are not sources. */
static status walk_root(ly_run *r, err *e)
{
    struct dirent *d;
    DIR *dir = opendir(r->root);
    status s = ST_OK;

    if (dir == NULL)
        return err_set(e, ST_IO, "%s: cannot open: %s", r->root,
                       strerror(errno));
    while (s == ST_OK && (d = readdir(dir)) != NULL) {
        char disk[LY_PATH_MAX];
        struct stat st;

        if (d->d_name[0] == '.' || strcmp(d->d_name, "build") == 0 ||
            strcmp(d->d_name, "run") == 0)
            continue;
        snprintf(disk, sizeof(disk), "%s/%s", r->root, d->d_name);
        if (stat(disk, &st) == 0 && S_ISDIR(st.st_mode))
            s = walk(r, d->d_name, 1, e);
    }
    closedir(dir);
    return s;
}

static int by_rel(const void *a, const void *b)
{
    return strcmp(((const ly_file *)a)->rel, ((const ly_file *)b)->rel);
}

static ly_header *find_header(ly_run *r, const char *name)
{
    for (int i = 0; i < r->nheaders; i++)
        if (strcmp(r->headers[i].name, name) == 0)
            return &r->headers[i];
    return NULL;
}

static status add_header(ly_run *r, const char *name, const char *folder,
                         const char *rel, err *e)
{
    ly_header *h = find_header(r, name);
    status s;

    if (h != NULL) {
        problem(r, rel != NULL ? rel : folder, 0,
                "header name %s is also %s%s%s; includes name headers by "
                "file name alone, so each name must be unique",
                name, h->rel != NULL ? h->rel : "generated in ",
                h->rel != NULL ? "" : h->folder, h->rel != NULL ? "" : "/");
        return ST_OK;
    }
    s = grow((void **)&r->headers, &r->capheaders, r->nheaders,
             sizeof(*r->headers), e);
    if (s != ST_OK)
        return s;
    h = &r->headers[r->nheaders++];
    snprintf(h->name, sizeof(h->name), "%s", name);
    snprintf(h->folder, sizeof(h->folder), "%s", folder);
    h->rel = rel;
    return ST_OK;
}

static status read_file(const char *path, char **out, long *len, err *e)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    long n;
    status s = ST_OK;

    if (f == NULL)
        return err_set(e, ST_IO, "%s: cannot open: %s", path, strerror(errno));
    if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 ||
        fseek(f, 0, SEEK_SET) != 0) {
        s = err_set(e, ST_IO, "%s: cannot read: %s", path, strerror(errno));
        goto out;
    }
    if (n > LY_FILE_MAX) {
        s = err_set(e, ST_IO, "%s: larger than %ld bytes", path, LY_FILE_MAX);
        goto out;
    }
    if ((buf = malloc((size_t)n + 1)) == NULL) {
        s = err_set(e, ST_NOMEM, "out of memory");
        goto out;
    }
    if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
        s = err_set(e, ST_IO, "%s: cannot read: %s", path, strerror(errno));
        goto out;
    }
    buf[n] = '\0';
    *out = buf;
    *len = n;
    buf = NULL;
out:
    free(buf);
    fclose(f);
    return s;
}

/*
 * The generated headers: a folder whose CMakeLists.txt calls
 * tl_sql_embed(TARGET PREFIX DIR) owns PREFIX_sql.h (cmake/tl_sql.cmake).
 */
static status generated_headers(ly_run *r, const char *folder, err *e)
{
    char path[LY_PATH_MAX];
    char *text = NULL, *p;
    long len;
    struct stat st;
    status s = ST_OK;

    snprintf(path, sizeof(path), "%s/%s/CMakeLists.txt", r->root, folder);
    if (stat(path, &st) != 0)
        return ST_OK;
    if ((s = read_file(path, &text, &len, e)) != ST_OK)
        return s;
    for (p = strstr(text, "tl_sql_embed("); p != NULL && s == ST_OK;
         p = strstr(p + 1, "tl_sql_embed(")) {
        char target[LY_NAME_MAX], prefix[LY_NAME_MAX - 8], name[LY_NAME_MAX];

        if (p > text && p[-1] != '\n' && p[-1] != ' ')
            continue; /* the word inside another, or the function() itself */
        if (sscanf(p + strlen("tl_sql_embed("), "%127s %119[a-z0-9_]", target,
                   prefix) != 2)
            continue;
        snprintf(name, sizeof(name), "%s_sql.h", prefix);
        s = add_header(r, name, folder, NULL, e);
    }
    free(text);
    return s;
}

/*
 * Blank out comments (keeping newlines, so lines still count) and leave
 * string and character literals as they are.
 */
static void strip_comments(char *t)
{
    char quote = 0;

    for (char *p = t; *p != '\0'; p++) {
        if (quote != 0) {
            if (*p == '\\' && p[1] != '\0')
                p++;
            else if (*p == quote || *p == '\n')
                quote = 0;
        } else if (*p == '"' || *p == '\'') {
            quote = *p;
        } else if (p[0] == '/' && p[1] == '/') {
            for (; *p != '\0' && *p != '\n'; p++)
                *p = ' ';
            if (*p == '\0')
                break;
        } else if (p[0] == '/' && p[1] == '*') {
            p[0] = p[1] = ' ';
            for (p += 2; *p != '\0' && !(p[0] == '*' && p[1] == '/'); p++)
                if (*p != '\n')
                    *p = ' ';
            if (*p == '\0')
                break;
            p[0] = p[1] = ' ';
            p++;
        }
    }
}

static bool ident_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c == '_';
}

/* Tokens of the comment-free text t; *out is the caller's (free). */
static status tokenize(const char *t, ly_token **out, int *n, err *e)
{
    ly_token *toks = NULL;
    int ntoks = 0, cap = 0, line = 1;
    bool line_start = true, directive = false;
    const char *p = t;

    while (*p != '\0') {
        ly_token k = {.text = p, .line = line, .directive = directive};
        status s;

        if (*p == '\n') {
            if (!(p > t && p[-1] == '\\'))
                directive = false;
            line++;
            line_start = true;
            p++;
            continue;
        }
        if (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\f' || *p == '\v' ||
            *p == '\\') {
            p++;
            continue;
        }
        if (line_start && *p == '#')
            directive = k.directive = true;
        line_start = false;
        if (ident_char(*p) && !(*p >= '0' && *p <= '9')) {
            k.kind = TK_IDENT;
            while (ident_char(*p))
                p++;
        } else if (*p >= '0' && *p <= '9') {
            k.kind = TK_NUMBER;
            while (ident_char(*p) || *p == '.')
                p++;
        } else if (*p == '"' || *p == '\'') {
            char q = *p++;

            k.kind = q == '"' ? TK_STRING : TK_CHAR;
            while (*p != '\0' && *p != q && *p != '\n') {
                if (*p == '\\' && p[1] != '\0')
                    p++;
                p++;
            }
            if (*p == q)
                p++;
        } else {
            k.kind = TK_PUNCT;
            p++;
        }
        k.len = (int)(p - k.text);
        if ((s = grow((void **)&toks, &cap, ntoks, sizeof(*toks), e)) !=
            ST_OK) {
            free(toks);
            return s;
        }
        toks[ntoks++] = k;
    }
    *out = toks;
    *n = ntoks;
    return ST_OK;
}

static bool tok_is(const ly_token *k, const char *s)
{
    return k->len == (int)strlen(s) && strncmp(k->text, s, (size_t)k->len) == 0;
}

/*
 * The arguments of the call whose '(' is toks[open]: first[i] and last[i]
 * bound argument i. Returns the number of arguments (at most LY_ARGS_MAX
 * are kept), -1 when the call does not close.
 */
static int call_args(const ly_token *toks, int n, int open, int first[],
                     int last[])
{
    int depth = 0, nargs = 0, start = open + 1;

    for (int i = open; i < n; i++) {
        if (tok_is(&toks[i], "(") || tok_is(&toks[i], "[") ||
            tok_is(&toks[i], "{"))
            depth++;
        else if (tok_is(&toks[i], ")") || tok_is(&toks[i], "]") ||
                 tok_is(&toks[i], "}"))
            depth--;
        /* An argument ends at a ',' of the call or at its ')'; a call
         * without arguments has none. An empty argument's first token is
         * the ',' or ')' after it. */
        if ((depth == 1 && tok_is(&toks[i], ",")) ||
            (depth == 0 && (i > open + 1 || nargs > 0))) {
            if (nargs < LY_ARGS_MAX) {
                first[nargs] = start;
                last[nargs] = i > start ? i - 1 : start;
            }
            nargs++;
            start = i + 1;
        }
        if (depth == 0)
            return nargs;
    }
    return -1;
}

/* Rules (b) and (c) on the tokens of file f. */
static void check_sql(ly_run *r, const ly_file *f, const ly_token *toks, int n)
{
    static const char *const readers[] = {"db_val", "db_i64", "db_bool",
                                          "db_null", NULL};

    /* "db_stmt name =" (or "name[] =") defines a statement in C; only the
     * build's generated files may, and they are not in the tree. */
    for (int i = 0; i + 2 < n; i++)
        if (toks[i].kind == TK_IDENT && tok_is(&toks[i], "db_stmt") &&
            toks[i + 1].kind == TK_IDENT &&
            (tok_is(&toks[i + 2], "=") || tok_is(&toks[i + 2], "[")))
            problem(r, f->rel, toks[i].line,
                    "db_stmt %.*s is defined in C; move the statement to "
                    "%s/sql/<name>.sql with a \"-- columns:\" line "
                    "(cmake/tl_sql.cmake)",
                    toks[i + 1].len, toks[i + 1].text, f->folder);
    for (int i = 0; i + 1 < n; i++) {
        const ly_token *k = &toks[i];
        int first[LY_ARGS_MAX], last[LY_ARGS_MAX], nargs;
        bool reader = false;

        if (k->kind != TK_IDENT || k->directive || !tok_is(&toks[i + 1], "("))
            continue;
        for (int j = 0; readers[j] != NULL; j++)
            reader = reader || tok_is(k, readers[j]);
        if (tok_is(k, "DB_STMT")) {
            problem(r, f->rel, k->line,
                    "DB_STMT holds SQL in C; move the statement to "
                    "%s/sql/<name>.sql with a \"-- columns:\" line "
                    "(cmake/tl_sql.cmake)",
                    f->folder);
            continue;
        }
        if (!reader && !tok_is(k, "db_query") && !tok_is(k, "db_exec"))
            continue;
        nargs = call_args(toks, n, i + 1, first, last);
        if (reader && nargs == 3) {
            int a = first[2], b = last[2];

            while (b > a && tok_is(&toks[a], "(") && tok_is(&toks[b], ")"))
                a++, b--;
            if (a == b && toks[a].kind == TK_NUMBER)
                problem(r, f->rel, k->line,
                        "%.*s reads column %.*s by number; declare the "
                        "statement's columns (\"-- columns:\" in its .sql "
                        "file) and read through the generated enum",
                        k->len, k->text, toks[a].len, toks[a].text);
        } else if (!reader && nargs >= 2 && toks[first[1]].kind == TK_STRING &&
                   !(tok_is(k, "db_exec") &&
                     in_list(r->rules->exec_exempt_files, f->rel))) {
            problem(r, f->rel, k->line,
                    "%.*s is given SQL text in C; move the statement to "
                    "%s/sql/<name>.sql and run it with db_run "
                    "(cmake/tl_sql.cmake)",
                    k->len, k->text, f->folder);
        }
    }
}

/* "common <- {contracts, staffing} <- ...", the levels in order. */
static void chain(const layering_rules *rules, char *buf, size_t cap)
{
    size_t used = 0;
    int prev = -1;

    buf[0] = '\0';
    for (;;) {
        int level = -1, count = 0;

        for (int i = 0; i < rules->nfolders; i++)
            if (rules->folders[i].level > prev &&
                (level < 0 || rules->folders[i].level < level))
                level = rules->folders[i].level;
        if (level < 0)
            break;
        for (int i = 0; i < rules->nfolders; i++)
            count += rules->folders[i].level == level;
        used +=
            (size_t)snprintf(buf + used, used < cap ? cap - used : 0, "%s%s",
                             prev >= 0 ? " <- " : "", count > 1 ? "{" : "");
        for (int i = 0, k = 0; i < rules->nfolders; i++)
            if (rules->folders[i].level == level)
                used += (size_t)snprintf(
                    buf + used, used < cap ? cap - used : 0, "%s%s",
                    k++ > 0 ? ", " : "", rules->folders[i].name);
        if (count > 1)
            used +=
                (size_t)snprintf(buf + used, used < cap ? cap - used : 0, "}");
        prev = level;
    }
}

static bool excepted(const ly_run *r, const ly_file *f, const char *folder)
{
    for (int i = 0; i < r->rules->nexceptions; i++)
        if (strcmp(r->rules->exceptions[i].file, f->rel) == 0 &&
            strcmp(r->rules->exceptions[i].folder, folder) == 0)
            return true;
    return false;
}

static status add_edge(ly_run *r, int file, int line, const char *name, err *e)
{
    status s =
        grow((void **)&r->edges, &r->capedges, r->nedges, sizeof(*r->edges), e);
    ly_edge *g;

    if (s != ST_OK)
        return s;
    g = &r->edges[r->nedges++];
    g->from = g->to = -1;
    g->file = file;
    g->line = line;
    snprintf(g->name, sizeof(g->name), "%s", name);
    return ST_OK;
}

/* The entry of module in a layered folder, or NULL. */
static const layering_module *layer_of(const ly_run *r, const char *folder,
                                       const char *module)
{
    for (int i = 0; i < r->rules->nmodules; i++)
        if (strcmp(r->rules->modules[i].folder, folder) == 0 &&
            strcmp(r->rules->modules[i].module, module) == 0)
            return &r->rules->modules[i];
    return NULL;
}

static bool layered(const ly_run *r, const char *folder)
{
    for (int i = 0; i < r->rules->nmodules; i++)
        if (strcmp(r->rules->modules[i].folder, folder) == 0)
            return true;
    return false;
}

/* Rule (d) for an include of header h (of f's own folder) at line. */
static void check_layer(ly_run *r, const ly_file *f, int line,
                        const ly_header *h)
{
    const layering_module *from, *to;
    char mod[LY_NAME_MAX];

    if (h->rel == NULL || !layered(r, f->folder))
        return; /* a generated header, or a folder without layers */
    snprintf(mod, sizeof(mod), "%.*s", (int)strlen(h->name) - 2, h->name);
    from = layer_of(r, f->folder, f->module);
    to = layer_of(r, f->folder, mod);
    if (strcmp(mod, f->module) == 0 || from == NULL || to == NULL ||
        to->layer > from->layer)
        return; /* a module without a layer is reported once, apart */
    problem(r, f->rel, line,
            "includes \"%s\" (layer %d) from layer %d; inside %s/ a module "
            "includes only modules of layers below its own "
            "(tests/layering/layering_rules.c)",
            h->name, to->layer, from->layer, f->folder);
}

/* Rule (d): every module of a layered folder has a layer, and every
 * module given a layer has a file. */
static void check_layered_modules(ly_run *r)
{
    for (int i = 0; i < r->nfiles; i++) {
        const ly_file *f = &r->files[i];
        bool seen = false;

        if (!layered(r, f->folder) || layer_of(r, f->folder, f->module) != NULL)
            continue;
        for (int j = 0; j < i && !seen; j++)
            seen = strcmp(r->files[j].folder, f->folder) == 0 &&
                   strcmp(r->files[j].module, f->module) == 0;
        if (!seen)
            problem(r, f->rel, 0,
                    "module %s has no layer in %s/; give it one "
                    "(tests/layering/layering_rules.c)",
                    f->module, f->folder);
    }
    for (int i = 0; i < r->rules->nmodules; i++) {
        const layering_module *m = &r->rules->modules[i];
        bool found = false;

        for (int j = 0; j < r->nfiles && !found; j++)
            found = strcmp(r->files[j].folder, m->folder) == 0 &&
                    strcmp(r->files[j].module, m->module) == 0;
        if (!found) {
            char where[LY_NAME_MAX + 1];

            snprintf(where, sizeof(where), "%s/", m->folder);
            problem(r, where, 0,
                    "module %s has a layer but no file; remove it "
                    "(tests/layering/layering_rules.c)",
                    m->module);
        }
    }
}

/* Rule (a) for one include of file fi at line. */
static status check_include(ly_run *r, int fi, int line, const char *name,
                            err *e)
{
    const ly_file *f = &r->files[fi];
    const layering_folder *from = product(r, f->folder), *to;
    const ly_header *h = find_header(r, name);
    char levels[LY_CHAIN_MAX];

    if (h == NULL)
        return ST_OK; /* not a header of the tree: a library's */
    if (strcmp(h->folder, f->folder) == 0) {
        check_layer(r, f, line, h);
        return add_edge(r, fi, line, name, e);
    }
    if (in_list(r->rules->free_folders, h->folder)) {
        problem(r, f->rel, line,
                "includes \"%s\" of %s/, which only tests and benchmarks "
                "may use",
                name, h->folder);
        return ST_OK;
    }
    to = product(r, h->folder);
    if (to == NULL || to->level < from->level || excepted(r, f, h->folder))
        return ST_OK;
    chain(r->rules, levels, sizeof(levels));
    problem(r, f->rel, line,
            "includes \"%s\" of %s/, %s %s/; folders include only "
            "downwards: %s",
            name, h->folder,
            to->level == from->level ? "a sibling of" : "above", f->folder,
            levels);
    return ST_OK;
}

/* The #include "name" lines of the comment-free text of file fi. */
static status check_includes(ly_run *r, int fi, const char *t, err *e)
{
    int line = 1;
    status s = ST_OK;

    for (const char *p = t; *p != '\0' && s == ST_OK; line++) {
        const char *q = p, *end;

        while (*q == ' ' || *q == '\t')
            q++;
        if (*q == '#') {
            q++;
            while (*q == ' ' || *q == '\t')
                q++;
            if (strncmp(q, "include", 7) == 0) {
                q += 7;
                while (*q == ' ' || *q == '\t')
                    q++;
                if (*q == '"' && (end = strchr(q + 1, '"')) != NULL &&
                    end - q - 1 < LY_NAME_MAX &&
                    memchr(q, '\n', (size_t)(end - q)) == NULL) {
                    char name[LY_NAME_MAX];
                    const char *base;

                    snprintf(name, sizeof(name), "%.*s", (int)(end - q - 1),
                             q + 1);
                    base = strrchr(name, '/');
                    s = check_include(r, fi, line,
                                      base != NULL ? base + 1 : name, e);
                }
            }
        }
        p = strchr(p, '\n');
        if (p == NULL)
            break;
        p++;
    }
    return s;
}

static status check_file(ly_run *r, int fi, err *e)
{
    const ly_file *f = &r->files[fi];
    char *text = NULL;
    ly_token *toks = NULL;
    int ntoks = 0;
    long len;
    status s;

    if ((s = read_file(f->disk, &text, &len, e)) != ST_OK)
        return s;
    strip_comments(text);
    if ((s = check_includes(r, fi, text, e)) != ST_OK)
        goto out;
    if (in_list(r->rules->sql_pending, f->folder))
        goto out;
    if ((s = tokenize(text, &toks, &ntoks, e)) != ST_OK)
        goto out;
    check_sql(r, f, toks, ntoks);
out:
    free(toks);
    free(text);
    return s;
}

/* ---- cycles between the modules of one folder ---- */

typedef struct ly_graph {
    char (*names)[LY_NAME_MAX];
    int n;
    int *edge; /* edge[from * n + to]: an index into run.edges, or -1 */
    int *index, *low, *stack, *comp;
    bool *on;
    int nstack, next, ncomp;
} ly_graph;

static void strong(ly_graph *g, int v)
{
    g->index[v] = g->low[v] = g->next++;
    g->stack[g->nstack++] = v;
    g->on[v] = true;
    for (int w = 0; w < g->n; w++) {
        if (g->edge[v * g->n + w] < 0)
            continue;
        if (g->index[w] < 0) {
            strong(g, w);
            if (g->low[w] < g->low[v])
                g->low[v] = g->low[w];
        } else if (g->on[w] && g->index[w] < g->low[v]) {
            g->low[v] = g->index[w];
        }
    }
    if (g->low[v] == g->index[v]) {
        int w;

        do {
            w = g->stack[--g->nstack];
            g->on[w] = false;
            g->comp[w] = g->ncomp;
        } while (w != v);
        g->ncomp++;
    }
}

/* Report one cycle through start inside its strong component. */
static void report_cycle(ly_run *r, const ly_graph *g, int start)
{
    int *prev = malloc((size_t)g->n * sizeof(int));
    int *queue = malloc((size_t)g->n * sizeof(int));
    int *path = malloc((size_t)g->n * sizeof(int));
    int npath = 0, head = 0, tail = 0, last = -1;
    char modules[LY_MSG_MAX / 2], where[LY_MSG_MAX / 2];
    size_t mu = 0, wu = 0;
    const ly_edge *first = NULL;

    if (prev == NULL || queue == NULL || path == NULL)
        goto out;
    for (int i = 0; i < g->n; i++)
        prev[i] = -2;
    queue[tail++] = start;
    prev[start] = -1;
    /* Breadth first from start to a module that includes start back. */
    while (head < tail && last < 0) {
        int v = queue[head++];

        for (int w = 0; w < g->n; w++) {
            if (g->edge[v * g->n + w] < 0 || g->comp[w] != g->comp[start])
                continue;
            if (w == start) {
                last = v;
                break;
            }
            if (prev[w] == -2) {
                prev[w] = v;
                queue[tail++] = w;
            }
        }
    }
    if (last < 0)
        goto out;
    for (int v = last; v >= 0 && npath < g->n; v = prev[v])
        path[npath++] = v;
    /* path holds last ... start; print start ... last, start. */
    for (int i = npath - 1; i >= 0; i--) {
        int from = path[i], to = i > 0 ? path[i - 1] : start;
        const ly_edge *x = &r->edges[g->edge[from * g->n + to]];

        if (first == NULL)
            first = x;
        mu += (size_t)snprintf(modules + mu,
                               mu < sizeof(modules) ? sizeof(modules) - mu : 0,
                               "%s -> ", g->names[from]);
        wu += (size_t)snprintf(
            where + wu, wu < sizeof(where) ? sizeof(where) - wu : 0,
            "%s%s:%d includes \"%s\"", i < npath - 1 ? "; " : "",
            r->files[x->file].rel, x->line, x->name);
    }
    snprintf(modules + (mu < sizeof(modules) ? mu : sizeof(modules) - 1),
             mu < sizeof(modules) ? sizeof(modules) - mu : 1, "%s",
             g->names[start]);
    problem(r, r->files[first->file].rel, first->line,
            "include cycle in %s/: %s (%s); a module may include only "
            "modules that do not include it back",
            r->files[first->file].folder, modules, where);
out:
    free(prev);
    free(queue);
    free(path);
}

static int module_of(const ly_graph *g, const char *name)
{
    for (int i = 0; i < g->n; i++)
        if (strcmp(g->names[i], name) == 0)
            return i;
    return -1;
}

static status check_cycles(ly_run *r, const char *folder, err *e)
{
    ly_graph g = {0};
    size_t n2;
    status s = ST_OK;

    g.names = calloc((size_t)r->nfiles, sizeof(*g.names));
    if (g.names == NULL)
        return err_set(e, ST_NOMEM, "out of memory");
    for (int i = 0; i < r->nfiles; i++)
        if (strcmp(r->files[i].folder, folder) == 0 &&
            module_of(&g, r->files[i].module) < 0)
            snprintf(g.names[g.n++], LY_NAME_MAX, "%s", r->files[i].module);
    n2 = (size_t)g.n * (size_t)g.n;
    g.edge = malloc((n2 > 0 ? n2 : 1) * sizeof(int));
    g.index = malloc(((size_t)g.n + 1) * sizeof(int));
    g.low = malloc(((size_t)g.n + 1) * sizeof(int));
    g.stack = malloc(((size_t)g.n + 1) * sizeof(int));
    g.comp = malloc(((size_t)g.n + 1) * sizeof(int));
    g.on = calloc((size_t)g.n + 1, sizeof(bool));
    if (g.edge == NULL || g.index == NULL || g.low == NULL || g.stack == NULL ||
        g.comp == NULL || g.on == NULL) {
        s = err_set(e, ST_NOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < n2; i++)
        g.edge[i] = -1;
    for (int i = 0; i < g.n; i++)
        g.index[i] = -1;
    for (int i = 0; i < r->nedges; i++) {
        const ly_file *f = &r->files[r->edges[i].file];
        char mod[LY_NAME_MAX];
        int from, to;

        if (strcmp(f->folder, folder) != 0)
            continue;
        snprintf(mod, sizeof(mod), "%.*s", (int)strlen(r->edges[i].name) - 2,
                 r->edges[i].name);
        from = module_of(&g, f->module);
        to = module_of(&g, mod);
        if (from >= 0 && to >= 0 && from != to && g.edge[from * g.n + to] < 0)
            g.edge[from * g.n + to] = i;
    }
    for (int v = 0; v < g.n; v++)
        if (g.index[v] < 0)
            strong(&g, v);
    for (int c = 0; c < g.ncomp; c++) {
        int first = -1, size = 0;

        for (int v = 0; v < g.n; v++)
            if (g.comp[v] == c) {
                size++;
                if (first < 0 || strcmp(g.names[v], g.names[first]) < 0)
                    first = v;
            }
        if (size > 1)
            report_cycle(r, &g, first);
    }
out:
    free(g.names);
    free(g.edge);
    free(g.index);
    free(g.low);
    free(g.stack);
    free(g.comp);
    free(g.on);
    return s;
}

status layering_check(const char *root, const layering_rules *rules,
                      const layering_extra *extras, int nextras, FILE *report,
                      int *problems, int *files, err *e)
{
    ly_run r = {.root = root, .rules = rules, .report = report};
    char folder[LY_NAME_MAX] = "";
    status s;

    if ((s = walk_root(&r, e)) != ST_OK)
        goto out;
    for (int i = 0; i < nextras; i++)
        if ((s = add_file(&r, extras[i].as, extras[i].path, e)) != ST_OK)
            goto out;
    qsort(r.files, (size_t)r.nfiles, sizeof(*r.files), by_rel);
    /* Every folder with sources has a place: a level, or free. */
    for (int i = 0; i < r.nfiles; i++) {
        const ly_file *f = &r.files[i];

        if (strcmp(f->folder, folder) == 0)
            continue;
        snprintf(folder, sizeof(folder), "%s", f->folder);
        if (product(&r, folder) == NULL &&
            !in_list(rules->free_folders, folder)) {
            char where[LY_NAME_MAX + 1];

            snprintf(where, sizeof(where), "%s/", folder);
            problem(&r, where, 0,
                    "holds C sources but has no place in the layering; give "
                    "it a level in layering_twinline "
                    "(tests/layering/layering_rules.c)");
        } else if ((s = generated_headers(&r, folder, e)) != ST_OK)
            goto out;
    }
    for (int i = 0; i < r.nfiles; i++)
        if (r.files[i].header &&
            (s = add_header(&r, strrchr(r.files[i].rel, '/') + 1,
                            r.files[i].folder, r.files[i].rel, e)) != ST_OK)
            goto out;
    for (int i = 0; i < r.nfiles; i++)
        if (product(&r, r.files[i].folder) != NULL &&
            (s = check_file(&r, i, e)) != ST_OK)
            goto out;
    check_layered_modules(&r);
    for (int i = 0; i < rules->nfolders; i++)
        if (!in_list(rules->cycle_pending, rules->folders[i].name) &&
            (s = check_cycles(&r, rules->folders[i].name, e)) != ST_OK)
            goto out;
    if (problems != NULL)
        *problems = r.problems;
    if (files != NULL)
        *files = r.nfiles;
out:
    for (int i = 0; i < r.nfiles; i++) {
        free(r.files[i].rel);
        free(r.files[i].disk);
    }
    free(r.files);
    free(r.headers);
    free(r.edges);
    return s;
}
