# How the Catch2 test binaries (tests/gops_unit_tests, tests/runtime/gops_runtime_tests)
# are built; each measured in docs/development.md, "Build time".
#
#  - One Catch2 main for both: the one Debian's catch2 package compiles
#    (Catch2::Catch2WithMain, libCatch2WithMain.a). A CATCH_CONFIG_MAIN object costs
#    ~30 CPU s to compile.
#  - Test code at -O0 whatever the build type: the code under test (the libraries) is
#    built as configured; at -O2 the assertion macros' expansions cost twice as much to
#    compile, for tests that run as fast either way.
#  - <catch2/catch.hpp>, which every test includes, and the heavy headers most of a
#    binary's tests include (PRECOMPILE ...) as a precompiled header, when each source
#    compiles alone (cmake/GopsBuildSpeed.cmake).
find_package(Catch2 2 REQUIRED)

function(gops_test_binary target)
  cmake_parse_arguments(PARSE_ARGV 1 ARG "" "" "PRECOMPILE")
  target_link_libraries(${target} PRIVATE Catch2::Catch2WithMain)
  target_compile_options(${target} PRIVATE -O0)
  gops_precompile_headers(${target} <string> <vector> <catch2/catch.hpp> ${ARG_PRECOMPILE})
endfunction()
