# Runs a command and passes when all three hold: it exits with EXIT, its output (standard output
# and error together) matches the regular expression OUTPUT, and no process it started wrote an
# ASan/UBSan/LSan report. ctest's PASS_REGULAR_EXPRESSION alone ignores the exit status, so a
# crash, or a sanitizer report at exit, after the expected line passed.
#
#   cmake -DEXIT=<code> -DOUTPUT=<regex> -DREPORTS=<dir> -P expect.cmake -- <command> [args…]
#
# Every sanitized process below it (vigild, vigil, vigil-webserver…) writes its reports to
# REPORTS/report.<pid> (log_path), read here: a daemon's report counts even when the daemon is
# killed later or its log is removed.
cmake_minimum_required(VERSION 3.25)

set(command "")
set(after 0)
math(EXPR last "${CMAKE_ARGC} - 1")
foreach(i RANGE 1 ${last})
  if(after)
    list(APPEND command "${CMAKE_ARGV${i}}")
  elseif("${CMAKE_ARGV${i}}" STREQUAL "--")
    set(after 1)
  endif()
endforeach()
if(NOT command OR NOT DEFINED EXIT OR NOT DEFINED OUTPUT OR NOT REPORTS)
  message(FATAL_ERROR "usage: cmake -DEXIT=… -DOUTPUT=… -DREPORTS=… -P expect.cmake -- command…")
endif()

file(REMOVE_RECURSE "${REPORTS}")
file(MAKE_DIRECTORY "${REPORTS}")
foreach(tool ASAN UBSAN LSAN)
  set(options "$ENV{${tool}_OPTIONS}")
  if(options)
    string(APPEND options ":")
  endif()
  set(ENV{${tool}_OPTIONS} "${options}log_path=${REPORTS}/report")
endforeach()

execute_process(COMMAND ${command} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
message("${out}")

set(failures "")
if(NOT "${rc}" STREQUAL "${EXIT}")
  string(APPEND failures "exit status ${rc}, expected ${EXIT}\n")
endif()
if(NOT out MATCHES "${OUTPUT}")
  string(APPEND failures "the output does not match: ${OUTPUT}\n")
endif()
file(GLOB reports "${REPORTS}/report*")
foreach(report IN LISTS reports)
  file(READ "${report}" text)
  string(APPEND failures "sanitizer report ${report}:\n${text}\n")
endforeach()
if(failures)
  message(FATAL_ERROR "${failures}")
endif()
file(REMOVE_RECURSE "${REPORTS}")
