/* The common layer: status codes, strict JSON, maps, string tables. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "fileio.h"
#include "i64map.h"
#include "ids.h"
#include "jsonx.h"
#include "sbuf.h"
#include "strtab.h"
#include "tl_test.h"

static void test_status_codes_are_stable(void **state)
{
    err e = {0};

    (void)state;
    assert_string_equal(status_code(ST_UNKNOWN_FIELD), "unknown_field");
    assert_string_equal(status_code(ST_STALE), "stale_reservation");
    assert_string_equal(status_code((status)999), "internal");
    assert_int_equal(err_set(&e, ST_DB, "insert case %s", "X"), ST_DB);
    err_wrap(&e, "submit");
    assert_string_equal(e.msg, "submit: insert case X");
}

static const jfield fields[] = {
    {"name", JF_TOKEN, true},
    {"n", JF_INT, false},
    {"tags", JF_ARRAY, false},
};

static status check(const char *text, err *e)
{
    json_t *v = NULL;
    status s = jsonx_parse(text, strlen(text), 64, &v, e);

    if (s == ST_OK)
        s = jsonx_check(v, "request", fields, 3, e);
    json_decref(v);
    return s;
}

static void test_strict_json(void **state)
{
    err e = {0};

    (void)state;
    assert_int_equal(check("{\"name\":\"a-1\",\"n\":3}", &e), ST_OK);
    assert_int_equal(check("{\"name\":", &e), ST_BAD_JSON);
    assert_non_null(strstr(e.msg, "line 1"));
    assert_int_equal(check("", &e), ST_BAD_JSON);
    assert_int_equal(check("[]", &e), ST_WRONG_TYPE);
    assert_int_equal(check("{\"name\":\"a\",\"zz\":1}", &e), ST_UNKNOWN_FIELD);
    assert_non_null(strstr(e.msg, "\"zz\""));
    assert_non_null(strstr(e.msg, "allowed: name, n, tags"));
    assert_int_equal(check("{\"n\":1}", &e), ST_MISSING_FIELD);
    assert_non_null(strstr(e.msg, "name"));
    assert_int_equal(check("{\"name\":\"a\",\"n\":1.5}", &e), ST_WRONG_TYPE);
    assert_int_equal(check("{\"name\":\"a b\"}", &e), ST_INVALID);
    assert_int_equal(check("{\"name\":\"a\",\"name\":\"b\"}", &e),
                     ST_BAD_JSON); /* duplicate keys are refused */
    assert_int_equal(check("{\"name\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                           "aaaaaaaaaaaaaaaaaaaaaaaaaa\"}",
                           &e),
                     ST_TOO_LARGE);
}

static void test_error_reply_shape(void **state)
{
    char *r = jsonx_error_reply(ST_NOT_YOURS, "reservation 3 is \"x\"");
    json_t *v = json_loads(r, 0, NULL);

    (void)state;
    assert_non_null(v);
    assert_true(json_is_false(json_object_get(v, "ok")));
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(v, "error"), "code")),
        "not_yours");
    json_decref(v);
    free(r);
}

static void test_i64map(void **state)
{
    i64map *m = NULL;
    err e = {0};
    int v;

    (void)state;
    assert_int_equal(i64map_create(&m, &e), ST_OK);
    for (int64_t k = 1; k <= 10000; k++)
        assert_int_equal(i64map_put(m, k * 7919, (int)k, &e), ST_OK);
    assert_int_equal(i64map_count(m), 10000);
    for (int64_t k = 1; k <= 10000; k += 2)
        i64map_del(m, k * 7919);
    assert_int_equal(i64map_count(m), 5000);
    assert_false(i64map_get(m, 7919, &v));
    assert_true(i64map_get(m, 2 * 7919, &v));
    assert_int_equal(v, 2);
    /* Reinserting over tombstones keeps every key reachable. */
    for (int64_t k = 1; k <= 10000; k += 2)
        assert_int_equal(i64map_put(m, k * 7919, -(int)k, &e), ST_OK);
    assert_true(i64map_get(m, 9999 * 7919, &v));
    assert_int_equal(v, -9999);
    i64map_clear(m);
    assert_int_equal(i64map_count(m), 0);
    i64map_destroy(m);
}

static void test_strtab_and_ids(void **state)
{
    strtab *t = NULL;
    err e = {0};
    int a, b, c;
    sbuf sb = {0};

    (void)state;
    assert_int_equal(strtab_create(&t, &e), ST_OK);
    assert_int_equal(strtab_intern(t, "collections", &a, &e), ST_OK);
    assert_int_equal(strtab_intern(t, "legal", &b, &e), ST_OK);
    assert_int_equal(strtab_intern(t, "collections", &c, &e), ST_OK);
    assert_int_equal(a, c);
    assert_int_not_equal(a, b);
    assert_string_equal(strtab_name(t, b), "legal");
    assert_int_equal(strtab_find(t, "claims"), -1);
    strtab_destroy(t);

    assert_true(ids_token_valid("w-001_A"));
    assert_false(ids_token_valid("w.001"));
    assert_false(ids_token_valid(""));
    assert_false(ids_token_valid("w>"));
    int64_t v;
    assert_true(ids_parse_i64("42", &v));
    assert_int_equal(v, 42);
    assert_false(ids_parse_i64("-1", &v));
    assert_false(ids_parse_i64("4x", &v));

    sbuf_printf(&sb, "{%d,%s}", 1, "2");
    assert_string_equal(sbuf_str(&sb), "{1,2}");
    sbuf_free(&sb);
}

/* A bounded file read: content, NUL, and each error a user can cause. */
static void test_fileio_read(void **state)
{
    char path[] = "/tmp/tl-fileio-XXXXXX"; /* mkstemp template */
    int fd = mkstemp(path);
    char *buf = NULL;
    size_t len = 0;
    err e = {0};

    (void)state;
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "hello", 5), 5);
    close(fd);
    assert_int_equal(fileio_read(path, 5, "rules file", &buf, &len, &e), ST_OK);
    assert_int_equal(len, 5);
    assert_string_equal(buf, "hello");
    free(buf);
    buf = NULL;
    assert_int_equal(fileio_read(path, 4, "rules file", &buf, &len, &e),
                     ST_TOO_LARGE);
    assert_non_null(strstr(e.msg, "a rules file may have at most 4"));
    assert_null(buf);
    unlink(path);
    assert_int_equal(fileio_read(path, 5, "rules file", &buf, &len, &e), ST_IO);
    assert_non_null(strstr(e.msg, "cannot open rules file"));
    assert_int_equal(fileio_read("/tmp", 5, "rules file", &buf, &len, &e),
                     ST_IO);
    assert_non_null(strstr(e.msg, "not a readable file"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_status_codes_are_stable),
        cmocka_unit_test(test_strict_json),
        cmocka_unit_test(test_error_reply_shape),
        cmocka_unit_test(test_i64map),
        cmocka_unit_test(test_strtab_and_ids),
        cmocka_unit_test(test_fileio_read),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
