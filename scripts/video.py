"""A clip with the texture from a checkout, without installing: the `nst-tf video` command
(nst_tf/cli/video.py; docs/guide/video.md).

    python scripts/video.py --content clip.mp4 --texture examples/gravel.jpg --output out.mp4
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the checkout's nst_tf

from nst_tf.cli.video import main  # noqa: E402

if __name__ == "__main__":
    main()
