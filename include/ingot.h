/*
 * ingot.h — the one public header of ingot, a deep-learning training library in C.
 *
 * ingot keeps a model's whole training state (weights, gradients, optimizer state,
 * learning rate, step counter, loss) in the backend's memory and runs a training step —
 * forward, loss, backward, optimizer update — as one call that executes one pre-built
 * step program. Models are op graphs; the backward pass comes from reverse-mode autodiff
 * and the memory of every transient value is planned into one arena before anything runs.
 *
 * Conventions (they hold for every function below):
 *   - Fallible functions return ig_status; IG_OK is 0. On failure ig_last_error() holds a
 *     readable message (thread-local) naming what was wrong and where. The library never
 *     aborts, exits or prints on a caller's mistake.
 *   - Out-parameters come last. Objects are opaque and come in create/destroy pairs;
 *     destroy functions accept NULL.
 *   - Layouts at the boundary are PyTorch's: activations NCHW, Dense weight [out, in]
 *     (y = x·Wᵀ + b).
 *   - No global state besides the thread-local error message. Distinct objects may be
 *     used from distinct threads; one object must not be used from two threads at once.
 *
 * Example (this block is compiled by the test suite, tests/test_header_example.c):
 *
 *   ig_ctx *ctx = NULL;
 *   ig_model *m = NULL;
 *   ig_trainer *t = NULL;
 *   if (ig_ctx_create(IG_DEVICE_AUTO, &ctx) != IG_OK) { puts(ig_last_error()); return 1; }
 *   ig_model_create(ctx, (int64_t[]){64, 1, 28, 28}, 4, &m);   // nominal batch of 64
 *   ig_value v = ig_model_input(m);
 *   v = ig_flatten(m, v, "flatten");
 *   v = ig_dense(m, v, 128, true, "fc1");
 *   v = ig_relu(m, v, "relu1");
 *   v = ig_dense(m, v, 10, true, "fc2");
 *   ig_model_set_output(m, v);
 *   ig_trainer_config cfg = ig_trainer_defaults();
 *   cfg.optimizer = IG_OPT_ADAM;
 *   cfg.learning_rate = 1e-3f;
 *   cfg.loss = IG_LOSS_SPARSE_CROSS_ENTROPY;
 *   if (ig_trainer_create(m, &cfg, &t) != IG_OK) { puts(ig_last_error()); return 1; }
 *   // x: f32 [n, 1, 28, 28], y: i32 [n] class ids; any n up to the memory you have
 *   float loss;
 *   ig_train_batch(t, x, y, &loss);
 *   ig_trainer_destroy(t);
 *   ig_model_destroy(m);
 *   ig_ctx_destroy(ctx);
 */
#ifndef INGOT_H
#define INGOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define IG_VERSION_MAJOR 0
#define IG_VERSION_MINOR 1
#define IG_VERSION_PATCH 0

/* ---------------------------------------------------------------- status */

typedef enum ig_status {
    IG_OK = 0,
    IG_ERR_INVALID_ARGUMENT, /* a NULL handle, a bad size, an out-of-range value */
    IG_ERR_SHAPE,            /* shapes that do not fit together */
    IG_ERR_OUT_OF_MEMORY,    /* host or device allocation failed */
    IG_ERR_IO,               /* a file could not be opened, read or written */
    IG_ERR_FORMAT,           /* a file's contents are malformed or truncated */
    IG_ERR_UNSUPPORTED,      /* valid, but not available (op, dtype, device) */
    IG_ERR_STATE,            /* the call does not fit the object's state */
    IG_ERR_DEVICE,           /* the backend (driver, BLAS) reported a failure */
    IG_ERR_INTERNAL,         /* a bug in ingot: please report it */
} ig_status;

/* The message of the last failure on this thread ("" if none). Valid until the next
 * failing call on the same thread. */
const char *ig_last_error(void);
/* A constant name for a status code ("IG_ERR_SHAPE"). */
const char *ig_status_name(ig_status s);

/* ---------------------------------------------------------------- context */

typedef enum ig_device {
    IG_DEVICE_AUTO = 0, /* CUDA when a GPU is present and the build has it, else CPU */
    IG_DEVICE_CPU,
    IG_DEVICE_CUDA,
} ig_device;

typedef struct ig_ctx ig_ctx;

/* Creates a context on a device. The environment variable INGOT_DEVICE ("cpu", "cuda",
 * "auto") overrides IG_DEVICE_AUTO (only AUTO: an explicit choice wins). Asking for a
 * device this build or machine does not have gives IG_ERR_UNSUPPORTED. */
ig_status ig_ctx_create(ig_device device, ig_ctx **out);
void ig_ctx_destroy(ig_ctx *ctx);
/* The device the context runs on (never IG_DEVICE_AUTO). */
ig_device ig_ctx_device(const ig_ctx *ctx);
/* "cpu" or "cuda". */
const char *ig_device_name(ig_device d);

typedef struct ig_memory_stats {
    size_t host_in_use;     /* bytes in live host allocations (tensors, buffers) */
    size_t host_peak;       /* high-water mark of host_in_use */
    size_t pool_cached;     /* bytes freed into the caching pool, held for reuse */
    size_t pool_hits;       /* allocations served from the pool */
    size_t pool_misses;     /* allocations that went to the system */
    size_t device_in_use;   /* bytes of backend memory: parameters, gradients, optimizer
                               state, arenas, IO blocks, resident datasets, GEMM workspaces
                               (on the CPU backend this memory is host memory) */
    size_t device_peak;
    size_t pinned_in_use;   /* page-locked host memory for transfers (CUDA staging buffers) */
    size_t arena_planned;   /* bytes of the largest planned arena of a compiled program */
    size_t arena_unplanned; /* what that program's transient values would take without
                               planning (the sum of their sizes) */
} ig_memory_stats;

/* Every allocation made through this context is accounted here. */
ig_status ig_memory_stats_get(const ig_ctx *ctx, ig_memory_stats *out);

/* ---------------------------------------------------------------- tensors */

typedef enum ig_dtype {
    IG_F32 = 0,
    IG_I32,
    IG_I64,
    IG_BF16, /* declared for mixed precision; not yet computed on */
    IG_F16,  /* declared for mixed precision; not yet computed on */
} ig_dtype;

#define IG_MAX_DIMS 6

/* A reference-counted, contiguous, host-side array. Tensors carry batches into the
 * trainer and results out of it. Their memory comes from the context's caching pool
 * (64-byte aligned). A new tensor has one reference; ig_tensor_release drops one and
 * frees the tensor when none remain. */
typedef struct ig_tensor ig_tensor;

/* A zero-filled tensor of the given shape (ndim 1..IG_MAX_DIMS, every dim ≥ 1). */
ig_status ig_tensor_create(ig_ctx *ctx, ig_dtype dtype, const int64_t *shape, int ndim,
                           ig_tensor **out);
/* A tensor holding a copy of `bytes` bytes of `data`; `bytes` must equal its size. */
ig_status ig_tensor_from_data(ig_ctx *ctx, ig_dtype dtype, const int64_t *shape, int ndim,
                              const void *data, size_t bytes, ig_tensor **out);
ig_tensor *ig_tensor_retain(ig_tensor *t);
void ig_tensor_release(ig_tensor *t);

ig_dtype ig_tensor_dtype(const ig_tensor *t);
int ig_tensor_ndim(const ig_tensor *t);
/* Dimension i (negative i counts from the end); -1 if out of range. */
int64_t ig_tensor_dim(const ig_tensor *t, int i);
int64_t ig_tensor_numel(const ig_tensor *t);
size_t ig_tensor_nbytes(const ig_tensor *t);
/* The tensor's data, for reading and writing in place. */
void *ig_tensor_data(ig_tensor *t);
const void *ig_tensor_data_const(const ig_tensor *t);
/* Bytes per element of a dtype. */
size_t ig_dtype_size(ig_dtype dtype);
const char *ig_dtype_name(ig_dtype dtype);

/* ---------------------------------------------------------------- models */

/* A model is an op graph built layer by layer. Builder functions take a value and return
 * a new one (functional style, so branches and residual sums are natural). On a mistake
 * (mismatched shapes, a bad attribute) a builder returns IG_NO_VALUE, sets the last
 * error, and the model keeps the first such error: later builder calls return
 * IG_NO_VALUE, and ig_model_status / ig_trainer_create report it. So a model can be
 * built without checking each call, and checked once. */
typedef struct ig_model ig_model;
typedef int32_t ig_value;
#define IG_NO_VALUE ((ig_value)-1)

