/* test_csv.c — datasets from CSV files: headers, labels (ids, names), regression targets,
 * quoting, and the errors that name a line and a column. */
#define _GNU_SOURCE /* nftw */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <ftw.h>
#include <limits.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "test_util.h"
#include "test_tmpdir.h"
#include "io/dataset.h"

/* ---------------------------------------------------------------- fixtures */


/* Writes `text` to a file of the temporary folder; returns its path (a static buffer). */
static const char *write_csv(const char *name, const char *text)
{
    static char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
    assert_int_equal(fclose(f), 0);
    return path;
}

static ig_dataset *load(ig_ctx *ctx, const char *name, const char *text, const ig_csv_options *opt)
{
    ig_dataset *ds = NULL;
    OK(ig_dataset_load_csv(ctx, write_csv(name, text), opt, &ds));
    return ds;
}

static void expect_error(ig_ctx *ctx, const char *name, const char *text, const ig_csv_options *opt, ig_status want,
                         const char *needle1, const char *needle2)
{
    ig_dataset *ds = (ig_dataset *)&ds; /* not NULL: the call must clear it */
    ig_status s = ig_dataset_load_csv(ctx, text ? write_csv(name, text) : name, opt, &ds);
    if (s != want) fail_msg("expected %s, got %s: %s", ig_status_name(want), ig_status_name(s), ig_last_error());
    assert_null(ds);
    if (needle1 && !strstr(ig_last_error(), needle1)) fail_msg("'%s' lacks '%s'", ig_last_error(), needle1);
    if (needle2 && !strstr(ig_last_error(), needle2)) fail_msg("'%s' lacks '%s'", ig_last_error(), needle2);
}

/* ---------------------------------------------------------------- reading */

static void test_header_and_class_names(void **state)
{
    fixture *f = *state;
    /* a byte-order mark, CRLF line ends, a blank line, spaces, quoted cells ("" is a quote) */
    const char *text = "\xEF\xBB\xBFsepal length, \"sepal, width\" ,petal,species\r\n"
                       "5.1,3.5,1.4,setosa\r\n"
                       "\r\n"
                       " 7.0 , 3.2,4.7 , versicolor\r\n"
                       "6.3,\"3.3\",6.0,\"virginica\"\r\n"
                       "4.9,3.0,-1.5e-1,\"setosa\"\r\n"
                       "1e3,0,0,\"odd \"\"name\"\", with comma\"";
    ig_dataset *ds = load(f->ctx, "iris.csv", text, NULL);
    assert_int_equal(ig_dataset_size(ds), 5);
    int64_t shape[IG_MAX_DIMS];
    assert_int_equal(ig_dataset_sample_shape(ds, shape), 1);
    assert_int_equal(shape[0], 3);
    const float want_x[15] = {5.1f, 3.5f, 1.4f, 7.0f, 3.2f, 4.7f, 6.3f, 3.3f, 6.0f, 4.9f, 3.0f, -0.15f, 1000, 0, 0};
    assert_memory_equal(ds->x, want_x, sizeof want_x);
    /* names in byte order: the quoted one sorts first */
    assert_int_equal(ig_dataset_num_classes(ds), 4);
    assert_string_equal(ig_dataset_class_name(ds, 0), "odd \"name\", with comma");
    assert_string_equal(ig_dataset_class_name(ds, 1), "setosa");
    assert_string_equal(ig_dataset_class_name(ds, 3), "virginica");
    assert_null(ig_dataset_class_name(ds, 4));
    assert_null(ig_dataset_class_name(ds, -1));
    const int32_t want_y[5] = {1, 2, 3, 1, 0};
    assert_memory_equal(ds->y, want_y, sizeof want_y);
    assert_int_equal(ig_dataset_target_dim(ds), 0);
    ig_dataset_destroy(ds);
}

