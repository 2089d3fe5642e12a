// One lock for the HDF5 library. Debian's HDF5 is not built thread-safe, and two modules call
// it: store (shards, catalogs, predictions) and extract (the tree of an HDF5 file being
// ingested). Every HDF5 call from a thread that may run beside others holds this lock; it is
// recursive, so layered code may take it again. Core itself does not link HDF5.
#pragma once

#include <mutex>

namespace kiln {

[[nodiscard]] std::recursive_mutex& hdf5_library_mutex();

}  // namespace kiln
