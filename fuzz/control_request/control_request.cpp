// A whole control request as vigild meets it: the bytes are a request's JSON body, framed as
// version 1 and decoded as the socket does (or, when they begin with version 2's byte, a whole
// version-2 frame: JSON and raw bytes, control/frame.h), decoded into its typed request, handled
// where the handler needs no socket (cib_query and cib_commit against a CIB, history_query against
// a journal, cpg_send's group and data queued as the events a reader gets, cpg_read answered from a
// queue), and the answer encoded in the request's version as the socket would send it. Nothing may
// throw or crash; every answer encodes and decodes back as a JSON object, and a message's bytes
// come back as sent.
#include <cstdint>
#include <string_view>

#include "../cib_fixture.h"
#include "cib/op.h"
#include "control/group_events.h"
#include "control/request.h"
#include "history/history.h"

namespace {

using vigil::control::Json;

Json answer(const vigil::control::Request& request) {
  namespace control = vigil::control;
  const auto& cib = vigil::fuzz::fixture_cib();
  if (const auto* query = std::get_if<control::CibQuery>(&request)) {
    auto out = control::cib_query_answer(cib, cib.content_digest(), true, *query);
    return out ? *out : Json{{"ok", false}, {"error", out.error().message}};
  }
  if (const auto* commit = std::get_if<control::CibCommit>(&request)) {
    auto applied = vigil::cib::apply(cib, commit->op);
    if (!applied) return Json{{"ok", false}, {"error", applied.error().message}};
    VIGIL_ASSERT(vigil::cib::check_document(*applied).ok());
    return control::cib_commit_answer(*applied);
  }
  if (const auto* history = std::get_if<control::HistoryQuery>(&request)) {
    static const vigil::history::Journal journal = [] {
      vigil::history::Journal j(8);
      for (const auto& e : vigil::history::view_events(std::nullopt, {{"n1", "n2"}, true}, 1000))
        j.add(e);
      return j;
    }();
    return vigil::history::query_answer(journal,
                                        {history->since_ms, history->resource, history->node});
  }
  if (const auto* sent = std::get_if<control::CpgSend>(&request)) {
    control::GroupEvents events;
    const vigil::groups::Member member{1, 2};
    events.push(vigil::groups::GroupChange{sent->group, {member}, {member}, {},
                                           vigil::groups::Reason::Join});
    events.push(vigil::groups::GroupMessage{sent->group, member, sent->data});
    VIGIL_ASSERT(!events.congested());
    return events.take();
  }
  if (const auto* read = std::get_if<control::CpgRead>(&request)) {
    VIGIL_ASSERT(read->wait >= 0 && read->wait <= control::kMaxReadWait);
    return control::GroupEvents().take();
  }
  return Json{{"ok", true}, {"command", std::string(control::command_of(request))}};
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace control = vigil::control;
  if (size > 1 << 20) return 0;
  const bool raw = size > 0 && data[0] == control::kPayloadVersion;
  std::vector<std::uint8_t> frame;
  if (!raw) {
    frame.resize(control::kFrameHeader);
    frame[0] = control::kVersion;
    for (int i = 0; i < 4; ++i) frame[4 + i] = static_cast<std::uint8_t>(size >> (8 * i));
  }
  frame.insert(frame.end(), data, data + size);
  auto decoded = control::decode_frame(frame);
  VIGIL_ASSERT(decoded.ok() || decoded.error().message.rfind("control: ", 0) == 0);
  if (!decoded.ok()) return 0;
  if (!decoded->has_value()) {
    VIGIL_ASSERT(raw);  // a version-2 input may stop short of its lengths
    return 0;
  }
  const auto version = (*decoded)->version;
  auto request = control::decode_request((*decoded)->body);
  const Json reply =
      request ? answer(*request) : Json{{"ok", false}, {"error", request.error().message}};
  auto encoded = control::encode_frame(reply, version);
  VIGIL_ASSERT(encoded.ok());
  auto back = control::decode_frame(*encoded);
  VIGIL_ASSERT(back.ok() && back->has_value() && (*back)->body.is_object());
  VIGIL_ASSERT((*back)->version == version);
  if (const auto* sent = request ? std::get_if<control::CpgSend>(&*request) : nullptr) {
    const auto& got = (*back)->body["events"][1]["data"];
    VIGIL_ASSERT(version == control::kVersion
                     ? got.is_string()
                     : static_cast<const std::vector<std::uint8_t>&>(got.get_binary()) ==
                           sent->data);
  }
  return 0;
}
