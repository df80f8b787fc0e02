/* atomic_file.c — see atomic_file.h. */
#include "io/atomic_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

uint32_t ig_crc32(uint32_t crc, const void *buf, size_t n)
{
    const unsigned char *p = buf;
    uLong c = crc;
    while (n > 0) { /* zlib takes a uInt count */
        uInt chunk = n > (1u << 30) ? (1u << 30) : (uInt)n;
        c = crc32(c, p, chunk);
        p += chunk;
        n -= chunk;
    }
    return (uint32_t)c;
}

bool ig_atomic_is_temp(const char *name) { return name[0] == '.' && strstr(name, IG_ATOMIC_TMP_TAG) != NULL; }

/* The directory part of path ("." when there is none), malloc'd. */
static char *dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash) return strdup(".");
    if (slash == path) return strdup("/");
    return strndup(path, (size_t)(slash - path));
}

ig_status ig_fsync_dir_of(const char *path)
{
    char *dir = dir_of(path);
    if (!dir) return ig_fail(IG_ERR_OUT_OF_MEMORY, "%s: out of memory", path);
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    ig_status st = IG_OK;
    if (fd < 0 || fsync(fd) != 0)
        st = ig_fail(IG_ERR_IO, "%s: cannot flush the directory: %s", dir, strerror(errno));
    if (fd >= 0) close(fd);
    free(dir);
    return st;
}

ig_status ig_atomic_open(ig_atomic_file *f, const char *path)
{
    *f = (ig_atomic_file){.fd = -1};
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    if (!*base) return ig_fail(IG_ERR_INVALID_ARGUMENT, "'%s' names a directory, not a file", path);
    size_t dlen = (size_t)(base - path), len = strlen(path) + 64;
    f->path = strdup(path);
    f->tmp = malloc(len);
    if (!f->path || !f->tmp) {
        ig_atomic_abort(f);
        return ig_fail(IG_ERR_OUT_OF_MEMORY, "%s: out of memory", path);
    }
    /* a name no other writer picks: the process and a counter of this process's attempts */
    static _Atomic unsigned counter;
    for (int attempt = 0; attempt < 16; attempt++) {
        snprintf(f->tmp, len, "%.*s.%s" IG_ATOMIC_TMP_TAG "%ld.%u", (int)dlen, path, base, (long)getpid(), counter++);
        /* 0666 less the umask: the file ends up as any other file the program writes */
        f->fd = open(f->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (f->fd >= 0 || errno != EEXIST) break;
    }
    if (f->fd < 0) {
        ig_status st = ig_fail(IG_ERR_IO, "%s: cannot create a temporary file beside it: %s", path, strerror(errno));
        ig_atomic_abort(f);
        return st;
    }
    return IG_OK;
}

ig_status ig_atomic_write(ig_atomic_file *f, const void *buf, size_t n)
{
    const char *p = buf;
    size_t left = n;
    while (left > 0) {
        ssize_t w = write(f->fd, p, left);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) {
            ig_status st = ig_fail(IG_ERR_IO, "%s: write failed: %s", f->path, strerror(errno));
            ig_atomic_abort(f);
            return st;
        }
        p += w;
        left -= (size_t)w;
    }
    f->crc = ig_crc32(f->crc, buf, n);
    f->bytes += n;
    return IG_OK;
}

ig_status ig_atomic_commit(ig_atomic_file *f)
{
    ig_status st = IG_OK;
    /* the data must be on disk before the rename makes it visible under the real name */
    if (fsync(f->fd) != 0) st = ig_fail(IG_ERR_IO, "%s: fsync failed: %s", f->path, strerror(errno));
    if (close(f->fd) != 0 && st == IG_OK) st = ig_fail(IG_ERR_IO, "%s: close failed: %s", f->path, strerror(errno));
    f->fd = -1;
    if (st == IG_OK && rename(f->tmp, f->path) != 0)
        st = ig_fail(IG_ERR_IO, "%s: cannot rename the temporary file over it: %s", f->path, strerror(errno));
    if (st != IG_OK) {
        unlink(f->tmp);
        ig_atomic_abort(f);
        return st;
    }
    /* the rename itself is durable only once the directory is */
    st = ig_fsync_dir_of(f->path);
    free(f->path);
    free(f->tmp);
    *f = (ig_atomic_file){.fd = -1};
    return st;
}

void ig_atomic_abort(ig_atomic_file *f)
{
    if (f->fd >= 0) {
        close(f->fd);
        unlink(f->tmp);
    }
    free(f->path);
    free(f->tmp);
    *f = (ig_atomic_file){.fd = -1};
}
