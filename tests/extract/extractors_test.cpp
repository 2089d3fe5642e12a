#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>

#include <archive.h>
#include <archive_entry.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <iterator>

#include "kiln/core/error.hpp"
#include "kiln/extract/extractor.hpp"
#include "kiln/extract/format.hpp"
#include "test_util.hpp"

namespace kiln::extract {
namespace {

std::vector<nlohmann::json> run(const std::string& format, const std::string& name,
                                const std::string& text) {
    return extract_file(name, format, text, ExtractLimits{});
}

const char* kNaCl = R"(data_NaCl
_cell_length_a 5.64
_cell_length_b 5.64
_cell_length_c 5.64
_cell_angle_alpha 90
_cell_angle_beta 90
_cell_angle_gamma 90
_symmetry_space_group_name_H-M 'F m -3 m'
loop_
_atom_site_label
_atom_site_type_symbol
_atom_site_fract_x
_atom_site_fract_y
_atom_site_fract_z
Na1 Na+ 0 0 0
Cl1 Cl- 0.5 0.5 0.5
)";

TEST(CifExtractor, ExpandsBySpaceGroup) {
    const auto r = run("cif", "NaCl.cif", kNaCl);
    ASSERT_EQ(r.size(), 1U);
    EXPECT_FALSE(r[0]["kiln"].contains("error")) << r[0].dump();
    const auto& cs = r[0]["crystal_structure"];
    EXPECT_EQ(cs["space_group_number"], 225);
    EXPECT_DOUBLE_EQ(cs["number_of_atoms"].get<double>(), 8.0);
    EXPECT_NEAR(cs["volume"].get<double>(), 5.64 * 5.64 * 5.64, 1e-6);
    EXPECT_EQ(r[0]["material"]["composition"], "ClNa");
    EXPECT_EQ(cs["stoichiometry"], "AB");
}

// Without a Hermann-Mauguin symbol the space group comes from its number: 225 expands the
// cell, and a number that is no space group (1e20, found by fuzzing: it overflowed an int;
// 12.5; 0) leaves the sites as given.
TEST(CifExtractor, SpaceGroupByNumberOnlyWhenItIsOne) {
    const auto by_number = [](const std::string& n) {
        std::string cif = kNaCl;
        cif.replace(cif.find("_symmetry_space_group_name_H-M 'F m -3 m'"),
                    std::string("_symmetry_space_group_name_H-M 'F m -3 m'").size(),
                    "_symmetry_Int_Tables_number " + n);
        const auto r = run("cif", "NaCl.cif", cif);
        EXPECT_FALSE(r[0]["kiln"].contains("error")) << r[0].dump();
        return r[0]["crystal_structure"]["number_of_atoms"].get<double>();
    };
    EXPECT_DOUBLE_EQ(by_number("225"), 8.0);
    for (const char* bad : {"111111111111111111098", "1e20", "12.5", "0", "-3"})
        EXPECT_DOUBLE_EQ(by_number(bad), 2.0) << bad;
}

TEST(CifExtractor, ExplicitDecimalSymopsAndPartialOccupancy) {
    const std::string cif = R"(data_x
_cell_length_a 4
_cell_length_b 4
_cell_length_c 4
_cell_angle_alpha 90
_cell_angle_beta 90
_cell_angle_gamma 90
loop_
_symmetry_equiv_pos_as_xyz
'x, y, z'
'x+.5, y+.5, z+.5'
loop_
_atom_site_label
_atom_site_type_symbol
_atom_site_fract_x
_atom_site_fract_y
_atom_site_fract_z
_atom_site_occupancy
Fe1 Fe 0 0 0 0.5
Co1 Co 0 0 0 0.5
)";
    const auto r = run("cif", "x.cif", cif);
    ASSERT_EQ(r.size(), 1U) << r[0].dump();
    EXPECT_DOUBLE_EQ(r[0]["crystal_structure"]["number_of_atoms"].get<double>(), 2.0);
    EXPECT_EQ(r[0]["crystal_structure"]["number_of_sites"], 2);
    EXPECT_EQ(r[0]["material"]["elements"], (nlohmann::json{"Co", "Fe"}));
}

TEST(CifExtractor, SeveralBlocksAndBadInput) {
    const std::string two = std::string(kNaCl) + "\n" + std::string(kNaCl).replace(5, 4, "NaCl2");
    EXPECT_EQ(run("cif", "two.cif", two).size(), 2U);
    for (const std::string& bad :
         {std::string("garbage"), std::string("data_x\n_cell_length_a 1\n"),
          std::string(kNaCl).substr(0, 100),
          std::string(kNaCl).replace(std::string(kNaCl).find("5.64"), 4, "0.00")}) {
        const auto r = run("cif", "bad.cif", bad);
        ASSERT_EQ(r.size(), 1U);
        EXPECT_TRUE(r[0]["kiln"].contains("error")) << bad;
    }
}

TEST(PoscarExtractor, Vasp5CartesianAndNegativeScale) {
    const std::string poscar =
        "Si2\n-40.0\n0 2.7 2.7\n2.7 0 2.7\n2.7 2.7 0\nSi\n2\nCartesian\n"
        "0 0 0\n1.35 1.35 1.35\n";
    const auto r = run("poscar", "POSCAR", poscar);
    ASSERT_FALSE(r[0]["kiln"].contains("error")) << r[0].dump();
    EXPECT_NEAR(r[0]["crystal_structure"]["volume"].get<double>(), 40.0, 1e-9);
    EXPECT_EQ(r[0]["crystal_structure"]["space_group_number"], 227);  // diamond
}

TEST(PoscarExtractor, Vasp4SpeciesAfterCoordinatesAndErrors) {
    const std::string v4 =
        "comment\n1.0\n3 0 0\n0 3 0\n0 0 3\n1 1\nDirect\n0 0 0 Cs\n.5 .5 .5 Cl\n";
    const auto r = run("poscar", "POSCAR", v4);
    ASSERT_FALSE(r[0]["kiln"].contains("error")) << r[0].dump();
    EXPECT_EQ(r[0]["material"]["composition"], "ClCs");
    EXPECT_EQ(r[0]["crystal_structure"]["space_group_number"], 221);
    const std::string nan = "x\n1.0\n3 0 0\n0 3 0\n0 0 3\nCs Cl\n1 1\nDirect\n0 0 nan\n.5 .5 .5\n";
    EXPECT_NE(run("poscar", "POSCAR", nan)[0]["kiln"]["error"].get<std::string>().find("finite"),
              std::string::npos);
    const std::string flat = "x\n1.0\n3 0 0\n3 0 0\n0 0 3\nCs\n1\nDirect\n0 0 0\n";
    EXPECT_NE(
        run("poscar", "POSCAR", flat)[0]["kiln"]["error"].get<std::string>().find("zero volume"),
        std::string::npos);
    EXPECT_TRUE(run("poscar", "POSCAR", "x\n1.0\n3 0 0\n")[0]["kiln"].contains("error"));
    EXPECT_TRUE(
        run("poscar", "POSCAR", "x\n1\n3 0 0\n0 3 0\n0 0 3\nQq\n1\nD\n0 0 0\n")[0]["kiln"].contains(
            "error"));
}

