"""Downloads Keras' ImageNet VGG19 (or VGG16) without its classifier into weights/, verified by
its md5, showing its progress, and writes Gatys' normalized VGG19 derived from it beside it; or
installs a copy of that file one already has (--from), checked by the same md5.

    nst-tf download-weights
    nst-tf download-weights --network vgg16
    nst-tf download-weights --from ~/Downloads/vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5
    nst-tf download-weights --url file:///tmp/x.h5 --md5 ... --dest /tmp/w.h5

A no-op when a verified file is already there; a failed download or a refused file leaves
nothing behind. (python scripts/download_weights.py ... from a checkout.)
"""
import re
from pathlib import Path

from absl import app, flags

from nst_tf.cli import common
from nst_tf.errors import NSTError
from nst_tf.io.download import ByteProgress, download
from nst_tf.network.calibration import derived_layers, identify, write_layers
from nst_tf.network.layers import NETWORKS
from nst_tf.network.weights import WEIGHTS_DIR, install_weights, keras_file

# The derived normalized VGG19's name, beside the downloaded file.
NORMALIZED_NAME = "vgg19_normalized_notop.h5"

USAGE = "[--network vgg19|vgg16] [--from FILE | --url URL --md5 HEX] [--dest PATH]"
DESCRIPTION = f"""\
Downloads Keras' ImageNet VGG19 (or VGG16) notop weights, verified by their md5, so that
--weights imagenet runs offline, and writes Gatys' normalized VGG19, derived from them exactly,
beside them ({NORMALIZED_NAME}: the network the calibrated loop runs, for other
tools). --from FILE installs a copy of Keras' file that you already have instead (offline): its
md5 checked against Keras', the file copied into the same folder, the normalized network written
beside it. The folder: {WEIGHTS_DIR}/ (NST_TF_WEIGHTS_DIR moves it).
Does nothing when a verified copy is there; a failed download or a refused file leaves nothing
behind."""

flags.DEFINE_enum("network", "vgg19", NETWORKS, "Whose Keras notop file to fetch.")
flags.DEFINE_string("from", None, "Install this file instead of downloading: a copy of Keras' "
                    "notop file of --network that you have, checked against Keras' md5 and "
                    "copied to where the download puts it.")
flags.DEFINE_string("url", None, "Where to download from (default: Keras' file of --network).")
flags.DEFINE_string("md5", None, "Expected md5 (or sha256) of the file (default: Keras' file's).")
flags.DEFINE_string("dest", None, "Where to write it: a file path, or a folder to put it in (as "
                    f"wget -P); default: {WEIGHTS_DIR}/ under Keras' file name.")
flags.DEFINE_boolean("progress", True, "Show the download's progress on stderr.")
FLAGS = flags.FLAGS

GROUPS = [("download", ("network", "from", "url", "md5", "dest", "progress"))]


def check_hash(text) -> None:
    """NSTError with one line unless `text` is None, empty (no check), 32 hex digits (an md5)
    or 64 (a sha256): checked before any download."""
    if text and not re.fullmatch(r"[0-9a-fA-F]{32}|[0-9a-fA-F]{64}", text):
        raise NSTError(f"--md5 takes 32 hex digits (an md5; 64 for a sha256), got {text!r}")


@common.guarded
def run(argv):
    source = FLAGS["from"].value  # `from` is a Python keyword: FLAGS.from cannot be written
    if source is not None:
        install(source)
        return
    check_hash(FLAGS.md5)
    if FLAGS.url and FLAGS.md5 is None:
        raise NSTError("--url needs --md5 HEX, the file's md5 (or sha256), to check what comes; "
                       "--md5= downloads it unchecked")
    known = keras_file(FLAGS.network)
    url = FLAGS.url or known.url
    md5 = FLAGS.md5 if FLAGS.md5 is not None else known.md5
    path = download(url, FLAGS.dest or WEIGHTS_DIR / known.filename, md5 or None,
                    progress=ByteProgress() if FLAGS.progress else None)
    print(f"{path} verified" if md5 else f"{path} downloaded (no hash given to check)")
    if FLAGS.network == "vgg19":
        print(write_normalized(path))


def install(source: str) -> None:
    """--from FILE: Keras' file of --network that the user has, checked by Keras' md5 and
    copied to where the download would put it (or --dest); then, for VGG19, the normalized
    network written beside it, as after a download."""
    given = [f"--{name}" for name in ("url", "md5") if FLAGS[name].value is not None]
    if given:
        raise NSTError(f"--from takes no {' or '.join(given)}: it installs a file you have, "
                       "checked against Keras' md5 (--url and --md5 are for a download)")
    if not source:
        raise NSTError("--from needs the path of Keras' notop file: --from FILE")
    path = install_weights(Path(source).expanduser(), FLAGS.network, FLAGS.dest)
    print(f"{path} verified (Keras' {FLAGS.network.upper()} notop file, from {source})")
    if FLAGS.network == "vgg19":
        print(write_normalized(path))


def write_normalized(path: Path) -> str:
    """Writes Gatys' normalized VGG19 derived from the file at `path` beside it (when it is a
    rescaling of it, and not the normalized file itself); says what it did in one line."""
    kind, reason = identify(path)
    if kind == "normalized":
        return f"{path} is Gatys' normalized VGG19 already"
    if kind == "unreadable":
        return f"{path}: not a VGG19 notop .h5 file; nothing derived"
    if kind != "rescaled":
        return f"{path} is {reason}; nothing derived (it runs with the 2018 settings)"
    target = path.with_name(NORMALIZED_NAME)
    if target == path:
        target = path.with_name(f"{path.stem}_normalized{path.suffix}")
    write_layers(target, derived_layers(path))
    return f"{target}: Gatys' normalized VGG19, derived from it"


def main(argv=None):
    """The `nst-tf download-weights` command (argv: the program name, then the flags)."""
    app.run(run, argv, flags_parser=common.flags_parser(
        "download-weights", USAGE, DESCRIPTION, GROUPS,
        short_help={"network": "Whose Keras notop file to fetch: vgg19 or vgg16.",
                    "from": "Install a copy of Keras' file you have (no download): md5 "
                            "checked, copied to where the download puts it.",
                    "progress": "Show the download's progress on stderr.",
                    "md5": "The file's expected md5 (32 hex digits; or a sha256); needed with "
                           "--url; empty: no check; unset: Keras' file's."}))


if __name__ == "__main__":
    main()
