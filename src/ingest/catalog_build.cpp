#include <chrono>
#include <ctime>

#include "kiln/core/error.hpp"
#include "kiln/core/hash.hpp"
#include "kiln/core/text.hpp"
#include "kiln/core/version.hpp"
#include "kiln/ingest/ingest.hpp"

namespace kiln::ingest {
namespace {

// "2026-11-27T19:40:00Z"
std::string utc_now() {
    const std::time_t t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[64];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

void add_counts(nlohmann::json& into, const nlohmann::json& counts) {
    for (const auto& [key, value] : counts.items()) {
        into[key] = into.value(key, std::uint64_t{0}) + value.get<std::uint64_t>();
    }
}

}  // namespace

nlohmann::json datacite_block(const DatasetMetadata& m) {
    nlohmann::json dc;
    dc["titles"] = nlohmann::json::array({{{"title", m.title}}});
    nlohmann::json creators = nlohmann::json::array();
    for (std::size_t i = 0; i < m.authors.size(); ++i) {
        const std::string& a = m.authors[i];
        const auto comma = a.find(',');
        if (comma == std::string::npos || trim(a.substr(0, comma)).empty() ||
            trim(a.substr(comma + 1)).empty()) {
            throw UsageError("--author '" + a + "': expected \"Family, Given\"");
        }
        nlohmann::json c = {{"creatorName", std::string(trim(a.substr(0, comma))) + ", " +
                                                std::string(trim(a.substr(comma + 1)))},
                            {"familyName", std::string(trim(a.substr(0, comma)))},
                            {"givenName", std::string(trim(a.substr(comma + 1)))}};
        nlohmann::json affs = nlohmann::json::array();
        if (m.affiliations.size() == m.authors.size()) {
            affs.push_back(m.affiliations[i]);
        } else {
            for (const auto& af : m.affiliations) affs.push_back(af);
        }
        c["affiliations"] = affs;
        creators.push_back(c);
    }
    dc["creators"] = creators;
    dc["publisher"] = m.publisher;
    dc["publicationYear"] =
        m.publication_year.empty() ? utc_now().substr(0, 4) : m.publication_year;
    dc["resourceType"] = {{"resourceTypeGeneral", "Dataset"}, {"resourceType", "Dataset"}};
    if (!m.description.empty()) {
        dc["descriptions"] =
            nlohmann::json::array({{{"description", m.description}, {"descriptionType", "Other"}}});
    }
    if (!m.tags.empty()) {
        nlohmann::json subjects = nlohmann::json::array();
        for (const auto& t : m.tags) subjects.push_back({{"subject", t}});
        dc["subjects"] = subjects;
    }
    if (!m.doi.empty()) dc["identifier"] = {{"identifier", m.doi}, {"identifierType", "DOI"}};
    return dc;
}

store::Catalog build_catalog(const IngestPlan& plan,
                             const std::map<std::uint64_t, nlohmann::json>& units,
                             const nlohmann::json& dc, const IngestOptions& options) {
    store::Catalog c;
    c.kiln_version = version();
    c.created = utc_now();
    c.dc = dc;
    nlohmann::json formats = nlohmann::json::object();
    nlohmann::json mimes = nlohmann::json::object();
    nlohmann::json samples = nlohmann::json::array();
    std::uint64_t records = 0;
    std::uint64_t bytes = 0;
    std::uint64_t packed = 0;
    std::uint64_t errors = 0;
    for (const auto& spec : plan.units) {
        const auto it = units.find(spec.shard_id);
        KILN_ASSERT(it != units.end(), "catalog built before every unit committed");
        const nlohmann::json& r = it->second;
        store::ShardEntry e;
        e.id = spec.shard_id;
        e.file = r.at("file").get<std::string>();
        e.records = r.at("records").get<std::uint64_t>();
        e.bytes = r.at("bytes").get<std::uint64_t>();
        e.errors = r.at("errors").get<std::uint64_t>();
        e.checksum = Hash128::from_hex(r.at("checksum").get<std::string>());
        records += e.records;
        bytes += e.bytes;
        errors += e.errors;
        packed += r.value("packed_bytes", std::uint64_t{0});
        add_counts(formats, r.value("formats", nlohmann::json::object()));
        add_counts(mimes, r.value("mime_types", nlohmann::json::object()));
        for (const auto& s : r.value("error_samples", nlohmann::json::array())) {
            if (samples.size() < 20) samples.push_back(s);
        }
        c.shards.push_back(std::move(e));
    }
    c.summary = {{"records", records},
                 {"files", plan.total_files},
                 {"bytes", bytes},
                 {"packed_bytes", packed},
                 {"errors", errors},
                 {"shards", plan.units.size()},
                 {"formats", formats},
                 {"mime_types", mimes},
                 {"error_samples", samples},
                 {"plan", plan.digest},
                 {"options", options.to_json()}};
    return c;
}

}  // namespace kiln::ingest