static void test_integer_labels_without_header(void **state)
{
    fixture *f = *state;
    ig_csv_options o = ig_csv_defaults();
    o.label_index = 0;
    /* detected: every cell of line 1 but the label is a number */
    ig_dataset *ds = load(f->ctx, "ids.csv", "2,0.5,1\n0,0.25,2\n2,1,3\n", &o);
    assert_int_equal(ig_dataset_size(ds), 3);
    assert_int_equal(ig_dataset_num_classes(ds), 3); /* the ids themselves: 0..2, 1 unused */
    assert_null(ig_dataset_class_name(ds, 0));
    const int32_t want_y[3] = {2, 0, 2};
    const float want_x[6] = {0.5f, 1, 0.25f, 2, 1, 3};
    assert_memory_equal(ds->y, want_y, sizeof want_y);
    assert_memory_equal(ds->x, want_x, sizeof want_x);
    ig_dataset_destroy(ds);

    /* a header of numbers is data unless said otherwise */
    o = ig_csv_defaults();
    ds = load(f->ctx, "numhead.csv", "1,2,3\n4,5,1\n", &o);
    assert_int_equal(ig_dataset_size(ds), 2);
    ig_dataset_destroy(ds);
    o.header = IG_CSV_HEADER_PRESENT;
    ds = load(f->ctx, "numhead.csv", "1,2,3\n4,5,1\n", &o);
    assert_int_equal(ig_dataset_size(ds), 1);
    ig_dataset_destroy(ds);
}

static void test_label_column_by_name(void **state)
{
    fixture *f = *state;
    ig_csv_options o = ig_csv_defaults();
    o.delimiter = ';';
    o.label_column = "target";
    ig_dataset *ds = load(f->ctx, "semi.csv", "a;target;b\n1.5;1;2\n3;0;4\n", &o);
    const float want_x[4] = {1.5f, 2, 3, 4};
    const int32_t want_y[2] = {1, 0};
    assert_memory_equal(ds->x, want_x, sizeof want_x);
    assert_memory_equal(ds->y, want_y, sizeof want_y);
    ig_dataset_destroy(ds);

    /* tabs delimit, so they are not trimmed; negative labels count from the end */
    o = ig_csv_defaults();
    o.delimiter = '\t';
    o.label_index = -2;
    ds = load(f->ctx, "tabs.tsv", "x\ty\tz\n1\t1\t 2\n3\t0\t4 \n", &o);
    const float want_t[4] = {1, 2, 3, 4};
    assert_memory_equal(ds->x, want_t, sizeof want_t);
    assert_memory_equal(ds->y, want_y, sizeof want_y);
    ig_dataset_destroy(ds);
}

static void test_mapped_numeric_labels(void **state)
{
    fixture *f = *state;
    /* integers with a negative one are ranked by value; "1" and "1.0" are one class */
    ig_dataset *ds = load(f->ctx, "svm.csv", "0.5,1\n0.25,-1\n1,1.0\n2,10\n3,-1\n", NULL);
    assert_int_equal(ig_dataset_num_classes(ds), 3);
    assert_string_equal(ig_dataset_class_name(ds, 0), "-1");
    assert_string_equal(ig_dataset_class_name(ds, 1), "1");
    assert_string_equal(ig_dataset_class_name(ds, 2), "10");
    const int32_t want_y[5] = {1, 0, 1, 2, 0};
    assert_memory_equal(ds->y, want_y, sizeof want_y);
    ig_dataset_destroy(ds);
}

static void test_regression_targets(void **state)
{
    fixture *f = *state;
    ig_csv_options o = ig_csv_defaults();
    o.regression = true;
    ig_dataset *ds = load(f->ctx, "houses.csv", "rooms,area,price\n3,70,1.5\n4,95,2.25\n2,50,-0.5\n", &o);
    assert_int_equal(ig_dataset_target_dim(ds), 1);
    assert_int_equal(ig_dataset_num_classes(ds), 0);
    assert_null(ds->y);
    const float want_t[3] = {1.5f, 2.25f, -0.5f};
    assert_memory_equal(ds->targets, want_t, sizeof want_t);

    /* the loader's targets are f32 [b, 1], as a one-output model's MSE wants */
    ig_loader *ld;
    OK(ig_loader_create(ds, 2, false, 0, false, &ld));
    ig_tensor *x, *y;
    OK(ig_loader_next(ld, &x, &y));
    assert_int_equal(ig_tensor_dtype(y), IG_F32);
    assert_int_equal(ig_tensor_ndim(y), 2);
    assert_int_equal(ig_tensor_dim(y, 0), 2);
    assert_int_equal(ig_tensor_dim(y, 1), 1);
    assert_memory_equal(ig_tensor_data(y), want_t, 2 * sizeof(float));
    OK(ig_loader_next(ld, &x, &y));
    assert_int_equal(ig_tensor_dim(y, 0), 1);
    assert_true(((float *)ig_tensor_data(y))[0] == -0.5f);
    ig_loader_destroy(ld);

    /* the whole dataset as tensors, e.g. for ig_predict and ig_metric_regression */
    OK(ig_dataset_tensors(ds, &x, &y));
    assert_int_equal(ig_tensor_dim(x, 0), 3);
    assert_int_equal(ig_tensor_dim(x, 1), 2);
    assert_int_equal(ig_tensor_dtype(y), IG_F32);
    assert_memory_equal(ig_tensor_data(y), want_t, sizeof want_t);
    ig_tensor_release(x);
    ig_tensor_release(y);
    ig_dataset_destroy(ds);
}

