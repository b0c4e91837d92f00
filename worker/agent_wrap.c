#include "agent_wrap.h"

#include <stdbool.h>
#include <string.h>
#include <wchar.h>

/* One character of the text: its code point, bytes and columns. */
typedef struct uchar {
    unsigned cp;
    int len;
    int cols;
} uchar;

/* East Asian wide ranges, for when wcwidth does not know a character
 * (a locale that is not UTF-8): a Chinese line must not be measured as
 * half its width and run off the screen. */
static bool wide_fallback(unsigned cp)
{
    return (cp >= 0x1100 && cp <= 0x115F) || (cp >= 0x2E80 && cp <= 0xA4CF) ||
           (cp >= 0xAC00 && cp <= 0xD7A3) || (cp >= 0xF900 && cp <= 0xFAFF) ||
           (cp >= 0xFE30 && cp <= 0xFE4F) || (cp >= 0xFF00 && cp <= 0xFF60) ||
           (cp >= 0xFFE0 && cp <= 0xFFE6) || (cp >= 0x20000 && cp <= 0x3FFFD);
}

static int cols_of(unsigned cp)
{
    int w;

    if (cp < 0x20 || cp == 0x7F)
        return 1; /* the screen draws control bytes as spaces */
    if (cp < 0x7F)
        return 1;
    w = wcwidth((wchar_t)cp);
    if (w < 0)
        return wide_fallback(cp) ? 2 : 1;
    return w;
}

/* The character at s[i] (i < n); a byte that starts no valid UTF-8
 * sequence is one character of one column. */
