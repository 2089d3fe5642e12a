// `kiln model publish|list|describe|search|remove`: the registry of DLHub-style servables.
#include <iomanip>
#include <iostream>

#include "cli/commands.hpp"
#include "cli/model_support.hpp"
#include "kiln/core/error.hpp"
#include "kiln/index/match.hpp"
#include "kiln/index/query.hpp"

namespace kiln::cli {
namespace {

using Json = nlohmann::json;

std::string creators_of(const Json& doc) {
    std::string out;
    for (const auto& c : doc["datacite"]["creators"])
        out += (out.empty() ? "" : "; ") + c.value("creatorName", "");
    return out;
}

std::string title_of(const Json& doc) {
    return doc["datacite"]["titles"].empty() ? "" : doc["datacite"]["titles"][0].value("title", "");
}

int publish(const Args& args) {
    po::options_description o("Options");
    o.add_options()("file", po::value<std::string>(), "TorchScript file (positional)")(
        "name", po::value<std::string>(), "model name (letters, digits, _ . -)")(
        "version", po::value<int>(), "integer version (default: the next free one)")(
        "featurizer", po::value<std::string>(), "element_fraction | elemnet86 | magpie")(
        "input-shape", po::value<std::string>(), "input shape, -1 for the batch axis (e.g. -1,86)")(
        "output-shape", po::value<std::string>(), "output shape (e.g. -1,1)")(
        "dtype", po::value<std::string>()->default_value("float32"),
        "item type of input and output")("title", po::value<std::string>(), "title (DataCite)")(
        "author", po::value<std::vector<std::string>>(), "\"Family, Given\" (repeat for several)")(
        "description", po::value<std::string>(), "abstract (DataCite)")(
        "doi", po::value<std::vector<std::string>>(),
        "DOI of a paper describing the model (repeat)")(
        "domain", po::value<std::vector<std::string>>(), "science domain, e.g. materials (repeat)")(
        "visible-to", po::value<std::vector<std::string>>(),
        "who may see it: public (default), user:LOGIN (you) or group:NAME; enforced with file "
        "permissions in the registry");
    add_models_option(o);
    po::positional_options_description pos;
    pos.add("file", 1);
    const CommandLine cl = parse_command_line("model publish", args, o, pos);
    if (cl.print_config) return 0;
    if (cl.help) {
        print_help("model publish",
                   "FILE --name N --featurizer F --input-shape=-1,86 --output-shape=-1,1 --title T "
                   "--author \"Family, Given\" [--version V] [--doi D] [--domain D]",
                   "Publishes a TorchScript model: loads it, runs a dry batch of the declared "
                   "shape, checks the output shape, records its sha256, and writes "
                   "MODELS/NAME/VERSION/{model.pt,servable.json} atomically.",
                   o);
        return 0;
    }
    for (const char* k :
         {"file", "name", "featurizer", "input-shape", "output-shape", "title", "author"}) {
        if (cl.vm.count(k) == 0U)
            throw UsageError(std::string("kiln model publish: --") + k + " is required");
    }
    model::Registry registry = registry_from(cl.vm);
    model::ServableInfo info;
    info.name = model::ModelId::parse(cl.vm["name"].as<std::string>()).name;
    info.version = get_or<int>(cl.vm, "version", registry.next_version(info.name));
    if (info.version < 1) throw UsageError("--version must be an integer >= 1");
    info.featurizer = cl.vm["featurizer"].as<std::string>();
    info.input = model::TensorSpec::parse(cl.vm["input-shape"].as<std::string>(), "input-shape");
    info.output = model::TensorSpec::parse(cl.vm["output-shape"].as<std::string>(), "output-shape");
    const std::string dtype = cl.vm["dtype"].as<std::string>();
    if (dtype != "float32")
        throw ConfigError("--dtype " + dtype + ": kiln's featurizers and replicas use float32");
    info.title = cl.vm["title"].as<std::string>();
    info.authors = cl.vm["author"].as<std::vector<std::string>>();
    info.description = get_or<std::string>(cl.vm, "description", "");
    info.dois = get_or(cl.vm, "doi", std::vector<std::string>{});
    info.domains = get_or(cl.vm, "domain", std::vector<std::string>{});
    info.visible_to = get_or(cl.vm, "visible-to", std::vector<std::string>{"public"});
    const std::string file = cl.vm["file"].as<std::string>();
    if (!std::filesystem::is_regular_file(file))
        throw NoInputError("model file " + file + " does not exist");

    const std::string what = "model " + info.name + "@" + std::to_string(info.version);
    (void)featurizer_for(info.featurizer, info.input, what);
    (void)load_and_check(file, what, info.input, info.output, "cpu", 1);
    info.libtorch_version = infer::load_backend("torch").version();
    info.sha256 = model::sha256_file(file);
    const model::ModelId id = registry.publish(file, model::make_servable(info));
    std::cout << "published " << id.to_string() << " in " << registry.dir(id).string()
              << " (sha256 " << info.sha256.substr(0, 16) << "...)\n";
    return 0;
}

int list(const Args& args) {
    po::options_description o("Options");
    o.add_options()("json", po::bool_switch(), "one JSON object per line");
    add_models_option(o);
    const CommandLine cl = parse_command_line("model list", args, o, {});
    if (cl.print_config) return 0;
    if (cl.help) {
        print_help("model list", "[--json]", "Lists every published model version.", o);
        return 0;
    }
    const model::Registry registry = registry_from(cl.vm);
    const bool json = cl.vm["json"].as<bool>();
    if (!json) {
        std::cout << std::left << std::setw(24) << "MODEL" << std::setw(18) << "FEATURIZER"
                  << std::setw(24) << "INPUT -> OUTPUT" << std::setw(22) << "CREATED"
                  << "TITLE\n";
    }
    for (const auto& id : registry.list()) {
        const model::Servable s = registry.servable(id);
        if (json) {
            std::cout << Json{{"name", s.name},
                              {"version", s.version},
                              {"featurizer", s.featurizer},
                              {"title", title_of(s.document)},
                              {"created", s.document["kiln"]["created"]}}
                             .dump()
                      << "\n";
            continue;
        }
        const std::string io = "(" + std::to_string(s.input.row_width()) + ") -> (" +
                               std::to_string(s.output.row_width()) + ")";
        std::cout << std::left << std::setw(24) << id.to_string() << std::setw(18) << s.featurizer
                  << std::setw(24) << io << std::setw(22)
                  << s.document["kiln"]["created"].get<std::string>() << title_of(s.document)
                  << "\n";
    }
    return 0;
}

int describe(const Args& args) {
    po::options_description o("Options");
    o.add_options()("model", po::value<std::string>(), "NAME or NAME@VERSION (positional)")(
        "json", po::bool_switch(), "print servable.json");
    add_models_option(o);
    po::positional_options_description pos;
    pos.add("model", 1);
    const CommandLine cl = parse_command_line("model describe", args, o, pos);
    if (cl.print_config) return 0;
    if (cl.help) {
        print_help("model describe", "NAME[@VERSION] [--json]",
                   "Shows a model's metadata (the newest version when none is given).", o);
        return 0;
    }
    if (cl.vm.count("model") == 0U) throw UsageError("kiln model describe: NAME is required");
    const model::Registry registry = registry_from(cl.vm);
    const model::Servable s =
        registry.servable(model::ModelId::parse(cl.vm["model"].as<std::string>()));
    const Json& d = s.document;
    if (cl.vm["json"].as<bool>()) {
        std::cout << d.dump(2) << "\n";
        return 0;
    }
    std::cout << "Model:       " << s.name << "@" << s.version << "\n"
              << "Title:       " << title_of(d) << "\n"
              << "Creators:    " << creators_of(d) << "\n";
    for (const auto& r : d["datacite"].value("relatedIdentifiers", Json::array()))
        std::cout << "Described by: " << r.value("relatedIdentifierType", "") << " "
                  << r.value("relatedIdentifier", "") << "\n";
    if (d["datacite"].contains("descriptions") && !d["datacite"]["descriptions"].empty())
        std::cout << "Description: " << d["datacite"]["descriptions"][0].value("description", "")
                  << "\n";
    std::string domains;
    for (const auto& x : d["dlhub"]["domains"])
        domains += (domains.empty() ? "" : ", ") + x.get<std::string>();
    std::cout << "Domains:     " << domains << "\n"
              << "Featurizer:  " << s.featurizer << "\n"
              << "Input:       ndarray " << s.input.to_string() << "\n"
              << "Output:      ndarray " << s.output.to_string() << "\n"
              << "LibTorch:    " << d["servable"]["dependencies"]["libtorch"].get<std::string>()
              << "\n"
              << "sha256:      " << s.sha256 << "\n"
              << "Created:     " << d["kiln"]["created"].get<std::string>() << " by kiln "
              << d["kiln"]["kiln_version"].get<std::string>() << "\n"
              << "Files:       " << registry.dir({s.name, s.version}).string() << "\n";
    if (d["kiln"].contains("training")) {
        const Json& t = d["kiln"]["training"];
        std::cout << "Training:    target " << t.value("target", "") << " of "
                  << t.value("dataset", "") << "\n             test MAE "
                  << t["mae"].value("test", 0.0) << " (mean baseline "
                  << t["baselines_test_mae"].value("mean", 0.0) << ", linear "
                  << t["baselines_test_mae"].value("linear", 0.0) << "); sizes train "
                  << t["split"].value("train", 0) << ", validation "
                  << t["split"].value("validation", 0) << ", test " << t["split"].value("test", 0)
                  << "; seed " << t["split"].value("seed", 0) << "\n";
    }
    return 0;
}

int search(const Args& args) {
    po::options_description o("Options");
    o.add_options()("query", po::value<std::string>(), "query (positional; default: every model)")(
        "json", po::bool_switch(), "one JSON object per line");
    add_models_option(o);
    po::positional_options_description pos;
    pos.add("query", 1);
    const CommandLine cl = parse_command_line("model search", args, o, pos);
    if (cl.print_config) return 0;
    if (cl.help) {
        print_help("model search", "QUERY [--json]",
                   "Finds models whose servable.json matches a query in kiln's search language, "
                   "e.g. 'domains:materials AND datacite.creators:Jha*'. A field matches the "
                   "values under it and a path ending in it (domains = dlhub.domains).",
                   o);
        return 0;
    }
    const index::QueryNode q = index::parse_query(get_or<std::string>(cl.vm, "query", ""));
    const model::Registry registry = registry_from(cl.vm);
    for (const auto& id : registry.list()) {
        const model::Servable s = registry.servable(id);
        if (!index::matches(q, s.document)) continue;
        if (cl.vm["json"].as<bool>()) {
            std::cout << Json{{"name", s.name},
                              {"version", s.version},
                              {"title", title_of(s.document)}}
                             .dump()
                      << "\n";
        } else {
            std::cout << std::left << std::setw(24) << id.to_string() << title_of(s.document)
                      << "\n";
        }
    }
    return 0;
}

int remove(const Args& args) {
    po::options_description o("Options");
    o.add_options()("model", po::value<std::string>(), "NAME@VERSION (positional)");
    add_models_option(o);
    po::positional_options_description pos;
    pos.add("model", 1);
    const CommandLine cl = parse_command_line("model remove", args, o, pos);
    if (cl.print_config) return 0;
    if (cl.help) {
        print_help("model remove", "NAME@VERSION", "Removes one published model version.", o);
        return 0;
    }
    if (cl.vm.count("model") == 0U) throw UsageError("kiln model remove: NAME@VERSION is required");
    model::Registry registry = registry_from(cl.vm);
    const model::ModelId id = model::ModelId::parse(cl.vm["model"].as<std::string>());
    registry.remove(id);
    std::cout << "removed " << id.to_string() << "\n";
    return 0;
}

}  // namespace

int run_model(const Args& args) {
    const std::string usage =
        "Usage: kiln model <publish|list|describe|search|remove> [options]\n"
        "`kiln model <subcommand> --help` explains each.";
    if (args.empty() || args[0] == "--help" || args[0] == "-h") {
        std::cout << usage << "\n";
        return args.empty() ? static_cast<int>(ExitCode::kUsage) : 0;
    }
    const Args rest(args.begin() + 1, args.end());
    if (args[0] == "publish") return publish(rest);
    if (args[0] == "list") return list(rest);
    if (args[0] == "describe") return describe(rest);
    if (args[0] == "search") return search(rest);
    if (args[0] == "remove") return remove(rest);
    throw UsageError("kiln model: unknown subcommand '" + args[0] + "'\n" + usage);
}

}  // namespace kiln::cli
