// Fuzz the CIB's reading of XML from disk or a peer: parse, validate, write, show and diff any
// bytes without crashing; an accepted document writes back to one that parses to the same text.
#include <cstdint>
#include <string_view>

#include "cib/crmsh.h"
#include "cib/op.h"
#include "cib/validate.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace vigil::cib;
  auto cib = Cib::parse(std::string_view(reinterpret_cast<const char*>(data), size), "fuzz");
  if (!cib) return 0;
  (void)problems(*cib);
  const std::string xml = cib->to_xml();
  auto again = Cib::parse(xml, "fuzz-again");
  VIGIL_ASSERT(again.ok());
  VIGIL_ASSERT(again->to_xml() == xml);
  (void)crmsh::show(*cib);
  (void)diff(Cib(), *cib);
  return 0;
}
