// The rules every held, stored or sent CIB obeys (check_document): parse() refuses a document
// that breaks them and apply() an op that would produce one, so nothing that vigild could not
// read back or answer with is ever persisted or replicated.
#include <gtest/gtest.h>

#include "cib/op.h"
#include "cib/parse_in_place.h"
#include "cib/replica.h"

namespace vigil::cib {
namespace {

std::string with_resources(const std::string& resources) {
  return "<cib admin_epoch=\"0\" epoch=\"1\" num_updates=\"0\"><configuration><crm_config/>"
         "<nodes/><resources>" +
         resources + "</resources><constraints/></configuration><status/></cib>";
}

std::string error_of(const Result<Cib>& r) {
  return r ? std::string("accepted") : r.error().message;
}

// &#xD800; is a surrogate: pugixml stores it as bytes that are not UTF-8, which no JSON reply can
// carry (vigild aborted on every cib_query once such a change was committed).
TEST(CibDocument, ASurrogateOrControlCharacterIsRefusedByParseAndApply) {
  for (const std::string bad : {"&#xD800;", "&#xDFFF;", "&#1;", "&#xFFFE;"}) {
    const std::string xml = with_resources("<primitive id=\"a\" class=\"ocf\" provider=\"heartbeat\" "
                                           "type=\"Dummy\" description=\"" + bad + "\"/>");
    EXPECT_NE(error_of(Cib::parse(xml)).find("attribute 'description' of <primitive id='a'>"),
              std::string::npos)
        << bad;
    const CibOp op{{CibChange::create(
        "/cib/configuration/resources",
        "<primitive id=\"b\" class=\"ocf\" provider=\"heartbeat\" type=\"Dummy\">" + bad +
            "</primitive>")}};
    EXPECT_NE(error_of(apply(Cib(), op)).find("the text in <primitive id='b'>"), std::string::npos)
        << bad;
  }
  // Raw bytes that are not UTF-8, and an overlong form.
  for (const std::string bad : {"\xff", "\xc0\xaf", "\xed\xa0\x80", "\xe2\x82"}) {
    EXPECT_FALSE(Cib::parse(with_resources("<primitive id=\"a" + bad + "\"/>"))) << bad;
  }
  EXPECT_TRUE(Cib::parse(with_resources(
      "<primitive id=\"caf\xc3\xa9\" class=\"ocf\" provider=\"heartbeat\" type=\"Dummy\" "
      "description=\"\xf0\x9f\x90\x98 &#x10FFFF; tab&#9;\"/>")));
}

// Deleting a required section was acknowledged, then the next start refused the CIB and fell back
// to an older copy, losing acknowledged changes.
TEST(CibDocument, AnOpCannotRemoveARequiredSection) {
  for (const std::string address :
       {"/cib/configuration", "/cib/status", "/cib/configuration/crm_config",
        "/cib/configuration/nodes", "/cib/configuration/resources",
        "/cib/configuration/constraints"}) {
    auto r = apply(Cib(), CibOp{{CibChange::remove(address)}});
    EXPECT_NE(error_of(r).find("invalid CIB"), std::string::npos) << address << ": " << error_of(r);
  }
  EXPECT_FALSE(apply(Cib(), CibOp{{CibChange::create("/cib", "<status/>")}}));
  EXPECT_FALSE(apply(Cib(), CibOp{{CibChange::replace("/cib", "<cib><configuration/></cib>")}}));
  EXPECT_TRUE(apply(Cib(), CibOp{{CibChange::create("/cib/configuration", "<rsc_defaults/>")}}));
}

TEST(CibDocument, ParseNeedsTheSectionsAndAddsAMissingStatus) {
  EXPECT_NE(error_of(Cib::parse("<cib><configuration><crm_config/><nodes/><resources/>"
                                "</configuration></cib>"))
                .find("<configuration> has no <constraints>"),
            std::string::npos);
  EXPECT_FALSE(Cib::parse("<cib/><cib/>"));
  auto ok = Cib::parse(
      "<cib><configuration><crm_config/><nodes/><resources/><constraints/></configuration></cib>");
  ASSERT_TRUE(ok) << ok.error().message;
  EXPECT_TRUE(ok->status());
}

// pugixml reads up to a NUL: "id:a\0b" selected the element "a".
TEST(CibDocument, AnAddressOrXmlWithANulByteIsRefused) {
  auto cib = apply(Cib(), CibOp{{CibChange::create("/cib/configuration/resources",
                                                   "<primitive id=\"a\" class=\"ocf\" "
                                                   "provider=\"heartbeat\" type=\"Dummy\"/>")}});
  ASSERT_TRUE(cib);
  EXPECT_FALSE(select(*cib, std::string("id:a\0b", 6)));
  EXPECT_FALSE(apply(*cib, CibOp{{CibChange::remove(std::string("id:a\0b", 6))}}));
  EXPECT_FALSE(apply(*cib, CibOp{{CibChange::remove(std::string("//primitive\0[@id='x']", 21))}}));
  EXPECT_FALSE(apply(*cib, CibOp{{CibChange::create(
                               "/cib/configuration/resources",
                               std::string("<primitive id=\"b\"/>\0<x/>", 25))}}));
  EXPECT_FALSE(Cib::parse(std::string("<cib>\0</cib>", 12)));
}

TEST(CibDocument, NestingIsBoundedBeforeAnythingWalksIt) {
  std::string deep;
  for (int i = 0; i < 100000; ++i) deep += "<x>";
  for (int i = 0; i < 100000; ++i) deep += "</x>";
  EXPECT_NE(error_of(apply(Cib(), CibOp{{CibChange::create("/cib/status", deep)}})).find("levels"),
            std::string::npos);
  EXPECT_NE(error_of(Cib::parse(with_resources(deep))).find("levels"), std::string::npos);
}

// A peer's whole document (a reconciliation's sync) goes through the same rules.
TEST(CibDocument, APeersDocumentThatBreaksTheRulesIsNotAdopted) {
  const groups::Member self{1, 10}, peer{2, 20};
  Replica replica(self, Cib());
  auto deliver = [&](const groups::Member& from, const ReplicaMessage& m) {
    const std::string bytes = encode_message(m);
    return replica.message({"vigil.cib", from, {bytes.begin(), bytes.end()}});
  };
  auto out = replica.change({"vigil.cib", {self, peer}, {self, peer}, {}, groups::Reason::Join});
  ASSERT_EQ(out.send.size(), 1u);  // the lowest member asks for offers
  auto request = decode_message(out.send[0]);
  ASSERT_TRUE(request);
  out = deliver(self, *request);
  ASSERT_EQ(out.send.size(), 1u);  // its own offer
  auto own = decode_message(out.send[0]);
  ASSERT_TRUE(own);
  const RoundId round = std::get<OfferMessage>(*own).round;
  deliver(self, *own);
  deliver(peer, OfferMessage{round, Version{0, 9, 0}, std::string(64, 'f')});
  for (const std::string& poisoned :
       {with_resources("<primitive id=\"a\" description=\"&#xD800;\"/>"),
        std::string("<cib><configuration/><status/></cib>")}) {
    out = deliver(peer, SyncMessage{round, 0, 1, poisoned});
    EXPECT_FALSE(replica.synced());
    EXPECT_FALSE(out.changed);
    ASSERT_EQ(out.warn.size(), 1u);
    EXPECT_NE(out.warn[0].find("the CIB from node 2"), std::string::npos) << out.warn[0];
    EXPECT_EQ(replica.current().version(), Version{});
  }
}

// parse_in_place (vigil simulate's large files) reads what Cib::parse reads and fails with its
// words: a well-formed CIB, one that breaks a rule, bad XML with an entity before the error (the
// in-place text has moved by then), a NUL byte.
TEST(CibDocument, ParsedInPlaceAsParseReadsIt) {
  const std::string good = with_resources(
      "<primitive id=\"a&amp;b\" class=\"ocf\" provider=\"heartbeat\" type=\"Dummy\"/>");
  const std::string broken_rule = with_resources("<primitive id=\"a&#1;\"/>");
  const std::string bad_xml = "<cib a=\"&amp;&amp;\">\n<configuration>\n</cib>";
  const std::string nul = with_resources(std::string("<primitive id=\"a\"/>") + '\0');
  for (const std::string& text : {good, broken_rule, bad_xml, nul}) {
    int reads = 0;
    auto fill = [&](char* into) {
      ++reads;
      std::copy(text.begin(), text.end(), into);
      return true;
    };
    auto in_place = parse_in_place(text.size(), fill, "f.xml");
    auto copied = Cib::parse(text, "f.xml");
    ASSERT_EQ(static_cast<bool>(in_place), static_cast<bool>(copied)) << text;
    if (copied) {
      EXPECT_EQ(in_place->to_xml(), copied->to_xml());
      EXPECT_EQ(reads, 1);
    } else {
      EXPECT_EQ(in_place.error().message, copied.error().message);
    }
  }
  EXPECT_FALSE(parse_in_place(3, [](char*) { return false; }, "f.xml"));
}

// The character rule is checked on the raw text, 32 bytes at a time, before parsing (a large CIB's
// document is not walked again for it): a bad byte at any place in or across those blocks is
// refused in the words the document's walk gives, and a character of 2 to 4 bytes astride two
// blocks is read whole. Too deep a nesting is still the error named before a bad character.
TEST(CibDocument, TheCharacterRuleHoldsAtEveryPlaceOfALongText) {
  auto parse_both = [](const std::string& text) {
    auto copied = Cib::parse(text, "f.xml");
    auto in_place = parse_in_place(
        text.size(), [&](char* into) { return std::copy(text.begin(), text.end(), into), true; },
        "f.xml");
    EXPECT_EQ(error_of(copied), error_of(in_place));
    return error_of(copied);
  };
  const std::string filler(70, 'x');
  for (std::size_t at = 0; at <= filler.size(); ++at) {
    for (const std::string bad : {"\x01", "\xff", "\xc0\xaf", "\xed\xa0\x80", "\xe2\x82"}) {
      std::string value = filler;
      value.insert(at, bad);
      EXPECT_NE(parse_both(with_resources("<primitive id=\"a\" description=\"" + value + "\"/>"))
                    .find("attribute 'description' of <primitive id='a'>"),
                std::string::npos)
          << at;
    }
    for (const std::string good : {"\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x90\x98", "\t\r\n"}) {
      std::string value = filler;
      value.insert(at, good);
      EXPECT_EQ(parse_both(with_resources("<primitive id=\"a\" description=\"" + value + "\"/>")),
                "accepted")
          << at;
    }
  }
  std::string deep;
  for (int i = 0; i < 300; ++i) deep += "<x>";
  deep += "\x01";
  for (int i = 0; i < 300; ++i) deep += "</x>";
  EXPECT_NE(parse_both(with_resources("<primitive id=\"\x01\"/>" + deep)).find("levels"),
            std::string::npos);
}

}  // namespace
}  // namespace vigil::cib
