"""The web page: start a transfer from a browser and watch it (nst-tf serve, python
scripts/serve.py; docs/guide/web.md).

Standard library only (http.server): settings from TransferConfig's fields, one run at a time
in a worker thread, progress as server-sent events, photos kept in memory. Importing this
package does not start TensorFlow; the first run does.
"""
from nst_tf.web.server import DEFAULT_PORT, NstServer, make_server

__all__ = ["make_server", "NstServer", "DEFAULT_PORT"]
