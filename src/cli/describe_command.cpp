#include <algorithm>
#include <iostream>

#include "cli/command_line.hpp"
#include "cli/commands.hpp"
#include "kiln/core/error.hpp"
#include "kiln/core/units.hpp"
#include "kiln/store/catalog.hpp"
#include "kiln/store/layout.hpp"

namespace kiln::cli {
namespace {

void print_counts(const char* label, const nlohmann::json& counts, std::size_t limit) {
    std::vector<std::pair<std::uint64_t, std::string>> v;
    for (const auto& [k, n] : counts.items()) v.emplace_back(n.get<std::uint64_t>(), k);
    std::sort(v.begin(), v.end(), [](const auto& a, const auto& b) {
        return a.first != b.first ? a.first > b.first : a.second < b.second;
    });
    std::cout << label << ":\n";
    for (std::size_t i = 0; i < v.size() && i < limit; ++i) {
        std::cout << "  " << v[i].second
                  << std::string(v[i].second.size() < 28 ? 28 - v[i].second.size() : 1, ' ')
                  << v[i].first << "\n";
    }
    if (v.size() > limit) std::cout << "  ... " << v.size() - limit << " more\n";
}

}  // namespace

int run_describe(const Args& args) {
    po::options_description o("Options");
    o.add_options()("data", po::value<std::string>(), "dataset directory (positional)")(
        "json", po::bool_switch(), "print one JSON object: dc, summary, shards");
    po::positional_options_description pos;
    pos.add("data", 1);
    const CommandLine cl = parse_command_line("describe", args, o, pos);
    if (cl.print_config) return 0;
    if (cl.help) {
        print_help("describe", "DATA [--json]",
                   "Prints a dataset's DataCite description with its record, byte and per-format "
                   "counts.",
                   o);
        return 0;
    }
    if (cl.vm.count("data") == 0U) throw UsageError("kiln describe: DATA is required");
    const store::Layout layout(cl.vm["data"].as<std::string>());
    const store::Catalog c = store::read_catalog(layout.catalog());
    if (cl.vm["json"].as<bool>()) {
        nlohmann::json shards = nlohmann::json::array();
        for (const auto& s : c.shards) {
            shards.push_back({{"id", s.id},
                              {"file", s.file},
                              {"records", s.records},
                              {"bytes", s.bytes},
                              {"errors", s.errors},
                              {"checksum", s.checksum.hex()}});
        }
        std::cout << nlohmann::json{{"dataset", layout.root()},
                                    {"kiln_schema_version", c.schema_version},
                                    {"kiln_version", c.kiln_version},
                                    {"created", c.created},
                                    {"dc", c.dc},
                                    {"summary", c.summary},
                                    {"shards", shards}}
                         .dump(2)
                  << "\n";
        return 0;
    }
    const auto& dc = c.dc;
    const auto& sm = c.summary;
    std::cout << "Dataset:     " << layout.root() << "\n";
    if (dc.contains("titles") && !dc["titles"].empty()) {
        std::cout << "Title:       " << dc["titles"][0].value("title", "") << "\n";
    }
    if (dc.contains("creators") && !dc["creators"].empty()) {
        std::cout << "Authors:     ";
        for (std::size_t i = 0; i < dc["creators"].size(); ++i) {
            std::cout << (i > 0 ? "; " : "") << dc["creators"][i].value("creatorName", "");
        }
        std::cout << "\n";
    }
    if (dc.contains("descriptions") && !dc["descriptions"].empty()) {
        std::cout << "Description: " << dc["descriptions"][0].value("description", "") << "\n";
    }
    if (dc.contains("identifier")) {
        std::cout << "DOI:         " << dc["identifier"].value("identifier", "") << "\n";
    }
    std::cout << "Created:     " << c.created << " by kiln " << c.kiln_version << " (schema "
              << c.schema_version << ")\n";
    std::cout << "Source:      " << sm["options"].value("source", "") << "\n";
    std::cout << "Records:     " << sm.value("records", 0) << " from " << sm.value("files", 0)
              << " files, " << sm.value("errors", 0) << " with errors\n";
    std::cout << "Bytes:       " << format_bytes(sm.value("bytes", 0.0)) << " (packed "
              << format_bytes(sm.value("packed_bytes", 0.0)) << ") in " << c.shards.size()
              << " shards\n";
    print_counts("Formats", sm.value("formats", nlohmann::json::object()), 30);
    print_counts("MIME types", sm.value("mime_types", nlohmann::json::object()), 12);
    const auto samples = sm.value("error_samples", nlohmann::json::array());
    if (!samples.empty()) {
        std::cout << "Record errors (first " << samples.size() << "):\n";
        for (const auto& e : samples) {
            std::cout << "  " << e.value("path", "") << ": " << e.value("error", "") << "\n";
        }
    }
    return 0;
}

}  // namespace kiln::cli
