"""python -m nst_tf: the nst-tf command (transfer, batch, download-weights, serve)."""
import sys

from nst_tf.cli.main import main

if __name__ == "__main__":
    sys.exit(main())
