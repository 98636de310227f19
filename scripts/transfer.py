"""Neural Texture Transfer from a checkout, without installing: the `nst-tf transfer` command
(nst_tf/cli/transfer.py).

    python scripts/transfer.py --content cat.jpg --texture cracks.jpg --output cat_cracked.png
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the checkout's nst_tf

from nst_tf.cli.transfer import main  # noqa: E402

if __name__ == "__main__":
    main()
