/*
 * core.c - the shim's hooks and its line to the simulator.
 *
 * Hooks: the open family, close, fclose, ioctl, tcsendbreak, the stat
 * and access families (for /dev/gpiochipN) and opendir/readdir (so a
 * scan of /dev finds the fake chips).  Each hook asks tty.c and gpio.c
 * whether the descriptor or path is theirs and otherwise calls libc.
 *
 * Socket protocol (text, one line each way, see test/sim/usart/README):
 *   HELLO pid=P               -> OK rdev=MAJ:MIN dtr=D rts=R serial=0xF
 *   TTY OPEN t=US baud0=B     -> OK dtr=D rts=R
 *   TTY CLOSE t=US hupcl=H    -> OK dtr=D rts=R
 *   TTY GET                   -> OK dtr=D rts=R serial=0xF
 *   TTY SET t=US dtr=D rts=R  -> OK dtr=D rts=R
 *   TTY BREAK t=US on=B       -> OK
 *   TTY SERIAL t=US flags=0xF -> OK
 *   GPIO t=US chip=C line=N name=S value=0|1|float consumer=S -> OK
 *   SYNC                      -> OK (after the simulator has handled every
 *                                    sysfs write made so far)
 * US is CLOCK_MONOTONIC in microseconds, read when the change happened.
 *
 * Sysfs GPIO is not intercepted: the tool writes the simulator's tree
 * mounted over /sys/class/gpio.  The kernel creates gpioN/ before the
 * write to export returns; the simulator sees the write through inotify,
 * after the fact.  So closing a descriptor on /sys/class/gpio/... sends
 * SYNC and waits, which makes export synchronous as in the kernel.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "shim.h"

#define SYSFS_GPIO_PREFIX "/sys/class/gpio/"
#define MAX_DEV_DIRS 8

struct shim_real shim_real;

static pthread_mutex_t shim_mutex = PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP;
static int sock_fd = -1;
static pid_t sock_pid;		/* the process that connected sock_fd */
static int sock_failed;
static dev_t sim_rdev;
static int debug_on = -1;

static int (*real_fclose)(FILE *);
static DIR *(*real_opendir)(const char *);
static int (*real_closedir)(DIR *);
static struct dirent *(*real_readdir)(DIR *);
static struct dirent64 *(*real_readdir64)(DIR *);
static int (*real_tcsendbreak)(int, int);

/* opendir("/dev") handles and how many fake chip entries they gave. */
static struct {
	DIR *dir;
	size_t next;
	struct dirent ent;
	struct dirent64 ent64;
} dev_dirs[MAX_DEV_DIRS];

static void *
must_sym(const char *name)
{
	void *p = dlsym(RTLD_NEXT, name);

	if (p == NULL) {
		fprintf(stderr, "ft-shim: no %s in libc\n", name);
		abort();
	}
	return p;
}

static void
resolve(void)
{
	if (shim_real.close != NULL)
		return;
	*(void **)&shim_real.openat = must_sym("openat");
	*(void **)&shim_real.ioctl = must_sym("ioctl");
	*(void **)&shim_real.fstat = must_sym("fstat");
	*(void **)&shim_real.fstatat = must_sym("fstatat");
	*(void **)&shim_real.faccessat = must_sym("faccessat");
	*(void **)&real_fclose = must_sym("fclose");
	*(void **)&real_opendir = must_sym("opendir");
	*(void **)&real_closedir = must_sym("closedir");
	*(void **)&real_readdir = must_sym("readdir");
	*(void **)&real_readdir64 = must_sym("readdir64");
	*(void **)&real_tcsendbreak = must_sym("tcsendbreak");
	/* Last: it doubles as the "resolved" flag. */
	*(void **)&shim_real.close = must_sym("close");
}

__attribute__((constructor)) static void
shim_init(void)
{
	resolve();
}

void
shim_lock(void)
{
	resolve();
	pthread_mutex_lock(&shim_mutex);
}

void
shim_unlock(void)
{
	pthread_mutex_unlock(&shim_mutex);
}

uint64_t
shim_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

