/* cnn_fmnist.c — trains the cnn_small network (two 3×3 conv + ReLU + 2×2 max-pool blocks, then
 * a 128-unit hidden dense layer) on Fashion-MNIST with Adam, on the GPU when there is one, and
 * prints the loss and accuracy of each epoch and the final test accuracy.
 *
 *   cnn_fmnist [data_dir] [epochs]      (data_dir defaults to /usr/share/datasets/fashion-mnist,
 *                                        epochs to 10)
 */
#include <ingot.h>

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define CHECK(call)                                                         \
    do {                                                                    \
        if ((call) != IG_OK) {                                              \
            fprintf(stderr, "cnn_fmnist: %s\n", ig_last_error());           \
            goto fail;                                                      \
        }                                                                   \
    } while (0)

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : "/usr/share/datasets/fashion-mnist";
    int epochs = argc > 2 ? atoi(argv[2]) : 10;
    if (argc > 3 || epochs < 1) {
        fprintf(stderr, "usage: cnn_fmnist [data_dir] [epochs >= 1]\n");
        return 2;
    }
    char p1[512], p2[512];
    ig_ctx *ctx = NULL;
    ig_dataset *train = NULL, *test = NULL;
    ig_model *m = NULL;
    ig_trainer *t = NULL;
    int rc = 1;

    CHECK(ig_ctx_create(IG_DEVICE_AUTO, &ctx));
    printf("device: %s\n", ig_device_name(ig_ctx_device(ctx)));
    snprintf(p1, sizeof p1, "%s/train-images-idx3-ubyte.gz", dir);
    snprintf(p2, sizeof p2, "%s/train-labels-idx1-ubyte.gz", dir);
    CHECK(ig_dataset_load_idx(ctx, p1, p2, &train));
    snprintf(p1, sizeof p1, "%s/t10k-images-idx3-ubyte.gz", dir);
    snprintf(p2, sizeof p2, "%s/t10k-labels-idx1-ubyte.gz", dir);
    CHECK(ig_dataset_load_idx(ctx, p1, p2, &test));
    CHECK(ig_dataset_normalize(train, 0.2860f, 0.3530f));
    CHECK(ig_dataset_normalize(test, 0.2860f, 0.3530f));

    CHECK(ig_model_create(ctx, (int64_t[]){128, 1, 28, 28}, 4, &m));
    ig_value v = ig_model_input(m); /* [n, 1, 28, 28] */
    v = ig_relu(m, ig_conv2d(m, v, 32, 3, 1, 1, true, "conv1"), "relu1");
    v = ig_maxpool2d(m, v, 2, 2, 0, "pool1"); /* [n, 32, 14, 14] */
    v = ig_relu(m, ig_conv2d(m, v, 64, 3, 1, 1, true, "conv2"), "relu2");
    v = ig_maxpool2d(m, v, 2, 2, 0, "pool2"); /* [n, 64, 7, 7] */
    v = ig_flatten(m, v, "flatten");
    v = ig_relu(m, ig_dense(m, v, 128, true, "fc1"), "relu3");
    v = ig_dense(m, v, 10, true, "fc2");
    CHECK(ig_model_set_output(m, v));

    ig_trainer_config cfg = ig_trainer_defaults();
    cfg.optimizer = IG_OPT_ADAM;
    cfg.learning_rate = 1e-3f;
    CHECK(ig_trainer_create(m, &cfg, &t));
    char summary[4096];
    CHECK(ig_model_summary(m, summary, sizeof summary, NULL));
    fputs(summary, stdout);

    /* Both datasets stay on the device: each step gathers its own shuffled batch there. */
    ig_epoch_config ep = ig_epoch_defaults();
    ep.batch_size = 128;
    ep.seed = 1;
    double t0 = now(), test_acc = 0;
    for (int e = 1; e <= epochs; e++) {
        int64_t first = ig_trainer_step_count(t), steps;
        CHECK(ig_train_epoch(t, train, &ep, &steps)); /* queued: no wait for the device */
        /* the epoch's losses stayed on the device; read them once */
        float losses[IG_LOSS_HISTORY];
        int64_t n = steps < IG_LOSS_HISTORY ? steps : IG_LOSS_HISTORY;
        CHECK(ig_trainer_losses(t, first + steps - n, n, losses));
        double sum = 0;
        for (int64_t i = 0; i < n; i++) sum += losses[i];
        ig_eval_result r;
        CHECK(ig_evaluate(t, test, 1000, &r));
        test_acc = (double)r.correct / (double)r.count;
        printf("epoch %2d  train loss %.4f  test loss %.4f  test accuracy %.4f  (%.1f s)\n", e, sum / n, r.loss,
               test_acc, now() - t0);
        fflush(stdout);
    }
    printf("final test accuracy: %.4f\n", test_acc);
    rc = 0;
fail:
    ig_trainer_destroy(t);
    ig_model_destroy(m);
    ig_dataset_destroy(train);
    ig_dataset_destroy(test);
    ig_ctx_destroy(ctx);
    return rc;
}
