# bench_overhead.c lists the calls strace must trace from the interceptor's syscall table.
target_link_libraries(hvprov_bench PUBLIC hvprov_hv_core)
