/* hvp_tool.c - messages and number arguments of hvprov's programs (see hvp_tool.h). */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hvp_tool.h"

void hvp_err(const char *fmt, ...)
{
	va_list ap;
	fputs("hvprov: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void hvp_err_file(const char *file, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "hvprov: %s: ", file);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int hvp_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	char *end;
	if (!s || !*s || *s == '-')
		return -EINVAL;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 0);
	if (errno || *end || v < min || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

int hvp_parse_size(const char *s, uint64_t *out)
{
	char *end;
	if (!s || !*s || *s == '-')
		return -EINVAL;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || end == s)
		return -EINVAL;
	unsigned shift = 0;
	switch (*end) {
	case 0: break;
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	case 't': case 'T': shift = 40; end++; break;
	default: return -EINVAL;
	}
	if (*end == 'i' && shift)
		end++;
	if ((*end == 'B' || *end == 'b') && end[1] == 0)
		end++;
	if (*end)
		return -EINVAL;
	if (shift && v > (UINT64_MAX >> shift))
		return -EINVAL;
	*out = (uint64_t)v << shift;
	return 0;
}

void hvp_getopt_reset(void)
{
	optind = 0;        /* glibc: a full reset, also of a cluster left half-read */
	opterr = 0;        /* the messages are hvp_opt_error's */
}

/* The long option whose name argument a gives ("--name" or "--name=value"), or NULL. */
static const struct option *long_opt(const char *a, const struct option *lo)
{
	if (!a || a[0] != '-' || a[1] != '-')
		return NULL;
	size_t n = strcspn(a + 2, "=");
	for (; lo && lo->name; lo++)
		if (strlen(lo->name) >= n && !strncmp(lo->name, a + 2, n))
			return lo;
	return NULL;
}

int hvp_opt_error(const char *cmd, int c, char **argv, const struct option *lo)
{
	/* getopt_long has stepped past a whole argument (optind - 1) unless it stopped inside a
	 * cluster of short options; optopt is 0 for an unknown long option, else the option's
	 * value, which for a long one is its val. */
	const char *a = optind >= 1 ? argv[optind - 1] : NULL;
	const struct option *o = long_opt(a, lo);
	char name[64];
	if (a && a[0] == '-' && a[1] == '-' && (optopt == 0 || (o && o->val == optopt)))
		snprintf(name, sizeof(name), "%.*s", (int)strcspn(a, "="), a);
	else
		snprintf(name, sizeof(name), "-%c", optopt);
	const char *what = c == ':' ? "needs a value"
			   : optopt && a && strchr(a, '=') && o ? "takes no value" : "is unknown";
	hvp_err("%s: option '%s' %s (see hvprov %s --help)", cmd, name, what, cmd);
	return HVP_EXIT_USAGE;
}

int hvp_arg_error(const char *cmd, const char *arg)
{
	hvp_err("%s: unexpected argument '%s' (see hvprov %s --help)", cmd, arg, cmd);
	return HVP_EXIT_USAGE;
}
