/* The NATS authorization generator: permissions per role, the config text
 * and the identity list parser. itest_natsauth proves the config on a real
 * nats-server. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "natsauth.h"
#include "nkey.h"
#include "tl_test.h"

#define K1   "UDLVVGABQKYQVN6VJP7NHSLEA45A5YLS6PNKMIZFV4BBU2HXA5IRUVAL"
#define K2   "UC43IHJWANQHD6GQ7V4MMTXCIOPI6BYZ3CQBCFY665VWYNWRVYQD2YUU"
#define SEED "SUAJ2YNRTXX72WTAXKCEV5ES5QWMIRCJYVUXWMTJDFYDXLADDSXH6YALCA"

static natsauth_identity ident(const char *id, natsauth_role r,
                               const char *party, const char *key)
{
    natsauth_identity x;

    memset(&x, 0, sizeof(x));
    snprintf(x.id, sizeof(x.id), "%s", id);
    x.role = r;
    snprintf(x.party, sizeof(x.party), "%s", party);
    snprintf(x.public_key, sizeof(x.public_key), "%s", key);
    return x;
}

static void test_roles(void **state)
{
    natsauth_role r;
    err e = {0};

    (void)state;
    for (int i = 0; i < NATSAUTH__ROLES; i++) {
        assert_int_equal(natsauth_role_parse(natsauth_role_name(i), &r, &e),
                         ST_OK);
        assert_int_equal(r, i);
    }
    assert_int_equal(natsauth_role_parse("root", &r, &e), ST_INVALID);
    assert_non_null(strstr(e.msg, "roles: dispatcher, billing"));
    assert_int_equal(natsauth_role_parse(NULL, &r, &e), ST_INVALID);
    assert_string_equal(natsauth_role_name((natsauth_role)99), "unknown");
}

static void expect_refused(natsauth_identity x, const char *words)
{
    err e = {0};

    assert_int_equal(natsauth_identity_check(&x, &e), ST_INVALID);
    if (strstr(e.msg, words) == NULL)
        fail_msg("\"%s\" not in \"%s\"", words, e.msg);
    assert_null(strstr(e.msg, "SUAJ2Y"));
}

static void test_identity_check(void **state)
{
    natsauth_identity ok = ident("w007", NATSAUTH_WORKER, "w007", K1);
    err e = {0};

    (void)state;
    assert_int_equal(natsauth_identity_check(&ok, &e), ST_OK);
    expect_refused(ident("w 7", NATSAUTH_WORKER, "w007", K1),
                   "identity \"w 7\"");
    expect_refused(ident("t1", NATSAUTH_TENANT, "-", K1), "tenant's id \"-\"");
    expect_refused(ident("t1", NATSAUTH_TENANT, "a.b", K1), "tenant's id");
    expect_refused(ident("dsp", NATSAUTH_DISPATCHER, "jsbank", K1),
                   "party is \"-\"");
    expect_refused(ident("dsp", NATSAUTH_DISPATCHER, "-", "UABC"),
                   "identity dsp: a public nkey has 56");
    expect_refused(ident("dsp", (natsauth_role)42, "-", K1), "no known role");
}

/* Expect the lists of p to be exactly pub and sub (NULL-terminated). */
static void expect_perms(const natsauth_perms *p, const char *const *pub,
                         const char *const *sub, bool responses)
{
    int i;

    for (i = 0; pub[i] != NULL; i++) {
        assert_true(i < p->npub);
        assert_string_equal(p->pub[i], pub[i]);
    }
    assert_int_equal(p->npub, i);
    for (i = 0; sub[i] != NULL; i++) {
        assert_true(i < p->nsub);
        assert_string_equal(p->sub[i], sub[i]);
    }
    assert_int_equal(p->nsub, i);
    assert_int_equal(p->allow_responses, responses);
}

static void perms(natsauth_identity x, natsauth_perms *p)
{
    err e = {0};

    if (natsauth_permissions("tl", &x, p, &e) != ST_OK)
        fail_msg("%s", e.msg);
}

