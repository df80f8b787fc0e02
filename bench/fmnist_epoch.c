/* fmnist_epoch.c — whole Fashion-MNIST epochs of a preset model (mlp: mlp_small, cnn:
 * cnn_small; batch 128, Adam lr 1e-3) from a dataset kept on the device: samples/s of each epoch
 * (timed from the first step to the completion of the last, read back through the loss ring),
 * and time to a test accuracy (default 0.885 for mlp, 0.916 for cnn, WORKLOADS.md's).
 *
 *   bench_fmnist_epoch [--preset mlp|cnn] [--device cpu|cuda|auto] [--epochs N] [--target ACC]
 *                      [--dir DIR] [--json]
 */
#include <ingot.h>
#include "clock.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(call)                                                        \
    do {                                                                   \
        if ((call) != IG_OK) {                                             \
            fprintf(stderr, "bench_fmnist_epoch: %s\n", ig_last_error());  \
            goto done;                                                     \
        }                                                                  \
    } while (0)

int main(int argc, char **argv)
{
    ig_device device = IG_DEVICE_AUTO;
    int epochs = 8;
    double target = 0;
    const char *preset = "mlp";
    const char *dir = "/usr/share/datasets/fashion-mnist";
    bool json = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--json") == 0) json = true;
        else if (strcmp(a, "--device") == 0 && v) {
            device = strcmp(v, "cpu") == 0 ? IG_DEVICE_CPU : strcmp(v, "cuda") == 0 ? IG_DEVICE_CUDA : IG_DEVICE_AUTO;
            i++;
        } else if (strcmp(a, "--epochs") == 0 && v && atoi(v) > 0) epochs = atoi(argv[++i]);
        else if (strcmp(a, "--target") == 0 && v) target = atof(argv[++i]);
        else if (strcmp(a, "--preset") == 0 && v && (!strcmp(v, "mlp") || !strcmp(v, "cnn"))) preset = argv[++i];
        else if (strcmp(a, "--dir") == 0 && v) dir = argv[++i];
        else {
            fprintf(stderr, "usage: bench_fmnist_epoch [--preset mlp|cnn] [--device cpu|cuda|auto] [--epochs N] [--target ACC] "
                            "[--dir DIR] [--json]\n");
            return 2;
        }
    }
    if (target <= 0) target = strcmp(preset, "cnn") == 0 ? 0.916 : 0.885;
    int rc = 1;
    ig_ctx *ctx = NULL;
    ig_dataset *train = NULL, *test = NULL;
    ig_model *m = NULL;
    ig_trainer *t = NULL;
    char p1[512], p2[512];
    CHECK(ig_ctx_create(device, &ctx));
    snprintf(p1, sizeof p1, "%s/train-images-idx3-ubyte.gz", dir);
    snprintf(p2, sizeof p2, "%s/train-labels-idx1-ubyte.gz", dir);
    CHECK(ig_dataset_load_idx(ctx, p1, p2, &train));
    snprintf(p1, sizeof p1, "%s/t10k-images-idx3-ubyte.gz", dir);
    snprintf(p2, sizeof p2, "%s/t10k-labels-idx1-ubyte.gz", dir);
    CHECK(ig_dataset_load_idx(ctx, p1, p2, &test));
    CHECK(ig_dataset_normalize(train, 0.2860f, 0.3530f));
    CHECK(ig_dataset_normalize(test, 0.2860f, 0.3530f));
    CHECK(ig_model_create_preset(ctx, preset, (int64_t[]){128, 1, 28, 28}, 4, 10, &m));
    ig_trainer_config cfg = ig_trainer_defaults();
    CHECK(ig_trainer_create(m, &cfg, &t));
    ig_epoch_config ep = ig_epoch_defaults();
    ep.seed = 1;
    /* warm-up outside the timing: compile the programs and copy the datasets once */
    ig_eval_result r;
    CHECK(ig_evaluate(t, test, 1000, &r));
    double start = bench_now(), reached = -1, best = 0;
    int reached_epoch = -1;
    for (int e = 1; e <= epochs; e++) {
        double t0 = bench_now();
        int64_t steps;
        float last;
        CHECK(ig_train_epoch(t, train, &ep, &steps));
        CHECK(ig_trainer_losses(t, ig_trainer_step_count(t) - 1, 1, &last)); /* waits for the epoch */
        double dt = bench_now() - t0;
        CHECK(ig_evaluate(t, test, 1000, &r));
        double acc = (double)r.correct / (double)r.count, wall = bench_now() - start;
        if (acc > best) best = acc;
        if (reached < 0 && acc >= target) {
            reached = wall;
            reached_epoch = e;
        }
        if (json)
            printf("{\"bench\":\"fmnist_epoch\",\"preset\":\"%s\",\"device\":\"%s\",\"epoch\":%d,\"epoch_s\":%.4f,\"samples_per_s\":%.0f,"
                   "\"test_acc\":%.4f,\"wall_s\":%.3f}\n", preset, ig_device_name(ig_ctx_device(ctx)), e, dt,
                   (double)ig_dataset_size(train) / dt, acc, wall);
        else
            printf("epoch %d: %.3f s, %.0f samples/s, last loss %.4f, test accuracy %.4f (wall %.2f s)\n", e, dt,
                   (double)ig_dataset_size(train) / dt, last, acc, wall);
    }
    if (reached >= 0) printf("reached %.3f test accuracy in %.2f s (epoch %d)\n", target, reached, reached_epoch);
    else printf("did not reach %.3f in %d epochs (best %.4f)\n", target, epochs, best);
    rc = 0;
done:
    ig_trainer_destroy(t);
    ig_model_destroy(m);
    ig_dataset_destroy(train);
    ig_dataset_destroy(test);
    ig_ctx_destroy(ctx);
    return rc;
}
