/*
 * json.h - a small streaming JSON writer for --json (cli/json.c).
 */
#ifndef FLASHTOOL_JSON_H
#define FLASHTOOL_JSON_H

#include <stdint.h>
#include <stdio.h>

#define JSON_MAX_DEPTH 8

struct json {
	FILE *f;
	int depth;
	int count[JSON_MAX_DEPTH];	/* members written at each level */
	int after_key;			/* a key was written, value next */
};

void json_init(struct json *j, FILE *f);
void json_obj_begin(struct json *j);
void json_obj_end(struct json *j);
void json_arr_begin(struct json *j);
void json_arr_end(struct json *j);
void json_key(struct json *j, const char *key);
void json_str(struct json *j, const char *s);
void json_u64(struct json *j, uint64_t v);
void json_int(struct json *j, long long v);
void json_bool(struct json *j, int v);
void json_double(struct json *j, double v);
void json_null(struct json *j);

/* "key": value, in one call each. */
void json_kstr(struct json *j, const char *key, const char *s);
void json_ku64(struct json *j, const char *key, uint64_t v);
void json_kint(struct json *j, const char *key, long long v);
void json_kbool(struct json *j, const char *key, int v);
void json_kdouble(struct json *j, const char *key, double v);

#endif
