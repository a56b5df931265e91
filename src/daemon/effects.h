// effects: how a service steps its pure core. The core is stepped one input at a time, and its
// output carried out in order; an input that arrives while an output is being carried out (a
// message to ourselves, delivered at once) waits its turn, so sends keep their order.
#pragma once

#include <deque>
#include <functional>

namespace vigil::daemon {

template <class Output>
class Effects {
 public:
  explicit Effects(std::function<void(Output&)> carry_out) : carry_out_(std::move(carry_out)) {}

  void feed(const std::function<Output()>& step) {
    queue_.push_back(step());
    if (applying_) return;
    applying_ = true;
    while (!queue_.empty()) {
      auto out = std::move(queue_.front());
      queue_.pop_front();
      carry_out_(out);
    }
    applying_ = false;
  }

 private:
  std::function<void(Output&)> carry_out_;
  std::deque<Output> queue_;
  bool applying_ = false;
};

}  // namespace vigil::daemon
