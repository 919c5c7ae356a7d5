/*
 * flashtool - command-line front end of libflashtool.
 *
 * main() is: parse every option (options.c), validate them all and make
 * the local files ready (files.c) before the device is opened, then one
 * call per step (actions.c) and one exit code.  Messages go to stderr,
 * data (a read to "-", identify output, CRC, a listing) to stdout; with
 * --json stdout carries exactly one JSON document instead, failures
 * included (report.c).  Named stm32flash or dfu-util, the command line
 * is first rewritten into flashtool's (compat.c).
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

static volatile sig_atomic_t interrupted;

static int
on_cancel(void *user)
{
	(void)user;
	return interrupted != 0;
}

static void
on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

/*
 * From here on a signal only raises a flag: the library stops at the
 * next block boundary, and every path out restores the port or releases
 * the interface and removes the -r temporary.  A second signal during
 * that cleanup finds the flag already set and changes nothing; every
 * wait of the cleanup has its own bound.
 */
static void
catch_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

/* A signal before the device acted: nothing was changed, say where. */
static int
check_interrupted(struct report *rep, const char *when)
{
	if (!interrupted)
		return EXIT_OK;
	return fail(rep, CLI_E_INTERRUPTED, EXIT_INTERRUPTED, "interrupted "
	    "%s; nothing was changed", when);
}

/*
 * --json, seen before the options are parsed, so that a usage error
 * too ends in the one JSON document.
 */
static int
wants_json(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
		if (strcmp(argv[i], "--json") == 0)
			return 1;
	return 0;
}

/* The library context, its callbacks, and how the port is described. */
static int
run_begin(struct run *r, struct report *rep, const struct options *o)
{
	memset(r, 0, sizeof(*r));
	r->rep = rep;
	r->out.fd = -1;
	r->port = o->open.port;
	r->baud = o->open.baud ? o->open.baud : 115200;
	r->mode = o->mode[0] ? o->mode : "8e1";
	r->ctx = ft_ctx_new();
	if (r->ctx == NULL)
		return fail(rep, FT_E_NOMEM, EXIT_FAILED, "out of memory");
	return EXIT_OK;
}

static void
set_callbacks(struct run *r, const struct options *o)
{
	ft_set_log(r->ctx, o->debug >= 2 ? FT_LOG_TRACE : o->debug == 1 ?
	    FT_LOG_DEBUG : FT_LOG_INFO, on_log, r->rep);
	if (!o->quiet && isatty(STDERR_FILENO))
		ft_set_progress(r->ctx, on_progress, NULL);
	ft_set_cancel(r->ctx, on_cancel, NULL);
}

/* The local files: the image to write, the temporary to read into. */
static int
prepare_files(struct run *r, const struct options *o)
{
	if (o->action == ACT_WRITE)
		return load_image(r, o);
	if (o->action == ACT_READ)
		return outfile_create(r->rep, &r->out, o->file);
	return EXIT_OK;
}

/* Open, check, act, leave: each step only after the last one worked. */
static int
run_device(struct run *r, const struct options *o, struct result *res)
{
	int code;

	if ((code = prepare_files(r, o)) != EXIT_OK ||
	    (code = check_interrupted(r->rep, "before the device was "
	    "opened")) != EXIT_OK ||
	    (code = device_open(r, o, res)) != EXIT_OK)
		return code;
	/* Opening is not cut short (it is bounded); acting is. */
	if ((code = check_interrupted(r->rep, "while opening the device")) !=
	    EXIT_OK ||
	    (o->action == ACT_WRITE &&
	    (code = check_image(r, o->force)) != EXIT_OK) ||
	    (code = act(r, o, res)) != EXIT_OK ||
	    (code = leave_device(r, o, res)) != EXIT_OK)
		return code;
	say_exit_half(r->rep, o);
	print_summary(r->rep, o, res);
	return EXIT_OK;
}

/* The device closed (its exit half run), the files and memory freed. */
static void
run_end(struct run *r, struct result *res)
{
	if (r->dev != NULL)
		ft_close(r->dev);
	outfile_discard(&r->out);
	ft_image_free(r->image);
	ft_ctx_free(r->ctx);
	free(res->ports);
	free(res->dfu);
	free(res->kp);
}

int
main(int argc, char **argv)
{
	struct report rep;
	struct options opt;
	struct run run;
	struct result res;
	int code;

	memset(&rep, 0, sizeof(rep));
	rep.progname = "flashtool";
	memset(&res, 0, sizeof(res));
	/* As stm32flash or dfu-util: their command line, rewritten. */
	(void)compat_rewrite(argc, argv, &argc, &argv, &rep);
	rep.json = wants_json(argc, argv);
	parse_options(&opt, &rep, argc, argv);
	rep.json = opt.json;
	rep.quiet = opt.quiet;
	if ((code = run_begin(&run, &rep, &opt)) != EXIT_OK ||
	    (code = validate_options(&opt, run.ctx, &rep)) != EXIT_OK) {
		ft_ctx_free(run.ctx);
		end_early(&rep, code);
	}
	set_callbacks(&run, &opt);
	if (opt.action == ACT_LIST) {
		code = act_list(&run, &opt, &res);
	} else if (opt.action == ACT_REQUEST) {
		catch_signals();
		code = act_request(&run, &opt, &res);
	} else {
		catch_signals();
		code = run_device(&run, &opt, &res);
	}
	if (rep.json)
		json_document(&rep, &opt, &run, &res, code);
	run_end(&run, &res);
	return code;
}
