/* data.c — reading the tool's datasets through the library's readers. */
#include "data.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const kinds[] = {"auto", "idx", "csv", "images", NULL};
static const char *const headers[] = {"auto", "yes", "no", NULL};

data_opts cli_data = {.path = CLI_DEFAULT_DATA, .csv_delimiter = ",", .image_size = "32x32", .channels = 3};

static const cli_opt data_table[] = {
    {"data", CLI_STRING, &cli_data.path, "PATH",
     "the data: an IDX folder (Fashion-MNIST's file names), a CSV file or an image folder (root/<class>/*.png|jpg)"},
    {"data-kind", CLI_CHOICE, &cli_data.kind, "KIND", "what --data is; auto tells by looking", kinds},
    {"test-data", CLI_STRING, &cli_data.test_path, "PATH",
     "a separate test set of the same kind (an IDX folder's t10k-* files are found by themselves)"},
    {"limit", CLI_INT, &cli_data.limit, "N", "use a seeded, stratified subset of at most N samples of each part (0: all)",
     NULL, 0, 1e12},
    {"normalize", CLI_STRING, &cli_data.normalize, "auto|none|MEAN,STD",
     "x <- (x - MEAN) / STD; auto: the training part's mean and std", NULL, 0, 0,
     "train: auto; eval, predict: the model's"},
    {"csv-label", CLI_STRING, &cli_data.csv_label, "COLUMN", "CSV: the label column by name or index (negative: from the end)",
     NULL, 0, 0, "-1"},
    {"csv-header", CLI_CHOICE, &cli_data.csv_header, "H", "CSV: whether the first row is a header", headers},
    {"csv-delimiter", CLI_STRING, &cli_data.csv_delimiter, "C", "CSV: the delimiter, one character or \"tab\""},
    {"regression", CLI_FLAG, &cli_data.regression, NULL, "CSV: the label column is a float target (MSE loss)"},
    {"image-size", CLI_STRING, &cli_data.image_size, "HxW", "images: the size they are resized to"},
    {"channels", CLI_INT, &cli_data.channels, "C", "images: 3 (RGB) or 1 (grayscale)", NULL, 1, 3},
    {"skip-unreadable", CLI_FLAG, &cli_data.skip_unreadable, NULL, "images: leave out files that cannot be decoded"},
};
const cli_group cli_data_group = CLI_GROUP("data", data_table);

/* dir/name or dir/name.gz, whichever exists, into buf; false if neither. */
static bool idx_file(const char *dir, const char *name, char *buf, size_t n)
{
    snprintf(buf, n, "%s/%s.gz", dir, name);
    if (access(buf, R_OK) == 0) return true;
    snprintf(buf, n, "%s/%s", dir, name);
    return access(buf, R_OK) == 0;
}

data_kind data_resolved_kind(void)
{
    if (cli_data.kind != DATA_AUTO) return (data_kind)cli_data.kind;
    char f[4096];
    if (cli_is_dir(cli_data.path))
        return idx_file(cli_data.path, "train-images-idx3-ubyte", f, sizeof f) ||
                       idx_file(cli_data.path, "t10k-images-idx3-ubyte", f, sizeof f)
                   ? DATA_IDX
                   : DATA_IMAGES;
    return DATA_CSV;
}

static int load_idx(ig_ctx *ctx, const char *dir, bool test, ig_dataset **out)
{
    const char *part = test ? "t10k" : "train";
    char img[4096], lab[4096], name[64];
    snprintf(name, sizeof name, "%s-images-idx3-ubyte", part);
    bool have_img = idx_file(dir, name, img, sizeof img);
    snprintf(name, sizeof name, "%s-labels-idx1-ubyte", part);
    bool have_lab = idx_file(dir, name, lab, sizeof lab);
    if (test && !have_img && !have_lab) return CLI_OK; /* no test part */
    if (!cli_is_dir(dir)) return cli_fail("--data %s: no such folder (an IDX dataset is a folder)", dir);
    if (!have_img || !have_lab)
        return cli_fail("--data %s: no %s-images-idx3-ubyte[.gz] and %s-labels-idx1-ubyte[.gz] there (the IDX file names of "
                        "MNIST and Fashion-MNIST)", dir, part, part);
    return ig_dataset_load_idx(ctx, img, lab, out) == IG_OK ? CLI_OK : cli_lib_fail(NULL);
}

