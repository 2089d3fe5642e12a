#include "kiln/core/hdf5_lock.hpp"

namespace kiln {

std::recursive_mutex& hdf5_library_mutex() {
    static std::recursive_mutex m;
    return m;
}

}  // namespace kiln
