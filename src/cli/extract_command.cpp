#include <cmath>
#include <iostream>

#include "cli/command_line.hpp"
#include "cli/commands.hpp"
#include "kiln/core/error.hpp"
#include "kiln/core/fs.hpp"
#include "kiln/core/hash.hpp"
#include "kiln/core/text.hpp"
#include "kiln/extract/extractor.hpp"
#include "kiln/extract/format.hpp"
#include "kiln/extract/grouping.hpp"
#include "kiln/extract/magic_probe.hpp"

namespace kiln::cli {

int run_extract(const Args& args) {
    po::options_description o("Options");
    o.add_options()("file", po::value<std::vector<std::string>>()->composing(),
                    "files to read (positional)")(
        "as", po::value<std::string>(),
        "read every file as this format (see `kiln extract --formats`)")(
        "symprec", po::value<double>()->default_value(0.01),
        "spglib symmetry tolerance, Angstrom; 0: no space group (spglib is most of the time of CIF "
        "and POSCAR)")("magic", po::value<std::string>()->default_value("fast"),
                       "libmagic depth: fast or full")(
        "formats", po::bool_switch(), "list the formats that have an extractor and exit")(
        "group", po::bool_switch(),
        "merge the files of one VASP run (same directory and name suffix) into one record, as "
        "MDF Connect does")("group-by-dir", po::bool_switch(),
                            "merge the files of each directory into one record");
    po::positional_options_description pos;
    pos.add("file", -1);
    const CommandLine cl = parse_command_line("extract", args, o, pos);
    if (cl.print_config) return 0;
    if (cl.help) {
        print_help(
            "extract", "FILE... [options]",
            "Prints one JSON line per record with the MDF blocks nested as in MDF's schema:\n"
            "files[] (name, length, MIME type, description, xxh3), material, crystal_structure,\n"
            "dft, ..., and kiln {path, format, error}. A file that cannot be read still gets\n"
            "its generic fields and an error; the exit code is then 65. With --group (VASP\n"
            "runs) or --group-by-dir, the files of a group give one record, kiln.format\n"
            "vasp-run or directory, kiln.members naming them.",
            o);
        return 0;
    }
    const auto& registry = extract::ExtractorRegistry::builtin();
    if (cl.vm["formats"].as<bool>()) {
        for (const auto& n : registry.names()) std::cout << n << "\n";
        return 0;
    }
    const auto files = cl.vm.count("file") != 0U ? cl.vm["file"].as<std::vector<std::string>>()
                                                 : std::vector<std::string>{};
    if (files.empty()) throw UsageError("kiln extract: no FILE given (see `kiln extract --help`)");
    std::string forced;
    if (cl.vm.count("as") != 0U) {
        forced = cl.vm["as"].as<std::string>();
        if (registry.find(forced) == nullptr) {
            throw UsageError("kiln extract --as '" + forced + "': no such format (have: " + [&] {
                std::string s;
                for (const auto& n : registry.names()) s += (s.empty() ? "" : ", ") + n;
                return s;
            }() + ")");
        }
    }
    const std::string magic_mode = cl.vm["magic"].as<std::string>();
    if (magic_mode != "fast" && magic_mode != "full")
        throw ConfigError("--magic: expected fast or full");
    extract::MagicProbe probe(magic_mode == "full" ? extract::MagicMode::kFull
                                                   : extract::MagicMode::kFast);
    extract::ExtractLimits limits;
    limits.symprec = cl.vm["symprec"].as<double>();
    if (!(limits.symprec >= 0) || !std::isfinite(limits.symprec))
        throw ConfigError("--symprec must be a tolerance >= 0 in Angstrom (0: no space group)");
    int exit_code = 0;
    std::vector<std::vector<nlohmann::json>> per_file;
    per_file.reserve(files.size());
    for (const auto& path : files) {
        const std::string name = escape_invalid_utf8(path);
        std::string bytes;
        try {
            bytes = fs::read_file(path);
        } catch (const IoError& e) {
            if (!fs::is_file(path))
                throw NoInputError("kiln extract: '" + name + "' does not exist");
            throw;
        }
        const auto magic = probe.probe(bytes.data(), bytes.size());
        const std::string format =
            forced.empty()
                ? extract::detect_format(path, magic.mime_type, extract::content_head(path, bytes))
                : forced;
        const nlohmann::json file = {{"filename", name.substr(name.find_last_of('/') + 1)},
                                     {"length", bytes.size()},
                                     {"mime_type", magic.mime_type},
                                     {"data_type", escape_invalid_utf8(magic.description)},
                                     {"checksum", {{"xxh3_128", xxh3_128(bytes).hex()}}}};
        // A VASP 4 POSCAR names no species: the POTCAR or OUTCAR of its run does.
        auto& records = per_file.emplace_back(extract::extract_file(
            path, format, bytes, limits, [&] { return extract::vasp_species_beside(path); }));
        for (auto& r : records) {
            r["files"] = nlohmann::json::array({file});
            r["kiln"]["path"] = name;
            if (r["kiln"].contains("error")) exit_code = static_cast<int>(ExitCode::kDataError);
        }
    }
    // Records in input order; a group's record where its first member was, made of each
    // member's first record (a member's further records follow as they are).
    const bool by_dir = cl.vm["group-by-dir"].as<bool>();
    const auto groups = by_dir || cl.vm["group"].as<bool>() ? extract::group_files(files, by_dir)
                                                            : std::vector<extract::FileGroup>{};
    std::vector<const extract::FileGroup*> group_of(files.size(), nullptr);
    for (const auto& g : groups) {
        for (const std::size_t m : g.members) group_of[m] = &g;
    }
    for (std::size_t i = 0; i < files.size(); ++i) {
        const auto& records = per_file[i];
        std::size_t first = 0;
        if (const auto* g = group_of[i]) {
            first = 1;
            if (g->members.front() == i) {
                std::vector<nlohmann::json> heads;
                for (const std::size_t m : g->members) heads.push_back(per_file[m].front());
                auto merged = extract::merge_records(heads, *g);
                merged["kiln"]["path"] = escape_invalid_utf8(g->path);
                std::cout << merged.dump() << "\n";
            }
        }
        for (std::size_t k = first; k < records.size(); ++k) std::cout << records[k].dump() << "\n";
    }
    return exit_code;
}

}  // namespace kiln::cli
