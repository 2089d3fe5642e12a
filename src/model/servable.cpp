#include "kiln/model/servable.hpp"

#include <openssl/evp.h>

#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <memory>

#include "kiln/core/error.hpp"
#include "kiln/core/text.hpp"
#include "kiln/core/version.hpp"
#include "kiln/model/json_schema.hpp"

namespace kiln::model {

extern const char* const kServableSchema;

namespace {

using Json = nlohmann::json;

Json shape_json(const std::vector<std::int64_t>& shape) {
    Json j = Json::array();
    for (const auto d : shape) j.push_back(d < 0 ? Json(nullptr) : Json(d));
    return j;
}

Json argument(const TensorSpec& t, const std::string& description) {
    return {{"type", "ndarray"},
            {"shape", shape_json(t.shape)},
            {"item_type", {{"type", t.dtype}}},
            {"description", description}};
}

TensorSpec spec_of(const Json& arg) {
    TensorSpec t;
    for (const auto& d : arg.at("shape"))
        t.shape.push_back(d.is_null() ? -1 : d.get<std::int64_t>());
    t.dtype = arg.at("item_type").at("type").get<std::string>();
    return t;
}

// "2026-11-28T01:30:00Z".
std::string utc_now() {
    const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
    std::tm tm{};
    gmtime_r(&now, &tm);
    char buf[64];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

}  // namespace

TensorSpec TensorSpec::parse(const std::string& text, const std::string& option) {
    TensorSpec t;
    std::string_view rest = text;
    while (true) {
        const std::size_t comma = rest.find(',');
        const std::string_view item = trim(rest.substr(0, comma));
        std::int64_t d = 0;
        const auto [p, ec] = std::from_chars(item.data(), item.data() + item.size(), d);
        if (item.empty() || ec != std::errc() || p != item.data() + item.size() || d == 0 || d < -1)
            throw UsageError("--" + option + " '" + text +
                             "': expected comma-separated sizes >= 1, with -1 for the batch axis "
                             "(e.g. -1,86)");
        t.shape.push_back(d);
        if (comma == std::string_view::npos) break;
        rest = rest.substr(comma + 1);
    }
    if (t.shape.front() != -1 || std::count(t.shape.begin(), t.shape.end(), std::int64_t{-1}) != 1)
        throw UsageError("--" + option + " '" + text +
                         "': the first size must be -1 (the batch axis) and no other may be");
    return t;
}

std::string TensorSpec::to_string() const {
    std::string s = "[";
    for (std::size_t i = 0; i < shape.size(); ++i)
        s += (i != 0 ? ", " : "") + (shape[i] < 0 ? std::string("null") : std::to_string(shape[i]));
    return s + "] " + dtype;
}

std::int64_t TensorSpec::row_width() const {
    std::int64_t w = 1;
    for (std::size_t i = 1; i < shape.size(); ++i) w *= shape[i];
    return w;
}

std::string signature_problem(const TensorSpec& input, const TensorSpec& output) {
    if (input.shape.size() != 2)
        return "the input shape must be (batch, features), not " + input.to_string();
    if (output.shape.size() > 2)
        return "the output shape must be (batch) or (batch, k), not " + output.to_string();
    return {};
}

Json make_servable(const ServableInfo& info) {
    Json creators = Json::array();
    for (const auto& a : info.authors) {
        Json c = {{"creatorName", a}};
        if (const auto comma = a.find(','); comma != std::string::npos) {
            c["familyName"] = std::string(trim(std::string_view(a).substr(0, comma)));
            c["givenName"] = std::string(trim(std::string_view(a).substr(comma + 1)));
        }
        creators.push_back(std::move(c));
    }
    Json related = Json::array();
    for (const auto& doi : info.dois) {
        related.push_back({{"relatedIdentifier", doi},
                           {"relatedIdentifierType", "DOI"},
                           {"relationType", "IsDescribedBy"}});
    }
    Json datacite = {{"creators", creators},
                     {"titles", {{{"title", info.title}}}},
                     {"publisher", info.publisher},
                     {"publicationYear", utc_now().substr(0, 4)},
                     {"resourceType", {{"resourceTypeGeneral", "InteractiveResource"}}},
                     {"relatedIdentifiers", related}};
    if (!info.description.empty())
        datacite["descriptions"] = {
            {{"description", info.description}, {"descriptionType", "Abstract"}}};
    Json doc = {
        {"datacite", datacite},
        {"dlhub",
         {{"name", info.name},
          {"version", info.version},
          {"domains", info.domains},
          {"visible_to", info.visible_to},
          {"publication_date", utc_now()},
          {"type", "servable"},
          {"files", {{"model", "model.pt"}}}}},
        {"servable",
         {{"type", "TorchScript model"},
          {"shim", "torchscript"},
          {"methods",
           {{"run",
             {{"input",
               argument(info.input, "featurized composition rows (" + info.featurizer + ")")},
              {"output", argument(info.output, "model output per input row")},
              {"parameters", Json::object()},
              {"method_details", {{"method_name", "forward"}, {"featurizer", info.featurizer}}}}}}},
          {"dependencies", {{"libtorch", info.libtorch_version}}}}},
        {"kiln",
         {{"sha256", info.sha256},
          {"created", utc_now()},
          {"kiln_version", kiln::version() + " (" + kiln::git_hash() + ")"}}}};
    if (!info.training.is_null()) doc["kiln"]["training"] = info.training;
    return doc;
}

const Json& servable_schema() {
    static const Json schema = Json::parse(kServableSchema);
    return schema;
}

Servable Servable::from_json(const Json& doc, const std::string& where) {
    auto errors = validate_json(doc, servable_schema());
    Servable s;
    if (errors.empty()) {
        const Json& run = doc["servable"]["methods"]["run"];
        s.name = doc["dlhub"]["name"].get<std::string>();
        s.version = doc["dlhub"]["version"].get<int>();
        s.featurizer = run["method_details"]["featurizer"].get<std::string>();
        s.input = spec_of(run["input"]);
        s.output = spec_of(run["output"]);
        s.sha256 = doc["kiln"]["sha256"].get<std::string>();
        s.document = doc;
        for (const auto* t : {&s.input, &s.output}) {
            const char* which = t == &s.input ? "input" : "output";
            if (t->shape.front() != -1 ||
                std::count(t->shape.begin(), t->shape.end(), std::int64_t{-1}) != 1)
                errors.push_back(
                    std::string("/servable/methods/run/") + which +
                    "/shape: the first size must be null (the batch axis), and only it");
        }
        if (const std::string problem = signature_problem(s.input, s.output); !problem.empty())
            errors.push_back("/servable/methods/run: " + problem);
    }
    if (!errors.empty()) {
        std::string msg = where + " is not a valid servable.json:";
        for (const auto& e : errors) msg += "\n  " + e;
        throw DataError(msg);
    }
    return s;
}

std::string sha256_file(const std::string& path) {
    std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(path.c_str(), "rb"), &std::fclose);
    if (!f) throw IoError(errno_message("cannot open " + path));
    std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX*)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
    if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1)
        throw Error("sha256: OpenSSL cannot start a digest");
    std::vector<unsigned char> buf(std::size_t{1} << 20);
    std::size_t n = 0;
    while ((n = std::fread(buf.data(), 1, buf.size(), f.get())) > 0)
        EVP_DigestUpdate(ctx.get(), buf.data(), n);
    if (std::ferror(f.get()) != 0) throw IoError(errno_message("cannot read " + path));
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_DigestFinal_ex(ctx.get(), md, &len);
    static constexpr char kHex[] = "0123456789abcdef";
    std::string hex;
    for (unsigned int i = 0; i < len; ++i) {
        hex += kHex[md[i] >> 4];
        hex += kHex[md[i] & 15];
    }
    return hex;
}

}  // namespace kiln::model
