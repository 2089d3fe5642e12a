// YAML (.yaml, .yml) through libyaml (the C parser PyYAML itself uses; yaml-cpp 0.7 loops
// forever on some malformed input): each document becomes a record whose fields are
// flattened under "custom" as for generic JSON. Plain scalars are typed by YAML 1.1's rules,
// as PyYAML's safe_load types them (yes/no/on/off and true/false are booleans, "1e5" stays
// text, "1.0e+5" is a float, 0x.. and 0.. are hex and octal integers); quoted scalars stay
// text. Aliases are expanded, up to a limit on the nodes of a file.
#include <yaml.h>

#include <map>
#include <memory>
#include <regex>

#include "extract/extractors.hpp"
#include "kiln/core/error.hpp"

namespace kiln::extract {
namespace {

using Json = nlohmann::json;

constexpr std::size_t kMaxNodes = 1000000;  // per file, aliases expanded
constexpr std::size_t kMaxDepth = 64;

std::string strip_underscores(std::string_view s) {
    std::string out;
    for (const char c : s) {
        if (c != '_') out += c;
    }
    return out;
}

Json plain_scalar(const std::string& s) {
    static const std::regex kNull("^(~|null|Null|NULL|)$");
    static const std::regex kTrue("^(yes|Yes|YES|true|True|TRUE|on|On|ON)$");
    static const std::regex kFalse("^(no|No|NO|false|False|FALSE|off|Off|OFF)$");
    static const std::regex kInt("^[-+]?(0|[1-9][0-9_]*|0x[0-9a-fA-F_]+|0[0-7_]+|0b[01_]+)$");
    static const std::regex kFloat("^[-+]?([0-9][0-9_]*)?\\.[0-9_]*([eE][-+][0-9]+)?$");
    if (std::regex_match(s, kNull)) return nullptr;
    if (std::regex_match(s, kTrue)) return true;
    if (std::regex_match(s, kFalse)) return false;
    try {
        if (std::regex_match(s, kInt)) {
            const bool neg = s[0] == '-';
            std::string body = strip_underscores(s.substr(s[0] == '-' || s[0] == '+' ? 1 : 0));
            int base = 10;
            if (body.rfind("0x", 0) == 0) {
                base = 16;
                body = body.substr(2);
            } else if (body.rfind("0b", 0) == 0) {
                base = 2;
                body = body.substr(2);
            } else if (body.size() > 1 && body[0] == '0') {
                base = 8;
            }
            std::size_t used = 0;
            const long long v = std::stoll(body, &used, base);
            if (used == body.size()) return neg ? -v : v;
        } else if (std::regex_match(s, kFloat) &&
                   s.find_first_of("0123456789") != std::string::npos) {
            return std::stod(strip_underscores(s));
        }
    } catch (const std::exception&) {
        // out of range: kept as text
    }
    return s;  // text, and .inf / .nan (no JSON form)
}

// Builds documents from libyaml's events.
class Builder {
public:
    explicit Builder(std::string_view bytes) {
        if (yaml_parser_initialize(&parser_) == 0) throw DataError("cannot start the YAML parser");
        yaml_parser_set_input_string(&parser_, reinterpret_cast<const unsigned char*>(bytes.data()),
                                     bytes.size());
    }
    ~Builder() { yaml_parser_delete(&parser_); }
    Builder(const Builder&) = delete;
    Builder& operator=(const Builder&) = delete;

    std::vector<Json> documents() {
        std::vector<Json> docs;
        for (;;) {
            Event e = next();
            if (e.get().type == YAML_STREAM_END_EVENT) break;
            if (e.get().type != YAML_DOCUMENT_START_EVENT) continue;
            anchors_.clear();
            Json doc = value(next(), 0);
            Event end = next();  // YAML_DOCUMENT_END_EVENT
            docs.push_back(std::move(doc));
        }
        return docs;
    }

private:
    class Event {
    public:
        Event() = default;
        ~Event() {
            if (live_) yaml_event_delete(&event_);
        }
        Event(Event&& o) noexcept : event_(o.event_), live_(o.live_) { o.live_ = false; }
        Event& operator=(Event&& o) noexcept {
            if (this != &o) {
                if (live_) yaml_event_delete(&event_);
                event_ = o.event_;
                live_ = o.live_;
                o.live_ = false;
            }
            return *this;
        }
        Event(const Event&) = delete;
        Event& operator=(const Event&) = delete;
        yaml_event_t* raw() { return &event_; }
        void set_live() { live_ = true; }
        [[nodiscard]] const yaml_event_t& get() const { return event_; }

