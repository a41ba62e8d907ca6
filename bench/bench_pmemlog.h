/*
 * bench_pmemlog.h - PMDK's libpmemlog, the journal benchmark's optional baseline.
 *
 * PMDK's upstream is archived and PMDK 2.0 dropped libpmemlog, so nothing but this baseline
 * may need it. bench/CMakeLists.txt defines HVPROV_WITH_PMEMLOG=1 when the library is built
 * in (option HVPROV_WITH_PMEMLOG, on by default when pkg-config finds it). Without it,
 * BENCH_PMEMLOG_BUILT is 0, bench_journal.c skips the baseline and says "pmemlog baseline not
 * built", and the stand-ins below only let it compile: they are never called.
 */
#ifndef BENCH_PMEMLOG_H
#define BENCH_PMEMLOG_H

#if HVPROV_WITH_PMEMLOG
#include <libpmemlog.h>
#define BENCH_PMEMLOG_BUILT 1
#else
#include <errno.h>
#include <stddef.h>
#include <sys/types.h>
#include <sys/uio.h>

#define BENCH_PMEMLOG_BUILT 0
#define PMEMLOG_MIN_POOL ((size_t)2 << 20)
typedef struct bench_no_pmemlog PMEMlogpool;

static inline PMEMlogpool *pmemlog_create(const char *path, size_t size, mode_t mode)
{
	errno = ENOTSUP;
	return NULL;
}
static inline void pmemlog_close(PMEMlogpool *plp) {}
static inline int pmemlog_append(PMEMlogpool *plp, const void *buf, size_t count)
{
	errno = ENOTSUP;
	return -1;
}
static inline int pmemlog_appendv(PMEMlogpool *plp, const struct iovec *iov, int iovcnt)
{
	errno = ENOTSUP;
	return -1;
}
static inline void pmemlog_rewind(PMEMlogpool *plp) {}
static inline size_t pmemlog_nbyte(PMEMlogpool *plp)
{
	return 0;
}
#endif

#endif
