/* mlp_fmnist.c — trains a 784-512-512-10 MLP on Fashion-MNIST with Adam and prints the
 * loss and accuracy of each epoch and the final test accuracy.
 *
 *   mlp_fmnist [data_dir] [epochs]      (data_dir defaults to /usr/share/datasets/fashion-mnist)
 */
#include <ingot.h>

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define CHECK(call)                                                         \
    do {                                                                    \
        if ((call) != IG_OK) {                                              \
            fprintf(stderr, "mlp_fmnist: %s\n", ig_last_error());           \
            goto fail;                                                      \
        }                                                                   \
    } while (0)

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Mean loss and accuracy of the model over a whole dataset. */
static ig_status evaluate(ig_trainer *t, ig_loader *ld, double *loss, double *acc)
{
    ig_tensor *x, *y;
    double sum = 0;
    int64_t correct = 0, count = 0;
    for (;;) {
        ig_status s = ig_loader_next(ld, &x, &y);
        if (s != IG_OK) return s;
        if (!x) break;
        ig_eval_result r;
        if ((s = ig_eval_batch(t, x, y, &r)) != IG_OK) return s;
        sum += (double)r.loss * r.count;
        correct += r.correct;
        count += r.count;
    }
    *loss = sum / count;
    *acc = (double)correct / count;
    return IG_OK;
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : "/usr/share/datasets/fashion-mnist";
    int epochs = argc > 2 ? atoi(argv[2]) : 10;
    char p1[512], p2[512];
    ig_ctx *ctx = NULL;
    ig_dataset *train = NULL, *test = NULL;
    ig_loader *train_ld = NULL, *test_ld = NULL;
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
    CHECK(ig_loader_create(train, 128, true, 1, false, &train_ld));
    CHECK(ig_loader_create(test, 1000, false, 0, false, &test_ld));

    CHECK(ig_model_create(ctx, (int64_t[]){128, 1, 28, 28}, 4, &m));
    ig_value v = ig_model_input(m);
    v = ig_flatten(m, v, "flatten");
    v = ig_relu(m, ig_dense(m, v, 512, true, "fc1"), "relu1");
    v = ig_relu(m, ig_dense(m, v, 512, true, "fc2"), "relu2");
    v = ig_dense(m, v, 10, true, "fc3");
    CHECK(ig_model_set_output(m, v));

    ig_trainer_config cfg = ig_trainer_defaults();
    cfg.optimizer = IG_OPT_ADAM;
    cfg.learning_rate = 1e-3f;
    CHECK(ig_trainer_create(m, &cfg, &t));
    printf("model: %lld parameters\n", (long long)ig_model_num_params(m));

    double t0 = now(), test_loss = 0, test_acc = 0;
    for (int e = 1; e <= epochs; e++) {
        ig_tensor *x, *y;
        int64_t first = ig_trainer_step_count(t);
        for (;;) {
            CHECK(ig_loader_next(train_ld, &x, &y));
            if (!x) break;
            CHECK(ig_train_batch(t, x, y, NULL)); /* queued: no wait for the device */
        }
        /* the epoch's losses stayed on the device; read them once */
        int64_t steps = ig_trainer_step_count(t) - first;
        float losses[IG_LOSS_HISTORY];
        double sum = 0;
        int64_t n = steps < IG_LOSS_HISTORY ? steps : IG_LOSS_HISTORY;
        CHECK(ig_trainer_losses(t, first + steps - n, n, losses));
        for (int64_t i = 0; i < n; i++) sum += losses[i];
        CHECK(evaluate(t, test_ld, &test_loss, &test_acc));
        printf("epoch %2d  train loss %.4f  test loss %.4f  test accuracy %.4f  (%.1f s)\n", e, sum / n,
               test_loss, test_acc, now() - t0);
        fflush(stdout);
    }
    printf("final test accuracy: %.4f\n", test_acc);
    rc = 0;
fail:
    ig_trainer_destroy(t);
    ig_model_destroy(m);
    ig_loader_destroy(train_ld);
    ig_loader_destroy(test_ld);
    ig_dataset_destroy(train);
    ig_dataset_destroy(test);
    ig_ctx_destroy(ctx);
    return rc;
}
