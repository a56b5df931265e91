// Without libFuzzer (gcc builds), a fuzz target still runs as a test: every file of its checked-in
// corpus, then a bounded number of seeded mutations of them. The real coverage-guided run is the
// clang build (VIGIL_FUZZ=ON) that scripts/test.sh adds when clang is present.
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "common/common.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

int main(int argc, char** argv) {
  std::vector<std::string> inputs;
  for (int i = 1; i < argc; ++i) {
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(argv[i], ec)) {
      std::ifstream f(e.path(), std::ios::binary);
      inputs.emplace_back(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
    }
  }
  if (inputs.empty()) inputs.emplace_back();
  for (const auto& in : inputs) {
    LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(in.data()), in.size());
  }
  vigil::Rng rng(20261124);
  constexpr int kMutations = 20000;
  for (int i = 0; i < kMutations; ++i) {
    std::string s = inputs[rng.uniform(inputs.size())];
    const int edits = static_cast<int>(rng.between(1, 8));
    for (int e = 0; e < edits; ++e) {
      const auto pos = s.empty() ? 0 : rng.uniform(s.size() + 1);
      switch (rng.uniform(4)) {
        case 0: s.insert(s.begin() + static_cast<long>(pos), static_cast<char>(rng.uniform(256))); break;
        case 1: if (pos < s.size()) s.erase(pos, rng.between(1, 16)); break;
        case 2: if (pos < s.size()) s[pos] = static_cast<char>(rng.uniform(256)); break;
        default: if (!s.empty()) s.insert(pos, s.substr(rng.uniform(s.size()), rng.between(1, 32))); break;
      }
    }
    LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(s.data()), s.size());
  }
  std::printf("replayed %zu corpus inputs and %d mutations\n", inputs.size(), kMutations);
  return 0;
}
