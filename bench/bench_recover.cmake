# bench_recover.c drives recovery (recovery/rcv.h) and reads traces with the segment reader.
target_link_libraries(hvprov_bench PRIVATE hvprov_recovery hvprov_seg)
