# Warning and sanitizer flags live in INTERFACE targets that every first-party target links.
add_library(kiln_warnings INTERFACE)
add_library(kiln::warnings ALIAS kiln_warnings)
target_compile_options(kiln_warnings INTERFACE
  $<$<COMPILE_LANGUAGE:CXX>:-Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wsign-conversion
    -Wnon-virtual-dtor -Wold-style-cast -Wcast-align -Woverloaded-virtual
    -Wdouble-promotion -Wformat=2 -Wimplicit-fallthrough>)
# GCC 12 reports false -Wrestrict positives for `"literal" + std::string` at -O2/-O3
# (GCC bug 105329), so that one warning is off for GCC.
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
  target_compile_options(kiln_warnings INTERFACE $<$<COMPILE_LANGUAGE:CXX>:-Wno-restrict>)
endif()
if(KILN_WARNINGS_AS_ERRORS)
  target_compile_options(kiln_warnings INTERFACE $<$<COMPILE_LANGUAGE:CXX>:-Werror>)
endif()

add_library(kiln_sanitizers INTERFACE)
add_library(kiln::sanitizers ALIAS kiln_sanitizers)
if(KILN_SANITIZE)
  string(REPLACE ";" "," _kiln_san "${KILN_SANITIZE}")
  target_compile_options(kiln_sanitizers INTERFACE -fsanitize=${_kiln_san} -fno-omit-frame-pointer
                                                   -fno-sanitize-recover=undefined)
  target_link_options(kiln_sanitizers INTERFACE -fsanitize=${_kiln_san})
endif()