static int load_csv(ig_ctx *ctx, const char *path, ig_dataset **out)
{
    ig_csv_options o = ig_csv_defaults();
    const char *d = cli_data.csv_delimiter;
    if (strcmp(d, "tab") == 0 || strcmp(d, "\\t") == 0) o.delimiter = '\t';
    else if (strlen(d) == 1) o.delimiter = d[0];
    else return cli_usage("--csv-delimiter: \"%s\" is not valid; valid: one character, or \"tab\"", d);
    o.header = cli_data.csv_header == 1 ? IG_CSV_HEADER_PRESENT : cli_data.csv_header == 2 ? IG_CSV_HEADER_ABSENT : IG_CSV_HEADER_AUTO;
    o.regression = cli_data.regression;
    if (cli_data.csv_label) {
        char *end;
        long i = strtol(cli_data.csv_label, &end, 10);
        if (*end == '\0') o.label_index = (int)i;
        else o.label_column = cli_data.csv_label;
    }
    return ig_dataset_load_csv(ctx, path, &o, out) == IG_OK ? CLI_OK : cli_lib_fail(NULL);
}

static int load_images(ig_ctx *ctx, const char *root, ig_dataset **out)
{
    ig_image_folder_options o = ig_image_folder_defaults();
    int64_t hw[2];
    if (cli_parse_shape(cli_data.image_size, hw, 2) != 2)
        return cli_usage("--image-size: \"%s\" is not valid; valid: HxW, e.g. 32x32", cli_data.image_size);
    if (cli_data.channels == 2) return cli_usage("--channels: 2 is not valid; valid: 1 (grayscale) or 3 (RGB)");
    o.height = hw[0];
    o.width = hw[1];
    o.channels = cli_data.channels;
    o.skip_unreadable = cli_data.skip_unreadable;
    int64_t skipped = 0;
    if (ig_dataset_load_image_folder(ctx, root, &o, out, &skipped) != IG_OK) return cli_lib_fail(NULL);
    if (skipped) fprintf(stderr, "ingot %s: %s: left out %lld unreadable files\n", cli_name, root, (long long)skipped);
    return CLI_OK;
}

int data_subset(ig_dataset **ds, int64_t n, uint64_t seed)
{
    int64_t size = ig_dataset_size(*ds);
    if (n <= 0 || n >= size) return CLI_OK;
    /* the validation part of a split is the subset: ceil(fraction · size) samples is n */
    ig_dataset *rest = NULL, *part = NULL;
    double fraction = ((double)n - 0.5) / (double)size;
    if (ig_dataset_split(*ds, fraction, seed, ig_dataset_num_classes(*ds) > 0, &rest, &part) != IG_OK)
        return cli_lib_fail("--limit");
    ig_dataset_destroy(rest);
    ig_dataset_destroy(*ds);
    *ds = part;
    return CLI_OK;
}

int data_load(ig_ctx *ctx, bool test, uint64_t seed, ig_dataset **out)
{
    *out = NULL;
    data_kind k = data_resolved_kind();
    const char *path = test ? cli_data.test_path : cli_data.path;
    int rc = CLI_OK;
    if (k == DATA_IDX) rc = load_idx(ctx, path ? path : cli_data.path, test, out);
    else if (!path) return CLI_OK;
    else if (k == DATA_CSV) rc = load_csv(ctx, path, out);
    else rc = load_images(ctx, path, out);
    if (rc == CLI_OK && *out) rc = data_subset(out, cli_data.limit, seed);
    return rc;
}

int data_stats(ig_dataset *ds, double *mean, double *std)
{
    /* batch by batch through a loader: no copy of the whole dataset */
    ig_loader *ld;
    if (ig_loader_create(ds, 4096, false, 0, false, &ld) != IG_OK) return cli_lib_fail(NULL);
    double sum = 0, sq = 0;
    int64_t count = 0;
    ig_tensor *x, *y;
    for (;;) {
        if (ig_loader_next(ld, &x, &y) != IG_OK) {
            ig_loader_destroy(ld);
            return cli_lib_fail(NULL);
        }
        if (!x) break;
        const float *v = ig_tensor_data_const(x);
        int64_t n = ig_tensor_numel(x);
        for (int64_t i = 0; i < n; i++) sum += v[i], sq += (double)v[i] * v[i];
        count += n;
    }
    ig_loader_destroy(ld);
    *mean = sum / (double)count;
    double var = sq / (double)count - *mean * *mean;
    *std = var > 0 ? sqrt(var) : 1.0;
    return CLI_OK;
}

int data_parse_normalize(const char *s, norm_spec *out)
{
    *out = (norm_spec){0};
    if (strcmp(s, "none") == 0) return CLI_OK;
    out->on = true;
    if (strcmp(s, "auto") == 0) {
        out->automatic = true;
        return CLI_OK;
    }
    char *end;
    out->mean = strtod(s, &end);
    if (end != s && *end == ',') {
        const char *t = end + 1;
        out->std = strtod(t, &end);
        if (end != t && *end == '\0' && isfinite(out->mean) && isfinite(out->std) && out->std > 0) return CLI_OK;
    }
    return cli_usage("--normalize: \"%s\" is not valid; valid: auto, none, or MEAN,STD with STD > 0 (e.g. 0.2860,0.3530)", s);
}
