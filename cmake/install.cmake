# `cmake --install`: the tools, the agent, the C++ API with its headers, a CMake package
# (find_package(memscope) -> memscope::memscope) and a pkg-config file; CPack builds a .deb.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

install(TARGETS memscope-run memscope-analyze RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(TARGETS memscope memscope_agent EXPORT memscopeTargets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(FILES include/memscope/memscope.hpp include/memscope/collector.hpp
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/memscope)
install(EXPORT memscopeTargets NAMESPACE memscope::
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/memscope)
configure_package_config_file(cmake/memscopeConfig.cmake.in
  ${CMAKE_BINARY_DIR}/memscopeConfig.cmake INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/memscope)
write_basic_package_version_file(${CMAKE_BINARY_DIR}/memscopeConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_BINARY_DIR}/memscopeConfig.cmake ${CMAKE_BINARY_DIR}/memscopeConfigVersion.cmake
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/memscope)
# Relative to the .pc file, so an installed tree can be moved (and tested under a scratch prefix).
file(RELATIVE_PATH MEMSCOPE_PC_TO_PREFIX ${CMAKE_INSTALL_FULL_LIBDIR}/pkgconfig ${CMAKE_INSTALL_PREFIX})
configure_file(cmake/memscope.pc.in ${CMAKE_BINARY_DIR}/memscope.pc @ONLY)
install(FILES ${CMAKE_BINARY_DIR}/memscope.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
install(FILES README.md DESTINATION ${CMAKE_INSTALL_DOCDIR})

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME memscope)
set(CPACK_PACKAGE_CONTACT "memscope developers")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "heap, thread and resource profiler for unmodified Linux programs")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "libc6, libstdc++6, libdw1, libelf1, libzstd1, libxxhash0")
include(CPack)
