#include "cmd_invoice.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "cli_args.h"
#include "cli_pdf.h"
#include "cli_table.h"
#include "db.h"
#include "ids.h"
#include "invoice.h"
#include "money.h"
#include "signer.h"

#define EXIT_USAGE ADMIN_EXIT_USAGE

static const char invoice_usage[] =
    "usage: twinline invoice keygen --out DIR\n"
    "       twinline invoice close --tenant T --period YYYY-MM --key DIR "
    "[--early]\n"
    "       twinline invoice list [--tenant T]\n"
    "       twinline invoice show ID [--format json|csv|html|pdf] [--out "
    "FILE]\n"
    "       twinline invoice verify --file FILE --pubkey PUBFILE\n"
    "       twinline invoice verify --id ID --pubkey PUBFILE\n"
    "       twinline invoice credit --invoice ID --reason TEXT "
    "[--line N]... --key DIR\n"
    "\n"
    "Invoices and credit notes per tenant per period, numbered without gaps\n"
    "per series, immutable once issued, signed with Ed25519 (docs/"
    "invoices.md).\n"
    "`twinline invoice SUBCOMMAND --help` describes one.\n";

static const char keygen_usage[] =
    "usage: twinline invoice keygen --out DIR\n"
    "\n"
    "Create an Ed25519 signing key pair in DIR (created 0700 if missing):\n"
    "DIR/invoice.key (secret, mode 0600) and DIR/invoice.pub (give this to\n"
    "whoever verifies). Never overwrites an existing key. Prints the key "
    "id.\n";

static const char close_usage[] =
    "usage: twinline invoice close --tenant T --period YYYY-MM --key DIR "
    "[--early]\n"
    "\n"
    "Close tenant T's month: every billable line created in it (UTC) and\n"
    "not invoiced yet, the month's complaint penalties and, when a price\n"
    "plan's monthly minimum was not reached, its top-up, go on one invoice\n"
    "per seller (the operator), currency and payment terms, with the tax\n"
    "of each line's contract. Each is numbered (next in the tenant's\n"
    "series), signed with DIR/invoice.key and issued. A period closes\n"
    "once; a period with nothing to invoice is an error and changes\n"
    "nothing.\n"
    "  --early   close a month that has not ended yet (lines billed later\n"
    "            in it will not be invoiced)\n";

static const char list_usage[] =
    "usage: twinline invoice list [--tenant T]\n"
    "\n"
    "List invoices and credit notes: reference, seller, period, lines, net,\n"
    "tax and gross totals, due date, issue time and signing key.\n";

static const char show_usage[] =
    "usage: twinline invoice show ID [--format json|csv|html|pdf] "
    "[--out FILE]\n"
    "\n"
    "Export an issued invoice or credit note (ID as in `invoice list`).\n"
    "  json  the signed document (default): what `invoice verify --file`\n"
    "        checks\n"
    "  csv   one row per line, amounts as decimals and minor units\n"
    "  html  a readable document for a finance team, printable on A4\n"
    "  pdf   the HTML printed by headless Chromium (needs --out)\n"
    "  --out FILE  write to FILE instead of standard output\n";

static const char verify_usage[] =
    "usage: twinline invoice verify --file FILE --pubkey PUBFILE\n"
    "       twinline invoice verify --id ID --pubkey PUBFILE\n"
    "\n"
    "Check an invoice's SHA-256 hash and Ed25519 signature with the public\n"
    "key file (invoice.pub): an exported JSON file, or a stored document\n"
    "re-derived from the database. Exit status 0 when valid, 1 when not\n"
    "(the message says what does not match).\n";

static const char credit_usage[] =
    "usage: twinline invoice credit --invoice ID --reason TEXT [--line N]... "
    "--key DIR\n"
    "\n"
    "Issue a credit note correcting issued invoice ID: the lines numbered\n"
    "N (repeat --line; the `line` column of the export), or every line not\n"
    "credited yet. Its amounts are the negated lines; it is numbered in\n"
    "the tenant's credit-note series and signed with DIR/invoice.key.\n";

