#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "kiln/core/error.hpp"
#include "kiln/model/json_schema.hpp"
#include "kiln/model/registry.hpp"
#include "kiln/model/servable.hpp"

namespace kiln::model {
namespace {

ServableInfo info(const std::string& name, int version) {
    ServableInfo i;
    i.name = name;
    i.version = version;
    i.featurizer = "elemnet86";
    i.input = TensorSpec::parse("-1,86", "input-shape");
    i.output = TensorSpec::parse("-1,1", "output-shape");
    i.title = "Formation enthalpy";
    i.authors = {"Jha, Dipendra", "Ward, Logan"};
    i.dois = {"10.1038/s41598-018-35934-y"};
    i.domains = {"materials"};
    i.libtorch_version = "1.13.0";
    i.sha256 = std::string(64, 'a');
    return i;
}

TEST(TensorSpec, ParsesTheBatchAxis) {
    EXPECT_EQ(TensorSpec::parse("-1,86", "x").shape, (std::vector<std::int64_t>{-1, 86}));
    EXPECT_EQ(TensorSpec::parse("-1", "x").to_string(), "[null] float32");
    EXPECT_THROW((void)TensorSpec::parse("86,-1", "x"), UsageError);
    EXPECT_THROW((void)TensorSpec::parse("-1,0", "x"), UsageError);
    EXPECT_THROW((void)TensorSpec::parse("-1,x", "x"), UsageError);
    EXPECT_THROW((void)TensorSpec::parse("-1,-1", "x"), UsageError);
}

TEST(Servable, MadeDocumentsValidateAndReadBack) {
    const auto doc = make_servable(info("elemnet", 3));
    EXPECT_TRUE(validate_json(doc, servable_schema()).empty());
    const Servable s = Servable::from_json(doc, "test");
    EXPECT_EQ(s.name, "elemnet");
    EXPECT_EQ(s.version, 3);
    EXPECT_EQ(s.input.shape, (std::vector<std::int64_t>{-1, 86}));
    EXPECT_EQ(doc["datacite"]["creators"][0]["familyName"], "Jha");
    EXPECT_EQ(doc["datacite"]["relatedIdentifiers"][0]["relationType"], "IsDescribedBy");
    EXPECT_TRUE(doc["servable"]["methods"]["run"]["input"]["shape"][0].is_null());
}

TEST(Servable, EveryProblemIsNamedWithItsPointer) {
    auto doc = make_servable(info("elemnet", 1));
    doc["dlhub"].erase("domains");
    doc["kiln"]["sha256"] = "xyz";
    doc["servable"]["shim"] = "python";
    try {
        (void)Servable::from_json(doc, "m/servable.json");
        FAIL() << "accepted";
    } catch (const DataError& e) {
        const std::string m = e.what();
        EXPECT_NE(m.find("m/servable.json"), std::string::npos);
        EXPECT_NE(m.find("/dlhub: missing required \"domains\""), std::string::npos) << m;
        EXPECT_NE(m.find("/kiln/sha256"), std::string::npos) << m;
        EXPECT_NE(m.find("/servable/shim"), std::string::npos) << m;
    }
}

TEST(Servable, SignaturesKilnCannotFeedAreRefused) {
    auto in3 = info("m", 1);
    in3.input = TensorSpec::parse("-1,2,43", "input-shape");
    EXPECT_THROW((void)Servable::from_json(make_servable(in3), "t"), DataError);
    auto out3 = info("m", 1);
    out3.output = TensorSpec::parse("-1,2,2", "output-shape");
    EXPECT_THROW((void)Servable::from_json(make_servable(out3), "t"), DataError);
    EXPECT_EQ(TensorSpec::parse("-1", "o").row_width(), 1);
    EXPECT_EQ(TensorSpec::parse("-1,3", "o").row_width(), 3);
    EXPECT_EQ(signature_problem(in3.input, in3.output).find("input shape"), 4U);
}

TEST(JsonSchema, UnknownKeywordsAreRefusedNotIgnored) {
    EXPECT_THROW((void)validate_json(1, {{"oneOf", nlohmann::json::array()}}), Error);
}

class RegistryTest : public ::testing::Test {
protected:
    void SetUp() override {
        root_ =
            std::filesystem::temp_directory_path() /
            ("kiln-registry-" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
             "-" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
        std::filesystem::remove_all(root_);
        model_ = root_.string() + "-model.pt";
        std::ofstream(model_) << "not really torchscript";
    }
    void TearDown() override {
        std::filesystem::remove_all(root_);
        std::filesystem::remove(model_);
    }
    nlohmann::json doc(const std::string& name, int version) {
        ServableInfo i = info(name, version);
        i.sha256 = sha256_file(model_);
        return make_servable(i);
    }
    std::filesystem::path root_;
    std::string model_;
};

TEST_F(RegistryTest, PublishListResolveRemove) {
    Registry r(root_);
    EXPECT_EQ(r.next_version("a"), 1);
    r.publish(model_, doc("a", 1));
    r.publish(model_, doc("a", 2));
    r.publish(model_, doc("b", 1));
    EXPECT_EQ(r.list(), (std::vector<ModelId>{{"a", 1}, {"a", 2}, {"b", 1}}));
    EXPECT_EQ(r.resolve(ModelId::parse("a")), (ModelId{"a", 2}));
    EXPECT_EQ(r.next_version("a"), 3);
    EXPECT_THROW(r.publish(model_, doc("a", 2)), UsageError);
    EXPECT_THROW((void)r.resolve(ModelId::parse("a@9")), NoInputError);
    EXPECT_THROW((void)r.resolve(ModelId::parse("c")), NoInputError);
    EXPECT_EQ(r.checked_model_file(r.servable({"a", 1})), root_ / "a" / "1" / "model.pt");
    EXPECT_THROW(r.remove(ModelId::parse("a")), UsageError);  // needs a version
    r.remove(ModelId::parse("a@2"));
    EXPECT_EQ(r.resolve(ModelId::parse("a")), (ModelId{"a", 1}));
    for (const auto& e : std::filesystem::directory_iterator(root_))
        EXPECT_NE(e.path().filename().string()[0], '.') << "left behind: " << e.path();
}

TEST_F(RegistryTest, TamperedModelFileIsRefused) {
    Registry r(root_);
    r.publish(model_, doc("a", 1));
    std::ofstream(root_ / "a" / "1" / "model.pt", std::ios::app) << "x";
    EXPECT_THROW((void)r.checked_model_file(r.servable({"a", 1})), DataError);
}

TEST(ModelId, ParsesNamesAndVersions) {
    EXPECT_EQ(ModelId::parse("elemnet@3"), (ModelId{"elemnet", 3}));
    EXPECT_EQ(ModelId::parse("e.v-1_x").version, 0);
    EXPECT_THROW((void)ModelId::parse("../x"), UsageError);
    EXPECT_THROW((void)ModelId::parse("x@0"), UsageError);
    EXPECT_THROW((void)ModelId::parse("x@"), UsageError);
    EXPECT_THROW((void)ModelId::parse(""), UsageError);
}

}  // namespace
}  // namespace kiln::model
