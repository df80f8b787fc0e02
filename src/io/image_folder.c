/* image_folder.c — datasets from root/<class>/<image> folders of PNG and JPEG files. */
#include "dataset.h"
#include "image.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

ig_image_folder_options ig_image_folder_defaults(void)
{
    return (ig_image_folder_options){.channels = 3, .height = 32, .width = 32, .skip_unreadable = false};
}

/* A growable list of malloc'd strings, each with a tag (a file's class). */
typedef struct name_list {
    char **s;
    int32_t *tag;
    size_t n, cap;
} name_list;

static void names_free(name_list *l)
{
    for (size_t i = 0; i < l->n; i++) free(l->s[i]);
    free(l->s);
    free(l->tag);
    *l = (name_list){0};
}

static ig_status names_add(name_list *l, const char *s, int32_t tag)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 64;
        char **ns = realloc(l->s, cap * sizeof *ns);
        if (ns) l->s = ns;
        int32_t *nt = ns ? realloc(l->tag, cap * sizeof *nt) : NULL;
        if (!nt) return ig_fail(IG_ERR_OUT_OF_MEMORY, "ig_dataset_load_image_folder: out of memory");
        l->tag = nt;
        l->cap = cap;
    }
    if (!(l->s[l->n] = strdup(s))) return ig_fail(IG_ERR_OUT_OF_MEMORY, "ig_dataset_load_image_folder: out of memory");
    l->tag[l->n++] = tag;
    return IG_OK;
}

static int cmp_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static bool is_image_name(const char *name)
{
    const char *dot = strrchr(name, '.');
    return dot && (!strcasecmp(dot, ".png") || !strcasecmp(dot, ".jpg") || !strcasecmp(dot, ".jpeg"));
}

/* The names in dir, in byte order, of its folders (want_dirs) or of its image files; names
 * starting with '.' are left out. An image name that cannot be examined is listed: reading
 * it reports why. */
static ig_status list_dir(const char *dir, bool want_dirs, name_list *out)
{
    DIR *d = opendir(dir);
    if (!d) return ig_fail(IG_ERR_IO, "%s: cannot open: %s", dir, strerror(errno));
    ig_status s = IG_OK;
    char path[PATH_MAX];
    for (;;) {
        errno = 0;
        struct dirent *e = readdir(d);
        if (!e) {
            if (errno) s = ig_fail(IG_ERR_IO, "%s: cannot list: %s", dir, strerror(errno));
            break;
        }
        if (e->d_name[0] == '.' || (!want_dirs && !is_image_name(e->d_name))) continue;
        if (snprintf(path, sizeof path, "%s/%s", dir, e->d_name) >= (int)sizeof path) {
            s = ig_fail(IG_ERR_IO, "%s/%s: the path is too long", dir, e->d_name);
            break;
        }
        struct stat st;
        bool is_dir = stat(path, &st) == 0 && S_ISDIR(st.st_mode); /* stat: follows links */
        if (is_dir == want_dirs && (s = names_add(out, e->d_name, 0)) != IG_OK) break;
    }
    closedir(d);
    if (out->n) qsort(out->s, out->n, sizeof *out->s, cmp_name);
    return s;
}

/* files: the image paths, tagged with their class id. */
static ig_status list_images(const char *root, const name_list *classes, name_list *files)
{
    char path[PATH_MAX];
    for (size_t c = 0; c < classes->n; c++) {
        snprintf(path, sizeof path, "%s/%s", root, classes->s[c]); /* list_dir checked the length */
        name_list images = {0};
        ig_status s = list_dir(path, false, &images);
        if (s == IG_OK && images.n == 0)
            s = ig_fail(IG_ERR_FORMAT, "%s: no PNG or JPEG files (a class folder needs at least one image)", path);
        for (size_t i = 0; s == IG_OK && i < images.n; i++) {
            char file[PATH_MAX];
            if (snprintf(file, sizeof file, "%s/%s", path, images.s[i]) >= (int)sizeof file)
                s = ig_fail(IG_ERR_IO, "%s/%s: the path is too long", path, images.s[i]);
            else
                s = names_add(files, file, (int32_t)c);
        }
        names_free(&images);
        IG_TRY(s);
    }
    return IG_OK;
}

/* Decodes file i into sample i of x; ok[i] says which worked. Returns the status of the
 * first file (in order) that failed, its message in ig_last_error(), or IG_OK. Without
 * skip_unreadable, files after a failed one may be left undone. */
