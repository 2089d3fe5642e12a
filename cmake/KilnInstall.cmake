# `cmake --install BUILD [--prefix P]`: the kiln binary (bin/), the LibTorch backend
# (lib/kiln/, where kiln looks for it beside ../bin), the headers (include/kiln/), the static
# module libraries and a CMake package, so a downstream project writes
#     find_package(kiln REQUIRED)
#     target_link_libraries(app PRIVATE kiln::extract kiln::store)
# (tests/packaging/ builds one). The package finds kiln's dependencies again with the same
# calls as kiln's own build (KilnLibraryDependencies.cmake).
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

get_property(_kiln_modules GLOBAL PROPERTY KILN_MODULE_TARGETS)
set_target_properties(kiln_warnings PROPERTIES EXPORT_NAME warnings)
set_target_properties(kiln_sanitizers PROPERTIES EXPORT_NAME sanitizers)
install(TARGETS ${_kiln_modules} kiln_warnings kiln_sanitizers
        EXPORT kilnTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/kiln DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(FILES ${PROJECT_SOURCE_DIR}/jobs/ingest.ini ${PROJECT_SOURCE_DIR}/jobs/infer.ini
              ${PROJECT_SOURCE_DIR}/jobs/pipeline.ini
        DESTINATION ${CMAKE_INSTALL_DATADIR}/kiln/jobs)
install(PROGRAMS ${PROJECT_SOURCE_DIR}/slurm/ingest.sbatch ${PROJECT_SOURCE_DIR}/slurm/infer-gpu.sbatch
                 ${PROJECT_SOURCE_DIR}/slurm/pipeline.sbatch
                 ${PROJECT_SOURCE_DIR}/slurm/pipeline-requeue.sbatch
        DESTINATION ${CMAKE_INSTALL_DATADIR}/kiln/slurm)

set(_kiln_cmake_dir ${CMAKE_INSTALL_LIBDIR}/cmake/kiln)
install(EXPORT kilnTargets NAMESPACE kiln:: DESTINATION ${_kiln_cmake_dir})
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/kilnConfig.cmake.in
  ${PROJECT_BINARY_DIR}/kilnConfig.cmake INSTALL_DESTINATION ${_kiln_cmake_dir}
  PATH_VARS CMAKE_INSTALL_INCLUDEDIR)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/kilnConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/kilnConfig.cmake ${PROJECT_BINARY_DIR}/kilnConfigVersion.cmake
              ${PROJECT_SOURCE_DIR}/cmake/KilnLibraryDependencies.cmake
        DESTINATION ${_kiln_cmake_dir})
