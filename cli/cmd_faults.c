/* cmd_faults.c - `hvprov faults`: the power-failure state explorer (fault-injection/). */
#include "hvp_cli.h"
#include "fi_main.h"

static int cmd_faults(int argc, char **argv)
{
	return fi_main(argc, argv);
}

HVP_COMMAND("faults", cmd_faults, "explore simulated power-failure states of the journal and check recovery")
