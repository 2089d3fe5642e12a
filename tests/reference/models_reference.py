#!/usr/bin/python3
"""Python's side of tests/reference/models_reference.sh: Debian's python3-torch, pymatgen,
numpy and jsonschema, none of them written here, checking what kiln's model commands do."""
import copy
import csv
import json
import math
import os
import subprocess
import sys
import warnings

warnings.filterwarnings("ignore")
import numpy as np  # noqa: E402
import torch  # noqa: E402

ELEMNET_EXCLUDED = {2, 10, 18, 84, 85, 86, 87, 88}


def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)


def make_python_model(path, rows_path, expected_path):
    """A TorchScript model saved by Python's torch, and inputs with its own outputs."""
    torch.manual_seed(3)
    net = torch.nn.Sequential(torch.nn.Linear(86, 16), torch.nn.Tanh(), torch.nn.Linear(16, 1))
    torch.jit.script(net.eval()).save(path)
    gen = np.random.default_rng(5)
    x = gen.random((50, 86), dtype=np.float32)
    with torch.no_grad():
        y = torch.jit.load(path)(torch.from_numpy(x)).numpy()
    with open(rows_path, "w") as f:
        for row in x:
            f.write(json.dumps({"input": [float(v) for v in row]}) + "\n")
    json.dump([float(v) for v in y[:, 0]], open(expected_path, "w"))
    # A model whose output has two columns (declared as one by the test: must be refused).
    two = torch.nn.Linear(86, 2)
    torch.jit.script(two).save(path.replace(".pt", "-two.pt"))


def compare_rows(expected_path, out_path):
    expected = json.load(open(expected_path))
    got = [json.loads(line)["output"] for line in open(out_path)]
    if len(got) != len(expected):
        fail(f"{len(got)} outputs for {len(expected)} inputs")
    worst = max(abs(a - b) for a, b in zip(got, expected))
    print(f"python-saved model: {len(got)} rows, max |kiln - torch| = {worst:.2e}")
    if worst > 1e-5:
        fail("kiln's outputs differ from Python's torch by more than 1e-5")


def elemnet86(comp):
    from pymatgen.core import Element
    zs = [z for z in range(1, 95) if z not in ELEMNET_EXCLUDED]
    v = np.zeros(86, dtype=np.float32)
    for el, amt in comp.get_el_amt_dict().items():
        v[zs.index(Element(el).Z)] = amt / comp.num_atoms
    return v


def check_trained(model_path, run_jsonl, servable_path, schema_path):
    from pymatgen.core import Composition
    net = torch.jit.load(model_path)
    net.eval()
    rows = [json.loads(line) for line in open(run_jsonl)]
    x = np.stack([elemnet86(Composition(r["input"])) for r in rows])
    with torch.no_grad():
        y = net(torch.from_numpy(x)).numpy()[:, 0]
    worst = max(abs(float(a) - r["output"]) for a, r in zip(y, rows))
    print(f"kiln-trained model in Python: {len(rows)} formulas, max |torch - kiln| = {worst:.2e}")
    if worst > 1e-5:
        fail("Python's torch.jit.load of the kiln-trained model predicts differently")
    import jsonschema
    doc = json.load(open(servable_path))
    jsonschema.validate(doc, json.load(open(schema_path)))
    t = doc["kiln"]["training"]
    for k in ("train", "validation", "test"):
        if not (t["mae"][k] >= 0 and math.isfinite(t["mae"][k])):
            fail(f"training MAE {k} missing")
    print(f"servable.json valid for Python's jsonschema; test MAE {t['mae']['test']:.4f} "
          f"(mean {t['baselines_test_mae']['mean']:.4f}, linear {t['baselines_test_mae']['linear']:.4f})")