/* A regression CSV trains a one-output model with MSE through the loader's f32 [b, 1]
 * targets; epochs on the device, which gather class labels, refuse it. */
static void test_regression_trains(void **state)
{
    fixture *f = *state;
    char text[4096] = "a,b,y\n";
    for (int i = 0; i < 64; i++) {
        double a = (i % 8) / 4.0 - 1.0, b = (i / 8) / 4.0 - 1.0;
        size_t len = strlen(text);
        snprintf(text + len, sizeof text - len, "%g,%g,%g\n", a, b, 2 * a - b + 0.5);
    }
    ig_csv_options o = ig_csv_defaults();
    o.regression = true;
    ig_dataset *ds = load(f->ctx, "linear.csv", text, &o);
    ig_model *m;
    OK(ig_model_create(f->ctx, (int64_t[]){16, 2}, 2, &m));
    OK(ig_model_set_output(m, ig_dense(m, ig_model_input(m), 1, true, "fc")));
    ig_trainer_config cfg = ig_trainer_defaults();
    cfg.loss = IG_LOSS_MSE;
    cfg.learning_rate = 0.05f;
    ig_trainer *t;
    OK(ig_trainer_create(m, &cfg, &t));
    ig_loader *ld;
    OK(ig_loader_create(ds, 16, true, 3, false, &ld));
    float first = -1, loss = 0;
    for (int epoch = 0; epoch < 60; epoch++)
        for (;;) {
            ig_tensor *x, *y;
            OK(ig_loader_next(ld, &x, &y));
            if (!x) break;
            OK(ig_train_batch(t, x, y, &loss));
            if (first < 0) first = loss;
        }
    assert_true(loss < 1e-3f && loss < first / 100);
    ig_epoch_config ep = ig_epoch_defaults();
    assert_int_equal(ig_train_epoch(t, ds, &ep, NULL), IG_ERR_UNSUPPORTED);
    assert_non_null(strstr(ig_last_error(), "float targets"));
    ig_loader_destroy(ld);
    ig_trainer_destroy(t);
    ig_model_destroy(m);
    ig_dataset_destroy(ds);
}

/* Numbers are read in the C locale even where the program set one with a decimal comma. */
static void test_locale_independent(void **state)
{
    fixture *f = *state;
    const char *names[] = {"de_DE.UTF-8", "de_DE.utf8", "fr_FR.UTF-8", "C.UTF-8"};
    char *old = strdup(setlocale(LC_NUMERIC, NULL));
    for (size_t i = 0; i < sizeof names / sizeof *names && !setlocale(LC_NUMERIC, names[i]); i++) {}
    ig_dataset *ds = NULL;
    ig_status s = ig_dataset_load_csv(f->ctx, write_csv("locale.csv", "0.5,2.25,1\n"), NULL, &ds);
    setlocale(LC_NUMERIC, old);
    free(old);
    OK(s);
    assert_true(ds->x[0] == 0.5f && ds->x[1] == 2.25f);
    ig_dataset_destroy(ds);
}

/* ---------------------------------------------------------------- errors */

