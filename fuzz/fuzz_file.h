/* fuzz_file.h — what the fuzz targets share: the library's readers take paths, so an input
 * is handed to them as a file, one in memory (memfd) rewritten for each input. New targets
 * (a reader per file format) follow the same pattern: LLVMFuzzerTestOneInput calls the
 * reader on fuzz_file(data, size) and only checks that it returns, whatever it returns. */
#ifndef IG_FUZZ_FILE_H
#define IG_FUZZ_FILE_H

#define _GNU_SOURCE
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A path whose file holds exactly `size` bytes of data. */
static inline const char *fuzz_file(const uint8_t *data, size_t size)
{
    static int fd = -1;
    static char path[64];
    if (fd < 0) {
        fd = memfd_create("fuzz_input", 0);
        if (fd < 0) abort();
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    }
    if (ftruncate(fd, 0) != 0 || (size && pwrite(fd, data, size, 0) != (ssize_t)size)) abort();
    return path;
}

#endif /* IG_FUZZ_FILE_H */