TEST(XyzExtractor, LastFrameExtendedLatticeCrlfBom) {
    const std::string xyz =
        "\xEF\xBB\xBF"
        "2\r\nfirst\r\nH 0 0 0\r\nH 0 0 0.74\r\n3\r\nsecond\r\nO 0 0 0\r\nH 0 0.76 0.59\r\nH 0 "
        "-0.76 0.59\r\n";
    const auto r = run("xyz", "w.xyz", xyz);
    ASSERT_FALSE(r[0]["kiln"].contains("error")) << r[0].dump();
    EXPECT_EQ(r[0]["kiln"]["frames"], 2);
    EXPECT_EQ(r[0]["material"]["composition"], "H2O");
    EXPECT_FALSE(r[0].contains("crystal_structure"));
    const std::string ext =
        "1\nLattice=\"3 0 0 0 3 0 0 0 3\" Properties=species:S:1:pos:R:3\nPo 0 0 0\n";
    const auto e = run("xyz", "po.extxyz", ext);
    EXPECT_EQ(e[0]["crystal_structure"]["space_group_number"], 221);
    EXPECT_TRUE(run("xyz", "t.xyz", "5\nc\nH 0 0 0\n")[0]["kiln"].contains("error"));
}

TEST(JsonExtractor, PymatgenObjectsAndCustomFields) {
    const std::string structure = R"({"@module": "pymatgen.core.structure", "@class": "Structure",
      "lattice": {"matrix": [[3, 0, 0], [0, 3, 0], [0, 0, 3]]},
      "sites": [{"species": [{"element": "Cs", "occu": 1}], "abc": [0, 0, 0]},
                {"species": [{"element": "Cl", "occu": 1}], "abc": [0.5, 0.5, 0.5]}]})";
    const auto s = run("json", "s.json", structure);
    EXPECT_EQ(s[0]["crystal_structure"]["space_group_number"], 221);
    const std::string entries =
        R"([{"@class": "ComputedEntry", "composition": {"Fe": 2, "O": 3}, "energy": -10.0},
                                    {"@class": "ComputedEntry", "composition": {"Li": 1}, "energy": -2.0}])";
    const auto e = run("json", "e.json", entries);
    ASSERT_EQ(e.size(), 2U);
    EXPECT_DOUBLE_EQ(e[0]["dft"]["energy_per_atom"].get<double>(), -2.0);
    const auto c = run("json", "c.json", R"({"a": {"b": 1, "c": [1, 2, 3]}, "d": "x"})");
    EXPECT_EQ(c[0]["custom"]["a.b"], 1);
    EXPECT_EQ(c[0]["custom"]["a.c"], 3);
    EXPECT_TRUE(run("json", "bad.json", "{not json")[0]["kiln"].contains("error"));
}

TEST(JsonExtractor, FormulaTablesWithPythonNaN) {
    // The shape of pymatgen's entries/exp_compounds.json.gz, NaN as Python writes it.
    const std::string table =
        R"([{"formula": "Ag2CO3", "exp energy": -5.242, "uncertainty": NaN, "mpid": "mp-4691"},
            {"formula": "Xx2", "exp energy": 1.0},
            {"mpid": null}])";
    const auto r = run("json", "exp.json", table);
    ASSERT_EQ(r.size(), 3U);
    EXPECT_EQ(r[0]["material"]["elements"], (nlohmann::json{"Ag", "C", "O"}));
    EXPECT_DOUBLE_EQ(r[0]["formation_enthalpy_per_atom"].get<double>(), -5.242 / 6);
    EXPECT_TRUE(r[0]["custom"]["uncertainty"].is_null());
    EXPECT_EQ(r[0]["custom"]["mpid"], "mp-4691");
    EXPECT_NE(r[1]["kiln"]["error"].get<std::string>().find("item 2"), std::string::npos);
    EXPECT_NE(r[2]["kiln"]["error"].get<std::string>().find("no formula"), std::string::npos);
}

TEST(Registry, NamesSkeletonAndDecompression) {
    const auto names = ExtractorRegistry::builtin().names();
    for (const char* n : {"skeleton", "cif", "poscar", "xyz", "json"}) {
        EXPECT_NE(ExtractorRegistry::builtin().find(n), nullptr) << n;
    }
    EXPECT_EQ(ExtractorRegistry::builtin().find("nonexistent"), nullptr);
    const auto skel =
        ExtractorRegistry::builtin().find("skeleton")->extract({"f", "a\nb\n", 0.01, {}});
    EXPECT_EQ(skel[0]["skeleton"]["lines"], 2);
    // gzip of "hello\n" (from Python's gzip.compress with mtime 0)
    const unsigned char gz[] = {0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02,
                                0xff, 0xcb, 0x48, 0xcd, 0xc9, 0xc9, 0xe7, 0x02, 0x00,
                                0x20, 0x30, 0x3a, 0x36, 0x06, 0x00, 0x00, 0x00};
    const std::string bytes(reinterpret_cast<const char*>(gz), sizeof gz);
    EXPECT_EQ(decompress("x.gz", bytes, 100), "hello\n");
    EXPECT_THROW((void)decompress("x.gz", bytes.substr(0, 12), 100), DataError);
    EXPECT_THROW((void)decompress("x.gz", bytes, 3), DataError);
    EXPECT_EQ(decompress("plain.txt", "abc", 100), "abc");
    // An unknown format keeps only the generic fields, without error.
    EXPECT_FALSE(run("unknown", "x.bin", "zzz")[0]["kiln"].contains("error"));
}

