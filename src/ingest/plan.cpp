#include <cstring>

#include "kiln/core/error.hpp"
#include "kiln/core/hash.hpp"
#include "kiln/ingest/ingest.hpp"
#include "kiln/tasks/plan.hpp"

namespace kiln::ingest {
namespace {

void put_u64(std::string& out, std::uint64_t v) {
    char buf[8];
    std::memcpy(buf, &v, 8);
    out.append(buf, 8);
}
void put_str(std::string& out, std::string_view s) {
    put_u64(out, s.size());
    out.append(s);
}

struct Cursor {
    std::string_view in;
    std::size_t pos = 0;
    std::uint64_t u64() {
        if (pos + 8 > in.size()) throw Error("truncated unit payload", ExitCode::kInternal);
        std::uint64_t v = 0;
        std::memcpy(&v, in.data() + pos, 8);
        pos += 8;
        return v;
    }
    std::string str() {
        const std::uint64_t n = u64();
        if (pos + n > in.size()) throw Error("truncated unit payload", ExitCode::kInternal);
        std::string s(in.substr(pos, n));
        pos += n;
        return s;
    }
};

}  // namespace

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
            {"magic", magic == extract::MagicMode::kFull ? "full" : "fast"}};
}

IngestPlan plan_ingest(std::vector<InputFile> files, const IngestOptions& options,
                       const std::vector<std::string>& input_roots) {
    IngestPlan plan;
    std::vector<std::uint64_t> sizes;
    sizes.reserve(files.size());
    Hasher128 digest;
    const std::string opts = options.to_json().dump();
    digest.update(opts.data(), opts.size());
    for (const auto& root : input_roots) digest.update(root.data(), root.size() + 1);
    for (const auto& f : files) {
        sizes.push_back(f.size);
        plan.total_bytes += f.size;
        digest.update(f.record_path.data(), f.record_path.size() + 1);
        digest.update(&f.size, sizeof f.size);
        digest.update(f.error.data(), f.error.size() + 1);
    }
    plan.total_files = files.size();
    plan.digest = digest.digest().hex();
    const auto ranges = tasks::plan_balanced(sizes, options.shard_bytes, options.shard_files);
    plan.units.reserve(ranges.size());
    for (std::size_t u = 0; u < ranges.size(); ++u) {
        UnitSpec spec;
        spec.shard_id = u;
        spec.files.assign(std::make_move_iterator(files.begin() + static_cast<long>(ranges[u].begin)),
                          std::make_move_iterator(files.begin() + static_cast<long>(ranges[u].end)));
        plan.units.push_back(std::move(spec));
    }
    return plan;
}

std::string encode_unit(const UnitSpec& unit) {
    std::string out;
    put_u64(out, unit.shard_id);
    put_u64(out, unit.files.size());
    for (const auto& f : unit.files) {
        put_str(out, f.source_path);
        put_str(out, f.record_path);
        put_u64(out, f.size);
        put_str(out, f.error);
    }
    return out;
}

UnitSpec decode_unit(std::string_view bytes) {
    Cursor c{bytes};
    UnitSpec unit;
    unit.shard_id = c.u64();
    const std::uint64_t n = c.u64();
    if (n > bytes.size()) throw Error("corrupt unit payload", ExitCode::kInternal);
    unit.files.resize(n);
    for (auto& f : unit.files) {
        f.source_path = c.str();
        f.record_path = c.str();
        f.size = c.u64();
        f.error = c.str();
    }
    return unit;
}

}  // namespace kiln::ingest
