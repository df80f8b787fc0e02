/* model_json.h — a model file's "layers" list, built through the library's builders. */
#ifndef INGOT_CLI_MODEL_JSON_H
#define INGOT_CLI_MODEL_JSON_H

#include "cli.h"

#include <cjson/cJSON.h>

/* Builds `layers` onto m's input; the output is the layer named `output` (NULL: the last).
 * `src` names the file in messages, which give the JSON path of the field at fault. */
int model_json_build(const cJSON *layers, const cJSON *output, const char *src, ig_model *m);

#endif /* INGOT_CLI_MODEL_JSON_H */