void
shim_debug(const char *fmt, ...)
{
	va_list ap;

	if (debug_on < 0) {
		const char *e = getenv("FT_SHIM_DEBUG");

		debug_on = e != NULL && *e != '\0' && *e != '0';
	}
	if (!debug_on)
		return;
	va_start(ap, fmt);
	fprintf(stderr, "ft-shim[%ld]: ", (long)getpid());
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

static int
write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int
read_line(int fd, char *buf, size_t len)
{
	size_t n = 0;

	/* Byte by byte: the reply is short and nothing may be left over. */
	while (n + 1 < len) {
		ssize_t r = read(fd, buf + n, 1);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		if (buf[n] == '\n')
			break;
		n++;
	}
	buf[n] = '\0';
	return 0;
}

long
shim_reply_num(const char *reply, const char *key)
{
	size_t kl = strlen(key);
	const char *p = reply;

	while ((p = strstr(p, key)) != NULL) {
		if ((p == reply || p[-1] == ' ') && p[kl] == '=')
			return strtol(p + kl + 1, NULL, 0);
		p += kl;
	}
	return -1;
}

static void
drop_socket(void)
{
	if (sock_fd >= 0)
		shim_real.close(sock_fd);
	sock_fd = -1;
}

static int
connect_sim(void)
{
	const char *path = getenv("FT_BOARD_SOCKET");
	struct sockaddr_un sa;
	char reply[SHIM_REPLY_MAX];
	unsigned maj, min;
	const char *p;
	int fd, saved = errno;

	if (sock_fd >= 0 && sock_pid != getpid()) {
		/* A forked child: the parent's socket is not ours to use. */
		drop_socket();
		sock_failed = 0;
	}
	if (sock_fd >= 0)
		return 0;
	if (path == NULL || *path == '\0' || sock_failed)
		return -1;
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		fprintf(stderr, "ft-shim: FT_BOARD_SOCKET=%s: %s; board "
		    "changes are not reported\n", path, strerror(errno));
		if (fd >= 0)
			shim_real.close(fd);
		sock_failed = 1;
		errno = saved;
		return -1;
	}
	sock_fd = fd;
	sock_pid = getpid();
	if (shim_request(reply, sizeof(reply), "HELLO pid=%ld",
	    (long)getpid()) != 1) {
		fprintf(stderr, "ft-shim: no HELLO from %s\n", path);
		drop_socket();
		sock_failed = 1;
		errno = saved;
		return -1;
	}
	p = strstr(reply, "rdev=");
	if (p != NULL && sscanf(p, "rdev=%u:%u", &maj, &min) == 2)
		sim_rdev = makedev(maj, min);
	errno = saved;
	return 0;
}

int
shim_connected(void)
{
	return connect_sim() == 0;
}

dev_t
shim_sim_rdev(void)
{
	return connect_sim() == 0 ? sim_rdev : 0;
}

int
shim_request(char *reply, size_t len, const char *fmt, ...)
{
	char line[512];
	va_list ap;
	int n, saved = errno;

	if (sock_fd < 0 && strncmp(fmt, "HELLO", 5) != 0 &&
	    connect_sim() != 0)
		return -1;
	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(line) - 1)
		return -1;
	line[n++] = '\n';
	shim_debug("-> %.*s", n - 1, line);
	if (write_all(sock_fd, line, (size_t)n) != 0 ||
	    read_line(sock_fd, reply, len) != 0) {
		fprintf(stderr, "ft-shim: lost the simulator: %s\n",
		    strerror(errno));
		drop_socket();
		sock_failed = 1;
		errno = saved;
		return -1;
	}
	shim_debug("<- %s", reply);
	errno = saved;
	return strncmp(reply, "OK", 2) == 0 ? 1 : 0;
}

/*
 * The hooks.
 */
static int
is_sysfs_gpio_fd(int fd)
{
	char link[64], path[256];
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, path, sizeof(path) - 1);
	if (n <= 0)
		return 0;
	path[n] = '\0';
	return strncmp(path, SYSFS_GPIO_PREFIX,
	    strlen(SYSFS_GPIO_PREFIX)) == 0;
}

static void
sysfs_sync(void)
{
	char reply[SHIM_REPLY_MAX];

	(void)shim_request(reply, sizeof(reply), "SYNC");
}

static int
do_openat(int dirfd, const char *path, int flags, mode_t mode)
{
	int fd;

	shim_lock();
	if (path != NULL && gpio_open(path, flags, &fd)) {
		shim_unlock();
		return fd;
	}
	fd = shim_real.openat(dirfd, path, flags, mode);
	if (fd >= 0)
		tty_after_open(fd);
	shim_unlock();
	return fd;
}

static mode_t
open_mode(int flags, va_list ap)
{
	if (flags & (O_CREAT | O_TMPFILE))
		return (mode_t)va_arg(ap, int);
	return 0;
}

int
open(const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;

	va_start(ap, flags);
	mode = open_mode(flags, ap);
	va_end(ap);
	return do_openat(AT_FDCWD, path, flags, mode);
}

int open64(const char *path, int flags, ...);
int
open64(const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;

	va_start(ap, flags);
	mode = open_mode(flags, ap);
	va_end(ap);
	return do_openat(AT_FDCWD, path, flags | O_LARGEFILE, mode);
}

