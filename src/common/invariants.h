// Invariant checks of the pure cores: each core's check_invariants() runs after every step of it
// wherever NDEBUG is not set (the debug and ci presets leave it unset) or VIGIL_INVARIANTS is
// defined (cmake -DVIGIL_INVARIANTS=ON, for an optimised simulator run). A failed check is our own
// bug: VIGIL_ASSERT, abort.
#pragma once

namespace vigil {

#if !defined(NDEBUG) || defined(VIGIL_INVARIANTS)
inline constexpr bool kCheckInvariants = true;
#else
inline constexpr bool kCheckInvariants = false;
#endif

// Checks `core` when the step that made it returns, whichever way it returns.
template <class Core>
class CheckedStep {
 public:
  explicit CheckedStep(const Core& core) : core_(core) {}
  ~CheckedStep() {
    if constexpr (kCheckInvariants) core_.check_invariants();
  }
  CheckedStep(const CheckedStep&) = delete;
  CheckedStep& operator=(const CheckedStep&) = delete;

 private:
  const Core& core_;
};

// std::visit over a set of lambdas, one per alternative: a missing one fails to compile.
template <class... F>
struct Overloaded : F... {
  using F::operator()...;
};
// Spelled out for clang before 17, which does not deduce an aggregate's arguments (P1816).
template <class... F>
Overloaded(F...) -> Overloaded<F...>;

}  // namespace vigil