static uchar char_at(const char *s, size_t n, size_t i)
{
    const unsigned char *u = (const unsigned char *)s + i;
    uchar c = {u[0], 1, 1};
    int len = u[0] >= 0xF0 && u[0] <= 0xF4   ? 4
              : u[0] >= 0xE0 && u[0] <= 0xEF ? 3
              : u[0] >= 0xC2 && u[0] <= 0xDF ? 2
                                             : 1;
    unsigned cp = len == 4   ? u[0] & 0x07u
                  : len == 3 ? u[0] & 0x0Fu
                             : u[0] & 0x1Fu;

    if (u[0] < 0x80 || len == 1) {
        c.cols = cols_of(u[0] < 0x80 ? u[0] : 0xFFFD);
        return c;
    }
    if ((size_t)len > n - i)
        return c;
    for (int k = 1; k < len; k++) {
        if ((u[k] & 0xC0) != 0x80)
            return c;
        cp = (cp << 6) | (u[k] & 0x3Fu);
    }
    if ((len == 3 && cp < 0x800) ||
        (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
        (cp >= 0xD800 && cp <= 0xDFFF))
        return c;
    c.cp = cp;
    c.len = len;
    c.cols = cols_of(cp);
    return c;
}

int agent_wrap_width(const char *s, size_t n)
{
    int cols = 0;

    for (size_t i = 0; i < n;) {
        uchar c = char_at(s, n, i);

        cols += c.cols;
        i += (size_t)c.len;
    }
    return cols;
}

/* Marks that close something: they stay with what comes before. */
static bool no_start(unsigned cp)
{
    static const unsigned marks[] = {
        0x3001, 0x3002, 0xFF0C, 0xFF0E, 0xFF1A, 0xFF1B, 0xFF01, 0xFF1F, 0xFF09,
        0x300D, 0x300F, 0x300B, 0x3009, 0x3011, 0x201D, 0x2019, 0x2026, 0x30FB,
        ',',    '.',    ';',    ':',    '!',    '?',    ')',    ']',    '}'};

    for (size_t i = 0; i < sizeof(marks) / sizeof(marks[0]); i++)
        if (marks[i] == cp)
            return true;
    return false;
}

/* Marks that open something: they stay with what comes after. */
static bool no_end(unsigned cp)
{
    static const unsigned marks[] = {0xFF08, 0x300C, 0x300E, 0x300A,
                                     0x3008, 0x3010, 0x201C, 0x2018,
                                     '(',    '[',    '{'};

    for (size_t i = 0; i < sizeof(marks) / sizeof(marks[0]); i++)
        if (marks[i] == cp)
            return true;
    return false;
}

static void put_row(agent_wrap_row *rows, int cap, int *nrows, agent_wrap_row r)
{
    if (*nrows < cap)
        rows[*nrows] = r;
    (*nrows)++;
}

int agent_wrap(const char *s, size_t n, int width, int hang,
               agent_wrap_row *rows, int cap)
{
    size_t ls = 0;
    int nrows = 0;
    bool first = true;

    if (width < 1)
        width = 1;
    if (hang > width / 2)
        hang = width / 2;
    if (hang < 0)
        hang = 0;
    for (;;) {
        int indent = first ? 0 : hang, avail = width - indent, col = 0;
        size_t i, end = n, brk = 0, cut;
        unsigned prev = 0;
        int prev_cols = 0;

        /* The spaces at a break are not drawn. */
        while (!first && ls < n && s[ls] == ' ')
            ls++;
        if (!first && ls >= n)
            break;
        for (i = ls; i < n;) {
            uchar c = char_at(s, n, i);

            /* Where the row may end, before c. */
            if (i > ls && c.cp == ' ' && prev != ' ')
                brk = i;
            else if (i > ls && c.cp != ' ' && prev != ' ' &&
                     (c.cols == 2 || prev_cols == 2) && !no_start(c.cp) &&
                     !no_end(prev) && c.cols > 0)
                brk = i;
            if (col + c.cols > avail) {
                if (brk > ls)
                    end = brk;
                else /* a word longer than the row; one too wide goes alone */
                    end = i > ls ? i : i + (size_t)c.len;
                break;
            }
            col += c.cols;
            prev = c.cp;
            prev_cols = c.cols;
            i += (size_t)c.len;
        }
        cut = end;
        while (cut > ls && s[cut - 1] == ' ')
            cut--;
        put_row(rows, cap, &nrows,
                (agent_wrap_row){ls, cut - ls, indent,
                                 indent + agent_wrap_width(s + ls, cut - ls)});
        if (end >= n)
            break;
        ls = end;
        first = false;
    }
    return nrows;
}

int agent_wrap_hang(const char *s, size_t n, int width)
{
    size_t k = 0;
    int hang;

    while (k < n && s[k] == ' ')
        k++;
    hang = (int)k + 2;
    return hang > width / 3 ? width / 3 : hang;
}

int agent_wrap_items(const char *s, const char *sep, int width,
                     agent_wrap_row *rows, int cap)
{
    size_t n = strlen(s), sl = strlen(sep), i = 0;
    int nrows = 0, sepw = agent_wrap_width(sep, sl);
    agent_wrap_row row = {0, 0, 0, 0};
    bool open = false;

    for (;;) {
        const char *q = sl > 0 ? strstr(s + i, sep) : NULL;
        size_t ie = q != NULL ? (size_t)(q - s) : n;
        int w = agent_wrap_width(s + i, ie - i);

        if (open && row.cols + sepw + w <= width) {
            row.len = ie - row.off;
            row.cols += sepw + w;
        } else {
            if (open)
                put_row(rows, cap, &nrows, row);
            open = false;
            if (w <= width) {
                row = (agent_wrap_row){i, ie - i, 0, w};
                open = true;
            } else {
                int room = cap - nrows > 0 ? cap - nrows : 0;
                int k = agent_wrap(s + i, ie - i, width, 2,
                                   room > 0 ? rows + nrows : NULL, room);

                for (int j = 0; j < k && j < room; j++)
                    rows[nrows + j].off += i;
                nrows += k;
            }
        }
        if (q == NULL)
            break;
        i = ie + sl;
    }
    if (open)
        put_row(rows, cap, &nrows, row);
    return nrows;
}
