#include "kiln/core/hash.hpp"

#include <fcntl.h>

#include <vector>

#include "kiln/core/error.hpp"
#include "kiln/core/fs.hpp"

#define XXH_INLINE_ALL
#include <xxhash.h>

namespace kiln {
namespace {

Hash128 from_xxh(XXH128_hash_t h) { return {h.high64, h.low64}; }

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

}  // namespace

std::string Hash128::hex() const {
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string out(32, '0');
    for (int i = 0; i < 16; ++i) {
        out[static_cast<std::size_t>(15 - i)] = kDigits[(high >> (4 * i)) & 0xFU];
        out[static_cast<std::size_t>(31 - i)] = kDigits[(low >> (4 * i)) & 0xFU];
    }
    return out;
}

Hash128 Hash128::from_hex(std::string_view text) {
    if (text.size() != 32) {
        throw DataError("checksum '" + std::string(text) + "' is not 32 hex digits");
    }
    Hash128 h;
    for (std::size_t i = 0; i < 32; ++i) {
        const int v = hex_value(text[i]);
        if (v < 0) {
            throw DataError("checksum '" + std::string(text) + "' is not 32 hex digits");
        }
        std::uint64_t& half = i < 16 ? h.high : h.low;
        half = (half << 4) | static_cast<std::uint64_t>(v);
    }
    return h;
}

Hash128 xxh3_128(const void* data, std::size_t size) { return from_xxh(XXH3_128bits(data, size)); }

std::uint64_t xxh3_64(const void* data, std::size_t size) { return XXH3_64bits(data, size); }

struct Hasher128::State {
    XXH3_state_t state;
};

Hasher128::Hasher128() : state_(std::make_unique<State>()) { reset(); }
Hasher128::~Hasher128() = default;
Hasher128::Hasher128(Hasher128&&) noexcept = default;
Hasher128& Hasher128::operator=(Hasher128&&) noexcept = default;

void Hasher128::reset() { XXH3_128bits_reset(&state_->state); }
void Hasher128::update(const void* data, std::size_t size) {
    XXH3_128bits_update(&state_->state, data, size);
}
Hash128 Hasher128::digest() const { return from_xxh(XXH3_128bits_digest(&state_->state)); }

Hash128 xxh3_128_file(const std::string& path) {
    const fs::Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (fd.get() < 0) throw IoError(errno_message("cannot open '" + path + "'"));
    ::posix_fadvise(fd.get(), 0, 0, POSIX_FADV_SEQUENTIAL);
    // Read, not mapped: a mapped page that cannot be read or allocated (a hole in a file on a
    // full tmpfs, an I/O error) kills the process with SIGBUS; read() reports an error.
    std::vector<char> buffer(std::size_t{256} << 10);
    Hasher128 hasher;
    for (;;) {
        const std::size_t n =
            fs::read_up_to(fd.get(), buffer.data(), buffer.size(), "'" + path + "'");
        hasher.update(buffer.data(), n);
        if (n < buffer.size()) break;
    }
    return hasher.digest();
}

}  // namespace kiln
