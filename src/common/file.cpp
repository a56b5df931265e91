#include "common/file.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>

namespace vigil {

Result<std::string> read_file(const std::string& path) {
  // Not opened at the end (std::ios::ate): that seek fails on a pipe and the open with it.
  std::ifstream in(path, std::ios::binary);
  if (!in) return fail(path + ": cannot open: " + std::strerror(errno));
  in.seekg(0, std::ios::end);
  const std::streamoff size = in ? std::streamoff(in.tellg()) : std::streamoff(-1);
  // Pipes cannot seek and /proc files say 0: those are read as a stream instead.
  if (size <= 0) {
    in.clear();
    in.seekg(0);
    in.clear();
    std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    if (in.bad()) return fail(path + ": read error: " + std::strerror(errno));
    return text;
  }
  std::string text(static_cast<std::size_t>(size), '\0');
  in.seekg(0);
  if (!in.read(text.data(), static_cast<std::streamsize>(text.size())))
    return fail(path + ": read error: " + std::strerror(errno));
  return text;
}

}  // namespace vigil
