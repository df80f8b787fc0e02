/* resnet18.c — a CIFAR-style ResNet-18 written out with the functional builder (residual
 * blocks are a function of a value), trained with SGD + momentum, a cosine schedule and weight
 * decay (none on BatchNorm and bias parameters), on any 3×32×32 data:
 *
 *   resnet18 [cifar10_dir] [epochs]
 *
 * cifar10_dir holds CIFAR-10's binary files (data_batch_1.bin ... data_batch_5.bin,
 * test_batch.bin: records of one label byte and 3072 pixel bytes, channel planes in order).
 * Without it (or with "-"), a synthetic 10-class task stands in: each class is a fixed random
 * 3×32×32 pattern, and each sample is its class's pattern plus twice as much noise. */
#include <ingot.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { SIDE = 32, PIXELS = 3 * SIDE * SIDE, CLASSES = 10, BATCH = 128 };

#define CHECK(call)                                                         \
    do {                                                                    \
        if ((call) != IG_OK) {                                              \
            fprintf(stderr, "resnet18: %s\n", ig_last_error());             \
            goto fail;                                                      \
        }                                                                   \
    } while (0)

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* 3×3 (or 1×1) convolution without bias, then batch norm: the unit every block is made of. */
static ig_value conv_bn(ig_model *m, ig_value x, int64_t filters, int64_t kernel, int64_t stride, const char *name)
{
    char conv[64], bn[64];
    snprintf(conv, sizeof conv, "%s.conv", name);
    snprintf(bn, sizeof bn, "%s.bn", name);
    return ig_batchnorm(m, ig_conv2d(m, x, filters, kernel, stride, kernel / 2, false, conv), 0.1f, 1e-5f, bn);
}

/* relu(bn(conv(relu(bn(conv(x))))) + shortcut(x)); the shortcut is a strided 1×1 conv + BN
 * where the shape changes, else x itself. */
static ig_value basic_block(ig_model *m, ig_value x, int64_t in_channels, int64_t filters, int64_t stride,
                            const char *name)
{
    char a[48], b[48], s[48];
    snprintf(a, sizeof a, "%s.a", name);
    snprintf(b, sizeof b, "%s.b", name);
    snprintf(s, sizeof s, "%s.shortcut", name);
    ig_value y = ig_relu(m, conv_bn(m, x, filters, 3, stride, a), NULL);
    y = conv_bn(m, y, filters, 3, 1, b);
    ig_value shortcut = stride != 1 || in_channels != filters ? conv_bn(m, x, filters, 1, stride, s) : x;
    return ig_relu(m, ig_add(m, y, shortcut, NULL), NULL);
}

static ig_status build(ig_ctx *ctx, ig_model **out)
{
    ig_status st = ig_model_create(ctx, (int64_t[]){BATCH, 3, SIDE, SIDE}, 4, out);
    if (st != IG_OK) return st;
    ig_model *m = *out;
    ig_value v = ig_relu(m, conv_bn(m, ig_model_input(m), 64, 3, 1, "stem"), NULL);
    int64_t channels = 64;
    for (int stage = 0; stage < 4; stage++) {
        int64_t filters = 64 << stage;
        for (int block = 0; block < 2; block++) {
            char name[32];
            snprintf(name, sizeof name, "stage%d.%d", stage + 1, block);
            v = basic_block(m, v, channels, filters, stage > 0 && block == 0 ? 2 : 1, name);
            channels = filters;
        }
    }
    v = ig_dense(m, ig_global_avgpool(m, v, "pool"), CLASSES, true, "fc");
    /* the builders keep their first error; one check covers them all */
    return ig_model_set_output(m, v);
}

/* Reads n records of CIFAR-10's binary format from `path` into x (normalised per channel with
 * CIFAR-10's means and deviations) and y; returns the records read (0 on a missing file). */
static int64_t read_cifar(const char *path, float *x, int32_t *y, int64_t n)
{
    static const float mean[3] = {0.4914f, 0.4822f, 0.4465f}, std[3] = {0.2470f, 0.2435f, 0.2616f};
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    unsigned char rec[1 + PIXELS];
    int64_t i = 0;
    for (; i < n && fread(rec, sizeof rec, 1, f) == 1; i++) {
        y[i] = rec[0] < CLASSES ? rec[0] : 0;
        for (int p = 0; p < PIXELS; p++) x[i * PIXELS + p] = (rec[1 + p] / 255.0f - mean[p / (SIDE * SIDE)]) / std[p / (SIDE * SIDE)];
    }
    fclose(f);
    return i;
}

