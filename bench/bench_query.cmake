# bench_query.c indexes with daemon/index (idx.h, q.h) and writes segments (seg.h).
target_link_libraries(hvprov_bench PRIVATE hvprov_index hvprov_seg hvprov_hv PkgConfig::SQLITE3)
