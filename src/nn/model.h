/* model.h — the model's internals, shared with the trainer and internal tools. */
#ifndef IG_MODEL_H
#define IG_MODEL_H

#include "backend/backend.h"

/* How a parameter or buffer starts. */
typedef enum ig_init {
    IG_INIT_UNIFORM = 0, /* uniform in ±1/sqrt(fan_in), PyTorch's Linear/Conv default */
    IG_INIT_ZEROS,
    IG_INIT_ONES,
} ig_init;

/* A parameter (trainable) or a buffer (model state the optimizer never touches: batch norm's
 * running statistics). Both live in the model's PARAMS memory, the buffers after every
 * trainable parameter, so gradients and the optimizer cover [0, params_bytes) only. */
typedef struct ig_param {
    char name[IG_NAME_LEN];
    int val;         /* the leaf value in the model's graph */
    int64_t fan_in;  /* for IG_INIT_UNIFORM's bound */
    ig_init init;
    bool trainable;
    size_t offset;   /* within the trainable parameters, or within the buffers */
} ig_param;

#define IG_PROGRAM_CACHE 4

/* Programs compiled per shape (batch size, and for steps over a resident dataset its size,
 * the batch stride and the mode); the least recently built is replaced when full. */
typedef struct ig_program_key {
    int64_t batch, stride, count, mode;
} ig_program_key;

typedef struct ig_program_cache {
    ig_program_key key[IG_PROGRAM_CACHE];
    ig_program *prog[IG_PROGRAM_CACHE];
    int next;
} ig_program_cache;

struct ig_model {
    ig_ctx *ctx;
    ig_graph g; /* forward graph at the nominal batch size */
    int input, output;
    ig_status err;
    char err_msg[512];
    ig_param *params;
    int n_params, cap_params;
    size_t params_bytes;  /* the trainable parameters at the start of PARAMS, each 256-byte aligned */
    size_t buffers_bytes; /* the buffers after them (offsets final once the model is finalised) */
    int n_layers;
    uint64_t seed;
    /* Training forward passes run (each updates every batch norm's running statistics once):
     * PyTorch's num_batches_tracked, which weights files carry (src/nn/weights.c). */
    int64_t bn_batches;
    void *param_mem; /* backend memory, allocated when the model is finalised */
    ig_program_cache predict;
};

/* Places the buffers after the trainable parameters, allocates and initialises both (once);
 * later calls do nothing. Programs are built from a finalised model only. */
ig_status ig_model_finalize(ig_model *m);
/* A copy of the forward graph for batch size `batch`, shapes re-inferred. `training`: for a
 * step program (dropout draws its masks; it must run with the trainer's STATE memory bound;
 * batch norm normalises with the batch's statistics and updates its running ones), else for
 * evaluation and prediction (dropout is the identity; batch norm uses the running statistics). */
ig_status ig_model_instantiate(const ig_model *m, int64_t batch, bool training, ig_graph *out);
/* Checks that x fits the model's input for some batch size; returns it. */
ig_status ig_model_check_input(const ig_model *m, const ig_tensor *x, const char *what, int64_t *batch);

ig_program *ig_program_cache_find(const ig_program_cache *c, ig_program_key key);
void ig_program_cache_put(ig_program_cache *c, ig_program_key key, ig_program *p);
void ig_program_cache_clear(ig_program_cache *c);

#endif /* IG_MODEL_H */