/* The --line values of a credit note as line numbers; 0 or an exit code. */
static int line_numbers(const cli_args *a, const char *usage, int64_t *lines,
                        int *n)
{
    for (int i = 0; i < a->nrepeated; i++)
        if (!ids_parse_i64(a->repeated[i], &lines[i]))
            return cli_usage_error(usage,
                                   "--line \"%s\" must be a line number "
                                   "(1, 2, ...)",
                                   a->repeated[i]);
    *n = a->nrepeated;
    return 0;
}

/* ---- keygen ---- */

static int cmd_keygen(int argc, char **argv, const config *cfg)
{
    cli_opt o[] = {{"--out", true, NULL, false}};
    char key_id[SIGNER_KEY_ID_LEN + 1];
    err e = {0};
    cli_args a;
    int rc = cli_args_parse(argc, argv, 2, cfg, o, 1, NULL, keygen_usage, &a);

    if (rc != 0)
        return rc;
    if (a.help)
        return cli_help(keygen_usage);
    if (!o[0].set || a.npos > 0)
        return cli_usage_error(keygen_usage, "%s", "give --out DIR");
    if (signer_keygen(o[0].value, key_id, &e) != ST_OK)
        return cli_fail(&e);
    printf("key %s: secret %s/%s (keep it private), public %s/%s\n", key_id,
           o[0].value, SIGNER_SECRET_FILE, o[0].value, SIGNER_PUBLIC_FILE);
    return 0;
}

/* ---- close ---- */

static int cmd_close(int argc, char **argv, const config *cfg)
{
    cli_opt o[] = {{"--tenant", true, NULL, false},
                   {"--period", true, NULL, false},
                   {"--key", true, NULL, false},
                   {"--early", false, NULL, false}};
    invoice_closed res;
    signer *sg = NULL;
    db *d = NULL;
    err e = {0};
    cli_args a;
    int rc = cli_args_parse(argc, argv, 2, cfg, o, 4, NULL, close_usage, &a);

    if (rc != 0)
        return rc;
    if (a.help)
        return cli_help(close_usage);
    if (!o[0].set || !o[1].set || !o[2].set || a.npos > 0)
        return cli_usage_error(
            close_usage, "%s",
            "give --tenant T, --period YYYY-MM and --key DIR");
    if (signer_load(&sg, o[2].value, &e) != ST_OK)
        return cli_fail(&e);
    if ((rc = cli_connect_db(&a, &d, NULL)) != 0)
        goto out;
    if (invoice_close_period(d, o[0].value, o[1].value, sg, NULL,
                             o[3].set ? INVOICE_CLOSE_EARLY : 0, &res,
                             &e) != ST_OK) {
        rc = cli_fail(&e);
        goto out;
    }
    printf("period %s of %s closed: %d lines on %d invoice%s", o[1].value,
           o[0].value, res.lines, res.n, res.n == 1 ? "" : "s");
    if (res.minimums > 0)
        printf(" (%d monthly-minimum top-up%s)", res.minimums,
               res.minimums == 1 ? "" : "s");
    printf("\n");
    for (int i = 0; i < res.n; i++) {
        char ref[INVOICE_REF_MAX];

        printf("  id %" PRId64 "  %s\n", res.ids[i],
               invoice_doc_reference(ref, false, o[0].value, res.numbers[i]));
        if (res.incomplete[i])
            printf("  note: %s lacks the seller's or the buyer's address or "
                   "tax id, which an accounts payable department asks for; "
                   "add \"legal\" to the operator and the tenant "
                   "(docs/config.md) before the next close\n",
                   ref);
    }
out:
    db_close(d);
    signer_destroy(sg);
    return rc;
}

/* ---- list ---- */

