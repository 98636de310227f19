"""The shape of the code: the library never imports its laboratory, the objective's formulas live
in one module, the plan of levels and the reports need no TensorFlow."""
import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

from nst_tf.config import TransferConfig
from nst_tf.errors import NSTError
from nst_tf.run.levels import LevelPlan, coarser, gradient_scale, picture_levels, tile_levels

from conftest import ROOT

LIBRARY = ROOT / "nst_tf"


def imported_modules(path: Path):
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            yield node.module


def test_the_library_never_imports_the_laboratory_or_the_scripts():
    offenders = [(str(path.relative_to(ROOT)), module)
                 for path in LIBRARY.rglob("*.py") for module in imported_modules(path)
                 if module.split(".")[0] in ("bench", "scripts", "cli_common", "tests",
                                             "conftest")]
    assert offenders == []


def test_each_loss_formula_is_written_in_one_module():
    # The distances, Gram matrices, TV and the weighting are defined in objective/terms.py
    # and nowhere else in the library.
    names = {"square_distance", "gram", "gram_sums", "guided_gram", "pooled", "gram_distance",
             "gram_surrogate", "total_variation", "layer_mean", "blended", "blend_weights",
             "part_weights", "Weighting", "gray"}
    defined = {}
    for path in LIBRARY.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and node.name in names:
                defined.setdefault(node.name, []).append(str(path.relative_to(LIBRARY)))
    assert defined == {name: ["objective/terms.py"] for name in names}


def test_settings_reports_and_plans_import_no_tensorflow():
    code = ("import sys\n"
            "import nst_tf, nst_tf.config, nst_tf.presets, nst_tf.fields, nst_tf.steps\n"
            "import nst_tf.network.layers, nst_tf.run.levels, nst_tf.io.inputs\n"
            "import nst_tf.report.progress, nst_tf.report.plot, nst_tf.report.steplog\n"
            "print(sorted(m for m in ('tensorflow', 'keras') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_tensorflows_start_up_lines_stay_hidden_whichever_name_is_used_first():
    """TensorFlow's C++ side writes its start-up lines (oneDNN, CUDA probing, absl) to file
    descriptor 2; every module of the package that needs it starts it quietly (through
    tensorflow_quietly, as test_every_tensorflow_import_is_quiet checks), whichever starts it
    first."""
    first = "import nst_tf.run.texture_transfer"
    done = subprocess.run([sys.executable, "-c", first], capture_output=True, text=True,
                          cwd=ROOT, timeout=120, env={k: v for k, v in os.environ.items()
                                                     if k != "TF_CPP_MIN_LOG_LEVEL"})
    assert done.returncode == 0, done.stderr
    assert done.stderr == "", done.stderr


def test_every_tensorflow_import_is_quiet():
    """No module of the package imports TensorFlow or Keras when it is imported but through
    tensorflow_quietly (an import inside a function runs after a run has started it)."""
    loud = []
    for path in LIBRARY.rglob("*.py"):
        for node in ast.parse(path.read_text()).body:
            names = ([a.name for a in node.names] if isinstance(node, ast.Import) else
                     [node.module] if isinstance(node, ast.ImportFrom) and node.level == 0
                     else [])
            if any((n or "").split(".")[0] in ("tensorflow", "keras") for n in names):
                loud.append(f"{path.relative_to(LIBRARY)}:{node.lineno}")
    assert [place for place in loud if not place.startswith("tensorflow_quietly.py")] == []


def test_tile_levels_halve_down_to_32_px_and_give_the_last_the_run_steps():
    config = TransferConfig(coarse_levels=3, coarse_iterations=7, iterations=40)
    plan = tile_levels((150, 200), config)
    assert plan == LevelPlan([(38, 50), (75, 100), (150, 200)], [7, 7, 40])  # 19x25 left out
    assert coarser((64, 64), 1) == [(32, 32)] and coarser((60, 64), 1) == []


def test_picture_levels_start_at_start_dim_and_double_up_to_the_full_size():
    config = TransferConfig(max_dim=0, start_dim=1024, iterations=45, refine_iterations=3)
    plan = picture_levels((3640, 5464), config)
    assert plan.sizes == [(682, 1024), (1364, 2048), (2728, 4096), (3640, 5464)]
    assert plan.steps == [45, 3, 3, 3]
    assert picture_levels((300, 500), config).sizes == [(300, 500)]  # smaller than start_dim
    with pytest.raises(NSTError, match="start_dim 1024 makes a first level of 1024x18 px"):
        picture_levels((100, 5600), config)


def test_gradient_scale_counts_the_originals_tiles_in_a_picture():
    # max_dim 0: a picture whose longer side is 2048 holds (2048 / 512)^2 = 16 tiles of 512 px.
    assert gradient_scale((1152, 2048), (1152, 2048), (1152, 2048), 0) == pytest.approx(16.0)
    assert gradient_scale((576, 1024), (1152, 2048), (1152, 2048), 0) == pytest.approx(4.0)
    # A 2x2 split at max_dim 512: the picture is four tiles of 341x512.
    assert gradient_scale((682, 1024), (682, 1024), (341, 512), 512) == pytest.approx(4.0)


def test_load_inputs_never_downloads(tmp_path, monkeypatch):
    # Keras' file is missing from an empty weights folder and Keras' cache: load_inputs says how
    # to get it instead of fetching 80 MB (the command line and nst_tf.transfer ask for it).
    from nst_tf import load_inputs
    from nst_tf.io import download
    from conftest import random_image
    monkeypatch.setenv("NST_TF_WEIGHTS_DIR", str(tmp_path / "weights"))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.setattr(download, "download", lambda *a, **k: pytest.fail("downloaded"))
    with pytest.raises(NSTError, match="download_weights"):
        load_inputs(random_image((40, 40), 1), random_image((40, 40), 2), TransferConfig())


def _imports() -> dict:
    """{module: the package's modules it imports (at the top or inside a function)}."""
    modules = {}
    for path in LIBRARY.rglob("*.py"):
        name = ".".join(path.relative_to(LIBRARY.parent).with_suffix("").parts)
        modules[name.removesuffix(".__init__")] = path
    found = {}
    for name, path in modules.items():
        targets = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("nst_tf"):
                targets |= {node.module} | {f"{node.module}.{a.name}" for a in node.names}
            elif isinstance(node, ast.Import):
                targets |= {a.name for a in node.names}
        found[name] = {t for t in targets if t in modules and t != name}
    return found


def test_the_house_has_no_circle_and_files_know_nothing_of_runs():
    imports = _imports()

    def reaches(start):
        seen, todo = set(), [start]
        while todo:
            for target in imports[todo.pop()]:
                if target not in seen:
                    seen.add(target)
                    todo.append(target)
        return seen

    # The package's __init__ names everything; below it, no module reaches itself again.
    circles = sorted(name for name in imports if name != "nst_tf" and name in reaches(name))
    assert circles == []
    assert [(a, b) for a in imports if a.startswith("nst_tf.io.") for b in imports[a]
            if b.startswith("nst_tf.run")] == []


def _calls(name: str) -> dict:
    """{module: count} of the library's calls of a function named `name`: bare (tile_size) or
    with what it is called on (Image.open)."""
    found = {}
    for path in LIBRARY.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call):
                function = node.func
                called = getattr(function, "id", None)
                if isinstance(function, ast.Attribute):
                    owner = getattr(function.value, "id", None)
                    called = f"{owner}.{function.attr}" if "." in name else function.attr
                if called == name:
                    module = str(path.relative_to(LIBRARY))
                    found[module] = found.get(module, 0) + 1
    return found