const char* kVasprun = R"(<?xml version="1.0" encoding="ISO-8859-1"?>
<modeling>
 <parameters>
  <separator name="electronic">
   <i type="string" name="GGA">PE</i>
   <i name="ENCUT">    520.00000000</i>
   <i type="int" name="NELM">    60</i>
  </separator>
  <separator name="ionic"><i type="int" name="NSW">     5</i></separator>
 </parameters>
 <atominfo>
  <array name="atoms"><set><rc><c>Cs</c><c>1</c></rc><rc><c>Cl</c><c>2</c></rc></set></array>
 </atominfo>
 <calculation>
  <scstep><energy><i name="e_fr_energy">-6.0</i><i name="e_0_energy">-6.0</i></energy></scstep>
  <scstep><energy><i name="e_fr_energy">-7.0</i><i name="e_0_energy">-7.0</i></energy></scstep>
  <energy><i name="e_fr_energy">-7.00000000</i><i name="e_0_energy">-7.00000000</i></energy>
 </calculation>
 <structure name="finalpos">
  <crystal><varray name="basis"><v>4 0 0</v><v>0 4 0</v><v>0 0 4</v></varray></crystal>
  <varray name="positions"><v>0 0 0</v><v>0.5 0.5 0.5</v></varray>
 </structure>
</modeling>
)";

TEST(VasprunExtractor, FinalStructureEnergyConvergence) {
    const auto r = extract_file("vasprun.xml", "vasprun", kVasprun, ExtractLimits{});
    ASSERT_FALSE(r[0]["kiln"].contains("error")) << r[0].dump();
    EXPECT_EQ(r[0]["material"]["composition"], "ClCs");
    EXPECT_EQ(r[0]["crystal_structure"]["space_group_number"], 221);
    const auto& dft = r[0]["dft"];
    EXPECT_DOUBLE_EQ(dft["energy"].get<double>(), -7.0);
    EXPECT_DOUBLE_EQ(dft["energy_per_atom"].get<double>(), -3.5);
    EXPECT_DOUBLE_EQ(dft["cutoff_energy"].get<double>(), 520.0);
    EXPECT_EQ(dft["exchange_correlation_functional"], "PBE");
    EXPECT_EQ(dft["converged"], true);  // 2 electronic steps < NELM, 1 ionic step < NSW
    const std::string cut = std::string(kVasprun).substr(0, 400);
    EXPECT_NE(extract_file("vasprun.xml", "vasprun", cut, ExtractLimits{})[0]["kiln"]["error"]
                  .get<std::string>()
                  .find("vasprun: not valid XML"),
              std::string::npos);
}

TEST(CsvExtractor, RecordPerRowWithFormulaColumn) {
    const std::string csv =
        "Formula,energy,\"note, quoted\",ok\r\nFe2O3,-1.5,\"a "
        "\"\"b\"\"\",true\nLiCoO2,-2,x,false\nXq,1,y,true\n";
    const auto r = extract_file("t.csv", "csv", csv, ExtractLimits{});
    ASSERT_EQ(r.size(), 3U);
    EXPECT_EQ(r[0]["material"]["composition"], "Fe2O3");
    EXPECT_DOUBLE_EQ(r[0]["custom"]["energy"].get<double>(), -1.5);
    EXPECT_EQ(r[0]["custom"]["note, quoted"], "a \"b\"");
    EXPECT_EQ(r[0]["custom"]["ok"], true);
    EXPECT_EQ(r[1]["custom"]["energy"], -2);
    EXPECT_NE(r[2]["kiln"]["error"].get<std::string>().find("unknown element"), std::string::npos);
    const auto plain = extract_file("p.tsv", "tsv", "a\tb\n1\t2\n3\t4\n", ExtractLimits{});
    EXPECT_EQ(plain[0]["custom"]["rows"], 2);
    EXPECT_EQ(plain[0]["custom"]["columns"], (nlohmann::json{"a", "b"}));
    EXPECT_TRUE(
        extract_file("q.csv", "csv", "formula\n\"Fe2O3\n", ExtractLimits{})[0]["kiln"].contains(
            "error"));
}

TEST(ImageExtractor, PngHeader) {
    // A 3 x 2 RGBA PNG header (signature + IHDR) is enough for the dimensions.
    const unsigned char png[] = {0x89, 'P', 'N', 'G', 0x0d, 0x0a, 0x1a, 0x0a, 0,    0,    0,
                                 13,   'I', 'H', 'D', 'R',  0,    0,    0,    3,    0,    0,
                                 0,    2,   8,   6,   0,    0,    0,    0x5a, 0x6b, 0x28, 0x4e};
    const auto r =
        extract_file("x.png", "image", std::string(reinterpret_cast<const char*>(png), sizeof png),
                     ExtractLimits{});
    ASSERT_FALSE(r[0]["kiln"].contains("error")) << r[0].dump();
    EXPECT_EQ(r[0]["image"]["shape"], (nlohmann::json{2, 3, 4}));
    EXPECT_EQ(r[0]["image"]["color_depth"], 32);
    EXPECT_EQ(r[0]["image"]["format"], "png");
    EXPECT_TRUE(
        extract_file("y.png", "image", "\x89PNG garbage", ExtractLimits{})[0]["kiln"].contains(
            "error"));
}

// VASP 4 without symbols after the coordinates: the comment line names the species, as a
// formula or as words.
TEST(PoscarExtractor, Vasp4SpeciesFromTheCommentLine) {
    for (const std::string comment : {"Cs1Cl1", "Cs Cl"}) {
        const std::string v4 =
            comment + "\n1.0\n3 0 0\n0 3 0\n0 0 3\n1 1\nDirect\n0 0 0\n.5 .5 .5\n";
        const auto r = extract_file("POSCAR", "poscar", v4, ExtractLimits{});
        ASSERT_FALSE(r[0]["kiln"].contains("error")) << comment << r[0].dump();
        EXPECT_EQ(r[0]["material"]["composition"], "ClCs") << comment;
    }
    const std::string none = "relaxed\n1.0\n3 0 0\n0 3 0\n0 0 3\n1 1\nDirect\n0 0 0\n.5 .5 .5\n";
    EXPECT_NE(extract_file("POSCAR", "poscar", none, ExtractLimits{})[0]["kiln"]["error"]
                  .get<std::string>()
                  .find("VASP 4 POSCAR without species"),
              std::string::npos);
}