static int cmd_list(int argc, char **argv, const config *cfg)
{
    enum { NCOLS = 12 };
    static const char *const heads[NCOLS] = {
        "id",  "reference", "kind",  "seller", "period",   "lines",
        "net", "tax",       "gross", "due",    "corrects", "issued"};
    cli_opt o[] = {{"--tenant", true, NULL, false}};
    invoice_summary *rows = NULL;
    cli_table *t = NULL;
    db *d = NULL;
    err e = {0};
    cli_args a;
    int n = 0;
    int rc = cli_args_parse(argc, argv, 2, cfg, o, 1, NULL, list_usage, &a);

    if (rc != 0)
        return rc;
    if (a.help)
        return cli_help(list_usage);
    if (a.npos > 0)
        return cli_usage_error(list_usage, "unexpected argument %s", a.pos[0]);
    if ((rc = cli_connect_db(&a, &d, NULL)) != 0)
        return rc;
    if (invoice_list(d, o[0].value, &rows, &n, &e) != ST_OK ||
        cli_table_create(&t, NCOLS, heads, &e) != ST_OK) {
        rc = cli_fail(&e);
        goto out;
    }
    cli_table_right(t, 0);
    for (int c = 5; c <= 8; c++)
        cli_table_right(t, c);
    for (int i = 0; i < n; i++) {
        char id[24], lines[24], corr[24];
        char net[MONEY_FORMAT_MAX], tax[MONEY_FORMAT_MAX];
        char gross[MONEY_FORMAT_MAX];
        const invoice_summary *x = &rows[i];
        int64_t g = 0;
        const char *cells[NCOLS];

        if (__builtin_add_overflow(x->total_minor, x->tax_minor, &g))
            g = 0;
        cells[0] = db_i64_str(id, x->id);
        cells[1] = x->reference;
        cells[2] = x->credit_note ? "credit_note" : "invoice";
        cells[3] = x->seller;
        cells[4] = x->period;
        cells[5] = db_i64_str(lines, x->line_count);
        cells[6] = money_format(net, sizeof(net), x->currency, x->total_minor);
        cells[7] = money_format(tax, sizeof(tax), x->currency, x->tax_minor);
        cells[8] = money_format(gross, sizeof(gross), x->currency, g);
        cells[9] = x->due_date;
        cells[10] = x->corrects_id > 0 ? db_i64_str(corr, x->corrects_id) : "";
        cells[11] = x->issued ? x->issued_at : "draft";
        if (cli_table_add(t, cells, &e) != ST_OK) {
            rc = cli_fail(&e);
            goto out;
        }
    }
    if (n == 0)
        printf("no invoices%s%s; close a period with: twinline invoice "
               "close --tenant T --period YYYY-MM --key DIR\n",
               o[0].set ? " for tenant " : "", o[0].set ? o[0].value : "");
    else
        cli_table_print(t, stdout);
out:
    cli_table_destroy(t);
    free(rows);
    db_close(d);
    return rc;
}

/* ---- show ---- */

/* Export id as a PDF into path: the HTML rendering, written into a
 * private temporary directory, printed by Chromium (cli_pdf.h). */
static status export_pdf(db *d, int64_t id, const char *path, err *e)
{
    const char *tmpdir = getenv("TMPDIR");
    char dir[4096], html[4200];
    FILE *f = NULL;
    status s;

    snprintf(dir, sizeof(dir), "%s/twinline-invoice-XXXXXX",
             tmpdir != NULL && tmpdir[0] != '\0' ? tmpdir : "/tmp");
    if (mkdtemp(dir) == NULL)
        return err_set(e, ST_IO, "create a temporary directory: %s",
                       strerror(errno));
    snprintf(html, sizeof(html), "%s/invoice.html", dir);
    if ((f = fopen(html, "w")) == NULL) {
        s = err_set(e, ST_IO, "create %s: %s", html, strerror(errno));
        goto out;
    }
    s = invoice_export(d, id, INVOICE_FMT_PDF, f, e);
    if (fclose(f) != 0 && s == ST_OK)
        s = err_set(e, ST_IO, "write %s: %s", html, strerror(errno));
    if (s == ST_OK)
        s = cli_pdf_print(html, path, e);
    remove(html);
out:
    rmdir(dir);
    return s;
}

