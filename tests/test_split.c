/* test_split.c — ig_dataset_split: sizes, determinism, a partition in the original order,
 * stratification, what the parts keep, and bad arguments. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "test_util.h"
#include "io/dataset.h"

/* n samples [2]: (index, label); label[i] from `labels`, or float targets when NULL. */
static ig_dataset *make(ig_ctx *ctx, int64_t n, const int32_t *labels)
{
    ig_tensor *x, *y;
    OK(ig_tensor_create(ctx, IG_F32, (int64_t[]){n, 2}, 2, &x));
    OK(ig_tensor_create(ctx, labels ? IG_I32 : IG_F32, (int64_t[]){n}, 1, &y));
    float *xd = ig_tensor_data(x);
    for (int64_t i = 0; i < n; i++) {
        xd[2 * i] = (float)i;
        xd[2 * i + 1] = labels ? (float)labels[i] : 0.5f * (float)i;
        if (labels)
            ((int32_t *)ig_tensor_data(y))[i] = labels[i];
        else
            ((float *)ig_tensor_data(y))[i] = 0.5f * (float)i;
    }
    ig_dataset *ds;
    OK(ig_dataset_create(ctx, x, y, &ds));
    ig_tensor_release(x);
    ig_tensor_release(y);
    return ds;
}

/* The parent indices of a part's samples (x[0] holds them); checks each sample's label. */
static void indices(const ig_dataset *part, int64_t *idx)
{
    for (int64_t k = 0; k < part->size; k++) {
        idx[k] = (int64_t)part->x[2 * k];
        if (part->y) assert_true(part->x[2 * k + 1] == (float)part->y[k]);
        else assert_true(part->targets[k] == part->x[2 * k + 1]);
    }
}

/* train and val are a partition of 0..n-1, each in increasing order. */
static void check_partition(const ig_dataset *train, const ig_dataset *val, int64_t n)
{
    int64_t idx[256];
    bool seen[256] = {false};
    assert_int_equal(train->size + val->size, n);
    indices(train, idx);
    indices(val, idx + train->size);
    for (int64_t k = 0; k < n; k++) {
        assert_false(seen[idx[k]]);
        seen[idx[k]] = true;
        if (k > 0 && k != train->size) assert_true(idx[k] > idx[k - 1]);
    }
}

static void split_counts(const ig_dataset *part, int64_t *count, int32_t classes)
{
    memset(count, 0, (size_t)classes * sizeof *count);
    for (int64_t k = 0; k < part->size; k++) count[part->y[k]]++;
}

static void test_sizes_and_determinism(void **state)
{
    fixture *f = *state;
    int32_t labels[50];
    for (int i = 0; i < 50; i++) labels[i] = i % 5 == 4 ? 2 : i % 2;
    ig_dataset *ds = make(f->ctx, 50, labels), *tr, *va, *tr2, *va2, *tr3, *va3;
    OK(ig_dataset_split(ds, 0.2, 7, false, &tr, &va));
    assert_int_equal(ig_dataset_size(va), 10);
    assert_int_equal(ig_dataset_size(tr), 40);
    check_partition(tr, va, 50);
    /* the same seed gives the same split, another seed another */
    OK(ig_dataset_split(ds, 0.2, 7, false, &tr2, &va2));
    assert_memory_equal(va->x, va2->x, 20 * sizeof(float));
    OK(ig_dataset_split(ds, 0.2, 8, false, &tr3, &va3));
    assert_memory_not_equal(va->x, va3->x, 20 * sizeof(float));
    /* ceil, as scikit-learn counts a test_size: 0.01 of 50 is one sample */
    ig_dataset_destroy(tr2);
    ig_dataset_destroy(va2);
    OK(ig_dataset_split(ds, 0.01, 7, false, &tr2, &va2));
    assert_int_equal(ig_dataset_size(va2), 1);
    /* the parts keep the class count and the sample shape */
    assert_int_equal(ig_dataset_num_classes(va2), 3);
    int64_t shape[IG_MAX_DIMS];
    assert_int_equal(ig_dataset_sample_shape(va2, shape), 1);
    assert_int_equal(shape[0], 2);
    ig_dataset *parts[] = {tr, va, tr2, va2, tr3, va3, ds};
    for (size_t i = 0; i < sizeof parts / sizeof *parts; i++) ig_dataset_destroy(parts[i]);
}

