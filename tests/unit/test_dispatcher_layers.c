/*
 * The dispatcher's modules form layers (docs/architecture.md, "The
 * dispatcher's files"): each file includes only its own header and the
 * headers of layers below it, so there is no import cycle. This test reads
 * every file of dispatcher/ and fails on an include that points up or
 * sideways, and on a file that is in no layer.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tl_test.h"

/* Top (0) to bottom. */
static const struct {
    const char *module;
    int layer;
} layers[] = {
    {"main", 0},         {"dispatcher", 1},
    {"case_api", 2},     {"worker_api", 2},
    {"accept", 2},       {"complete", 2},
    {"feedback_api", 2}, {"ops_api", 2},
    {"offers", 3},       {"outbox", 3},
    {"progress", 3},     {"review", 3},
    {"outq", 4},         {"reservations", 4},
    {"state", 4},        {"stats", 4},
    {"dsp", 5},          {"dispatcher_opts", 6},
    {"playbook", 7},     {"router_explain", 7},
    {"router", 8},       {"router_batch", 9},
};

static int layer_of(const char *module)
{
    for (size_t i = 0; i < sizeof(layers) / sizeof(layers[0]); i++)
        if (strcmp(layers[i].module, module) == 0)
            return layers[i].layer;
    return -1;
}

/* The module of file name ("accept.c" -> "accept"), or 0 when it is not
 * C source or a header. */
static int module_of(const char *name, char *out, size_t cap)
{
    size_t n = strlen(name);

    if (n < 3 ||
        (strcmp(name + n - 2, ".c") != 0 && strcmp(name + n - 2, ".h") != 0) ||
        n - 2 >= cap)
        return 0;
    memcpy(out, name, n - 2);
    out[n - 2] = '\0';
    return 1;
}

/* Includes of path that break the layers; printed. */
static int check_file(const char *dir, const char *name)
{
    char path[1024], line[512], self[128], inc[128];
    int bad = 0, mine;
    FILE *f;

    if (!module_of(name, self, sizeof(self)))
        return 0;
    mine = layer_of(self);
    if (mine < 0) {
        print_error("dispatcher/%s is in no layer of this test\n", name);
        return 1;
    }
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    f = fopen(path, "r");
    if (f == NULL) {
        print_error("cannot read %s\n", path);
        return 1;
    }
    while (fgets(line, sizeof(line), f) != NULL) {
        int theirs;

        if (sscanf(line, "#include \"%127[a-z_].h\"", inc) != 1 ||
            strcmp(inc, self) == 0)
            continue;
        theirs = layer_of(inc);
        /* Headers of other libraries (common, contracts) are below. */
        if (theirs < 0)
            continue;
        if (theirs <= mine) {
            print_error("dispatcher/%s (layer %d) includes %s.h (layer %d)\n",
                        name, mine, inc, theirs);
            bad++;
        }
    }
    fclose(f);
    return bad;
}

static void test_includes_point_down(void **state)
{
    char dir[1024];
    struct dirent *de;
    DIR *d;
    int bad = 0, files = 0;

    (void)state;
    snprintf(dir, sizeof(dir), "%s/dispatcher", TL_SOURCE_DIR);
    d = opendir(dir);
    assert_non_null(d);
    while ((de = readdir(d)) != NULL) {
        char m[128];
        if (module_of(de->d_name, m, sizeof(m)))
            files++;
        bad += check_file(dir, de->d_name);
    }
    closedir(d);
    assert_true(files > 20);
    assert_int_equal(bad, 0);
}

/* The check can fail: an include upwards is found. */
static void test_upward_include_is_found(void **state)
{
    char dir[] = "/tmp/tl_layers_XXXXXX", path[64];
    FILE *f;

    (void)state;
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/state.c", dir);
    f = fopen(path, "w");
    assert_non_null(f);
    fputs("#include \"state.h\"\n#include \"accept.h\"\n#include \"db.h\"\n",
          f);
    fclose(f);
    assert_int_equal(check_file(dir, "state.c"), 1);
    remove(path);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_includes_point_down),
        cmocka_unit_test(test_upward_include_is_found),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
