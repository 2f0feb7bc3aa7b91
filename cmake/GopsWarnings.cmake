# Warnings for the project's own code. Generated and third-party code opts out.
function(gops_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic
    -Wnon-virtual-dtor -Wimplicit-fallthrough)
endfunction()