static void test_permissions_per_role(void **state)
{
    natsauth_perms p;
    natsauth_identity x = ident("w007", NATSAUTH_WORKER, "w007", K1);
    err e = {0};

    (void)state;
    perms(ident("dsp", NATSAUTH_DISPATCHER, "-", K1), &p);
    expect_perms(&p,
                 (const char *const[]){"tl.worker.>", "tl.stats.>", "tl.evt.>",
                                       "$JS.API.>", NULL},
                 (const char *const[]){"_INBOX_dsp.>", "tl.api.>", "tl.agent.>",
                                       "tl.ops.>", "tl.admin.>", NULL},
                 true);
    perms(ident("bil", NATSAUTH_BILLING, "-", K1), &p);
    expect_perms(&p,
                 (const char *const[]){
                     "$JS.API.STREAM.CREATE.TL_EVENTS",
                     "$JS.API.STREAM.UPDATE.TL_EVENTS",
                     "$JS.API.STREAM.INFO.TL_EVENTS",
                     "$JS.API.CONSUMER.INFO.TL_EVENTS.billing",
                     "$JS.API.CONSUMER.DURABLE.CREATE.TL_EVENTS.billing",
                     "$JS.API.CONSUMER.CREATE.TL_EVENTS.billing.>",
                     "$JS.API.CONSUMER.MSG.NEXT.TL_EVENTS.billing",
                     "$JS.ACK.TL_EVENTS.billing.>", NULL},
                 (const char *const[]){"_INBOX_bil.>", NULL}, true);
    perms(ident("jsbank-core", NATSAUTH_TENANT, "jsbank", K1), &p);
    expect_perms(&p,
                 (const char *const[]){
                     "tl.api.jsbank.>",
                     "$JS.API.CONSUMER.INFO.TL_EVENTS.events_jsbank",
                     "$JS.API.CONSUMER.MSG.NEXT.TL_EVENTS.events_jsbank",
                     "$JS.ACK.TL_EVENTS.events_jsbank.>", NULL},
                 (const char *const[]){"_INBOX_jsbank-core.>", NULL}, false);
    perms(ident("op-acme", NATSAUTH_OPERATOR, "acme", K1), &p);
    expect_perms(&p, (const char *const[]){"tl.ops.acme.>", NULL},
                 (const char *const[]){"_INBOX_op-acme.>", NULL}, false);
    perms(x, &p);
    expect_perms(
        &p, (const char *const[]){"tl.agent.w007.>", NULL},
        (const char *const[]){"_INBOX_w007.>", "tl.worker.w007.>", NULL},
        false);
    perms(ident("admin", NATSAUTH_ADMIN, "-", K1), &p);
    expect_perms(
        &p, (const char *const[]){"tl.api.>", "tl.ops.>", "tl.admin.>", NULL},
        (const char *const[]){"_INBOX_admin.>", "tl.stats.>", NULL}, false);
    /* The console forwards what the keys it checked may ask, publishes
     * and reads its alerts, reads the dispatcher's figures and its own
     * webhook consumer, and nothing else of JetStream. */
    perms(ident("console", NATSAUTH_CONSOLE, "-", K1), &p);
    expect_perms(&p,
                 (const char *const[]){
                     "tl.api.*.>", "tl.ops.*.>", "tl.alerts.*",
                     "$JS.API.CONSUMER.INFO.TL_EVENTS.console_hooks",
                     "$JS.API.CONSUMER.DURABLE.CREATE.TL_EVENTS.console_hooks",
                     "$JS.API.CONSUMER.CREATE.TL_EVENTS.console_hooks.>",
                     "$JS.API.CONSUMER.MSG.NEXT.TL_EVENTS.console_hooks",
                     "$JS.ACK.TL_EVENTS.console_hooks.>", NULL},
                 (const char *const[]){"_INBOX_console.>",
                                       "tl.stats.dispatcher", "tl.alerts.*",
                                       NULL},
                 false);
    expect_refused(ident("console", NATSAUTH_CONSOLE, "acme", K1),
                   "speaks for the installation");
    assert_int_equal(natsauth_permissions("t.l", &x, &p, &e), ST_INVALID);
    assert_non_null(strstr(e.msg, "prefix"));
}

