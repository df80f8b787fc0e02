/* test_checkpoint.c — checkpoints: exact resume in fresh processes for every optimizer, a
 * schedule, dropout, batch norm and epochs with shuffling and monitors; saves killed at random
 * points; damaged and forged files; rotation and the best checkpoint. The test runs copies of
 * itself (/proc/self/exe with --segment or --crash-child) as the fresh processes. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "test_tmpdir.h"
#include "test_util.h"
#include "resume_harness.h"

#include "train/trainer.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

/* Runs this program with args (NULL-terminated) and stdout into out_fd (-1: inherited). */
static pid_t spawn_self(const char *const *args, int out_fd)
{
    char *argv[16] = {"test_checkpoint"};
    for (int i = 0; args[i]; i++) argv[i + 1] = (char *)args[i];
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    if (out_fd >= 0) posix_spawn_file_actions_adddup2(&fa, out_fd, 1);
    pid_t pid;
    int err = posix_spawn(&pid, "/proc/self/exe", &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    return err ? -1 : pid;
}

static int wait_exit(pid_t pid)
{
    int status;
    if (waitpid(pid, &status, 0) != pid) return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static void path_in_tmp(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void path_in_tmp(char *buf, size_t size, const char *fmt, ...)
{
    int n = snprintf(buf, size, "%s/", tmpdir);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf + n, size - (size_t)n, fmt, ap);
    va_end(ap);
}

/* ---------------------------------------------------------------- exact resume */

/* N units, a checkpoint, M more units in another fresh process, its checkpoint loaded here:
 * the state of an uninterrupted N+M-unit run, bit for bit. */
static void check_resume(const resume_scenario *sc, int n, int m)
{
    char a[512], b[512], first[16], count[16];
    path_in_tmp(a, sizeof a, "%s-a", sc->name);
    path_in_tmp(b, sizeof b, "%s-b", sc->name);
    snprintf(first, sizeof first, "%d", n);
    snprintf(count, sizeof count, "%d", m);
    const char *seg1[] = {"--segment", sc->name, "-", a, "0", first, NULL};
    const char *seg2[] = {"--segment", sc->name, a, b, first, count, NULL};
    assert_int_equal(wait_exit(spawn_self(seg1, -1)), 0);
    assert_int_equal(wait_exit(spawn_self(seg2, -1)), 0);

    resume_run full, resumed;
    OK(resume_open(sc, IG_DEVICE_CPU, &full));
    OK(resume_train(&full, 0, n + m));
    OK(resume_open(sc, IG_DEVICE_CPU, &resumed));
    ig_checkpoint_monitors mon = resume_monitors(&resumed);
    OK(ig_checkpoint_load(resumed.t, b, &mon));
    char why[256] = "";
    if (!resume_same(&full, &resumed, why, sizeof why)) fail_msg("%s: resumed run differs: %s", sc->name, why);
    /* and it goes on identically */
    OK(resume_train(&full, n + m, 1));
    OK(resume_train(&resumed, n + m, 1));
    if (!resume_same(&full, &resumed, why, sizeof why)) fail_msg("%s: one unit later: %s", sc->name, why);
    resume_close(&full);
    resume_close(&resumed);
}

static void test_exact_resume(void **state)
{
    for (int i = 0; i < resume_n_scenarios; i++) {
        const resume_scenario *sc = &resume_scenarios[i];
        check_resume(sc, sc->epochs ? 2 : 3, sc->epochs ? 2 : 3);
    }
}

/* A checkpoint of a model whose seed differs from the trainer's model: the checkpoint's seed
 * (which keys dropout) wins, even after programs were compiled with the other. */
static void test_resume_restores_seed(void **state)
{
    const resume_scenario *sc = resume_find("adam_dropout");
    char a[512];
    path_in_tmp(a, sizeof a, "seed");
    resume_run full, other;
    OK(resume_open(sc, IG_DEVICE_CPU, &full));
    OK(resume_train(&full, 0, 2));
    OK(ig_checkpoint_save(full.t, a, NULL));
    OK(resume_train(&full, 2, 2));
    OK(ig_ctx_create(IG_DEVICE_CPU, &other.ctx));
    other = (resume_run){.sc = sc, .ctx = other.ctx, .m = sc->build(other.ctx)};
    OK(ig_model_set_seed(other.m, 99));
    ig_trainer_config cfg;
    sc->configure(&cfg);
    OK(ig_trainer_create(other.m, &cfg, &other.t));
    OK(resume_train(&other, 0, 1)); /* programs built with seed 99 */
    OK(ig_checkpoint_load(other.t, a, NULL));
    OK(resume_train(&other, 2, 2));
    char why[256];
    if (!resume_same(&full, &other, why, sizeof why)) fail_msg("%s", why);
    resume_close(&full);
    resume_close(&other);
}

/* ---------------------------------------------------------------- crashes */

#define CRASH_SCENARIO "sgd_step_batchnorm_cnn"

/* The child: resume from the directory's newest checkpoint if any, then train and save,
 * writing each saved step to stdout, until killed. */
static int crash_child(const char *dir)
{
    resume_run r;
    ig_checkpointer *ck = NULL;
    ig_checkpointer_config cc = ig_checkpointer_defaults();
    cc.keep_last = 2;
    ig_status st = resume_open(resume_find(CRASH_SCENARIO), IG_DEVICE_CPU, &r);
    if (st == IG_OK) st = ig_checkpointer_create(dir, &cc, &ck);
    if (st == IG_OK && ig_checkpointer_latest(ck)) st = ig_checkpoint_load(r.t, ig_checkpointer_latest(ck), NULL);
    for (int i = 0; st == IG_OK && i < 100000; i++) {
        int64_t step = ig_trainer_step_count(r.t);
        float loss;
        st = resume_train(&r, (int)step, 1);
        if (st == IG_OK) st = ig_trainer_losses(r.t, step, 1, &loss);
        if (st == IG_OK) st = ig_checkpointer_save(ck, r.t, loss, NULL, NULL);
        step++;
        if (st == IG_OK && write(1, &step, sizeof step) != sizeof step) return 3;
    }
    if (st != IG_OK) fprintf(stderr, "crash child: %s\n", ig_last_error());
    ig_checkpointer_destroy(ck);
    resume_close(&r);
    return st == IG_OK ? 0 : 2;
}

/* 200 children (or 20 s) killed with SIGKILL at random moments of their save loops: after
 * each, the directory's newest checkpoint loads, and it is at least as new as the last save
 * the child reported complete. */
static void test_killed_while_saving(void **state)
{
    char dir[512];
    path_in_tmp(dir, sizeof dir, "crash");
    resume_run r;
    OK(resume_open(resume_find(CRASH_SCENARIO), IG_DEVICE_CPU, &r));
    struct timespec t0, now;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    srand(12345);
    int iterations = 0;
    int64_t newest = 0;
    for (; iterations < 200; iterations++) {
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (now.tv_sec - t0.tv_sec > 20) break;
        int fds[2];
        assert_int_equal(pipe(fds), 0);
        const char *args[] = {"--crash-child", dir, NULL};
        pid_t pid = spawn_self(args, fds[1]);
        close(fds[1]);
        assert_true(pid > 0);
        int64_t step = -1, got;
        /* the first save done, kill it somewhere in the next few */
        if (read(fds[0], &step, sizeof step) != sizeof step) fail_msg("iteration %d: the child exited early", iterations);
        usleep((useconds_t)(rand() % 3000));
        kill(pid, SIGKILL);
        wait_exit(pid);
        while (read(fds[0], &got, sizeof got) == sizeof got) step = got;
        close(fds[0]);
        ig_status st = ig_checkpoint_load(r.t, dir, NULL);
        if (st != IG_OK) fail_msg("iteration %d: %s", iterations, ig_last_error());
        if (ig_trainer_step_count(r.t) < step)
            fail_msg("iteration %d: loaded step %lld, the child had saved step %lld", iterations,
                     (long long)ig_trainer_step_count(r.t), (long long)step);
        newest = ig_trainer_step_count(r.t);
    }
    print_message("%d children killed while saving; the last checkpoint was at step %lld\n", iterations,
                  (long long)newest);
    assert_true(iterations >= 20);
    /* a checkpointer over the directory clears what the crashes left */
    ig_checkpointer *ck;
    ig_checkpointer_config cc = ig_checkpointer_defaults();
    cc.keep_last = 2;
    OK(ig_checkpointer_create(dir, &cc, &ck));
    DIR *d = opendir(dir);
    struct dirent *e;
    int files = 0;
    while ((e = readdir(d))) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
        if (e->d_name[0] == '.') fail_msg("a temporary file was left: %s", e->d_name);
        files++;
    }
    closedir(d);
    assert_true(files <= 2 * 3); /* the two newest and the best: a manifest and a tensors file each */
    ig_checkpointer_destroy(ck);
    resume_close(&r);
}

/* ---------------------------------------------------------------- damaged and forged files */

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static char *read_text(const char *path)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    rewind(f);
    char *s = malloc((size_t)n + 1);
    assert_int_equal(fread(s, 1, (size_t)n, f), (size_t)n);
    s[n] = '\0';
    fclose(f);
    return s;
}

