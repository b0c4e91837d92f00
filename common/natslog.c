#include "natslog.h"

#include <string.h>

/* A cursor over the line. */
typedef struct cur {
    const char *p, *end;
} cur;

const char *natslog_kind_name(natslog_kind k)
{
    switch (k) {
    case NATSLOG_PUBLISH:
        return "publish";
    case NATSLOG_SUBSCRIBE:
        return "subscribe";
    case NATSLOG_AUTH:
        return "auth";
    }
    return "unknown";
}

/* Step past lit when the cursor is at it. */
static bool take(cur *c, const char *lit)
{
    size_t n = strlen(lit);

    if ((size_t)(c->end - c->p) < n || memcmp(c->p, lit, n) != 0)
        return false;
    c->p += n;
    return true;
}

/* Move the cursor just past the first lit at or after it. */
static bool skip_to(cur *c, const char *lit)
{
    size_t n = strlen(lit);

    for (const char *q = c->p; (size_t)(c->end - q) >= n; q++)
        if (memcmp(q, lit, n) == 0) {
            c->p = q + n;
            return true;
        }
    return false;
}

/*
 * A quoted field after its opening quote, as Go's %q writes it, up to the
 * closing quote: \" \\ \n \t and \r are unescaped, any other escape is kept
 * as written. At most cap - 1 bytes are kept (the rest is read and
 * dropped); out ends with a NUL. False when the line ends first.
 */
static bool quoted(cur *c, char *out, size_t cap)
{
    size_t n = 0;

    while (c->p < c->end) {
        char ch = *c->p++;

        if (ch == '"') {
            out[n] = '\0';
            return true;
        }
        if (ch == '\\' && c->p < c->end) {
            char esc = *c->p++;

            if (esc == 'n')
                ch = '\n';
            else if (esc == 't')
                ch = '\t';
            else if (esc == 'r')
                ch = '\r';
            else if (esc == '"' || esc == '\\')
                ch = esc;
            else {
                if (n + 1 < cap)
                    out[n++] = '\\';
                ch = esc;
            }
        }
        if (n + 1 < cap)
            out[n++] = ch;
    }
    return false;
}

/* A user nkey: "U" and 55 base32 characters. */
static bool user_key(const char *k)
{
    if (strlen(k) != NKEY_PUBLIC_LEN || k[0] != 'U')
        return false;
    for (int i = 1; i < NKEY_PUBLIC_LEN; i++)
        if (!((k[i] >= 'A' && k[i] <= 'Z') || (k[i] >= '2' && k[i] <= '7')))
            return false;
    return true;
}

/* The client's identity after the marker: Nkey "U..." (kept when it is a
 * user key) or User "..." (not kept). */
static bool who(cur *c, natslog_event *out)
{
    char buf[NATSLOG_CLIENT_MAX + 1];

    out->public_key[0] = '\0';
    if (take(c, "Nkey \"")) {
        if (!quoted(c, buf, sizeof(buf)))
            return false;
        if (user_key(buf))
            memcpy(out->public_key, buf, NKEY_PUBLIC_LEN + 1);
        return true;
    }
    if (take(c, "User \""))
        return quoted(c, buf, sizeof(buf));
    return false;
}

bool natslog_parse(const char *line, size_t len, natslog_event *out)
{
    cur c = {line, line + len};

    if (line == NULL || len > NATSLOG_LINE_MAX)
        return false;
    memset(out, 0, sizeof(*out));
    /* "[pid] date time [ERR] host:port - cid:N - " */
    if (!skip_to(&c, " [ERR] ") || !skip_to(&c, " - cid:"))
        return false;
    while (c.p < c.end && *c.p >= '0' && *c.p <= '9')
        c.p++;
    if (!take(&c, " - "))
        return false;
    /* The connection's name, quoted, when it has one. */
    if (take(&c, "\"")) {
        if (!quoted(&c, out->client, sizeof(out->client)) || !take(&c, " - "))
            return false;
    }
    if (take(&c, "Publish Violation - "))
        out->kind = NATSLOG_PUBLISH;
    else if (take(&c, "Subscription Violation - "))
        out->kind = NATSLOG_SUBSCRIBE;
    else if (take(&c, "authentication error"))
        out->kind = NATSLOG_AUTH;
    else
        return false;
    if (out->kind == NATSLOG_AUTH) {
        /* Without credentials the server may say no more than that. */
        if (take(&c, " - "))
            return who(&c, out);
        return c.p == c.end;
    }
    return who(&c, out) && take(&c, ", Subject \"") &&
           quoted(&c, out->subject, sizeof(out->subject));
}
