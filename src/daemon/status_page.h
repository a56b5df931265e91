// status_page: the HTML page vigild serves at GET / (status_page.cpp says what it shows).
#pragma once

#include <string_view>

namespace vigil::daemon {

extern const std::string_view kStatusPage;

}  // namespace vigil::daemon
