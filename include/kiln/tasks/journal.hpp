// The journal: an append-only, fsynced text file naming committed units, so a rerun of a
// killed job knows what is done. One JSON object per line:
//
//   {"journal":"kiln","version":1,"job":"ingest","plan":"<digest>"}      first line
//   {"unit":42,"result":{...}}                                           one per commit
//
// A torn last line (a crash during append) is ignored. A unit is done iff the journal names
// it and its output exists under its final name (the caller checks the second part).
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include <nlohmann/json.hpp>

namespace kiln::tasks {

class Journal {
public:
    /// Opens or creates the journal at `path` for `job` with plan digest `plan`. Throws
    /// ConfigError when an existing journal belongs to another job or plan (the inputs or
    /// options changed since the interrupted run), naming both.
    Journal(std::string path, const std::string& job, const std::string& plan);

    /// Units committed so far, with the result object of their latest entry.
    [[nodiscard]] const std::map<std::uint64_t, nlohmann::json>& committed() const noexcept {
        return committed_;
    }
    /// Appends and fsyncs one entry. Fault point: journal.before_append.
    void append(std::uint64_t unit, const nlohmann::json& result);
    /// Forgets `unit` (its output vanished); the next append re-adds it.
    void forget(std::uint64_t unit) { committed_.erase(unit); }
    [[nodiscard]] const std::string& path() const noexcept { return path_; }

private:
    std::string path_;
    std::map<std::uint64_t, nlohmann::json> committed_;
};

}  // namespace kiln::tasks
