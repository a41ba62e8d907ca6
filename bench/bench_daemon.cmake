# bench_daemon.c drives the daemon's consumer (daemon/dmn.h) and zstd directly.
target_link_libraries(hvprov_bench PRIVATE hvprov_daemon PkgConfig::ZSTD)