    private:
        yaml_event_t event_{};
        bool live_ = false;
    };

    Event next() {
        Event e;
        if (yaml_parser_parse(&parser_, e.raw()) == 0) {
            throw DataError("not valid YAML: line " +
                            std::to_string(parser_.problem_mark.line + 1) + ", column " +
                            std::to_string(parser_.problem_mark.column + 1) + ": " +
                            (parser_.problem != nullptr ? parser_.problem : "parse error"));
        }
        e.set_live();
        return e;
    }

    void count(std::size_t n) {
        nodes_ += n;
        if (nodes_ > kMaxNodes) {
            throw DataError("more than " + std::to_string(kMaxNodes) +
                            " nodes (aliases expanding without bound?)");
        }
    }

    static std::string text(const unsigned char* p, std::size_t n) {
        return {reinterpret_cast<const char*>(p), n};
    }

    // An anchored value with the number of nodes it stands for (aliases count it again).
    struct Anchored {
        Json value;
        std::size_t nodes = 1;
    };

    // The value that starts with event `e`; an anchored value is remembered with the number
    // of nodes it stands for, which its aliases count again.
    Json value(Event e, std::size_t depth) {
        if (depth > kMaxDepth) throw DataError("nested deeper than " + std::to_string(kMaxDepth));
        const yaml_event_t& ev = e.get();
        const std::size_t before = nodes_;
        const unsigned char* anchor = nullptr;
        Json v;
        switch (ev.type) {
            case YAML_SCALAR_EVENT: {
                count(1);
                anchor = ev.data.scalar.anchor;
                const std::string s = text(ev.data.scalar.value, ev.data.scalar.length);
                v = ev.data.scalar.plain_implicit != 0 && ev.data.scalar.tag == nullptr
                        ? plain_scalar(s)
                        : Json(s);
                break;
            }
            case YAML_ALIAS_EVENT: {
                const auto it = anchors_.find(reinterpret_cast<const char*>(ev.data.alias.anchor));
                if (it == anchors_.end()) throw DataError("alias to an unknown anchor");
                count(it->second.nodes);
                return it->second.value;
            }
            case YAML_SEQUENCE_START_EVENT:
                count(1);
                anchor = ev.data.sequence_start.anchor;
                v = Json::array();
                for (Event item = next(); item.get().type != YAML_SEQUENCE_END_EVENT;
                     item = next()) {
                    v.push_back(value(std::move(item), depth + 1));
                }
                break;
            case YAML_MAPPING_START_EVENT:
                count(1);
                anchor = ev.data.mapping_start.anchor;
                v = Json::object();
                for (Event key = next(); key.get().type != YAML_MAPPING_END_EVENT; key = next()) {
                    const std::size_t line = key.get().start_mark.line + 1;
                    const Json k = value(std::move(key), depth + 1);
                    // A mapping or list as a key: PyYAML refuses it ("unhashable key"), and
                    // its text as a key nested in keys grows twice per level (fuzz_yaml).
                    if (k.is_structured()) {
                        throw DataError("line " + std::to_string(line) +
                                        ": a mapping or list as a mapping key");
                    }
                    v[k.is_string() ? k.get<std::string>() : k.dump()] = value(next(), depth + 1);
                }
                break;
            default:
                throw DataError("unexpected YAML event");
        }
        if (anchor != nullptr) {
            anchors_[reinterpret_cast<const char*>(anchor)] = {v, nodes_ - before};
        }
        return v;
    }

    yaml_parser_t parser_{};
    std::map<std::string, Anchored> anchors_;
    std::size_t nodes_ = 0;
};

class YamlExtractor final : public Extractor {
public:
    [[nodiscard]] std::string_view name() const override { return "yaml"; }

    [[nodiscard]] std::vector<Json> extract(const FileInput& file) const override {
        Builder builder(file.bytes);
        std::vector<Json> records;
        for (const Json& doc : builder.documents()) {
            if (doc.is_null()) continue;
            Json custom = Json::object();
            flatten_custom(doc, custom);
            records.push_back({{"custom", custom}});
        }
        if (records.empty()) throw DataError("no YAML document with content");
        return records;
    }
};

}  // namespace

std::unique_ptr<Extractor> make_yaml_extractor() { return std::make_unique<YamlExtractor>(); }

}  // namespace kiln::extract
