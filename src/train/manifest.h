/* manifest.h — reading a checkpoint's JSON manifest defensively (every value checked for
 * presence, type and range, messages naming the file and the key) and the trainer
 * configuration as JSON, one table of fields for writing and for comparing. */
#ifndef IG_MANIFEST_H
#define IG_MANIFEST_H

#include "core/core.h"

#include <cjson/cJSON.h>

/* The largest manifest read: bounds what a hostile file can make us allocate. */
#define IG_MANIFEST_MAX_BYTES ((int64_t)64 << 20)

/* Reads and parses a JSON file of at most IG_MANIFEST_MAX_BYTES. IG_ERR_IO: cannot open or
 * read; IG_ERR_FORMAT: too large, a NUL byte, not JSON, not an object. */
ig_status ig_json_read_file(const char *path, cJSON **out);

/* Typed lookups of obj[key]; IG_ERR_FORMAT naming `path` and `key` when it is missing, of
 * another type or out of range. */
ig_status ig_json_object(const char *path, const cJSON *obj, const char *key, const cJSON **out);
ig_status ig_json_array(const char *path, const cJSON *obj, const char *key, int max_len, const cJSON **out);
ig_status ig_json_string(const char *path, const cJSON *obj, const char *key, const char **out);
ig_status ig_json_bool(const char *path, const cJSON *obj, const char *key, bool *out);
/* An integer in [lo, hi] (|values| below 2^53, which doubles hold exactly). */
ig_status ig_json_int(const char *path, const cJSON *obj, const char *key, int64_t lo, int64_t hi, int64_t *out);
/* A 64-bit unsigned integer written as a decimal string (beyond what doubles hold). */
ig_status ig_json_u64(const char *path, const cJSON *obj, const char *key, uint64_t *out);
/* A number, or the strings "inf", "-inf" and "nan" for what JSON cannot write. */
ig_status ig_json_float(const char *path, const cJSON *obj, const char *key, double *out);
/* The writing side of those two (false when out of memory). */
bool ig_json_add_u64(cJSON *obj, const char *key, uint64_t v);
bool ig_json_add_float(cJSON *obj, const char *key, double v);

/* The configuration as an object of its fields. */
cJSON *ig_config_to_json(const ig_trainer_config *c);
/* IG_OK if the saved configuration `saved` (as ig_config_to_json wrote it) equals c;
 * else IG_ERR_STATE naming the first field that differs, IG_ERR_FORMAT if one is missing. */
ig_status ig_config_compare(const char *path, const cJSON *saved, const ig_trainer_config *c);

#endif /* IG_MANIFEST_H */
