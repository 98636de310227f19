"""Starting TensorFlow without its start-up chatter, and naming the device it found.

TensorFlow's native start-up writes lines (oneDNN notes, CUDA probing, absl's warning about its
log) straight to file descriptor 2, before any logging setting applies; they would bury the one
line a user needs to read. Every front end (the commands, the engine behind `transfer()`, the
web page's worker) starts it through here, and so does every module of the package that needs
it (`from nst_tf.tensorflow_quietly import tf`): whichever name a user reaches first, the lines
stay hidden.
"""
from __future__ import annotations

import os
import sys
import threading

from nst_tf.process_memory import release_large_blocks

# The C++ side's info and warning lines; a user who wants them sets the variable.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# Before TensorFlow's first large blocks: they go back to the system when freed.
release_large_blocks()


_STARTING = threading.Lock()
_STARTED = []  # [True] once TensorFlow has been started here


def import_tensorflow_quietly() -> None:
    """Imports TensorFlow (and Keras) with stderr silenced, once; Python errors raised by the
    import still surface once stderr is back. TensorFlow's Python warnings (a tf.function
    traced again for a new picture size) are left out too: they are about TensorFlow, not the
    run."""
    # One thread at a time: a second one (the web page's worker while the server starts it)
    # would save the silenced descriptor as stderr and put it back for good.
    with _STARTING:
        if _STARTED:
            return
        sys.stderr.flush()
        saved = os.dup(2)
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, 2)
            import tensorflow as tf
            import keras  # noqa: F401
            tf.config.list_physical_devices()  # device probing prints too
            tf.get_logger().setLevel("ERROR")
            _STARTED.append(True)
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            os.close(devnull)


def device_name() -> str:
    """'GPU' when TensorFlow sees one, else 'CPU' (after import_tensorflow_quietly)."""
    import tensorflow as tf
    gpus = tf.config.list_physical_devices("GPU")
    if not gpus:
        return "CPU"
    return "GPU" if len(gpus) == 1 else f"{len(gpus)} GPUs"


def __getattr__(name):
    """`from nst_tf.tensorflow_quietly import tf` (or `keras`): the module, started quietly."""
    if name in ("tf", "keras"):
        import_tensorflow_quietly()
        import importlib
        return importlib.import_module("tensorflow" if name == "tf" else "keras")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
