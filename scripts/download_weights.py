"""Downloads Keras' ImageNet VGG19 (no classifier) into weights/, verified by its md5.

    python scripts/download_weights.py
    python scripts/download_weights.py --url file:///tmp/x.h5 --md5 ... --dest /tmp/w.h5

A no-op when a verified file is already there; a failed download leaves nothing behind.
"""
import cli_common
from absl import app, flags

from nst_tf.download import ByteProgress, download
from nst_tf.weights import KERAS_VGG19_NOTOP, WEIGHTS_DIR

flags.DEFINE_string("url", KERAS_VGG19_NOTOP.url, "Where to download from.")
flags.DEFINE_string("md5", KERAS_VGG19_NOTOP.md5, "Expected md5 (or sha256) of the file.")
flags.DEFINE_string("dest", str(WEIGHTS_DIR / KERAS_VGG19_NOTOP.filename),
                    "Where to write it: a file path, or a folder to put it in (as wget -P).")
flags.DEFINE_boolean("progress", True, "Show the download's progress on stderr.")
FLAGS = flags.FLAGS


@cli_common.guarded
def main(argv):
    path = download(FLAGS.url, FLAGS.dest, FLAGS.md5 or None,
                    progress=ByteProgress() if FLAGS.progress else None)
    print(f"{path} verified")


if __name__ == "__main__":
    app.run(main)