/* The tensors file the manifest names, as a path. */
static void tensors_of(const char *stem, char *buf, size_t size)
{
    char manifest[600];
    snprintf(manifest, sizeof manifest, "%s.json", stem);
    char *text = read_text(manifest);
    cJSON *root = cJSON_Parse(text);
    const char *file = cJSON_GetObjectItem(cJSON_GetObjectItem(root, "tensors"), "file")->valuestring;
    snprintf(buf, size, "%s/%s", tmpdir, file);
    cJSON_Delete(root);
    free(text);
}

/* Loading fails with `want`, the message holding `needle`, and the trainer is unchanged. */
static void expect_load_error(resume_run *r, const char *path, ig_status want, const char *needle)
{
    int64_t steps = ig_trainer_step_count(r->t), shape[IG_MAX_DIMS], n = 1;
    for (int d = ig_model_param_shape(r->m, 0, shape) - 1; d >= 0; d--) n *= shape[d];
    float *before = malloc((size_t)n * sizeof *before), *after = malloc((size_t)n * sizeof *after);
    OK(ig_model_param_get(r->m, 0, before, n));
    ig_status st = ig_checkpoint_load(r->t, path, NULL);
    if (st != want || !strstr(ig_last_error(), needle))
        fail_msg("loading %s: %s (%s), expected %s with '%s'", path, ig_status_name(st), ig_last_error(),
                 ig_status_name(want), needle);
    assert_int_equal(ig_trainer_step_count(r->t), steps);
    OK(ig_model_param_get(r->m, 0, after, n));
    assert_memory_equal(before, after, (size_t)n * sizeof *before);
    free(before);
    free(after);
}