// A VASP 4 POSCAR's species come from the POTCAR beside it. kiln keeps what a POTCAR said for
// as long as the file is the same, and reads it again once it changes.
TEST(PoscarExtractor, Vasp4SpeciesFromThePotcarBesideFollowItsChanges) {
    test::TempDir dir;
    const std::string poscar = dir / "POSCAR";
    test::write_text(poscar, "relaxed\n1.0\n3 0 0\n0 3 0\n0 0 3\n1 1\nDirect\n0 0 0\n.5 .5 .5\n");
    EXPECT_TRUE(vasp_species_beside(poscar).empty());  // no POTCAR, no OUTCAR
    test::write_text(dir / "POTCAR",
                     "  PAW_PBE Cs_sv\n   VRHFIN =Cs: 5s5p6s\n"
                     "  PAW_PBE Cl\n   VRHFIN =Cl: s2p5\n");
    EXPECT_EQ(vasp_species_beside(poscar), (std::vector<int>{55, 17}));
    EXPECT_EQ(vasp_species_beside(dir / "CONTCAR"), (std::vector<int>{55, 17}));  // remembered
    test::write_text(dir / "POTCAR",
                     "  PAW_PBE Na_pv\n   VRHFIN =Na: 2p3s\n"
                     "  PAW_PBE Cl\n   VRHFIN =Cl: s2p5\n  (rewritten)\n");
    EXPECT_EQ(vasp_species_beside(poscar), (std::vector<int>{11, 17}));
    test::write_text(dir / "POTCAR", "   VRHFIN =Xx: unknown\n");
    EXPECT_TRUE(vasp_species_beside(poscar).empty());  // a label kiln cannot name: no guess
    ::unlink((dir / "POTCAR").c_str());
    EXPECT_TRUE(vasp_species_beside(poscar).empty());
}

TEST(IncarExtractor, TagsTypesCommentsAndFunctional) {
    const auto r = run("incar", "INCAR",
                       "System is a title line\n"
                       "ENCUT = 520 ; ISMEAR = -5  # comment\n"
                       "GGA = PS\nLWAVE = .FALSE.\nLASPH = .True\nEDIFF = 1E-6\n"
                       "MAGMOM = 2*0.6 ! moments\nALGO = Fast\n");
    ASSERT_FALSE(r[0]["kiln"].contains("error")) << r[0].dump();
    const auto& t = r[0]["custom"]["incar"];
    EXPECT_EQ(t["ENCUT"], 520);
    EXPECT_EQ(t["ISMEAR"], -5);
    EXPECT_EQ(t["LWAVE"], false);
    EXPECT_EQ(t["LASPH"], true);
    EXPECT_DOUBLE_EQ(t["EDIFF"].get<double>(), 1e-6);
    EXPECT_EQ(t["MAGMOM"], "2*0.6");
    EXPECT_EQ(t["ALGO"], "Fast");  // not a logical: only L... tags read "F..." as false
    EXPECT_EQ(r[0]["dft"]["exchange_correlation_functional"], "PBEsol");
    EXPECT_DOUBLE_EQ(r[0]["dft"]["cutoff_energy"].get<double>(), 520.0);
    EXPECT_EQ(run("incar", "INCAR",
                  "LHFCALC = .TRUE.\nGGA = PE\n")[0]["dft"]["exchange_correlation_functional"],
              "hybrid");
    EXPECT_NE(run("incar", "INCAR", "just text\n")[0]["kiln"]["error"].get<std::string>().find(
                  "no TAG = value"),
              std::string::npos);
}

TEST(OszicarExtractor, LastIonicStepAndErrors) {
    const auto r =
        run("oszicar", "OSZICAR",
            "       N       E                     dE             d eps       ncg\n"
            "DAV:   1     0.45E+04    0.45E+04   -0.17E+05 16576   0.16E+03\n"
            "   1 F= -.10868800E+03 E0= -.10868778E+03  d E =-.108688E+03  mag=     2.0\n"
            "DAV:   1    -0.10E+03   -0.1E+01   -0.17E+01 16576   0.16E+03\n"
            "   2 F= -.10870000E+03 E0= -.10869000E+03  d E =-.1E-01  mag=     1.5\n");
    ASSERT_FALSE(r[0]["kiln"].contains("error")) << r[0].dump();
    EXPECT_DOUBLE_EQ(r[0]["dft"]["energy"].get<double>(), -108.69);
    EXPECT_EQ(r[0]["dft"]["ionic_steps"], 2);
    EXPECT_DOUBLE_EQ(r[0]["custom"]["oszicar"]["magnetization"].get<double>(), 1.5);
    // Molecular dynamics lines carry T= E= F= E0=.
    const auto md =
        run("oszicar", "OSZICAR",
            "    1 T=   300. E= -.1E+03 F= -.2E+03 E0= -.3E+03 EK= 0.1E+01 SP= 0.0 SK= 0.0\n");
    EXPECT_DOUBLE_EQ(md[0]["dft"]["energy"].get<double>(), -300.0);
    EXPECT_NE(run("oszicar", "OSZICAR", "DAV: 1 2 3\n")[0]["kiln"]["error"].get<std::string>().find(
                  "no ionic step"),
              std::string::npos);
    EXPECT_NE(run("oszicar", "OSZICAR", "   1 F= abc E0= 1\n")[0]["kiln"]["error"]
                  .get<std::string>()
                  .find("line 1"),
              std::string::npos);
}

TEST(KpointsExtractor, MeshesLinesExplicitAndErrors) {
    const auto mp = run("kpoints", "KPOINTS", "mesh\n0\nMonkhorst-Pack\n 4 4 2\n 0 0 0\n");
    EXPECT_EQ(mp[0]["custom"]["kpoints"]["style"], "Monkhorst");
    EXPECT_EQ(mp[0]["custom"]["kpoints"]["grid"], nlohmann::json({4, 4, 2}));
    const auto g = run("kpoints", "KPOINTS", "mesh\n0\ngamma\n 3 3 3\n");
    EXPECT_EQ(g[0]["custom"]["kpoints"]["style"], "Gamma");
    const auto a = run("kpoints", "KPOINTS", "auto\n0\nAuto\n 25\n");
    EXPECT_EQ(a[0]["custom"]["kpoints"]["style"], "Automatic");
    EXPECT_DOUBLE_EQ(a[0]["custom"]["kpoints"]["length"].get<double>(), 25.0);
    const auto l = run(
        "kpoints", "KPOINTS",
        "band\n10\nLine-mode\nreciprocal\n0 0 0 ! G\n0.5 0 0 ! X\n\n0.5 0 0\n0.5 0.5 0\n// END\n");
    EXPECT_EQ(l[0]["custom"]["kpoints"]["style"], "Line_mode");
    EXPECT_EQ(l[0]["custom"]["kpoints"]["points"], 4);
    EXPECT_EQ(l[0]["custom"]["kpoints"]["num_kpts"], 10);
    const auto e = run("kpoints", "KPOINTS", "x\n2\nCartesian\n0 0 0 1\n0 0 0.5 1\n");
    EXPECT_EQ(e[0]["custom"]["kpoints"]["style"], "Cartesian");
    EXPECT_EQ(e[0]["custom"]["kpoints"]["points"], 2);
    EXPECT_NE(run("kpoints", "KPOINTS", "x\n3\nReciprocal\n0 0 0 1\n")[0]["kiln"]["error"]
                  .get<std::string>()
                  .find("line 2 says 3 k-points, 1 are listed"),
              std::string::npos);
    EXPECT_NE(
        run("kpoints", "KPOINTS", "x\n0\nGamma\n4 4\n")[0]["kiln"]["error"].get<std::string>().find(
            "line 4"),
        std::string::npos);
    EXPECT_NE(
        run("kpoints", "KPOINTS", "x\n")[0]["kiln"]["error"].get<std::string>().find("3 lines"),
        std::string::npos);
}

