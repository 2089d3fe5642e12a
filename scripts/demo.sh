#!/usr/bin/env bash
# The main kiln job on real data: installs what is missing, builds, then ingests Debian's
# pymatgen-test-files (about 1 300 real CIF / VASP / XYZ / JSON files, many gzipped) with
# 3 MPI ranks (extracting compositions, cells and space groups), describes and verifies the
# dataset, searches it; then ingests pymatgen's 2 135 experimental formation enthalpies,
# trains an ElemNet-style network on them with LibTorch, publishes it in a model registry
# runs it on a few formulas, and runs it over both datasets with `kiln infer` (3 ranks);
# finally does the whole chain again as one job file (`kiln --config jobs/pipeline.ini`).
# Prints what it did.
# Usage: scripts/demo.sh [OUTPUT_DIR]   (default: ./demo-data)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh release
KILN=$PWD/build/release/bin/kiln
OUT=${1:-$PWD/demo-data}
DATA=$OUT/pymatgen
PMG=/usr/share/doc/pymatgen-test-files/examples/test_files
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_btl_vader_single_copy_mechanism=none OMPI_MCA_rmaps_base_oversubscribe=1
export OMPI_MCA_mpi_yield_when_idle=1
rm -rf "$DATA"
mkdir -p "$OUT"

echo "== kiln --version"
"$KILN" --version
echo
echo "== ingest $PMG with 3 MPI ranks (rank 0 manages, 2 workers write shards)"
mpiexec -n 3 "$KILN" ingest "$PMG" --out "$DATA" --source pymatgen-test-files \
    --shard-bytes 64MiB --progress-interval 2 \
    --title "pymatgen test files" --author "Ong, Shyue Ping" --author "Jain, Anubhav" \
    --affiliation "Materials Project" --tag dft --tag crystal-structures \
    --description "Test files shipped with pymatgen, packed by kiln"
echo
echo "== kiln describe $DATA"
"$KILN" describe "$DATA"
echo
echo "== kiln verify $DATA"
"$KILN" verify "$DATA"
echo
echo "== search the index built during the ingest (Forge-style queries)"
set -x
"$KILN" search "$DATA" --elements Li,Fe,P,O --limit 5
"$KILN" search "$DATA" 'crystal_structure.space_group_number:[195 TO 230] AND NOT material.elements:O' \
    --sort crystal_structure.volume:desc --fields material.composition,crystal_structure.space_group_number,crystal_structure.volume --limit 5
"$KILN" search "$DATA" --count-by kiln.format --limit 0 | head -12
"$KILN" search "$DATA" 'kiln.format:cif' --stats crystal_structure.volume
"$KILN" fields "$DATA" --prefix crystal_structure
"$KILN" get "$DATA" 'material.composition:Li2O' --to "$OUT/li2o-files"
{ set +x; } 2>/dev/null
find "$OUT/li2o-files" -type f | head -5
echo
echo "== kiln extract: metadata records of two real files"
"$KILN" extract "$PMG/Li2O.cif" "$PMG/CONTCAR.Li2O"
echo
echo "== the same dataset read with h5py (Debian's python3-h5py)"
/usr/bin/python3 - "$DATA" <<'PY'
import glob, json, sys, h5py
data = sys.argv[1]
with h5py.File(f"{data}/catalog.h5") as cat:
    print("catalog:", dict(cat.attrs), "shards:", len(cat["shards/id"]))
first = sorted(glob.glob(f"{data}/shards/*.h5"))[0]
with h5py.File(first) as f:
    r = f["records"]
    i = [k for k, (fmt, m) in enumerate(zip(r["format"][:], r["metadata"][:]))
         if fmt == b"cif" and b"crystal_structure" in m][0]
    meta = json.loads(r["metadata"][i])
    print(f"{first}: {len(r['id'])} records; first CIF record:")
    print(json.dumps(meta, indent=2))
    off, size = int(r["offset"][i]), int(r["size"][i])
    print("its first bytes:", bytes(f["blob"][off:off + min(size, 60)]))
