"""Downloads Keras' ImageNet VGG19 (or VGG16) without its classifier into weights/, verified by
its md5, showing its progress.

    python scripts/download_weights.py
    python scripts/download_weights.py --network vgg16
    python scripts/download_weights.py --url file:///tmp/x.h5 --md5 ... --dest /tmp/w.h5

A no-op when a verified file is already there; a failed download leaves nothing behind.
"""
import cli_common
from absl import app, flags

from nst_tf.network.layers import NETWORKS
from nst_tf.io.download import ByteProgress, download
from nst_tf.network.weights import WEIGHTS_DIR, keras_file

flags.DEFINE_enum("network", "vgg19", NETWORKS, "Whose Keras notop file to fetch.")
flags.DEFINE_string("url", None, "Where to download from (default: Keras' file of --network).")
flags.DEFINE_string("md5", None, "Expected md5 (or sha256) of the file (default: Keras' file's).")
flags.DEFINE_string("dest", None, "Where to write it: a file path, or a folder to put it in (as "
                    f"wget -P); default: {WEIGHTS_DIR}/ under Keras' file name.")
flags.DEFINE_boolean("progress", True, "Show the download's progress on stderr.")
FLAGS = flags.FLAGS


@cli_common.guarded
def main(argv):
    known = keras_file(FLAGS.network)
    url = FLAGS.url or known.url
    # A URL of one's own comes without Keras' hash unless one is given.
    md5 = FLAGS.md5 if FLAGS.md5 is not None else (known.md5 if FLAGS.url is None else None)
    path = download(url, FLAGS.dest or WEIGHTS_DIR / known.filename, md5 or None,
                    progress=ByteProgress() if FLAGS.progress else None)
    print(f"{path} verified" if md5 else f"{path} downloaded (no hash given to check)")


if __name__ == "__main__":
    app.run(main)
