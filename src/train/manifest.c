/* manifest.c — see manifest.h. */
#include "train/manifest.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define JSON_MAX_INT 9007199254740992.0 /* 2^53 */

ig_status ig_json_read_file(const char *path, cJSON **out)
{
    *out = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return ig_fail(IG_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    struct stat sb;
    ig_status st = IG_OK;
    if (fstat(fd, &sb) != 0) st = ig_fail(IG_ERR_IO, "%s: cannot stat: %s", path, strerror(errno));
    else if (!S_ISREG(sb.st_mode)) st = ig_fail(IG_ERR_IO, "%s: not a regular file", path);
    else if (sb.st_size > IG_MANIFEST_MAX_BYTES)
        st = ig_fail(IG_ERR_FORMAT, "%s: %lld bytes, more than a manifest may have (%lld)", path, (long long)sb.st_size,
                     (long long)IG_MANIFEST_MAX_BYTES);
    size_t size = st == IG_OK ? (size_t)sb.st_size : 0, done = 0;
    char *text = st == IG_OK ? malloc(size + 1) : NULL;
    if (st == IG_OK && !text) st = ig_fail(IG_ERR_OUT_OF_MEMORY, "%s: out of memory", path);
    while (st == IG_OK && done < size) {
        ssize_t r = read(fd, text + done, size - done);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) st = ig_fail(IG_ERR_IO, "%s: read failed: %s", path, strerror(errno));
        else if (r == 0) st = ig_fail(IG_ERR_FORMAT, "%s: truncated at byte %zu", path, done);
        else done += (size_t)r;
    }
    close(fd);
    if (st == IG_OK) {
        text[size] = '\0';
        const char *end = NULL;
        if (strlen(text) != size) st = ig_fail(IG_ERR_FORMAT, "%s: a NUL byte at %zu", path, strlen(text));
        else if (!(*out = cJSON_ParseWithOpts(text, &end, true)))
            st = ig_fail(IG_ERR_FORMAT, "%s: not valid JSON (at byte %lld of %zu)", path,
                         end ? (long long)(end - text) : -1LL, size);
        else if (!cJSON_IsObject(*out)) st = ig_fail(IG_ERR_FORMAT, "%s: not a JSON object", path);
    }
    if (st != IG_OK) {
        cJSON_Delete(*out);
        *out = NULL;
    }
    free(text);
    return st;
}

static ig_status bad(const char *path, const char *key, const char *what)
{
    return ig_fail(IG_ERR_FORMAT, "%s: \"%s\" is missing or not %s", path, key, what);
}

ig_status ig_json_object(const char *path, const cJSON *obj, const char *key, const cJSON **out)
{
    *out = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsObject(*out) ? IG_OK : bad(path, key, "an object");
}

ig_status ig_json_array(const char *path, const cJSON *obj, const char *key, int max_len, const cJSON **out)
{
    *out = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!cJSON_IsArray(*out)) return bad(path, key, "an array");
    if (cJSON_GetArraySize(*out) > max_len)
        return ig_fail(IG_ERR_FORMAT, "%s: \"%s\" has %d entries, at most %d are expected", path, key,
                       cJSON_GetArraySize(*out), max_len);
    return IG_OK;
}

ig_status ig_json_string(const char *path, const cJSON *obj, const char *key, const char **out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!cJSON_IsString(v)) return bad(path, key, "a string");
    *out = v->valuestring;
    return IG_OK;
}

ig_status ig_json_bool(const char *path, const cJSON *obj, const char *key, bool *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!cJSON_IsBool(v)) return bad(path, key, "true or false");
    *out = cJSON_IsTrue(v);
    return IG_OK;
}

/* An integral double in [lo, hi]. */
static bool as_int(const cJSON *v, int64_t lo, int64_t hi, int64_t *out)
{
    if (!cJSON_IsNumber(v)) return false;
    double d = v->valuedouble;
    if (!(d >= -JSON_MAX_INT && d <= JSON_MAX_INT) || d != floor(d) || d < (double)lo || d > (double)hi) return false;
    *out = (int64_t)d;
    return true;
}

