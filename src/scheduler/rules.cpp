#include "scheduler/rules.h"

#include <algorithm>
#include <charconv>
#include <cstring>
#include <optional>
#include <string_view>
#include <vector>

#include "scheduler/model.h"

namespace vigil::scheduler {

pugi::xml_node resolve_ref(pugi::xml_node node) {
  const char* ref = node.attribute("id-ref").value();
  if (*ref == '\0') return node;
  auto root = node.root();
  auto found = root.find_node([&](pugi::xml_node n) {
    return std::strcmp(n.name(), node.name()) == 0 &&
           std::strcmp(n.attribute("id").value(), ref) == 0;
  });
  return found ? found : node;
}

namespace {

std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

bool read_int(std::string_view s, std::size_t& i, std::size_t digits, int& out) {
  if (i + digits > s.size()) return false;
  auto [p, ec] = std::from_chars(s.data() + i, s.data() + i + digits, out);
  if (ec != std::errc() || p != s.data() + i + digits) return false;
  i += digits;
  return true;
}

std::optional<double> as_number(std::string_view s) {
  double v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

int compare_versions(std::string_view a, std::string_view b) {
  std::size_t i = 0, j = 0;
  while (i < a.size() || j < b.size()) {
    long x = 0, y = 0;
    while (i < a.size() && a[i] != '.') x = x * 10 + (a[i++] - '0');
    while (j < b.size() && b[j] != '.') y = y * 10 + (b[j++] - '0');
    if (x != y) return x < y ? -1 : 1;
    ++i;
    ++j;
  }
  return 0;
}

bool attribute_expression(pugi::xml_node expr, const RuleContext& ctx) {
  std::string attr = expr.attribute("attribute").value();
  std::string op = expr.attribute("operation").value();
  std::string expected = expr.attribute("value").value();
  std::string type = expr.attribute("type").value();
  const std::string* actual = nullptr;
  if (ctx.node_attrs) {
    auto it = ctx.node_attrs->find(attr);
    if (it != ctx.node_attrs->end()) actual = &it->second;
  }
  if (op == "defined") return actual != nullptr;
  if (op == "not_defined") return actual == nullptr;
  if (actual == nullptr) return op == "ne";
  int cmp = 0;
  auto leading_int = [](const std::string& t) -> std::optional<double> {
    long long v = 0;
    auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
    if (ec != std::errc()) return std::nullopt;
    return static_cast<double>(v);
  };
  // Untyped ordering comparisons compare numbers (as Pacemaker's rules do).
  if (type.empty() && (op == "lt" || op == "gt" || op == "lte" || op == "gte")) {
    type = (actual->find('.') != std::string::npos || expected.find('.') != std::string::npos)
               ? "number"
               : "integer";
  }
  std::optional<double> x, y;
  if (type == "integer") {
    x = leading_int(*actual);
    y = leading_int(expected);
  } else if (type == "number") {
    x = as_number(*actual);
    y = as_number(expected);
  }
  if (x && y) {
    cmp = *x < *y ? -1 : (*x > *y ? 1 : 0);
  } else if (type == "version") {
    cmp = compare_versions(*actual, expected);
  } else {
    cmp = actual->compare(expected);
    cmp = cmp < 0 ? -1 : (cmp > 0 ? 1 : 0);
  }
  if (op == "eq") return cmp == 0;
  if (op == "ne") return cmp != 0;
  if (op == "lt") return cmp < 0;
  if (op == "gt") return cmp > 0;
  if (op == "lte") return cmp <= 0;
  if (op == "gte") return cmp >= 0;
  return false;
}

std::int64_t duration_seconds(pugi::xml_node duration) {
  std::int64_t total = 0;
  const std::pair<const char*, std::int64_t> units[] = {
      {"years", 365LL * 86400}, {"months", 30LL * 86400}, {"weeks", 7LL * 86400}, {"days", 86400},
      {"hours", 3600},          {"minutes", 60},          {"seconds", 1}};
  for (const auto& [name, secs] : units) total += duration.attribute(name).as_llong(0) * secs;
  return total;
}

bool date_expression(pugi::xml_node expr, const RuleContext& ctx) {
  std::string op = expr.attribute("operation").value();
  if (op.empty()) op = "in_range";
  std::int64_t now = ctx.now / 1000;
  auto start = parse_iso_date(expr.attribute("start").value());
  auto end = parse_iso_date(expr.attribute("end").value());
  if (op == "gt") return start && now > *start;
  if (op == "lt") return end && now < *end;
  if (op == "in_range") {
    if (!end && start) {
      if (auto d = expr.child("duration")) end = *start + duration_seconds(d);
    }
    if (start && now < *start) return false;
    if (end && now > *end) return false;
    return start || end;
  }
  // date_spec (recurring calendar windows) is not evaluated: it never matches.
  return false;
}

bool expression_matches(pugi::xml_node expr, const RuleContext& ctx) {
  std::string_view name = expr.name();
  if (name == "expression") return attribute_expression(expr, ctx);
  if (name == "date_expression") return date_expression(expr, ctx);
  if (name == "rule") return rule_matches(resolve_ref(expr), ctx);
  return false;
}

}  // namespace

std::optional<std::int64_t> parse_iso_date(std::string_view s) {
  if (s.empty()) return std::nullopt;
  std::size_t i = 0;
  int y = 0, mo = 1, d = 1, h = 0, mi = 0, se = 0;
  if (!read_int(s, i, 4, y)) return std::nullopt;
  if (i < s.size() && s[i] == '-') ++i;
  if (!read_int(s, i, 2, mo)) return std::nullopt;
  if (i < s.size() && s[i] == '-') ++i;
  if (!read_int(s, i, 2, d)) return std::nullopt;
  if (i < s.size() && (s[i] == ' ' || s[i] == 'T')) {
    ++i;
    if (!read_int(s, i, 2, h)) return std::nullopt;
    if (i < s.size() && s[i] == ':') ++i;
    if (i < s.size() && read_int(s, i, 2, mi)) {
      if (i < s.size() && s[i] == ':') ++i;
      if (i < s.size()) read_int(s, i, 2, se);
    }
  }
  std::int64_t offset = 0;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
    int sign = s[i] == '-' ? -1 : 1;
    ++i;
    int oh = 0, om = 0;
    if (read_int(s, i, 2, oh)) {
      if (i < s.size() && s[i] == ':') ++i;
      read_int(s, i, 2, om);
    }
    offset = sign * (oh * 3600 + om * 60);
  }
  return days_from_civil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d)) * 86400 +
         h * 3600 + mi * 60 + se - offset;
}