static ig_status decode_all(const name_list *files, const ig_image_folder_options *o, float *x, uint8_t *ok)
{
    int64_t n = (int64_t)files->n, numel = o->channels * o->height * o->width, first = n;
    ig_status first_status = IG_OK;
    char first_msg[1024] = "";
#pragma omp parallel for schedule(dynamic, 4)
    for (int64_t i = 0; i < n; i++) {
        int64_t seen;
#pragma omp atomic read
        seen = first;
        if (!o->skip_unreadable && i > seen) continue;
        ig_image img;
        ig_status s = ig_image_decode(files->s[i], &img);
        if (s == IG_OK) {
            s = ig_image_to_sample(&img, o->channels, o->height, o->width, x + i * numel);
            ig_image_free(&img);
        }
        ok[i] = s == IG_OK;
        if (s != IG_OK) {
            /* the message is in this thread's ig_last_error() */
#pragma omp critical(ig_image_folder_failure)
            if (i < first) {
                first_status = s;
                snprintf(first_msg, sizeof first_msg, "%s", ig_last_error());
#pragma omp atomic write
                first = i;
            }
        }
    }
    return first < n ? ig_fail(first_status, "%s", first_msg) : IG_OK;
}

/* The samples of ds whose files decoded, as a new dataset in *out; ds is destroyed either way. */
static ig_status drop_unreadable(ig_dataset *ds, const uint8_t *ok, ig_dataset **out)
{
    int64_t *keep = malloc((size_t)ds->size * sizeof *keep), k = 0;
    ig_status s = keep ? IG_OK : ig_fail(IG_ERR_OUT_OF_MEMORY, "ig_dataset_load_image_folder: out of memory");
    for (int64_t i = 0; keep && i < ds->size; i++)
        if (ok[i]) keep[k++] = i;
    if (s == IG_OK) s = ig_dataset_subset(ds, keep, k, "ig_dataset_load_image_folder", out);
    free(keep);
    ig_dataset_destroy(ds);
    return s;
}

static ig_status load(ig_ctx *ctx, const char *root, const ig_image_folder_options *o, const name_list *classes,
                      const name_list *files, ig_dataset **out, int64_t *skipped)
{
    const char *fn = "ig_dataset_load_image_folder";
    int64_t n = (int64_t)files->n;
    ig_dataset *ds;
    IG_TRY(ig_dataset_alloc(ctx, n, 3, (int64_t[]){o->channels, o->height, o->width}, 0, fn, &ds));
    for (int64_t i = 0; i < n; i++) ds->y[i] = files->tag[i];
    uint8_t *ok = calloc((size_t)n, 1);
    ig_status s = ok ? ig_dataset_set_class_names(ds, (const char *const *)classes->s, (int32_t)classes->n, fn)
                     : ig_fail(IG_ERR_OUT_OF_MEMORY, "%s: out of memory", fn);
    if (s == IG_OK) {
        s = decode_all(files, o, ds->x, ok);
        int64_t bad = 0;
        for (int64_t i = 0; i < n; i++) bad += !ok[i];
        if (s != IG_OK && o->skip_unreadable && bad == n) {
            s = ig_fail_prefix(IG_ERR_FORMAT, "%s: none of the %lld image files could be read; the first: ", root,
                               (long long)n);
        } else if (s != IG_OK && o->skip_unreadable) {
            ig_dataset *kept = NULL;
            s = drop_unreadable(ds, ok, &kept);
            ds = kept;
            *skipped = bad;
        }
    }
    free(ok);
    if (s != IG_OK) {
        ig_dataset_destroy(ds);
        return s;
    }
    *out = ds;
    return IG_OK;
}

ig_status ig_dataset_load_image_folder(ig_ctx *ctx, const char *root, const ig_image_folder_options *opt,
                                       ig_dataset **out, int64_t *skipped)
{
    const char *fn = "ig_dataset_load_image_folder";
    int64_t dropped = 0;
    if (out) *out = NULL;
    if (skipped) *skipped = 0;
    if (!ctx || !root || !out)
        return ig_fail(IG_ERR_INVALID_ARGUMENT, "%s: NULL %s", fn, !ctx ? "ctx" : !root ? "root" : "out");
    ig_image_folder_options defaults = ig_image_folder_defaults();
    if (!opt) opt = &defaults;
    if (opt->channels != 1 && opt->channels != 3)
        return ig_fail(IG_ERR_INVALID_ARGUMENT, "%s: channels is %lld (1 for grayscale or 3 for RGB)", fn,
                       (long long)opt->channels);
    if (opt->height < 1 || opt->height > 65535 || opt->width < 1 || opt->width > 65535)
        return ig_fail(IG_ERR_INVALID_ARGUMENT, "%s: the sample size is %lld x %lld (each must be in 1..65535)", fn,
                       (long long)opt->height, (long long)opt->width);
    name_list classes = {0}, files = {0};
    ig_status s = list_dir(root, true, &classes);
    if (s == IG_OK && classes.n == 0)
        s = ig_fail(IG_ERR_FORMAT, "%s: no class folders (expected %s/<class>/<image files>)", root, root);
    if (s == IG_OK && classes.n > INT32_MAX)
        s = ig_fail(IG_ERR_FORMAT, "%s: more than %d class folders", root, INT32_MAX);
    if (s == IG_OK) s = list_images(root, &classes, &files);
    if (s == IG_OK) s = load(ctx, root, opt, &classes, &files, out, &dropped);
    if (s == IG_OK && skipped) *skipped = dropped;
    names_free(&classes);
    names_free(&files);
    return s;
}
