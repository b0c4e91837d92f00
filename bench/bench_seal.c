/*
 * What sealing customer data adds per case, without the services: for the
 * feed's cases of every example case type, the schema check and split a
 * submit makes (playbook_check_case), the seal of the personal part and
 * its hex form (as keystore_seal_hex does) and, for the accept reply, the
 * open and the merge into the task's view (keystore_open_hex,
 * payload_merge). Prints figures; asserts nothing about time.
 *   build/release/bench/bench_seal [cases] [examples/bank.json]
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "case_msg.h"
#include "feed.h"
#include "jsonx.h"
#include "payload.h"
#include "playbook.h"
#include "seal.h"

static double now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static void die(const char *what, const err *e)
{
    fprintf(stderr, "bench_seal: %s: %s\n", what, e->msg);
    exit(1);
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? strtol(argv[1], NULL, 10) : 20000;
    const char *file = argc > 2 ? argv[2] : "examples/bank.json";
    char hexkey[SEAL_KEY_BYTES * 2 + 1];
    unsigned char mk[SEAL_KEY_BYTES];
    seal_kms kms = {0};
    seal_keyring *kr = NULL;
    seal_wrapped w;
    playbook *pbs[8];
    int npb = 0;
    json_t *root, *arr;
    case_submit *subs;
    char **plain, **personal, **hex;
    double t0, t_check = 0, t_seal = 0, t_open = 0;
    size_t bytes_plain = 0, bytes_sealed = 0;
    long sealed = 0;
    uint64_t rng = 42;
    err e = {0};

    if (n < 1 || sodium_init() < 0)
        return 2;
    randombytes_buf(mk, sizeof(mk));
    sodium_bin2hex(hexkey, sizeof(hexkey), mk, sizeof(mk));
    setenv("TL_BENCH_MASTER_KEY", hexkey, 1);
    if (seal_kms_local_env(&kms, "TL_BENCH_MASTER_KEY", &e) != ST_OK ||
        seal_keyring_create(&kr, &kms, &e) != ST_OK ||
        seal_dk_new(&kms, "jsbank", 1, &w, &e) != ST_OK ||
        seal_keyring_add(kr, &w, &e) != ST_OK)
        die("keys", &e);
    if (jsonx_load_file(file, &root, &e) != ST_OK)
        die(file, &e);
    arr = json_object_get(root, "playbooks");
    for (size_t i = 0; i < json_array_size(arr) && npb < 8; i++)
        if (playbook_decode(json_array_get(arr, i), "pb", &pbs[npb++], &e) !=
            ST_OK)
            die(file, &e);
    json_decref(root);
    subs = calloc((size_t)n, sizeof(*subs));
    plain = calloc((size_t)n, sizeof(char *));
    personal = calloc((size_t)n, sizeof(char *));
    hex = calloc((size_t)n, sizeof(char *));
    if (npb == 0 || subs == NULL || plain == NULL || personal == NULL ||
        hex == NULL)
        return 1;
    for (long i = 0; i < n; i++) {
        char *body = NULL;

        if (feed_case_json(&rng, pbs[i % npb]->case_type, "B-1", &body, &e) !=
                ST_OK ||
            case_msg_submit_decode(body, strlen(body), &subs[i], &e) != ST_OK)
            die("case", &e);
        free(body);
    }

    /* The submit: check against the schema and split. */
    t0 = now_us();
    for (long i = 0; i < n; i++)
        if (playbook_check_case(pbs[i % npb], subs[i].customer, subs[i].payload,
                                &plain[i], &personal[i], &e) != ST_OK)
            die("check", &e);
    t_check = now_us() - t0;

    /* The submit: seal for the case's id, as hex for the statement. */
    t0 = now_us();
    for (long i = 0; i < n; i++) {
        seal_ad ad = {"jsbank", i + 1, "personal"};
        unsigned char *blob = NULL;
        size_t len = 0;

        if (personal[i] == NULL)
            continue;
        if (seal_value(kr, &ad, personal[i], strlen(personal[i]), &blob, &len,
                       &e) != ST_OK)
            die("seal", &e);
        hex[i] = malloc(len * 2 + 1);
        sodium_bin2hex(hex[i], len * 2 + 1, blob, len);
        bytes_plain += strlen(personal[i]);
        bytes_sealed += len;
        sealed++;
        free(blob);
    }
    t_seal = now_us() - t0;

    /* The accept: open and merge into the task's view. */
    t0 = now_us();
    for (long i = 0; i < n; i++) {
        seal_ad ad = {"jsbank", i + 1, "personal"};
        size_t hl, bl = 0, pl = 0;
        unsigned char *blob;
        char *open = NULL, *view, *merged = NULL;

        if (hex[i] == NULL)
            continue;
        hl = strlen(hex[i]);
        blob = malloc(hl / 2);
        sodium_hex2bin(blob, hl / 2, hex[i], hl, NULL, &bl, NULL);
        if (seal_open(kr, &ad, blob, bl, &open, &pl, &e) != ST_OK)
            die("open", &e);
        view = malloc(strlen(plain[i]) + 64);
        sprintf(view, "{\"task_id\":1,\"customer\":{},\"payload\":%s}",
                plain[i]);
        if (payload_merge(view, open, &merged, &e) != ST_OK)
            die("merge", &e);
        seal_plain_free(open, pl);
        free(blob);
        free(view);
        free(merged);
    }
    t_open = now_us() - t0;

    printf("seal_cases=%ld\n", n);
    printf("seal_cases_with_personal_data=%ld\n", sealed);
    printf("seal_check_split_us_per_case=%.2f\n", t_check / (double)n);
    printf("seal_seal_us_per_case=%.2f\n", t_seal / (double)(sealed + !sealed));
    printf("seal_open_merge_us_per_case=%.2f\n",
           t_open / (double)(sealed + !sealed));
    printf("seal_personal_bytes_per_case=%.0f\n",
           (double)bytes_plain / (double)(sealed + !sealed));
    printf("seal_sealed_bytes_per_case=%.0f\n",
           (double)bytes_sealed / (double)(sealed + !sealed));
    for (long i = 0; i < n; i++) {
        case_submit_release(&subs[i]);
        free(plain[i]);
        free(personal[i]);
        free(hex[i]);
    }
    free(subs);
    free(plain);
    free(personal);
    free(hex);
    for (int i = 0; i < npb; i++)
        playbook_destroy(pbs[i]);
    seal_keyring_destroy(kr);
    seal_kms_destroy(&kms);
    sodium_memzero(mk, sizeof(mk));
    return 0;
}
