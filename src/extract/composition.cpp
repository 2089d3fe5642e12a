#include "kiln/extract/composition.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <numeric>

#include "kiln/core/error.hpp"
#include "kiln/extract/element.hpp"

namespace kiln::extract {
namespace {

constexpr int kMaxDepth = 32;
constexpr double kWholeTolerance = 1e-3;
constexpr double kMaxAmount = 1e9;  // no real formula has more; keeps integer maths exact

std::string amount_text(double a) {
    if (a > 1e15) {
        char big[32];
        std::snprintf(big, sizeof big, "%.6g", a);
        return big;
    }
    if (std::fabs(a - std::round(a)) < 1e-8) {
        const auto n = std::llround(a);
        return n == 1 ? std::string() : std::to_string(n);
    }
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.4f", a);
    std::string s = buf;
    while (!s.empty() && s.back() == '0') s.pop_back();
    if (!s.empty() && s.back() == '.') s.pop_back();
    return s;
}

class FormulaParser {
public:
    explicit FormulaParser(std::string_view text) : text_(text) {}

    Composition parse() {
        Composition c = formula(0);
        if (pos_ != text_.size()) fail("unexpected '" + std::string(1, text_[pos_]) + "'");
        if (c.empty()) fail("no element");
        return c;
    }

private:
    [[noreturn]] void fail(const std::string& what) const {
        throw DataError("formula '" + std::string(text_) + "': " + what + " at position " +
                        std::to_string(pos_ + 1));
    }
    [[nodiscard]] bool at_end() const { return pos_ >= text_.size(); }
    [[nodiscard]] char peek() const { return at_end() ? '\0' : text_[pos_]; }
    static bool upper(char c) { return c >= 'A' && c <= 'Z'; }
    static bool lower(char c) { return c >= 'a' && c <= 'z'; }
    static bool digit(char c) { return c >= '0' && c <= '9'; }

    bool hydrate_separator() {
        if (text_.substr(pos_, 2) == "\xC2\xB7") {  // U+00B7 middle dot
            pos_ += 2;
            return true;
        }
        if (peek() == '*' || peek() == '.') {
            ++pos_;
            return true;
        }
        return false;
    }

    // number := digits ('.' digits)? ; returns 1 when absent.
    double number() {
        const std::size_t start = pos_;
        while (digit(peek())) ++pos_;
        if (peek() == '.' && pos_ > start && pos_ + 1 < text_.size() && digit(text_[pos_ + 1])) {
            ++pos_;
            while (digit(peek())) ++pos_;
        }
        if (pos_ == start) return 1.0;
        // from_chars, not stod: a thousand digits is out of range, not an exception escaping.
        double v = 0;
        const auto [end, ec] = std::from_chars(text_.data() + start, text_.data() + pos_, v);
        if (ec != std::errc() || end != text_.data() + pos_ || !std::isfinite(v) || v > kMaxAmount)
            fail("amount larger than 1e9");
        return v;
    }

    Composition formula(int depth) {
        if (depth > kMaxDepth) fail("parentheses nested too deep");
        Composition total;
        double multiplier = 1.0;
        for (;;) {
            const Composition part = sequence(depth);
            for (const auto& [z, a] : part.amounts()) total.add(z, a * multiplier);
            if (!hydrate_separator()) break;
            multiplier = number();  // "CuSO4·5H2O": the 5 multiplies what follows
        }
        return total;
    }

    Composition sequence(int depth) {
        Composition c;
        while (!at_end()) {
            const char ch = peek();
            if (ch == ' ') {
                ++pos_;
                continue;
            }
            if (ch == '(' || ch == '[') {
                const char close = ch == '(' ? ')' : ']';
                ++pos_;
                const Composition inner = formula(depth + 1);
                if (peek() != close) fail(std::string("expected '") + close + "'");
                ++pos_;
                const double n = number();
                for (const auto& [z, a] : inner.amounts()) c.add(z, a * n);
            } else if (upper(ch)) {
                const int z = element();
                c.add(z, number());
            } else {
                break;
            }
        }
        return c;
    }

