/*
 * katapult/dict.c - the data dictionary Klipper builds into its firmware,
 * found in an image: Klipper's scripts/buildcommands.py stores
 * json.dumps(data, separators=(',', ':'), sort_keys=True), compressed
 * with zlib.compress(..., 9), as command_identify_data; the JSON's top
 * level holds "app": "Klipper", "version", and "config" with the build's
 * constants, among them "MCU" (DECL_CONSTANT_STR("MCU", CONFIG_MCU) in
 * src/generic/armcm_boot.c).  flashtool.py looks for it only in a file
 * named klipper.bin; here every image is searched.
 *
 * Invariants: pure; the search is bounded (each candidate stream
 * inflates into at most DICT_MAX bytes, all candidates together into at
 * most SEARCH_BUDGET); the JSON walk is bounded in depth and never reads
 * past its text.
 */
#include <stdlib.h>
#include <string.h>

#include "dict.h"
#include "inflate.h"

/* Klipper's dictionaries are tens of KiB; big builds stay far below. */
#define DICT_MAX (1024u * 1024)
/* Output of every candidate together before the search gives up. */
#define SEARCH_BUDGET (16u * 1024 * 1024)
#define JSON_DEPTH_MAX 32

enum where { W_OTHER, W_TOP, W_CONFIG };

struct js {
	const char *p, *end;
	struct ft_kp_dict *d;
	int depth;
};

static void
skip_ws(struct js *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' ||
	    *j->p == '\n' || *j->p == '\r'))
		j->p++;
}

/*
 * A string at j->p (the opening quote); its plain text, when it has no
 * escapes and fits, into out (may be NULL).  -1 when malformed.
 */
static int
string(struct js *j, char *out, size_t size)
{
	const char *start;
	int plain = 1;

	if (j->p >= j->end || *j->p != '"')
		return -1;
	start = ++j->p;
	while (j->p < j->end && *j->p != '"') {
		if (*j->p == '\\') {
			plain = 0;
			if (++j->p >= j->end)
				return -1;
		}
		j->p++;
	}
	if (j->p >= j->end)
		return -1;
	if (out != NULL) {
		size_t n = (size_t)(j->p - start);

		out[0] = '\0';
		if (plain && n < size) {
			memcpy(out, start, n);
			out[n] = '\0';
		}
	}
	j->p++;
	return 0;
}

static int value(struct js *j, enum where w, char *capture, size_t size);

/* Where a key leads: the strings this search keeps. */
static char *
key_target(struct js *j, enum where w, const char *key, size_t *size,
    enum where *inner)
{
	*inner = W_OTHER;
	*size = FT_KP_DICT_STR;
	if (w == W_TOP && strcmp(key, "app") == 0)
		return j->d->app;
	if (w == W_TOP && strcmp(key, "version") == 0)
		return j->d->version;
	if (w == W_TOP && strcmp(key, "config") == 0)
		*inner = W_CONFIG;
	if (w == W_CONFIG && strcmp(key, "MCU") == 0)
		return j->d->mcu;
	return NULL;
}

static int
object(struct js *j, enum where w)
{
	char key[16];
	enum where inner;
	size_t size;
	char *target;

	j->p++;
	skip_ws(j);
	if (j->p < j->end && *j->p == '}') {
		j->p++;
		return 0;
	}
	for (;;) {
		skip_ws(j);
		if (string(j, key, sizeof(key)) != 0)
			return -1;
		skip_ws(j);
		if (j->p >= j->end || *j->p != ':')
			return -1;
		j->p++;
		skip_ws(j);
		target = key_target(j, w, key, &size, &inner);
		if (value(j, inner, target, size) != 0)
			return -1;
		skip_ws(j);
		if (j->p < j->end && *j->p == ',') {
			j->p++;
			continue;
		}
		if (j->p < j->end && *j->p == '}') {
			j->p++;
			return 0;
		}
		return -1;
	}
}

static int
array(struct js *j)
{
	j->p++;
	skip_ws(j);
	if (j->p < j->end && *j->p == ']') {
		j->p++;
		return 0;
	}
	for (;;) {
		skip_ws(j);
		if (value(j, W_OTHER, NULL, 0) != 0)
			return -1;
		skip_ws(j);
		if (j->p < j->end && *j->p == ',') {
			j->p++;
			continue;
		}
		if (j->p < j->end && *j->p == ']') {
			j->p++;
			return 0;
		}
		return -1;
	}
}

/* Numbers and true/false/null: a run of their characters. */
static int
scalar(struct js *j)
{
	const char *start = j->p;

	while (j->p < j->end && strchr("+-.0123456789eEtruefalsn",
	    *j->p) != NULL && *j->p != '\0')
		j->p++;
	return j->p > start ? 0 : -1;
}

static int
value(struct js *j, enum where w, char *capture, size_t size)
{
	int rc;

	if (j->p >= j->end)
		return -1;
	if (*j->p == '"')
		return string(j, capture, size);
	if (*j->p == '[' || *j->p == '{') {
		if (++j->depth > JSON_DEPTH_MAX)
			return -1;
		rc = *j->p == '[' ? array(j) : object(j, w);
		j->depth--;
		return rc;
	}
	return scalar(j);
}

int
ft_kp_dict_parse(const char *text, size_t n, struct ft_kp_dict *d)
{
	struct js j = { text, text + n, d, 0 };

	memset(d, 0, sizeof(*d));
	skip_ws(&j);
	if (j.p >= j.end || *j.p != '{')
		return -1;
	j.depth = 1;
	if (object(&j, W_TOP) != 0)
		return -1;
	d->found = strcmp(d->app, "Klipper") == 0;
	return d->found ? 0 : -1;
}

int
ft_kp_dict_find(const uint8_t *data, size_t len, struct ft_kp_dict *d,
    uint64_t *budget)
{
	uint8_t *buf = malloc(DICT_MAX);
	size_t i, got;
	int rc;

	memset(d, 0, sizeof(*d));
	if (buf == NULL)
		return FT_E_NOMEM;
	for (i = 0; i + 2 <= len && *budget > 0; i++) {
		if (!ft_zlib_header_ok(data + i, len - i))
			continue;
		rc = ft_zlib_inflate(data + i, len - i, buf,
		    *budget < DICT_MAX ? (size_t)*budget : DICT_MAX, &got,
		    NULL);
		*budget -= got < *budget ? got : *budget;
		if (rc == 0 && ft_kp_dict_parse((const char *)buf, got,
		    d) == 0) {
			d->offset = i;
			break;
		}
	}
	free(buf);
	return d->found;
}

int
ft_kp_dict_of_image(const struct ft_image *img, struct ft_kp_dict *d)
{
	uint64_t budget = SEARCH_BUDGET;
	size_t i;
	int rc = 0;

	memset(d, 0, sizeof(*d));
	for (i = 0; i < img->nseg && rc == 0; i++) {
		rc = ft_kp_dict_find(img->seg[i].data, img->seg[i].len, d,
		    &budget);
		if (rc == 1)
			d->offset += img->seg[i].addr;
	}
	return rc;
}