/* input_shape includes a nominal batch size as its first dimension (e.g. {128, 1, 28, 28});
 * the batch dimension stays free: a program is compiled for each batch size met. */
ig_status ig_model_create(ig_ctx *ctx, const int64_t *input_shape, int ndim, ig_model **out);
/* The model must outlive every trainer made from it. */
void ig_model_destroy(ig_model *m);
/* IG_OK, or the first error met while building (its message is ig_last_error()'s then). */
ig_status ig_model_status(const ig_model *m);
/* The seed of the parameter initialisation (default 42). Only before the model is
 * finalised, i.e. before the first trainer, prediction or parameter access. */
ig_status ig_model_set_seed(ig_model *m, uint64_t seed);

ig_value ig_model_input(ig_model *m);
/* Marks the value the model outputs (logits for classification). Without a call, the
 * output is the value the last builder call returned. */
ig_status ig_model_set_output(ig_model *m, ig_value v);

/* Layers. `name` may be NULL (a name is made up: "dense0", ...); names of layers with
 * parameters must be unique, and parameters are named "<layer>.weight" and "<layer>.bias".
 * Dense: x [n, in] -> [n, units]; weight [units, in], bias [units]; initialised as PyTorch's
 * nn.Linear (uniform in ±1/sqrt(in)). */
ig_value ig_dense(ig_model *m, ig_value x, int64_t units, bool bias, const char *name);
ig_value ig_relu(ig_model *m, ig_value x, const char *name);
ig_value ig_tanh(ig_model *m, ig_value x, const char *name);
/* More elementwise activations, any shape, with PyTorch's definitions:
 *   leaky_relu: x > 0 ? x : slope·x (nn.LeakyReLU(negative_slope); PyTorch's default 0.01)
 *   elu:        x > 0 ? x : alpha·(eˣ − 1) (nn.ELU(alpha); default 1)
 *   sigmoid:    1 / (1 + e⁻ˣ)
 *   swish:      x·sigmoid(x) (nn.SiLU)
 *   gelu:       x·Φ(x), Φ the standard normal CDF (nn.GELU()); with tanh_approximation,
 *               ½x·(1 + tanh(√(2/π)·(x + 0.044715x³))) (nn.GELU(approximate='tanh'))
 * A slope or alpha that is not finite is a build error; negative ones are allowed, as in
 * PyTorch. */
ig_value ig_leaky_relu(ig_model *m, ig_value x, float slope, const char *name);
ig_value ig_elu(ig_model *m, ig_value x, float alpha, const char *name);
ig_value ig_sigmoid(ig_model *m, ig_value x, const char *name);
ig_value ig_swish(ig_model *m, ig_value x, const char *name);
ig_value ig_gelu(ig_model *m, ig_value x, bool tanh_approximation, const char *name);
/* Softmax over the last axis (nn.Softmax(dim=-1)), computed stably (each row shifted by its
 * maximum). For classification, train on logits with the cross-entropy losses (they include
 * the softmax) and keep this for a model's probability output or attention-like layers. */
ig_value ig_softmax(ig_model *m, ig_value x, const char *name);
/* [n, d1, d2, ...] -> [n, d1·d2·...]. No copy. */
ig_value ig_flatten(ig_model *m, ig_value x, const char *name);
/* [n, ...] -> [n, shape[0], ..., shape[ndim−1]]: the same elements seen with another shape
 * (no copy); the batch dimension is kept. A differing element count is a build error naming
 * the layer. */
ig_value ig_reshape(ig_model *m, ig_value x, const int64_t *shape, int ndim, const char *name);
/* nn.Dropout(p): in training steps each element is zeroed with probability p and the rest
 * are scaled by 1/(1−p); in ig_predict and evaluation it is the identity. p in [0, 1).
 * The mask is a hash of the model's seed, the layer's index, the step counter (read on the
 * device, so each step draws a new mask) and the element's index: reproducible from the
 * seed, the same on every backend, and redrawn rather than stored for the gradient. */
ig_value ig_dropout(ig_model *m, ig_value x, float p, const char *name);
/* Pooling over NCHW activations [n, c, h, w], with PyTorch's semantics: square windows of
 * `kernel`, moved by `stride`, over the input padded by `padding` on each side (0 ≤ padding ≤
 * kernel/2, the kernel no larger than the padded input); output [n, c, oh, ow] with
 * oh = (h + 2·padding − kernel) / stride + 1 rounded down (no ceil mode), likewise ow.
 * Max pooling never picks padding; its gradient goes to the first maximum of each window
 * (nn.MaxPool2d). Average pooling divides by kernel², padding included (nn.AvgPool2d's
 * count_include_pad=True). A bad argument or input is a build error naming the layer. */
ig_value ig_maxpool2d(ig_model *m, ig_value x, int64_t kernel, int64_t stride, int64_t padding, const char *name);
ig_value ig_avgpool2d(ig_model *m, ig_value x, int64_t kernel, int64_t stride, int64_t padding, const char *name);
/* [n, c, h, w] -> [n, c]: the mean of each channel (AdaptiveAvgPool2d(1), then flatten). */
ig_value ig_global_avgpool(ig_model *m, ig_value x, const char *name);
/* nn.Conv2d over NCHW activations: x [n, c, h, w] -> [n, filters, oh, ow] with
 * oh = (h + 2·padding − kernel) / stride + 1 rounded down, likewise ow; square kernels,
 * stride ≥ 1, padding ≥ 0, the kernel no larger than the padded input. Weight
 * [filters, c, kernel, kernel], bias [filters] (when `bias`), both initialised as PyTorch
 * does (uniform in ±1/sqrt(c·kernel²)). The CPU runs it as im2col + GEMM, CUDA through cuDNN
 * (fp32, no TF32, deterministic algorithms only). A bad argument or a non-4-D input is a
 * build error naming the layer. */
ig_value ig_conv2d(ig_model *m, ig_value x, int64_t filters, int64_t kernel, int64_t stride, int64_t padding,
                   bool bias, const char *name);
/* nn.BatchNorm2d (x [n, c, h, w]) or nn.BatchNorm1d (x [n, c]): per channel,
 * y = γ·(x − μ)/sqrt(σ² + eps) + β. In training steps μ and σ² are the batch's statistics
 * (σ² biased) and the running statistics move towards them:
 * running = (1 − momentum)·running + momentum·batch, the variance's with the unbiased batch
 * variance. In ig_predict and evaluation the running statistics are used. Parameters
 * "<layer>.weight" (γ, ones) and "<layer>.bias" (β, zeros); non-trainable buffers
 * "<layer>.running_mean" (zeros) and "<layer>.running_var" (ones), which the optimizer never
 * touches. PyTorch's defaults: momentum 0.1, eps 1e-5. momentum in [0, 1] and eps > 0, else
 * a build error. */
ig_value ig_batchnorm(ig_model *m, ig_value x, float momentum, float eps, const char *name);
/* Elementwise a + b of equal shapes (residual connections). */
ig_value ig_add(ig_model *m, ig_value a, ig_value b, const char *name);

/* A built-in model (the workloads of the benchmarks), a classifier with `classes` logits over
 * inputs of input_shape (batch first, as ig_model_create takes it):
 *   "mlp"      Flatten → Dense 512 → ReLU → Dense 512 → ReLU → Dense classes (mlp_small)
 *   "cnn"      Conv 32 3×3 pad 1 → ReLU → MaxPool 2 → Conv 64 3×3 pad 1 → ReLU → MaxPool 2 →
 *              Flatten → Dense 128 → ReLU → Dense classes (cnn_small); images [n, c, h, w]
 *   "resnet18" CIFAR ResNet-18: Conv 64 3×3 + BatchNorm + ReLU, four stages of two BasicBlocks
 *              (64, 128/2, 256/2, 512/2 channels/stride; 1×1 conv + BatchNorm shortcut where
 *              the shape changes), global average pool, Dense classes; convs without bias;
 *              images [n, c, h, w]
 * Layers are named as the equivalent PyTorch modules name them ("conv1", "layer2.0.bn1",
 * "layer2.0.shortcut.0", "linear", ...). An unknown name or an input of the wrong rank is
 * an error that says what is valid. */
ig_status ig_model_create_preset(ig_ctx *ctx, const char *preset, const int64_t *input_shape, int ndim,
                                 int64_t classes, ig_model **out);

/* Shape of a value for the model's nominal batch size; returns ndim, or -1 for a bad value.
 * `shape` must hold IG_MAX_DIMS entries. */
int ig_model_value_shape(const ig_model *m, ig_value v, int64_t *shape);

