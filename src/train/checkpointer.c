/* checkpointer.c — checkpoints of a training run in one directory: keep the newest N and the
 * best by a validation metric, and clear away what crashed saves left. */
#include "io/atomic_file.h"
#include "train/checkpoint.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PREFIX "ckpt-"

struct ig_checkpointer {
    char *dir;
    ig_checkpointer_config cfg;
    ig_ckpt_info *list; /* by step */
    int n;
    int best;           /* index into list, or -1 */
    char *latest_path, *best_path;
};

ig_checkpointer_config ig_checkpointer_defaults(void)
{
    return (ig_checkpointer_config){.keep_last = 3, .keep_best = true, .maximize = false};
}

void ig_checkpointer_destroy(ig_checkpointer *c)
{
    if (!c) return;
    ig_ckpt_list_free(c->list, c->n);
    free(c->dir);
    free(c->latest_path);
    free(c->best_path);
    free(c);
}

static char *manifest_of(const ig_ckpt_info *i)
{
    size_t len = strlen(i->stem) + 6;
    char *p = malloc(len);
    if (p) snprintf(p, len, "%s.json", i->stem);
    return p;
}

/* Lists the directory again; finds the best (the first of the best metric: a later one must
 * beat it) and the paths reported. */
static ig_status refresh(ig_checkpointer *c)
{
    ig_ckpt_list_free(c->list, c->n);
    free(c->latest_path);
    free(c->best_path);
    c->list = NULL;
    c->n = 0;
    c->latest_path = c->best_path = NULL;
    IG_TRY(ig_ckpt_scan(c->dir, &c->list, &c->n));
    c->best = -1;
    for (int i = 0; i < c->n; i++) {
        double m = c->list[i].metric, b = c->best >= 0 ? c->list[c->best].metric : 0;
        if (!isnan(m) && (c->best < 0 || (c->cfg.maximize ? m > b : m < b))) c->best = i;
    }
    if (c->n && !(c->latest_path = manifest_of(&c->list[c->n - 1])))
        return ig_fail(IG_ERR_OUT_OF_MEMORY, "out of memory");
    if (c->best >= 0 && !(c->best_path = manifest_of(&c->list[c->best])))
        return ig_fail(IG_ERR_OUT_OF_MEMORY, "out of memory");
    return IG_OK;
}

/* Whether a file of ours in the directory is referenced by no checkpoint: the tensors of a
 * save that crashed before its manifest, or of a removal that crashed after it; a
 * temporary file. */
static bool is_leftover(const ig_checkpointer *c, const char *name)
{
    if (ig_atomic_is_temp(name)) return strncmp(name + 1, PREFIX, strlen(PREFIX)) == 0;
    size_t len = strlen(name);
    if (strncmp(name, PREFIX, strlen(PREFIX)) != 0 || len < 12 || strcmp(name + len - 12, ".safetensors") != 0)
        return false;
    for (int i = 0; i < c->n; i++)
        if (strcmp(c->list[i].tensors, name) == 0) return false;
    return true;
}

static void remove_leftovers(const ig_checkpointer *c)
{
    DIR *d = opendir(c->dir);
    struct dirent *e;
    while (d && (e = readdir(d)))
        if (is_leftover(c, e->d_name)) {
            size_t len = strlen(c->dir) + strlen(e->d_name) + 2;
            char *p = malloc(len);
            if (p) {
                snprintf(p, len, "%s/%s", c->dir, e->d_name);
                unlink(p);
            }
            free(p);
        }
    if (d) closedir(d);
}

ig_status ig_checkpointer_create(const char *dir, const ig_checkpointer_config *cfg, ig_checkpointer **out)
{
    const char *fn = "ig_checkpointer_create";
    if (!dir || !cfg || !out) return ig_fail(IG_ERR_INVALID_ARGUMENT, "%s: NULL %s", fn, !dir ? "dir" : !cfg ? "config" : "out");
    *out = NULL;
    if (cfg->keep_last < 1)
        return ig_fail(IG_ERR_INVALID_ARGUMENT, "%s: keep_last %d must be >= 1", fn, cfg->keep_last);
    if (mkdir(dir, 0777) != 0 && errno != EEXIST)
        return ig_fail(IG_ERR_IO, "%s: cannot create the directory %s: %s", fn, dir, strerror(errno));
    struct stat sb;
    if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode)) return ig_fail(IG_ERR_IO, "%s: %s is not a directory", fn, dir);
    ig_checkpointer *c = calloc(1, sizeof *c);
    if (!c || !(c->dir = strdup(dir))) {
        free(c);
        return ig_fail(IG_ERR_OUT_OF_MEMORY, "%s: out of memory", fn);
    }
    c->cfg = *cfg;
    ig_status st = refresh(c);
    if (st != IG_OK) {
        ig_checkpointer_destroy(c);
        return ig_fail_prefix(st, "%s: ", fn);
    }
    remove_leftovers(c);
    *out = c;
    return IG_OK;
}

ig_status ig_checkpointer_save(ig_checkpointer *c, ig_trainer *t, float metric, const ig_checkpoint_monitors *mon,
                               bool *best)
{
    const char *fn = "ig_checkpointer_save";
    if (best) *best = false;
    if (!c || !t) return ig_fail(IG_ERR_INVALID_ARGUMENT, "%s: NULL %s", fn, c ? "trainer" : "checkpointer");
    size_t len = strlen(c->dir) + 32;
    char *stem = malloc(len);
    if (!stem) return ig_fail(IG_ERR_OUT_OF_MEMORY, "%s: out of memory", fn);
    snprintf(stem, len, "%s/" PREFIX "%012" PRId64, c->dir, ig_trainer_step_count(t));
    ig_status st = ig_ckpt_save(t, stem, mon, &metric);
    if (st == IG_OK) st = refresh(c);
    /* the newest keep_last stay, and the best */
    bool removed = false;
    for (int i = 0; st == IG_OK && i < c->n - c->cfg.keep_last; i++)
        if (!(c->cfg.keep_best && i == c->best)) {
            st = ig_ckpt_remove(&c->list[i]);
            removed = true;
        }
    if (st == IG_OK && removed) st = refresh(c);
    if (st == IG_OK && best && c->best >= 0) *best = strcmp(c->list[c->best].stem, stem) == 0;
    free(stem);
    return st == IG_OK ? IG_OK : ig_fail_prefix(st, "%s: ", fn);
}

const char *ig_checkpointer_latest(const ig_checkpointer *c) { return c ? c->latest_path : NULL; }
const char *ig_checkpointer_best(const ig_checkpointer *c) { return c ? c->best_path : NULL; }
