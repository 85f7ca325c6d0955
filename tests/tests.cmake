# Every tests/<module>/test_*.c is one CTest executable named <module>_<file>.
# Tests run from the source tree root so they can find tests/data/.
file(GLOB_RECURSE BRISK_TEST_SOURCES CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/*/test_*.c)
foreach(src ${BRISK_TEST_SOURCES})
  get_filename_component(dir ${src} DIRECTORY)
  get_filename_component(group ${dir} NAME)
  get_filename_component(name ${src} NAME_WE)
  set(tname ${group}_${name})
  add_executable(${tname} ${src})
  target_include_directories(${tname} PRIVATE ${CMAKE_SOURCE_DIR}/src ${CMAKE_SOURCE_DIR}/tests ${OPENBLAS_INCLUDE_DIR})
  target_link_libraries(${tname} PRIVATE brisk)
  add_test(NAME ${tname} COMMAND ${tname} WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
  set_tests_properties(${tname} PROPERTIES ENVIRONMENT "OMP_NUM_THREADS=2;OPENBLAS_NUM_THREADS=1" TIMEOUT 600)
endforeach()

# Command-line tests: tests/cli/*.sh get the brisk binary as $1 and run from the source root.
file(GLOB BRISK_CLI_TESTS CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/cli/*.sh)
foreach(sh ${BRISK_CLI_TESTS})
  get_filename_component(name ${sh} NAME_WE)
  add_test(NAME cli_${name} COMMAND bash ${sh} $<TARGET_FILE:brisk_cli> WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
  set_tests_properties(cli_${name} PROPERTIES ENVIRONMENT "OMP_NUM_THREADS=2;OPENBLAS_NUM_THREADS=1" TIMEOUT 600)
endforeach()
