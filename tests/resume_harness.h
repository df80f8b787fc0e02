/* resume_harness.h — training runs that are cut by a checkpoint and resumed, for the
 * exact-resume tests on the CPU (test_checkpoint.c, in separate processes) and on CUDA
 * (test_cuda.c). A scenario is a model and a trainer configuration trained for a number of
 * units: batches through ig_train_batch, or epochs over a resident dataset with shuffling,
 * evaluation, reduce-on-plateau and early stopping. */
#ifndef IG_RESUME_HARNESS_H
#define IG_RESUME_HARNESS_H

#include <ingot.h>

#include <stddef.h>

typedef struct resume_scenario {
    const char *name;
    ig_model *(*build)(ig_ctx *ctx);
    void (*configure)(ig_trainer_config *cfg);
    int epochs; /* 1: units are epochs; 0: batches */
} resume_scenario;

extern const resume_scenario resume_scenarios[];
extern const int resume_n_scenarios;
const resume_scenario *resume_find(const char *name);

typedef struct resume_run {
    const resume_scenario *sc;
    ig_ctx *ctx;
    ig_model *m;
    ig_trainer *t;
    ig_dataset *train, *val;
    ig_plateau *plateau;
    ig_early_stopping *early;
} resume_run;

/* A fresh context, model, trainer (and datasets and monitors for epochs) on `device`. */
ig_status resume_open(const resume_scenario *sc, ig_device device, resume_run *r);
void resume_close(resume_run *r);
ig_checkpoint_monitors resume_monitors(resume_run *r);
/* Trains units first .. first+count-1 (each unit's data depends on its number only). */
ig_status resume_train(resume_run *r, int first, int count);
/* A run from scratch: resume_open, load `in` unless NULL, train, save the checkpoint `out`. */
ig_status resume_segment(const resume_scenario *sc, ig_device device, const char *in, const char *out, int first,
                         int count);
/* Whether two runs are in the same state, bit for bit: every parameter and buffer, the step
 * and epoch counts, the learning rate, the whole loss history, the monitors; else *why says
 * what differs. */
int resume_same(resume_run *a, resume_run *b, char *why, size_t size);

/* Removes the checkpoints in dir, then dir (it must hold nothing else). */
ig_status resume_remove_dir(const char *dir);

#endif /* IG_RESUME_HARNESS_H */
