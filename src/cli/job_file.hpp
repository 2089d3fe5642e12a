// Job files: the INI format of Boost.Program_options, one [section] per subcommand. Read once
// with line numbers so every error names the file and line, with ${VAR} and ${VAR:-default}
// expanded from the environment (SLURM_JOB_ID, SCRATCH, ... in a batch script's job file).
#pragma once

#include <istream>
#include <map>
#include <string>
#include <vector>

namespace kiln::cli {

struct JobEntry {
    std::string key;
    std::string value;  // variables expanded
    int line = 0;
};

struct JobFile {
    std::string path;
    std::vector<std::string> section_order;  // as they appear; "" = keys before any section
    std::map<std::string, std::vector<JobEntry>> sections;

    /// The entries of `name` (empty when the file has no such section).
    const std::vector<JobEntry>& section(const std::string& name) const;
    /// "path:line" of an entry, for messages.
    std::string where(const JobEntry& e) const;
};

/// Reads `path`. Throws ConfigError naming the file and line for a malformed line, a section
/// given twice, or a variable that is not set and has no default.
JobFile read_job_file(const std::string& path);
/// The same from a stream; `path` names it in messages.
JobFile parse_job_file(std::istream& in, const std::string& path);

/// Expands ${NAME} and ${NAME:-default} from the environment; `where` prefixes errors.
std::string expand_variables(const std::string& text, const std::string& where);

}  // namespace kiln::cli