ig_status ig_json_int(const char *path, const cJSON *obj, const char *key, int64_t lo, int64_t hi, int64_t *out)
{
    if (as_int(cJSON_GetObjectItemCaseSensitive(obj, key), lo, hi, out)) return IG_OK;
    return ig_fail(IG_ERR_FORMAT, "%s: \"%s\" is missing or not an integer in [%" PRId64 ", %" PRId64 "]", path, key, lo,
                   hi);
}

ig_status ig_json_u64(const char *path, const cJSON *obj, const char *key, uint64_t *out)
{
    const char *s;
    IG_TRY(ig_json_string(path, obj, key, &s));
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (!*s || *s < '0' || *s > '9' || *end || errno) return bad(path, key, "a decimal string of a 64-bit integer");
    *out = v;
    return IG_OK;
}

ig_status ig_json_float(const char *path, const cJSON *obj, const char *key, double *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (cJSON_IsNumber(v)) {
        *out = v->valuedouble;
        return IG_OK;
    }
    if (cJSON_IsString(v)) {
        if (strcmp(v->valuestring, "inf") == 0) *out = INFINITY;
        else if (strcmp(v->valuestring, "-inf") == 0) *out = -INFINITY;
        else if (strcmp(v->valuestring, "nan") == 0) *out = NAN;
        else return bad(path, key, "a number");
        return IG_OK;
    }
    return bad(path, key, "a number");
}

bool ig_json_add_u64(cJSON *obj, const char *key, uint64_t v)
{
    char buf[24];
    snprintf(buf, sizeof buf, "%" PRIu64, v);
    return cJSON_AddStringToObject(obj, key, buf) != NULL;
}

bool ig_json_add_float(cJSON *obj, const char *key, double v)
{
    if (isfinite(v)) return cJSON_AddNumberToObject(obj, key, v) != NULL;
    return cJSON_AddStringToObject(obj, key, isnan(v) ? "nan" : v > 0 ? "inf" : "-inf") != NULL;
}

/* ---- the trainer configuration, field by field */

typedef enum cf_type { CF_ENUM, CF_INT, CF_I64, CF_FLOAT, CF_BOOL, CF_MILESTONES } cf_type;

#define CF(field, type) {#field, type, offsetof(ig_trainer_config, field)}
static const struct cfg_field {
    const char *name;
    cf_type type;
    size_t offset;
} cfg_fields[] = {
    CF(loss, CF_ENUM), CF(optimizer, CF_ENUM), CF(learning_rate, CF_FLOAT), CF(momentum, CF_FLOAT),
    CF(dampening, CF_FLOAT), CF(nesterov, CF_BOOL), CF(beta1, CF_FLOAT), CF(beta2, CF_FLOAT), CF(eps, CF_FLOAT),
    CF(weight_decay, CF_FLOAT), CF(alpha, CF_FLOAT), CF(centered, CF_BOOL), CF(rho, CF_FLOAT), CF(lr_decay, CF_FLOAT),
    CF(initial_accumulator_value, CF_FLOAT), CF(momentum_decay, CF_FLOAT), CF(label_smoothing, CF_FLOAT),
    CF(huber_delta, CF_FLOAT), CF(schedule.kind, CF_ENUM), CF(schedule.step_size, CF_I64),
    CF(schedule.milestones, CF_MILESTONES), CF(schedule.n_milestones, CF_INT), CF(schedule.gamma, CF_FLOAT),
    CF(schedule.total_steps, CF_I64), CF(schedule.min_lr, CF_FLOAT), CF(schedule.max_lr, CF_FLOAT),
    CF(schedule.pct_start, CF_FLOAT), CF(schedule.div_factor, CF_FLOAT), CF(schedule.final_div_factor, CF_FLOAT),
    CF(schedule.warmup_steps, CF_I64), CF(schedule.warmup_start, CF_FLOAT), CF(max_grad_norm, CF_FLOAT),
    CF(no_decay_1d, CF_BOOL), CF(lbfgs_max_iter, CF_INT), CF(lbfgs_max_eval, CF_INT), CF(lbfgs_history, CF_INT),
    CF(lbfgs_tolerance_grad, CF_FLOAT), CF(lbfgs_tolerance_change, CF_FLOAT), CF(lbfgs_line_search, CF_ENUM),
};
#undef CF
#define N_CFG_FIELDS (sizeof cfg_fields / sizeof cfg_fields[0])