int
openat(int dirfd, const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;

	va_start(ap, flags);
	mode = open_mode(flags, ap);
	va_end(ap);
	return do_openat(dirfd, path, flags, mode);
}

int openat64(int dirfd, const char *path, int flags, ...);
int
openat64(int dirfd, const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;

	va_start(ap, flags);
	mode = open_mode(flags, ap);
	va_end(ap);
	return do_openat(dirfd, path, flags | O_LARGEFILE, mode);
}

/* _FORTIFY_SOURCE variants. */
int __open_2(const char *path, int flags);
int
__open_2(const char *path, int flags)
{
	return do_openat(AT_FDCWD, path, flags, 0);
}

int __open64_2(const char *path, int flags);
int
__open64_2(const char *path, int flags)
{
	return do_openat(AT_FDCWD, path, flags | O_LARGEFILE, 0);
}

int __openat_2(int dirfd, const char *path, int flags);
int
__openat_2(int dirfd, const char *path, int flags)
{
	return do_openat(dirfd, path, flags, 0);
}

int __openat64_2(int dirfd, const char *path, int flags);
int
__openat64_2(int dirfd, const char *path, int flags)
{
	return do_openat(dirfd, path, flags | O_LARGEFILE, 0);
}

int
close(int fd)
{
	int ours, hupcl = 0, sysfs, r, saved;

	shim_lock();
	if (fd >= 0 && fd == sock_fd) {
		/* The program closes every descriptor: let ours go too. */
		sock_fd = -1;
		sock_failed = 1;
	}
	ours = tty_before_close(fd, &hupcl);
	sysfs = is_sysfs_gpio_fd(fd);
	r = shim_real.close(fd);
	saved = errno;
	gpio_after_close(fd);
	if (ours)
		tty_after_close(hupcl);
	if (sysfs)
		sysfs_sync();
	shim_unlock();
	errno = saved;
	return r;
}

/* stdio closes with an internal call that close() above never sees. */
int
fclose(FILE *f)
{
	int fd, sysfs = 0, r, saved;

	shim_lock();
	fd = f != NULL ? fileno(f) : -1;
	if (fd >= 0)
		sysfs = is_sysfs_gpio_fd(fd);
	r = real_fclose(f);
	saved = errno;
	if (sysfs)
		sysfs_sync();
	shim_unlock();
	errno = saved;
	return r;
}

int
ioctl(int fd, unsigned long req, ...)
{
	va_list ap;
	void *arg;
	int r;

	va_start(ap, req);
	arg = va_arg(ap, void *);
	va_end(ap);
	shim_lock();
	if (!gpio_ioctl(fd, req, arg, &r) && !tty_ioctl(fd, req, arg, &r))
		r = shim_real.ioctl(fd, req, arg);
	shim_unlock();
	return r;
}

/* glibc sends breaks with an internal ioctl the hook above never sees. */
int
tcsendbreak(int fd, int duration)
{
	int r;

	shim_lock();
	if (tty_is_ours(fd))
		r = tty_send_break(fd, duration);
	else
		r = real_tcsendbreak(fd, duration);
	shim_unlock();
	return r;
}

static int
stat_hook(int dirfd, const char *path, struct stat *st, int flags)
{
	int r;

	shim_lock();
	if (path == NULL || !gpio_stat_path(path, st, &r))
		r = shim_real.fstatat(dirfd, path, st, flags);
	shim_unlock();
	return r;
}

int
stat(const char *path, struct stat *st)
{
	return stat_hook(AT_FDCWD, path, st, 0);
}

int
stat64(const char *path, struct stat64 *st)
{
	return stat_hook(AT_FDCWD, path, (struct stat *)st, 0);
}

int
lstat(const char *path, struct stat *st)
{
	return stat_hook(AT_FDCWD, path, st, AT_SYMLINK_NOFOLLOW);
}

int
lstat64(const char *path, struct stat64 *st)
{
	return stat_hook(AT_FDCWD, path, (struct stat *)st, AT_SYMLINK_NOFOLLOW);
}

int
fstatat(int dirfd, const char *path, struct stat *st, int flags)
{
	if ((flags & AT_EMPTY_PATH) && *path == '\0')
		return fstat(dirfd, st);
	return stat_hook(dirfd, path, st, flags);
}

int
fstatat64(int dirfd, const char *path, struct stat64 *st, int flags)
{
	return fstatat(dirfd, path, (struct stat *)st, flags);
}

/* coreutils' stat(1) and ls(1) use statx. */
int
statx(int dirfd, const char *path, int flags, unsigned mask,
    struct statx *stx)
{
	static int (*real_statx)(int, const char *, int, unsigned,
	    struct statx *);
	struct stat st;
	int r;