/* A manifest edited by fn, saved under stem "<dir>/<name>". */
static void forge(const char *src_stem, const char *name, void (*fn)(cJSON *root), char *out, size_t size)
{
    char manifest[600];
    snprintf(manifest, sizeof manifest, "%s.json", src_stem);
    char *text = read_text(manifest);
    cJSON *root = cJSON_Parse(text);
    fn(root);
    char *forged = cJSON_Print(root);
    path_in_tmp(out, size, "%s", name);
    char path[600];
    snprintf(path, sizeof path, "%s.json", out);
    write_text(path, forged);
    free(forged);
    cJSON_Delete(root);
    free(text);
}

static void escape_dir(cJSON *root)
{
    cJSON_ReplaceItemInObject(cJSON_GetObjectItem(root, "tensors"), "file", cJSON_CreateString("../etc/passwd"));
}
static void future_version(cJSON *root) { cJSON_ReplaceItemInObject(root, "version", cJSON_CreateNumber(99)); }
static void negative_step(cJSON *root)
{
    cJSON_ReplaceItemInObject(cJSON_GetObjectItem(root, "state"), "step", cJSON_CreateNumber(-1));
}
static void huge_step(cJSON *root)
{
    cJSON_ReplaceItemInObject(cJSON_GetObjectItem(root, "state"), "step", cJSON_CreateNumber(1e300));
}
static void other_lr(cJSON *root)
{
    cJSON_ReplaceItemInObject(cJSON_GetObjectItem(root, "trainer"), "learning_rate", cJSON_CreateNumber(0.5));
}
static void renamed_param(cJSON *root)
{
    cJSON *p = cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetObjectItem(root, "model"), "parameters"), 1);
    cJSON_ReplaceItemInObject(p, "name", cJSON_CreateString("fc9.bias"));
}
static void no_state(cJSON *root) { cJSON_DeleteItemFromObject(root, "state"); }

