/*
 * compat.h - stm32flash and dfu-util command lines (cli/compat.c).
 */
#ifndef FLASHTOOL_COMPAT_H
#define FLASHTOOL_COMPAT_H

/*
 * When argv[0] is named stm32flash or dfu-util, rewrite the command line
 * into flashtool's options and return 1 (exits 2 on options flashtool
 * cannot honour); otherwise return 0 and leave it alone.
 */
int compat_rewrite(int argc, char **argv, int *out_argc, char ***out_argv);

#endif
