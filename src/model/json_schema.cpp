#include "kiln/model/json_schema.hpp"

#include <algorithm>
#include <cmath>
#include <regex>
#include <set>

#include "kiln/core/error.hpp"

namespace kiln::model {
namespace {

using Json = nlohmann::json;

// RFC 6901: '~' -> "~0", '/' -> "~1".
std::string pointer_token(const std::string& key) {
    std::string out;
    for (const char c : key) {
        if (c == '~')
            out += "~0";
        else if (c == '/')
            out += "~1";
        else
            out += c;
    }
    return out;
}

bool has_type(const Json& v, const std::string& type) {
    if (type == "object") return v.is_object();
    if (type == "array") return v.is_array();
    if (type == "string") return v.is_string();
    if (type == "integer") {
        return v.is_number_integer() || (v.is_number_float() && std::isfinite(v.get<double>()) &&
                                         v.get<double>() == std::floor(v.get<double>()));
    }
    if (type == "number") return v.is_number();
    if (type == "boolean") return v.is_boolean();
    if (type == "null") return v.is_null();
    throw Error("JSON schema: unknown type '" + type + "'");
}

void check(const Json& v, const Json& s, const std::string& at, std::vector<std::string>& errors) {
    static const std::set<std::string> known = {"$schema",    "$id",         "$comment",
                                                "title",      "description", "type",
                                                "properties", "required",    "additionalProperties",
                                                "items",      "enum",        "const",
                                                "minimum",    "maximum",     "minLength",
                                                "minItems",   "pattern"};
    for (const auto& [k, unused] : s.items()) {
        if (known.count(k) == 0)
            throw Error("JSON schema: unsupported keyword '" + k + "' at " + at);
    }
    const std::string where = at.empty() ? "/" : at;
    if (const auto t = s.find("type"); t != s.end()) {
        const std::vector<std::string> types =
            t->is_array() ? t->get<std::vector<std::string>>()
                          : std::vector<std::string>{t->get<std::string>()};
        bool ok = false;
        for (const auto& type : types) ok = ok || has_type(v, type);
        if (!ok) {
            errors.push_back(where + ": is " + std::string(v.type_name()) + ", expected " +
                             t->dump());
            return;
        }
    }
    if (const auto c = s.find("const"); c != s.end() && v != *c)
        errors.push_back(where + ": is " + v.dump() + ", expected " + c->dump());
    if (const auto e = s.find("enum");
        e != s.end() && std::find(e->begin(), e->end(), v) == e->end())
        errors.push_back(where + ": is " + v.dump() + ", expected one of " + e->dump());
    if (v.is_number()) {
        if (const auto m = s.find("minimum"); m != s.end() && v.get<double>() < m->get<double>())
            errors.push_back(where + ": " + v.dump() + " is below the minimum " + m->dump());
        if (const auto m = s.find("maximum"); m != s.end() && v.get<double>() > m->get<double>())
            errors.push_back(where + ": " + v.dump() + " is above the maximum " + m->dump());
    }
    if (v.is_string()) {
        const auto& str = v.get_ref<const std::string&>();
        if (const auto m = s.find("minLength"); m != s.end() && str.size() < m->get<std::size_t>())
            errors.push_back(where + ": shorter than " + m->dump() + " characters");
        if (const auto p = s.find("pattern");
            p != s.end() && !std::regex_search(str, std::regex(p->get<std::string>())))
            errors.push_back(where + ": " + v.dump() + " does not match " + p->dump());
    }
    if (v.is_array()) {
        if (const auto m = s.find("minItems"); m != s.end() && v.size() < m->get<std::size_t>())
            errors.push_back(where + ": fewer than " + m->dump() + " items");
        if (const auto items = s.find("items"); items != s.end()) {
            for (std::size_t i = 0; i < v.size(); ++i)
                check(v[i], *items, at + "/" + std::to_string(i), errors);
        }
    }
    if (v.is_object()) {
        if (const auto r = s.find("required"); r != s.end()) {
            for (const auto& key : *r) {
                if (!v.contains(key.get<std::string>()))
                    errors.push_back(where + ": missing required \"" + key.get<std::string>() +
                                     "\"");
            }
        }
        const auto props = s.find("properties");
        for (const auto& [key, value] : v.items()) {
            const std::string child = at + "/" + pointer_token(key);
            if (props != s.end() && props->contains(key)) {
                check(value, (*props)[key], child, errors);
            } else if (const auto extra = s.find("additionalProperties"); extra != s.end()) {
                if (extra->is_boolean()) {
                    if (!extra->get<bool>()) errors.push_back(child + ": not allowed here");
                } else {
                    check(value, *extra, child, errors);
                }
            }
        }
    }
}

}  // namespace

std::vector<std::string> validate_json(const Json& doc, const Json& schema) {
    std::vector<std::string> errors;
    check(doc, schema, "", errors);
    return errors;
}

}  // namespace kiln::model
