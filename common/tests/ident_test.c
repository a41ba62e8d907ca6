/*
 * ident_test.c - the identities event format 3 records on a host (common/hvp_ident.h): UUID
 * text both ways, the data directory's host id (created once, kept, overridden only when new),
 * the boot id, a process's start ticks and parent, its namespaces.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "hvp_event.h"
#include "hvp_ident.h"
#include "tu.h"

static void uuid_text_round_trips_and_refuses_junk(void)
{
	uint8_t id[16], back[16];
	char t[HVP_UUID_TEXT];
	for (int i = 0; i < 16; i++)
		id[i] = (uint8_t)(i * 17 + 3);
	hvp_uuid_fmt(id, t);
	TU_CHECK(!strcmp(t, "03142536-4758-697a-8b9c-adbecfe0f102"), "%s", t);
	TU_CHECK(hvp_uuid_parse(t, back) == 0 && !memcmp(id, back, 16));
	/* machine-id style: 32 digits, no dashes, a newline */
	TU_CHECK(hvp_uuid_parse("031425364758697a8b9cadbecfe0f102\n", back) == 0 && !memcmp(id, back, 16));
	TU_CHECK(hvp_uuid_parse("031425364758697a8b9cadbecfe0f1", back) == -EINVAL, "short");
	TU_CHECK(hvp_uuid_parse("031425364758697a8b9cadbecfe0f102x", back) == -EINVAL, "trailing");
	TU_CHECK(hvp_uuid_parse("0314253g4758697a8b9cadbecfe0f102", back) == -EINVAL, "not hex");
	TU_CHECK(hvp_uuid_parse("0-3142536-4758-697a-8b9c-adbecfe0f102", back) == -EINVAL, "dash");
}

static void host_id_is_created_once_and_kept(void)
{
	char *dir = tu_tmpdir("ident");
	int d = open(dir, O_DIRECTORY | O_RDONLY);
	TU_REQUIRE(d >= 0);
	uint8_t a[16], b[16], c[16];
	TU_REQUIRE(hvp_host_id(d, "00112233-4455-6677-8899-aabbccddeeff", a) == 0);
	TU_CHECK(a[0] == 0x00 && a[15] == 0xff);
	TU_CHECK(hvp_host_id(d, NULL, b) == 0 && !memcmp(a, b, 16), "kept");
	TU_CHECK(hvp_host_id(d, "00112233445566778899aabbccddeeff", b) == 0, "same id, other spelling");
	TU_CHECK(hvp_host_id(d, "ffffffff-4455-6677-8899-aabbccddeeff", c) == -EEXIST, "other id refused");
	TU_CHECK(hvp_host_id(d, "nonsense", c) == -EINVAL);
	/* no file, no override: /etc/machine-id or a random id, and it stays */
	TU_REQUIRE(unlinkat(d, HVP_HOST_ID_FILE, 0) == 0);
	TU_REQUIRE(hvp_host_id(d, NULL, b) == 0);
	TU_CHECK(hvp_host_id(d, NULL, c) == 0 && !memcmp(b, c, 16), "second read gives the first id");
	/* a symlink planted as host-id is not followed */
	TU_REQUIRE(unlinkat(d, HVP_HOST_ID_FILE, 0) == 0);
	TU_REQUIRE(symlinkat("/etc/machine-id", d, HVP_HOST_ID_FILE) == 0);
	TU_CHECK(hvp_host_id(d, NULL, c) == -ELOOP, "symlink followed");
	TU_REQUIRE(unlinkat(d, HVP_HOST_ID_FILE, 0) == 0);
	/* damage is refused, not replaced */
	int fd = openat(d, HVP_HOST_ID_FILE, O_WRONLY | O_CREAT, 0644);
	TU_REQUIRE(fd >= 0 && write(fd, "xyz\n", 4) == 4);
	close(fd);
	TU_CHECK(hvp_host_id(d, NULL, c) == -EINVAL, "damaged file");
	close(d);
	tu_rmtree(dir);
	free(dir);
}

static void process_start_and_parent_match_the_kernel(void)
{
	uint8_t boot[16];
	TU_REQUIRE(hvp_boot_id(boot) == 0);
	uint8_t zero[16] = { 0 };
	TU_CHECK(memcmp(boot, zero, 16), "boot id all zero");

	struct timespec t0, t1;
	clock_gettime(CLOCK_BOOTTIME, &t0);
	int p[2];
	TU_REQUIRE(pipe(p) == 0);
	pid_t c = fork();
	TU_REQUIRE(c >= 0);
	if (c == 0) {
		char x;
		close(p[1]);
		(void)!read(p[0], &x, 1);
		_exit(0);
	}
	close(p[0]);
	clock_gettime(CLOCK_BOOTTIME, &t1);
	uint64_t ticks = 0;
	uint32_t ppid = 0;
	TU_REQUIRE(hvp_proc_start(c, &ticks, &ppid) == 0);
	uint64_t lo = (uint64_t)t0.tv_sec * HVP_TICKS_HZ + (uint64_t)t0.tv_nsec / (1000000000 / HVP_TICKS_HZ);
	uint64_t hi = (uint64_t)t1.tv_sec * HVP_TICKS_HZ + (uint64_t)t1.tv_nsec / (1000000000 / HVP_TICKS_HZ);
	TU_CHECK(ticks >= lo && ticks <= hi + 1, "start %llu not within [%llu, %llu]",
		 (unsigned long long)ticks, (unsigned long long)lo, (unsigned long long)hi);
	TU_CHECK(ppid == (uint32_t)getpid(), "ppid %u", ppid);

	struct hvp_ev_ns mine, child;
	TU_REQUIRE(hvp_proc_ns(getpid(), &mine) == 0);
	TU_REQUIRE(hvp_proc_ns(c, &child) == 0);
	TU_CHECK(!memcmp(&mine, &child, sizeof(mine)), "a forked child shares every namespace");
	char link[64];
	ssize_t n = readlink("/proc/self/ns/net", link, sizeof(link) - 1);
	TU_REQUIRE(n > 0);
	link[n] = 0;
	unsigned long long netino = 0;
	TU_CHECK(sscanf(link, "net:[%llu]", &netino) == 1 && netino == mine.net, "%s vs %u", link, mine.net);
	struct stat st;
	if (stat("/sys/fs/cgroup/unified", &st) == 0 || stat("/sys/fs/cgroup/cgroup.controllers", &st) == 0)
		TU_CHECK(mine.cgroup_id != 0, "cgroup v2 is mounted but no cgroup id");

	(void)!write(p[1], "x", 1);
	close(p[1]);
	waitpid(c, NULL, 0);
	TU_CHECK(hvp_proc_start(c, &ticks, NULL) == -ESRCH, "reaped child still found");
}

int main(void)
{
	TU_RUN(uuid_text_round_trips_and_refuses_junk);
	TU_RUN(host_id_is_created_once_and_kept);
	TU_RUN(process_start_and_parent_match_the_kernel);
	return tu_done();
}
