/*
 * error.c - error names and sentences, and the context that carries the
 * callbacks and the last failure's detail string.
 *
 * Invariant: the tables below have one entry per enum ft_err value, in
 * order of -err; a test checks that every value has both strings.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ft_int.h"

static const char *const error_names[FT_ERR_COUNT] = {
	"FT_OK",
	"FT_E_INVALID",
	"FT_E_FORMAT",
	"FT_E_IO",
	"FT_E_TIMEOUT",
	"FT_E_NACK",
	"FT_E_PROTOCOL",
	"FT_E_PROTECTED",
	"FT_E_VERIFY",
	"FT_E_NOT_SUPPORTED",
	"FT_E_NO_DEVICE",
	"FT_E_MULTIPLE",
	"FT_E_ACCESS",
	"FT_E_BUSY",
	"FT_E_NOMEM",
	"FT_E_RANGE",
	"FT_E_UNKNOWN_CHIP",
	"FT_E_STAYED",
	"FT_E_INTERRUPTED",
	"FT_E_LEAVE",
};

static const char *const error_sentences[FT_ERR_COUNT] = {
	"success",
	"invalid argument or input",
	"malformed image file",
	"input/output error",
	"the device did not answer in time",
	"the device refused the command",
	"the device answered something unexpected",
	"the device is read- or write-protected",
	"flash contents differ from the image",
	"not supported by this device or transport",
	"no device found",
	"several devices match",
	"permission denied",
	"device or port busy",
	"out of memory",
	"address or length outside the device memory",
	"unknown chip",
	"written, but the device stayed in the bootloader",
	"interrupted",
	"written, but leaving the bootloader failed",
};

const char *
ft_errname(int err)
{
	if (err > 0 || -err >= FT_ERR_COUNT)
		return "FT_E_UNKNOWN";
	return error_names[-err];
}

const char *
ft_strerror(int err)
{
	if (err > 0 || -err >= FT_ERR_COUNT)
		return "unknown error";
	return error_sentences[-err];
}

struct ft_ctx *
ft_ctx_new(void)
{
	struct ft_ctx *ctx = calloc(1, sizeof(*ctx));

	if (ctx != NULL)
		ctx->log_max = FT_LOG_INFO;
	return ctx;
}

void
ft_ctx_free(struct ft_ctx *ctx)
{
	free(ctx);
}

void
ft_set_log(struct ft_ctx *ctx, enum ft_log_level max_level, ft_log_fn fn,
    void *user)
{
	ctx->log_max = max_level;
	ctx->log_fn = fn;
	ctx->log_user = user;
}

void
ft_set_progress(struct ft_ctx *ctx, ft_progress_fn fn, void *user)
{
	ctx->progress_fn = fn;
	ctx->progress_user = user;
}

void
ft_set_cancel(struct ft_ctx *ctx, ft_cancel_fn fn, void *user)
{
	ctx->cancel_fn = fn;
	ctx->cancel_user = user;
}

const char *
ft_errdetail(const struct ft_ctx *ctx)
{
	return ctx != NULL ? ctx->detail : "";
}

void
ft_log(struct ft_ctx *ctx, enum ft_log_level level, const char *fmt, ...)
{
	char msg[FT_DETAIL_MAX];
	va_list ap;

	if (ctx == NULL || ctx->log_fn == NULL || level > ctx->log_max)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	ctx->log_fn(level, msg, ctx->log_user);
}

/*
 * Format the detail and log it; the place is the caller's to set.  The
 * arguments may include the old detail itself ("resync: %s"), so the
 * new one is built aside first.
 */
static int set_detail(struct ft_ctx *ctx, int err, const char *fmt,
    va_list ap) FT_PRINTF(3, 0);

static int
set_detail(struct ft_ctx *ctx, int err, const char *fmt, va_list ap)
{
	char fresh[sizeof(ctx->detail)];

	vsnprintf(fresh, sizeof(fresh), fmt, ap);
	ft_strlcpy(ctx->detail, fresh, sizeof(ctx->detail));
	ft_dbg(ctx, "%s: %s", ft_errname(err), ctx->detail);
	return err;
}

int
ft_fail(struct ft_ctx *ctx, int err, const char *fmt, ...)
{
	va_list ap;

	if (ctx == NULL)
		return err;
	va_start(ap, fmt);
	set_detail(ctx, err, fmt, ap);
	va_end(ap);
	ctx->detail_placed = 0;
	return err;
}

int
ft_fail_at(struct ft_ctx *ctx, int err, uint32_t addr, const char *fmt, ...)
{
	va_list ap;

	if (ctx == NULL)
		return err;
	va_start(ap, fmt);
	set_detail(ctx, err, fmt, ap);
	va_end(ap);
	ctx->detail_placed = 1;
	ctx->detail_addr = addr;
	return err;
}

int
ft_fail_place(struct ft_ctx *ctx, int err, const char *what, uint32_t addr)
{
	char why[FT_DETAIL_MAX];

	if (ctx == NULL || (ctx->detail_placed && ctx->detail_addr == addr))
		return err;
	ft_strlcpy(why, ctx->detail[0] != '\0' ? ctx->detail :
	    ft_strerror(err), sizeof(why));
	return ft_fail_at(ctx, err, addr, "%s at 0x%08x: %s", what, addr, why);
}

int
ft_fail_more(struct ft_ctx *ctx, int err, const char *fmt, ...)
{
	char more[sizeof(ctx->detail)];
	size_t used;
	va_list ap;

	if (ctx == NULL)
		return err;
	/* The place stays what it was: only words are added. */
	va_start(ap, fmt);
	vsnprintf(more, sizeof(more), fmt, ap);
	va_end(ap);
	used = strlen(ctx->detail);
	ft_strlcpy(ctx->detail + used, more, sizeof(ctx->detail) - used);
	ft_dbg(ctx, "%s: %s", ft_errname(err), ctx->detail);
	return err;
}

void
ft_clear_detail(struct ft_ctx *ctx)
{
	if (ctx != NULL) {
		ctx->detail[0] = '\0';
		ctx->detail_placed = 0;
	}
}

void
ft_progress(struct ft_ctx *ctx, enum ft_stage stage, uint64_t done,
    uint64_t total)
{
	if (ctx != NULL && ctx->progress_fn != NULL)
		ctx->progress_fn(stage, done, total, ctx->progress_user);
}

int
ft_cancelled(struct ft_ctx *ctx)
{
	return ctx != NULL && ctx->cancel_fn != NULL &&
	    ctx->cancel_fn(ctx->cancel_user);
}
