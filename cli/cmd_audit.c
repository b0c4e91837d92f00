#include "cmd_audit.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "auditlog.h"
#include "cli.h"
#include "cli_args.h"
#include "cli_sql.h"
#include "cli_table.h"
#include "db.h"
#include "fileio.h"
#include "ids.h"
#include "jsonx.h"

#define EXIT_USAGE   ADMIN_EXIT_USAGE
#define SHOW_DEFAULT 100
#define SHOW_MAX     100000

static const char audit_usage[] =
    "usage: twinline audit verify [--pubkey KEY]...\n"
    "       twinline audit show [--party P] [--case ID] [--since T] "
    "[--until T]\n"
    "                           [--limit N] [--json]\n"
    "       twinline audit keygen --out FILE [--signer NAME]\n"
    "       twinline audit checkpoint --key FILE\n"
    "\n"
    "The audit trail: every change of state or money made by a bank, an\n"
    "operator or a service, hash-chained, with Ed25519-signed checkpoints\n"
    "(docs/security.md, \"Audit trail\").\n"
    "`twinline audit SUBCOMMAND --help` describes one.\n";

static const char verify_usage[] =
    "usage: twinline audit verify [--pubkey KEY]...\n"
    "\n"
    "Check the whole trail: every record against its hash, every link to\n"
    "the record before, the sequence without gaps, the end against the\n"
    "chain's head, and the checkpoints signed by a trusted key. Prints\n"
    "each record found changed, inserted or deleted, with its seq; exit\n"
    "status 0 when the trail is intact, 1 when not.\n"
    "  --pubkey KEY  trust checkpoints signed by KEY: a public key (U...)\n"
    "                or the FILE.pub that `audit keygen` wrote; repeat for\n"
    "                several. Without one the checkpoints are not checked\n"
    "                and deleted last records cannot be found.\n";

static const char show_usage[] =
    "usage: twinline audit show [--party P] [--case ID] [--since T] "
    "[--until T]\n"
    "                           [--limit N] [--json]\n"
    "\n"
    "Print audit records, oldest first: the newest N (default 100) that\n"
    "pass every filter given.\n"
    "  --party P   a party (tenant:jsbank), a role (tenant, operator,\n"
    "              service, admin) or an id (jsbank)\n"
    "  --case ID   records about case ID\n"
    "  --since T   at or after T, a timestamp (2026-11-01, 2026-11-01T09:00Z)\n"
    "  --until T   before T\n"
    "  --limit N   at most N records, 1..100000\n"
    "  --json      one JSON object per line instead of a table\n";

static const char keygen_usage[] =
    "usage: twinline audit keygen --out FILE [--signer NAME]\n"
    "\n"
    "Make the Ed25519 key that signs audit checkpoints: FILE (secret, mode\n"
    "0600; give it to twinline-billing --audit-key) and FILE.pub (the\n"
    "public key; give it to twinline audit verify --pubkey). Never\n"
    "overwrites a file. NAME says who signs with it (default billing).\n";

static const char checkpoint_usage[] =
    "usage: twinline audit checkpoint --key FILE\n"
    "\n"
    "Check the records appended since the key's last checkpoint and sign a\n"
    "checkpoint over the newest (twinline-billing does this periodically;\n"
    "this is for a moment of your choosing, e.g. before a backup). A trail\n"
    "that does not check is not signed.\n";

/* ---- verify ---- */

/* A --pubkey value: the key itself, or a file holding it on its first
 * line; into pub. */
