// The CIB address lookup (an XPath or "id:X", from a cib_query's xpath or an op's address): any
// bytes select elements or give an error, never a crash; an address holding a NUL byte is refused
// (pugixml would read only up to it and act on another address); "id:X" finds X.
#include <cstdint>
#include <string>

#include "../cib_fixture.h"
#include "cib/op.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace vigil::cib;
  const std::string address(reinterpret_cast<const char*>(data), size);
  const Cib& cib = vigil::fuzz::fixture_cib();
  auto nodes = select(cib, address);
  if (address.find('\0') != std::string::npos) VIGIL_ASSERT(!nodes.ok());
  if (!nodes) return 0;
  for (const auto& n : *nodes) {
    VIGIL_ASSERT(n.type() == pugi::node_element);
    (void)element_xml(n);
  }
  auto one = resolve(cib, address);
  VIGIL_ASSERT(one.ok() == (nodes->size() == 1));
  if (address.rfind("id:", 0) == 0 && one.ok())
    VIGIL_ASSERT(address.substr(3) == one->attribute("id").value());
  return 0;
}