    int element() {
        // Two-letter symbol when it exists ("Co"), else one letter ("C" in "CO").
        if (pos_ + 1 < text_.size() && lower(text_[pos_ + 1])) {
            const int z2 = atomic_number(text_.substr(pos_, 2));
            if (z2 > 0) {
                pos_ += 2;
                return z2;
            }
        }
        const int z1 = atomic_number(text_.substr(pos_, 1));
        if (z1 == 0 || (pos_ + 1 < text_.size() && lower(text_[pos_ + 1]))) {
            std::size_t end = pos_ + 1;
            while (end < text_.size() && lower(text_[end])) ++end;
            fail("unknown element '" + std::string(text_.substr(pos_, end - pos_)) + "'");
        }
        ++pos_;
        return z1;
    }

    std::string_view text_;
    std::size_t pos_ = 0;
};

// Removes a trailing charge: "^2-", "2-" after '^', "+3", "-", "++".
std::string_view strip_charge(std::string_view f) {
    while (!f.empty() && f.back() == ' ') f.remove_suffix(1);
    if (const auto caret = f.rfind('^'); caret != std::string_view::npos) return f.substr(0, caret);
    std::size_t end = f.size();
    std::size_t k = end;
    while (k > 0 && (f[k - 1] >= '0' && f[k - 1] <= '9')) --k;
    if (k > 0 && k < end && (f[k - 1] == '+' || f[k - 1] == '-')) {
        end = k - 1;  // "Fe+3"
        while (end > 0 && (f[end - 1] == '+' || f[end - 1] == '-')) --end;
        return f.substr(0, end);
    }
    while (end > 0 && (f[end - 1] == '+' || f[end - 1] == '-')) --end;  // "O2-", "Fe++"
    return f.substr(0, end);
}

}  // namespace

void Composition::add(int z, double amount) {
    if (!(amount > 0)) return;
    amounts_[z] += amount;
}

double Composition::num_atoms() const noexcept {
    double n = 0;
    for (const auto& [z, a] : amounts_) n += a;
    return n;
}

std::vector<std::string> Composition::elements() const {
    std::vector<std::string> out;
    for (const auto& [z, a] : amounts_) out.emplace_back(element_symbol(z));
    std::sort(out.begin(), out.end());
    return out;
}

Composition Composition::reduced() const {
    std::vector<long long> ints;
    for (const auto& [z, a] : amounts_) {
        const double r = std::round(a);
        // Amounts past 1e15 (nested multipliers) are not reduced: they do not fit integers.
        if (std::fabs(a - r) > kWholeTolerance || r < 1 || r > 1e15) return *this;
        ints.push_back(static_cast<long long>(r));
    }
    long long g = 0;
    for (const long long n : ints) g = std::gcd(g, n);
    if (g <= 1) return *this;
    Composition out;
    for (const auto& [z, a] : amounts_) out.add(z, std::round(a) / static_cast<double>(g));
    return out;
}

std::string Composition::formula() const {
    std::vector<int> order;
    for (const auto& [z, a] : amounts_) order.push_back(z);
    const bool carbon = amounts_.count(6) == 1;
    std::sort(order.begin(), order.end(), [&](int a, int b) {
        if (carbon) {
            for (const int first : {6, 1}) {
                if (a == first || b == first) return a == first && b != first;
            }
        }
        return element_symbol(a) < element_symbol(b);
    });
    std::string s;
    for (const int z : order) s += std::string(element_symbol(z)) + amount_text(amounts_.at(z));
    return s;
}

std::string Composition::anonymous_formula() const {
    const Composition r = reduced();
    std::vector<double> amounts;
    for (const auto& [z, a] : r.amounts()) amounts.push_back(a);
    std::sort(amounts.begin(), amounts.end());
    std::string s;
    for (std::size_t i = 0; i < amounts.size(); ++i) {
        s += i < 26 ? std::string(1, static_cast<char>('A' + i))
                    : "A" + std::string(1, static_cast<char>('a' + (i - 26) % 26));
        s += amount_text(amounts[i]);
    }
    return s;
}

std::map<int, double> Composition::fractions() const {
    std::map<int, double> f;
    const double n = num_atoms();
    if (n <= 0) return f;
    for (const auto& [z, a] : amounts_) f[z] = a / n;
    return f;
}

Composition parse_formula(std::string_view formula) {
    if (formula.size() > 4096) {
        throw DataError("formula of " + std::to_string(formula.size()) +
                        " characters is too long (limit 4096)");
    }
    return FormulaParser(strip_charge(formula)).parse();
}

}  // namespace kiln::extract
