// kiln search / get / fields / index: Forge-style queries over a dataset's index.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <iostream>

#include "cli/command_line.hpp"
#include "cli/commands.hpp"
#include "kiln/core/error.hpp"
#include "kiln/core/fs.hpp"
#include "kiln/core/log.hpp"
#include "kiln/core/text.hpp"
#include "kiln/index/fields.hpp"
#include "kiln/index/query.hpp"
#include "kiln/index/search.hpp"
#include "kiln/mpi/comm.hpp"
#include "kiln/store/layout.hpp"

namespace kiln::cli {
namespace {

// The comma-separated items of an option value, trimmed, empty ones dropped.
std::vector<std::string> list_option(std::string_view s) {
    std::vector<std::string> out;
    while (!s.empty()) {
        const auto comma = s.find(',');
        const std::string_view item = trim(s.substr(0, comma));
        if (!item.empty()) out.emplace_back(item);
        s = comma == std::string_view::npos ? std::string_view() : s.substr(comma + 1);
    }
    return out;
}

void add_query_options(po::options_description& o) {
    o.add_options()("data", po::value<std::string>(), "dataset directory (positional)")(
        "query", po::value<std::vector<std::string>>()->composing(),
        "query (positional; the words are joined with spaces)")(
        "elements", po::value<std::string>(), "records with all of these elements: Fe,O")(
        "any", po::bool_switch(), "with --elements: any of them instead of all")(
        "source", po::value<std::string>(), "records of this mdf.source_name")(
        "range", po::value<std::vector<std::string>>()->composing(),
        "FIELD:LO:HI, inclusive; an empty bound or * is open (repeatable)")(
        "exists", po::value<std::vector<std::string>>()->composing(),
        "records that have FIELD (repeatable)")("exclude",
                                                po::value<std::vector<std::string>>()->composing(),
                                                "leave out records with FIELD:VALUE (repeatable)")(
        "threads", po::value<int>(), "threads searching shards (default: as for ingest)");
}

// The query with Forge's helper flags joined to it by AND.
std::string build_query(const po::variables_map& vm) {
    std::vector<std::string> clauses;
    std::string q;
    for (const auto& w : get_or(vm, "query", std::vector<std::string>{})) {
        q += (q.empty() ? "" : " ") + w;
    }
    if (q.find_first_not_of(" \t") != std::string::npos) clauses.push_back("(" + q + ")");
    if (vm.count("elements") != 0U) {
        const auto els = list_option(vm["elements"].as<std::string>());
        if (els.empty()) throw UsageError("--elements: expected a list such as Fe,O");
        std::string c;
        for (const auto& e : els) {
            c += (c.empty() ? "" : (vm["any"].as<bool>() ? " OR " : " AND ")) +
                 std::string("material.elements:") + index::quote_value(e);
        }
        clauses.push_back("(" + c + ")");
    } else if (vm["any"].as<bool>()) {
        throw UsageError("--any goes with --elements");
    }
    if (vm.count("source") != 0U) {
        clauses.push_back("mdf.source_name:" + index::quote_value(vm["source"].as<std::string>()));
    }
    for (const auto& r : get_or(vm, "range", std::vector<std::string>{})) {
        const auto a = r.find(':');
        const auto b = a == std::string::npos ? a : r.find(':', a + 1);
        if (a == 0 || b == std::string::npos || r.find(':', b + 1) != std::string::npos) {
            throw UsageError("--range '" + r + "': expected FIELD:LO:HI (e.g. dft.energy:-10:0)");
        }
        std::string lo = r.substr(a + 1, b - a - 1);
        std::string hi = r.substr(b + 1);
        clauses.push_back(r.substr(0, a) + ":[" + (lo.empty() ? "*" : lo) + " TO " +
                          (hi.empty() ? "*" : hi) + "]");
    }
    for (const auto& f : get_or(vm, "exists", std::vector<std::string>{})) {
        clauses.push_back("_exists_:" + f);
    }
    for (const auto& x : get_or(vm, "exclude", std::vector<std::string>{})) {
        const auto a = x.find(':');
        if (a == 0 || a == std::string::npos) {
            throw UsageError("--exclude '" + x + "': expected FIELD:VALUE");
        }
        clauses.push_back("NOT " + x.substr(0, a) + ":" + index::quote_value(x.substr(a + 1)));
    }
    if (clauses.size() == 1 && !q.empty() && clauses.front() == "(" + q + ")") return q;
    std::string out;
    for (const auto& c : clauses) out += (out.empty() ? "" : " AND ") + c;
    return out;
}

// The values of a dotted field in a record: one value, an array of several, or null.
nlohmann::json field_value(const nlohmann::json& record, const std::string& field) {
    nlohmann::json values = nlohmann::json::array();
    index::flatten(record, [&](const index::Leaf& leaf) {
        if (leaf.field != field) return;
        if (leaf.kind == index::ValueKind::kNumber) {
            values.push_back(leaf.number);
        } else if (leaf.kind == index::ValueKind::kBoolean) {
            values.push_back(leaf.text == "true");
        } else {
            values.push_back(std::string(leaf.text));
        }
    });
    if (values.empty()) return nullptr;
    if (values.size() == 1) return values[0];
    return values;
}

std::string cell_text(const nlohmann::json& v) {
    if (v.is_null()) return "-";
    if (v.is_string()) return v.get<std::string>();
    if (v.is_number()) return index::format_number(v.get<double>());
    if (v.is_array()) {
        std::string s;
        for (const auto& x : v) s += (s.empty() ? "" : ",") + cell_text(x);
        return s;
    }
    return v.dump();
}

void print_table(const std::vector<std::string>& header,
                 const std::vector<std::vector<std::string>>& rows) {
    std::vector<std::size_t> width(header.size());
    for (std::size_t c = 0; c < header.size(); ++c) width[c] = header[c].size();
    for (const auto& r : rows) {
        for (std::size_t c = 0; c < r.size(); ++c) width[c] = std::max(width[c], r[c].size());
    }
    const auto line = [&](const std::vector<std::string>& r) {
        std::string s;
        for (std::size_t c = 0; c < r.size(); ++c) {
            s += r[c];
            if (c + 1 < r.size()) s += std::string(width[c] - r[c].size() + 2, ' ');
        }
        std::cout << s << "\n";
    };
    line(header);
    for (const auto& r : rows) line(r);
}

struct Output {
    std::string format = "table";
    std::vector<std::string> fields;
};

void print_hits(const index::Searcher& searcher, const index::SearchResult& result,
                const index::SearchRequest& req, const Output& out) {
    if (out.format == "ids") {
        for (const auto& h : result.page) std::cout << h.id() << "\n";
        return;
    }
    const auto records = searcher.records(result.page);
    std::vector<nlohmann::json> parsed;
    parsed.reserve(records.size());
    for (const auto& r : records) {
        try {
            parsed.push_back(nlohmann::json::parse(r.metadata_json));
        } catch (const nlohmann::json::exception&) {
            throw DataError("record " + std::to_string(r.id) + " (" + r.path +
                            "): stored metadata is not JSON");
        }
    }
    // A field that is not in the stored record (predicted.*, from kiln infer) is shown
    // with the numbers the index holds for it.
    const auto value = [&](std::size_t i, const std::string& f) {
        nlohmann::json v = field_value(parsed[i], f);
        if (!v.is_null()) return v;
        const auto numbers = searcher.indexed_numbers(result.page[i], f);
        if (numbers.size() == 1) return nlohmann::json(numbers[0]);
        return numbers.empty() ? v : nlohmann::json(numbers);
    };
    const auto projected = [&](std::size_t i) {
        if (out.fields.empty()) return parsed[i];
        nlohmann::json p = nlohmann::json::object();
        p["kiln.id"] = result.page[i].id();
        for (const auto& f : out.fields) p[f] = value(i, f);
        return p;
    };
    if (out.format == "paths") {
        for (const auto& r : records) std::cout << r.path << "\n";
    } else if (out.format == "jsonl") {
        for (std::size_t i = 0; i < parsed.size(); ++i) std::cout << projected(i).dump() << "\n";
    } else if (out.format == "json") {
        nlohmann::json results = nlohmann::json::array();
        for (std::size_t i = 0; i < parsed.size(); ++i) results.push_back(projected(i));
        std::cout << nlohmann::json{{"total", result.total},
                                    {"offset", req.offset},
                                    {"limit", req.limit},
                                    {"results", results}}
                         .dump(2)
                  << "\n";
    } else {
        const std::vector<std::string> fields =
            out.fields.empty()
                ? std::vector<std::string>{"kiln.format", "material.composition", "kiln.path"}
                : out.fields;
        std::vector<std::string> header{"kiln.id"};
        header.insert(header.end(), fields.begin(), fields.end());
        std::vector<std::vector<std::string>> rows;
        for (std::size_t i = 0; i < parsed.size(); ++i) {
            std::vector<std::string> row{std::to_string(result.page[i].id())};
            for (const auto& f : fields) row.push_back(cell_text(value(i, f)));
            rows.push_back(std::move(row));
        }
        if (!rows.empty()) print_table(header, rows);
        const std::uint64_t first = rows.empty() ? 0 : req.offset + 1;
        std::cout << result.total << " records match";
        if (!rows.empty()) {
            std::cout << "; showing " << first << "-" << req.offset + rows.size();
        }
        std::cout << " (" << result.shards_searched << " of " << result.shards_total
                  << " shards searched)\n";
    }
}

void print_aggregates(const index::SearchResult& result, const index::SearchRequest& req,
                      const Output& out) {
    const bool json = out.format == "json" || out.format == "jsonl";
    nlohmann::json doc = {{"total", result.total}};
    if (!req.count_by.empty()) {
        nlohmann::json counts = nlohmann::json::array();
        for (const auto& [value, n] : result.count_by)
            counts.push_back({{"value", value}, {"count", n}});
        doc["count_by"] = {{"field", req.count_by}, {"counts", counts}};
        if (!json) {
            std::vector<std::vector<std::string>> rows;
            for (const auto& [value, n] : result.count_by)
                rows.push_back({value, std::to_string(n)});
            print_table({req.count_by, "count"}, rows);
        }
    }
    if (!req.stats.empty()) {
        const auto& s = result.stats;
        const double mean = s.count > 0 ? s.sum / static_cast<double>(s.count) : 0.0;
        doc["stats"] = {{"field", req.stats}, {"count", s.count}};
        if (s.count > 0) {
            doc["stats"]["min"] = s.min;
            doc["stats"]["max"] = s.max;
            doc["stats"]["mean"] = mean;
        }
        if (!json) {
            std::cout << req.stats << ": count " << s.count;
            if (s.count > 0) {
                std::cout << ", min " << index::format_number(s.min) << ", max "
                          << index::format_number(s.max) << ", mean " << index::format_number(mean);
            }
            std::cout << "\n";
        }
    }
    if (json) {
        std::cout << doc.dump(out.format == "json" ? 2 : -1) << "\n";
    } else {
        std::cout << result.total << " records match\n";
    }
}

// Runs the request; under an MPI launcher the candidate shards are split over the ranks and
// rank 0 merges. Returns false on ranks other than 0.
bool run_request(const index::Searcher& searcher, const index::SearchRequest& req,
                 index::SearchResult& result) {
    const mpi::Comm comm = mpi::Comm::world();
    if (comm.size() <= 1) {
        result = searcher.search(req);
        return true;
    }
    log::set_rank(comm.rank());
    if (searcher.uses_merged_index()) {  // one segment answers for every shard: rank 0 reads it
        if (comm.rank() != 0) return false;
        result = searcher.search(req);
        return true;
    }
    const index::PreparedQuery q = searcher.prepare(req);
    const auto shards = searcher.candidate_shards(q);
    nlohmann::json mine = nlohmann::json::array();
    for (std::size_t i = static_cast<std::size_t>(comm.rank()); i < shards.size();
         i += static_cast<std::size_t>(comm.size())) {
        mine.push_back(index::to_json(searcher.search_shard(q, shards[i])));
    }
    const auto parts = comm.gather(mine.dump(), 0);
    if (comm.rank() != 0) return false;
    std::vector<index::ShardResult> all;
    for (const auto& p : parts) {
        for (const auto& r : nlohmann::json::parse(p))
            all.push_back(index::shard_result_from_json(r));
    }
    result = searcher.merge(q, std::move(all), shards.size());
    return true;
}

}  // namespace

int run_search(const Args& args) {
    po::options_description o("Options");
    add_query_options(o);
    o.add_options()("limit", count_value(20),
                    "hits to print; 0 prints every hit (there is no cap)")(
        "offset", count_value(0), "hits to skip first")("sort", po::value<std::string>(),
                                                        "FIELD or FIELD:desc (default: record id)")(
        "fields", po::value<std::string>(), "fields to print: a,b,c (dotted MDF names)")(
        "format", po::value<std::string>()->default_value("table"),
        "table, jsonl, json, paths or ids")("count-by", po::value<std::string>(),
                                            "print value -> record count of FIELD instead of hits")(
        "stats", po::value<std::string>(),
        "print min, max, mean, count of number FIELD instead of hits")(
        "explain", po::bool_switch(), "print the parsed query and the shards it opens, then stop");
    po::positional_options_description pos;
    pos.add("data", 1).add("query", -1);
    const CommandLine cl = parse_command_line("search", args, o, pos, {{"count-by", "stats"}});
    if (cl.print_config) return 0;
    if (cl.help) {
        print_help(
            "search", "DATA [QUERY] [options]",
            "Finds records with the Lucene/Elasticsearch query-string syntax MDF Forge uses:\n"
            "  field:value  field:\"quoted\"  field:prefix*  field:[lo TO hi]  {lo TO *}\n"
            "  _exists_:field  AND OR NOT ( )   (clauses side by side are joined by AND)\n"
            "e.g.  kiln search DATA 'material.elements:Fe AND "
            "crystal_structure.space_group_number:[200 TO 230]'\n"
            "Forge's helpers are flags; they are joined to the query by AND.",
            o);
        return 0;
    }
    const auto& vm = cl.vm;
    if (vm.count("data") == 0U) throw UsageError("kiln search: DATA is required");
    index::SearchRequest req;
    req.query = build_query(vm);
    req.limit = count(vm, "limit");
    req.offset = count(vm, "offset");
    req.threads = threads_option(vm);
    if (vm.count("sort") != 0U) {
        std::string s = vm["sort"].as<std::string>();
        index::SortSpec spec;
        const auto colon = s.rfind(':');
        if (colon != std::string::npos &&
            (s.substr(colon + 1) == "desc" || s.substr(colon + 1) == "asc")) {
            spec.descending = s.substr(colon + 1) == "desc";
            s.resize(colon);
        }
        if (s.empty()) throw UsageError("--sort: expected FIELD or FIELD:desc");
        spec.field = s;
        req.sort = spec;
    }
    req.count_by = get_or(vm, "count-by", std::string{});
    req.stats = get_or(vm, "stats", std::string{});
    Output out;
    out.format = vm["format"].as<std::string>();
    if (out.format != "table" && out.format != "jsonl" && out.format != "json" &&
        out.format != "paths" && out.format != "ids") {
        throw UsageError("--format '" + out.format +
                         "': expected table, jsonl, json, paths or ids");
    }
    if (vm.count("fields") != 0U) out.fields = list_option(vm["fields"].as<std::string>());
    const bool aggregate = !req.count_by.empty() || !req.stats.empty();
    if (aggregate) req.limit = 1;  // only counts are printed; keep per-shard hit lists short
    const index::Searcher searcher(vm["data"].as<std::string>());
    if (vm["explain"].as<bool>()) {
        const auto q = searcher.prepare(req);
        const auto shards = searcher.candidate_shards(q);
        std::cout << "query:  " << index::to_string(q.root) << "\n"
                  << "shards: " << shards.size() << " of " << searcher.dictionary().shard_ids.size()
                  << " can match\n"
                  << "index:  "
                  << (searcher.uses_merged_index() ? "merged (index/merged.h5)"
                                                   : "one segment per shard")
                  << "\n";
        return 0;
    }
    // Resolve names (with suggestions) before any MPI traffic, on every rank alike.
    for (auto& f : out.fields) f = searcher.resolve_field(f);
    index::SearchResult result;
    if (!run_request(searcher, req, result)) return 0;
    if (aggregate) {
        print_aggregates(result, req, out);
    } else {
        print_hits(searcher, result, req, out);
    }
    return 0;
}

namespace {

// Opens (creating) each directory of `relative` under `dir_fd` without following links;
// returns the fd of the last one. Throws on any component that is not a plain directory.
int open_parent_dirs(int dir_fd, const std::vector<std::string>& parts, const std::string& path) {
    int fd = ::dup(dir_fd);
    for (std::size_t i = 0; i + 1 < parts.size(); ++i) {
        if (::mkdirat(fd, parts[i].c_str(), 0777) != 0 && errno != EEXIST) {
            const int e = errno;
            ::close(fd);
            errno = e;
            throw IoError(errno_message("cannot create directory for '" + path + "'"));
        }
        const int next =
            ::openat(fd, parts[i].c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        ::close(fd);
        if (next < 0) {
            throw IoError(errno_message("cannot enter '" + parts[i] + "' for '" + path +
                                        "' (a file or link is in the way)"));
        }
        fd = next;
    }
    return fd;
}

}  // namespace

int run_get(const Args& args) {
    po::options_description o("Options");
    add_query_options(o);
    o.add_options()("to", po::value<std::string>(), "directory to write the files into (required)")(
        "limit", count_value(0), "files at most (0: all)");
    po::positional_options_description pos;
    pos.add("data", 1).add("query", -1);
    const CommandLine cl = parse_command_line("get", args, o, pos);
    if (cl.print_config) return 0;
    if (cl.help) {
        print_help(
            "get", "DATA [QUERY] --to DIR [options]",
            "Writes the files of the matching records out of the packed shards into DIR,\n"
            "keeping their relative paths (archive members as ARCHIVE!/MEMBER). Each file is\n"
            "checked against its xxh3-128; nothing is written outside DIR.",
            o);
        return 0;
    }
    const auto& vm = cl.vm;
    if (vm.count("data") == 0U) throw UsageError("kiln get: DATA is required");
    if (vm.count("to") == 0U) throw UsageError("kiln get: --to DIR is required");
    index::SearchRequest req;
    req.query = build_query(vm);
    req.limit = count(vm, "limit");
    req.threads = threads_option(vm);
    const index::Searcher searcher(vm["data"].as<std::string>());
    index::SearchResult result;
    if (!run_request(searcher, req, result)) return 0;
    const std::string to = vm["to"].as<std::string>();
    fs::make_dirs(to);
    const int root = ::open(to.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (root < 0) throw IoError(errno_message("cannot open --to directory '" + to + "'"));
    std::uint64_t written = 0, bytes = 0, skipped = 0;
    try {
        const auto records = searcher.records(result.page);
        for (std::size_t i = 0; i < records.size(); ++i) {
            const auto& r = records[i];
            const auto meta = nlohmann::json::parse(r.metadata_json, nullptr, false);
            if (meta.is_object() && meta.contains("kiln") && meta["kiln"].contains("part_of")) {
                continue;  // a further record of a file written with its first record
            }
            if (!r.packed) {
                log::warn("not packed, skipped: " + r.path);
                ++skipped;
                continue;
            }
            std::vector<std::string> parts;  // exactly, without trimming: names may hold spaces
            for (std::size_t at = 0; at <= r.path.size();) {
                const auto slash = std::min(r.path.find('/', at), r.path.size());
                parts.push_back(r.path.substr(at, slash - at));
                at = slash + 1;
            }
            bool safe = true;
            for (const auto& p : parts) safe = safe && !p.empty() && p != "." && p != "..";
            if (!safe) {
                log::warn("unsafe path, skipped: " + r.path);
                ++skipped;
                continue;
            }
            const std::string data = searcher.read_bytes(result.page[i].shard_id, r);
            const int dir = open_parent_dirs(root, parts, r.path);
            const int fd = ::openat(dir, parts.back().c_str(),
                                    O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0666);
            ::close(dir);
            if (fd < 0) throw IoError(errno_message("cannot write '" + to + "/" + r.path + "'"));
            std::size_t done = 0;
            while (done < data.size()) {
                const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
                if (n < 0 && errno == EINTR) continue;
                if (n < 0) {
                    const int e = errno;
                    ::close(fd);
                    errno = e;
                    throw IoError(errno_message("cannot write '" + to + "/" + r.path + "'"));
                }
                done += static_cast<std::size_t>(n);
            }
            if (::close(fd) != 0)
                throw IoError(errno_message("cannot write '" + to + "/" + r.path + "'"));
            ++written;
            bytes += data.size();
        }
    } catch (...) {
        ::close(root);
        throw;
    }
    ::close(root);
    log::info("get: " + std::to_string(written) + " files, " + std::to_string(bytes) +
              " bytes written to " + to +
              (skipped > 0 ? "; " + std::to_string(skipped) + " skipped" : "") + " (" +
              std::to_string(result.total) + " records matched)");
    return 0;
}

int run_fields(const Args& args) {
    po::options_description o("Options");
    o.add_options()("data", po::value<std::string>(), "dataset directory (positional)")(
        "prefix", po::value<std::string>(), "only fields whose name starts with this")(
        "format", po::value<std::string>()->default_value("table"), "table or json");
    po::positional_options_description pos;
    pos.add("data", 1);
    const CommandLine cl = parse_command_line("fields", args, o, pos);
    if (cl.print_config) return 0;
    if (cl.help) {
        print_help("fields", "DATA [--prefix P] [--format table|json]",
                   "Lists every field of the dataset's records with its type and how many records\n"
                   "have it (Forge's show_fields). 'indexed' says whether exact values can be\n"
                   "searched; numbers always take ranges, every field takes _exists_.",
                   o);
        return 0;
    }
    if (cl.vm.count("data") == 0U) throw UsageError("kiln fields: DATA is required");
    const std::string format = cl.vm["format"].as<std::string>();
    if (format != "table" && format != "json") {
        throw UsageError("--format '" + format + "': expected table or json");
    }
    const std::string prefix = get_or(cl.vm, "prefix", std::string{});
    const index::Searcher searcher(cl.vm["data"].as<std::string>());
    const auto& d = searcher.dictionary();
    nlohmann::json doc = nlohmann::json::array();
    std::vector<std::vector<std::string>> rows;
    for (const auto& f : d.fields) {
        if (f.name.compare(0, prefix.size(), prefix) != 0) continue;
        const bool keyword = f.type != index::FieldType::kNumber && d.policy.is_keyword(f.name);
        doc.push_back({{"field", f.name},
                       {"type", index::to_string(f.type)},
                       {"records", f.records},
                       {"indexed", keyword || f.type == index::FieldType::kNumber}});
        rows.push_back({f.name, index::to_string(f.type), std::to_string(f.records),
                        keyword || f.type == index::FieldType::kNumber ? "yes" : "exists only"});
    }
    if (format == "json") {
        std::cout << nlohmann::json{{"records", d.records}, {"fields", doc}}.dump(2) << "\n";
    } else {
        print_table({"field", "type", "records", "indexed"}, rows);
        std::cout << rows.size() << " fields, " << d.records << " records\n";
    }
    return 0;
}

int run_index(const Args& args) {
    po::options_description o("Options");
    o.add_options()("data", po::value<std::string>(), "dataset directory (positional)")(
        "keyword-field", po::value<std::vector<std::string>>()->composing(),
        "also index this field's exact values (repeatable; 'custom.*' for a prefix)")(
        "rebuild", po::bool_switch(), "rebuild every segment, not only missing or stale ones")(
        "threads", po::value<int>(), "threads building segments")(
        "merge", po::bool_switch(),
        "also merge every segment into DATA/index/merged.h5, which queries then read instead "
        "of one segment per shard; later index updates keep it current")(
        "no-fsync", po::bool_switch(), "do not fsync the index files");
    po::positional_options_description pos;
    pos.add("data", 1);
    const CommandLine cl = parse_command_line("index", args, o, pos);
    if (cl.print_config) return 0;
    if (cl.help) {
        print_help("index", "DATA [--keyword-field F]... [--rebuild]",
                   "Builds the search index of a dataset (DATA/index/): one segment per shard\n"
                   "and the dictionary. Segments that are current are kept. The keyword fields\n"
                   "are the defaults plus those given here; without --keyword-field, those the\n"
                   "index has now (the ingest's --keyword-field) are kept. With --merge, the "
                   "segments are also\n"
                   "merged into one (index/merged.h5): a query then opens one file instead of\n"
                   "one per shard; delete that file to go back.",
                   o);
        return 0;
    }
    if (cl.vm.count("data") == 0U) throw UsageError("kiln index: DATA is required");
    const std::string data = cl.vm["data"].as<std::string>();
    index::IndexPolicy policy;
    const auto extra = get_or(cl.vm, "keyword-field", std::vector<std::string>{});
    // Without --keyword-field, the keyword fields the index has (ingest --keyword-field ...),
    // also when it is older than the shards or damaged; without an index, the defaults.
    const std::string dictionary = store::Layout(data).dictionary();
    if (extra.empty() && fs::is_file(dictionary)) {
        try {
            policy = index::Dictionary::stored_policy(dictionary);
        } catch (const Error& e) {
            log::warn(std::string(e.what()) +
                      ": building the index with the default keyword fields (name others "
                      "with --keyword-field)");
        }
    }
    for (const auto& f : extra) policy.keyword_fields.push_back(f);
    const auto start = std::chrono::steady_clock::now();
    const auto u = index::update_index(cl.vm["data"].as<std::string>(), policy,
                                       threads_option(cl.vm), !cl.vm["no-fsync"].as<bool>(),
                                       cl.vm["rebuild"].as<bool>(), cl.vm["merge"].as<bool>());
    const double s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    log::info("index: " + std::to_string(u.records) + " records; " +
              std::to_string(u.segments_built) + " segments built, " +
              std::to_string(u.segments_kept) + " current" +
              (u.dictionary_written ? ", dictionary written" : "") +
              (u.merged_written ? ", segments merged" : "") +
              (u.dictionary_written || u.merged_written ? "" : ", nothing to do") + " in " +
              std::to_string(s).substr(0, std::to_string(s).find('.') + 3) + " s");
    return 0;
}

}  // namespace kiln::cli
