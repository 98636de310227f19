"""python -m nst_tf.cli COMMAND [flags]: the nst-tf command."""
from nst_tf.cli.main import main

main()