/* Parameters, in the order layers created them, buffers included (like PyTorch's state_dict:
 * batch norm's running statistics, which are model state but not trained). ig_model_param_get
 * and _set finalise the model (its parameters are then allocated and initialised). */
int ig_model_param_count(ig_model *m);
/* Name of parameter i, or NULL if out of range. */
const char *ig_model_param_name(ig_model *m, int i);
/* Index of a parameter by name, or -1. */
int ig_model_param_index(ig_model *m, const char *name);
/* ndim of parameter i (-1 if out of range); fills shape (IG_MAX_DIMS entries). */
int ig_model_param_shape(ig_model *m, int i, int64_t *shape);
/* Copies parameter i out of / into the model; `count` must equal its element count. */
ig_status ig_model_param_get(ig_model *m, int i, float *dst, int64_t count);
ig_status ig_model_param_set(ig_model *m, int i, const float *src, int64_t count);
/* Whether parameter i is trained (false for a buffer, which the optimizer never updates and
 * which has no gradient, and for an i out of range). */
bool ig_model_param_trainable(ig_model *m, int i);
/* Total number of trainable scalars. */
int64_t ig_model_num_params(ig_model *m);
/* Floating-point operations of one forward pass at a batch size, from each op's estimate in
 * the op table (a multiply-add counts two, an elementwise op one per element). A training
 * step is about three times that. */
ig_status ig_model_forward_flops(const ig_model *m, int64_t batch, double *flops);

/* The model's layers one by one (each builder call made one; as built, before the trainer
 * fuses activations into the layers before them). */
typedef struct ig_layer_info {
    const char *name;            /* valid while the model lives */
    const char *kind;            /* its op: "dense", "conv2d", "relu", "pool2d", ... */
    int ndim;                    /* of its output */
    int64_t shape[IG_MAX_DIMS];  /* its output's shape at the nominal batch size */
    int64_t params;              /* trainable scalars it reads (buffers not counted) */
    double flops;                /* forward FLOPs at the nominal batch size, as ig_model_forward_flops counts */
    /* bytes of its output(s) at the nominal batch size: the activation memory it adds to a
     * forward pass; 0 for a view (flatten, reshape), which shares its input's bytes */
    int64_t activation_bytes;
} ig_layer_info;

int ig_model_layer_count(const ig_model *m);
/* Layer i, 0 ≤ i < ig_model_layer_count(m); an i out of range is IG_ERR_INVALID_ARGUMENT. */
ig_status ig_model_layer_info(const ig_model *m, int i, ig_layer_info *out);

/* A table of the model, one row per layer: its name, kind, output shape, parameters,
 * forward FLOPs and activation memory at the nominal batch size, then the totals. Written
 * into buf (NUL-terminated, cut short if `size` is too small; buf may be NULL when size is
 * 0); *needed (may be NULL) receives the bytes the whole table takes, its NUL included. The
 * library prints nothing itself: fputs(buf, stdout) does. */
ig_status ig_model_summary(const ig_model *m, char *buf, size_t size, size_t *needed);

/* Runs the model on x (f32, the input shape with any batch size ≥ 1) and returns a new
 * tensor with the output (the caller releases it). */
ig_status ig_predict(ig_model *m, const ig_tensor *x, ig_tensor **out);

/* ---------------------------------------------------------------- ONNX */

/* ONNX files (opset 17; docs/onnx.md lists how each layer is written and read). */

/* Writes the model's inference graph to `path`: every layer as its ONNX operator (dropout
 * left out, batch norm with its running statistics, Swish and GELU as the elementwise node
 * chains PyTorch writes for them), the parameters and buffers as float initializers under
 * their ingot names, the input "input" and the output "output" with a symbolic batch
 * dimension "N". Finalises the model. The file appears whole or not at all (written to a
 * temporary file and renamed). IG_ERR_IO: the file cannot be written. */
ig_status ig_model_export_onnx(ig_model *m, const char *path);
/* Reads an ONNX model (one float input of fixed shape but for its first, batch, dimension;
 * one output) into a new model that predicts and trains like one built by hand: weights
 * become trainable parameters, batch norm's statistics its buffers. The operators ingot
 * exports are read, and what torch.onnx.export writes for such models (Gemm with either
 * transB, MatMul + Add, Flatten, Reshape by a constant shape, Identity, Constant, opset 20's
 * Gelu); layers are named after their weights ("fc1.weight" gives "fc1"). The input's batch
 * dimension stays free even when the file fixes it. IG_ERR_IO: the file cannot be read.
 * IG_ERR_FORMAT: not a well-formed ONNX model (the message says what is wrong); a file is
 * never trusted for a size: tensors are checked against the bytes the file holds before
 * anything is allocated for them. IG_ERR_UNSUPPORTED: an operator, attribute or data type
 * ingot does not have; the message names the node and its operator. */
ig_status ig_model_import_onnx(ig_ctx *ctx, const char *path, ig_model **out);
/* The same from `size` bytes in memory (not kept after the call). */
ig_status ig_model_import_onnx_memory(ig_ctx *ctx, const void *data, size_t size, ig_model **out);

/* ---------------------------------------------------------------- training */

/* Losses: means over the batch, with PyTorch's definitions. "Elements" below are all the
 * values of the output [n, ...]; classification losses also give ig_eval_result.correct. */
typedef enum ig_loss {
    /* softmax + cross-entropy on logits [n, classes]; y: i32 class ids [n] (F.cross_entropy) */
    IG_LOSS_SPARSE_CROSS_ENTROPY = 0,
    /* mean over all elements of (out − y)²; y: f32 of out's shape (MSELoss) */
    IG_LOSS_MSE,
    /* softmax + cross-entropy on logits [n, classes] against probability rows: y: f32
     * [n, classes], one-hot or any distribution (rows are not checked). This is also
     * categorical cross-entropy from logits. Loss −Σ_j y_j·log softmax(out)_j averaged over
     * the n rows (F.cross_entropy with probability targets). */
    IG_LOSS_CROSS_ENTROPY,
    /* out holds probabilities (each in [0, 1], e.g. a sigmoid's; outside it the loss is NaN);
     * y: f32 of out's shape, each in [0, 1] (checked). Mean over all elements of
     * −(y·log out + (1 − y)·log(1 − out)), each log clamped at −100 (BCELoss). */
    IG_LOSS_BINARY_CROSS_ENTROPY,
    /* sigmoid + binary cross-entropy on logits, in the stable form max(x, 0) − x·y +
     * log(1 + e^−|x|); y: f32 of out's shape, each in [0, 1] (checked) (BCEWithLogitsLoss) */
    IG_LOSS_BCE_WITH_LOGITS,
    /* mean over all elements of |out − y|; y: f32 of out's shape (L1Loss) */
    IG_LOSS_MAE,
    /* mean over all elements of ½d² where |d| < delta, else delta·(|d| − ½delta), d = out − y;
     * y: f32 of out's shape; delta is huber_delta (HuberLoss) */
    IG_LOSS_HUBER,
} ig_loss;

typedef enum ig_optimizer {
    IG_OPT_SGD = 0, /* momentum, dampening, nesterov, weight_decay: PyTorch's torch.optim.SGD */
    IG_OPT_ADAM,    /* beta1, beta2, eps, weight_decay as L2 on the gradient: torch.optim.Adam */
    IG_OPT_ADAMW,   /* as Adam with decoupled weight decay: torch.optim.AdamW */
    IG_OPT_RMSPROP, /* alpha, eps, momentum, centered, weight_decay: torch.optim.RMSprop */
    IG_OPT_ADAGRAD, /* lr_decay, initial_accumulator_value, eps, weight_decay: torch.optim.Adagrad */
    IG_OPT_ADADELTA, /* rho, eps, weight_decay; learning_rate scales the update: torch.optim.Adadelta */
    IG_OPT_NADAM,   /* beta1, beta2, eps, momentum_decay, weight_decay as L2: torch.optim.NAdam */
    /* the lbfgs_* fields: torch.optim.LBFGS. One ig_train_batch is one step(closure): up to
     * lbfgs_max_iter iterations on that batch. It needs the host: each inner evaluation runs
     * the forward+backward program once and reads the loss and gradient back; the vector
     * arithmetic runs on the host in double. No weight decay, clipping or ig_train_epoch. */
    IG_OPT_LBFGS,
} ig_optimizer;

/* L-BFGS's line search (PyTorch's line_search_fn). */
typedef enum ig_line_search {
    IG_LINE_SEARCH_NONE = 0,      /* a fixed step of learning_rate (the first: min(1, 1/‖g‖₁)·lr) */
    IG_LINE_SEARCH_STRONG_WOLFE,  /* "strong_wolfe": c1 1e-4, c2 0.9, at most 25 evaluations */
} ig_line_search;

