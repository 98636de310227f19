"""Many texture transfers from a checkout, without installing: the `nst-tf batch` command
(nst_tf/cli/batch.py).

    python scripts/batch.py --content_dir photos/ --texture cracks.jpg --output_dir out/
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the checkout's nst_tf

from nst_tf.cli.batch import main  # noqa: E402

if __name__ == "__main__":
    main()
