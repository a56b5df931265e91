#include "common/file.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>

namespace vigil {

Result<std::string> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) return fail(path + ": cannot open: " + std::strerror(errno));
  const std::streamoff size = in.tellg();
  // Pipes have no size and /proc files say 0: those are read as a stream instead.
  if (size <= 0) {
    in.clear();
    in.seekg(0);
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