static void test_names(void **state)
{
    char buf[96];

    (void)state;
    natsauth_inbox_prefix("w007", buf, sizeof(buf));
    assert_string_equal(buf, "_INBOX_w007");
    natsauth_stream_name("demo-1", buf, sizeof(buf));
    assert_string_equal(buf, "DEMO-1_EVENTS");
    natsauth_events_consumer("jsbank", buf, sizeof(buf));
    assert_string_equal(buf, "events_jsbank");
}

static void test_config_text(void **state)
{
    natsauth_identity ids[3] = {
        ident("dsp", NATSAUTH_DISPATCHER, "-", K1),
        ident("w007", NATSAUTH_WORKER, "w007", K2),
    };
    char *conf = NULL;
    err e = {0};

    (void)state;
    assert_int_equal(natsauth_config("tl", ids, 2, &conf, &e), ST_OK);
    assert_non_null(strstr(conf, "authorization {\n  users = [\n"));
    assert_non_null(
        strstr(conf, "# dsp: dispatcher -\n    {\n      nkey: \"" K1 "\"\n"));
    assert_non_null(strstr(conf, "publish: { allow: [\"tl.agent.w007.>\"] }"));
    assert_non_null(strstr(conf, "subscribe: { allow: [\"_INBOX_w007.>\", "
                                 "\"tl.worker.w007.>\"] }"));
    /* Only the dispatcher answers requests. */
    assert_non_null(strstr(conf, "allow_responses: true"));
    assert_null(strstr(strstr(conf, "# w007"), "allow_responses"));
    free(conf);

    /* Nothing that would open the server or mix identities up. */
    assert_int_equal(natsauth_config("tl", ids, 0, &conf, &e), ST_INVALID);
    assert_non_null(strstr(e.msg, "let anyone in"));
    ids[2] = ident("w007", NATSAUTH_WORKER, "w008", K1);
    assert_int_equal(natsauth_config("tl", ids, 3, &conf, &e), ST_INVALID);
    assert_non_null(strstr(e.msg, "identity w007 is listed twice"));
    ids[2] = ident("w008", NATSAUTH_WORKER, "w008", K1);
    assert_int_equal(natsauth_config("tl", ids, 3, &conf, &e), ST_INVALID);
    assert_non_null(strstr(e.msg, "w008 has the public key of identity dsp"));
    ids[2] = ident("w008", NATSAUTH_WORKER, "w008", SEED);
    assert_int_equal(natsauth_config("tl", ids, 3, &conf, &e), ST_INVALID);
    assert_null(strstr(e.msg, "SUAJ2Y"));
    assert_int_equal(natsauth_config("", ids, 2, &conf, &e), ST_INVALID);
    assert_int_equal(
        natsauth_config("tl", ids, NATSAUTH_MAX_IDENTITIES + 1, &conf, &e),
        ST_INVALID);
}

/* The reload probe: one more user that may do nothing, with a key of its
 * own. */
static void test_config_probe(void **state)
{
    natsauth_identity ids[2] = {
        ident("dsp", NATSAUTH_DISPATCHER, "-", K1),
        ident("w007", NATSAUTH_WORKER, "w007", K2),
    };
    nkey *probe = NULL;
    char *conf = NULL, *at;
    err e = {0};

    (void)state;
    assert_int_equal(nkey_generate(&probe, &e), ST_OK);
    assert_int_equal(
        natsauth_config_probed("tl", ids, 2, nkey_public(probe), &conf, &e),
        ST_OK);
    at = strstr(conf, nkey_public(probe));
    assert_non_null(at);
    assert_non_null(strstr(at, "publish: { deny: [\">\"] }"));
    assert_non_null(strstr(at, "subscribe: { deny: [\">\"] }"));
    assert_null(strstr(at, "allow"));
    free(conf);
    nkey_destroy(probe);
    assert_int_equal(natsauth_config_probed("tl", ids, 2, K2, &conf, &e),
                     ST_INVALID);
    assert_non_null(strstr(e.msg, "key of identity w007"));
    assert_int_equal(natsauth_config_probed("tl", ids, 2, SEED, &conf, &e),
                     ST_INVALID);
    assert_int_equal(natsauth_config_probed("tl", ids, 0, NULL, &conf, &e),
                     ST_INVALID);
}

