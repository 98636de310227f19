"""Downloads Keras' VGG weights from a checkout, without installing, or installs a copy of them
one has (--from FILE): the `nst-tf download-weights` command (nst_tf/cli/download_weights.py).

    python scripts/download_weights.py [--network vgg16]
    python scripts/download_weights.py --from ~/Downloads/vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the checkout's nst_tf

from nst_tf.cli.download_weights import main  # noqa: E402

if __name__ == "__main__":
    main()
