# The skip check, run by ctest as the cleanup of the fixture every test requires, so after every
# other test of the run: a test that skipped and is not in skips-allowed.txt fails it. A skip
# there must name a prerequisite CI does not have; anything else that skips is a regression
# hiding as a skip. ctest itself lists the skipped tests at the end of its summary.
#
#   cmake -DBINARY_DIR=<build dir> -DALLOWED=<skips-allowed.txt> -DCTEST=<ctest> -P skips.cmake
#
# What ran is read from ctest's log of the run under way (Testing/Temporary/LastTest.log.tmp;
# ctest renames it to LastTest.log when the run ends): each test's entry names it, and a skip
# says "Skip regular expression found". A skip by return code is logged as a pass, so no test may
# use SKIP_RETURN_CODE; and a test outside the fixture could run after this check: both are
# refused here, from ctest's own listing of the tests.
cmake_minimum_required(VERSION 3.25)

function(fail why)
  message(FATAL_ERROR "skip check: ${why}")
endfunction()

# name → reason, from the allowed list ("<ctest name><TAB><reason>", # comments).
function(read_allowed)
  file(STRINGS "${ALLOWED}" lines)
  set(names "")
  foreach(line IN LISTS lines)
    if(line MATCHES "^#" OR line STREQUAL "")
      continue()
    endif()
    if(NOT line MATCHES "^([^\t]+)\t+(.+)$")
      fail("${ALLOWED}: '${line}' is not '<test name><TAB><reason>'")
    endif()
    list(APPEND names "${CMAKE_MATCH_1}")
    set("reason_${CMAKE_MATCH_1}" "${CMAKE_MATCH_2}" PARENT_SCOPE)
  endforeach()
  set(allowed_names "${names}" PARENT_SCOPE)
endfunction()

# The tests of this run that skipped, each with the lines of its output that say why.
function(read_skipped log)
  if(NOT EXISTS "${log}")
    fail("no ctest log of this run at ${log}: run this check through ctest")
  endif()
  file(READ "${log}" text)
  # One list item a line: backslashes, semicolons and brackets, which a CMake list treats
  # specially, become slashes, commas and parentheses first.
  string(REPLACE "\\" "/" text "${text}")
  string(REPLACE ";" "," text "${text}")
  string(REPLACE "[" "(" text "${text}")
  string(REPLACE "]" ")" text "${text}")
  string(REPLACE "\n" ";" lines "${text}")
  set(skipped "")
  set(current "")
  set(why "")
  set(keep 0)
  foreach(line IN LISTS lines)
    if(line MATCHES "^[0-9]+/[0-9]+ Testing: (.+)$")
      set(current "${CMAKE_MATCH_1}")
      set(why "")
      set(keep 0)
    elseif(line MATCHES "^Skip regular expression found in output")
      list(APPEND skipped "${current}")
      set("why_${current}" "${why}" PARENT_SCOPE)
    elseif(line MATCHES "Skipped$|SKIP: ")
      string(APPEND why "    ${line}\n")
      set(keep 2)
    elseif(line MATCHES "^<end of output>")
      set(keep 0)
    elseif(keep GREATER 0 AND NOT line MATCHES "^\\(  SKIPPED \\)")
      string(APPEND why "    ${line}\n")
      math(EXPR keep "${keep} - 1")
    endif()
  endforeach()
  set(skipped_names "${skipped}" PARENT_SCOPE)
endfunction()

# Every test but this one must require the fixture and skip only by a regular expression.
function(check_wiring)
  set(scratch "${BINARY_DIR}/skip-check")
  file(REMOVE_RECURSE "${scratch}")
  file(MAKE_DIRECTORY "${scratch}")
  # ctest run in the build directory would write its own log over this run's: it runs in a
  # scratch directory that includes the build directory's tests.
  file(WRITE "${scratch}/CTestTestfile.cmake" "subdirs(\"${BINARY_DIR}\")\n")
  execute_process(COMMAND "${CTEST}" --show-only=json-v1 WORKING_DIRECTORY "${scratch}"
                  OUTPUT_VARIABLE json RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    fail("ctest --show-only=json-v1 failed (${rc})")
  endif()
  string(JSON count LENGTH "${json}" tests)
  math(EXPR last "${count} - 1")
  set(bad "")
  foreach(i RANGE ${last})
    string(JSON test GET "${json}" tests ${i})
    string(JSON name GET "${test}" name)
    # (A <target>_NOT_BUILT placeholder, for a test binary not built, fails whenever it runs.)
    if(name STREQUAL "skips_allowed" OR name MATCHES "_NOT_BUILT$")
      continue()
    endif()
    string(JSON props ERROR_VARIABLE none GET "${test}" properties)
    if(props MATCHES "\"SKIP_RETURN_CODE\"")
      string(APPEND bad "  ${name}: skips by SKIP_RETURN_CODE, which ctest logs as a pass; use "
                        "SKIP_REGULAR_EXPRESSION\n")
    endif()
    if(NOT props MATCHES "\"FIXTURES_REQUIRED\"[^]]*\"vigil_suite\"")
      string(APPEND bad "  ${name}: does not require the fixture vigil_suite, so it may run after "
                        "this check (vigil_suite_tests() in its directory)\n")
    endif()
  endforeach()
  file(REMOVE_RECURSE "${scratch}")
  if(bad)
    fail("tests this check cannot see:\n${bad}")
  endif()
endfunction()

read_allowed()
read_skipped("${BINARY_DIR}/Testing/Temporary/LastTest.log.tmp")
check_wiring()

set(unexpected "")
foreach(name IN LISTS skipped_names)
  if(name IN_LIST allowed_names)
    message("skipped (allowed: ${reason_${name}}): ${name}")
  else()
    message("skipped, NOT ALLOWED: ${name}\n${why_${name}}")
    list(APPEND unexpected "${name}")
  endif()
endforeach()
list(LENGTH skipped_names skipped)
list(LENGTH unexpected bad)
message("${skipped} test(s) skipped, ${bad} not in ${ALLOWED}")
if(bad GREATER 0)
  fail("a skip not in the allowed list is a failure: make the test pass, or add it to \
${ALLOWED} naming the prerequisite CI lacks")
endif()
