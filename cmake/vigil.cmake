# vigil_module(NAME DEPS ... [PCH header...]): a static library vigil_<NAME> from src/<NAME>/*.cpp.
# PCH names heavy header-only libraries (CLI11, nlohmann-json) to precompile once per module; only
# for headers every file of the module includes anyway: with GCC each file that loads a PCH also
# compiles code for what is in it (CPU time: src/cli/cib.cpp, which includes both,
# 25 CPU s with the PCH and 28 without; vigil_daemon's PCH of CLI11, asio and nlohmann-json took
# src/daemon/lease_settings.cpp, which includes none of them, from 1.9 to 15.5).
# Modules are separate libraries so that each can be built and tested alone; the executables link
# the umbrella target `libvigil`.
function(vigil_module name)
  cmake_parse_arguments(M "" "" "DEPS;PCH" ${ARGN})
  file(GLOB srcs CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/src/${name}/*.cpp)
  add_library(vigil_${name} STATIC ${srcs})
  target_include_directories(vigil_${name} PUBLIC ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(vigil_${name} PUBLIC ${M_DEPS})
  if(M_PCH)
    target_precompile_headers(vigil_${name} PRIVATE ${M_PCH})
  endif()
  # A unity build in batches of 8 files: a file's own code is a small part of its cost beside the
  # headers it parses and the inline and template code it instantiates, once per batch instead
  # (vigil_controller's 6 batched files: 47.0 CPU s alone, 25.5 as one, ci flags). So file-local
  # names (anonymous namespace, static) must differ across a module's files; a file whose
  # definitions need to be its own translation unit sets SKIP_UNITY_BUILD_INCLUSION. Files with a
  # COMPILE_DEFINITIONS of their own (VIGIL_VERSION) stay alone, CMake's rule.
  set_target_properties(vigil_${name} PROPERTIES UNITY_BUILD ON UNITY_BUILD_BATCH_SIZE 8)
  set_property(GLOBAL APPEND PROPERTY VIGIL_MODULES vigil_${name})
endfunction()

# Every test requires the fixture vigil_suite, so that its cleanup, the skip check skips_allowed
# (tests/skips.cmake), runs after all of them. vigil_suite_tests() marks every test the current
# directory adds, once the directory is read; vigil_test and vigil_fuzz call it, and so does any
# directory that adds tests by hand (the skip check fails on a test without the fixture).
function(vigil_suite_tests)
  get_property(marked DIRECTORY PROPERTY VIGIL_SUITE_MARKED)
  if(NOT marked)
    set_property(DIRECTORY PROPERTY VIGIL_SUITE_MARKED TRUE)
    cmake_language(DEFER CALL vigil_require_suite)
  endif()
endfunction()
function(vigil_require_suite)
  get_property(tests DIRECTORY PROPERTY TESTS)
  list(REMOVE_ITEM tests skips_allowed)
  foreach(test IN LISTS tests)
    set_property(TEST ${test} APPEND PROPERTY FIXTURES_REQUIRED vigil_suite)
  endforeach()
endfunction()

# vigil_test(NAME DEPS ... [OPTIMIZED]): tests/<NAME>/*.cpp as one GoogleTest executable
# test_<NAME>. Test files compile at -O0; the libraries they test keep the preset's flags. Under the
# sanitizers, code generation is most of a test file's cost (tests/cib/crmsh_test.cpp: 13.6 CPU s
# at -O1, 7.7 at -O0), and test code is not where a test's time goes. OPTIMIZED keeps the preset's
# flags, for tests whose own files hold a simulator (tests/controller). Every -O0 test shares one
# precompiled gtest/gmock (GCC's PCH must match the -O level; one each cost about 9 CPU s).
function(vigil_test name)
  cmake_parse_arguments(T "OPTIMIZED" "" "DEPS" ${ARGN})
  file(GLOB srcs CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/tests/${name}/*.cpp)
  add_executable(test_${name} ${srcs})
  target_link_libraries(test_${name} PRIVATE ${T_DEPS} GTest::gtest GTest::gmock GTest::gtest_main)
  if(T_OPTIMIZED)
    target_precompile_headers(test_${name} PRIVATE <gtest/gtest.h> <gmock/gmock.h>)
  else()
    vigil_test_pch()
    target_compile_options(test_${name} PRIVATE -O0)
    target_precompile_headers(test_${name} REUSE_FROM vigil_test_pch)
  endif()
  target_compile_definitions(test_${name} PRIVATE
    VIGIL_SOURCE_DIR="${PROJECT_SOURCE_DIR}"
    VIGIL_SHARED_DIR="${VIGIL_SHARED}"
    VIGIL_BINARY_DIR="${PROJECT_BINARY_DIR}")
  gtest_discover_tests(test_${name} DISCOVERY_TIMEOUT 120
                       PROPERTIES LABELS ${name} FIXTURES_REQUIRED vigil_suite)
  vigil_suite_tests()
endfunction()

function(vigil_test_pch)
  if(TARGET vigil_test_pch)
    return()
  endif()
  file(CONFIGURE OUTPUT ${PROJECT_BINARY_DIR}/vigil_test_pch.cpp CONTENT "")
  add_library(vigil_test_pch OBJECT ${PROJECT_BINARY_DIR}/vigil_test_pch.cpp)
  target_link_libraries(vigil_test_pch PRIVATE GTest::gtest GTest::gmock)
  target_compile_options(vigil_test_pch PRIVATE -O0)
  target_precompile_headers(vigil_test_pch PRIVATE <gtest/gtest.h> <gmock/gmock.h>)
endfunction()

# vigil_output_test(NAME EXIT CODE OUTPUT REGEX COMMAND ...): passes when COMMAND exits with CODE,
# its output matches REGEX and no process it started wrote a sanitizer report (tests/expect.cmake).
function(vigil_output_test name)
  cmake_parse_arguments(T "" "EXIT;OUTPUT" "COMMAND" ${ARGN})
  add_test(NAME ${name}
           COMMAND ${CMAKE_COMMAND} -DEXIT=${T_EXIT} -DOUTPUT=${T_OUTPUT}
                   -DREPORTS=${CMAKE_CURRENT_BINARY_DIR}/${name}.reports
                   -P ${PROJECT_SOURCE_DIR}/tests/expect.cmake -- ${T_COMMAND})
  vigil_suite_tests()
endfunction()

# vigil_fuzz(NAME DEPS ...): fuzz/<NAME>/<NAME>.cpp defines LLVMFuzzerTestOneInput.
# With VIGIL_FUZZ (clang) it is a libFuzzer binary; otherwise it links a small replay driver
# (fuzz/replay_main.cpp) and runs as a bounded deterministic test, so the target always compiles.
function(vigil_fuzz name)
  cmake_parse_arguments(F "" "" "DEPS" ${ARGN})
  add_executable(fuzz_${name} ${PROJECT_SOURCE_DIR}/fuzz/${name}/${name}.cpp)
  target_link_libraries(fuzz_${name} PRIVATE ${F_DEPS} vigil_common)
  set_property(GLOBAL APPEND PROPERTY VIGIL_FUZZERS fuzz_${name})
  vigil_suite_tests()
  if(VIGIL_FUZZ)
    target_compile_options(fuzz_${name} PRIVATE -fsanitize=fuzzer,address,undefined)
    target_link_options(fuzz_${name} PRIVATE -fsanitize=fuzzer,address,undefined)
  else()
    # One object file of the driver for every target, not one compile of it per target.
    if(NOT TARGET vigil_fuzz_replay)
      add_library(vigil_fuzz_replay OBJECT ${PROJECT_SOURCE_DIR}/fuzz/replay_main.cpp)
      target_link_libraries(vigil_fuzz_replay PRIVATE vigil_common)
    endif()
    target_link_libraries(fuzz_${name} PRIVATE vigil_fuzz_replay)
    add_test(NAME fuzz_replay_${name}
             COMMAND fuzz_${name} ${PROJECT_SOURCE_DIR}/fuzz/${name}/corpus)
    set_tests_properties(fuzz_replay_${name} PROPERTIES LABELS fuzz TIMEOUT 300)
    # A real libFuzzer run, when scripts/test.sh built the clang fuzz tree beside this one (it sets
    # VIGIL_FUZZ_DIR empty for FUZZ_SECONDS=0, so a reused build tree drops these tests).
    if(VIGIL_FUZZ_DIR)
      # New inputs go to a scratch corpus in the build tree; the checked-in one is only read.
      set(scratch ${PROJECT_BINARY_DIR}/fuzz-corpus/${name})
      file(MAKE_DIRECTORY ${scratch})
      add_test(NAME fuzz_${name}
               COMMAND ${VIGIL_FUZZ_DIR}/fuzz/${name}/fuzz_${name} -max_total_time=${VIGIL_FUZZ_SECONDS}
                       -rss_limit_mb=2048 -timeout=30 -print_final_stats=1
                       ${scratch} ${PROJECT_SOURCE_DIR}/fuzz/${name}/corpus)
      set_tests_properties(fuzz_${name} PROPERTIES LABELS fuzz TIMEOUT 600)
    endif()
  endif()
endfunction()