static int cmd_show(int argc, char **argv, const config *cfg)
{
    cli_opt o[] = {{"--format", true, NULL, false},
                   {"--out", true, NULL, false}};
    invoice_format fmt = INVOICE_FMT_JSON;
    char tmp[4200];
    FILE *f = stdout;
    int64_t id = 0;
    db *d = NULL;
    err e = {0};
    cli_args a;
    int rc = cli_args_parse(argc, argv, 2, cfg, o, 2, NULL, show_usage, &a);

    if (rc != 0)
        return rc;
    if (a.help)
        return cli_help(show_usage);
    if (a.npos != 1 || !ids_parse_i64(a.pos[0], &id))
        return cli_usage_error(show_usage, "%s",
                               "give the document's ID (a positive number from "
                               "`twinline invoice list`)");
    if (o[0].set && invoice_format_parse(o[0].value, &fmt, &e) != ST_OK)
        return cli_usage_error(show_usage, "%s", e.msg);
    if (fmt == INVOICE_FMT_PDF && !o[1].set)
        return cli_usage_error(show_usage, "%s",
                               "--format pdf writes a file: give --out "
                               "FILE.pdf");
    if ((rc = cli_connect_db(&a, &d, NULL)) != 0)
        return rc;
    if (fmt == INVOICE_FMT_PDF) {
        if (export_pdf(d, id, o[1].value, &e) != ST_OK)
            rc = cli_fail(&e);
        goto out;
    }
    if (o[1].set) {
        /* Write beside the target and rename, so FILE is never half a
         * document. */
        if (snprintf(tmp, sizeof(tmp), "%s.tmp", o[1].value) >=
            (int)sizeof(tmp)) {
            rc = cli_usage_error(show_usage, "%s", "--out path is too long");
            goto out;
        }
        if ((f = fopen(tmp, "w")) == NULL) {
            err_set(&e, ST_IO, "create %s: %s", tmp, strerror(errno));
            rc = cli_fail(&e);
            goto out;
        }
    }
    if (invoice_export(d, id, fmt, f, &e) != ST_OK)
        rc = cli_fail(&e);
    if (f != stdout) {
        if (fclose(f) != 0 && rc == 0) {
            err_set(&e, ST_IO, "write %s: %s", tmp, strerror(errno));
            rc = cli_fail(&e);
        }
        if (rc == 0 && rename(tmp, o[1].value) != 0) {
            err_set(&e, ST_IO, "rename %s: %s", tmp, strerror(errno));
            rc = cli_fail(&e);
        }
        if (rc != 0)
            remove(tmp);
    }
out:
    db_close(d);
    return rc;
}

/* ---- verify ---- */

static status read_file(const char *path, char **out, size_t *len, err *e)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t cap = 0, n = 0;
    status s = ST_OK;

    if (f == NULL)
        return err_set(e, ST_IO, "open %s: %s", path, strerror(errno));
    for (;;) {
        size_t got;

        if (n == cap) {
            char *nb;

            if (cap >= INVOICE_DOC_MAX) {
                s = err_set(e, ST_TOO_LARGE,
                            "%s is larger than %u bytes; not an invoice", path,
                            INVOICE_DOC_MAX);
                break;
            }
            cap = cap == 0 ? 65536 : cap * 2;
            if ((nb = realloc(buf, cap + 1)) == NULL) {
                s = err_set(e, ST_NOMEM, "no memory to read %s", path);
                break;
            }
            buf = nb;
        }
        got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0) {
            if (ferror(f))
                s = err_set(e, ST_IO, "read %s: %s", path, strerror(errno));
            break;
        }
    }
    fclose(f);
    if (s != ST_OK) {
        free(buf);
        return s;
    }
    *out = buf;
    *len = n;
    return ST_OK;
}