static status pubkey_of(const char *arg, char pub[NKEY_PUBLIC_LEN + 1], err *e)
{
    char *text = NULL;
    size_t len = 0;
    status s;

    if (arg[0] == 'U' && strlen(arg) == NKEY_PUBLIC_LEN) {
        if ((s = nkey_public_decode(arg, NULL, e)) != ST_OK)
            return err_wrap(e, "--pubkey %s", arg);
        snprintf(pub, NKEY_PUBLIC_LEN + 1, "%s", arg);
        return ST_OK;
    }
    s = fileio_read(arg, 4096, "public key file", &text, &len, e);
    if (s != ST_OK)
        return s;
    text[strcspn(text, "\r\n")] = '\0';
    s = nkey_public_decode(text, NULL, e);
    if (s == ST_OK)
        snprintf(pub, NKEY_PUBLIC_LEN + 1, "%s", text);
    else
        err_wrap(e, "%s must hold a public key (U...)", arg);
    free(text);
    return s;
}

static int cmd_verify(int argc, char **argv, const config *cfg)
{
    char(*pubs)[NKEY_PUBLIC_LEN + 1] = NULL;
    const char **signers = NULL;
    audit_report *rep = calloc(1, sizeof(*rep));
    cli_args *a = malloc(sizeof(*a));
    db *d = NULL;
    err e = {0};
    int rc;

    if (rep == NULL || a == NULL) {
        fprintf(stderr, "twinline: out of memory\n");
        rc = 1;
        goto out;
    }
    rc = cli_args_parse(argc, argv, 2, cfg, NULL, 0, "--pubkey", verify_usage,
                        a);
    if (rc != 0)
        goto out;
    if (a->help) {
        rc = cli_help(verify_usage);
        goto out;
    }
    if (a->npos > 0) {
        rc = cli_usage_error(verify_usage, "unexpected argument %s", a->pos[0]);
        goto out;
    }
    pubs = calloc((size_t)a->nrepeated + 1, sizeof(*pubs));
    signers = calloc((size_t)a->nrepeated + 1, sizeof(*signers));
    if (pubs == NULL || signers == NULL) {
        fprintf(stderr, "twinline: out of memory\n");
        rc = 1;
        goto out;
    }
    for (int i = 0; i < a->nrepeated; i++) {
        if (pubkey_of(a->repeated[i], pubs[i], &e) != ST_OK) {
            rc = cli_usage_error(verify_usage, "%s", e.msg);
            goto out;
        }
        signers[i] = pubs[i];
    }
    if ((rc = cli_connect_db(a, &d, NULL)) != 0)
        goto out;
    if (auditlog_verify(d, signers, (size_t)a->nrepeated, rep, &e) != ST_OK) {
        rc = cli_fail(&e);
        goto out;
    }
    if (rep->nfindings == 0) {
        printf("audit trail intact: %" PRId64 " records", rep->records);
        if (rep->records > 0)
            printf(" (seq 1 to %" PRId64 ")", rep->last_seq);
        if (a->nrepeated == 0)
            printf("; checkpoints not checked (give --pubkey)\n");
        else if (rep->vouched > 0)
            printf("; signed checkpoints vouch for seq 1 to %" PRId64 "\n",
                   rep->vouched);
        else
            printf("; no checkpoint of a trusted key yet\n");
        goto out;
    }
    printf("audit trail NOT intact: %d finding%s in %" PRId64 " records\n",
           rep->nfindings, rep->nfindings == 1 ? "" : "s", rep->records);
    for (int i = 0; i < rep->nfindings && i < AUDIT_FINDINGS_MAX; i++) {
        const audit_finding *f = &rep->findings[i];

        printf("  %-13s seq %" PRId64, audit_fault_name(f->fault), f->seq);
        if (f->last > f->seq)
            printf("-%" PRId64, f->last);
        printf(": %s\n", f->msg);
    }
    if (rep->nfindings > AUDIT_FINDINGS_MAX)
        printf("  ... and %d more\n", rep->nfindings - AUDIT_FINDINGS_MAX);
    rc = 1;
out:
    db_close(d);
    free(pubs);
    free((void *)signers);
    free(rep);
    free(a);
    return rc;
}

/* ---- show ---- */

