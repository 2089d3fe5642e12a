#include "kiln/core/wire.hpp"

#include <cstring>

#include "kiln/core/error.hpp"

namespace kiln::wire {

void put_u64(std::string& out, std::uint64_t value) {
    char buf[8];
    std::memcpy(buf, &value, 8);
    out.append(buf, 8);
}

void put_bytes(std::string& out, std::string_view bytes) {
    put_u64(out, bytes.size());
    out.append(bytes);
}

std::uint64_t Reader::u64() {
    KILN_ASSERT(pos_ + 8 <= in_.size(), "truncated message between ranks");
    std::uint64_t v = 0;
    std::memcpy(&v, in_.data() + pos_, 8);
    pos_ += 8;
    return v;
}

std::string Reader::bytes() {
    const std::uint64_t n = u64();
    KILN_ASSERT(n <= in_.size() - pos_, "truncated message between ranks");
    std::string s(in_.substr(pos_, n));
    pos_ += n;
    return s;
}

}  // namespace kiln::wire
