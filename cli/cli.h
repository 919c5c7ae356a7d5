/*
 * cli.h - what the files of the front end share, sectioned by the file
 * that defines each declaration (json.h, a small JSON writer, keeps its
 * own).
 *
 * A run of flashtool keeps three things apart: what the user asked for
 * (struct options, filled by options.c and not changed after it is
 * validated), what the run holds (struct run: the library context, the
 * device, the image, the -r temporary), and what it produced (struct
 * result, for the summary line and --json).  Every failure goes through
 * fail() in report.c, which prints the one "flashtool: ..." message and
 * keeps the first failure for the JSON document.
 */
#ifndef FLASHTOOL_CLI_H
#define FLASHTOOL_CLI_H

#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>

#include "flashtool.h"

/* Exit codes, documented in man/flashtool.1 EXIT STATUS. */
enum exit_code {
	EXIT_OK = 0,
	EXIT_FAILED = 1,	/* device, protocol or I/O error */
	EXIT_USAGE = 2,		/* bad option, file or address */
	EXIT_VERIFY = 3,	/* verify mismatch */
	EXIT_NO_DEVICE = 4,	/* no port, no DFU device, nothing answering */
	EXIT_MULTIPLE = 5,	/* several DFU devices match */
	EXIT_ACCESS = 6,	/* permission denied or port in use */
	EXIT_STAYED = 7,	/* written, but the device stayed in DFU mode */
	EXIT_LEAVE = 8,		/* written, but the go/leave step failed */
	EXIT_PROTECTED = 9,	/* the chip is read or write protected */
	EXIT_INTERRUPTED = 10,	/* stopped by SIGINT or SIGTERM */
	EXIT_UNVERIFIED = 11,	/* option bytes written, not read back as
				 * written */
};

/*
 * Failures the front end finds by itself, beside the library's negative
 * enum ft_err: positive, so the two never meet.  Each has the name the
 * JSON document gives it (man/flashtool.1, JSON).
 */
enum cli_err {
	CLI_E_USAGE = 1,	/* "usage": an option, or a file argument */
	CLI_E_IO,		/* "io": a local file (the -r target) */
	CLI_E_INTERRUPTED,	/* "interrupted": a signal, nothing changed */
	CLI_E_UNVERIFIED,	/* "unverified": option bytes written, not
				 * read back as written */
};

enum action {
	ACT_IDENTIFY,
	ACT_READ,
	ACT_WRITE,
	ACT_ERASE,
	ACT_CRC,
	ACT_WRITE_UNPROTECT,
	ACT_READOUT_PROTECT,
	ACT_READOUT_UNPROTECT,
	ACT_WRITE_PROTECT,
	ACT_LIST,
	ACT_OPTION_BYTES,	/* --option-bytes, --set, --boot0-pin */
	ACT_REQUEST,		/* Katapult: ask Klipper for it, stop */
};

/* Long options the option-byte verbs take (optbytes.c reads them). */
enum optbytes_opt {
	OPT_OPTION_BYTES = 512,
	OPT_SET,
	OPT_BOOT0_PIN,
	OPT_FAMILY,
	OPT_ALLOW_RDP2,
};

#define OB_MAX_SET 16		/* --set options at once */
#define OB_NAME_MAX 32		/* a field name and its NUL */

/* What the user asked for, with the defaults validation settles. */
struct options {
	enum action action;	/* ACT_IDENTIFY unless an action was given */
	const char *file;	/* -r / -w */
	enum ft_image_format format;
	int verify;
	int verify_implicit;	/* default verify, no -v given */
	int no_verify;		/* --no-verify */
	int mass_erase;
	int no_erase;		/* -e 0 with -w */
	int no_diff;		/* --no-diff: erase and write every unit */
	int page_erase;		/* --page-erase: never a mass erase instead */
	int have_range;		/* -S */
	uint32_t range_addr;
	uint32_t range_len;
	int have_len;
	int have_start_page;	/* -s */
	uint32_t start_page;
	int have_page_count;	/* -e */
	uint32_t page_count;
	int have_go;		/* -g */
	uint32_t go_addr;
	int reset;		/* -R */
	int stay;		/* DFU: do not leave after writing */
	int quiet;
	int debug;
	int json;		/* --json */
	int force;		/* --force: skip the vector-table check */
	int have_layout;
	struct ft_layout layout;
	struct ft_open_opts open;
	const char *preset;	/* --entry NAME */
	int have_seq;		/* -i or --entry given */
	int have_pipeline;	/* --pipeline given, in any form */
	int seq_has_exit;	/* the sequence has a non-empty exit half */
	char mode[4];		/* -m as given, "" for the default */
	/* --option-bytes, --set, --boot0-pin */
	const char *ob_family;	/* --family NAME */
	int ob_boot0_pin;
	int ob_allow_rdp2;
	size_t ob_nset;
	const char *ob_set[OB_MAX_SET];	/* NAME=VALUE, as given */
	int auto_mode;		/* --auto: Katapult, or ROM DFU */
};

