// The tree of an HDF5 file, read in this process (internal to the extract module).
#pragma once

#include <string_view>

#include <nlohmann/json.hpp>

namespace kiln::extract {

/// {"groups": N, "datasets": N, "tree": [{"path", "type", "shape", "dtype"}...] (at most
/// 1000, then "truncated": true), "named_datatypes": N when any}. Throws DataError for bytes
/// that are no HDF5 file or that HDF5 cannot open or walk. Holds kiln::hdf5_library_mutex().
/// HDF5 may crash on a crafted file: kiln calls this only inside kiln-hdf5-reader.
[[nodiscard]] nlohmann::json read_hdf5_tree(std::string_view bytes);

}  // namespace kiln::extract
