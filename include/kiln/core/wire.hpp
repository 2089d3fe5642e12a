// A little binary wire format for messages between ranks: fixed-width little-endian integers
// and length-prefixed byte strings (raw bytes survive, unlike JSON text).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace kiln::wire {

void put_u64(std::string& out, std::uint64_t value);
/// Length-prefixed bytes.
void put_bytes(std::string& out, std::string_view bytes);

/// Reads what put_* wrote, in the same order. Reading past the end throws kiln::Error
/// (exit 70: messages are written by kiln itself, so a short one is a bug).
class Reader {
public:
    explicit Reader(std::string_view in) : in_(in) {}
    std::uint64_t u64();
    std::string bytes();
    /// Everything not read yet.
    std::string_view rest() const noexcept { return in_.substr(pos_); }

private:
    std::string_view in_;
    std::size_t pos_ = 0;
};

}  // namespace kiln::wire
