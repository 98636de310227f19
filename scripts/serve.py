"""The web page from a checkout, without installing: the `nst-tf serve` command
(nst_tf/cli/serve.py; docs/guide/web.md).

    python scripts/serve.py                      # http://127.0.0.1:8000/
    python scripts/serve.py --port 0 --weights random
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the checkout's nst_tf

from nst_tf.cli.serve import main  # noqa: E402

if __name__ == "__main__":
    main()
