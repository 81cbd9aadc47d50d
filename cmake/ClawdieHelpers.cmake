# Small helpers so every CMakeLists.txt in the tree reads the same.
#
#   clawdie_library(NAME n SRCS a.cc ... DEPS x y)   static library, include root = repo root
#   clawdie_binary(NAME n SRCS main.cc DEPS x y)     executable
#   clawdie_test(NAME n SRCS a_test.cc DEPS x y [TIMEOUT s] [LABELS l])
#                                                    GoogleTest binary registered with ctest

set(CLAWDIE_WARNINGS -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers)

# Test binaries are compiled without optimisation: on a 2-core machine this nearly halves their
# compile time, and they exercise code from the libraries and binaries, which keep the build
# type's flags. Set -DCLAWDIE_TEST_OPT=-O2 to compile them like everything else.
set(CLAWDIE_TEST_OPT "-O0" CACHE STRING "Optimisation flag for GoogleTest binaries")

# Batches of sources per unity translation unit (see CLAWDIE_UNITY_BUILD); used for libraries
# and binaries. Test binaries are few files each and keep their per-file helpers apart.
function(clawdie_target_defaults name)
  if(CLAWDIE_UNITY_BUILD)
    set_target_properties(${name} PROPERTIES UNITY_BUILD ON UNITY_BUILD_BATCH_SIZE 8)
  endif()
endfunction()

function(clawdie_library)
  cmake_parse_arguments(ARG "" "NAME" "SRCS;DEPS" ${ARGN})
  add_library(${ARG_NAME} STATIC ${ARG_SRCS})
  target_include_directories(${ARG_NAME} PUBLIC ${PROJECT_SOURCE_DIR} ${PROJECT_BINARY_DIR})
  target_compile_options(${ARG_NAME} PRIVATE ${CLAWDIE_WARNINGS})
  target_link_libraries(${ARG_NAME} PUBLIC ${ARG_DEPS})
  clawdie_target_defaults(${ARG_NAME})
endfunction()

function(clawdie_binary)
  cmake_parse_arguments(ARG "" "NAME" "SRCS;DEPS" ${ARGN})
  add_executable(${ARG_NAME} ${ARG_SRCS})
  target_include_directories(${ARG_NAME} PRIVATE ${PROJECT_SOURCE_DIR} ${PROJECT_BINARY_DIR})
  target_compile_options(${ARG_NAME} PRIVATE ${CLAWDIE_WARNINGS})
  target_link_libraries(${ARG_NAME} PRIVATE ${ARG_DEPS})
  clawdie_target_defaults(${ARG_NAME})
endfunction()

function(clawdie_test)
  cmake_parse_arguments(ARG "" "NAME;TIMEOUT" "SRCS;DEPS;LABELS" ${ARGN})
  add_executable(${ARG_NAME} ${ARG_SRCS})
  target_include_directories(${ARG_NAME} PRIVATE ${PROJECT_SOURCE_DIR} ${PROJECT_BINARY_DIR})
  target_compile_options(${ARG_NAME} PRIVATE ${CLAWDIE_WARNINGS} ${CLAWDIE_TEST_OPT})
  target_compile_definitions(${ARG_NAME} PRIVATE
    CLAWDIE_SHARED_FIXTURES="${CLAWDIE_SHARED_FIXTURES}"
    CLAWDIE_TEST_FIXTURES="${CLAWDIE_TEST_FIXTURES}"
    CLAWDIE_BINARY_DIR="${PROJECT_BINARY_DIR}"
    CLAWDIE_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
  target_link_libraries(${ARG_NAME} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gtest_main
                        Threads::Threads)
  add_test(NAME ${ARG_NAME} COMMAND ${ARG_NAME})
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 120)
  endif()
  set_tests_properties(${ARG_NAME} PROPERTIES TIMEOUT ${ARG_TIMEOUT})
  if(ARG_LABELS)
    set_tests_properties(${ARG_NAME} PROPERTIES LABELS "${ARG_LABELS}")
  endif()
endfunction()

# Adds every immediate subfolder of the current folder that has a CMakeLists.txt,
# so components under tests/ and tests/bench/ can be added without editing a shared list.
function(clawdie_add_subfolders)
  file(GLOB children RELATIVE ${CMAKE_CURRENT_SOURCE_DIR} ${CMAKE_CURRENT_SOURCE_DIR}/*/CMakeLists.txt)
  list(SORT children)
  foreach(child ${children})
    get_filename_component(dir ${child} DIRECTORY)
    add_subdirectory(${dir})
  endforeach()
endfunction()