/* Learning-rate schedules: closed forms of the optimizer step t (0-based), PyTorch's
 * (StepLR, MultiStepLR, ExponentialLR, CosineAnnealingLR, OneCycleLR with cosine annealing),
 * counted in optimizer steps, not epochs (for a per-epoch schedule, multiply by the steps
 * of an epoch). The step program computes the rate from the step counter on the device:
 * a schedule never rewrites, rebuilds or recaptures anything. */
typedef enum ig_schedule {
    IG_SCHEDULE_CONSTANT = 0,
    IG_SCHEDULE_STEP,        /* lr · gamma^floor(t / step_size) */
    IG_SCHEDULE_MULTISTEP,   /* lr · gamma^(milestones ≤ t) */
    IG_SCHEDULE_EXPONENTIAL, /* lr · gamma^t */
    IG_SCHEDULE_COSINE,      /* min_lr + (lr − min_lr)(1 + cos(π t / total_steps)) / 2 */
    IG_SCHEDULE_ONE_CYCLE,   /* up from max_lr/div_factor to max_lr over pct_start of total_steps,
                                then down to max_lr/(div_factor·final_div_factor), cosine-shaped */
} ig_schedule;

#define IG_MAX_MILESTONES 8

typedef struct ig_lr_schedule {
    ig_schedule kind;
    int64_t step_size;                       /* STEP: ≥ 1 */
    int64_t milestones[IG_MAX_MILESTONES];   /* MULTISTEP: strictly increasing, ≥ 0 */
    int n_milestones;                        /* MULTISTEP: 1..IG_MAX_MILESTONES */
    float gamma;                             /* STEP, MULTISTEP, EXPONENTIAL: in (0, 1]; default 0.1 */
    int64_t total_steps;                     /* COSINE (T_max), ONE_CYCLE: ≥ 2 */
    float min_lr;                            /* COSINE: ≥ 0, default 0 */
    float max_lr;                            /* ONE_CYCLE: > 0; 0 takes learning_rate */
    float pct_start;                         /* ONE_CYCLE: in (0, 1), default 0.3 */
    float div_factor, final_div_factor;      /* ONE_CYCLE: ≥ 1; defaults 25 and 1e4 */
    /* With any kind: the rate is multiplied by a linear warm-up factor going from
     * warmup_start at step 0 to 1 at warmup_steps (PyTorch's LinearLR). 0 steps: none. */
    int64_t warmup_steps;                    /* ≥ 0 */
    float warmup_start;                      /* in (0, 1], default 1/3 */
} ig_lr_schedule;

typedef struct ig_trainer_config {
    ig_loss loss;
    ig_optimizer optimizer;
    float learning_rate; /* > 0 */
    float momentum;      /* SGD, RMSprop: in [0, 1) */
    float dampening;     /* SGD, in [0, 1] */
    bool nesterov;       /* SGD; needs momentum > 0 and dampening 0 */
    float beta1, beta2;  /* Adam(W), NAdam: each in [0, 1) */
    float eps;           /* every optimizer but SGD: > 0 */
    float weight_decay;  /* ≥ 0 */
    float alpha;         /* RMSprop: smoothing constant, in [0, 1) */
    bool centered;       /* RMSprop: divide by the gradient's estimated standard deviation */
    float rho;           /* AdaDelta: in [0, 1] */
    float lr_decay;      /* AdaGrad: ≥ 0 */
    float initial_accumulator_value; /* AdaGrad: ≥ 0 */
    float momentum_decay; /* NAdam: ≥ 0 */
    /* The cross-entropies: targets become (1 − ε)·y + ε/classes (PyTorch's label_smoothing);
     * in [0, 1), and 0 for the other losses. */
    float label_smoothing;
    float huber_delta; /* IG_LOSS_HUBER: > 0 */
    ig_lr_schedule schedule; /* default: constant */
    /* Clipping by global norm (torch.nn.utils.clip_grad_norm_): when > 0, every gradient is
     * scaled by min(1, max_grad_norm / (‖all gradients‖₂ + 1e-6)) before the update,
     * computed on the device in the step. 0: no clipping. */
    float max_grad_norm;
    /* Parameter groups: no weight decay on the 1-D parameters (biases), as the usual PyTorch
     * param groups do; ig_trainer_set_weight_decay_scale sets any parameter's. */
    bool no_decay_1d;
    /* L-BFGS (PyTorch's names: max_iter, max_eval, history_size, tolerance_grad,
     * tolerance_change, line_search_fn). A step stops after max_iter iterations or max_eval
     * evaluations, when the gradient's largest |component| is ≤ tolerance_grad, or when the
     * step or the change of the loss is below tolerance_change. */
    int lbfgs_max_iter;            /* ≥ 1, default 20 */
    int lbfgs_max_eval;            /* ≥ 0; 0 (default): lbfgs_max_iter·5/4 */
    int lbfgs_history;             /* curvature pairs kept (history_size): ≥ 1, default 100 */
    float lbfgs_tolerance_grad;    /* ≥ 0, default 1e-7 */
    float lbfgs_tolerance_change;  /* ≥ 0, default 1e-9 */
    ig_line_search lbfgs_line_search; /* default IG_LINE_SEARCH_NONE */
} ig_trainer_config;

/* Defaults: sparse cross-entropy, Adam, lr 1e-3, betas (0.9, 0.999), eps 1e-8,
 * no weight decay, no momentum, no label smoothing, Huber delta 1; alpha 0.99, not
 * centered, rho 0.9, lr_decay 0, initial_accumulator_value 0, momentum_decay 4e-3; a
 * constant learning rate (the schedule fields at PyTorch's defaults for when a kind is
 * set); no clipping; L-BFGS's fields at PyTorch's defaults. */
ig_trainer_config ig_trainer_defaults(void);
/* ig_trainer_defaults() with `optimizer` and PyTorch's defaults for it where they differ
 * from those: learning_rate 1e-2 (RMSprop, AdaGrad), 1.0 (AdaDelta), 2e-3 (NAdam); eps
 * 1e-10 (AdaGrad), 1e-6 (AdaDelta); weight_decay 1e-2 (AdamW); learning_rate 1 (L-BFGS).
 * Start from it when setting an optimizer other than Adam: ig_trainer_defaults() keeps
 * Adam's eps and learning rate. */
ig_trainer_config ig_trainer_defaults_for(ig_optimizer optimizer);

typedef struct ig_trainer ig_trainer;

/* Validates the configuration, finalises the model, and allocates gradients and optimizer
 * state. Programs are compiled on first use of each batch size. */
ig_status ig_trainer_create(ig_model *m, const ig_trainer_config *cfg, ig_trainer **out);
void ig_trainer_destroy(ig_trainer *t);

/* One training step on a batch: forward, loss, backward and optimizer update, as one run
 * of the compiled step program. x: f32 of the model's input shape with any batch size n ≥ 1;
 * y: the loss's target (see ig_loss): i32 [n] class ids in [0, classes) for sparse
 * cross-entropy, else f32 of the output's shape with batch n. The batch is validated
 * (shapes, dtypes, label range, binary targets in [0, 1]) and copied before the call
 * returns, so x and y may be reused at once.
 *
 * When it returns: with `loss` NULL, as soon as the step is queued — on CUDA the step may
 * still be running, and consecutive steps run back to back with no host-device
 * synchronisation. With `loss` given, after the step completed, with its mean loss (before
 * the update) in *loss: that costs a synchronisation. The losses of the last
 * IG_LOSS_HISTORY steps stay on the device; ig_trainer_losses reads them when wanted.
 * With L-BFGS the step is driven from the host and has completed when the call returns;
 * its loss is that of the first evaluation (at the parameters the step started from). */
ig_status ig_train_batch(ig_trainer *t, const ig_tensor *x, const ig_tensor *y, float *loss);

#define IG_LOSS_HISTORY 1024

/* The mean losses of steps first .. first+count-1 (step numbers count from 0, as
 * ig_trainer_step_count does), all among the last IG_LOSS_HISTORY steps. Waits for those
 * steps to complete. */
ig_status ig_trainer_losses(ig_trainer *t, int64_t first, int64_t count, float *out);

typedef struct ig_eval_result {
    float loss;      /* mean loss over the batch */
    /* Samples classified right. Sparse cross-entropy: arg-max output equals the label;
     * cross-entropy: arg-max output equals the target row's arg-max; binary cross-entropies:
     * every output is on the target's side (target > 0.5) of the decision (probability > 0.5,
     * logit > 0). 0 for the regression losses (MSE, MAE, Huber). */
    int64_t correct;
    int64_t count;   /* samples in the batch */
} ig_eval_result;

