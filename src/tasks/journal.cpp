#include "kiln/tasks/journal.hpp"

#include <sstream>
#include <utility>

#include "kiln/core/error.hpp"
#include "kiln/core/fault.hpp"
#include "kiln/core/fs.hpp"
#include "kiln/core/log.hpp"

namespace kiln::tasks {

Journal::Journal(std::string path, const std::string& job, const std::string& plan)
    : path_(std::move(path)) {
    const nlohmann::json header = {{"journal", "kiln"}, {"version", 1}, {"job", job},
                                   {"plan", plan}};
    if (!fs::is_file(path_)) {
        fs::append_line_durable(path_, header.dump());
        return;
    }
    const std::string text = fs::read_file(path_);
    std::istringstream in(text);
    std::string line;
    std::size_t line_no = 0;
    bool torn_tail = !text.empty() && text.back() != '\n';
    while (std::getline(in, line)) {
        ++line_no;
        if (line.empty()) continue;
        nlohmann::json j;
        try {
            j = nlohmann::json::parse(line);
        } catch (const nlohmann::json::exception&) {
            if (in.peek() == std::char_traits<char>::eof()) {
                log::warn("journal '" + path_ + "': ignoring a torn last line " +
                          std::to_string(line_no) + " (interrupted append)");
                torn_tail = true;
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
                    " of different inputs or options (plan " + j.value("plan", "?") +
                    ", now " + plan +
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
    if (torn_tail) {
        // Start the next entry on a fresh line so the torn text stays isolated.
        fs::append_line_durable(path_, "");
    }
}

void Journal::append(std::uint64_t unit, const nlohmann::json& result) {
    fault_point("journal.before_append");
    const nlohmann::json entry = {{"unit", unit}, {"result", result}};
    fs::append_line_durable(path_, entry.dump());
    committed_[unit] = result;
}

}  // namespace kiln::tasks