bool rule_matches(pugi::xml_node rule, const RuleContext& ctx) {
  bool any_or = std::string_view(rule.attribute("boolean-op").value()) == "or";
  bool seen = false;
  for (auto child : rule.children()) {
    std::string_view n = child.name();
    if (n != "expression" && n != "date_expression" && n != "rule") continue;
    seen = true;
    bool m = expression_matches(child, ctx);
    if (any_or && m) return true;
    if (!any_or && !m) return false;
  }
  return !seen || !any_or;
}

void unpack_nvpairs(pugi::xml_node parent, const char* set_name, const RuleContext& ctx,
                    std::map<std::string, std::string>& out) {
  std::vector<std::pair<int, pugi::xml_node>> sets;
  for (auto set : parent.children(set_name)) {
    auto real = resolve_ref(set);
    sets.emplace_back(parse_score(real.attribute("score").value()), real);
  }
  std::stable_sort(sets.begin(), sets.end(),
                   [](const auto& a, const auto& b) { return a.first > b.first; });
  for (const auto& [score, set] : sets) {
    bool ok = true;
    for (auto rule : set.children("rule")) ok = ok && rule_matches(resolve_ref(rule), ctx);
    if (!ok) continue;
    for (auto nv : set.children("nvpair")) {
      auto real = resolve_ref(nv);
      std::string name = real.attribute("name").value();
      if (name.empty()) continue;
      out.emplace(name, real.attribute("value").value());
    }
  }
}

}  // namespace vigil::scheduler
