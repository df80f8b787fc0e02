/* import.h — the ONNX importer's internals, shared by decode.c (bytes → messages),
 * import.c (the graph's values, inputs and parameters) and import_ops.c (one function per
 * operator). */
#ifndef IG_ONNX_IMPORT_H
#define IG_ONNX_IMPORT_H

#include "nn/model.h"
#include "onnx/onnx_format.h"

/* What a file may make the importer hold: the decoded messages, its tables and the model's
 * parameters together stay under FACTOR × the file's size + SLACK bytes, so that a forged file
 * is refused rather than obeyed (protobuf-c makes a struct of ~100 bytes from 2 bytes of
 * input; one weight read by many layers would be copied into each). */
#define IG_ONNX_BUDGET_FACTOR 64
#define IG_ONNX_BUDGET_SLACK ((size_t)16 << 20)
/* Messages nested deeper are refused (a graph inside an attribute inside a node is 3). */
#define IG_ONNX_MAX_DEPTH 64

typedef struct ig_onnx_budget {
    size_t used, limit;
    bool exceeded;
} ig_onnx_budget;

void ig_onnx_budget_init(ig_onnx_budget *b, size_t file_size);
/* Counts bytes against the budget; false (and `exceeded`) when they do not fit. */
bool ig_onnx_charge(ig_onnx_budget *b, size_t bytes);
/* Zeroed memory counted against the budget; NULL when it does not fit or malloc fails. */
void *ig_onnx_alloc(ig_onnx_budget *b, size_t bytes);
void ig_onnx_free(ig_onnx_budget *b, void *p);

/* Decodes a model; IG_ERR_FORMAT for anything protobuf-c refuses, too deep or too costly. */
ig_status ig_onnx_decode(const uint8_t *data, size_t size, ig_onnx_budget *b, Onnx__ModelProto **out);
void ig_onnx_decode_free(Onnx__ModelProto *model, ig_onnx_budget *b);

/* A constant tensor (an initializer, a Constant node's value), checked against the bytes that
 * hold it: its elements are read in place, from raw_data or the typed field. */
typedef struct ig_onnx_const {
    const char *name;
    int32_t dtype; /* ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT or __INT64 */
    int ndim;
    int64_t dims[IG_MAX_DIMS];
    int64_t numel;
    const uint8_t *raw; /* little-endian elements; NULL: f32 or i64 */
    const float *f32;
    const int64_t *i64;
} ig_onnx_const;

/* Element i of a FLOAT or INT64 constant. */
float ig_onnx_f32(const ig_onnx_const *c, int64_t i);
int64_t ig_onnx_i64(const ig_onnx_const *c, int64_t i);

typedef enum ig_onnx_kind {
    IG_ONNX_UNDEFINED = 0, /* named by a node but not (yet) computed */
    IG_ONNX_RUNTIME,       /* a value of the ingot model */
    IG_ONNX_CONSTANT,      /* a tensor known when importing */
} ig_onnx_kind;

/* A named ONNX value. */
typedef struct ig_onnx_entry {
    const char *name;
    ig_onnx_kind kind;
    ig_value v;                       /* RUNTIME */
    const Onnx__TensorProto *tensor;  /* CONSTANT: a tensor, */
    const Onnx__AttributeProto *attr; /* or a Constant's value_float(s) or value_int(s) */
    int consumers; /* the nodes reading it, plus one if the graph outputs it */
    int consumer;  /* the last node reading it */
} ig_onnx_entry;

/* A model parameter to fill once the model is built: (scale ·) the constant, or its
 * transpose. */
typedef struct ig_onnx_bind {
    int param;
    ig_onnx_const c;
    bool transpose;
    float scale;
} ig_onnx_bind;

typedef struct ig_onnx_import {
    ig_model *m;
    const Onnx__GraphProto *g;
    int64_t opset;
    ig_onnx_budget *budget;
    ig_onnx_entry *entries;
    size_t n_entries, cap_entries;
    int32_t *slots; /* open-addressing hash of names: entry index + 1, 0 when free */
    size_t n_slots;
    bool *done; /* nodes imported already, as part of an earlier node's pattern */
    ig_onnx_bind *binds;
    size_t n_binds, cap_binds;
    int node; /* the node being imported, for messages */
} ig_onnx_import;

/* The entry of a name, or NULL ("" and NULL name no value: an absent optional input). */
ig_onnx_entry *ig_onnx_find(ig_onnx_import *imp, const char *name);
/* A tensor or Constant attribute as a constant; `what` names it in messages. */
ig_status ig_onnx_tensor_const(const Onnx__TensorProto *t, const char *what, ig_onnx_const *c);
ig_status ig_onnx_entry_const(const ig_onnx_entry *e, ig_onnx_const *c);
/* Fails with status s and a message naming the node being imported and its operator. */
ig_status ig_onnx_fail(ig_onnx_import *imp, ig_status s, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Imports node i (import_ops.c): checks its operator, attributes and inputs, adds the layers
 * and defines its outputs. */
ig_status ig_onnx_import_node(ig_onnx_import *imp, int i);

#endif /* IG_ONNX_IMPORT_H */
