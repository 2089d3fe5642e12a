// Walking the input trees of `kiln ingest`.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace kiln::ingest {

/// One file to ingest, or one entry that cannot be (then `error` says why and it still
/// becomes a record, so every problem is visible in the dataset).
struct InputFile {
    std::string source_path;  // absolute path to open (raw bytes)
    std::string record_path;  // "<input name>/<relative path>", valid UTF-8 (see below)
    std::uint64_t size = 0;   // bytes at walk time
    std::string error;        // "" when the file can be read
};

struct WalkOptions {
    bool follow_links = false;  // follow symbolic links that lead outside the input root
    int threads = 1;            // threads walking an input directory's entries at once
};

/// Walks every input (file or directory) and returns its entries sorted by record path.
/// Record paths start with the input's own name (`test_files/Al3F9.json`); bytes of a name
/// that are not UTF-8 are written `\xNN` and the entry gets an error. Per-entry problems
/// (broken links, links out of the root, link loops, special files, unreadable directories)
/// become entries with `error` set. Throws NoInputError naming a missing input and
/// UsageError when two inputs have the same name. The result does not depend on `threads`.
[[nodiscard]] std::vector<InputFile> walk_inputs(const std::vector<std::string>& inputs,
                                                 const WalkOptions& options);

}  // namespace kiln::ingest
