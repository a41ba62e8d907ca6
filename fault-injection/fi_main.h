/* fi_main.h - entry point of `hvprov faults` (and of the fi-run test executables). */
#ifndef FI_MAIN_H
#define FI_MAIN_H
int fi_main(int argc, char **argv);
#endif
