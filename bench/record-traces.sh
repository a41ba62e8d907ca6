#!/bin/sh
# record-traces.sh OUTDIR [HVPROV]
#
# Records real traces for the daemon's and recovery's benchmarks: `hvprov run` of a small C
# build (make -j2 of a generated project) and of Postmark. For each workload W it leaves
#
#   OUTDIR/W-data/    a data directory as `hvprov run` leaves it: pool (consumed) and log/
#                     (zstd segments written by the inline consumer)
#   OUTDIR/W-pool/    a data directory whose pool (256 MiB, 1 lane) still holds every record
#                     of the run, unconsumed (--no-daemon): input for consume/recover benchmarks
#
# and prints what was recorded. HVPROV defaults to `hvprov` in PATH. Workloads run in a
# temporary folder under $TMPDIR (default /tmp). Needs make, cc and postmark.
set -eu

if [ $# -lt 1 ] || [ "$1" = "-h" ] || [ "$1" = "--help" ]; then
	sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'
	[ $# -ge 1 ] && exit 0
	exit 2
fi
OUT=$1
HV=${2:-hvprov}
command -v "$HV" >/dev/null 2>&1 || { echo "record-traces: $HV not found" >&2; exit 2; }
for t in make cc postmark; do
	command -v $t >/dev/null 2>&1 || { echo "record-traces: $t is not installed" >&2; exit 2; }
done
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/hvprov-traces-XXXXXX")
trap 'rm -rf "$WORK"' EXIT

# ---- a generated C project: 24 files of 12 functions, one header ----
mkproject() {
	d=$1
	mkdir -p "$d"
	cat > "$d/common.h" <<'EOF'
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
struct item { int key; char name[32]; double w; };
int cmp_items(const void *a, const void *b);
EOF
	objs=
	i=0
	while [ $i -lt 24 ]; do
		f=$(printf 'm%02d' $i)
		objs="$objs $f.o"
		{
			echo '#include "common.h"'
			k=0
			while [ $k -lt 12 ]; do
				printf 'double %s_f%d(struct item *v, int n)\n{\n\tdouble s = 0;\n' $f $k
				printf '\tqsort(v, (size_t)n, sizeof(*v), cmp_items);\n'
				printf '\tfor (int i = 0; i < n; i++)\n\t\ts += v[i].w * %d + (double)strlen(v[i].name);\n' $((k + 1))
				printf '\treturn s;\n}\n'
				k=$((k + 1))
			done
		} > "$d/$f.c"
		i=$((i + 1))
	done
	cat > "$d/main.c" <<'EOF'
#include "common.h"
int cmp_items(const void *a, const void *b)
{
	return ((const struct item *)a)->key - ((const struct item *)b)->key;
}
int main(void) { printf("built\n"); return 0; }
EOF
	printf 'OBJS =%s\nprog: $(OBJS) main.o\n\t$(CC) -o $@ $^\n%%.o: %%.c common.h\n\t$(CC) -O1 -c -o $@ $<\nclean:\n\trm -f *.o prog\n' "$objs" > "$d/Makefile"
}

mkpostmark() {
	d=$1
	mkdir -p "$d/work"
	cat > "$d/pm.cfg" <<EOF
set location $d/work
set number 1000
set transactions 5000
set size 500 10000
set subdirectories 10
run
quit
EOF
}

summary() {
	name=$1
	data=$2
	printf '%-22s ' "$name"
	"$HV" journal info "$data/pool" --json | python3 -c '
import json, sys
j = json.load(sys.stdin)
heads = sum(l["head"] for l in j["lane"])
ck = sum(l["ckpt_seq"] for l in j["lane"])
print("pool %d MiB, %s, %d records written, %d unconsumed" % (j["pool_size"] >> 20, j["durability"], heads, heads - ck), end="")'
	if [ -d "$data/log" ] && ls "$data/log" | grep -q '^seg-'; then
		printf '; log %s in %s segment(s)\n' "$(du -sh "$data/log" | cut -f1)" "$(ls "$data/log" | grep -c '^seg-')"
	else
		printf '\n'
	fi
}

# ---- build ----
mkproject "$WORK/build"
rm -rf "$OUT/build-data" "$OUT/build-pool"
(cd "$WORK/build" && "$HV" run --quiet --data "$OUT/build-data" -- make -s -j2 >/dev/null)
(cd "$WORK/build" && make -s clean)
mkdir -p "$OUT/build-pool"
"$HV" journal create "$OUT/build-pool/pool" --size 256M --lanes 1 >/dev/null
(cd "$WORK/build" && "$HV" run --quiet --no-daemon --data "$OUT/build-pool" -- make -s -j2 >/dev/null)

# ---- postmark ----
mkpostmark "$WORK/postmark"
rm -rf "$OUT/postmark-data" "$OUT/postmark-pool"
(cd "$WORK/postmark" && "$HV" run --quiet --data "$OUT/postmark-data" -- postmark pm.cfg >/dev/null)
mkdir -p "$OUT/postmark-pool"
"$HV" journal create "$OUT/postmark-pool/pool" --size 256M --lanes 1 >/dev/null
(cd "$WORK/postmark" && "$HV" run --quiet --no-daemon --data "$OUT/postmark-pool" -- postmark pm.cfg >/dev/null)

echo "traces in $OUT:"
summary build-data "$OUT/build-data"
summary build-pool "$OUT/build-pool"
summary postmark-data "$OUT/postmark-data"
summary postmark-pool "$OUT/postmark-pool"
