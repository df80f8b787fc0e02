/* graph.h — the IR: values (typed, shaped, placed in a buffer) and nodes (an op applied to
 * values). A graph is append-only while built; node order is a topological order. */
#ifndef IG_GRAPH_H
#define IG_GRAPH_H

#include "core/core.h"

#define IG_MAX_IN 8
#define IG_MAX_OUT 3
#define IG_NAME_LEN 48

typedef struct ig_shape {
    int ndim;
    int64_t d[IG_MAX_DIMS];
} ig_shape;

/* Where a value's bytes live when a program runs. Every buffer is one block of backend
 * memory; a value is (buffer, byte offset). */
typedef enum ig_buf {
    IG_BUF_NONE = 0, /* not placed yet: the planner puts it in the arena */
    IG_BUF_ARENA,    /* transient values, placed by the memory planner */
    IG_BUF_IO,       /* program inputs and outputs (batch, labels, loss, predictions) */
    IG_BUF_PARAMS,   /* the model's flat parameter buffer */
    IG_BUF_GRADS,    /* the flat gradient buffer, same offsets as PARAMS */
    IG_BUF_STATE,    /* optimizer hyperparameters, step counter and moments */
    IG_BUF_DATA_X,   /* a device-resident dataset's samples */
    IG_BUF_DATA_Y,   /* and its targets */
    IG_BUF_COUNT
} ig_buf;

typedef struct ig_val {
    ig_shape shape;
    ig_dtype dtype;
    int node;     /* producing node, or -1 for a leaf */
    int alias_of; /* value whose bytes this one views (reshape), or -1 */
    ig_buf buf;
    size_t offset;
    char name[IG_NAME_LEN];
} ig_val;

/* Small fixed attributes: each op documents which fields it reads. */
typedef struct ig_attrs {
    int64_t i[6];
    float f[4];
    ig_shape shape;
} ig_attrs;

typedef enum ig_op {
    IG_OP_NOP = 0, /* a node removed by a pass */
    IG_OP_DENSE,
    IG_OP_MATMUL,
    IG_OP_DENSE_WGRAD,
    IG_OP_RELU,
    IG_OP_TANH,
    IG_OP_ACT_GRAD,
    IG_OP_RESHAPE,
    IG_OP_ADD,
    IG_OP_SCALE,
    IG_OP_COPY,
    IG_OP_SPARSE_CE,
    IG_OP_CROSS_ENTROPY,
    IG_OP_ELEM_LOSS,
    IG_OP_ACCURACY,
    IG_OP_SGD,
    IG_OP_ADAM,
    IG_OP_RECORD_LOSS,
    IG_OP_GATHER,
    IG_OP_EVAL_ACCUM,
    IG_OP_CLIP_GRAD_NORM,
    IG_OP_NADAM,
    IG_OP_RMSPROP,
    IG_OP_ADAGRAD,
    IG_OP_ADADELTA,
    IG_OP_ACT,
    IG_OP_SOFTMAX,
    IG_OP_SOFTMAX_GRAD,
    IG_OP_POOL2D,
    IG_OP_POOL2D_GRAD,
    IG_OP_DROPOUT,
    IG_OP_CONV2D,
    IG_OP_CONV2D_DGRAD,
    IG_OP_CONV2D_WGRAD,
    IG_OP_CHANNEL_SUM,
    /* batch normalisation ops follow (src/ops/batchnorm.c) */
    IG_OP_BATCHNORM,
    IG_OP_BATCHNORM_GRAD,
    IG_OP_BATCHNORM_DX,
    IG_OP_COUNT
} ig_op;

typedef struct ig_node {
    ig_op op;
    int n_in, n_out;
    int in[IG_MAX_IN];
    int out[IG_MAX_OUT];
    ig_attrs attrs;
    char name[IG_NAME_LEN];
    int stream; /* 0: the main stream; 1: the side stream (see ig_schedule_streams) */
    int join;   /* side nodes: the main node that waits for it (n_nodes: the program's end) */
    bool lead;  /* skipped by a run that continues the program's last one (ig_program_continue) */
} ig_node;

typedef struct ig_graph {
    ig_val *vals;
    int n_vals, cap_vals;
    ig_node *nodes;
    int n_nodes, cap_nodes;
} ig_graph;