TEST(YamlExtractor, TypesAsPyYamlDocumentsAndBombs) {
    const auto r = run("yaml", "x.yaml",
                       "a: yes\nb: 'yes'\nc: 1e5\nd: 1.0e+5\ne: 0x1F\nf: 010\ng: ~\nh: [1, 2, 3]\n"
                       "i: {j: 1_000, k: -2.5}\nl: .inf\n---\nsecond: 2\n");
    ASSERT_EQ(r.size(), 2U);
    const auto& c = r[0]["custom"];
    EXPECT_EQ(c["a"], true);
    EXPECT_EQ(c["b"], "yes");
    EXPECT_EQ(c["c"], "1e5");  // YAML 1.1: an exponent needs a sign and a dot
    EXPECT_DOUBLE_EQ(c["d"].get<double>(), 1e5);
    EXPECT_EQ(c["e"], 31);
    EXPECT_EQ(c["f"], 8);
    EXPECT_TRUE(c["g"].is_null());
    EXPECT_EQ(c["h"], 3);  // arrays: their length
    EXPECT_EQ(c["i.j"], 1000);
    EXPECT_EQ(c["l"], ".inf");
    EXPECT_EQ(r[1]["custom"]["second"], 2);
    EXPECT_NE(run("yaml", "x.yaml", "a: [1, 2\n")[0]["kiln"]["error"].get<std::string>().find(
                  "not valid YAML: line"),
              std::string::npos);
    // A billion laughs: nine levels of nine aliases is refused, not expanded.
    std::string bomb = "a0: &a0 [x, x, x, x, x, x, x, x, x]\n";
    for (int i = 1; i < 9; ++i) {
        bomb += "a" + std::to_string(i) + ": &a" + std::to_string(i) + " [";
        for (int k = 0; k < 9; ++k) bomb += (k > 0 ? ", *a" : "*a") + std::to_string(i - 1);
        bomb += "]\n";
    }
    EXPECT_NE(run("yaml", "bomb.yaml", bomb)[0]["kiln"]["error"].get<std::string>().find("nodes"),
              std::string::npos);
    // A mapping as a key, as PyYAML refuses it (fuzz_yaml: 30 keys nested in keys took seconds
    // when each key's text quoted the one inside it).
    std::string nested = "a: ";
    for (int i = 0; i < 30; ++i) nested += "{";
    nested += "x";
    for (int i = 0; i < 30; ++i) nested += "}";
    const auto keyed = run("yaml", "keys.yaml", nested + "\n");
    EXPECT_NE(keyed[0]["kiln"]["error"].get<std::string>().find(
                  "line 1: a mapping or list as a mapping key"),
              std::string::npos);
    EXPECT_NE(run("yaml", "x.yaml", "? [a, b]\n: 1\n")[0]["kiln"]["error"].get<std::string>().find(
                  "a mapping or list as a mapping key"),
              std::string::npos);
}

// A two-step relaxation cut down to the lines the OUTCAR extractor reads; the second
// lattice row has VASP's run-together numbers.
const char* kOutcar = R"( vasp.5.4.4 complex
   VRHFIN =Fe: d7 s1
   TITEL  = PAW_PBE Fe_pv 06Sep2000
   VRHFIN =O: s2p4
   TITEL  = PAW_PBE O 08Apr2002
   ions per type =               1   1
   NELM   =     60;   NELMIN=  2
   NSW    =     10    number of steps
   ENCUT  =  520.0 eV  38.22 Ry
   GGA     =    --    GGA type
   LHFCALC =     F    Hartree Fock is set to
   NELECT =      14.0000    total number of electrons
--------------------------------------- Iteration    1(   1)  ---------------------------------------
  energy without entropy =      -9.00000000  energy(sigma->0) =      -9.00000000
 E-fermi :   4.0000     XC(G=0): -10.6
 number of electron      14.0000000 magnetization       3.0000000
      direct lattice vectors                 reciprocal lattice vectors
     4.000000000  0.000000000  0.000000000     0.25 0 0
     0.000000000  4.000000000  0.000000000     0 0.25 0
     0.000000000  0.000000000  4.000000000     0 0 0.25
 POSITION                                       TOTAL-FORCE (eV/Angst)
 -----------------------------------------------------------------------------------
      0.00000      0.00000      0.00000         0.000000      0.000000      0.000000
      2.00000      2.00000      2.00000         0.000000      0.000000      0.000000
 -----------------------------------------------------------------------------------
  free  energy   TOTEN  =        -9.100000 eV
  energy  without entropy=       -9.050000  energy(sigma->0) =       -9.075000
--------------------------------------- Iteration    2(   3)  ---------------------------------------
  energy without entropy =      -9.50000000  energy(sigma->0) =      -9.50000000
 E-fermi :   4.5000     XC(G=0): -10.6
 number of electron      14.0000000 magnetization       2.5000000
      direct lattice vectors                 reciprocal lattice vectors
     3.900000000  0.000000000  0.000000000     0.25 0 0
     0.000000000  3.900000000-0.000000000     0 0.25 0
     0.000000000  0.000000000  3.900000000     0 0 0.25
 POSITION                                       TOTAL-FORCE (eV/Angst)
 -----------------------------------------------------------------------------------
      0.00000      0.00000      0.00000         0.000000      0.000000      0.000000
      1.95000      1.95000      1.95000         0.000000      0.000000      0.000000
 -----------------------------------------------------------------------------------
  free  energy   TOTEN  =        -9.600000 eV
  energy  without entropy=       -9.550000  energy(sigma->0) =       -9.575000
 reached required accuracy - stopping structural energy minimisation
 General timing and accounting informations for this job:
)";

