// CSV and TSV (RFC 4180 quoting). A column named like a formula ("formula", "composition",
// "pretty_formula", "reduced_formula", "compound", "chemical_formula") makes one record per
// row: its material block and the other columns as typed fields under "custom". Without
// such a column the file is one record naming its columns and row count.
#include <charconv>
#include <cmath>

#include "extract/extractors.hpp"
#include "kiln/core/error.hpp"
#include "kiln/core/text.hpp"
#include "kiln/extract/structure.hpp"

namespace kiln::extract {
namespace {

constexpr std::size_t kMaxRows = 1000000;
constexpr std::size_t kMaxColumns = 1000;

// Splits CSV text into rows of fields; quoted fields may hold separators, quotes ("") and
// newlines. Throws DataError for an unterminated quote.
std::vector<std::vector<std::string>> parse_csv(std::string_view text, char sep) {
    if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
    std::vector<std::vector<std::string>> rows;
    std::vector<std::string> row;
    std::string field;
    bool quoted = false;
    bool field_started = false;
    std::size_t line = 1;
    const auto end_field = [&] {
        row.push_back(std::move(field));
        field.clear();
        field_started = false;
        if (row.size() > kMaxColumns) throw DataError("more than 1000 columns");
    };
    const auto end_row = [&] {
        end_field();
        if (!(row.size() == 1 && row[0].empty())) rows.push_back(std::move(row));
        row.clear();
        if (rows.size() > kMaxRows + 1) throw DataError("more than 1000000 rows");
    };
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (quoted) {
            if (c == '"') {
                if (i + 1 < text.size() && text[i + 1] == '"') {
                    field.push_back('"');
                    ++i;
                } else {
                    quoted = false;
                }
            } else {
                if (c == '\n') ++line;
                field.push_back(c);
            }
        } else if (c == '"' && !field_started) {
            quoted = true;
            field_started = true;
        } else if (c == sep) {
            end_field();
        } else if (c == '\n') {
            ++line;
            end_row();
        } else if (c != '\r') {
            field.push_back(c);
            field_started = true;
        }
    }
    if (quoted) throw DataError("unterminated quoted field (line " + std::to_string(line) + ")");
    if (!field.empty() || !row.empty()) end_row();
    return rows;
}

nlohmann::json typed(const std::string& s) {
    if (s.empty()) return nullptr;
    long long i = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), i);
    if (ec == std::errc() && p == s.data() + s.size()) return i;
    double d = 0;
    auto [p2, ec2] = std::from_chars(s.data(), s.data() + s.size(), d);
    if (ec2 == std::errc() && p2 == s.data() + s.size() && std::isfinite(d)) return d;
    const std::string low = to_lower_ascii(s);
    if (low == "true") return true;
    if (low == "false") return false;
    return escape_invalid_utf8(s);
}

class CsvExtractor final : public Extractor {
public:
    explicit CsvExtractor(std::string name, char sep) : name_(std::move(name)), sep_(sep) {}
    [[nodiscard]] std::string_view name() const override { return name_; }

    [[nodiscard]] std::vector<nlohmann::json> extract(const FileInput& file) const override {
        const auto rows = parse_csv(file.bytes, sep_);
        if (rows.empty()) throw DataError("no header row");
        const auto& header = rows[0];
        std::size_t fcol = header.size();
        for (std::size_t c = 0; c < header.size(); ++c) {
            if (formula_column(header[c])) {
                fcol = c;
                break;
            }
        }
        if (fcol == header.size()) {
            nlohmann::json cols = nlohmann::json::array();
            for (const auto& h : header) cols.push_back(escape_invalid_utf8(h));
            return {{{"custom", {{"columns", cols}, {"rows", rows.size() - 1}}}}};
        }
        std::vector<nlohmann::json> records;
        for (std::size_t r = 1; r < rows.size(); ++r) {
            const auto& row = rows[r];
            nlohmann::json rec;
            nlohmann::json custom = nlohmann::json::object();
            for (std::size_t c = 0; c < header.size() && c < row.size(); ++c) {
                if (c != fcol) custom[escape_invalid_utf8(header[c])] = typed(row[c]);
            }
            rec["custom"] = custom;
            rec["kiln"]["row"] = r;
            if (fcol >= row.size() || row[fcol].empty()) {
                rec["kiln"]["error"] = "row " + std::to_string(r) + ": no formula";
            } else {
                try {
                    rec["material"] = material_block(parse_formula(row[fcol]));
                } catch (const DataError& e) {
                    rec["kiln"]["error"] = "row " + std::to_string(r) + ": " + e.what();
                }
            }
            records.push_back(std::move(rec));
        }
        if (records.empty()) throw DataError("a formula column but no data rows");
        return records;
    }

private:
    std::string name_;
    char sep_;
};

}  // namespace

bool formula_column(const std::string& name) {
    const std::string n = to_lower_ascii(name);
    for (const char* f : {"formula", "composition", "pretty_formula", "reduced_formula", "compound",
                          "chemical_formula"}) {
        if (n == f) return true;
    }
    return false;
}

std::unique_ptr<Extractor> make_csv_extractor() {
    return std::make_unique<CsvExtractor>("csv", ',');
}
std::unique_ptr<Extractor> make_tsv_extractor() {
    return std::make_unique<CsvExtractor>("tsv", '\t');
}

}  // namespace kiln::extract