/* Forward pass and loss, no update. `correct` is 0 for regression losses. */
ig_status ig_eval_batch(ig_trainer *t, const ig_tensor *x, const ig_tensor *y,
                        ig_eval_result *out);

/* The base learning rate (the schedule scales it); changing it writes the value the step
 * program reads and never recompiles. */
ig_status ig_trainer_set_learning_rate(ig_trainer *t, float lr);
float ig_trainer_learning_rate(const ig_trainer *t);
/* Parameter groups: parameter `param` (model order) decays by weight_decay · scale from the
 * next step on (0 exempts it; decoupled for AdamW, L2 for the others). A write to the scale
 * the step reads: nothing is recompiled. A buffer (not trainable) is an error. */
ig_status ig_trainer_set_weight_decay_scale(ig_trainer *t, int param, float scale);
/* The rate the next step will use: the learning rate through the schedule at that step. */
float ig_trainer_current_learning_rate(const ig_trainer *t);
/* The rate step `step` (0-based) uses or used: the current base learning rate through the
 * schedule at that step (a rate changed since, e.g. by reduce-on-plateau, is not undone). */
float ig_trainer_learning_rate_at(const ig_trainer *t, int64_t step);
/* Optimizer steps taken so far. */
int64_t ig_trainer_step_count(const ig_trainer *t);

/* Watching a validation metric from epoch to epoch (host-side bookkeeping; feed it the
 * metric after each epoch). */

/* Early stopping: stop after `patience` epochs without an improvement larger than
 * min_delta (Keras's EarlyStopping). */
typedef struct ig_early_stopping_config {
    bool maximize;   /* false: lower is better (a loss); true: higher (an accuracy) */
    float min_delta; /* ≥ 0 */
    int patience;    /* ≥ 1 */
} ig_early_stopping_config;

/* minimize, min_delta 0, patience 10. */
ig_early_stopping_config ig_early_stopping_defaults(void);
typedef struct ig_early_stopping ig_early_stopping;
ig_status ig_early_stopping_create(const ig_early_stopping_config *cfg, ig_early_stopping **out);
void ig_early_stopping_destroy(ig_early_stopping *es);
/* *improved: this epoch's metric is the best so far (by more than min_delta); *stop: the
 * last `patience` epochs brought none. Either pointer may be NULL. A NaN metric counts as
 * no improvement. */
ig_status ig_early_stopping_update(ig_early_stopping *es, float metric, bool *improved, bool *stop);

/* Reduce-on-plateau (PyTorch's ReduceLROnPlateau, relative threshold): after more than
 * `patience` epochs without improving on the best by the relative `threshold`, the
 * trainer's base learning rate is multiplied by `factor` (not below min_lr), then
 * `cooldown` epochs pass before counting again. It writes the rate the step reads; nothing
 * is recompiled. */
typedef struct ig_plateau_config {
    bool maximize;
    float factor;    /* in (0, 1), default 0.1 */
    int patience;    /* ≥ 0, default 10 */
    float threshold; /* ≥ 0, default 1e-4 */
    int cooldown;    /* ≥ 0, default 0 */
    float min_lr;    /* ≥ 0, default 0 */
} ig_plateau_config;

ig_plateau_config ig_plateau_defaults(void);
typedef struct ig_plateau ig_plateau;
ig_status ig_plateau_create(const ig_plateau_config *cfg, ig_plateau **out);
void ig_plateau_destroy(ig_plateau *p);
/* Feeds an epoch's metric; lowers t's learning rate when due (*reduced, may be NULL). */
ig_status ig_plateau_update(ig_plateau *p, ig_trainer *t, float metric, bool *reduced);

/* ---------------------------------------------------------------- weights and checkpoints */

/* Weights files are safetensors (docs/checkpoints.md): one F32 tensor per entry of the
 * model's parameter table (trainable parameters and buffers such as batch norm's running
 * statistics), named as ig_model_param_name names it, in PyTorch's layouts (Dense weight
 * [out, in], Conv2D weight [out, in, kh, kw]), plus an I64 scalar
 * "<layer>.num_batches_tracked" per batch-norm layer (training forward passes run, as
 * PyTorch counts them). A model whose layers are named as the attributes of a PyTorch
 * module's submodules (ig_model_create_preset's are: "resnet18" is the ResNet-18 of
 * bench/torch_train_step.py) exchanges weights with that module's state_dict() /
 * load_state_dict(strict=True) in both directions. */

/* Writes the model's weights atomically (a temporary file beside `path`, flushed, renamed
 * over it): a crash leaves the previous file intact. Finalises the model. IG_ERR_IO: the
 * file cannot be written. */
ig_status ig_model_save_weights(ig_model *m, const char *path);

typedef struct ig_weights_options {
    /* Entries of the model that the file lacks keep their values (PyTorch's strict=False);
     * default false: an error naming them. "num_batches_tracked" may always be missing. */
    bool allow_missing;
    /* Tensors of the file that the model has no entry for are ignored; default false: an
     * error naming them. */
    bool allow_unexpected;
} ig_weights_options;

/* Strict: every entry of the model in the file, nothing else in it. */
ig_weights_options ig_weights_defaults(void);
/* Reads weights saved by ig_model_save_weights or by PyTorch (safetensors' save_file of a
 * state_dict) into the model (opt NULL: ig_weights_defaults()). F32 tensors are taken as
 * they are; F64, F16 and BF16 ones are converted to F32; "<layer>.num_batches_tracked" (an
 * integer scalar, or a 1-element tensor) of a batch-norm layer sets the model's count.
 * Nothing is changed unless the whole file fits the model. IG_ERR_IO: cannot open or read.
 * IG_ERR_FORMAT: not a valid safetensors file. IG_ERR_SHAPE: a tensor's shape differs from
 * its parameter's (always an error). IG_ERR_STATE: missing or unexpected tensors (the
 * message names up to eight). IG_ERR_UNSUPPORTED: a dtype other than those. */
ig_status ig_model_load_weights(ig_model *m, const char *path, const ig_weights_options *opt);

/* Checkpoints: the whole training state, so that training resumed from one (in a new
 * process, into a model and trainer built the same way) gives the weights of an
 * uninterrupted run bit for bit on the same backend. A checkpoint is two files:
 * "<path>.json", a manifest (format version, the model's input shape, seed and parameter
 * names and shapes, the trainer configuration, step, epoch, learning rate and the other
 * counters, the monitors' state), and "<path>.<generation>.safetensors", which it names with
 * its size and CRC-32: the model's weights under their own names (so it also loads as a
 * weights file with allow_unexpected) and the optimizer state, the loss history and
 * L-BFGS's history under "optimizer/...", "trainer/..." and "lbfgs/..." names. The manifest
 * is written last and replaces the previous one atomically, so a crash at any point leaves
 * the previous checkpoint loadable; files of earlier generations are removed after it. */

/* Host-side objects saved with a checkpoint and restored from it (each may be NULL): their
 * counters and best metric, not their configuration, which stays the caller's. */
typedef struct ig_checkpoint_monitors {
    ig_plateau *plateau;
    ig_early_stopping *early_stopping;
} ig_checkpoint_monitors;

/* Saves t's state (model weights and buffers, optimizer state, step and epoch counters,
 * learning rate, loss history, the model's seed, which keys dropout) and the monitors' as
 * the checkpoint `path` (a trailing ".json" is allowed); waits for queued steps. Files of a
 * crashed save of the same path are removed. IG_ERR_IO: a file cannot be written. */
ig_status ig_checkpoint_save(ig_trainer *t, const char *path, const ig_checkpoint_monitors *mon);
/* Restores a checkpoint into t and its model, which must have been built the same way: the
 * same parameter names, shapes and order (IG_ERR_SHAPE otherwise) and the same trainer
 * configuration (IG_ERR_STATE naming the first field that differs). `path` names a
 * checkpoint ("<path>.json" or "<path>") or a directory, whose newest checkpoint (by step,
 * then generation) is loaded — or, if that one is unreadable (IG_ERR_IO, IG_ERR_FORMAT), the
 * newest one that loads. A monitor given in `mon` must have been saved (IG_ERR_STATE).
 * Everything is checked before anything changes. IG_ERR_FORMAT: a malformed manifest, or a
 * tensors file whose size or CRC-32 differs from the manifest's (the message says which). */
ig_status ig_checkpoint_load(ig_trainer *t, const char *path, const ig_checkpoint_monitors *mon);