static void test_damaged_and_forged(void **state)
{
    const resume_scenario *sc = resume_find("adam_dropout");
    resume_run r;
    OK(resume_open(sc, IG_DEVICE_CPU, &r));
    OK(resume_train(&r, 0, 2));
    char stem[512], forged[512], tensors[600];
    path_in_tmp(stem, sizeof stem, "good");
    OK(ig_checkpoint_save(r.t, stem, NULL));
    OK(resume_train(&r, 2, 1)); /* the trainer is now ahead of the file */

    forge(stem, "escape", escape_dir, forged, sizeof forged);
    expect_load_error(&r, forged, IG_ERR_FORMAT, "not a file name");
    forge(stem, "future", future_version, forged, sizeof forged);
    expect_load_error(&r, forged, IG_ERR_UNSUPPORTED, "version 99");
    forge(stem, "negative", negative_step, forged, sizeof forged);
    expect_load_error(&r, forged, IG_ERR_FORMAT, "\"step\"");
    forge(stem, "huge", huge_step, forged, sizeof forged);
    expect_load_error(&r, forged, IG_ERR_FORMAT, "\"step\"");
    forge(stem, "lr", other_lr, forged, sizeof forged);
    expect_load_error(&r, forged, IG_ERR_STATE, "learning_rate is 0.5 in the checkpoint");
    forge(stem, "renamed", renamed_param, forged, sizeof forged);
    expect_load_error(&r, forged, IG_ERR_SHAPE, "'fc9.bias'");
    forge(stem, "nostate", no_state, forged, sizeof forged);
    expect_load_error(&r, forged, IG_ERR_FORMAT, "\"state\" is missing");

    path_in_tmp(forged, sizeof forged, "garbage.json");
    write_text(forged, "{\"format\": \"ingot-checkpoint\", ");
    expect_load_error(&r, forged, IG_ERR_FORMAT, "not valid JSON");
    path_in_tmp(forged, sizeof forged, "absent");
    expect_load_error(&r, forged, IG_ERR_IO, "cannot open");

    /* the tensors file: one byte changed, then cut short, then gone */
    tensors_of(stem, tensors, sizeof tensors);
    int fd = open(tensors, O_RDWR);
    struct stat sb;
    fstat(fd, &sb);
    unsigned char byte;
    assert_int_equal(pread(fd, &byte, 1, sb.st_size - 5), 1);
    byte ^= 0x40;
    assert_int_equal(pwrite(fd, &byte, 1, sb.st_size - 5), 1);
    expect_load_error(&r, stem, IG_ERR_FORMAT, "CRC-32");
    assert_int_equal(ftruncate(fd, sb.st_size - 100), 0);
    close(fd);
    expect_load_error(&r, stem, IG_ERR_FORMAT, "");
    unlink(tensors);
    expect_load_error(&r, stem, IG_ERR_IO, "cannot open");

    /* a checkpoint of another model or configuration */
    path_in_tmp(stem, sizeof stem, "cnn");
    resume_run other;
    OK(resume_open(resume_find("sgd_step_batchnorm_cnn"), IG_DEVICE_CPU, &other));
    OK(ig_checkpoint_save(other.t, stem, NULL));
    expect_load_error(&r, stem, IG_ERR_SHAPE, "other inputs");
    resume_close(&other);
    OK(resume_open(resume_find("adagrad"), IG_DEVICE_CPU, &other)); /* the same model, Adagrad */
    path_in_tmp(stem, sizeof stem, "adagrad");
    OK(ig_checkpoint_save(other.t, stem, NULL));
    expect_load_error(&r, stem, IG_ERR_STATE, "optimizer is 4 in the checkpoint, 1 here");
    /* monitors asked for but not saved */
    ig_plateau *pl;
    OK(ig_plateau_create(&(ig_plateau_config){.factor = 0.5f}, &pl));
    ig_checkpoint_monitors mon = {.plateau = pl};
    assert_int_equal(ig_checkpoint_load(other.t, stem, &mon), IG_ERR_STATE);
    assert_non_null(strstr(ig_last_error(), "no reduce-on-plateau state"));
    ig_plateau_destroy(pl);
    resume_close(&other);
    resume_close(&r);
}

