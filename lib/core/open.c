/*
 * core/open.c - the transport registry, opening and closing a device,
 * and the operations that are a single transport call (go, reset,
 * protection).
 *
 * Invariants:
 *  - The core owns a transport's private state: it allocates priv_size
 *    zeroed bytes before open, always calls close after open (failed or
 *    not), and frees them; no transport frees its own state.
 *  - A table that lacks a mandatory operation is refused before it is
 *    called.
 */
#include <stdlib.h>

#include "core.h"

/* One line per transport wing, indexed by enum ft_transport_kind. */
static const struct ft_transport *const registry[] = {
	[FT_TRANSPORT_USART] = &ft_transport_usart,
	[FT_TRANSPORT_DFU] = &ft_transport_dfu,
	[FT_TRANSPORT_KATAPULT] = &ft_transport_katapult,
};

#define REGISTRY_SIZE (sizeof(registry) / sizeof(registry[0]))

static void
release(struct ft_dev *dev)
{
	dev->tr->close(dev);
	free(dev->priv);
	free(dev);
}

int
ft_open_transport(struct ft_ctx *ctx, const struct ft_transport *tr,
    const struct ft_open_opts *opts, struct ft_dev **out)
{
	struct ft_dev *dev;
	int rc;

	*out = NULL;
	ft_clear_detail(ctx);
	/* Mandatory operations; a table without them is a programming error. */
	if (tr->open == NULL || tr->close == NULL || tr->read == NULL ||
	    tr->write == NULL || tr->erase == NULL)
		return ft_fail(ctx, FT_E_NOT_SUPPORTED,
		    "transport %s lacks a mandatory operation", tr->name);
	dev = calloc(1, sizeof(*dev));
	if (dev == NULL)
		return ft_fail(ctx, FT_E_NOMEM, "out of memory");
	dev->priv = tr->priv_size > 0 ? calloc(1, tr->priv_size) : NULL;
	if (tr->priv_size > 0 && dev->priv == NULL) {
		free(dev);
		return ft_fail(ctx, FT_E_NOMEM, "out of memory");
	}
	dev->ctx = ctx;
	dev->tr = tr;
	dev->retries = FT_DEFAULT_RETRIES;
	dev->fail_limit = opts->retries != 0 ? opts->retries :
	    FT_DEFAULT_FAIL_STREAK;
	dev->progress_ms = ft_now_ms();
	rc = tr->open(dev, opts);
	if (rc == 0 && (dev->max_read == 0 || dev->write_align == 0 ||
	    dev->max_write < dev->write_align))
		rc = ft_fail(ctx, FT_E_PROTOCOL, "transport %s reported "
		    "unusable block sizes", tr->name);
	if (rc < 0) {
		release(dev);
		return rc;
	}
	*out = dev;
	return 0;
}

int
ft_open(struct ft_ctx *ctx, const struct ft_open_opts *opts,
    struct ft_dev **out)
{
	unsigned kind = (unsigned)opts->transport;

	*out = NULL;
	if (kind >= REGISTRY_SIZE || registry[kind] == NULL)
		return ft_fail(ctx, FT_E_INVALID, "unknown transport %d",
		    (int)opts->transport);
	return ft_open_transport(ctx, registry[kind], opts, out);
}

const struct ft_devinfo *
ft_dev_info(const struct ft_dev *dev)
{
	return &dev->info;
}

void
ft_close(struct ft_dev *dev)
{
	if (dev != NULL)
		release(dev);
}

int
ft_go(struct ft_dev *dev, uint32_t addr)
{
	ft_clear_detail(dev->ctx);
	if (dev->tr->go == NULL)
		return ft_fail(dev->ctx, FT_E_NOT_SUPPORTED,
		    "%s: no way to start code", dev->tr->name);
	return dev->tr->go(dev, addr);
}

int
ft_reset(struct ft_dev *dev)
{
	ft_clear_detail(dev->ctx);
	if (dev->tr->reset == NULL)
		return ft_fail(dev->ctx, FT_E_NOT_SUPPORTED,
		    "%s: no way to reset the chip", dev->tr->name);
	return dev->tr->reset(dev);
}

int
ft_protect(struct ft_dev *dev, enum ft_protect_op op)
{
	ft_clear_detail(dev->ctx);
	if (dev->tr->protect == NULL)
		return ft_fail(dev->ctx, FT_E_NOT_SUPPORTED,
		    "%s: protection commands not supported", dev->tr->name);
	return dev->tr->protect(dev, op);
}

int
ft_write_protect(struct ft_dev *dev, uint32_t addr, uint32_t len)
{
	struct ft_erase_unit *units = NULL;
	size_t n = 0;
	int rc;

	ft_clear_detail(dev->ctx);
	if (dev->tr->write_protect == NULL)
		return ft_fail(dev->ctx, FT_E_NOT_SUPPORTED,
		    "%s: write protection not supported", dev->tr->name);
	rc = ft_plan_range(dev->ctx, &dev->info.flash, addr, len, &units, &n);
	if (rc == 0)
		rc = dev->tr->write_protect(dev, units, n);
	free(units);
	return rc;
}
