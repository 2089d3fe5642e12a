// Streaming reader of tar / tar.gz / tar.bz2 / tar.xz / zip archives (libarchive), and the
// rules that decide which members are safe to turn into records.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace kiln::extract {

enum class MemberKind { kFile, kDirectory, kSymlink, kHardlink, kOther };

struct ArchiveMember {
    std::string name;  // as stored in the archive (arbitrary bytes)
    MemberKind kind = MemberKind::kFile;
    std::int64_t size = -1;   // declared size, -1 when the archive does not say
    std::string link_target;  // for links
};

/// Why a member must not become a packed record ("" when it may): absolute paths, `..`
/// components, links and special files are refused, so nothing read from an archive can ever
/// name a place outside the directory it is later extracted to.
[[nodiscard]] std::string member_problem(const ArchiveMember& member);

/// Record path of a member: "<archive path>!/<member name without leading ./>".
[[nodiscard]] std::string member_record_path(std::string_view archive_path,
                                             std::string_view member_name);

/// Reads an archive member by member. Not thread-safe; one reader per archive.
/// Every failure throws kiln::DataError naming the archive and libarchive's reason.
class ArchiveReader {
public:
    explicit ArchiveReader(const std::string& path);
    ~ArchiveReader();
    ArchiveReader(const ArchiveReader&) = delete;
    ArchiveReader& operator=(const ArchiveReader&) = delete;

    /// Moves to the next member; false at the end of the archive.
    bool next(ArchiveMember& member);
    /// Reads up to `size` bytes of the current member; 0 at its end.
    std::size_t read(void* data, std::size_t size);

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace kiln::extract