void ig_graph_init(ig_graph *g);
void ig_graph_free(ig_graph *g);
ig_status ig_graph_copy(ig_graph *dst, const ig_graph *src);

/* A new leaf value (input, parameter, state); returns its id or -1 on allocation failure. */
int ig_graph_leaf(ig_graph *g, const ig_shape *shape, ig_dtype dtype, const char *name);
/* Appends a node: checks the input count, runs the op's shape inference and creates its
 * outputs (ids in out[], which may be NULL). Errors name the node and the shapes. */
ig_status ig_graph_node(ig_graph *g, ig_op op, const int *in, int n_in, const ig_attrs *attrs,
                        const char *name, int *out);
/* Re-runs shape inference over every node in order (after a leaf's shape changed, e.g. a
 * new batch size), updating the output shapes in place. */
ig_status ig_graph_reinfer(ig_graph *g);

/* Makes every node read `to` where it read `from` (and views of `from` view `to`). */
void ig_graph_replace_uses(ig_graph *g, int from, int to);
/* Moves node `from` back to position `to` (to <= from), the nodes between one place on. */
void ig_graph_move_node(ig_graph *g, int from, int to);

/* Floating-point operations of one run of the graph's nodes, from the op table. */
double ig_graph_flops(const ig_graph *g);

/* Number of nodes that read value v (NOP nodes excluded). */
int ig_graph_uses(const ig_graph *g, int v);

size_t ig_shape_numel(const ig_shape *s);
size_t ig_val_bytes(const ig_val *v);
bool ig_shape_eq(const ig_shape *a, const ig_shape *b);
ig_shape ig_shape_make(int ndim, const int64_t *d);
/* "[128, 784]" into buf. */
const char *ig_shape_str(const ig_shape *s, char *buf, size_t n);

/* Reverse-mode autodiff as a graph-to-graph transform: appends to g the nodes computing
 * the gradient of the roots with respect to each value in wrt. seeds[i] is the value
 * holding d(root i) (same shape as root i), or -1 for the unit seed of a scalar loss.
 * grads[i] receives the gradient value of wrt[i], or -1 if it does not depend on it. */
ig_status ig_autodiff(ig_graph *g, int n_roots, const int *roots, const int *seeds, int n_wrt,
                      const int *wrt, int *grads);

/* Graph passes. */
ig_status ig_fuse_activations(ig_graph *g, const int *keep, int n_keep);
/* After autodiff: an activation's gradient folded into the matmul or pool gradient that
 * computes what it multiplies, a convolution's bias gradient into its weight gradient, a
 * classifier's sparse cross-entropy into the dense layer computing its logits (fuse.c). */
ig_status ig_fuse_gradients(ig_graph *g);

/* Moves weight gradients (dense ones, and convolutions' of 2^30 FLOPs or more), the transposed
 * matmuls, the loss record, a split update's first part and a resident step's gather of the
 * next batch to a side stream (plan.c says why those), where they overlap with the rest of the
 * step, and gives each the main node that must wait for it: the first after it that depends on
 * it (reads what it writes, writes what it reads, or shares bound bytes with it where one of
 * the two updates its inputs in place), else the program's end. Side nodes run in order among
 * themselves and each starts after every main node before it, so each is first moved up the
 * order to just after the last node it depends on (or the side node before it). For backends
 * that run one node at a time, no call. */
void ig_schedule_streams(ig_graph *g);

/* The liveness-based planner: gives every unplaced value (buf NONE) an offset in one arena.
 * Values in other buffers are left as they are. Reports the arena size and the sum of the
 * planned values' sizes. A side-stream node's reads count as happening at its join node, so
 * nothing the main stream runs meanwhile can take memory the side node still reads. */
typedef struct ig_plan_stats {
    size_t arena_bytes;
    size_t unplanned_bytes;
    int n_values;
} ig_plan_stats;
ig_status ig_plan_memory(ig_graph *g, ig_plan_stats *stats);

#define IG_ALIGN 256
static inline size_t ig_align(size_t n) { return (n + IG_ALIGN - 1) / IG_ALIGN * IG_ALIGN; }

#endif /* IG_GRAPH_H */
