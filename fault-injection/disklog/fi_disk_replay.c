/*
 * fi-disk-replay: roll a disk image forward from a block-write log (dm-log-writes or QEMU
 * blklogwrites format) to what a power cut at the log's last flush leaves on the disk.
 *
 *   fi-disk-replay [--to flush|all|N|mark:NAME] [--dry-run] [--json] LOG IMAGE
 *
 * IMAGE must be a copy of the disk as it was when logging began; it is changed in place.
 * Prints one summary line. Exit 0 replayed; 1 the log lacks a write its writer had counted
 * (nothing is written then); 2 cannot run (usage, unreadable file, not such a log).
 */
#include "fi_disklog.h"
#include "hvp_tool.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const char *const USAGE =
	"usage: fi-disk-replay [--to flush|all|N|mark:NAME] [--dry-run] [--json] LOG IMAGE\n"
	"  Applies to IMAGE (a copy of the disk when logging began) the writes of LOG that\n"
	"  survive a power cut at its last flush (default), all of them, the first N entries,\n"
	"  or those before the mark NAME. Exit 0 done, 1 a counted write is missing, 2 error.\n";

static int parse_to(const char *s, struct fi_dl_opts *o)
{
	if (!strcmp(s, "flush"))
		o->to = FI_DL_TO_FLUSH;
	else if (!strcmp(s, "all"))
		o->to = FI_DL_TO_ALL;
	else if (!strncmp(s, "mark:", 5) && s[5]) {
		o->to = FI_DL_TO_MARK;
		o->mark = s + 5;
	} else if (hvp_parse_u64(s, 0, UINT64_MAX, &o->count) == 0)
		o->to = FI_DL_TO_COUNT;
	else
		return -EINVAL;
	return 0;
}

static void print_summary(const struct fi_dl_summary *s, int json)
{
	if (json) {
		printf("{\"sectorsize\":%u,\"super_entries\":%" PRIu64 ",\"entries\":%" PRIu64
		       ",\"cut\":%" PRIu64 ",\"applied\":%" PRIu64 ",\"skipped\":%" PRIu64
		       ",\"dropped\":%" PRIu64 ",\"bytes\":%" PRIu64 ",\"writes\":%" PRIu64
		       ",\"discards\":%" PRIu64 ",\"flushes\":%" PRIu64 ",\"fuas\":%" PRIu64
		       ",\"marks\":%" PRIu64 ",\"end\":\"%s\"}\n",
		       s->sectorsize, s->super_entries, s->entries, s->cut, s->applied, s->skipped,
		       s->dropped, s->bytes, s->writes, s->discards, s->flushes, s->fuas, s->marks,
		       s->end == FI_DL_END_EOF ? "eof" : s->end == FI_DL_END_TORN ? "torn" :
		       s->end == FI_DL_END_EMPTY ? "empty" : "bad");
		return;
	}
	printf("%" PRIu64 " entries (super counts %" PRIu64 ", %" PRIu64 " flushes); applied %"
	       PRIu64 " (%" PRIu64 " bytes) before entry %" PRIu64 ", dropped %" PRIu64
	       " after it; log ends at %s\n", s->entries, s->super_entries, s->flushes, s->applied,
	       s->bytes, s->cut, s->dropped, fi_dl_end_name(s->end));
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "to", required_argument, NULL, 't' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct fi_dl_opts o = { .to = FI_DL_TO_FLUSH };
	int json = 0, c;
	hvp_getopt_reset();
	while ((c = getopt_long(argc, argv, ":t:njh", lo, NULL)) != -1) {
		switch (c) {
		case 't':
			if (parse_to(optarg, &o)) {
				hvp_err("fi-disk-replay: --to %s: expected flush, all, a count or "
					"mark:NAME", optarg);
				return HVP_EXIT_USAGE;
			}
			break;
		case 'n': o.dry_run = 1; break;
		case 'j': json = 1; break;
		case 'h': fputs(USAGE, stdout); return HVP_EXIT_OK;
		default: return hvp_opt_error("fi-disk-replay", c, argv, lo);
		}
	}
	if (argc - optind != 2) {
		fputs(USAGE, stderr);
		return HVP_EXIT_USAGE;
	}
	const char *logp = argv[optind], *imgp = argv[optind + 1];
	int lfd = open(logp, O_RDONLY | O_CLOEXEC);
	if (lfd < 0) {
		hvp_err_file(logp, "%s", strerror(errno));
		return HVP_EXIT_USAGE;
	}
	int ifd = open(imgp, (o.dry_run ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	if (ifd < 0) {
		hvp_err_file(imgp, "%s", strerror(errno));
		close(lfd);
		return HVP_EXIT_USAGE;
	}
	struct fi_dl_summary s;
	char why[256];
	int rc = fi_dl_replay(lfd, ifd, &o, &s, why, sizeof(why));
	close(ifd);
	close(lfd);
	if (rc) {
		hvp_err_file(rc == -EIO || rc == -ENOSPC ? imgp : logp, "%s", why);
		return rc == -EILSEQ ? HVP_EXIT_DAMAGE : HVP_EXIT_USAGE;
	}
	print_summary(&s, json);
	return HVP_EXIT_OK;
}
