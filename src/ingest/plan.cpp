#include <map>

#include "kiln/core/error.hpp"
#include "kiln/core/hash.hpp"
#include "kiln/core/wire.hpp"
#include "kiln/extract/grouping.hpp"
#include "kiln/ingest/ingest.hpp"
#include "kiln/tasks/plan.hpp"

namespace kiln::ingest {
nlohmann::json IngestOptions::to_json() const {
    return {{"source", source},
            {"shard_bytes", shard_bytes},
            {"shard_files", shard_files},
            {"pack", pack},
            {"expand_archives", expand_archives},
            {"archive_max_ratio", archive_max_ratio},
            {"archive_max_bytes", archive_max_bytes},
            {"archive_max_members", archive_max_members},
            {"follow_links", follow_links},
            {"magic", magic == extract::MagicMode::kFull ? "full" : "fast"},
            {"extract", extract},
            {"symprec", symprec},
            {"group", group}};
}

namespace {

// The key of the group a file belongs to, or "" for none.
std::string group_key(const std::string& record_path, const std::string& group) {
    if (group == "dir") {
        const auto slash = record_path.find_last_of('/');
        return slash == std::string::npos ? "./" : record_path.substr(0, slash + 1);
    }
    if (group == "vasp") {
        if (const auto run = extract::vasp_run_key(record_path))
            return run->dir + "/*" + run->suffix;
    }
    return {};
}

// Moves each group's files next to the group's first file (otherwise keeping walk order) and
// returns, per file, whether it continues the item of the file before it.
std::vector<bool> gather_groups(std::vector<InputFile>& files, const std::string& group) {
    std::map<std::string, std::vector<std::size_t>> members;
    std::vector<std::string> keys(files.size());
    for (std::size_t i = 0; i < files.size(); ++i) {
        keys[i] = group_key(files[i].record_path, group);
        if (!keys[i].empty()) members[keys[i]].push_back(i);
    }
    std::vector<InputFile> ordered;
    std::vector<bool> continues;
    ordered.reserve(files.size());
    std::vector<bool> placed(files.size(), false);
    for (std::size_t i = 0; i < files.size(); ++i) {
        if (placed[i]) continue;
        const auto it = keys[i].empty() ? members.end() : members.find(keys[i]);
        const std::vector<std::size_t> one{i};
        const auto& group_members = it == members.end() ? one : it->second;
        for (std::size_t k = 0; k < group_members.size(); ++k) {
            placed[group_members[k]] = true;
            ordered.push_back(std::move(files[group_members[k]]));
            continues.push_back(k > 0);
        }
    }
    files = std::move(ordered);
    return continues;
}

}  // namespace

IngestPlan plan_ingest(std::vector<InputFile> files, const IngestOptions& options,
                       const std::vector<std::string>& input_roots) {
    IngestPlan plan;
    const std::vector<bool> continues = gather_groups(files, options.group);
    std::vector<std::uint64_t> sizes;  // per planned item: a file, or a group's files
    std::vector<std::size_t> item_start;
    sizes.reserve(files.size());
    Hasher128 digest;
    const std::string opts = options.to_json().dump();
    digest.update(opts.data(), opts.size());
    for (const auto& root : input_roots) digest.update(root.data(), root.size() + 1);
    for (std::size_t i = 0; i < files.size(); ++i) {
        const auto& f = files[i];
        if (continues[i]) {
            sizes.back() += f.size;
        } else {
            sizes.push_back(f.size);
            item_start.push_back(i);
        }
        plan.total_bytes += f.size;
        digest.update(f.record_path.data(), f.record_path.size() + 1);
        digest.update(&f.size, sizeof f.size);
        digest.update(f.error.data(), f.error.size() + 1);
    }
    plan.total_files = files.size();
    plan.digest = digest.digest().hex();
    const auto ranges = tasks::plan_balanced(sizes, options.shard_bytes, options.shard_files);
    item_start.push_back(files.size());
    plan.units.reserve(ranges.size());
    for (std::size_t u = 0; u < ranges.size(); ++u) {
        UnitSpec spec;
        spec.shard_id = u;
        const auto begin = static_cast<long>(item_start[ranges[u].begin]);
        const auto end = static_cast<long>(item_start[ranges[u].end]);
        spec.files.assign(std::make_move_iterator(files.begin() + begin),
                          std::make_move_iterator(files.begin() + end));
        plan.units.push_back(std::move(spec));
    }
    return plan;
}

std::string encode_unit(const UnitSpec& unit) {
    std::string out;
    wire::put_u64(out, unit.shard_id);
    wire::put_u64(out, unit.files.size());
    for (const auto& f : unit.files) {
        wire::put_bytes(out, f.source_path);
        wire::put_bytes(out, f.record_path);
        wire::put_u64(out, f.size);
        wire::put_bytes(out, f.error);
    }
    return out;
}

UnitSpec decode_unit(std::string_view bytes) {
    wire::Reader in(bytes);
    UnitSpec unit;
    unit.shard_id = in.u64();
    const std::uint64_t n = in.u64();
    KILN_ASSERT(n <= bytes.size(), "corrupt unit payload");
    unit.files.resize(n);
    for (auto& f : unit.files) {
        f.source_path = in.bytes();
        f.record_path = in.bytes();
        f.size = in.u64();
        f.error = in.bytes();
    }
    return unit;
}

}  // namespace kiln::ingest
