// Build identity: version and git hash, fixed at configure time.
#pragma once

#include <string>

namespace kiln {

/// "0.1.0".
[[nodiscard]] std::string version();
/// Short git hash of the source tree at configure time, "unknown" outside a checkout.
[[nodiscard]] std::string git_hash();

}  // namespace kiln
