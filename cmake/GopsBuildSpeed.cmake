# What a build of gops costs in CPU time, and the switches that trade it
# (docs/development.md, "Build time", has the figures).
#
#  - GOPS_UNITY_BUILD (ON): each target's sources compile in batches of eight, one
#    translation unit per batch. The headers every source includes (the standard
#    library, fmt, nlohmann::json, CLI11, Catch2) are parsed, and their templates
#    instantiated and optimised, once per batch instead of once per source. OFF, each
#    source compiles alone: a one-file edit recompiles one file instead of its batch
#    (OFF for an edit-compile loop), and a missing #include shows.
#  - Precompiled headers (gops_precompile_headers) only without the unity build: a
#    batch parses its headers once anyway, and generating the header costs more than
#    the one or two parses per target it would then save.
#  - GOPS_FULL_DEBUG_INFO (OFF): RelWithDebInfo keeps line tables only (-g1):
#    backtraces, profilers and sanitizer reports name files, lines and functions;
#    variables and types are left out, which costs a third of an optimised source's
#    compile time. ON for `-g` (or build Debug) to inspect variables in a debugger.
option(GOPS_UNITY_BUILD "Compile each target's sources in batches (unity build)" ON)
if(GOPS_UNITY_BUILD)
  set(CMAKE_UNITY_BUILD ON)
  set(CMAKE_UNITY_BUILD_BATCH_SIZE 8)
endif()

option(GOPS_FULL_DEBUG_INFO "RelWithDebInfo with full debug information (-g) rather than line tables (-g1)" OFF)
if(NOT GOPS_FULL_DEBUG_INFO)
  # After CMAKE_CXX_FLAGS_RELWITHDEBINFO's -g on the command line: the last -g wins.
  add_compile_options($<$<CONFIG:RelWithDebInfo>:-g1>)
endif()

# target_precompile_headers(target PRIVATE headers...), without the unity build.
function(gops_precompile_headers target)
  if(NOT GOPS_UNITY_BUILD)
    target_precompile_headers(${target} PRIVATE ${ARGN})
  endif()
endfunction()