TEST(OutcarExtractor, FinalStepStructureEnergiesAndFunctionalFromPotcar) {
    const auto r = run("outcar", "OUTCAR", kOutcar);
    ASSERT_EQ(r.size(), 1U);
    ASSERT_FALSE(r[0]["kiln"].contains("error")) << r[0].dump();
    EXPECT_EQ(r[0]["material"]["composition"], "FeO");
    EXPECT_NEAR(r[0]["crystal_structure"]["volume"].get<double>(), 3.9 * 3.9 * 3.9, 1e-9);
    EXPECT_EQ(r[0]["crystal_structure"]["space_group_number"], 221);  // CsCl type
    const auto& dft = r[0]["dft"];
    EXPECT_DOUBLE_EQ(dft["energy"].get<double>(), -9.575);
    EXPECT_DOUBLE_EQ(dft["energy_per_atom"].get<double>(), -9.575 / 2);
    EXPECT_EQ(dft["ionic_steps"], 2);
    EXPECT_EQ(dft["converged"], true);
    EXPECT_DOUBLE_EQ(dft["cutoff_energy"].get<double>(), 520.0);
    EXPECT_EQ(dft["exchange_correlation_functional"], "PBE");  // GGA unset, PAW_PBE POTCARs
    const auto& o = r[0]["custom"]["outcar"];
    EXPECT_DOUBLE_EQ(o["free_energy"].get<double>(), -9.6);
    EXPECT_DOUBLE_EQ(o["energy_without_entropy"].get<double>(), -9.55);
    EXPECT_DOUBLE_EQ(o["efermi"].get<double>(), 4.5);
    EXPECT_DOUBLE_EQ(o["total_magnetization"].get<double>(), 2.5);
    EXPECT_DOUBLE_EQ(o["nelect"].get<double>(), 14.0);
}

TEST(OutcarExtractor, KilledRunsAndBadInput) {
    std::string killed = kOutcar;
    killed.resize(killed.find(" General timing"));
    EXPECT_EQ(run("outcar", "OUTCAR", killed)[0]["dft"]["converged"], false);
    // A POSITION block cut short: no final structure, the composition from the counts.
    std::string cut = kOutcar;
    cut.resize(cut.rfind("      1.95000"));
    const auto c = run("outcar", "OUTCAR", cut)[0];
    EXPECT_FALSE(c.contains("crystal_structure")) << c.dump();
    EXPECT_EQ(c["material"]["composition"], "FeO");
    EXPECT_NE(
        run("outcar", "OUTCAR", "hello\n")[0]["kiln"]["error"].get<std::string>().find("VRHFIN"),
        std::string::npos);
    std::string unknown = kOutcar;
    unknown.replace(unknown.find("=Fe:"), 4, "=Qq:");
    EXPECT_NE(run("outcar", "OUTCAR", unknown)[0]["kiln"]["error"].get<std::string>().find(
                  "unknown element"),
              std::string::npos);
    // fuzz_outcar: an iteration number of 3e118 was cast to long (undefined behaviour).
    std::string huge = kOutcar;
    huge.replace(huge.find("Iteration    2(   3)"), 20, "Iteration 3e118(   3)");
    EXPECT_EQ(run("outcar", "OUTCAR", huge)[0]["dft"]["ionic_steps"], 1);
    std::string mismatch = kOutcar;
    mismatch.replace(mismatch.find("1   1"), 5, "1   1   2");
    EXPECT_NE(run("outcar", "OUTCAR", mismatch)[0]["kiln"]["error"].get<std::string>().find(
                  "2 POTCAR species"),
              std::string::npos);
}

// A pw.x relaxation cut down to the lines the extractor reads (alat 10 bohr, Si in a simple
// cubic cell, then a final cell in Angstrom with crystal coordinates).
const char* kPwRelax = R"(     Program PWSCF v.6.7MaX starts on  1Jan2021
     lattice parameter (alat)  =      10.0000  a.u.
     number of atoms/cell      =            2
     kinetic-energy cutoff     =      30.0000  Ry
     A smooth kinetic-energy cutoff is imposed at      25.0000 Ry
     Exchange-correlation= PBE
                           (   1   4   3   4   0   0   0)
     celldm(1)=  10.000000  celldm(2)=   0.000000  celldm(3)=   0.000000
               a(1) = (   1.000000   0.000000   0.000000 )
               a(2) = (   0.000000   1.000000   0.000000 )
               a(3) = (   0.000000   0.000000   1.000000 )
     site n.     atom                  positions (alat units)
         1           Si  tau(   1) = (   0.0000000   0.0000000   0.0000000  )
         2           Si2 tau(   2) = (   0.2500000   0.2500000   0.2500000  )
     the Fermi energy is     6.5000 ev
!    total energy              =     -15.00000000 Ry
     convergence has been achieved in   6 iterations
     BFGS Geometry Optimization
     the Fermi energy is     6.2500 ev
!    total energy              =     -15.50000000 Ry
     convergence has been achieved in   4 iterations
     bfgs converged in   2 scf cycles and   1 bfgs steps
Begin final coordinates
CELL_PARAMETERS (angstrom)
   5.000000000   0.000000000   0.000000000
   0.000000000   5.000000000   0.000000000
   0.000000000   0.000000000   5.000000000
ATOMIC_POSITIONS (crystal)
Si            0.0000000000        0.0000000000        0.0000000000
Si            0.5000000000        0.5000000000        0.5000000000
End final coordinates
   JOB DONE.
)";

TEST(EspressoExtractor, FinalStructureEnergyInEvAndConvergence) {
    const auto r = run("espresso", "relax.out", kPwRelax);
    ASSERT_EQ(r.size(), 1U);
    ASSERT_FALSE(r[0]["kiln"].contains("error")) << r[0].dump();
    EXPECT_EQ(r[0]["material"]["formula"], "Si2");
    EXPECT_NEAR(r[0]["crystal_structure"]["volume"].get<double>(), 125.0, 1e-9);
    EXPECT_EQ(r[0]["crystal_structure"]["space_group_number"], 229);  // bcc
    const auto& dft = r[0]["dft"];
    EXPECT_NEAR(dft["energy"].get<double>(), -15.5 * 13.605693122994, 1e-9);
    EXPECT_NEAR(dft["cutoff_energy"].get<double>(), 30 * 13.605693122994, 1e-9);
    EXPECT_EQ(dft["exchange_correlation_functional"], "PBE");
    EXPECT_EQ(dft["ionic_steps"], 2);
    EXPECT_EQ(dft["converged"], true);
    const auto& e = r[0]["custom"]["espresso"];
    EXPECT_EQ(e["calculation"], "relax");
    EXPECT_DOUBLE_EQ(e["ecutwfc_ry"].get<double>(), 30.0);
    EXPECT_DOUBLE_EQ(e["efermi"].get<double>(), 6.25);
}