/* ---------------------------------------------------------------- saving again, rotation */

static int count_files(const char *dir, const char *prefix)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;
    while ((e = readdir(d))) n += strncmp(e->d_name, prefix, strlen(prefix)) == 0;
    closedir(d);
    return n;
}

/* Saving to the same path again replaces the checkpoint, leaving one tensors file; the
 * leftovers of a crashed save of that path are removed. */
static void test_save_again(void **state)
{
    resume_run r;
    OK(resume_open(resume_find("adam_dropout"), IG_DEVICE_CPU, &r));
    char dir[512], stem[600], leftover[700];
    path_in_tmp(dir, sizeof dir, "again");
    mkdir(dir, 0777);
    snprintf(stem, sizeof stem, "%s/run", dir);
    snprintf(leftover, sizeof leftover, "%s/.run.7.safetensors.tmp.1.2", dir);
    write_text(leftover, "half a file");
    for (int i = 0; i < 3; i++) {
        OK(resume_train(&r, i, 1));
        OK(ig_checkpoint_save(r.t, stem, NULL));
    }
    assert_int_equal(count_files(dir, "run."), 2); /* run.json and run.3.safetensors */
    assert_int_equal(count_files(dir, ".run"), 0);
    resume_run back;
    OK(resume_open(resume_find("adam_dropout"), IG_DEVICE_CPU, &back));
    char json[700];
    snprintf(json, sizeof json, "%s.json", stem);
    OK(ig_checkpoint_load(back.t, json, NULL));
    char why[256];
    if (!resume_same(&r, &back, why, sizeof why)) fail_msg("%s", why);
    resume_close(&back);
    resume_close(&r);
}