PY
echo
EXP=/usr/lib/python3/dist-packages/pymatgen/entries/exp_compounds.json.gz
THERMO=$OUT/thermo
export KILN_MODELS=$OUT/models
rm -rf "$THERMO" "$KILN_MODELS" "$OUT/thermo-src"
mkdir -p "$OUT/thermo-src" && cp "$EXP" "$OUT/thermo-src/"
echo "== models: train on pymatgen's experimental formation enthalpies ($EXP)"
set -x
"$KILN" ingest "$OUT/thermo-src" --out "$THERMO" --source pymatgen-exp-compounds
"$KILN" search "$THERMO" 'material.elements:Fe AND material.elements:O' \
    --fields material.composition,formation_enthalpy_per_atom --limit 5
"$KILN" train "$THERMO" --target formation_enthalpy_per_atom --featurizer elemnet86 \
    --name elemnet-dhf --epochs ${KILN_DEMO_EPOCHS:-60} --patience 15 \
    --title "ElemNet formation enthalpy (pymatgen experimental data)" \
    --author "Jha, Dipendra" --doi 10.1038/s41598-018-35934-y --domain materials
"$KILN" model list
"$KILN" model describe elemnet-dhf
"$KILN" run elemnet-dhf --formula Fe2O3 --formula V3CoZr2 --formula NaCl --formula Li2O --debug
"$KILN" model search 'domains:materials AND datacite.creators:Jha*'
mpiexec -n 3 "$KILN" infer "$DATA" --model elemnet-dhf --cache-persist --progress-interval 5
mpiexec -n 3 "$KILN" infer "$THERMO" --model elemnet-dhf --cache-persist --progress-interval 5
"$KILN" search "$DATA" 'predicted.elemnet-dhf:[* TO -2] AND material.elements:O' \
    --sort predicted.elemnet-dhf --fields material.composition,predicted.elemnet-dhf,kiln.path --limit 5
{ set +x; } 2>/dev/null
echo
echo "== the predictions, read with h5py beside the records they belong to"
/usr/bin/python3 - "$DATA" "$THERMO" <<'PY'
import glob, json, sys, h5py
def predictions(data):
    out = {}
    for path in glob.glob(f"{data}/predictions/elemnet-dhf@1/shard-*.h5"):
        with h5py.File(path) as f:
            out.update(zip(f["record_id"][:], f["value"][:]))
    return out
def records(data):
    out = {}
    for path in glob.glob(f"{data}/shards/*.h5"):
        with h5py.File(path) as f:
            out.update((i, json.loads(m)) for i, m in zip(f["records/id"][:], f["records/metadata"][:]))
    return out
pmg, thermo = sys.argv[1], sys.argv[2]
p, r = predictions(thermo), records(thermo)
err = [abs(p[i] - r[i]["formation_enthalpy_per_atom"]) for i in p]
print(f"{thermo}: {len(p)} predictions; MAE against the experimental values (train + test "
      f"rows): {sum(err) / len(err):.3f} eV/atom")
p, r = predictions(pmg), records(pmg)
print(f"{pmg}: {len(p)} of {len(r)} records have a composition the model covers")
PY
echo
echo "== the same work as one job file: ingest -> index -> infer -> search (jobs/pipeline.ini)"
export KILN_DATA=$OUT/pipeline KILN_INPUT=$PMG KILN_MODEL=elemnet-dhf
rm -rf "$KILN_DATA"
"$KILN" --config jobs/pipeline.ini --print-config | grep -E '^\[|# jobs' | head -12
mpiexec -n 3 "$KILN" --config jobs/pipeline.ini --set ingest.progress-interval=5 \
    --set "search.query=predicted.elemnet-dhf:[* TO -2] AND material.elements:O" --set search.limit=5
echo "completion marker $KILN_DATA/job-complete.json:"
cat "$KILN_DATA/job-complete.json"
echo
echo "demo: dataset at $DATA (summary: $DATA/ingest-summary.json), models in $KILN_MODELS,"
echo "      the job file's dataset at $KILN_DATA"