	shim_lock();
	if (real_statx == NULL)
		*(void **)&real_statx = dlsym(RTLD_NEXT, "statx");
	if (gpio_stat_path(path, &st, &r)) {
		if (r == 0) {
			memset(stx, 0, sizeof(*stx));
			stx->stx_mask = STATX_BASIC_STATS;
			stx->stx_mode = (uint16_t)st.st_mode;
			stx->stx_nlink = 1;
			stx->stx_ino = st.st_ino;
			stx->stx_blksize = 4096;
			stx->stx_rdev_major = major(st.st_rdev);
			stx->stx_rdev_minor = minor(st.st_rdev);
			stx->stx_dev_minor = minor(st.st_dev);
		}
	} else if (real_statx != NULL) {
		r = real_statx(dirfd, path, flags, mask, stx);
	} else {
		errno = ENOSYS;
		r = -1;
	}
	shim_unlock();
	return r;
}

int
fstat(int fd, struct stat *st)
{
	int r;

	shim_lock();
	if (gpio_tracked(fd))
		r = gpio_fstat(fd, st);
	else
		r = shim_real.fstat(fd, st);
	shim_unlock();
	return r;
}

int
fstat64(int fd, struct stat64 *st)
{
	return fstat(fd, (struct stat *)st);
}

static int
access_hook(int dirfd, const char *path, int mode, int flags)
{
	struct stat st;
	int r;

	shim_lock();
	if (path == NULL || !gpio_stat_path(path, &st, &r))
		r = shim_real.faccessat(dirfd, path, mode, flags);
	shim_unlock();
	return r;
}

int
access(const char *path, int mode)
{
	return access_hook(AT_FDCWD, path, mode, 0);
}

int
faccessat(int dirfd, const char *path, int mode, int flags)
{
	return access_hook(dirfd, path, mode, flags);
}

DIR *
opendir(const char *path)
{
	DIR *d;
	size_t i;

	shim_lock();
	d = real_opendir(path);
	if (d != NULL &&
	    (strcmp(path, "/dev") == 0 || strcmp(path, "/dev/") == 0))
		for (i = 0; i < MAX_DEV_DIRS; i++)
			if (dev_dirs[i].dir == NULL) {
				dev_dirs[i].dir = d;
				dev_dirs[i].next = 0;
				break;
			}
	shim_unlock();
	return d;
}

int
closedir(DIR *d)
{
	size_t i;
	int r;

	shim_lock();
	for (i = 0; i < MAX_DEV_DIRS; i++)
		if (dev_dirs[i].dir == d)
			dev_dirs[i].dir = NULL;
	r = real_closedir(d);
	shim_unlock();
	return r;
}

/* After the real entries of /dev: one per fake chip. */
static const char *
next_fake_entry(DIR *d)
{
	size_t i;

	for (i = 0; i < MAX_DEV_DIRS; i++)
		if (dev_dirs[i].dir == d)
			return gpio_chip_name(dev_dirs[i].next++);
	return NULL;
}

static size_t
dev_dir_slot(DIR *d)
{
	size_t i;

	for (i = 0; i < MAX_DEV_DIRS; i++)
		if (dev_dirs[i].dir == d)
			break;
	return i;
}

struct dirent *
readdir(DIR *d)
{
	struct dirent *e;
	const char *name;
	size_t i;

	shim_lock();
	e = real_readdir(d);
	if (e == NULL && (name = next_fake_entry(d)) != NULL) {
		i = dev_dir_slot(d);
		memset(&dev_dirs[i].ent, 0, sizeof(dev_dirs[i].ent));
		dev_dirs[i].ent.d_ino = 1;
		dev_dirs[i].ent.d_type = DT_CHR;
		snprintf(dev_dirs[i].ent.d_name,
		    sizeof(dev_dirs[i].ent.d_name), "%s", name);
		e = &dev_dirs[i].ent;
	}
	shim_unlock();
	return e;
}

struct dirent64 *
readdir64(DIR *d)
{
	struct dirent64 *e;
	const char *name;
	size_t i;

	shim_lock();
	e = real_readdir64(d);
	if (e == NULL && (name = next_fake_entry(d)) != NULL) {
		i = dev_dir_slot(d);
		memset(&dev_dirs[i].ent64, 0, sizeof(dev_dirs[i].ent64));
		dev_dirs[i].ent64.d_ino = 1;
		dev_dirs[i].ent64.d_type = DT_CHR;
		snprintf(dev_dirs[i].ent64.d_name,
		    sizeof(dev_dirs[i].ent64.d_name), "%s", name);
		e = &dev_dirs[i].ent64;
	}
	shim_unlock();
	return e;
}
