/*
 * hvp_tool.h - what every hvprov program shares (the `hvprov` commands, the benchmarks):
 * exit codes, one-line messages on stderr, and number arguments.
 *
 * Exit codes of commands that read or check data (README.md, "Exit codes"): 0 clean, and only
 * when nothing was lost; 1 damage or loss found, counted on stderr (records that were
 * acknowledged and are now lost, skipped or unreadable; records dropped in lossy mode that a
 * log holds LOST records for); 2 cannot run (usage, unreadable or foreign file). `hvprov run`
 * exits with the command's status, and 125/126/127 for its own errors (as env(1) does).
 */
#ifndef HVP_TOOL_H
#define HVP_TOOL_H

#include <stdint.h>

#define HVP_EXIT_OK      0
#define HVP_EXIT_DAMAGE  1
#define HVP_EXIT_USAGE   2
/* hvprov run: its own failure, the command not executable, the command not found */
#define HVP_EXIT_RUN_OWN      125
#define HVP_EXIT_RUN_NOEXEC   126
#define HVP_EXIT_RUN_NOTFOUND 127

/* "hvprov: <message>" on stderr, one line. */
void hvp_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "hvprov: <file>: <message>" on stderr, one line. */
void hvp_err_file(const char *file, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Parse "4096", "64K", "16M", "1G", "2T" (binary units). @return 0 or -EINVAL. */
int hvp_parse_size(const char *s, uint64_t *out);
/* Parse a non-negative integer within [min, max]. @return 0 or -EINVAL. */
int hvp_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out);

/*
 * Options: every command parses with getopt_long, so `--opt=value` and `--opt value` both
 * work. Start each parse with hvp_getopt_reset() and an option string that begins with ':'
 * (missing values are then reported as ':'); hand anything getopt_long does not accept to
 * hvp_opt_error, and a stray argument to hvp_arg_error. Both print one line naming what was
 * wrong and the command's --help, and return HVP_EXIT_USAGE.
 */
struct option;
void hvp_getopt_reset(void);
int hvp_opt_error(const char *cmd, int c, char **argv, const struct option *lo);
int hvp_arg_error(const char *cmd, const char *arg);

#endif