static int cmd_verify(int argc, char **argv, const config *cfg)
{
    cli_opt o[] = {{"--file", true, NULL, false},
                   {"--id", true, NULL, false},
                   {"--pubkey", true, NULL, false}};
    unsigned char pk[SIGNER_PK_BYTES];
    char ref[INVOICE_REF_MAX];
    char key_id[SIGNER_KEY_ID_LEN + 1];
    char *buf = NULL;
    size_t len = 0;
    int64_t id = 0;
    db *d = NULL;
    err e = {0};
    status s;
    cli_args a;
    int rc = cli_args_parse(argc, argv, 2, cfg, o, 3, NULL, verify_usage, &a);

    if (rc != 0)
        return rc;
    if (a.help)
        return cli_help(verify_usage);
    if (o[0].set == o[1].set || !o[2].set || a.npos > 0)
        return cli_usage_error(
            verify_usage, "%s",
            "give --pubkey PUBFILE and either --file FILE or "
            "--id ID");
    if (o[1].set && !ids_parse_i64(o[1].value, &id))
        return cli_usage_error(verify_usage,
                               "--id \"%s\" must be a positive "
                               "number",
                               o[1].value);
    if (signer_public_read(o[2].value, pk, &e) != ST_OK)
        return cli_fail(&e);
    signer_key_id_of(pk, key_id);
    if (o[0].set) {
        if ((s = read_file(o[0].value, &buf, &len, &e)) == ST_OK)
            s = invoice_verify_document(buf, len, pk, ref, &e);
        free(buf);
    } else {
        if ((rc = cli_connect_db(&a, &d, NULL)) != 0)
            return rc;
        s = invoice_verify_stored(d, id, pk, ref, &e);
        db_close(d);
    }
    if (s != ST_OK) {
        fprintf(stderr, "twinline: NOT VALID: %s\n", e.msg);
        return 1;
    }
    printf("valid: %s, hash and Ed25519 signature match, signed by key %s\n",
           ref, key_id);
    return 0;
}

/* ---- credit ---- */

static int cmd_credit(int argc, char **argv, const config *cfg)
{
    cli_opt o[] = {{"--invoice", true, NULL, false},
                   {"--reason", true, NULL, false},
                   {"--key", true, NULL, false}};
    char ref[INVOICE_REF_MAX] = "";
    invoice_summary *rows = NULL;
    int64_t inv = 0, cn = 0;
    signer *sg = NULL;
    db *d = NULL;
    err e = {0};
    int n = 0;
    cli_args *a = malloc(sizeof(*a)); /* the --line array is large */
    int64_t *lines = calloc(ADMIN_MAX_REPEATED, sizeof(int64_t));
    int nlines = 0;
    int rc;

    if (a == NULL || lines == NULL) {
        fprintf(stderr, "twinline: out of memory\n");
        return 1;
    }
    rc = cli_args_parse(argc, argv, 2, cfg, o, 3, "--line", credit_usage, a);
    if (rc != 0)
        goto out;
    if (a->help) {
        rc = cli_help(credit_usage);
        goto out;
    }
    if ((rc = line_numbers(a, credit_usage, lines, &nlines)) != 0)
        goto out;
    if (!o[0].set || !o[1].set || !o[2].set || a->npos > 0) {
        rc = cli_usage_error(credit_usage, "%s",
                             "give --invoice ID, --reason TEXT and --key DIR");
        goto out;
    }
    if (!ids_parse_i64(o[0].value, &inv)) {
        rc = cli_usage_error(credit_usage,
                             "--invoice \"%s\" must be a positive number",
                             o[0].value);
        goto out;
    }
    if (signer_load(&sg, o[2].value, &e) != ST_OK) {
        rc = cli_fail(&e);
        goto out;
    }
    if ((rc = cli_connect_db(a, &d, NULL)) != 0)
        goto out;
    if (invoice_credit_note(d, inv, lines, nlines, o[1].value, sg, NULL, &cn,
                            &e) != ST_OK) {
        rc = cli_fail(&e);
        goto out;
    }
    /* Print the note's reference as `invoice list` shows it. */
    if (invoice_list(d, NULL, &rows, &n, &e) == ST_OK) {
        for (int i = 0; i < n; i++)
            if (rows[i].id == cn)
                snprintf(ref, sizeof(ref), "%s", rows[i].reference);
    }
    printf("credit note id %" PRId64 " %s issued\n", cn, ref);
out:
    free(rows);
    db_close(d);
    signer_destroy(sg);
    free(lines);
    free(a);
    return rc;
}

/* ---- dispatch ---- */

int cmd_invoice(int argc, char **argv, const config *cfg)
{
    static const cli_command subs[] = {
        {"keygen", NULL, cmd_keygen}, {"close", NULL, cmd_close},
        {"list", NULL, cmd_list},     {"show", NULL, cmd_show},
        {"verify", NULL, cmd_verify}, {"credit", NULL, cmd_credit}};

    return cli_subcommand(argc, argv, cfg, subs,
                          (int)(sizeof(subs) / sizeof(subs[0])), invoice_usage);
}
