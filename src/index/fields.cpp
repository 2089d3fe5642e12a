#include "kiln/index/fields.hpp"

#include <simdjson.h>

#include "kiln/core/error.hpp"

namespace kiln::index {
namespace {

void walk(const nlohmann::json& node, std::string& path,
          const std::function<void(const Leaf&)>& visit) {
    switch (node.type()) {
        case nlohmann::json::value_t::object:
            for (const auto& [key, value] : node.items()) {
                const std::size_t size = path.size();
                if (!path.empty()) path += '.';
                path += key;
                walk(value, path, visit);
                path.resize(size);
            }
            break;
        case nlohmann::json::value_t::array:
            for (const auto& value : node) walk(value, path, visit);
            break;
        case nlohmann::json::value_t::string: {
            const auto& s = node.get_ref<const std::string&>();
            visit(Leaf{path, ValueKind::kString, s, 0});
            break;
        }
        case nlohmann::json::value_t::boolean:
            visit(Leaf{path, ValueKind::kBoolean, node.get<bool>() ? "true" : "false", 0});
            break;
        case nlohmann::json::value_t::number_integer:
        case nlohmann::json::value_t::number_unsigned:
        case nlohmann::json::value_t::number_float:
            visit(Leaf{path, ValueKind::kNumber, {}, node.get<double>()});
            break;
        default:  // null, discarded, binary
            break;
    }
}

// Walks a simdjson DOM element the way walk() walks an nlohmann one.
void walk_dom(simdjson::dom::element node, std::string& path,
              const std::function<void(const Leaf&)>& visit) {
    using T = simdjson::dom::element_type;
    switch (node.type()) {
        case T::OBJECT:
            for (const auto field : simdjson::dom::object(node)) {
                const std::size_t size = path.size();
                if (!path.empty()) path += '.';
                path += field.key;
                walk_dom(field.value, path, visit);
                path.resize(size);
            }
            break;
        case T::ARRAY:
            for (const auto value : simdjson::dom::array(node)) walk_dom(value, path, visit);
            break;
        case T::STRING:
            visit(Leaf{path, ValueKind::kString, std::string_view(node), 0});
            break;
        case T::BOOL:
            visit(Leaf{path, ValueKind::kBoolean, bool(node) ? "true" : "false", 0});
            break;
        case T::INT64:
            visit(Leaf{path, ValueKind::kNumber, {}, static_cast<double>(std::int64_t(node))});
            break;
        case T::UINT64:
            visit(Leaf{path, ValueKind::kNumber, {}, static_cast<double>(std::uint64_t(node))});
            break;
        case T::DOUBLE:
            visit(Leaf{path, ValueKind::kNumber, {}, double(node)});
            break;
        case T::NULL_VALUE:
            break;
    }
}

}  // namespace

void flatten_text(std::string_view json_text, const std::function<void(const Leaf&)>& visit) {
    thread_local simdjson::dom::parser parser;
    simdjson::dom::element doc;
    if (const auto error = parser.parse(json_text.data(), json_text.size()).get(doc); error) {
        throw DataError(std::string("not JSON: ") + simdjson::error_message(error));
    }
    std::string path;
    walk_dom(doc, path, visit);
}

void flatten(const nlohmann::json& record, const std::function<void(const Leaf&)>& visit) {
    std::string path;
    walk(record, path, visit);
}

std::vector<std::string> IndexPolicy::default_keyword_fields() {
    return {"material.*", "mdf.*",   "files.*",     "crystal_structure.*", "molecule.*",
            "dft.*",      "image.*", "kiln.format", "kiln.path",           "kiln.part_of"};
}

bool IndexPolicy::is_keyword(std::string_view field) const {
    for (const auto& p : keyword_fields) {
        if (!p.empty() && p.back() == '*') {
            if (field.substr(0, p.size() - 1) == std::string_view(p).substr(0, p.size() - 1)) {
                return true;
            }
        } else if (field == p) {
            return true;
        }
    }
    return false;
}

nlohmann::json IndexPolicy::to_json() const { return {{"keyword_fields", keyword_fields}}; }

IndexPolicy IndexPolicy::from_json(const nlohmann::json& j) {
    if (!j.is_object() || !j.contains("keyword_fields") || !j["keyword_fields"].is_array()) {
        throw DataError("index policy: expected an object with a 'keyword_fields' array, got " +
                        j.dump());
    }
    IndexPolicy p;
    p.keyword_fields.clear();
    for (const auto& f : j["keyword_fields"]) {
        if (!f.is_string()) throw DataError("index policy: keyword_fields holds a non-string");
        p.keyword_fields.push_back(f.get<std::string>());
    }
    return p;
}

const char* to_string(FieldType t) {
    switch (t) {
        case FieldType::kKeyword:
            return "keyword";
        case FieldType::kNumber:
            return "number";
        case FieldType::kBoolean:
            return "boolean";
        case FieldType::kMixed:
            return "mixed";
    }
    return "mixed";
}

FieldType field_type_from_string(std::string_view s) {
    for (const auto t :
         {FieldType::kKeyword, FieldType::kNumber, FieldType::kBoolean, FieldType::kMixed}) {
        if (s == to_string(t)) return t;
    }
    throw DataError("unknown field type '" + std::string(s) + "' in the index");
}

FieldType field_type_of(unsigned mask) {
    if (mask == kind_bit(ValueKind::kString)) return FieldType::kKeyword;
    if (mask == kind_bit(ValueKind::kNumber)) return FieldType::kNumber;
    if (mask == kind_bit(ValueKind::kBoolean)) return FieldType::kBoolean;
    return FieldType::kMixed;
}

FieldType combined_type(unsigned mask) {
    for (const auto t : {FieldType::kKeyword, FieldType::kNumber, FieldType::kBoolean}) {
        if (mask == 1U << static_cast<unsigned>(t)) return t;
    }
    return FieldType::kMixed;
}

}  // namespace kiln::index
