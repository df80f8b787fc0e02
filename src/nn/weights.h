/* weights.h — the model's entries as safetensors tensors, shared by weights files
 * (src/nn/weights.c) and checkpoints (src/train/checkpoint.c). */
#ifndef IG_WEIGHTS_H
#define IG_WEIGHTS_H

#include "io/safetensors.h"
#include "nn/model.h"

/* Appends the model's entries to l: each parameter and buffer (F32, pointing into `host`, an
 * image of the model's PARAMS memory) and each batch-norm layer's num_batches_tracked (I64,
 * pointing at *batches). */
ig_status ig_weights_entries(const ig_model *m, const float *host, const int64_t *batches, ig_st_list *l);

/* Reads the model's entries from f into `host` (an image of PARAMS memory, which keeps what
 * the file does not set) and *batches (left alone when the file has no num_batches_tracked).
 * Tensors whose names start with one of the `n_own` prefixes `own` are not the model's and
 * are skipped without counting as unexpected. Messages start with `path`. */
ig_status ig_weights_read(const ig_model *m, const ig_st_file *f, const char *path, const ig_weights_options *opt,
                          const char *const *own, int n_own, float *host, int64_t *batches);

/* The model's PARAMS memory (parameters and buffers) as a new host image; free() it. */
ig_status ig_weights_download(ig_model *m, float **host);

#endif /* IG_WEIGHTS_H */
