// xxh3 hashing (the checksum of every record and file kiln writes).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace kiln {

/// A 128-bit xxh3 digest. `hex()` is 32 lowercase hex digits, high half first, the same text
/// as Python's `xxhash.xxh3_128_hexdigest`.
struct Hash128 {
    std::uint64_t high = 0;
    std::uint64_t low = 0;

    [[nodiscard]] std::string hex() const;
    /// Parses 32 hex digits; throws kiln::DataError otherwise.
    static Hash128 from_hex(std::string_view text);
    friend bool operator==(const Hash128&, const Hash128&) = default;
};

/// xxh3-128 of `size` bytes at `data`.
[[nodiscard]] Hash128 xxh3_128(const void* data, std::size_t size);
[[nodiscard]] inline Hash128 xxh3_128(std::string_view bytes) {
    return xxh3_128(bytes.data(), bytes.size());
}
/// xxh3-64 of `size` bytes at `data`.
[[nodiscard]] std::uint64_t xxh3_64(const void* data, std::size_t size);

/// Streaming xxh3-128: `update` any number of times, then `digest`. Not thread-safe; one
/// hasher per stream. Equal to xxh3_128 over the concatenated input.
class Hasher128 {
public:
    Hasher128();
    ~Hasher128();
    Hasher128(Hasher128&&) noexcept;
    Hasher128& operator=(Hasher128&&) noexcept;
    Hasher128(const Hasher128&) = delete;
    Hasher128& operator=(const Hasher128&) = delete;

    void reset();
    void update(const void* data, std::size_t size);
    [[nodiscard]] Hash128 digest() const;

private:
    struct State;
    std::unique_ptr<State> state_;
};

/// xxh3-128 of a whole file, read (not mapped) in 256 KiB blocks. Throws kiln::IoError naming
/// the path.
[[nodiscard]] Hash128 xxh3_128_file(const std::string& path);

}  // namespace kiln
