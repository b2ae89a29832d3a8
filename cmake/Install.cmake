# `cmake --install build --prefix P` (docs/design.md "Installation"):
#   P/bin/nurec
#   P/lib/libnurec_<area>.so            the libraries, exported as nurec::<area>
#   P/include/nurec/<area>/*.hpp        their headers, included as "nurec/<area>/X.hpp"
#   P/share/nurec/{data,models,tools}   shipped files, found next to the libraries at run time
#   P/lib/cmake/nurec/nurecConfig.cmake for find_package(nurec) (examples/ uses it)
include(CMakePackageConfigHelpers)

set(NUREC_AREAS core io generator generator_ttbar detector detector_ttbar reco reco_ttbar eval quantum
    ml)
set(NUREC_EXPORTED_LIBRARIES "")
set(NUREC_EXPORTED_AREAS "")
foreach(area ${NUREC_AREAS})
  if(TARGET nurec_${area})
    set_target_properties(nurec_${area} PROPERTIES EXPORT_NAME ${area})
    add_library(nurec::${area} ALIAS nurec_${area})  # the same names inside this build
    list(APPEND NUREC_EXPORTED_LIBRARIES nurec_${area})
    list(APPEND NUREC_EXPORTED_AREAS ${area})
  endif()
endforeach()

install(TARGETS nurec RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(DIRECTORY data models DESTINATION ${CMAKE_INSTALL_DATADIR}/nurec)
# The ONNX exporter that `export-model --format onnx` runs, and its check (docs/onnx.md).
install(FILES tools/onnx_export.py tools/onnx_check.mjs DESTINATION ${CMAKE_INSTALL_DATADIR}/nurec/tools)

if(NOT BUILD_SHARED_LIBS)
  # Static libraries would carry nurec's private build helpers into the export.
  message(STATUS "nurec: static libraries are not installed (BUILD_SHARED_LIBS=OFF)")
  return()
endif()

install(TARGETS ${NUREC_EXPORTED_LIBRARIES} EXPORT nurecTargets
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(DIRECTORY src/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/nurec
        FILES_MATCHING PATTERN "*.hpp")
install(FILES ${PROJECT_BINARY_DIR}/generated/nurec/Version.hpp
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/nurec)

set(NUREC_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/nurec)
install(EXPORT nurecTargets NAMESPACE nurec:: DESTINATION ${NUREC_CMAKE_DIR})
configure_package_config_file(cmake/nurecConfig.cmake.in ${PROJECT_BINARY_DIR}/nurecConfig.cmake
                              INSTALL_DESTINATION ${NUREC_CMAKE_DIR}
                              PATH_VARS CMAKE_INSTALL_DATADIR)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/nurecConfigVersion.cmake
                                 VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/nurecConfig.cmake ${PROJECT_BINARY_DIR}/nurecConfigVersion.cmake
        DESTINATION ${NUREC_CMAKE_DIR})
