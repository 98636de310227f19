"""`pip install .` gives the nst-tf command and an installed copy of the package: installed
into a fresh virtual environment that sees this Python's packages (TensorFlow is not installed
again), offline, from a copy of the checkout (the build's files stay out of it)."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT

# What a build reads: the package and the project's files.
SOURCES = ("pyproject.toml", "requirements.txt", "README.md", "nst_tf")


def _have_build_tools() -> bool:
    try:
        import setuptools  # noqa: F401
        import wheel  # noqa: F401
    except ImportError:
        return False
    return True


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """(the venv's bin folder, a folder outside the checkout)."""
    if not _have_build_tools():
        pytest.skip("setuptools and wheel are needed to build offline (--no-build-isolation)")
    work = tmp_path_factory.mktemp("install")
    source = work / "source"
    source.mkdir()
    for name in SOURCES:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, source / name,
                            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy(ROOT / name, source / name)
    venv = work / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)],
                   check=True, timeout=120)
    bin_dir = venv / "bin"
    env = dict(os.environ, PIP_NO_INDEX="1", PIP_DISABLE_PIP_VERSION_CHECK="1")
    done = subprocess.run([str(bin_dir / "python"), "-m", "pip", "install", "-q", "--no-deps",
                           "--no-build-isolation", str(source)], capture_output=True, text=True,
                          timeout=300, env=env, cwd=work)
    assert done.returncode == 0, done.stderr
    outside = work / "elsewhere"
    outside.mkdir()
    return bin_dir, outside


def _clean_env():
    """The environment without this checkout on the import path (pytest.ini's pythonpath)."""
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    return env


def test_the_console_command_runs_from_anywhere(installed):
    bin_dir, outside = installed
    done = subprocess.run([str(bin_dir / "nst-tf"), "transfer", "--help"], capture_output=True,
                          text=True, timeout=120, cwd=outside, env=_clean_env())
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("usage: nst-tf transfer --content PHOTO --texture PHOTO")
    common = lines.index("common:")
    assert [line.split()[0] for line in lines[common + 1:] if line.startswith("  --")][:3] == [
        "--content=PHOTO", "--texture=PHOTO", "--output=FILE"]
    done = subprocess.run([str(bin_dir / "nst-tf"), "--help"], capture_output=True, text=True,
                          timeout=120, cwd=outside, env=_clean_env())
    assert done.returncode == 0
    assert [line.split()[0] for line in done.stdout.splitlines() if line.startswith("  ")][:3] \
        == ["transfer", "batch", "download-weights"]


def test_python_imports_the_installed_copy(installed):
    bin_dir, outside = installed
    done = subprocess.run([str(bin_dir / "python"), "-c",
                           "import nst_tf, sys; print(nst_tf.__file__)"],
                          capture_output=True, text=True, timeout=120, cwd=outside,
                          env=_clean_env())
    assert done.returncode == 0, done.stderr
    location = Path(done.stdout.strip())
    site_packages = bin_dir.parent / "lib"
    assert site_packages in location.parents and "site-packages" in location.parts
    assert ROOT not in location.parents
    # Every file of the package that is not Python comes along (the web page's).
    data = sorted(path.relative_to(ROOT) for path in (ROOT / "nst_tf").rglob("*")
                  if path.is_file() and path.suffix not in (".py", ".pyc"))
    for path in data:
        assert (location.parent.parent / path).is_file(), path


def test_the_dependencies_are_requirements_txt(installed):
    bin_dir, outside = installed
    done = subprocess.run([str(bin_dir / "python"), "-c",
                           "import importlib.metadata as m; print('\\n'.join(m.requires('nst-tf')))"],
                          capture_output=True, text=True, timeout=120, cwd=outside,
                          env=_clean_env())
    assert done.returncode == 0, done.stderr
    from packaging.requirements import Requirement
    required = done.stdout.strip().split("\n")
    wanted = [line.strip() for line in (ROOT / "requirements.txt").read_text().splitlines()
              if line.strip() and not line.startswith("#")]
    plain = [Requirement(line) for line in required if "extra ==" not in line]
    assert {(r.name, r.specifier) for r in plain} == {
        (r.name, r.specifier) for r in map(Requirement, wanted)}
    assert any(line.startswith("ray") and 'extra == "ray"' in line for line in required)
    assert any(line.startswith("pytest-xdist") and 'extra == "test"' in line for line in required)


def test_installed_download_weights_from_a_file_goes_to_the_keras_cache(installed):
    """Installed, the weights folder is Keras' cache ($KERAS_HOME/models), not a weights/ of
    the package: --from puts a copy there (Keras' md5 made the file's here, as the tests of a
    checkout do), and a wrong file is one line, exit 2, nothing written."""
    import hashlib
    bin_dir, outside = installed
    keras_home = outside / "keras_home"
    env = dict(_clean_env(), KERAS_HOME=str(keras_home))
    env.pop("NST_TF_WEIGHTS_DIR", None)
    copy = outside / "vgg19_copy.h5"
    copy.write_bytes(b"a copy of Keras' file" * 1000)
    md5 = hashlib.md5(copy.read_bytes()).hexdigest()
    done = subprocess.run([str(bin_dir / "nst-tf"), "download-weights", f"--from={copy}"],
                          capture_output=True, text=True, timeout=120, cwd=outside, env=env)
    assert done.returncode == 2 and done.stderr.count("\n") == 1, done.stderr
    assert done.stderr.startswith(f"error: {copy}: not Keras' VGG19 notop file (its md5 is {md5}")
    assert not keras_home.exists()
    code = ("import sys\n"
            "from nst_tf.network import weights\n"
            "weights.KERAS_VGG19_NOTOP = weights.WeightsFile(\n"
            "    weights.KERAS_VGG19_NOTOP.filename, 'file:///nowhere', sys.argv[1])\n"
            "from nst_tf.cli.main import main\n"
            "main(['nst-tf', 'download-weights', '--from', sys.argv[2]])\n")
    done = subprocess.run([str(bin_dir / "python"), "-c", code, md5, str(copy)],
                          capture_output=True, text=True, timeout=120, cwd=outside, env=env)
    assert done.returncode == 0, done.stderr
    installed_file = keras_home / "models" / "vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5"
    assert done.stdout.splitlines()[0] == (f"{installed_file} verified (Keras' VGG19 notop file, "
                                           f"from {copy})")
    assert installed_file.read_bytes() == copy.read_bytes()


def test_the_video_extra_is_named_video(installed):
    """pip install 'nst-tf[video]' (or '.[video]' in a checkout): the extra the docs name."""
    bin_dir, outside = installed
    done = subprocess.run([str(bin_dir / "python"), "-c",
                           "import importlib.metadata as m; print('\\n'.join(m.requires('nst-tf')))"],
                          capture_output=True, text=True, timeout=120, cwd=outside,
                          env=_clean_env())
    assert done.returncode == 0, done.stderr
    video = sorted(line.split(";")[0].split(">=")[0].strip() for line in done.stdout.splitlines()
                   if 'extra == "video"' in line)
    assert video == ["imageio-ffmpeg", "opencv-python-headless"]