static status parse(const char *text, size_t *n, err *e)
{
    natsauth_identity *ids = NULL;
    status s = natsauth_list_parse(text, strlen(text), &ids, n, e);

    free(ids);
    return s;
}

static void expect_list(const char *text, status want, const char *words)
{
    size_t n = 0;
    err e = {0};

    assert_int_equal(parse(text, &n, &e), want);
    if (strstr(e.msg, words) == NULL)
        fail_msg("\"%s\" not in \"%s\"", words, e.msg);
    assert_null(strstr(e.msg, "SUAJ2Y"));
}

static void test_list_parse(void **state)
{
    natsauth_identity *ids = NULL;
    const char *good = "# identity role party key\n"
                       "\n"
                       "dsp dispatcher - " K1 "\r\n"
                       "  w007\tworker   w007 " K2 "  \n";
    size_t n = 0;
    char *big;
    err e = {0};

    (void)state;
    assert_int_equal(natsauth_list_parse(good, strlen(good), &ids, &n, &e),
                     ST_OK);
    assert_int_equal(n, 2);
    assert_string_equal(ids[1].id, "w007");
    assert_int_equal(ids[1].role, NATSAUTH_WORKER);
    assert_string_equal(ids[1].party, "w007");
    assert_string_equal(ids[1].public_key, K2);
    free(ids);
    assert_int_equal(parse("", &n, &e), ST_OK);
    assert_int_equal(n, 0);

    expect_list("dsp dispatcher " K1 "\n", ST_INVALID,
                "line 1: expected 4 fields");
    expect_list("\ndsp dispatcher - " K1 " extra\n", ST_INVALID,
                "line 2: expected 4 fields (identity role party public_key), "
                "found more than 4");
    expect_list("dsp root - " K1 "\n", ST_INVALID, "line 1: role \"root\"");
    expect_list("dsp dispatcher - " K1 "\nw7 worker w7 " K2 "\n"
                "dsp billing - " K2 "\n",
                ST_INVALID, "line 3: identity dsp is already listed on line 1");
    expect_list("dsp dispatcher - " K1 "\nw7 worker w7 " K1 "\n", ST_INVALID,
                "line 2: identity w7 has the public key of identity dsp "
                "(line 1)");
    expect_list("w7 worker w7 " SEED "\n", ST_INVALID,
                "line 1: a seed (\"S...\") was given where a public key");
    expect_list("w7 worker - " K1 "\n", ST_INVALID,
                "line 1: identity w7: the worker's id");
    expect_list("w7 worker w7 " K1 "x\n", ST_INVALID, "line 1: a public nkey");
    expect_list("w.7 worker w7 " K1 "\n", ST_INVALID, "line 1: identity");
    assert_int_equal(natsauth_list_parse("w7 worker w7 \0\n", 15, &ids, &n, &e),
                     ST_INVALID);
    assert_non_null(strstr(e.msg, "NUL"));

    big = malloc(NATSAUTH_MAX_IDENTITIES * 80 + 200);
    assert_non_null(big);
    memset(big, 'a', 600);
    big[600] = '\0';
    expect_list(big, ST_INVALID, "line 1 is longer than 512 bytes");
    /* One identity too many (the same key: the count is checked first). */
    big[0] = '\0';
    for (size_t i = 0, at = 0; i <= NATSAUTH_MAX_IDENTITIES; i++)
        at += (size_t)sprintf(big + at, "w%zu worker w%zu %s\n", i, i, K1);
    expect_list(big, ST_TOO_LARGE, "line 100001: more than 100000");
    free(big);
    assert_int_equal(
        natsauth_list_parse("x", NATSAUTH_LIST_MAX + 1, &ids, &n, &e),
        ST_TOO_LARGE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roles),
        cmocka_unit_test(test_identity_check),
        cmocka_unit_test(test_permissions_per_role),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_config_text),
        cmocka_unit_test(test_config_probe),
        cmocka_unit_test(test_list_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
