# The interceptor: event format reader, syscall table, record builder (freestanding parts) and
# the ptrace backend behind `hvprov run`. Included from hv/CMakeLists.txt.
set(HV_DIR ${CMAKE_CURRENT_LIST_DIR})

# Freestanding core: must build with no libc headers (it also goes into the hypervisor).
add_library(hvprov_hv_core STATIC ${HV_DIR}/hv_systab.c ${HV_DIR}/hv_rec.c)
target_include_directories(hvprov_hv_core PUBLIC ${HV_DIR})
target_compile_options(hvprov_hv_core PRIVATE -ffreestanding)

add_library(hvprov_hv STATIC ${HV_DIR}/hvp_event_read.c)
target_include_directories(hvprov_hv PUBLIC ${HV_DIR})
target_link_libraries(hvprov_hv PUBLIC hvprov_hv_core)
set_property(GLOBAL APPEND PROPERTY HVPROV_CLI_LIBS hvprov_hv)

# The ptrace backend (Linux hosts) behind `hvprov run`.
target_sources(hvprov_hv PRIVATE ${HV_DIR}/hv_ptrace.c ${HV_DIR}/hv_ptrace_cache.c
                                 ${HV_DIR}/hv_ptrace_event.c ${HV_DIR}/hv_ptrace_filter.c
                                 ${HV_DIR}/hv_ptrace_ident.c
                                 ${HV_DIR}/hv_ptrace_guard.c)
target_link_libraries(hvprov_hv PUBLIC hvprov_journal)