def check_featurizers(kiln, table_path, formulas_path):
    from pymatgen.core import Composition, Element
    formulas = [line.strip() for line in open(formulas_path) if line.strip()]
    names = None
    props = {}
    with open(table_path) as f:
        for row in csv.reader(line for line in f if not line.startswith("#")):
            if names is None:
                names = row[1:-1]
                continue
            props[row[0]] = [float(v) for v in row[1:-1]]

    def magpie(comp):
        els = list(comp.get_el_amt_dict().items())
        frac = np.array([a for _, a in els]) / comp.num_atoms
        out = []
        for p in range(len(names)):
            v = np.array([props[e][p] for e, _ in els])
            mean = float(np.dot(frac, v))
            top = frac.max()
            mode = min(v[i] for i in range(len(v)) if frac[i] >= top - 1e-12)
            out += [v.min(), v.max(), v.max() - v.min(), mean, float(np.dot(frac, abs(v - mean))), mode]
        return np.array(out)

    def element_fraction(comp):
        v = np.zeros(118)
        for el in comp.elements:
            v[Element(el.symbol).Z - 1] = comp.get_atomic_fraction(el)
        return v

    for name, ref in (("element_fraction", element_fraction), ("magpie", magpie)):
        out = subprocess.run([kiln, "featurize", "--featurizer", name] + formulas,
                             check=True, capture_output=True, text=True).stdout.splitlines()
        worst = 0.0
        for line, formula in zip(out, formulas):
            got = np.array(json.loads(line)["features"])
            want = ref(Composition(formula))
            if got.shape != want.shape:
                fail(f"{name} {formula}: {got.shape} values, expected {want.shape}")
            rel = np.max(np.abs(got - want) / np.maximum(1.0, np.abs(want)))
            worst = max(worst, float(rel))
        print(f"{name}: {len(out)} formulas, max relative difference {worst:.2e}")
        if len(out) != len(formulas) or worst > 1e-5:
            fail(f"{name} differs from the Python reference")


def schema_differential(kiln, models, name, schema_path):
    """Mutations of a valid servable.json: kiln must refuse exactly those jsonschema refuses."""
    import jsonschema
    schema = json.load(open(schema_path))
    path = os.path.join(models, name, "1", "servable.json")
    good = json.load(open(path))
    mutations = {
        "valid as published": lambda d: None,
        "no creators": lambda d: d["datacite"].__setitem__("creators", []),
        "creator without name": lambda d: d["datacite"]["creators"][0].pop("creatorName"),
        "year not 4 digits": lambda d: d["datacite"].__setitem__("publicationYear", "26"),
        "version 0": lambda d: d["dlhub"].__setitem__("version", 0),
        "version string": lambda d: d["dlhub"].__setitem__("version", "1"),
        "type not servable": lambda d: d["dlhub"].__setitem__("type", "dataset"),
        "no domains": lambda d: d["dlhub"].pop("domains"),
        "shim python": lambda d: d["servable"].__setitem__("shim", "python"),
        "dtype int64": lambda d: d["servable"]["methods"]["run"]["input"]["item_type"].__setitem__("type", "int64"),
        "shape size 0": lambda d: d["servable"]["methods"]["run"]["input"].__setitem__("shape", [None, 0]),
        "shape text": lambda d: d["servable"]["methods"]["run"]["output"].__setitem__("shape", [None, "1"]),
        "no featurizer": lambda d: d["servable"]["methods"]["run"]["method_details"].pop("featurizer"),
        "no libtorch": lambda d: d["servable"]["dependencies"].pop("libtorch"),
        "sha256 short": lambda d: d["kiln"].__setitem__("sha256", "abc"),
        "sha256 upper": lambda d: d["kiln"].__setitem__("sha256", d["kiln"]["sha256"].upper()),
        "no kiln block": lambda d: d.pop("kiln"),
        "DOI type bad": lambda d: d["datacite"]["relatedIdentifiers"][0].__setitem__("relatedIdentifierType", "ISBN"),
        "extra field (allowed)": lambda d: d["dlhub"].__setitem__("shorthand_name", "x/y"),
        "description list (allowed)": lambda d: d["datacite"].__setitem__("descriptions", []),
    }
    disagreements = 0
    for label, mutate in mutations.items():
        doc = copy.deepcopy(good)
        mutate(doc)
        json.dump(doc, open(path, "w"), indent=2)
        try:
            jsonschema.validate(doc, schema)
            py_ok = True
        except jsonschema.ValidationError:
            py_ok = False
        rc = subprocess.run([kiln, "model", "describe", name, "--models", models],
                            capture_output=True, text=True).returncode
        kiln_ok = rc == 0
        if kiln_ok != py_ok or rc not in (0, 65):
            disagreements += 1
            print(f"  disagree on '{label}': jsonschema {'accepts' if py_ok else 'refuses'}, kiln exit {rc}")
    json.dump(good, open(path, "w"), indent=2)
    print(f"servable.json schema: {len(mutations)} documents, {disagreements} disagreements with jsonschema")
    if disagreements:
        fail("kiln's schema validation disagrees with Python's jsonschema")


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    {"make-python-model": make_python_model, "compare-rows": compare_rows,
     "check-trained": check_trained, "featurizers": check_featurizers,
     "schema": schema_differential}[cmd](*args)
