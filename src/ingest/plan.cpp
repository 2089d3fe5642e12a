#include "kiln/tasks/plan.hpp"
#include "kiln/core/error.hpp"
#include "kiln/core/hash.hpp"
#include "kiln/core/wire.hpp"
#include "kiln/ingest/ingest.hpp"

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
            {"symprec", symprec}};
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
        spec.files.assign(
            std::make_move_iterator(files.begin() + static_cast<long>(ranges[u].begin)),
            std::make_move_iterator(files.begin() + static_cast<long>(ranges[u].end)));
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
