/*
 * files.c - the local files of a run, made ready before the device is
 * opened: the image of -w, loaded and placed, and the -r target's
 * temporary, created beside it and renamed over it only once the data is
 * whole, so that an interrupted or failed read leaves no partial file.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

/* Names tried for -r's temporary before giving up (EEXIST each time). */
#define TMP_NAME_TRIES 100u
/* Where a raw binary goes without -S. */
#define DEFAULT_FLASH_BASE 0x08000000u

/*
 * -w FILE into r->image, moved to -S when given.  A file that cannot be
 * read or parsed is the user's to fix: exit 2 for every error of the
 * load (a library I/O error too), named with the library's error.
 */
int
load_image(struct run *r, const struct options *o)
{
	uint32_t base = o->have_range ? o->range_addr : DEFAULT_FLASH_BASE;
	int rc, code;

	rc = ft_image_load(r->ctx, o->file, o->format, base, &r->image);
	if (rc != 0) {
		code = fail_lib(r->rep, r->ctx, rc, NULL);
		return code == EXIT_FAILED ? EXIT_USAGE : code;
	}
	if (o->have_range && ft_image_format(r->image) != FT_FMT_BINARY &&
	    (rc = ft_image_relocate(r->ctx, r->image, o->range_addr)) != 0) {
		fail(r->rep, rc, EXIT_USAGE, "%s: %s", o->file,
		    ft_errdetail(r->ctx));
		return EXIT_USAGE;
	}
	return EXIT_OK;
}

/* The -r target must be a regular file or not exist yet. */
static int
check_target(struct report *rep, const char *path)
{
	struct stat st;
	const char *slash = strrchr(path, '/');

	if (stat(path, &st) == 0 && !S_ISREG(st.st_mode))
		return fail(rep, CLI_E_USAGE, EXIT_USAGE, "-r: '%s' exists and "
		    "is not a regular file", path);
	if (slash != NULL && slash[1] == '\0')
		return fail(rep, CLI_E_USAGE, EXIT_USAGE, "-r: '%s' is a "
		    "directory", path);
	return EXIT_OK;
}

/*
 * -r PATH: "-" is standard output; otherwise a temporary beside PATH, so
 * that rename is atomic, created exclusively and close-on-exec in one
 * call (mkstemp cannot take O_CLOEXEC without _GNU_SOURCE).
 */
int
outfile_create(struct report *rep, struct outfile *out, const char *path)
{
	unsigned tries;
	int n, code;

	out->path = path;
	out->fd = -1;
	if (strcmp(path, "-") == 0)
		return EXIT_OK;
	if ((code = check_target(rep, path)) != EXIT_OK)
		return code;
	for (tries = 0; tries < TMP_NAME_TRIES && out->fd < 0; tries++) {
		n = snprintf(out->tmp_path, sizeof(out->tmp_path),
		    "%s.%ld.%u.tmp", path, (long)getpid(), tries);
		if (n < 0 || (size_t)n >= sizeof(out->tmp_path))
			return fail(rep, CLI_E_USAGE, EXIT_USAGE, "-r: path "
			    "'%s' is too long", path);
		out->fd = open(out->tmp_path, O_WRONLY | O_CREAT | O_EXCL |
		    O_CLOEXEC | O_NOFOLLOW, 0644);
		if (out->fd < 0 && errno != EEXIST)
			break;
	}
	if (out->fd < 0)
		return fail(rep, CLI_E_IO, EXIT_USAGE, "-r: cannot create a "
		    "file beside '%s': %s", path, strerror(errno));
	return EXIT_OK;
}

static int
write_all(int fd, const uint8_t *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* All of the data, then the temporary renamed over the target. */
int
outfile_commit(struct report *rep, struct outfile *out, const uint8_t *buf,
    size_t len)
{
	int fd = out->fd >= 0 ? out->fd : STDOUT_FILENO;

	if (write_all(fd, buf, len) != 0 ||
	    (out->fd >= 0 && fsync(out->fd) != 0))
		return fail(rep, CLI_E_IO, EXIT_FAILED, "writing %s: %s",
		    out->path, strerror(errno));
	if (out->fd < 0)
		return EXIT_OK;
	if (close(out->fd) != 0 || rename(out->tmp_path, out->path) != 0) {
		int code = fail(rep, CLI_E_IO, EXIT_FAILED, "%s: %s",
		    out->path, strerror(errno));

		out->fd = -1;
		unlink(out->tmp_path);
		return code;
	}
	out->fd = -1;
	return EXIT_OK;
}

/* A read that did not complete leaves no file behind. */
void
outfile_discard(struct outfile *out)
{
	if (out->fd >= 0) {
		close(out->fd);
		unlink(out->tmp_path);
		out->fd = -1;
	}
}
