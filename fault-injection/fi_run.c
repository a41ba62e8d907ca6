/* fi_run.c - standalone runner, built once per deliberately broken journal variant. */
#include "fi_main.h"

int main(int argc, char **argv)
{
	return fi_main(argc, argv);
}
