/*
 * Text wrapping for the interactive agent's screen (docs/agent.md,
 * "Working interactively"): UTF-8 lines cut into rows of a terminal's
 * width, measured in columns with wcwidth(3), so a Chinese character takes
 * two columns.
 *
 *   - Latin text breaks at spaces; the spaces at a break are not drawn.
 *   - A wide (CJK) character may break before or after it, except that a
 *     closing mark (，。、；：！？）」』》 and the like) never starts a row
 *     and an opening one (（「『《) never ends one.
 *   - A word longer than a row is cut at the row's end (at a character
 *     boundary), so nothing is ever lost off the right edge.
 *   - Rows after the first are indented by a hanging indent.
 *
 * Pure functions over caller's buffers; no allocation. The columns of a
 * character depend on LC_CTYPE being a UTF-8 locale (the screen sets one);
 * when wcwidth does not know a character, East Asian wide ranges count 2
 * and anything else 1. Bytes that are not UTF-8 count 1 each.
 */
#ifndef TL_AGENT_WRAP_H
#define TL_AGENT_WRAP_H

#include <stddef.h>

/* One row: bytes s[off, off + len) drawn after indent blank columns,
 * taking cols columns in all (indent included). */
typedef struct agent_wrap_row {
    size_t off;
    size_t len;
    int indent;
    int cols;
} agent_wrap_row;

/* Display columns of s[0..n). */
int agent_wrap_width(const char *s, size_t n);

/*
 * Wrap s[0..n) (one line: no '\n') into rows of at most width columns
 * (width >= 1); rows after the first are indented by hang columns (at most
 * width / 2). Writes at most cap rows and returns how many the text needs
 * (at least 1: an empty line is one empty row).
 */
int agent_wrap(const char *s, size_t n, int width, int hang,
               agent_wrap_row *rows, int cap);

/* The hanging indent of a line: its leading spaces plus 2 columns, at
 * most width / 3. */
int agent_wrap_hang(const char *s, size_t n, int width);

/*
 * Pack a list of items separated by sep (" · " on the key line) into rows
 * of at most width columns without cutting an item: a row holds whole
 * items with their separators, and the separator at a break is not
 * drawn. An item wider than a row is wrapped on its own (agent_wrap, hang
 * 2). Returns how many rows are needed; writes at most cap.
 */
int agent_wrap_items(const char *s, const char *sep, int width,
                     agent_wrap_row *rows, int cap);

#endif
