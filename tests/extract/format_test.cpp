#include <gtest/gtest.h>

#include "kiln/extract/format.hpp"

namespace kiln::extract {
namespace {

TEST(Format, VaspNamesAndCompressionSuffixes) {
    EXPECT_EQ(detect_format("run/POSCAR", "text/plain", ""), "poscar");
    EXPECT_EQ(detect_format("CONTCAR.relax2.gz", "application/gzip", ""), "poscar");
    EXPECT_EQ(detect_format("x/OUTCAR.relax1", "", ""), "outcar");
    EXPECT_EQ(detect_format("vasprun.xml.gz", "", ""), "vasprun");
    EXPECT_EQ(detect_format("vasprun.xml.pbesol", "", ""), "vasprun");
    EXPECT_EQ(detect_format("OSZICAR", "", ""), "oszicar");
    // Any case, as MaterialsIO matches VASP's names.
    EXPECT_EQ(detect_format("tests/outcar_vasp_6.3.gz", "application/gzip", ""), "outcar");
    EXPECT_EQ(detect_format("Poscar", "", ""), "poscar");
}

TEST(Format, SuffixesMimeAndContent) {
    EXPECT_EQ(detect_format("a/b/Fe2O3.CIF", "", ""), "cif");
    EXPECT_EQ(detect_format("m.mcif", "", ""), "cif");
    EXPECT_EQ(detect_format("mol.xyz.bz2", "", ""), "xyz");
    EXPECT_EQ(detect_format("d.json", "", ""), "json");
    EXPECT_EQ(detect_format("t.yml", "", ""), "yaml");
    EXPECT_EQ(detect_format("pic", "image/png", ""), "image");
    EXPECT_EQ(detect_format("data.h5", "", ""), "hdf5");
    EXPECT_EQ(detect_format("pw.out", "text/plain", "     Program PWSCF v.6.4 starts"), "espresso");
    EXPECT_EQ(detect_format("notes.txt", "text/plain", "hello"), "unknown");
}

TEST(Format, Archives) {
    EXPECT_TRUE(is_archive_name("runs.tar.gz"));
    EXPECT_TRUE(is_archive_name("x.TGZ"));
    EXPECT_TRUE(is_archive_name("y.zip"));
    EXPECT_FALSE(is_archive_name("POSCAR.gz"));
    EXPECT_EQ(detect_format("a.tar.xz", "", ""), "archive");
    // A member path names the archive before "!/": only the member's own name counts.
    EXPECT_EQ(detect_format("runs.tar.gz!/Fe/POSCAR", "", ""), "poscar");
}

}  // namespace
}  // namespace kiln::extract