/* A tripwire: a field added to ig_trainer_config must be added to cfg_fields too, or a
 * checkpoint would not record it (this size is x86-64's and aarch64's). */
_Static_assert(sizeof(ig_trainer_config) == 240, "ig_trainer_config changed: update cfg_fields in manifest.c");
_Static_assert(sizeof(ig_loss) == sizeof(int) && sizeof(ig_schedule) == sizeof(int), "enums are read as int");

/* A field's value as a double (milestone k for CF_MILESTONES). */
static double field_value(const struct cfg_field *f, const ig_trainer_config *c, int k)
{
    const char *p = (const char *)c + f->offset;
    switch (f->type) {
    case CF_ENUM:
    case CF_INT: return *(const int *)p;
    case CF_I64: return (double)*(const int64_t *)p;
    case CF_FLOAT: return *(const float *)p;
    case CF_BOOL: return *(const bool *)p;
    case CF_MILESTONES: return (double)((const int64_t *)p)[k];
    }
    return 0;
}

cJSON *ig_config_to_json(const ig_trainer_config *c)
{
    cJSON *o = cJSON_CreateObject();
    bool ok = o != NULL;
    for (size_t i = 0; ok && i < N_CFG_FIELDS; i++) {
        const struct cfg_field *f = &cfg_fields[i];
        if (f->type == CF_BOOL) {
            ok = cJSON_AddBoolToObject(o, f->name, field_value(f, c, 0) != 0) != NULL;
        } else if (f->type == CF_MILESTONES) {
            cJSON *a = cJSON_AddArrayToObject(o, f->name);
            ok = a != NULL;
            for (int k = 0; ok && k < IG_MAX_MILESTONES; k++) ok = cJSON_AddItemToArray(a, cJSON_CreateNumber(field_value(f, c, k)));
        } else {
            ok = ig_json_add_float(o, f->name, field_value(f, c, 0));
        }
    }
    if (!ok) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

/* The saved value of a field (milestone k) as the field's C type would hold it. */
static ig_status saved_value(const char *path, const cJSON *saved, const struct cfg_field *f, int k, double *out)
{
    if (f->type == CF_BOOL) {
        bool b;
        IG_TRY(ig_json_bool(path, saved, f->name, &b));
        *out = b;
        return IG_OK;
    }
    if (f->type == CF_MILESTONES) {
        const cJSON *a;
        IG_TRY(ig_json_array(path, saved, f->name, IG_MAX_MILESTONES, &a));
        int64_t v;
        if (cJSON_GetArraySize(a) != IG_MAX_MILESTONES || !as_int(cJSON_GetArrayItem(a, k), INT64_MIN / 2, INT64_MAX / 2, &v))
            return bad(path, f->name, "an array of integers");
        *out = (double)v;
        return IG_OK;
    }
    if (f->type == CF_FLOAT) {
        double d;
        IG_TRY(ig_json_float(path, saved, f->name, &d));
        *out = (float)d;
        return IG_OK;
    }
    int64_t v;
    IG_TRY(ig_json_int(path, saved, f->name, f->type == CF_I64 ? -(int64_t)JSON_MAX_INT : INT32_MIN,
                       f->type == CF_I64 ? (int64_t)JSON_MAX_INT : INT32_MAX, &v));
    *out = (double)v;
    return IG_OK;
}

ig_status ig_config_compare(const char *path, const cJSON *saved, const ig_trainer_config *c)
{
    for (size_t i = 0; i < N_CFG_FIELDS; i++) {
        const struct cfg_field *f = &cfg_fields[i];
        int n = f->type == CF_MILESTONES ? IG_MAX_MILESTONES : 1;
        for (int k = 0; k < n; k++) {
            double was = 0, is = field_value(f, c, k);
            IG_TRY(saved_value(path, saved, f, k, &was));
            if (was == is || (isnan(was) && isnan(is))) continue;
            char name[64];
            snprintf(name, sizeof name, f->type == CF_MILESTONES ? "%s[%d]" : "%s", f->name, k);
            return ig_fail(IG_ERR_STATE, "%s: the trainer's configuration differs from the checkpoint's: %s is %.9g in the "
                           "checkpoint, %.9g here (build the trainer as the checkpointed one was)", path, name, was, is);
        }
    }
    return IG_OK;
}
