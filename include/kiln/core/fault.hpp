// Fault injection for crash-consistency tests.
//
// KILN_FAULT=<point>[@<rank>][#<n>] makes the process kill itself with SIGKILL the n-th time
// (default: first) it reaches the named point, on the given rank only (default: any rank).
// Points are named after the commit protocol step they precede, e.g. `shard.before_close`,
// `shard.before_rename`, `shard.after_rename`, `journal.before_append`, `catalog.mid_write`,
// and KIND.before_close / KIND.before_rename / KIND.after_rename for every file written by
// store::h5::write_kiln_file (predictions, result-cache, segment, index).
// Without KILN_FAULT the check is one relaxed atomic load.
#pragma once

#include <string_view>

namespace kiln {

/// Dies with SIGKILL if KILN_FAULT names this point (see above); otherwise returns.
void fault_point(std::string_view point);

}  // namespace kiln