/* Samples of the synthetic task: pattern[label] + 2·noise, noise uniform in [-1, 1). */
static void synthesize(float *x, int32_t *y, int64_t n, uint64_t seed)
{
    uint64_t s = 0x9E3779B97F4A7C15ull;
    static float pattern[CLASSES][PIXELS];
    for (int c = 0; c < CLASSES; c++)
        for (int p = 0; p < PIXELS; p++) {
            s ^= s << 13, s ^= s >> 7, s ^= s << 17;
            pattern[c][p] = (float)(s >> 40) / (float)(1 << 24) * 2.0f - 1.0f;
        }
    s ^= seed * 0xD1B54A32D192ED03ull;
    for (int64_t i = 0; i < n; i++) {
        s ^= s << 13, s ^= s >> 7, s ^= s << 17;
        y[i] = (int32_t)(s % CLASSES);
        for (int p = 0; p < PIXELS; p++) {
            s ^= s << 13, s ^= s >> 7, s ^= s << 17;
            x[i * PIXELS + p] = pattern[y[i]][p] + 2.0f * ((float)(s >> 40) / (float)(1 << 24) * 2.0f - 1.0f);
        }
    }
}

/* The training (or test) split as a dataset on the device: CIFAR-10 from dir, else synthetic.
 * Prints what went wrong. */
static ig_status load(ig_ctx *ctx, const char *dir, bool train, ig_dataset **out)
{
    int64_t n = dir ? (train ? 50000 : 10000) : (train ? 10000 : 2000);
    ig_tensor *x = NULL, *y = NULL;
    ig_status st = ig_tensor_create(ctx, IG_F32, (int64_t[]){n, 3, SIDE, SIDE}, 4, &x);
    if (st == IG_OK) st = ig_tensor_create(ctx, IG_I32, &n, 1, &y);
    if (st != IG_OK) goto done;
    float *xd = ig_tensor_data(x);
    int32_t *yd = ig_tensor_data(y);
    if (dir) {
        int64_t got = 0;
        char path[1024];
        for (int b = 1; b <= (train ? 5 : 1); b++) {
            if (train) snprintf(path, sizeof path, "%s/data_batch_%d.bin", dir, b);
            else snprintf(path, sizeof path, "%s/test_batch.bin", dir);
            got += read_cifar(path, xd + got * PIXELS, yd + got, 10000);
        }
        if (got != n) {
            fprintf(stderr, "resnet18: %s holds %lld of CIFAR-10's %lld %s records\n", dir, (long long)got,
                    (long long)n, train ? "training" : "test");
            st = IG_ERR_IO;
            goto done;
        }
    } else {
        synthesize(xd, yd, n, train ? 1 : 2);
    }
    st = ig_dataset_create(ctx, x, y, out);
done:
    if (st != IG_OK && st != IG_ERR_IO) fprintf(stderr, "resnet18: %s\n", ig_last_error());
    ig_tensor_release(x);
    ig_tensor_release(y);
    return st;
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 && strcmp(argv[1], "-") != 0 ? argv[1] : NULL;
    int epochs = argc > 2 ? atoi(argv[2]) : 5;
    if (argc > 3 || epochs < 1) {
        fprintf(stderr, "usage: resnet18 [cifar10_dir | -] [epochs >= 1]\n");
        return 2;
    }
    ig_ctx *ctx = NULL;
    ig_dataset *train = NULL, *test = NULL;
    ig_model *m = NULL;
    ig_trainer *t = NULL;
    int rc = 1;

    CHECK(ig_ctx_create(IG_DEVICE_AUTO, &ctx));
    printf("device: %s, data: %s\n", ig_device_name(ig_ctx_device(ctx)), dir ? dir : "synthetic");
    if (load(ctx, dir, true, &train) != IG_OK || load(ctx, dir, false, &test) != IG_OK) goto fail;
    CHECK(build(ctx, &m));
    printf("%lld parameters\n", (long long)ig_model_num_params(m));

    int64_t steps_per_epoch = ig_dataset_size(train) / BATCH;
    ig_trainer_config cfg = ig_trainer_defaults_for(IG_OPT_SGD);
    cfg.learning_rate = 0.05f;
    cfg.momentum = 0.9f;
    cfg.weight_decay = 5e-4f;
    cfg.no_decay_1d = true; /* BatchNorm scales and shifts, and biases */
    cfg.schedule.kind = IG_SCHEDULE_COSINE;
    cfg.schedule.total_steps = steps_per_epoch * epochs;
    CHECK(ig_trainer_create(m, &cfg, &t));

    ig_epoch_config ep = ig_epoch_defaults();
    ep.batch_size = BATCH;
    ep.drop_last = true;
    ep.seed = 1;
    double t0 = now(), acc = 0;
    for (int e = 1; e <= epochs; e++) {
        int64_t steps;
        float last;
        CHECK(ig_train_epoch(t, train, &ep, &steps));
        CHECK(ig_trainer_losses(t, ig_trainer_step_count(t) - 1, 1, &last));
        ig_eval_result r;
        CHECK(ig_evaluate(t, test, 500, &r)); /* BatchNorm uses its running statistics here */
        acc = (double)r.correct / (double)r.count;
        printf("epoch %2d  last loss %.4f  test loss %.4f  test accuracy %.4f  (%.1f s)\n", e, last, r.loss, acc,
               now() - t0);
        fflush(stdout);
    }
    printf("final test accuracy: %.4f\n", acc);
    rc = 0;
fail:
    ig_trainer_destroy(t);
    ig_model_destroy(m);
    ig_dataset_destroy(train);
    ig_dataset_destroy(test);
    ig_ctx_destroy(ctx);
    return rc;
}
