/* atomic_file.h — files that appear whole or not at all: written to a temporary file in the
 * destination's directory, flushed to disk, renamed over the destination, and the directory
 * flushed too, so that after a crash at any point the path holds either its previous
 * contents or the new ones, never a mixture. */
#ifndef IG_IO_ATOMIC_FILE_H
#define IG_IO_ATOMIC_FILE_H

#include "core/core.h"

/* Temporary files are named ".<name>.tmp.<suffix>" beside their destination; a crash
 * leaves one behind, which ig_atomic_is_temp recognises so that its owner can remove it. */
#define IG_ATOMIC_TMP_TAG ".tmp."

typedef struct ig_atomic_file {
    int fd;         /* -1 once committed or aborted */
    uint32_t crc;   /* CRC-32 of everything written so far */
    uint64_t bytes; /* bytes written so far */
    char *path, *tmp;
} ig_atomic_file;

/* Creates the temporary file for `path`. IG_ERR_IO (naming the path) if it cannot. */
ig_status ig_atomic_open(ig_atomic_file *f, const char *path);
/* Appends n bytes. On failure the file is aborted. */
ig_status ig_atomic_write(ig_atomic_file *f, const void *buf, size_t n);
/* fsync, rename over the destination, fsync of the directory. On failure the temporary file
 * is removed and the destination keeps its previous contents. */
ig_status ig_atomic_commit(ig_atomic_file *f);
/* Removes the temporary file; accepts a committed or aborted file (does nothing then). */
void ig_atomic_abort(ig_atomic_file *f);

/* Whether a directory entry's name is one of our temporary files. */
bool ig_atomic_is_temp(const char *name);
/* Flushes the directory holding `path` (after a rename or unlink in it). */
ig_status ig_fsync_dir_of(const char *path);
/* The CRC-32 (zlib's) of n bytes, continuing from crc (0 to start). */
uint32_t ig_crc32(uint32_t crc, const void *buf, size_t n);

#endif /* IG_IO_ATOMIC_FILE_H */