static int cmd_show(int argc, char **argv, const config *cfg)
{
    static const char *const heads[] = {
        "seq", "at", "party", "identity", "action", "subjects", "details"};
    cli_opt o[] = {
        {"--party", true, NULL, false}, {"--case", true, NULL, false},
        {"--since", true, NULL, false}, {"--until", true, NULL, false},
        {"--limit", true, NULL, false}, {"--json", false, NULL, false}};
    char cbuf[24], lbuf[24];
    int64_t case_id = 0, limit = SHOW_DEFAULT;
    cli_table *t = NULL;
    db_res *r = NULL;
    db *d = NULL;
    err e = {0};
    cli_args a;
    int rc = cli_args_parse(argc, argv, 2, cfg, o, 6, NULL, show_usage, &a);

    if (rc != 0)
        return rc;
    if (a.help)
        return cli_help(show_usage);
    if (a.npos > 0)
        return cli_usage_error(show_usage, "unexpected argument %s", a.pos[0]);
    if (o[1].set && !ids_parse_i64(o[1].value, &case_id))
        return cli_usage_error(show_usage,
                               "--case \"%s\" must be a case id (a positive "
                               "number)",
                               o[1].value);
    if (o[4].set && (!ids_parse_i64(o[4].value, &limit) || limit > SHOW_MAX))
        return cli_usage_error(show_usage,
                               "--limit \"%s\" must be a number from 1 to "
                               "100000",
                               o[4].value);
    if ((rc = cli_connect_db(&a, &d, NULL)) != 0)
        return rc;
    {
        const char *p[5] = {
            o[0].set ? o[0].value : "", db_i64_str(cbuf, case_id),
            o[2].set ? o[2].value : "", o[3].set ? o[3].value : "",
            db_i64_str(lbuf, limit)};

        if (db_run(d, &cli_sql_audit_show, p, &r, &e) != ST_OK) {
            if (e.code == ST_INVALID)
                err_wrap(&e, "--since and --until take timestamps such as "
                             "2026-11-01 or 2026-11-01T09:00:00Z");
            rc = cli_fail(&e);
            goto out;
        }
    }
    if (o[5].set) {
        for (int i = 0; i < db_rows(r); i++) {
            json_t *details =
                json_loads(db_val(r, i, CLI_AUDIT_SHOW_DETAILS), 0, NULL);
            json_t *row = json_pack(
                "{s:I, s:s, s:s, s:s, s:s, s:s, s:o?}", "seq",
                (json_int_t)db_i64(r, i, CLI_AUDIT_SHOW_SEQ), "at",
                db_val(r, i, CLI_AUDIT_SHOW_AT), "party",
                db_val(r, i, CLI_AUDIT_SHOW_PARTY), "identity",
                db_val(r, i, CLI_AUDIT_SHOW_IDENTITY), "action",
                db_val(r, i, CLI_AUDIT_SHOW_ACTION), "subjects",
                db_val(r, i, CLI_AUDIT_SHOW_SUBJECTS), "details", details);
            char *line = row != NULL ? jsonx_dump(row) : NULL;

            json_decref(row);
            if (line == NULL) {
                err_set(&e, ST_NOMEM, "out of memory");
                rc = cli_fail(&e);
                goto out;
            }
            printf("%s\n", line);
            free(line);
        }
        goto out;
    }
    if (db_rows(r) == 0) {
        printf("no audit records%s\n",
               o[0].set || o[1].set || o[2].set || o[3].set
                   ? " pass these filters"
                   : " yet");
        goto out;
    }
    if (cli_table_create(&t, 7, heads, &e) != ST_OK) {
        rc = cli_fail(&e);
        goto out;
    }
    cli_table_right(t, 0);
    for (int i = 0; i < db_rows(r); i++) {
        const char *cells[7] = {db_val(r, i, CLI_AUDIT_SHOW_SEQ),
                                db_val(r, i, CLI_AUDIT_SHOW_AT),
                                db_val(r, i, CLI_AUDIT_SHOW_PARTY),
                                db_val(r, i, CLI_AUDIT_SHOW_IDENTITY),
                                db_val(r, i, CLI_AUDIT_SHOW_ACTION),
                                db_val(r, i, CLI_AUDIT_SHOW_SUBJECTS),
                                db_val(r, i, CLI_AUDIT_SHOW_DETAILS)};

        if (cli_table_add(t, cells, &e) != ST_OK) {
            rc = cli_fail(&e);
            goto out;
        }
    }
    cli_table_print(t, stdout);
out:
    cli_table_destroy(t);
    db_res_free(r);
    db_close(d);
    return rc;
}

