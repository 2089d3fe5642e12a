#include <gtest/gtest.h>

#include "kiln/extract/grouping.hpp"

namespace kiln::extract {
namespace {

TEST(Grouping, VaspRunKeyByDirectoryAndSuffix) {
    EXPECT_EQ(vasp_run_key("run/OUTCAR"), (VaspRunKey{"run", ""}));
    EXPECT_EQ(vasp_run_key("run/OUTCAR.relax1.gz"), (VaspRunKey{"run", ".relax1"}));
    EXPECT_EQ(vasp_run_key("a/b/vasprun.xml.relax2.bz2"), (VaspRunKey{"a/b", ".relax2"}));
    EXPECT_EQ(vasp_run_key("outcar_vasp_6.3"), (VaspRunKey{"", "_vasp_6.3"}));  // any case
    EXPECT_EQ(vasp_run_key("x.tar.gz!/Fe/CONTCAR"), (VaspRunKey{"x.tar.gz!/Fe", ""}));
    EXPECT_FALSE(vasp_run_key("run/Fe2O3.cif").has_value());
    EXPECT_FALSE(vasp_run_key("run/notes.txt").has_value());
}

TEST(Grouping, RunsOfTwoOrMoreFilesInInputOrder) {
    const std::vector<std::string> paths = {"r/INCAR.relax1",  "r/OUTCAR.relax1", "r/INCAR.relax2",
                                            "r/OUTCAR.relax2", "r/README",        "s/POSCAR",
                                            "t/POSCAR",        "t/vasprun.xml",   "t/Fe.cif"};
    const auto g = group_files(paths, false);
    ASSERT_EQ(g.size(), 3U);  // s/POSCAR alone is no group; README and Fe.cif are in none
    EXPECT_EQ(g[0].path, "r/*.relax1");
    EXPECT_EQ(g[0].members, (std::vector<std::size_t>{0, 1}));
    EXPECT_EQ(g[1].path, "r/*.relax2");
    EXPECT_EQ(g[1].members, (std::vector<std::size_t>{2, 3}));
    EXPECT_EQ(g[2].path, "t/");
    EXPECT_EQ(g[2].kind, "vasp-run");
    EXPECT_EQ(g[2].members, (std::vector<std::size_t>{6, 7}));
    const auto d = group_files(paths, true);
    ASSERT_EQ(d.size(), 2U);  // r (5 files) and t (3); s has one
    EXPECT_EQ(d[0].path, "r/");
    EXPECT_EQ(d[0].kind, "directory");
    EXPECT_EQ(d[0].members.size(), 5U);
    EXPECT_EQ(d[1].members, (std::vector<std::size_t>{6, 7, 8}));
    EXPECT_TRUE(group_files({}, false).empty());
}

nlohmann::json record(const std::string& path, const std::string& format, nlohmann::json blocks) {
    blocks["kiln"] = {{"path", path}, {"format", format}};
    blocks["files"] = nlohmann::json::array({{{"filename", path.substr(path.rfind('/') + 1)}}});
    return blocks;
}

TEST(Grouping, MergeTakesTheFinalStructureAndDftFieldsByPriority) {
    const FileGroup g{"run/", "vasp-run", {0, 1, 2, 3, 4}};
    const std::vector<nlohmann::json> records = {
        record("run/INCAR", "incar",
               {{"dft", {{"cutoff_energy", 520.0}, {"exchange_correlation_functional", "PBE"}}},
                {"custom", {{"incar", {{"ENCUT", 520}}}}}}),
        record("run/POSCAR", "poscar",
               {{"material", {{"composition", "FeO"}, {"formula", "Fe2O2"}}}}),
        record("run/CONTCAR", "poscar",
               {{"material", {{"composition", "FeO"}, {"formula", "Fe4O4"}}},
                {"crystal_structure", {{"volume", 80.0}}}}),
        record("run/OSZICAR", "oszicar",
               {{"dft", {{"energy", -10.0}, {"ionic_steps", 3}}},
                {"custom", {{"oszicar", {{"final_F", -10.1}}}}}}),
        record("run/OUTCAR", "outcar", {{"dft", {{"energy", -10.5}, {"converged", true}}}}),
    };
    const auto m = merge_records(records, g);
    EXPECT_EQ(m["material"]["formula"], "Fe4O4");  // CONTCAR: more final than POSCAR
    EXPECT_DOUBLE_EQ(m["crystal_structure"]["volume"].get<double>(), 80.0);
    EXPECT_DOUBLE_EQ(m["dft"]["energy"].get<double>(), -10.5);  // OUTCAR before OSZICAR
    EXPECT_EQ(m["dft"]["ionic_steps"], 3);                      // only OSZICAR has it
    EXPECT_EQ(m["dft"]["converged"], true);
    EXPECT_DOUBLE_EQ(m["dft"]["cutoff_energy"].get<double>(), 520.0);
    EXPECT_TRUE(m["custom"].contains("incar"));
    EXPECT_TRUE(m["custom"].contains("oszicar"));
    EXPECT_EQ(m["files"].size(), 5U);
    EXPECT_EQ(m["kiln"]["format"], "vasp-run");
    EXPECT_EQ(m["kiln"]["path"], "run/");
    EXPECT_EQ(m["kiln"]["members"].size(), 5U);
    EXPECT_FALSE(m["kiln"].contains("errors"));

    // vasprun.xml outranks them all; a member with an error gives its file and its error.
    auto with_vasprun = records;
    with_vasprun.push_back(
        record("run/vasprun.xml", "vasprun",
               {{"material", {{"formula", "Fe8O8"}}}, {"dft", {{"energy", -11.0}}}}));
    with_vasprun[1]["kiln"]["error"] = "poscar: line 3: expected 3 numbers";
    const auto v = merge_records(with_vasprun, FileGroup{"run/", "vasp-run", {0, 1, 2, 3, 4, 5}});
    EXPECT_EQ(v["material"]["formula"], "Fe8O8");
    EXPECT_DOUBLE_EQ(v["dft"]["energy"].get<double>(), -11.0);
    EXPECT_EQ(v["files"].size(), 6U);
    EXPECT_EQ(v["kiln"]["errors"],
              nlohmann::json::array({"run/POSCAR: poscar: line 3: expected 3 numbers"}));
}

}  // namespace
}  // namespace kiln::extract
