// POST /actions as vigild's listener handles it: the bytes a client sends, parsed as a request
// and decided on (page/page.h) against the fixture CIB. Nothing a client sends crashes; only a
// request with the right credentials is obeyed, and what is obeyed applies to the CIB as one op.
// The fuzzer cannot guess a password: when the first byte is odd, the request is logged in as the
// user its last header line names, so the actions themselves get explored too.
#include <sodium.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "../cib_fixture.h"
#include "common/common.h"
#include "page/page.h"

namespace {

const std::vector<std::uint8_t> kKey(64, 0x42);

std::string basic(const std::string& user, const std::string& pass) {
  const std::string plain = user + ":" + pass;
  std::string out(sodium_base64_ENCODED_LEN(plain.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(plain.data()),
                    plain.size(), sodium_base64_VARIANT_ORIGINAL);
  out.resize(out.size() - 1);
  return "Basic " + out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using Outcome = vigil::metrics::ParsedRequest::Outcome;
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto parsed = vigil::metrics::parse_request(bytes);
  if (parsed.outcome != Outcome::Complete) return 0;
  auto& request = parsed.request;
  const bool log_in = size > 0 && (data[0] & 1) != 0 && !request.headers.empty();
  bool logged_in = false;
  if (log_in) {
    const std::string user = request.headers.back().second;
    if (auto pass = vigil::page::password(kKey, user)) {
      request.headers.insert(request.headers.begin(), {"authorization", basic(user, *pass)});
      logged_in = true;
    }
  }
  const auto& cib = vigil::fuzz::fixture_cib();
  const auto off = vigil::page::decide(request, nullptr, &cib, "n1");
  VIGIL_ASSERT(off.status == 403 && off.op.changes.empty());
  const auto d = vigil::page::decide(request, &kKey, &cib, "n1");
  VIGIL_ASSERT(d.status == 200 || d.status == 400 || d.status == 401 || d.status == 403);
  VIGIL_ASSERT(d.challenge == (d.status == 401));
  if (d.status != 200) {
    VIGIL_ASSERT(d.op.changes.empty() && !d.message.empty());
    return 0;
  }
  VIGIL_ASSERT(logged_in && !d.user.empty() && d.action.has_value());
  if (!d.op.changes.empty()) {
    auto applied = vigil::cib::apply(cib, d.op);
    VIGIL_ASSERT(applied.ok());
    VIGIL_ASSERT(applied->root().attribute("update-origin").value() == std::string("n1"));
  }
  return 0;
}