/* How the run reports: stderr messages and the first failure. */
struct report {
	const char *progname;	/* messages start "flashtool: " */
	int json;		/* --json: one document on stdout at the end */
	int quiet;		/* -q: errors only */
	int err;		/* the first failure: enum ft_err or cli_err */
	char message[640];	/* as printed after "flashtool: " */
};

/* -r FILE: the data goes to a temporary beside it, renamed when whole. */
struct outfile {
	const char *path;	/* the target; "-" for standard output */
	char tmp_path[PATH_MAX];
	int fd;			/* the temporary; -1 for stdout or none */
};

/* What the run holds, from the first library call to the last. */
struct run {
	struct report *rep;
	struct ft_ctx *ctx;
	struct ft_open_opts open;	/* the options' copy, for ft_open */
	struct ft_dev *dev;		/* NULL until ft_open succeeds */
	struct ft_image *image;		/* -w FILE, loaded before the device */
	struct outfile out;		/* -r FILE */
	char auto_port[256];		/* --auto: where Katapult came */
	/* The serial interface as the user set it, for messages. */
	const char *port;
	unsigned baud;
	const char *mode;
};

/* What the run produced, for the summary line and the JSON document. */
struct result {
	int have_range;		/* addr/len are set */
	uint32_t addr, len;
	int have_crc;
	uint32_t crc;
	int mass;		/* the erase was a mass erase */
	int have_stats;
	struct ft_write_stats stats;
	double seconds;		/* of the read or the write */
	char left[96];		/* how the device was left */
	/* --list */
	struct ft_port_entry *ports;
	size_t nports;
	int with_ports;		/* serial ports were asked for */
	struct ft_dfu_entry *dfu;
	size_t ndfu;
	int dfu_ok;		/* USB could be listed */
	/* --option-bytes: the block as read, as asked, as read back */
	int ob_read;
	int ob_written;
	int ob_verified;
	struct ft_ob_image ob_before, ob_want, ob_after;
	struct ft_katapult_entry *kp;	/* Katapult and Klipper devices */
	size_t nkp;
	int kp_listed;		/* they were asked for */
	int kp_can;		/* ... on a CAN bus */
	/* --request-bootloader and --auto: what came back. */
	int have_arrival;
	struct ft_katapult_arrival arrival;
};

/* compat.c */
int compat_rewrite(int argc, char **argv, int *out_argc, char ***out_argv,
    struct report *rep);

/* options.c */
void parse_options(struct options *o, struct report *rep, int argc,
    char **argv);
int validate_options(struct options *o, struct ft_ctx *ctx,
    struct report *rep);

/* files.c */
int load_image(struct run *r, const struct options *o);
int outfile_create(struct report *rep, struct outfile *out,
    const char *path);
int outfile_commit(struct report *rep, struct outfile *out,
    const uint8_t *buf, size_t len);
void outfile_discard(struct outfile *out);

/* actions.c */
int device_open(struct run *r, const struct options *o,
    struct result *res);
int check_image(struct run *r, int force);
int act(struct run *r, const struct options *o, struct result *res);
int act_list(struct run *r, const struct options *o, struct result *res);
int act_request(struct run *r, const struct options *o, struct result *res);
const char *arrival_name(enum ft_kp_found found);
int leave_device(struct run *r, const struct options *o,
    struct result *res);
void say_exit_half(const struct report *rep, const struct options *o);
void format_layout(const struct ft_layout *l, char *buf, size_t size);

/* optbytes.c */
struct json;
int opt_optbytes(struct options *o, struct report *rep, int c,
    const char *arg);
int check_option_bytes(const struct options *o, struct ft_ctx *ctx,
    struct report *rep);
int act_option_bytes(struct run *r, const struct options *o,
    struct result *res);
void json_option_bytes(struct json *j, const struct options *o,
    const struct result *res);

/* report.c */
int fail(struct report *rep, int err, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
int fail_lib(struct report *rep, const struct ft_ctx *ctx, int err,
    const char *doing);
void fail_usage(struct report *rep, const char *fmt, ...)
    __attribute__((format(printf, 2, 3), noreturn));
void vfail_usage(struct report *rep, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0), noreturn));
void end_early(struct report *rep, int code) __attribute__((noreturn));
int exit_code_for(int err);
void say(const struct report *rep, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void note(const struct report *rep, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void on_log(enum ft_log_level level, const char *msg, void *user);
void on_progress(enum ft_stage stage, uint64_t done, uint64_t total,
    void *user);
void print_summary(const struct report *rep, const struct options *o,
    const struct result *res);
void json_document(const struct report *rep, const struct options *o,
    const struct run *r, const struct result *res, int code);

#endif
