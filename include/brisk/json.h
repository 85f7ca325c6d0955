/* brisk/json.h: JSON documents (cJSON from Debian's libcjson-dev) with errors that name
 * the file, the line and the key.
 *
 *     cJSON *doc;
 *     if (brisk_json_read_file("scheduler_config.json", &doc)) die(brisk_last_error());
 *     double b0;
 *     brisk_json_get_number(doc, "beta_start", 0.0001, &b0, "scheduler_config.json");
 *     cJSON_Delete(doc);
 */
#ifndef BRISK_JSON_H
#define BRISK_JSON_H

#include <cjson/cJSON.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Parses a file. On a syntax error the message names the file, line and column. */
int brisk_json_read_file(const char *path, cJSON **out);
/* Parses a string; `what` names the source in error messages. */
int brisk_json_parse(const char *text, const char *what, cJSON **out);

/* Typed getters. A missing key (or JSON null) gives `def`; a value of the wrong type is
 * BRISK_EPARSE naming `what` and the key. */
int brisk_json_get_number(const cJSON *obj, const char *key, double def, double *out,
                          const char *what);
int brisk_json_get_int(const cJSON *obj, const char *key, long def, long *out,
                       const char *what);
int brisk_json_get_bool(const cJSON *obj, const char *key, int def, int *out,
                        const char *what);
/* Returns a borrowed pointer into the document (or `def`). */
int brisk_json_get_string(const cJSON *obj, const char *key, const char *def,
                          const char **out, const char *what);
/* Reads a numeric array into a new buffer (caller frees with brisk_free). A missing key
 * is BRISK_ENOTFOUND. */
int brisk_json_get_doubles(const cJSON *obj, const char *key, double **out, size_t *n,
                           const char *what);

/* Writes a document atomically (pretty-printed). */
int brisk_json_write_file(const char *path, const cJSON *doc);

#ifdef __cplusplus
}
#endif
#endif
