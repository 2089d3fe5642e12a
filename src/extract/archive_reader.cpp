#include "kiln/extract/archive_reader.hpp"

#include <archive.h>
#include <archive_entry.h>

#include <algorithm>

#include "kiln/core/error.hpp"

namespace kiln::extract {

std::string member_problem(const ArchiveMember& member) {
    switch (member.kind) {
        case MemberKind::kSymlink:
            return "symbolic link member (-> " + member.link_target + ") is not extracted";
        case MemberKind::kHardlink:
            return "hard link member (-> " + member.link_target + ") is not extracted";
        case MemberKind::kOther:
            return "special file member is not extracted";
        case MemberKind::kDirectory:
        case MemberKind::kFile:
            break;
    }
    const std::string_view name = member.name;
    if (name.empty()) return "member has an empty name";
    if (name.front() == '/') return "absolute member path is refused";
    if (name.find('\0') != std::string_view::npos) return "member name contains a NUL byte";
    std::size_t start = 0;
    while (start <= name.size()) {
        const std::size_t end = std::min(name.find('/', start), name.size());
        if (name.substr(start, end - start) == "..") {
            return "member path with '..' is refused (it would leave the extraction directory)";
        }
        start = end + 1;
    }
    return {};
}

std::string member_record_path(std::string_view archive_path, std::string_view member_name) {
    while (member_name.substr(0, 2) == "./") member_name.remove_prefix(2);
    return std::string(archive_path) + "!/" + std::string(member_name);
}

struct ArchiveReader::Impl {
    std::string path;
    archive* a = nullptr;

    Impl() = default;
    Impl(const Impl&) = delete;
    Impl& operator=(const Impl&) = delete;
    // Owned here, so a constructor that throws still frees it.
    ~Impl() {
        if (a != nullptr) archive_read_free(a);
    }

    [[noreturn]] void fail(const std::string& what) const {
        const char* why = a != nullptr ? archive_error_string(a) : nullptr;
        throw DataError("archive '" + path + "': " + what + ": " +
                        (why != nullptr ? why : "unknown libarchive error"));
    }
};

ArchiveReader::ArchiveReader(const std::string& path) : impl_(std::make_unique<Impl>()) {
    impl_->path = path;
    impl_->a = archive_read_new();
    if (impl_->a == nullptr) throw DataError("archive '" + path + "': out of memory");
    archive_read_support_filter_all(impl_->a);
    archive_read_support_format_tar(impl_->a);
    archive_read_support_format_gnutar(impl_->a);
    archive_read_support_format_zip(impl_->a);
    if (archive_read_open_filename(impl_->a, path.c_str(), 1 << 20) != ARCHIVE_OK) {
        impl_->fail("cannot open");
    }
}

ArchiveReader::~ArchiveReader() = default;

bool ArchiveReader::next(ArchiveMember& member) {
    archive_entry* entry = nullptr;
    const int rc = archive_read_next_header(impl_->a, &entry);
    if (rc == ARCHIVE_EOF) return false;
    if (rc == ARCHIVE_FATAL || rc == ARCHIVE_RETRY) impl_->fail("corrupt or truncated");
    const char* name = archive_entry_pathname(entry);
    member.name = name != nullptr ? name : "";
    member.size = archive_entry_size_is_set(entry) != 0 ? archive_entry_size(entry) : -1;
    member.link_target.clear();
    const char* hard = archive_entry_hardlink(entry);
    const char* sym = archive_entry_symlink(entry);
    if (hard != nullptr) {
        member.kind = MemberKind::kHardlink;
        member.link_target = hard;
    } else if (sym != nullptr) {
        member.kind = MemberKind::kSymlink;
        member.link_target = sym;
    } else {
        switch (archive_entry_filetype(entry)) {
            case AE_IFREG:
                member.kind = MemberKind::kFile;
                break;
            case AE_IFDIR:
                member.kind = MemberKind::kDirectory;
                break;
            default:
                member.kind = MemberKind::kOther;
        }
    }
    return true;
}

std::size_t ArchiveReader::read(void* data, std::size_t size) {
    const la_ssize_t n = archive_read_data(impl_->a, data, size);
    if (n < 0) impl_->fail("cannot read member data");
    return static_cast<std::size_t>(n);
}

}  // namespace kiln::extract
