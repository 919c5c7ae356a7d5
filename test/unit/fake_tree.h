/*
 * fake_tree.h - a throw-away directory tree that stands for /sys and
 * /dev in unit tests of code that reads them (test_ports,
 * test_katapult_sysfs).  Header-only and static inline, so a test
 * includes it without a Makefile rule and without unused-function
 * warnings.  Include it after <cmocka.h>: failures are cmocka asserts.
 */
#ifndef FT_TEST_FAKE_TREE_H
#define FT_TEST_FAKE_TREE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The tree's root, a mkdtemp'ed path; short, for unix socket paths. */
static char tree_root[64];

/* Make a new root from tmpl ("/tmp/NAME-XXXXXX"): 0, or -1. */
static inline int
tree_create(const char *tmpl)
{
	snprintf(tree_root, sizeof(tree_root), "%s", tmpl);
	return mkdtemp(tree_root) != NULL ? 0 : -1;
}

/* Remove the whole tree: 0, or -1. */
static inline int
tree_remove(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tree_root);
	return system(cmd) == 0 ? 0 : -1;
}

/* mkdir -p rel under the root. */
static inline void
tree_mkdir(const char *rel)
{
	char path[1100], *p;

	snprintf(path, sizeof(path), "%s/%s", tree_root, rel);
	for (p = path + strlen(tree_root) + 1; *p != '\0'; p++)
		if (*p == '/') {
			*p = '\0';
			mkdir(path, 0755);
			*p = '/';
		}
	mkdir(path, 0755);
}

/*
 * Write text to rel, replacing it at once (rename), as sysfs attributes
 * change under a reader that may be looking.
 */
static inline void
tree_put(const char *rel, const char *text)
{
	char path[1100], tmp[1110];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tree_root, rel);
	snprintf(tmp, sizeof(tmp), "%s.new", path);
	f = fopen(tmp, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	assert_int_equal(rename(tmp, path), 0);
}

/* Make rel a symbolic link to target, replacing what was there. */
static inline void
tree_link(const char *target, const char *rel)
{
	char path[1100];

	snprintf(path, sizeof(path), "%s/%s", tree_root, rel);
	unlink(path);
	assert_int_equal(symlink(target, path), 0);
}

#endif