/* Checkpoints in a directory with keep-last-N rotation and the best by a validation metric:
 * call ig_checkpointer_save after each epoch with the metric. Checkpoints are named
 * "ckpt-<step, 12 digits>" in the directory; ig_checkpoint_load(t, dir, ...) resumes from
 * the newest. One process may save into a directory at a time. */
typedef struct ig_checkpointer_config {
    int keep_last;  /* ≥ 1: the newest checkpoints kept (default 3) */
    bool keep_best; /* also keep the checkpoint with the best metric (default true) */
    bool maximize;  /* false (default): a lower metric is better (a loss); true: higher */
} ig_checkpointer_config;

/* keep 3, keep the best, minimise. */
ig_checkpointer_config ig_checkpointer_defaults(void);
typedef struct ig_checkpointer ig_checkpointer;
/* Uses directory `dir` (created if missing; its parent must exist), taking in the
 * checkpoints already there (so the best survives a restart) and removing what crashed
 * saves left (temporary files, unreferenced tensor files). */
ig_status ig_checkpointer_create(const char *dir, const ig_checkpointer_config *cfg, ig_checkpointer **out);
void ig_checkpointer_destroy(ig_checkpointer *c);
/* Saves a checkpoint of t (and the monitors) with the epoch's metric, then removes the
 * checkpoints beyond the newest keep_last, except the best. *best (may be NULL): this
 * metric is the best so far (a NaN never is). */
ig_status ig_checkpointer_save(ig_checkpointer *c, ig_trainer *t, float metric, const ig_checkpoint_monitors *mon,
                               bool *best);
/* The path (for ig_checkpoint_load) of the newest and of the best checkpoint; NULL when
 * there is none. Valid until the next call on c. */
const char *ig_checkpointer_latest(const ig_checkpointer *c);
const char *ig_checkpointer_best(const ig_checkpointer *c);

/* ---------------------------------------------------------------- data */

/* Epochs over a dataset kept on the device. The dataset is copied to the trainer's device
 * on first use (again after it changes, e.g. ig_dataset_normalize); on the CPU it is used
 * in place. Each step's program gathers its own batch from it, in an order shuffled on the
 * device from (seed, epoch number), so an epoch moves no batch across the bus. */
typedef struct ig_dataset ig_dataset;

/* Augmentation of training batches, drawn anew for each batch: a random crop with zero
 * padding, then a horizontal flip (torchvision's RandomCrop(size, padding) followed by
 * RandomHorizontalFlip(p)). Samples must be images [..., height, width]: every plane of
 * sample j of a batch is shifted by the same offsets dy, dx, each uniform in
 * [−crop_padding, crop_padding], the uncovered border set to 0, then mirrored left to right
 * with probability flip_probability. The draws are a pure function of (seed, step, j) —
 * step being the trainer's step counter for ig_train_epoch and the number of batches a
 * loader has given before for a loader — so both backends make the same batches and a seed
 * reproduces them. A loader normalises before it augments: the padding is 0 in the
 * normalised values, as for a dataset normalised in place (torchvision pads before its
 * Normalize, with black). Every field 0: no augmentation. */
typedef struct ig_augment {
    int64_t crop_padding;   /* 0 (no crop) up to the smaller of height and width */
    float flip_probability; /* in [0, 1]; 0: no flip */
    uint64_t seed;
} ig_augment;

/* No augmentation (every field 0). */
ig_augment ig_augment_defaults(void);

typedef struct ig_epoch_config {
    int64_t batch_size; /* ≥ 1; a dataset smaller than it is one batch */
    bool shuffle;       /* a new order each epoch; false: the dataset's order */
    bool drop_last;     /* skip the last, smaller batch */
    uint64_t seed;      /* with the trainer's epoch count, determines the order */
    ig_augment augment; /* applied on the device, in the step's gather (default: none) */
    /* Progress within the epoch (optional): called from the calling thread after every
     * `progress_every` steps have been queued (< 1 counts as 1) and after the last, with
     * the steps queued so far and the epoch's total. Queued steps may still be running (CUDA);
     * the callback may read their losses (ig_trainer_losses waits for the steps it reads, so
     * read every few steps, not every step, to keep the device busy) and the learning rate,
     * but must not train, evaluate or predict with this trainer or its model. */
    void (*progress)(void *user, int64_t done, int64_t total);
    void *progress_user;
    int64_t progress_every;
} ig_epoch_config;

/* batch 128, shuffled, last batch kept, seed 0, no augmentation, no progress callback. */
ig_epoch_config ig_epoch_defaults(void);

/* One epoch of training: ceil(n / batch) steps (floor with drop_last), each one run of a
 * step program, as ig_train_batch does. Returns when the steps are queued (CUDA: without
 * waiting for them); *steps (may be NULL) receives their number, and their losses are read
 * with ig_trainer_losses. The dataset's labels must be < the model's classes (sparse
 * cross-entropy only; a dataset of float targets is IG_ERR_UNSUPPORTED). Not with L-BFGS
 * (IG_ERR_UNSUPPORTED): it evaluates a batch several times per step; loop ig_train_batch
 * over a loader's batches instead. Augmentation options are checked as a loader's
 * (IG_ERR_INVALID_ARGUMENT). */
ig_status ig_train_epoch(ig_trainer *t, ig_dataset *ds, const ig_epoch_config *cfg, int64_t *steps);

/* Loss and accuracy over a whole dataset kept on the device, in batches of batch_size;
 * one synchronisation at the end. */
ig_status ig_evaluate(ig_trainer *t, ig_dataset *ds, int64_t batch_size, ig_eval_result *out);

/* A dataset held in host memory: samples (f32, one shape per sample) and, per sample, an
 * integer class label or k float targets (regression). See also the epoch functions above
 * (class labels only) and docs/data.md. */

/* Reads an MNIST-format (IDX) image file and its label file, gzip-compressed or not
 * (e.g. /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz). Pixels are scaled
 * to [0, 1]; samples have shape [1, rows, cols]. */
ig_status ig_dataset_load_idx(ig_ctx *ctx, const char *images_path, const char *labels_path,
                              ig_dataset **out);
/* A dataset holding copies of x (f32 [n, sample shape...]) and y: i32 [n] class labels ≥ 0,
 * or f32 [n, k] float targets (f32 [n] is taken as [n, 1]). */
ig_status ig_dataset_create(ig_ctx *ctx, const ig_tensor *x, const ig_tensor *y, ig_dataset **out);
void ig_dataset_destroy(ig_dataset *ds);
int64_t ig_dataset_size(const ig_dataset *ds);
/* Sample shape (without the batch dimension); returns its ndim. */
int ig_dataset_sample_shape(const ig_dataset *ds, int64_t *shape);
/* Number of classes: the number of class names where the dataset has them (image folders,
 * CSV label names), else one more than the largest label; a split's parts keep their
 * parent's. 0 for a dataset of float targets. */
int32_t ig_dataset_num_classes(const ig_dataset *ds);
/* Float targets per sample (k of f32 [n, k]); 0 for a dataset of class labels. */
int64_t ig_dataset_target_dim(const ig_dataset *ds);
/* The name of class `id` (its folder, or its CSV label text); NULL where the dataset's
 * classes have no names (numeric labels) or id is out of range. Valid while ds lives. */
const char *ig_dataset_class_name(const ig_dataset *ds, int32_t id);
/* New tensors holding copies of the samples (x: f32 [n, sample shape...]) and the targets
 * (y: i32 [n] labels, or f32 [n, k]), in the dataset's order, e.g. for ig_predict and the
 * metrics below; release them. Either of x and y may be NULL to skip it. */
ig_status ig_dataset_tensors(const ig_dataset *ds, ig_tensor **x, ig_tensor **y);
/* x <- (x − mean) / std for every value; std > 0. */
ig_status ig_dataset_normalize(ig_dataset *ds, float mean, float std);
/* x <- (x − mean[c]) / std[c] for the values of channel c, the index along the sample's
 * first dimension (an image's channel, a CSV row's feature). `channels` is 1 (one mean and
 * std for every value) or the size of that dimension; each std finite and > 0, each mean
 * finite (IG_ERR_INVALID_ARGUMENT otherwise, naming the channel). */
ig_status ig_dataset_normalize_channels(ig_dataset *ds, int64_t channels, const float *mean, const float *std);

/* Splits ds into two new datasets: *val gets ceil(val_fraction · n) samples (as
 * scikit-learn's train_test_split counts a test_size), *train the rest; both must get at
 * least one. Which samples go where is a pure function of (seed, n) — and of the labels
 * when stratified — and each part keeps the samples' original order. With `stratify`
 * (class labels only) every class is split in the same proportion: class c gets
 * floor(n_c · n_val / n) validation samples, and the ones left over go to the classes with
 * the largest remainders (the lower class id first on ties). Both parts keep ds's class
 * count and names, so a class absent from one part keeps its id. ds is unchanged. */