static void test_stratified(void **state)
{
    fixture *f = *state;
    /* 7, 7 and 6 samples; 5 for validation: floors 1, 1, 1 and remainders .75, .75, .5 */
    int32_t labels[20];
    for (int i = 0; i < 20; i++) labels[i] = i < 7 ? 0 : i < 14 ? 1 : 2;
    ig_dataset *ds = make(f->ctx, 20, labels), *tr, *va;
    int64_t count[3];
    for (uint64_t seed = 0; seed < 5; seed++) {
        OK(ig_dataset_split(ds, 0.25, seed, true, &tr, &va));
        check_partition(tr, va, 20);
        split_counts(va, count, 3);
        assert_int_equal(count[0], 2);
        assert_int_equal(count[1], 2);
        assert_int_equal(count[2], 1);
        ig_dataset_destroy(tr);
        ig_dataset_destroy(va);
    }
    ig_dataset_destroy(ds);

    /* a rare last class: both parts keep its id and the names */
    int32_t rare[10] = {0, 1, 0, 1, 0, 1, 0, 1, 0, 2};
    ds = make(f->ctx, 10, rare);
    OK(ig_dataset_set_class_names(ds, (const char *[]){"cat", "dog", "eel"}, 3, "test"));
    OK(ig_dataset_split(ds, 0.3, 1, true, &tr, &va));
    split_counts(va, count, 3);
    assert_int_equal(count[0] + count[1] + count[2], 3);
    assert_int_equal(count[2], 0); /* shares 1.5, 1.2, 0.3: the one left over goes to class 0 */
    assert_int_equal(count[0], 2);
    assert_int_equal(ig_dataset_num_classes(va), 3);
    assert_int_equal(ig_dataset_num_classes(tr), 3);
    assert_string_equal(ig_dataset_class_name(va, 2), "eel");
    assert_string_equal(ig_dataset_class_name(tr, 0), "cat");
    ig_dataset_destroy(tr);
    ig_dataset_destroy(va);
    ig_dataset_destroy(ds);
}

static void test_targets(void **state)
{
    fixture *f = *state;
    ig_dataset *ds = make(f->ctx, 12, NULL), *tr, *va;
    assert_int_equal(ig_dataset_target_dim(ds), 1);
    OK(ig_dataset_split(ds, 0.5, 3, false, &tr, &va));
    check_partition(tr, va, 12); /* checks the targets followed their samples */
    assert_int_equal(ig_dataset_target_dim(va), 1);
    assert_int_equal(ig_dataset_num_classes(va), 0);
    ig_dataset_destroy(tr);
    ig_dataset_destroy(va);
    tr = va = (ig_dataset *)&tr;
    assert_int_equal(ig_dataset_split(ds, 0.5, 3, true, &tr, &va), IG_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(ig_last_error(), "stratify needs class labels"));
    assert_null(tr);
    assert_null(va);
    ig_dataset_destroy(ds);
}

static void test_errors(void **state)
{
    fixture *f = *state;
    int32_t labels[4] = {0, 1, 0, 1};
    ig_dataset *ds = make(f->ctx, 4, labels), *tr, *va;
    const double bad[] = {0.0, 1.0, -0.5, 1.5, NAN};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        assert_int_equal(ig_dataset_split(ds, bad[i], 0, false, &tr, &va), IG_ERR_INVALID_ARGUMENT);
        assert_non_null(strstr(ig_last_error(), "val_fraction"));
    }
    /* 0.9 of 4 samples is ceil(3.6) = 4: none left to train on */
    assert_int_equal(ig_dataset_split(ds, 0.9, 0, false, &tr, &va), IG_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(ig_last_error(), "leaves no training samples"));
    assert_int_equal(ig_dataset_split(NULL, 0.5, 0, false, &tr, &va), IG_ERR_INVALID_ARGUMENT);
    assert_int_equal(ig_dataset_split(ds, 0.5, 0, false, NULL, &va), IG_ERR_INVALID_ARGUMENT);
    ig_dataset_destroy(ds);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_sizes_and_determinism, setup_fixture, teardown_fixture),
        cmocka_unit_test_setup_teardown(test_stratified, setup_fixture, teardown_fixture),
        cmocka_unit_test_setup_teardown(test_targets, setup_fixture, teardown_fixture),
        cmocka_unit_test_setup_teardown(test_errors, setup_fixture, teardown_fixture),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
