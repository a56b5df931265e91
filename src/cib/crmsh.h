// crmsh: the grammar of `crm configure`, both ways. parse() turns one command (already split into
// words) into the CibChanges that make it, checked against the current CIB; show() prints the
// configuration as `crm configure show` does, in text that parse() reads back to the same CIB.
//
//   node [ID:|$id=ID] UNAME[:TYPE] [attributes k=v…] [utilization k=v…]
//   primitive ID CLASS:PROVIDER:TYPE|CLASS:TYPE|TYPE [params k=v…] [meta k=v…]
//             [utilization k=v…] [op NAME k=v… [op_params k=v…] [op_meta k=v…]]…
//   group ID RSC… [params k=v…] [meta k=v…]
//   modgroup GROUP add RSC [before|after MEMBER]    modgroup GROUP remove MEMBER
//   clone ID RSC [params k=v…] [meta k=v…]          ms ID RSC [meta k=v…]   (legacy <master>)
//   bundle ID docker|rkt|podman k=v… [network k=v… [port-mapping k=v…]…]
//          [storage [storage-mapping k=v…]…] [meta k=v…] [primitive RSC]
//   location ID RSC [role=ROLE] SCORE: NODE
//   location ID RSC [role=ROLE] rule [$role=ROLE] [SCORE:] EXPR [and|or EXPR]… [rule …]…
//   colocation ID SCORE: RSC[:ROLE] RSC[:ROLE] [node-attribute=A]   (more RSCs, ( ) or [ ]: sets)
//   order ID [KIND:|SCORE:] RSC[:ACTION] RSC[:ACTION] [symmetrical=BOOL]        (sets likewise)
//   property [ID:|$id=ID] k=v…     rsc_defaults [ID:] k=v…     op_defaults [ID:] k=v…
//   property [ID:] --delete NAME…  (and rsc_defaults, op_defaults: crm_attribute --delete)
//   rsc_template ID AGENT …  (then primitive ID @TEMPLATE …)      monitor RSC[:ROLE] INTERVAL[:TIMEOUT]
//   location ID { SETS }|/PATTERN/ …   rules: date lt|gt|in|spec …; params [SCORE:] [rule …] k=v
//   rsc_ticket ID TICKET: RSC[:ROLE]… [loss-policy=P]    tag ID[:] RSC|CONSTRAINT…
//   alert ID PATH [attributes|meta …] [select KIND… [attributes { NAME… }]] [to [{] PATH … [}]]…
//   role ID (read|write|deny) SPEC…   acl_target|acl_group ID ROLE…
//   delete ID…     rename OLD NEW     erase [nodes]     (load and edit: see load())
//
// Errors name the offending word by position ("word 4 ('foo'): …") and nothing is changed.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cib/cib.h"
#include "cib/op.h"

namespace vigil::cib::crmsh {

// Splits a line into words as crmsh's shell does: blanks separate words, "…" and '…' quote,
// a backslash escapes the next character (a backslash-newline joins continuation lines).
Result<std::vector<std::string>> split_words(std::string_view line);

// The commands of a script or of piped input: continuation lines (ending with a backslash) are
// joined, blank lines and # comments dropped. Each entry keeps the number of its first line.
struct Line {
  int number;
  std::string text;
};
std::vector<Line> logical_lines(std::string_view text);

// The commands parse() understands (the editing commands).
bool is_edit_command(std::string_view word);
// Every command word of `configure`, for help and completion.
const std::vector<std::string>& command_names();

// The changes one editing command makes to `cib`.
Result<std::vector<CibChange>> parse(const std::vector<std::string>& words, const Cib& cib);

// `load update|replace|push` and the saving of `edit`: a whole text of commands (as show() prints
// them) as one change. update defines what is new and defines again the objects the text names
// (property sets merge, as crmsh merges them); replace first erases every object but the nodes;
// push is update that also deletes the objects the text leaves out; edit is push over the
// objects of `ids` (else all) that replaces property sets whole. Lines the text repeats word for
// word change nothing; a line may name what a later one defines. Errors name `source`:LINE, and
// then nothing changes.
enum class LoadMethod { update, replace, push, edit };
// The method a `load` names: update, replace or push.
std::optional<LoadMethod> load_method(std::string_view word);
Result<std::vector<CibChange>> load(const Cib& cib, std::string_view text, LoadMethod method,
                                    std::string_view source,
                                    const std::vector<std::string>& ids = {});
// `load xml update|replace|push`: the objects of a CIB document's configuration, each replacing
// the object of its id or added to its section.
Result<std::vector<CibChange>> load_xml(const Cib& cib, std::string_view xml, LoadMethod method,
                                        std::string_view source);

// `configure show [ID…]`: crmsh text, objects sorted as crmsh sorts them (nodes, primitives,
// groups, ms, clones, constraints, properties, rsc_defaults, op_defaults; by id within a kind).
Result<std::string> show(const Cib& cib, const std::vector<std::string>& ids = {});
// `configure show xml [ID…]`: the configuration (or the named objects) as XML.
Result<std::string> show_xml(const Cib& cib, const std::vector<std::string>& ids = {});

// The ids of the objects show() prints, for completion.
std::vector<std::string> object_ids(const Cib& cib);

// What the interactive shell's Tab offers for the word being typed, `prefix`, after the words
// before it on the line: command words first; then, by command, an agent after `primitive ID`,
// the agent's parameters (NAME=) after params, op names after op and op attributes (NAME=) after
// them, the parts of a bundle, and else the ids of the objects. Only candidates that start with
// `prefix`, sorted.
struct CompletionSource {
  std::vector<std::string> ids;     // the objects of the staged CIB
  std::vector<std::string> agents;  // ocf:PROVIDER:TYPE, lsb:NAME…
  // An agent's parameter names (as typed after `primitive ID`), none when it is unknown.
  std::function<std::vector<std::string>(const std::string& agent)> parameters;
};
std::vector<std::string> completions(const std::vector<std::string>& before,
                                     std::string_view prefix, const CompletionSource& source);

// crmsh's ACL xpath shortcuts (`read cib`, `write meta:web:target-role`): whether `key` is one,
// the xpath it stands for with `args`, and the shortcut that describes an xpath, if one does.
bool is_acl_shortcut(std::string_view key);
Result<std::string> acl_shortcut_xpath(std::string_view key, const std::vector<std::string>& args);
std::optional<std::string> acl_shortcut(std::string_view xpath);

// crmsh's quoting of a value: bare when it is made of letters, digits, '_', '.' and '-'.
std::string quote(std::string_view value);

}  // namespace vigil::cib::crmsh
