#include "kiln/ingest/walk.hpp"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <cstdlib>
#include <exception>
#include <map>
#include <set>
#include <thread>

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

// Sorted names in a directory, without "." and ".."; false when it cannot be read.
bool list_dir(const std::string& dir, std::vector<std::string>& names) {
    DIR* d = ::opendir(dir.c_str());
    if (d == nullptr) return false;
    while (const dirent* e = ::readdir(d)) {
        const std::string name = e->d_name;
        if (name != "." && name != "..") names.push_back(name);
    }
    ::closedir(d);
    std::sort(names.begin(), names.end());
    return true;
}

class Walker {
public:
    Walker(std::string root_real, const WalkOptions& options, std::vector<InputFile>& out)
        : root_(std::move(root_real)), options_(options), out_(out) {}

    // For one of several walkers of one tree: it stops at the first symbolic link to a
    // directory, whose "already visited" answer would depend on which walker got there first.
    void stop_at_directory_links() { stop_at_directory_links_ = true; }
    [[nodiscard]] bool stopped() const { return stopped_; }

    void walk_dir(const std::string& dir, const std::string& record_dir) {
        const std::string canon = real_path(dir);
        if (!visited_.insert(canon).second) {
            add_error(dir, record_dir, "symbolic link loop: directory already visited");
            return;
        }
        std::vector<std::string> names;
        if (!list_dir(dir, names)) {
            add_error(dir, record_dir, errno_message("cannot read directory"));
            return;
        }
        for (const auto& name : names) visit(dir + "/" + name, record_dir + "/" + name);
    }

    void visit(const std::string& path, const std::string& record_raw) {
        if (stopped_) return;
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
            if (stop_at_directory_links_ && S_ISDIR(st.st_mode)) {
                stopped_ = true;
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
    bool stop_at_directory_links_ = false;
    bool stopped_ = false;
};

// Walks the directory `root` (record name `name`) with options.threads walkers, walker t
// taking entries t, t + threads, ... of its top level, into `out`. Returns false, adding nothing,
// when a walker met a symbolic link to a directory: then only a walk in order gives the answer.
bool walk_in_parallel(const std::string& walk_root, const std::string& root,
                      const std::string& name, const WalkOptions& options,
                      std::vector<InputFile>& out) {
    std::vector<std::string> names;
    if (!list_dir(root, names)) return false;  // the walk in order records the error
    const std::size_t threads =
        std::clamp<std::size_t>(names.size(), 1, static_cast<std::size_t>(options.threads));
    std::vector<std::vector<InputFile>> found(threads);
    std::vector<char> stopped(threads, 0);
    std::vector<std::exception_ptr> failed(threads);
    auto walk = [&](std::size_t t) {
        try {
            Walker walker(walk_root, options, found[t]);
            walker.stop_at_directory_links();
            for (std::size_t i = t; i < names.size() && !walker.stopped(); i += threads) {
                walker.visit(root + "/" + names[i], name + "/" + names[i]);
            }
            stopped[t] = walker.stopped() ? 1 : 0;
        } catch (...) {
            failed[t] = std::current_exception();
        }
    };
    std::vector<std::thread> pool;
    for (std::size_t t = 1; t < threads; ++t) pool.emplace_back(walk, t);
    walk(0);
    for (auto& th : pool) th.join();
    for (const auto& e : failed) {
        if (e) std::rethrow_exception(e);
    }
    if (std::find(stopped.begin(), stopped.end(), 1) != stopped.end()) return false;
    for (auto& part : found) {
        out.insert(out.end(), std::make_move_iterator(part.begin()),
                   std::make_move_iterator(part.end()));
    }
    return true;
}

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
        const std::string walk_root = dir.empty() ? std::string("/") : dir;
        if (options.threads > 1 && S_ISDIR(st.st_mode) &&
            walk_in_parallel(walk_root, root, name, options, out)) {
            continue;
        }
        Walker walker(walk_root, options, out);
        walker.visit(root, name);
    }
    // Two raw names can escape to one record path: the source path orders them.
    std::sort(out.begin(), out.end(), [](const InputFile& a, const InputFile& b) {
        return a.record_path != b.record_path ? a.record_path < b.record_path
                                              : a.source_path < b.source_path;
    });
    return out;
}

}  // namespace kiln::ingest
