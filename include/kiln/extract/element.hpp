// Chemical elements by atomic number (Z = 1..118) and symbol.
#pragma once

#include <string_view>

namespace kiln::extract {

inline constexpr int kMaxAtomicNumber = 118;

/// Atomic number of an element symbol ("Fe" -> 26), case-sensitive as chemists write them;
/// 0 when the symbol is not an element. "D" and "T" (hydrogen isotopes) give 1.
[[nodiscard]] int atomic_number(std::string_view symbol) noexcept;
/// Symbol of Z ("Fe" for 26); "" outside 1..118.
[[nodiscard]] std::string_view element_symbol(int z) noexcept;

}  // namespace kiln::extract
