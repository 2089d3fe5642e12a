#include "kiln/tasks/journal.hpp"

#include <stdexcept>
#include <utility>

#include "kiln/core/error.hpp"
#include "kiln/core/fault.hpp"
#include "kiln/core/fs.hpp"
#include "kiln/core/log.hpp"

namespace kiln::tasks {

Journal::Journal(std::string path, const std::string& job, const std::string& plan)
    : path_(std::move(path)) {
    const nlohmann::json header = {
        {"journal", "kiln"}, {"version", 1}, {"job", job}, {"plan", plan}};
    if (!fs::is_file(path_)) {
        fs::append_line_durable(path_, header.dump());
        return;
    }
    const std::string text = fs::read_file(path_);
    std::size_t pos = 0;
    std::size_t line_no = 0;
    while (pos < text.size()) {
        const std::size_t nl = text.find('\n', pos);
        const bool last = nl == std::string::npos || nl + 1 == text.size();
        const std::string line =
            text.substr(pos, (nl == std::string::npos ? text.size() : nl) - pos);
        const std::size_t line_start = pos;
        pos = nl == std::string::npos ? text.size() : nl + 1;
        ++line_no;
        if (line.empty()) continue;
        nlohmann::json j;
        try {
            j = nlohmann::json::parse(line);
            if (nl == std::string::npos) throw std::runtime_error("no newline");
        } catch (const std::exception&) {
            if (last) {
                // A crash during the last append: cut the torn text off, so the journal
                // stays one complete entry per line.
                log::warn("journal '" + path_ + "': removing a torn last line " +
                          std::to_string(line_no) + " (interrupted append)");
                fs::truncate_durable(path_, line_start);
                break;
            }
            throw DataError("journal '" + path_ + "' line " + std::to_string(line_no) +
                            " is not JSON; the dataset directory is damaged");
        }
        if (line_no == 1) {
            if (j.value("journal", "") != "kiln" || j.value("job", "") != job) {
                throw ConfigError("journal '" + path_ + "' belongs to another kind of job ('" +
                                  j.value("job", "?") + "', not '" + job + "')");
            }
            if (j.value("plan", "") != plan) {
                throw ConfigError(
                    "'" + path_ + "' records an interrupted " + job +
                    " of different inputs or options (plan " + j.value("plan", "?") + ", now " +
                    plan +
                    "); rerun with the original inputs and options to resume, or use a new "
                    "output directory");
            }
            continue;
        }
        if (!j.contains("unit") || !j["unit"].is_number_unsigned()) {
            throw DataError("journal '" + path_ + "' line " + std::to_string(line_no) +
                            " has no unit number");
        }
        committed_[j["unit"].get<std::uint64_t>()] = j.value("result", nlohmann::json::object());
    }
    if (line_no == 0) fs::append_line_durable(path_, header.dump());
}

void Journal::append(std::uint64_t unit, const nlohmann::json& result) {
    fault_point("journal.before_append");
    const nlohmann::json entry = {{"unit", unit}, {"result", result}};
    fs::append_line_durable(path_, entry.dump());
    committed_[unit] = result;
}

}  // namespace kiln::tasks
