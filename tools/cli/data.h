/* data.h — the tool's datasets: where they come from (--data, --data-kind and the options of
 * each kind), their training and test parts, subsets, and normalisation. */
#ifndef INGOT_CLI_DATA_H
#define INGOT_CLI_DATA_H

#include "cli.h"

#define CLI_DEFAULT_DATA "/usr/share/datasets/fashion-mnist"

typedef enum data_kind { DATA_AUTO = 0, DATA_IDX, DATA_CSV, DATA_IMAGES } data_kind;

typedef struct data_opts {
    const char *path;
    int kind; /* data_kind */
    const char *test_path;
    const char *csv_label;     /* a column name, or its index (negative from the end) */
    int csv_header;            /* auto, yes, no */
    const char *csv_delimiter; /* one character, or "tab" */
    bool regression;
    const char *image_size;    /* "HxW" */
    int64_t channels;
    bool skip_unreadable;
    const char *normalize;     /* "auto", "none", "MEAN,STD"; NULL: the command's default */
    int64_t limit;             /* at most this many samples of each part; 0: all */
} data_opts;

extern data_opts cli_data;
extern const cli_group cli_data_group;

/* Part of the data: the training part (IDX: the train-* files; else --data) or the test
 * part (IDX: the t10k-* files, *out NULL where there are none; else --test-data, *out NULL
 * where it was not given). Applies --limit (a stratified, seeded subset). Prints failures. */
int data_load(ig_ctx *ctx, bool test, uint64_t seed, ig_dataset **out);
/* The kind --data is (after auto-detection). */
data_kind data_resolved_kind(void);

/* A seeded subset of at most `n` samples (stratified for class labels); ds is replaced. */
int data_subset(ig_dataset **ds, int64_t n, uint64_t seed);

/* The mean and standard deviation of every value of ds's samples (in double). */
int data_stats(ig_dataset *ds, double *mean, double *std);

/* --normalize: "none", "auto" or "MEAN,STD" (std > 0). */
typedef struct norm_spec {
    bool on, automatic;
    double mean, std;
} norm_spec;
int data_parse_normalize(const char *s, norm_spec *out);

#endif /* INGOT_CLI_DATA_H */
