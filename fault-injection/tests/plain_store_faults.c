/*
 * The recorder's proof that nothing bypasses the persistence operations: the journal runs
 * over a read-only mapping, so a plain store faults. This test makes such a store in a child
 * and requires the child to die of SIGSEGV, and shows a store through the operations works.
 */
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fi.h"
#include "tu.h"

int main(void)
{
	struct fi_rec *r;
	TU_REQUIRE(fi_rec_new(16384, &r) == 0);
	unsigned char *view = fi_rec_view(r);
	uint64_t v = 0x1122334455667788ull;
	fi_pops.store8(r, (uint64_t *)(view + 64), v);
	uint64_t got;
	memcpy(&got, view + 64, 8);
	TU_CHECK(got == v, "store through the operations is visible in the view");
	TU_CHECK(fi_rec_nevents(r) == 1, "and recorded (%zu events)", fi_rec_nevents(r));
	pid_t pid = fork();
	TU_REQUIRE(pid >= 0);
	if (pid == 0) {
		signal(SIGSEGV, SIG_DFL);   /* a sanitizer's handler would turn the fault into an exit */
		*(volatile unsigned char *)(view + 100) = 1;   /* a plain store: must fault */
		_exit(0);
	}
	int st;
	waitpid(pid, &st, 0);
	TU_CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV, "plain store into the recorded pool killed the child with SIGSEGV");
	fi_rec_free(r);
	return tu_done();
}
