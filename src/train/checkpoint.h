/* checkpoint.h — one checkpoint (a manifest "<stem>.json" naming a tensors file
 * "<stem>.<generation>.safetensors") and the checkpoints of a directory, shared by
 * checkpoint.c and the rotating checkpointer (checkpointer.c). */
#ifndef IG_CHECKPOINT_H
#define IG_CHECKPOINT_H

#include "core/core.h"

/* What a directory listing needs to know of a checkpoint, from its manifest. */
typedef struct ig_ckpt_info {
    char *stem;    /* the path without ".json" */
    char *tensors; /* the tensors file's name (in the same directory) */
    int64_t step, generation;
    double metric; /* NaN when saved without one */
} ig_ckpt_info;

/* Saves t as the checkpoint `stem` with an optional metric (NULL: none). */
ig_status ig_ckpt_save(ig_trainer *t, const char *stem, const ig_checkpoint_monitors *mon, const float *metric);
/* The checkpoints in dir (manifests that read as ingot checkpoints; others are skipped),
 * sorted by step, then generation. */
ig_status ig_ckpt_scan(const char *dir, ig_ckpt_info **list, int *n);
void ig_ckpt_list_free(ig_ckpt_info *list, int n);
/* Removes a checkpoint: its manifest first (then it no longer exists), then its tensors. */
ig_status ig_ckpt_remove(const ig_ckpt_info *c);
/* Whether a directory entry `name` is a tensors file or a temporary file of the checkpoint
 * whose manifest is "<base>.json" (base: the stem's last component). */
bool ig_ckpt_owns_file(const char *base, const char *name);

#endif /* IG_CHECKPOINT_H */
