#include "kiln/model/registry.hpp"

#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstdlib>

#include "kiln/core/error.hpp"
#include "kiln/core/fs.hpp"

namespace kiln::model {
namespace {

namespace stdfs = std::filesystem;

bool valid_name(std::string_view name) {
    if (name.empty() || name.front() == '.' || name.front() == '-') return false;
    return std::all_of(name.begin(), name.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '.' || c == '-';
    });
}

int version_of(std::string_view text) {
    int v = 0;
    const auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    return ec == std::errc() && p == text.data() + text.size() && v >= 1 ? v : 0;
}

// Version directories of a model; `visible` keeps only those this user may read. A model
// whose dlhub.visible_to is not "public" is published into a directory only its publisher (or
// its group) may enter, so the file system enforces who sees it.
std::vector<int> versions_in(const stdfs::path& dir, bool visible = true) {
    std::vector<int> out;
    std::error_code ec;
    for (const auto& e : stdfs::directory_iterator(dir, ec)) {
        const int v = version_of(e.path().filename().string());
        if (v <= 0) continue;
        if (visible && ::access(e.path().c_str(), R_OK | X_OK) != 0) continue;
        if (!visible || stdfs::exists(e.path() / "servable.json", ec)) out.push_back(v);
    }
    std::sort(out.begin(), out.end());
    return out;
}

// dlhub.visible_to as file modes: "public" -> the umask's; "user:LOGIN" (the publisher) ->
// 0700 / 0600; "group:GROUP" (one the publisher belongs to) -> 0750 / 0640, group GROUP.
void restrict_to(const stdfs::path& staging, const std::vector<std::string>& visible_to) {
    if (std::find(visible_to.begin(), visible_to.end(), "public") != visible_to.end()) return;
    const passwd* me = ::getpwuid(::geteuid());
    const std::string login = me != nullptr ? me->pw_name : "";
    gid_t gid = static_cast<gid_t>(-1);
    for (const std::string& v : visible_to) {
        if (v == "user:" + login) continue;
        if (v.starts_with("group:") && visible_to.size() == 1) {
            const struct group* g = ::getgrnam(v.substr(6).c_str());
            if (g == nullptr) throw UsageError("--visible-to " + v + ": no such group");
            gid = g->gr_gid;
            continue;
        }
        throw UsageError("--visible-to " + v + ": kiln enforces 'public', 'user:" + login +
                         "' (you) or one 'group:NAME' with file permissions; other readers "
                         "cannot be enforced");
    }
    const bool shared = gid != static_cast<gid_t>(-1);
    if (shared && ::chown(staging.c_str(), static_cast<uid_t>(-1), gid) != 0)
        throw UsageError(errno_message("--visible-to group: cannot give " + staging.string() +
                                       " to the group (are you a member?)"));
    stdfs::permissions(staging, static_cast<stdfs::perms>(shared ? 0750 : 0700));
    for (const auto& e : stdfs::directory_iterator(staging)) {
        if (shared && ::chown(e.path().c_str(), static_cast<uid_t>(-1), gid) != 0)
            throw IoError(errno_message("cannot give " + e.path().string() + " to the group"));
        stdfs::permissions(e.path(), static_cast<stdfs::perms>(shared ? 0640 : 0600));
    }
}

std::string pid_suffix() { return std::to_string(::getpid()); }

}  // namespace

ModelId ModelId::parse(std::string_view spec) {
    ModelId id;
    const std::size_t at = spec.find('@');
    id.name = std::string(spec.substr(0, at));
    if (!valid_name(id.name))
        throw UsageError(
            "model name '" + id.name +
            "': expected letters, digits, '_', '.', '-' (not starting with '.' or '-')");
    if (at != std::string_view::npos) {
        id.version = version_of(spec.substr(at + 1));
        if (id.version == 0)
            throw UsageError("model '" + std::string(spec) +
                             "': the version after '@' must be an integer >= 1");
    }
    return id;
}

std::string ModelId::to_string() const {
    return version > 0 ? name + "@" + std::to_string(version) : name;
}

Registry::Registry(stdfs::path root) : root_(std::move(root)) {}

stdfs::path Registry::default_root(const std::string& option) {
    if (!option.empty()) return option;
    if (const char* env = std::getenv("KILN_MODELS"); env != nullptr && *env != '\0') return env;
    return "models";
}

std::vector<ModelId> Registry::list() const {
    std::vector<ModelId> out;
    std::error_code ec;
    for (const auto& e : stdfs::directory_iterator(root_, ec)) {
        const std::string name = e.path().filename().string();
        if (!e.is_directory() || !valid_name(name)) continue;
        for (const int v : versions_in(e.path())) out.push_back({name, v});
    }
    std::sort(out.begin(), out.end());
    return out;
}

