#include "kiln/ingest/walk.hpp"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <cstdlib>
#include <map>
#include <set>

#include "kiln/core/error.hpp"
#include "kiln/core/text.hpp"

namespace kiln::ingest {
namespace {

std::string real_path(const std::string& path) {
    char* r = ::realpath(path.c_str(), nullptr);
    if (r == nullptr) return {};
    std::string out = r;
    std::free(r);
    return out;
}

bool is_inside(const std::string& path, const std::string& root) {
    return path == root || (path.size() > root.size() && path.compare(0, root.size(), root) == 0 &&
                            (root == "/" || path[root.size()] == '/'));
}

std::string base_name(const std::string& path) {
    std::string p = path;
    while (p.size() > 1 && p.back() == '/') p.pop_back();
    const auto slash = p.find_last_of('/');
    return slash == std::string::npos ? p : p.substr(slash + 1);
}

class Walker {
public:
    Walker(std::string root_real, const WalkOptions& options, std::vector<InputFile>& out)
        : root_(std::move(root_real)), options_(options), out_(out) {}

    void walk_dir(const std::string& dir, const std::string& record_dir) {
        const std::string canon = real_path(dir);
        if (!visited_.insert(canon).second) {
            add_error(dir, record_dir, "symbolic link loop: directory already visited");
            return;
        }
        DIR* d = ::opendir(dir.c_str());
        if (d == nullptr) {
            add_error(dir, record_dir, errno_message("cannot read directory"));
            return;
        }
        std::vector<std::string> names;
        while (const dirent* e = ::readdir(d)) {
            const std::string name = e->d_name;
            if (name != "." && name != "..") names.push_back(name);
        }
        ::closedir(d);
        std::sort(names.begin(), names.end());
        for (const auto& name : names) visit(dir + "/" + name, record_dir + "/" + name);
    }

    void visit(const std::string& path, const std::string& record_raw) {
        struct stat st {};
        if (::lstat(path.c_str(), &st) != 0) {
            add_error(path, record_raw, errno_message("cannot stat"));
            return;
        }
        if (S_ISLNK(st.st_mode)) {
            const std::string target = real_path(path);
            if (target.empty()) {
                add_error(path, record_raw, "broken symbolic link");
                return;
            }
            if (!is_inside(target, root_) && !options_.follow_links) {
                add_error(path, record_raw,
                          "symbolic link leads outside the input root (to " +
                              escape_invalid_utf8(target) + "); not followed (--follow-links)");
                return;
            }
            if (::stat(path.c_str(), &st) != 0) {
                add_error(path, record_raw, errno_message("cannot stat link target"));
                return;
            }
        }
        if (S_ISDIR(st.st_mode)) {
            walk_dir(path, record_raw);
        } else if (S_ISREG(st.st_mode)) {
            add(path, record_raw, static_cast<std::uint64_t>(st.st_size), {});
        } else {
            add_error(path, record_raw, "not a regular file (device, FIFO or socket)");
        }
    }

    void add_error(const std::string& path, const std::string& record_raw, std::string error) {
        add(path, record_raw, 0, std::move(error));
    }

    void add(const std::string& path, const std::string& record_raw, std::uint64_t size,
             std::string error) {
        InputFile f;
        f.source_path = path;
        f.size = size;
        f.record_path = escape_invalid_utf8(record_raw);
        if (f.record_path != record_raw && error.empty()) {
            error = "file name is not valid UTF-8 (stored with \\xNN escapes)";
        }
        f.error = std::move(error);
        out_.push_back(std::move(f));
    }

private:
    std::string root_;
    const WalkOptions& options_;
    std::vector<InputFile>& out_;
    std::set<std::string> visited_;
};

}  // namespace

std::vector<InputFile> walk_inputs(const std::vector<std::string>& inputs,
                                   const WalkOptions& options) {
    std::vector<InputFile> out;
    std::map<std::string, std::string> names;  // input name -> input path
    for (const auto& input : inputs) {
        struct stat st {};
        if (::stat(input.c_str(), &st) != 0) {
            throw NoInputError(errno_message("input '" + input + "'"));
        }
        const std::string root = real_path(input);
        const std::string name = base_name(root);
        if (const auto [it, inserted] = names.emplace(name, input); !inserted) {
            throw UsageError("inputs '" + it->second + "' and '" + input +
                             "' have the same name '" + name +
                             "'; record paths start with the input name, so give them "
                             "different names (or one common parent directory)");
        }
        const std::string dir = S_ISDIR(st.st_mode) ? root : root.substr(0, root.find_last_of('/'));
        Walker walker(dir.empty() ? std::string("/") : dir, options, out);
        walker.visit(root, name);
    }
    std::sort(out.begin(), out.end(),
              [](const InputFile& a, const InputFile& b) { return a.record_path < b.record_path; });
    return out;
}

}  // namespace kiln::ingest
