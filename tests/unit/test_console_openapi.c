/*
 * docs/openapi.json describes exactly the console's API: every route the
 * code serves is in the file with its method, and every operation in the
 * file is a route the code serves (or one of the pages outside /api).
 */
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "console.h"
#include "tl_test.h"

#define MAX_ROUTES 128

/* "/api/v1/ops/pools/{pool}/settings" -> "/api/v1/ops/pools/{}/settings" */
static void normalise(const char *in, char *out, size_t cap)
{
    size_t n = 0;

    for (const char *p = in; *p != '\0' && n + 3 < cap; p++) {
        if (*p == '{') {
            out[n++] = '{';
            out[n++] = '}';
            while (*p != '\0' && *p != '}')
                p++;
            if (*p == '\0')
                break;
            continue;
        }
        out[n++] = *p;
    }
    out[n] = '\0';
}

static void test_openapi_matches_routes(void **state)
{
    const char *methods[MAX_ROUTES], *patterns[MAX_ROUTES];
    int n = console_routes(methods, patterns, MAX_ROUTES);
    char path[512];
    json_error_t je;
    json_t *spec, *paths, *ops;
    const char *key;
    int in_file = 0;

    (void)state;
    assert_true(n > 0 && n <= MAX_ROUTES);
    snprintf(path, sizeof(path), "%s/docs/openapi.json", TL_SOURCE_DIR);
    spec = json_load_file(path, 0, &je);
    if (spec == NULL)
        fail_msg("%s: %s (line %d)", path, je.text, je.line);
    paths = json_object_get(spec, "paths");
    assert_non_null(paths);
    json_object_foreach(paths, key, ops)
    {
        char norm[256];
        const char *m;
        json_t *op;

        normalise(key, norm, sizeof(norm));
        json_object_foreach(ops, m, op)
        {
            bool found = strncmp(norm, "/api/", 5) != 0;

            for (int i = 0; i < n && !found; i++) {
                char upper[16];
                size_t k;

                for (k = 0; m[k] != '\0' && k + 1 < sizeof(upper); k++)
                    upper[k] = (char)(m[k] - 'a' + 'A');
                upper[k] = '\0';
                found = strcmp(patterns[i], norm) == 0 &&
                        strcmp(methods[i], upper) == 0;
            }
            if (!found)
                fail_msg("docs/openapi.json has %s %s, which the console "
                         "does not serve",
                         m, key);
            if (strncmp(norm, "/api/", 5) == 0)
                in_file++;
        }
    }
    for (int i = 0; i < n; i++) {
        bool found = false;

        json_object_foreach(paths, key, ops)
        {
            char norm[256];
            char lower[16];
            size_t k;

            normalise(key, norm, sizeof(norm));
            for (k = 0; methods[i][k] != '\0' && k + 1 < sizeof(lower); k++)
                lower[k] = (char)(methods[i][k] - 'A' + 'a');
            lower[k] = '\0';
            if (strcmp(norm, patterns[i]) == 0 &&
                json_object_get(ops, lower) != NULL)
                found = true;
        }
        if (!found)
            fail_msg("the console serves %s %s, which docs/openapi.json "
                     "lacks",
                     methods[i], patterns[i]);
    }
    assert_int_equal(in_file, n);
    json_decref(spec);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_openapi_matches_routes),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