/* ---- keygen, checkpoint ---- */

static int cmd_keygen(int argc, char **argv, const config *cfg)
{
    cli_opt o[] = {{"--out", true, NULL, false},
                   {"--signer", true, NULL, false}};
    char pub[NKEY_PUBLIC_LEN + 1];
    const char *signer;
    err e = {0};
    cli_args a;
    int rc = cli_args_parse(argc, argv, 2, cfg, o, 2, NULL, keygen_usage, &a);

    if (rc != 0)
        return rc;
    if (a.help)
        return cli_help(keygen_usage);
    if (!o[0].set || a.npos > 0)
        return cli_usage_error(keygen_usage, "%s", "give --out FILE");
    signer = o[1].set ? o[1].value : "billing";
    if (!ids_token_valid(signer))
        return cli_usage_error(keygen_usage,
                               "--signer \"%s\" must be 1-64 letters, digits, "
                               "'_' or '-'",
                               signer);
    if (auditlog_key_create(o[0].value, signer, pub, &e) != ST_OK)
        return cli_fail(&e);
    printf("audit key %s: secret %s (mode 0600; for twinline-billing "
           "--audit-key), public %s.pub (for twinline audit verify "
           "--pubkey)\n",
           pub, o[0].value, o[0].value);
    return 0;
}

static int cmd_checkpoint(int argc, char **argv, const config *cfg)
{
    cli_opt o[] = {{"--key", true, NULL, false}};
    auditlog_checkpointed c;
    nkey *key = NULL;
    db *d = NULL;
    err e = {0};
    cli_args a;
    int rc =
        cli_args_parse(argc, argv, 2, cfg, o, 1, NULL, checkpoint_usage, &a);

    if (rc != 0)
        return rc;
    if (a.help)
        return cli_help(checkpoint_usage);
    if (!o[0].set || a.npos > 0)
        return cli_usage_error(checkpoint_usage, "%s", "give --key FILE");
    if (auditlog_key_load(o[0].value, &key, &e) != ST_OK)
        return cli_fail(&e);
    if ((rc = cli_connect_db(&a, &d, NULL)) != 0)
        goto out;
    if (auditlog_checkpoint(d, key, &c, &e) != ST_OK) {
        rc = cli_fail(&e);
        goto out;
    }
    if (c.signed_now)
        printf("checkpoint signed at seq %" PRId64 " by %s (%" PRId64
               " records checked since the key's last one)\n",
               c.seq, nkey_public(key), c.checked);
    else if (c.seq > 0)
        printf("nothing appended since the checkpoint at seq %" PRId64 "\n",
               c.seq);
    else
        printf("the audit trail is empty; nothing to sign\n");
out:
    db_close(d);
    nkey_destroy(key);
    return rc;
}

/* ---- dispatch ---- */

int cmd_audit(int argc, char **argv, const config *cfg)
{
    static const cli_command subs[] = {{"verify", NULL, cmd_verify},
                                       {"show", NULL, cmd_show},
                                       {"keygen", NULL, cmd_keygen},
                                       {"checkpoint", NULL, cmd_checkpoint}};

    return cli_subcommand(argc, argv, cfg, subs,
                          (int)(sizeof(subs) / sizeof(subs[0])), audit_usage);
}
