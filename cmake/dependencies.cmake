# Every dependency comes from a Debian package that scripts/setup.sh installs.
find_package(PkgConfig REQUIRED)
pkg_check_modules(SODIUM REQUIRED IMPORTED_TARGET libsodium)
find_package(pugixml REQUIRED)
find_package(CLI11 CONFIG REQUIRED)
find_package(fmt REQUIRED)
find_package(spdlog REQUIRED)
find_package(nlohmann_json REQUIRED)
find_package(Threads REQUIRED)

# Debian's libasio-dev is the standalone, header-only asio.
find_path(ASIO_INCLUDE_DIR asio.hpp REQUIRED)
add_library(vigil_asio INTERFACE)
target_include_directories(vigil_asio SYSTEM INTERFACE ${ASIO_INCLUDE_DIR})
# asio picks std::aligned_alloc only when a libstdc++ header came before its own, so translation
# units disagree about aligned_new/aligned_delete (operator new vs free: an ODR violation ASan
# reports as alloc-dealloc-mismatch). One choice for every translation unit.
target_compile_definitions(vigil_asio INTERFACE ASIO_STANDALONE ASIO_NO_DEPRECATED
                           ASIO_DISABLE_STD_ALIGNED_ALLOC)
target_link_libraries(vigil_asio INTERFACE Threads::Threads)

find_library(READLINE_LIBRARY readline REQUIRED)
find_path(READLINE_INCLUDE_DIR readline/readline.h REQUIRED)
add_library(vigil_readline INTERFACE)
target_include_directories(vigil_readline SYSTEM INTERFACE ${READLINE_INCLUDE_DIR})
target_link_libraries(vigil_readline INTERFACE ${READLINE_LIBRARY})

if(VIGIL_TESTS AND NOT VIGIL_FUZZ)
  find_package(GTest REQUIRED)
  # libxml2's RelaxNG: tests check the CIBs vigil writes against Pacemaker's schema.
  pkg_check_modules(LIBXML2 REQUIRED IMPORTED_TARGET libxml-2.0)
endif()
if(VIGIL_BENCH AND NOT VIGIL_FUZZ)
  find_package(benchmark REQUIRED)
endif()

# The steering data beside the repository (../shared: the guide, reference outputs, the scheduler
# corpus). Tests read it in place and never copy it. A clone elsewhere finds it through
# VIGIL_SHARED (environment or cache) or at the workplace's fixed location.
set(VIGIL_SHARED "$ENV{VIGIL_SHARED}" CACHE PATH "The shared steering directory (../shared)")
if(NOT VIGIL_SHARED)
  foreach(candidate ${PROJECT_SOURCE_DIR}/../shared /work/shared)
    if(EXISTS ${candidate}/DESIGN.md)
      get_filename_component(VIGIL_SHARED ${candidate} REALPATH)
      break()
    endif()
  endforeach()
endif()
if(NOT VIGIL_SHARED)
  message(WARNING "../shared not found: tests that read the guide or the scheduler corpus will fail")
  set(VIGIL_SHARED ${PROJECT_SOURCE_DIR}/../shared)
endif()