TEST(EspressoExtractor, FirstStructureUnconvergedRelaxationAndBadInput) {
    // Cut before the final coordinates: the starting cell (alat units), not converged.
    std::string cut = kPwRelax;
    cut.resize(cut.find("     bfgs converged"));
    const auto r = run("espresso", "relax.out", cut)[0];
    ASSERT_FALSE(r["kiln"].contains("error")) << r.dump();
    EXPECT_NEAR(r["crystal_structure"]["volume"].get<double>(), std::pow(10 * 0.529177210903, 3),
                1e-6);
    EXPECT_EQ(r["dft"]["converged"], false);
    std::string short_positions = cut;
    const std::string two = "atoms/cell      =            2";
    short_positions.replace(short_positions.find(two), two.size(),
                            "atoms/cell      =            3");
    EXPECT_NE(run("espresso", "x.out", short_positions)[0]["kiln"]["error"].get<std::string>().find(
                  "expected 3 atomic positions"),
              std::string::npos);
    EXPECT_NE(
        run("espresso", "x.out", "Program PWSCF\n")[0]["kiln"]["error"].get<std::string>().find(
            "not a pw.x output"),
        std::string::npos);
}

// gzip bytes with libarchive's raw writer.
std::string gzip(const std::string& text) {
    std::string out(text.size() + 1024, '\0');
    std::size_t used = 0;
    archive* a = archive_write_new();
    archive_write_add_filter_gzip(a);
    archive_write_set_format_raw(a);
    archive_write_open_memory(a, out.data(), out.size(), &used);
    archive_entry* e = archive_entry_new();
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_size(e, static_cast<la_int64_t>(text.size()));
    archive_write_header(a, e);
    archive_write_data(a, text.data(), text.size());
    archive_entry_free(e);
    archive_write_close(a);
    archive_write_free(a);
    out.resize(used);
    return out;
}

TEST(Format, CompressedContentIsRecognisedByItsHead) {
    const std::string text = kPwRelax;
    const std::string gz = gzip(text);
    ASSERT_NE(gz, text);
    EXPECT_EQ(content_head("pw.out", text, 40), text.substr(0, 40));
    EXPECT_EQ(content_head("pw.out.gz", gz, 40), text.substr(0, 40));
    // The head of a gzip stream cut short (a streamed file's first bytes) still reads.
    EXPECT_EQ(content_head("pw.out.gz", gz.substr(0, gz.size() / 2), 40), text.substr(0, 40));
    // Not compressed after all: the bytes as they are.
    EXPECT_EQ(content_head("pw.out.gz", "not gzip at all", 40), "not gzip at all");
    // and so a gzipped pw.x output is found by content, and extracted whole.
    EXPECT_EQ(detect_format("run/pw.out.gz", "application/gzip", content_head("run/pw.out.gz", gz)),
              "espresso");
    const auto r = run("espresso", "run/pw.out.gz", gz);
    EXPECT_EQ(r[0]["material"]["formula"], "Si2") << r[0].dump();
}

