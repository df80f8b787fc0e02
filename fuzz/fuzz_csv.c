/* fuzz_csv.c — the CSV dataset reader; the first byte picks the options (delimiter, header
 * mode, label column, classes or regression), the rest is the file. */
#include "fuzz_file.h"

#include <ingot.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static ig_ctx *ctx;
    if (!ctx && ig_ctx_create(IG_DEVICE_CPU, &ctx) != IG_OK) abort();
    if (size < 1) return 0;
    static const char delims[4] = {',', ';', '\t', '|'};
    ig_csv_options o = ig_csv_defaults();
    o.delimiter = delims[data[0] & 3];
    o.header = (ig_csv_header)((data[0] >> 2) % 3);
    o.label_index = (data[0] & 0x20) ? 0 : -1;
    o.regression = (data[0] & 0x40) != 0;
    if ((data[0] & 0x80) && o.header != IG_CSV_HEADER_ABSENT) o.label_column = "label";
    ig_dataset *ds;
    if (ig_dataset_load_csv(ctx, fuzz_file(data + 1, size - 1), &o, &ds) == IG_OK) ig_dataset_destroy(ds);
    return 0;
}