ig_status ig_dataset_split(const ig_dataset *ds, double val_fraction, uint64_t seed, bool stratify,
                           ig_dataset **train, ig_dataset **val);

/* CSV files: one sample per row, numeric feature columns and one label or target column.
 * Quoting is RFC 4180's (a quoted cell may hold the delimiter, a newline or "" for a
 * quote); rows end in LF or CRLF; blank lines and a UTF-8 byte-order mark are skipped;
 * spaces (and tabs, unless the delimiter is a tab) around an unquoted cell are trimmed.
 * Numbers are read in the C locale whatever the program's locale ("1.5", "-2e-3"); NaN,
 * infinities and values beyond the f32 range are errors. Samples have shape [features]
 * in the columns' order, the label column left out. */
typedef enum ig_csv_header {
    IG_CSV_HEADER_AUTO = 0, /* the first row is a header when one of its cells other than the
                               label column's is not a number (or when label_column is set) */
    IG_CSV_HEADER_PRESENT,
    IG_CSV_HEADER_ABSENT,
} ig_csv_header;

typedef struct ig_csv_options {
    char delimiter;           /* ',' (default), '\t', ';', ...; not '"', '\r', '\n' or '\0' */
    ig_csv_header header;     /* IG_CSV_HEADER_AUTO */
    const char *label_column; /* the label or target column by its header name; NULL
                                 (default): by label_index */
    int label_index;          /* its index from 0; negative counts from the end: -1 (the
                                 default) is the last column */
    /* false (default): the column holds class labels — integers ≥ 0 are the class ids
     * themselves; any other labels (names, or integers some of them negative) are mapped to
     * 0..k−1 in sorted order (numeric order for integers, byte order for text, as
     * scikit-learn's LabelEncoder) and ig_dataset_class_name reports them; a column of
     * numbers with a fraction ("2.5") is an error that suggests `regression`.
     * true: the column is a float target; samples get f32 [1] targets. */
    bool regression;
} ig_csv_options;

/* ',' delimiter, header detected, the last column, class labels. */
ig_csv_options ig_csv_defaults(void);
/* Reads a CSV file (opt NULL: ig_csv_defaults()). IG_ERR_IO: the file cannot be opened or
 * read. IG_ERR_FORMAT, with the path, line and column (from 1) in the message: an empty
 * file or a header without rows, a row with more or fewer cells than the first, a cell
 * that is not a number, an empty label, an unclosed quote, no column of label_column's
 * name. IG_ERR_INVALID_ARGUMENT: bad options (label_column with IG_CSV_HEADER_ABSENT, a
 * label_index outside the columns). */
ig_status ig_dataset_load_csv(ig_ctx *ctx, const char *path, const ig_csv_options *opt, ig_dataset **out);

/* Image folders: root/<class>/<image>, one subfolder per class. Classes are the subfolders'
 * names in byte order (ids 0, 1, ...), images each folder's PNG and JPEG files (by the
 * extensions .png, .jpg, .jpeg in any case) in name order; names starting with '.' and
 * other files are ignored, and so are files directly in root. A file is decoded as what
 * its first bytes say it is (libpng, libjpeg-turbo), converted to RGB (alpha dropped, as
 * PIL's convert("RGB") does) or to grayscale (ITU-R 601 luma, 0.299 R + 0.587 G +
 * 0.114 B, as PIL's convert("L")), resized to height × width (aspect ratio not kept) by
 * bilinear interpolation with pixel centres at +0.5 which, when shrinking, widens its
 * triangle filter by the scale so every source pixel counts (PIL's bilinear resize, without
 * its rounding to 8 bits between the passes), and scaled to [0, 1]. Samples
 * have shape [channels, height, width]. Images are decoded on the CPU's OpenMP threads. */
typedef struct ig_image_folder_options {
    int64_t channels;      /* 3 (RGB, default) or 1 (grayscale) */
    int64_t height, width; /* the sample size, 1..65535 each; default 32 × 32 */
    /* false (default): a file that cannot be read or decoded fails the load, naming it;
     * true: it is left out and counted in *skipped. */
    bool skip_unreadable;
} ig_image_folder_options;

ig_image_folder_options ig_image_folder_defaults(void);
/* Reads an image folder (opt NULL: defaults); *skipped (may be NULL) receives the number of
 * files left out under skip_unreadable. IG_ERR_IO: root or a file cannot be opened or read.
 * IG_ERR_FORMAT: no class folders, a class folder without images, a file that is not a
 * PNG or JPEG or is corrupt or truncated, an image over 2^28 pixels; with skip_unreadable,
 * only when no image at all could be read. The message names the folder or file. */
ig_status ig_dataset_load_image_folder(ig_ctx *ctx, const char *root, const ig_image_folder_options *opt,
                                       ig_dataset **out, int64_t *skipped);

/* Iterates a dataset in batches, optionally shuffled with a seed (a different order each
 * epoch, the same for the same seed), normalised and augmented, made ahead of the caller by
 * a background thread. The dataset must outlive the loader and not change while it lives. */
typedef struct ig_loader ig_loader;

typedef struct ig_loader_options {
    int64_t batch_size; /* ≥ 1 (default 128); a dataset smaller than it is one batch */
    bool shuffle;       /* a new order each epoch, from (seed, epoch number) (default true) */
    bool drop_last;     /* skip each epoch's last, smaller batch (default false) */
    uint64_t seed;      /* of the shuffle (default 0) */
    /* Batches a background thread makes ahead of the caller (default 2, at most 64) — on a
     * CUDA context into page-locked memory, which ig_train_batch copies to the device
     * without staging — so ig_loader_next hands over a finished batch whenever the thread
     * keeps up. 0: no thread, each batch made inside ig_loader_next. The batches are the
     * same either way. */
    int prefetch;
    /* Each batch normalised as ig_dataset_normalize_channels does (the dataset is left as it
     * is): norm_channels 0 (none, the default), 1, or the size of the sample's first
     * dimension; mean and std point at that many values, copied by ig_loader_create_with. */
    int64_t norm_channels;
    const float *mean, *std;
    ig_augment augment; /* after the normalisation, on the host (default: none) */
} ig_loader_options;

/* Batch 128, shuffled, last batch kept, seed 0, 2 batches prefetched, no normalisation or
 * augmentation. */
ig_loader_options ig_loader_defaults(void);
/* IG_ERR_INVALID_ARGUMENT, the message naming the option: batch_size < 1, prefetch outside
 * 0..64, norm_channels other than 0, 1 or the first dimension's size, a missing, non-finite
 * or (std) non-positive mean or std, crop_padding < 0 or above the smaller of height and
 * width, flip_probability outside [0, 1], crop or flip on samples of one dimension. */
ig_status ig_loader_create_with(ig_dataset *ds, const ig_loader_options *opt, ig_loader **out);
/* ig_loader_create_with with these options, no prefetch thread, no normalisation or
 * augmentation. */
ig_status ig_loader_create(ig_dataset *ds, int64_t batch_size, bool shuffle, uint64_t seed,
                           bool drop_last, ig_loader **out);
/* Stops the prefetch thread, mid-epoch or not; batches the caller retained stay valid. */
void ig_loader_destroy(ig_loader *ld);
/* The next batch of the current epoch: x f32 [n, sample shape...] and y i32 [n] (f32 [n, k]
 * for a dataset of float targets). The tensors belong to the loader and stay valid until the
 * next call (retain them to keep them); read them, don't write them: ig_train_batch's copy
 * may read them after it returns. At the end of an epoch it returns IG_OK with *x and *y
 * set to NULL; the next call starts a new epoch (reshuffled when shuffling). A failure in
 * the prefetch thread (out of memory, a device error) is returned by the call that would
 * have returned that batch and by every later one. */
ig_status ig_loader_next(ig_loader *ld, ig_tensor **x, ig_tensor **y);
/* Batches per epoch. */
int64_t ig_loader_num_batches(const ig_loader *ld);

/* ---------------------------------------------------------------- metrics */

/* Host-side metrics on predictions the caller has (ig_predict's output, any array), with
 * scikit-learn's definitions: tests/test_metrics.c checks them against values that
 * scikit-learn computed (tools/metrics_reference.py). Conventions for all of them:
 *   - labels: i32 class ids [n] in [0, classes); pred likewise.
 *   - scores: f32 [n, classes] row-major, larger meaning more likely: logits or
 *     probabilities (give probabilities where scikit-learn expects them, e.g. one-vs-rest
 *     ROC AUC, to get its values). Every score must be finite.
 *   - n < 1, a label or prediction out of range, a non-finite value: IG_ERR_INVALID_ARGUMENT
 *     (the message names the sample). Results are double; outputs are written on success.
 * docs/data.md has worked examples. */

