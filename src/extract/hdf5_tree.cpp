// The tree of an HDF5 file held in memory: groups, datasets with shape and type, named types,
// read with the HDF5 library through a core-driver file image (nothing is written). Type
// names follow numpy's as h5py shows them: float64, int32, uint8; and string, enum, compound,
// array, vlen, reference, opaque, bitfield, time for the rest. Runs inside kiln-hdf5-reader
// (see hdf5_extractor.cpp for why not inside kiln).
#include "extract/hdf5_tree.hpp"

#include <hdf5.h>

#include <mutex>

#include "kiln/core/error.hpp"
#include "kiln/core/hdf5_lock.hpp"
#include "kiln/core/text.hpp"

namespace kiln::extract {
namespace {

constexpr std::string_view kSignature{"\x89HDF\r\n\x1a\n", 8};
constexpr std::size_t kMaxObjects = 1000;  // listed in the record; the counts cover all

// Closes an HDF5 id of any kind at scope exit.
class Id {
public:
    explicit Id(hid_t id) : id_(id) {}
    Id(const Id&) = delete;
    Id& operator=(const Id&) = delete;
    ~Id() {
        if (id_ >= 0) H5Idec_ref(id_);
    }
    [[nodiscard]] hid_t get() const { return id_; }
    [[nodiscard]] bool ok() const { return id_ >= 0; }

private:
    hid_t id_;
};

std::string type_name(hid_t type) {
    const std::size_t bits = H5Tget_size(type) * 8;
    switch (H5Tget_class(type)) {
        case H5T_FLOAT:
            return "float" + std::to_string(bits);
        case H5T_INTEGER:
            return (H5Tget_sign(type) == H5T_SGN_NONE ? "uint" : "int") + std::to_string(bits);
        case H5T_STRING:
            return "string";
        case H5T_ENUM:
            return "enum";
        case H5T_COMPOUND:
            return "compound";
        case H5T_ARRAY:
            return "array";
        case H5T_VLEN:
            return "vlen";
        case H5T_REFERENCE:
            return "reference";
        case H5T_OPAQUE:
            return "opaque";
        case H5T_BITFIELD:
            return "bitfield";
        case H5T_TIME:
            return "time";
        default:
            return "unknown";
    }
}

struct Tree {
    std::uint64_t groups = 0;
    std::uint64_t datasets = 0;
    std::uint64_t named_types = 0;
    nlohmann::json objects = nlohmann::json::array();
};

nlohmann::json describe_dataset(hid_t file, const char* name) {
    nlohmann::json d = {{"type", "dataset"}};
    const Id dset(H5Dopen2(file, name, H5P_DEFAULT));
    if (!dset.ok()) return d;
    const Id space(H5Dget_space(dset.get()));
    const int rank = space.ok() ? H5Sget_simple_extent_ndims(space.get()) : -1;
    if (rank >= 0) {
        std::vector<hsize_t> dims(static_cast<std::size_t>(rank));
        H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr);
        d["shape"] = dims;
    }
    const Id type(H5Dget_type(dset.get()));
    if (type.ok()) d["dtype"] = type_name(type.get());
    return d;
}

herr_t visit(hid_t object, const char* name, const H5O_info_t* info, void* data) {
    auto& tree = *static_cast<Tree*>(data);
    if (std::string_view(name) == ".") return 0;  // the root group
    nlohmann::json entry;
    switch (info->type) {
        case H5O_TYPE_GROUP:
            ++tree.groups;
            entry = {{"type", "group"}};
            break;
        case H5O_TYPE_DATASET:
            ++tree.datasets;
            entry = describe_dataset(object, name);
            break;
        case H5O_TYPE_NAMED_DATATYPE:
            ++tree.named_types;
            entry = {{"type", "datatype"}};
            break;
        default:
            return 0;
    }
    if (tree.objects.size() < kMaxObjects) {
        entry["path"] = "/" + escape_invalid_utf8(name);
        tree.objects.push_back(std::move(entry));
    }
    return 0;
}

}  // namespace

nlohmann::json read_hdf5_tree(std::string_view bytes) {
    // The signature is at 0, or after a user block of 512, 1024, 2048... bytes.
    bool signed_hdf5 = bytes.starts_with(kSignature);
    for (std::size_t at = 512; !signed_hdf5 && at < bytes.size(); at *= 2)
        signed_hdf5 = bytes.substr(at).starts_with(kSignature);
    if (!signed_hdf5) throw DataError("no HDF5 signature (\\x89HDF\\r\\n\\x1a\\n)");
    Tree tree;
    {
        const std::lock_guard lock(hdf5_library_mutex());
        H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);  // errors become return codes
        const Id fapl(H5Pcreate(H5P_FILE_ACCESS));
        if (!fapl.ok() || H5Pset_fapl_core(fapl.get(), 1 << 16, 0) < 0 ||
            H5Pset_file_image(fapl.get(), const_cast<char*>(bytes.data()), bytes.size()) < 0)
            throw DataError("cannot hand the file to HDF5");
        // The name only labels the in-memory image, and must name no file: with one there,
        // HDF5 opens that instead. Nothing can exist below /dev/null.
        const Id h5(H5Fopen("/dev/null/kiln-hdf5-image", H5F_ACC_RDONLY, fapl.get()));
        if (!h5.ok()) throw DataError("HDF5 cannot open it (truncated or corrupt)");
        if (H5Ovisit2(h5.get(), H5_INDEX_NAME, H5_ITER_INC, visit, &tree, H5O_INFO_BASIC) < 0)
            throw DataError("HDF5 cannot walk its groups (corrupt)");
    }
    nlohmann::json h = {
        {"groups", tree.groups}, {"datasets", tree.datasets}, {"tree", std::move(tree.objects)}};
    if (tree.named_types > 0) h["named_datatypes"] = tree.named_types;
    if (tree.groups + tree.datasets + tree.named_types > kMaxObjects) h["truncated"] = true;
    return h;
}

}  // namespace kiln::extract
