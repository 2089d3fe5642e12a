# kiln_add_module(NAME SOURCES ... [PUBLIC_DEPS ...] [PRIVATE_DEPS ...])
# One library per module, target kiln_NAME with alias kiln::NAME. Third-party libraries go in
# PRIVATE_DEPS; PUBLIC_DEPS names only other kiln modules (the edges of ARCHITECTURE.md).
# Every module is installed and exported as kiln::NAME (cmake/KilnInstall.cmake).
function(kiln_add_module name)
  cmake_parse_arguments(ARG "" "" "SOURCES;PUBLIC_DEPS;PRIVATE_DEPS" ${ARGN})
  add_library(kiln_${name} STATIC ${ARG_SOURCES})
  add_library(kiln::${name} ALIAS kiln_${name})
  set_target_properties(kiln_${name} PROPERTIES EXPORT_NAME ${name})
  set_property(GLOBAL APPEND PROPERTY KILN_MODULE_TARGETS kiln_${name})
  target_include_directories(kiln_${name}
    PUBLIC $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/include> $<INSTALL_INTERFACE:include>
    PRIVATE ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(kiln_${name}
    PUBLIC ${ARG_PUBLIC_DEPS}
    PRIVATE ${ARG_PRIVATE_DEPS} kiln::warnings kiln::sanitizers)
endfunction()