static void test_checkpointer_rotation_and_best(void **state)
{
    resume_run r;
    OK(resume_open(resume_find("adam_dropout"), IG_DEVICE_CPU, &r));
    char dir[512];
    path_in_tmp(dir, sizeof dir, "rotate");
    ig_checkpointer *ck;
    ig_checkpointer_config cfg = ig_checkpointer_defaults();
    cfg.keep_last = 2;
    OK(ig_checkpointer_create(dir, &cfg, &ck));
    assert_null(ig_checkpointer_latest(ck));
    static const float metric[] = {0.9f, 0.5f, 0.7f, NAN, 0.6f, 0.8f};
    static const bool is_best[] = {true, true, false, false, false, false};
    for (int e = 0; e < 6; e++) {
        OK(resume_train(&r, e, 1));
        bool best;
        OK(ig_checkpointer_save(ck, r.t, metric[e], NULL, &best));
        assert_int_equal(best, is_best[e]);
    }
    /* the two newest (steps 5, 6) and the best (step 2) */
    assert_int_equal(count_files(dir, "ckpt-"), 6);
    assert_non_null(strstr(ig_checkpointer_best(ck), "ckpt-000000000002.json"));
    assert_non_null(strstr(ig_checkpointer_latest(ck), "ckpt-000000000006.json"));
    ig_checkpointer_destroy(ck);
    /* a new checkpointer over the directory knows the best; leftovers go */
    char junk[600];
    snprintf(junk, sizeof junk, "%s/ckpt-000000000009.1.safetensors", dir);
    write_text(junk, "orphan");
    snprintf(junk, sizeof junk, "%s/.ckpt-000000000009.json.tmp.5.5", dir);
    write_text(junk, "{");
    OK(ig_checkpointer_create(dir, &cfg, &ck));
    assert_non_null(strstr(ig_checkpointer_best(ck), "ckpt-000000000002.json"));
    assert_int_equal(count_files(dir, "ckpt-"), 6);
    assert_int_equal(count_files(dir, ".ckpt-"), 0);
    OK(resume_train(&r, 6, 1));
    OK(ig_checkpointer_save(ck, r.t, 0.1f, NULL, NULL));
    assert_non_null(strstr(ig_checkpointer_best(ck), "ckpt-000000000007.json"));
    assert_int_equal(count_files(dir, "ckpt-"), 4); /* steps 6 and 7, 7 the best */
    /* the directory loads its newest; a damaged newest gives way to the one before */
    resume_run back;
    OK(resume_open(resume_find("adam_dropout"), IG_DEVICE_CPU, &back));
    OK(ig_checkpoint_load(back.t, dir, NULL));
    assert_int_equal(ig_trainer_step_count(back.t), 7);
    char newest[600];
    snprintf(newest, sizeof newest, "%s/ckpt-000000000007.json", dir);
    write_text(newest, "{\"format\": \"ingot-checkpoint\"");
    OK(ig_checkpoint_load(back.t, dir, NULL));
    assert_int_equal(ig_trainer_step_count(back.t), 6);
    ig_checkpointer_destroy(ck);
    resume_close(&back);
    resume_close(&r);
    ig_checkpointer_config bad = cfg;
    bad.keep_last = 0;
    assert_int_equal(ig_checkpointer_create(dir, &bad, &ck), IG_ERR_INVALID_ARGUMENT);
}

int main(int argc, char **argv)
{
    if (argc == 7 && strcmp(argv[1], "--segment") == 0) {
        const resume_scenario *sc = resume_find(argv[2]);
        ig_status st = sc ? resume_segment(sc, IG_DEVICE_CPU, strcmp(argv[3], "-") ? argv[3] : NULL, argv[4],
                                           atoi(argv[5]), atoi(argv[6]))
                          : IG_ERR_INVALID_ARGUMENT;
        if (st != IG_OK) fprintf(stderr, "segment %s: %s\n", argv[2], ig_last_error());
        return st == IG_OK ? 0 : 1;
    }
    if (argc == 3 && strcmp(argv[1], "--crash-child") == 0) return crash_child(argv[2]);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exact_resume),
        cmocka_unit_test(test_resume_restores_seed),
        cmocka_unit_test(test_killed_while_saving),
        cmocka_unit_test(test_damaged_and_forged),
        cmocka_unit_test(test_save_again),
        cmocka_unit_test(test_checkpointer_rotation_and_best),
    };
    return cmocka_run_group_tests(tests, make_tmpdir, remove_tmpdir);
}