/* pred[i]: the class of row i's largest score, the first on ties (numpy's argmax). */
ig_status ig_metric_argmax(const float *scores, int64_t n, int64_t classes, int32_t *pred);
/* The fraction of samples with pred[i] == labels[i] (accuracy_score). */
ig_status ig_metric_accuracy(const int32_t *labels, const int32_t *pred, int64_t n, double *out);
/* The fraction of samples whose label is among the k classes of largest score, a tie going
 * to the higher class id (top_k_accuracy_score on [n, classes] scores); k ≥ 1, and
 * k ≥ classes gives 1. */
ig_status ig_metric_top_k_accuracy(const int32_t *labels, const float *scores, int64_t n, int64_t classes, int64_t k,
                                   double *out);
/* counts[t · classes + p]: the samples of label t predicted p (confusion_matrix with
 * labels 0..classes−1); counts holds classes² entries. */
ig_status ig_metric_confusion_matrix(const int32_t *labels, const int32_t *pred, int64_t n, int64_t classes,
                                     int64_t *counts);

typedef struct ig_prf {
    double precision; /* tp / (tp + fp) */
    double recall;    /* tp / (tp + fn) */
    double f1;        /* 2·tp / (2·tp + fp + fn) */
    int64_t support;  /* samples of the class (tp + fn); n for the averages */
} ig_prf;

typedef struct ig_prf_averages {
    ig_prf macro;    /* the classes' unweighted mean */
    ig_prf micro;    /* from tp, fp and fn summed over the classes (all three equal the accuracy) */
    ig_prf weighted; /* the classes' mean weighted by support */
} ig_prf_averages;

/* Precision, recall and F1 of each class 0..classes−1 and their averages
 * (precision_recall_fscore_support with labels=range(classes), so a class absent from both
 * labels and pred still counts in the macro average). A ratio whose denominator is 0 —
 * the precision of a class never predicted, the recall of a class never true, the F1 of a
 * class neither — is zero_division: 0 (scikit-learn's default, "warn", without the
 * warning), 1, or NAN, which the macro and weighted averages skip as scikit-learn does
 * (NAN if all are). Binary precision, recall and F1 (average="binary") are per_class[1].
 * per_class (classes entries) or avg may be NULL. */
ig_status ig_metric_precision_recall_f1(const int32_t *labels, const int32_t *pred, int64_t n, int64_t classes,
                                        double zero_division, ig_prf *per_class, ig_prf_averages *avg);

/* Binary ranking metrics take one score per sample, scores[i · stride] (stride ≥ 1), and
 * count sample i positive when labels[i] == positive (labels are not range-checked here).
 * A sigmoid output [n, 1] with 0/1 labels: (labels, 1, scores, 1, n, ...); class c against
 * the rest of [n, classes] scores: (labels, c, scores + c, classes, n, ...). */

/* A curve of `points` points (x[i], y[i]); the struct owns the arrays: ig_curve_free. */
typedef struct ig_curve {
    int64_t points;
    double *x;          /* ROC: false-positive rate; precision-recall: recall */
    double *y;          /* ROC: true-positive rate; precision-recall: precision */
    double *thresholds; /* ROC: `points` scores, decreasing, the first +inf; precision-recall:
                           points − 1 scores, increasing (the last point has none) */
} ig_curve;

/* Frees the curve's arrays and zeroes it; NULL and a zeroed curve are fine. */
void ig_curve_free(ig_curve *c);
/* The ROC curve, as roc_curve(drop_intermediate=True): the point (0, 0) at threshold +inf,
 * then for each distinct score from the highest the rates of predicting positive at
 * score ≥ it, keeping only the points where the curve bends (the first and last of each
 * straight run). Needs positive and negative samples (scikit-learn returns NaN rates). On
 * failure *out is zeroed. */
ig_status ig_metric_roc_curve(const int32_t *labels, int32_t positive, const float *scores, int64_t stride, int64_t n,
                              ig_curve *out);
/* The area under that curve by the trapezoidal rule (roc_auc_score); needs both classes. */
ig_status ig_metric_roc_auc(const int32_t *labels, int32_t positive, const float *scores, int64_t stride, int64_t n,
                            double *out);
/* The precision-recall curve, as precision_recall_curve (every threshold kept): for each
 * distinct score from the lowest, the precision and recall of predicting positive at
 * score ≥ it, then the point (recall 0, precision 1). Without positive samples the recall
 * is 1 throughout (scikit-learn's choice, where it warns). On failure *out is zeroed. */
ig_status ig_metric_pr_curve(const int32_t *labels, int32_t positive, const float *scores, int64_t stride, int64_t n,
                             ig_curve *out);
/* Average precision (average_precision_score): Σ_k (R_k − R_k−1) · P_k over the thresholds
 * from the highest, the precision at each weighted by the recall it adds; a step-wise sum,
 * not the trapezoid, so it is not optimistic. 0 without positive samples. */
ig_status ig_metric_average_precision(const int32_t *labels, int32_t positive, const float *scores, int64_t stride,
                                      int64_t n, double *out);

typedef struct ig_ovr_averages {
    double macro;    /* the classes' unweighted mean */
    double weighted; /* their mean weighted by each class's support */
    double micro;    /* the binary metric of all n · classes (labels[i] == c, score) pairs */
} ig_ovr_averages;

/* One-vs-rest over the classes 0..classes−1 (≥ 2) of [n, classes] scores: per_class[c] the
 * binary metric of class c against the rest, and the averages (roc_auc_score with
 * multi_class="ovr" and average "macro", "weighted", "micro"; average_precision_score of the
 * labels one-hot encoded). per_class (classes entries) or avg may be NULL. ROC AUC needs
 * every class among the labels (its AUC is undefined otherwise: scikit-learn raises too);
 * a class absent from the labels has average precision 0. */
ig_status ig_metric_roc_auc_ovr(const int32_t *labels, const float *scores, int64_t n, int64_t classes,
                                double *per_class, ig_ovr_averages *avg);
ig_status ig_metric_average_precision_ovr(const int32_t *labels, const float *scores, int64_t n, int64_t classes,
                                          double *per_class, ig_ovr_averages *avg);

typedef struct ig_regression_metrics {
    double mse;  /* mean of (prediction − target)² (mean_squared_error) */
    double rmse; /* √ of each output's MSE, averaged over the outputs (root_mean_squared_error) */
    double mae;  /* mean of |prediction − target| (mean_absolute_error) */
    /* 1 − Σ(t − p)² / Σ(t − mean t)² per output, averaged over them (r2_score); an output
     * whose targets are all equal scores 1 if predicted exactly, else 0 (force_finite);
     * NAN for n < 2, where R² is not defined. */
    double r2;
} ig_regression_metrics;

/* Regression metrics of predictions against targets, both f32 [n, outputs] row-major, each
 * averaged uniformly over the outputs (scikit-learn's multioutput="uniform_average"). */
ig_status ig_metric_regression(const float *targets, const float *predictions, int64_t n, int64_t outputs,
                               ig_regression_metrics *out);

/* ---------------------------------------------------------------- TensorBoard */

/* Scalars for TensorBoard: an event file ("events.out.tfevents.<time>.<host>.<pid>.<ns>") that
 * TensorBoard's readers load (TFRecord framing, tensorflow.Event records; the format and the
 * fields written are described in src/report/tensorboard.c). Writes go through a buffer:
 * ig_event_writer_flush or destroy puts them in the file. */
typedef struct ig_event_writer ig_event_writer;

/* Makes `logdir` if it does not exist (its parent must) and a new event file in it.
 * IG_ERR_IO: the folder or the file cannot be made. */
ig_status ig_event_writer_create(const char *logdir, ig_event_writer **out);
/* One value of the series `tag` ("loss/train"; TensorBoard groups tags by the part before
 * the first '/') at `step`. */
ig_status ig_event_writer_add_scalar(ig_event_writer *w, const char *tag, int64_t step, float value);
ig_status ig_event_writer_flush(ig_event_writer *w);
/* The event file's path. */
const char *ig_event_writer_path(const ig_event_writer *w);
/* Flushes and closes the file. */
void ig_event_writer_destroy(ig_event_writer *w);

#ifdef __cplusplus
}
#endif

#endif /* INGOT_H */
