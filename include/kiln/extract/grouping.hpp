// Grouping: the files of one VASP run merge into one record, as MDF Connect's DFT parser
// (MaterialsIO) groups them; `--group-by-dir` merges whole directories. Pure functions: file
// paths in, groups out; records in, one merged record out.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace kiln::extract {

/// The VASP run a file belongs to: its directory and what follows VASP's name, without a
/// compression suffix ("run/OUTCAR.relax1.gz" -> {"run", ".relax1"}; "run/vasprun.xml" ->
/// {"run", ""}). Names are matched in any case, as MaterialsIO does (OUTCAR, INCAR, POSCAR,
/// CONTCAR, OSZICAR, KPOINTS, POTCAR, vasprun.xml, CHGCAR, WAVECAR, DOSCAR, EIGENVAL, PROCAR,
/// XDATCAR, IBZKPT, LOCPOT, ELFCAR). nullopt for any other file.
struct VaspRunKey {
    std::string dir;
    std::string suffix;
    bool operator==(const VaspRunKey&) const = default;
};
[[nodiscard]] std::optional<VaspRunKey> vasp_run_key(std::string_view path);

/// Files that make one record: `members` index the input paths (in input order); `path` is
/// the group record's path ("run/" for a directory or a VASP run without suffix,
/// "run/*.relax1" for the run of OUTCAR.relax1, INCAR.relax1, ...).
struct FileGroup {
    std::string path;
    std::string kind;  // "vasp-run" or "directory"
    std::vector<std::size_t> members;
};

/// Groups of two or more files: VASP runs (same directory and suffix), or with `by_dir` every
/// directory. A file in no group of two is in none.
[[nodiscard]] std::vector<FileGroup> group_files(const std::vector<std::string>& paths,
                                                 bool by_dir);

/// One record from the records of a group's files. `files` is every member's files[];
/// `material` and `crystal_structure` come from the most final structure (vasprun.xml, then
/// CONTCAR, OUTCAR, pw.x output, POSCAR, then any other member); each `dft` field from the
/// first member that has it in the order vasprun.xml, OUTCAR, OSZICAR, INCAR, others;
/// `custom` blocks are merged (each format writes its own key). `kiln` holds the group's
/// `path`, `format` (the kind), `members` (their paths) and `errors` ("PATH: error" of members that
/// have one). Records with an error give only their files and the error.
[[nodiscard]] nlohmann::json merge_records(const std::vector<nlohmann::json>& records,
                                           const FileGroup& group);

}  // namespace kiln::extract