def test_the_plan_the_networks_and_the_codecs_each_live_in_one_place():
    # The plan of a run: run_plan, made once by the run's checks (run/request.py), whose
    # Prepared every front end hands to what runs it.
    assert _calls("tile_levels") == _calls("picture_levels") == {"run/levels.py": 1}
    assert _calls("tile_size") == {"run/levels.py": 1}
    assert _calls("run_plan") == {"run/request.py": 1}
    # The networks: built by the cache, which keeps them (network/vgg.py's own helper aside).
    assert set(_calls("vgg")) == {"network/cache.py", "network/vgg.py"}
    # Photos decoded, encoded and rounded to 8 bits in io/images.py only.
    for name in ("iio.imwrite", "iio.imread", "Image.open"):
        assert set(_calls(name)) <= {"io/images.py"}, name
    eight_bit = [str(path.relative_to(LIBRARY)) for path in LIBRARY.rglob("*.py")
                 if "astype(np.uint8)" in path.read_text()]
    assert eight_bit == ["io/images.py"]


def test_the_values_that_name_no_file_are_written_once():
    # ("content", "noise") and ("imagenet", "random"): nst_tf.config's INIT_KINDS, WEIGHTS_KINDS.
    kinds = {("content", "noise"), ("imagenet", "random"), ("", "none")}
    written = []
    for path in LIBRARY.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Tuple) and all(isinstance(e, ast.Constant) for e in node.elts):
                if tuple(e.value for e in node.elts) in kinds:
                    written.append(str(path.relative_to(LIBRARY)))
    assert written == ["config.py"] * 3
