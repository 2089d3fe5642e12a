#include "cli/job_file.hpp"

#include <cstdlib>
#include <fstream>

#include "kiln/core/error.hpp"
#include "kiln/core/text.hpp"

namespace kiln::cli {

const std::vector<JobEntry>& JobFile::section(const std::string& name) const {
    static const std::vector<JobEntry> none;
    const auto it = sections.find(name);
    return it == sections.end() ? none : it->second;
}

std::string JobFile::where(const JobEntry& e) const { return path + ":" + std::to_string(e.line); }

std::string expand_variables(const std::string& text, const std::string& where) {
    std::string out;
    std::size_t i = 0;
    while (i < text.size()) {
        if (text.compare(i, 2, "${") != 0) {
            out += text[i++];
            continue;
        }
        const std::size_t close = text.find('}', i + 2);
        if (close == std::string::npos) {
            throw ConfigError(where + ": unterminated '${' in '" + text + "'");
        }
        const std::string inside = text.substr(i + 2, close - i - 2);
        const std::size_t dash = inside.find(":-");
        const std::string name = inside.substr(0, dash);
        if (name.empty()) throw ConfigError(where + ": empty variable name in '" + text + "'");
        const char* value = std::getenv(name.c_str());
        if (value != nullptr && *value != '\0') {
            out += value;
        } else if (dash != std::string::npos) {
            out += inside.substr(dash + 2);
        } else {
            throw ConfigError(where + ": environment variable " + name + " is not set (write ${" +
                              name + ":-default} for a default)");
        }
        i = close + 1;
    }
    return out;
}

JobFile read_job_file(const std::string& path) {
    std::ifstream in(path);
    if (!in) throw ConfigError("--config '" + path + "': cannot open the file");
    return parse_job_file(in, path);
}

JobFile parse_job_file(std::istream& in, const std::string& path) {
    JobFile file;
    file.path = path;
    std::string section;
    file.section_order.push_back(section);
    std::string line;
    int line_no = 0;
    while (std::getline(in, line)) {
        ++line_no;
        const std::string where = path + ":" + std::to_string(line_no);
        // Boost's INI reader drops everything after '#' too.
        const std::string t(trim(std::string_view(line).substr(0, line.find('#'))));
        if (t.empty() || t[0] == ';') continue;
        if (t.front() == '[') {
            if (t.back() != ']')
                throw ConfigError(where + ": malformed section header '" + t + "'");
            section = std::string(trim(t.substr(1, t.size() - 2)));
            if (file.sections.count(section) != 0U) {
                throw ConfigError(where + ": section [" + section + "] appears twice");
            }
            file.section_order.push_back(section);
            file.sections[section];
            continue;
        }
        const auto eq = t.find('=');
        if (eq == std::string::npos) {
            throw ConfigError(where + ": expected 'key = value', got '" + t + "'");
        }
        const std::string key(trim(t.substr(0, eq)));
        if (key.empty()) throw ConfigError(where + ": a key is missing before '='");
        file.sections[section].push_back(
            {key, expand_variables(std::string(trim(t.substr(eq + 1))), where), line_no});
    }
    return file;
}

}  // namespace kiln::cli
