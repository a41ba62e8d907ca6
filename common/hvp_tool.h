/*
 * hvp_tool.h - what every hvprov program shares (the `hvprov` commands, the benchmarks):
 * exit codes, one-line messages on stderr, and number arguments.
 *
 * Exit codes of commands that check data: 0 clean, 1 damage found and described, 2 cannot
 * run (usage, unreadable or foreign file). Commands that run a workload use 125 for their
 * own errors.
 */
#ifndef HVP_TOOL_H
#define HVP_TOOL_H

#include <stdint.h>

#define HVP_EXIT_OK      0
#define HVP_EXIT_DAMAGE  1
#define HVP_EXIT_USAGE   2

/* "hvprov: <message>" on stderr, one line. */
void hvp_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "hvprov: <file>: <message>" on stderr, one line. */
void hvp_err_file(const char *file, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Parse "4096", "64K", "16M", "1G", "2T" (binary units). @return 0 or -EINVAL. */
int hvp_parse_size(const char *s, uint64_t *out);
/* Parse a non-negative integer within [min, max]. @return 0 or -EINVAL. */
int hvp_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out);

#endif
