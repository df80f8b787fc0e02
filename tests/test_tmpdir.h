/* test_tmpdir.h — a temporary folder per test group, removed with everything in it at the
 * end: cmocka_run_group_tests(tests, make_tmpdir, remove_tmpdir). Define _GNU_SOURCE before
 * any include (for nftw). */
#ifndef IG_TEST_TMPDIR_H
#define IG_TEST_TMPDIR_H

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>

static char tmpdir[] = "/tmp/ingot_test_XXXXXX";

static inline int make_tmpdir(void **state) { return mkdtemp(tmpdir) ? 0 : -1; }

static inline int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw) { return remove(path); }

static inline int remove_tmpdir(void **state) { return nftw(tmpdir, remove_entry, 16, FTW_DEPTH | FTW_PHYS); }

#endif /* IG_TEST_TMPDIR_H */