static void test_errors(void **state)
{
    fixture *f = *state;
    ig_ctx *ctx = f->ctx;
    const ig_status FMT = IG_ERR_FORMAT, ARG = IG_ERR_INVALID_ARGUMENT;
    char missing[PATH_MAX];
    snprintf(missing, sizeof missing, "%s/missing.csv", tmpdir);
    expect_error(ctx, missing, NULL, NULL, IG_ERR_IO, missing, "No such file");

    expect_error(ctx, "empty.csv", "", NULL, FMT, "empty.csv: empty file", NULL);
    expect_error(ctx, "blank.csv", "\n  \n\n", NULL, FMT, "empty file", NULL);
    expect_error(ctx, "header.csv", "a,b,label\n", NULL, FMT, "a header (line 1) but no data rows", NULL);

    /* a ragged row: where it ends early, or the first cell too many */
    expect_error(ctx, "short.csv", "a,b,c,y\n1,2,3,0\n\n4,5,1\n", NULL, FMT, "short.csv: line 4, column 4 (\"y\")",
                 "ends after 3 cells; line 1 has 4");
    expect_error(ctx, "long.csv", "1,2,0\n3,4,5,1\n", NULL, FMT, "long.csv: line 2, column 4:",
                 "has 4 cells; line 1 has 3");

    /* cells that are not numbers */
    expect_error(ctx, "text.csv", "a,b,y\n1,2,0\n1,abc,1\n", NULL, FMT, "text.csv: line 3, column 2 (\"b\")",
                 "\"abc\" is not a number");
    expect_error(ctx, "hole.csv", "1,2,0\n1,,1\n", NULL, FMT, "line 2, column 2:", "the cell is empty");
    expect_error(ctx, "nan.csv", "1,2,0\nnan,2,1\n", NULL, FMT, "line 2, column 1", "not a finite number");
    expect_error(ctx, "big.csv", "1,2,0\n1e39,2,1\n", NULL, FMT, "line 2, column 1", "beyond the float range");
    expect_error(ctx, "trail.csv", "1,2,0\n1.5x,2,1\n", NULL, FMT, "\"1.5x\" is not a number", NULL);
    ig_csv_options reg = ig_csv_defaults();
    reg.regression = true;
    expect_error(ctx, "target.csv", "1,2,0.5\n1,2,high\n", &reg, FMT, "line 2, column 3", "\"high\" is not a number");

    /* labels */
    expect_error(ctx, "nolabel.csv", "1,2,0\n3,4,\n", NULL, FMT, "line 2, column 3", "the label is empty");
    expect_error(ctx, "frac.csv", "1,2,0\n3,4,2.5\n", NULL, FMT, "line 2, column 3", "regression");
    ig_csv_options o = ig_csv_defaults();
    o.label_column = "species";
    expect_error(ctx, "noname.csv", "a,b,kind\n1,2,x\n", &o, FMT, "no column named \"species\"", NULL);
    o.header = IG_CSV_HEADER_ABSENT;
    expect_error(ctx, "noname.csv", "a,b,kind\n1,2,x\n", &o, ARG, "IG_CSV_HEADER_ABSENT", NULL);
    o = ig_csv_defaults();
    o.label_index = 3;
    expect_error(ctx, "index.csv", "1,2,0\n", &o, ARG, "label_index 3 is outside the 3 columns", NULL);
    o.label_index = -4;
    expect_error(ctx, "index.csv", "1,2,0\n", &o, ARG, "label_index -4", NULL);
    expect_error(ctx, "one.csv", "1\n2\n", NULL, FMT, "line 1 has one column", NULL);

    /* quoting */
    expect_error(ctx, "open.csv", "1,2,0\n1,\"2,\n3\n", NULL, FMT, "line 2, column 2", "not closed");
    expect_error(ctx, "after.csv", "1,2,0\n1,\"2\"x,1\n", NULL, FMT, "line 2, column 2", "after the closing quote");

    /* options and arguments */
    o = ig_csv_defaults();
    o.delimiter = '"';
    expect_error(ctx, "x.csv", "1,2\n", &o, ARG, "delimiter", NULL);
    o = ig_csv_defaults();
    o.header = (ig_csv_header)7;
    expect_error(ctx, "x.csv", "1,2\n", &o, ARG, "header is 7", NULL);
    ig_dataset *ds;
    assert_int_equal(ig_dataset_load_csv(NULL, "x.csv", NULL, &ds), ARG);
    assert_int_equal(ig_dataset_load_csv(ctx, NULL, NULL, &ds), ARG);
    assert_int_equal(ig_dataset_load_csv(ctx, "x.csv", NULL, NULL), ARG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_header_and_class_names, setup_fixture, teardown_fixture),
        cmocka_unit_test_setup_teardown(test_integer_labels_without_header, setup_fixture, teardown_fixture),
        cmocka_unit_test_setup_teardown(test_label_column_by_name, setup_fixture, teardown_fixture),
        cmocka_unit_test_setup_teardown(test_mapped_numeric_labels, setup_fixture, teardown_fixture),
        cmocka_unit_test_setup_teardown(test_regression_targets, setup_fixture, teardown_fixture),
        cmocka_unit_test_setup_teardown(test_regression_trains, setup_fixture, teardown_fixture),
        cmocka_unit_test_setup_teardown(test_locale_independent, setup_fixture, teardown_fixture),
        cmocka_unit_test_setup_teardown(test_errors, setup_fixture, teardown_fixture),
    };
    return cmocka_run_group_tests(tests, make_tmpdir, remove_tmpdir);
}