ModelId Registry::resolve(const ModelId& id) const {
    const auto versions = versions_in(root_ / id.name);
    const auto has = [&id](const std::vector<int>& vs) {  // the version asked for (0: any)
        return id.version == 0 ? !vs.empty()
                               : std::find(vs.begin(), vs.end(), id.version) != vs.end();
    };
    if (!has(versions) && has(versions_in(root_ / id.name, false))) {
        throw NoInputError("model '" + id.to_string() +
                           "' is not visible to you (its dlhub.visible_to names other users)");
    }
    if (versions.empty()) {
        std::string have;
        std::string last;
        for (const auto& m : list()) {  // sorted by name: each name once
            if (m.name == last) continue;
            have += (have.empty() ? "" : ", ") + m.name;
            last = m.name;
        }
        throw NoInputError("no model '" + id.name + "' in the registry " + root_.string() +
                           (have.empty() ? " (it is empty)" : " (it has: " + have + ")"));
    }
    if (id.version == 0) return {id.name, versions.back()};
    if (!has(versions)) {
        std::string have;
        for (const int v : versions) have += (have.empty() ? "" : ", ") + std::to_string(v);
        throw NoInputError("model '" + id.name + "' has no version " + std::to_string(id.version) +
                           " in " + root_.string() + " (versions: " + have + ")");
    }
    return id;
}

stdfs::path Registry::dir(const ModelId& id) const {
    return root_ / id.name / std::to_string(id.version);
}

int Registry::next_version(const std::string& name) const {
    const auto versions = versions_in(root_ / name, false);  // other users' versions too
    return versions.empty() ? 1 : versions.back() + 1;
}

Servable Registry::servable(const ModelId& id) const {
    const ModelId r = resolve(id);
    const std::string path = (dir(r) / "servable.json").string();
    nlohmann::json doc = nlohmann::json::parse(fs::read_file(path), nullptr, false);
    if (doc.is_discarded())
        throw DataError(path + ": not valid JSON (model " + r.to_string() + ")");
    Servable s = Servable::from_json(doc, path);
    if (s.name != r.name || s.version != r.version)
        throw DataError(path + ": says it is " + s.name + "@" + std::to_string(s.version) +
                        " but lies at " + r.to_string());
    return s;
}

stdfs::path Registry::checked_model_file(const Servable& s) const {
    const stdfs::path file = dir({s.name, s.version}) / "model.pt";
    if (!fs::is_file(file.string()))
        throw DataError("model " + s.name + "@" + std::to_string(s.version) + ": " + file.string() +
                        " is missing");
    const std::string digest = sha256_file(file.string());
    if (digest != s.sha256)
        throw DataError("model " + s.name + "@" + std::to_string(s.version) + ": " + file.string() +
                        " has sha256 " + digest + " but servable.json records " + s.sha256 +
                        " (tampered or corrupted; publish it again)");
    return file;
}

ModelId Registry::publish(const stdfs::path& model_file, const nlohmann::json& document) {
    const Servable s = Servable::from_json(document, "the servable.json to publish");
    const ModelId id{s.name, s.version};
    const stdfs::path target = dir(id);
    if (stdfs::exists(target))
        throw UsageError("model " + id.to_string() + " already exists in " + root_.string() +
                         " (versions are immutable; publish a new version or remove it first)");
    fs::make_dirs((root_ / id.name).string());
    const stdfs::path staging =
        root_ / (".staging-" + id.name + "-" + std::to_string(id.version) + "-" + pid_suffix());
    std::error_code ec;
    stdfs::remove_all(staging, ec);
    fs::make_dirs(staging.string());
    try {
        stdfs::copy_file(model_file, staging / "model.pt", stdfs::copy_options::overwrite_existing);
        // copy_file keeps the source's mode; a published file gets a new file's (the umask).
        const mode_t mask = ::umask(0);
        ::umask(mask);
        stdfs::permissions(staging / "model.pt", static_cast<stdfs::perms>(0666U & ~mask));
        fs::fsync_path((staging / "model.pt").string());
        fs::write_file_atomic((staging / "servable.json").string(), document.dump(2) + "\n");
        restrict_to(staging, document["dlhub"].value("visible_to", std::vector<std::string>{}));
        fs::fsync_path(staging.string());
        if (::rename(staging.c_str(), target.c_str()) != 0)
            throw IoError(
                errno_message("cannot rename " + staging.string() + " to " + target.string()));
        fs::fsync_path((root_ / id.name).string());
    } catch (const stdfs::filesystem_error& e) {
        stdfs::remove_all(staging, ec);
        throw IoError(std::string("cannot publish ") + id.to_string() + ": " + e.what());
    } catch (...) {
        stdfs::remove_all(staging, ec);
        throw;
    }
    return id;
}

void Registry::remove(const ModelId& id) {
    if (id.version == 0)
        throw UsageError("model remove needs NAME@VERSION (have '" + id.name +
                         "'), so a version is never removed by accident");
    const ModelId r = resolve(id);
    const stdfs::path gone =
        root_ / (".removed-" + r.name + "-" + std::to_string(r.version) + "-" + pid_suffix());
    if (::rename(dir(r).c_str(), gone.c_str()) != 0)
        throw IoError(errno_message("cannot remove " + dir(r).string()));
    fs::fsync_path((root_ / r.name).string());
    std::error_code ec;
    stdfs::remove_all(gone, ec);
    if (stdfs::is_empty(root_ / r.name, ec)) stdfs::remove(root_ / r.name, ec);
}

}  // namespace kiln::model