std::string read_test_file(const std::string& name) {
    std::ifstream in(std::string(KILN_TEST_DATA) + "/" + name, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

TEST(Hdf5Extractor, TreeOfARealFileReadInTheHelper) {
    ::setenv("KILN_HDF5_READER", KILN_HDF5_READER_PATH, 1);
    // PyTables' smpl_compound_chunked.h5: one chunked compound dataset of 6 rows.
    const auto r = run("hdf5", "t.h5", read_test_file("hdf5/pytables_compound.h5"));
    ASSERT_FALSE(r[0]["kiln"].contains("error")) << r[0].dump();
    const auto& h = r[0]["custom"]["hdf5"];
    EXPECT_EQ(h["groups"], 0);
    EXPECT_EQ(h["datasets"], 1);
    ASSERT_EQ(h["tree"].size(), 1U);
    EXPECT_EQ(h["tree"][0]["path"], "/CompoundChunked");
    EXPECT_EQ(h["tree"][0]["dtype"], "compound");
    EXPECT_EQ(h["tree"][0]["shape"], nlohmann::json::array({6}));
}

TEST(Hdf5Extractor, AFileThatCrashesLibhdf5IsThatFilesError) {
    ::setenv("KILN_HDF5_READER", KILN_HDF5_READER_PATH, 1);
    // Found by fuzz_hdf5: libhdf5 1.10.8 overflows a heap buffer in H5Dopen on it. The
    // helper dies (SIGSEGV, or exit 1 under AddressSanitizer); this process does not.
    const auto r = run("hdf5", "evil.h5", read_test_file("hdf5/crashes_libhdf5.h5"));
    const std::string error = r[0]["kiln"].value("error", "");
    EXPECT_NE(error.find("kiln-hdf5-reader"), std::string::npos) << r[0].dump();
    EXPECT_NE(run("hdf5", "no.h5", "not HDF5 at all")[0]["kiln"]["error"].get<std::string>().find(
                  "no HDF5 signature"),
              std::string::npos);
    ::setenv("KILN_HDF5_READER", "/nonexistent/kiln-hdf5-reader", 1);
    EXPECT_NE(run("hdf5", "t.h5", read_test_file("hdf5/pytables_compound.h5"))[0]["kiln"]["error"]
                  .get<std::string>()
                  .find("cannot start /nonexistent/kiln-hdf5-reader"),
              std::string::npos);
    ::unsetenv("KILN_HDF5_READER");
}

TEST(Extract, SymprecReachesSpglibAndZeroLeavesTheSpaceGroupOut) {
    // A slightly distorted rock salt: cubic within 0.1 A, not within 1e-4 A.
    const std::string poscar =
        "NaCl\n1.0\n5.64 0 0\n0 5.64 0\n0 0 5.64\nNa Cl\n4 4\nDirect\n"
        "0 0 0\n0.5 0.5 0.003\n0.5 0 0.5\n0 0.5 0.5\n"
        "0.5 0 0\n0 0.5 0\n0 0 0.5\n0.5 0.5 0.5\n";
    ExtractLimits loose;
    loose.symprec = 0.1;
    ExtractLimits tight;
    tight.symprec = 1e-4;
    ExtractLimits none;
    none.symprec = 0;
    const auto sg = [&](const ExtractLimits& l) {
        return extract_file("POSCAR", "poscar", poscar, l)[0]["crystal_structure"];
    };
    EXPECT_EQ(sg(loose)["space_group_number"], 225);
    EXPECT_NE(sg(tight)["space_group_number"], 225);
    EXPECT_FALSE(sg(none).contains("space_group_number"));
    EXPECT_NEAR(sg(none)["volume"].get<double>(), 5.64 * 5.64 * 5.64, 1e-9);
}

// Found by an hour of fuzzing CIF: a 2-atom cell of 7 076 x 0.74 A kept spglib busy 8 s (and it
// found nothing). A cell whose longest axis is over 1 000 times its shortest gets no space
// group, at once, with a warning saying why; where spglib finds no group the number is left
// out too (it used to be written as 0, which is no space group).
TEST(Extract, AnAbsurdlyElongatedCellGetsNoSpaceGroupQuickly) {
    const auto poscar = [](double b) {
        return "Fe\n1.0\n10.4 0 0\n0 " + std::to_string(b) +
               " 0\n0 0 0.7448\nFe\n2\nDirect\n0 0 0\n0.25 0.1 0.5\n";
    };
    const auto t0 = std::chrono::steady_clock::now();
    const auto r = extract_file("POSCAR", "poscar", poscar(7076.56), ExtractLimits{})[0];
    EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(1));
    EXPECT_FALSE(r["crystal_structure"].contains("space_group_number"));
    ASSERT_TRUE(r["kiln"].contains("warnings"));
    EXPECT_NE(r["kiln"]["warnings"][0].get<std::string>().find("longest axis"), std::string::npos);
    // The same cell 100 times less elongated is searched as usual.
    const auto ok = extract_file("POSCAR", "poscar", poscar(70.7656), ExtractLimits{})[0];
    EXPECT_TRUE(ok["crystal_structure"].contains("space_group_number"));
}

// The next hour of fuzzing: a cubic cell whose alpha became 178 degrees (b + c is 0.16 A
// long) kept spglib busy 11 s. A lattice translation under 0.5 A gets no space group either.
TEST(Extract, AFlatCellGetsNoSpaceGroupQuickly) {
    const std::string poscar =
        "NaCl\n1.0\n4.61 0 0\n0 4.61 0\n0 -4.6072 0.1609\nNa Cl\n1 1\nDirect\n"
        "0 0 0\n0.5 0.5 0.5\n";
    const auto t0 = std::chrono::steady_clock::now();
    const auto r = extract_file("POSCAR", "poscar", poscar, ExtractLimits{})[0];
    EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(1));
    EXPECT_FALSE(r["crystal_structure"].contains("space_group_number"));
    EXPECT_NE(r["kiln"]["warnings"][0].get<std::string>().find("lattice translation of 0.161 A"),
              std::string::npos);
    // The 20 s fuzzing in scripts/test.sh: a scale of -3.3e51 (a volume) made axes of 1e17 A,
    // 13 s in spglib. An axis over 10 000 A is not searched either; 7 600 A is.
    const auto huge = [](const std::string& scale) {
        return extract_file("POSCAR", "poscar",
                            "Si2\n" + scale +
                                "\n0 2.7 2.7\n2.7 0 2.7\n2.7 2.7 0\nSi\n2\nDirect\n0 0 0\n"
                                "0.25 0.25 0.25\n",
                            ExtractLimits{})[0];
    };
    const auto t1 = std::chrono::steady_clock::now();
    const auto big = huge("-3333333333333333333333333333333333333333333333333340.0");
    EXPECT_LT(std::chrono::steady_clock::now() - t1, std::chrono::seconds(1));
    EXPECT_NE(big["kiln"]["warnings"][0].get<std::string>().find("longest axis"),
              std::string::npos);
    EXPECT_EQ(huge("2000")["crystal_structure"]["space_group_number"], 227);
}

// fuzz_poscar (2026-11-28): a site at fractional z = 1.1e42 kept spglib busy 35 s, and one at
// 3e9 got space group 44 instead of 225 (spglib rounds coordinates to int).
TEST(Extract, ASiteMillionsOfCellsAwayGetsNoSpaceGroup) {
    const auto extract = [](const std::string& z) {
        return extract_file(
            "POSCAR", "poscar",
            "Si\n-48.0\n0 2.7 2.7\n2.7 0 2.7\n2.7 2.7 0\nSi\n1\nDirect\n2.7 2.7 " + z + "\n",
            ExtractLimits{})[0];
    };
    const auto t0 = std::chrono::steady_clock::now();
    const auto far = extract("01111111111111111111111111111111111111111111");
    EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(1));
    EXPECT_FALSE(far["crystal_structure"].contains("space_group_number"));
    EXPECT_NE(
        far["kiln"]["warnings"][0].get<std::string>().find("fractional coordinate is 1.11e+42"),
        std::string::npos);
    EXPECT_FALSE(extract("3000000000.25")["crystal_structure"].contains("space_group_number"));
    EXPECT_EQ(extract("999999.25")["crystal_structure"]["space_group_number"], 225);
}

TEST(Extract, ACellWithAlmostNoVolumeGetsNoSpaceGroupQuickly) {
    // fuzz_outcar: b = (1, 4, 0.0005) almost in the plane of a and c = (0, 4, 0): 0.008 A^3,
    // no translation of the 13 checked is short, and spglib searched for 114 s.
    const std::string poscar =
        "FeO\n1.0\n4 0 0\n1 4 0.0005\n0 4 0\nFe O\n1 1\nDirect\n0 0 0\n0.5 0.5 0.5\n";
    const auto t0 = std::chrono::steady_clock::now();
    const auto r = extract_file("POSCAR", "poscar", poscar, ExtractLimits{})[0];
    EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(1));
    EXPECT_FALSE(r["crystal_structure"].contains("space_group_number"));
    EXPECT_NE(r["kiln"]["warnings"][0].get<std::string>().find("A^3 per site"), std::string::npos)
        << r.dump();
}

TEST(Extract, AnErrorQuotesAtMostAThousandBytesOfTheInput) {
    // fuzz_poscar: a 30 KB species line became a 130 KB error message in the record.
    const std::string poscar =
        "x\n1.0\n3 0 0\n0 3 0\n0 0 3\nSi" + std::string(100000, 'q') + "\n1\nDirect\n0 0 0\n";
    const auto r = extract_file("POSCAR", "poscar", poscar, ExtractLimits{})[0];
    const auto error = r["kiln"]["error"].get<std::string>();
    EXPECT_LT(error.size(), 1100U);
    EXPECT_NE(error.find("unknown element 'Siqqq"), std::string::npos) << error;
    EXPECT_NE(error.find("more bytes)"), std::string::npos) << error;
}

}  // namespace
}  // namespace kiln::extract
