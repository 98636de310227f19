"""Compiled graphs that are dropped go: runs of ever new shapes do not pile up graphs (counted as
live Python objects after a collection, which, unlike the resident memory, are deterministic)."""
import contextlib
import gc
import platform
import subprocess
import sys

import numpy as np
import pytest

import nst_tf
from nst_tf.config import TransferConfig
from conftest import ROOT, random_image


def live(type_name: str) -> int:
    """The objects of `type_name` left after collections until none is freed: a dropped compiled
    function's finalizer takes its custom gradients out of TensorFlow's registry, and only the
    next collection frees the graphs they held."""
    count = None
    while True:
        gc.collect()
        now = sum(type(obj).__name__ == type_name for obj in gc.get_objects())
        if now == count:
            return now
        count = now


def registered_custom_gradients() -> set:
    from tensorflow.python.framework import ops
    from nst_tf.objective.compiled import CUSTOM_GRADIENT_PREFIX
    return {name for name in ops._gradient_registry._registry
            if name.startswith(CUSTOM_GRADIENT_PREFIX)}


@contextlib.contextmanager
def own_evaluations(kept: int):
    """The process's kept evaluations replaced by a cache of `kept` graphs inside."""
    from nst_tf.objective import compiled
    previous = compiled._SHARED
    compiled._SHARED = compiled.CompiledEvaluations(kept)
    try:
        yield compiled._SHARED
    finally:
        compiled._SHARED = previous


class Convolved:
    """An owner of a compiled method (objective/compiled.py's protocol) whose graph holds a
    custom gradient, the network's conv_relu, twice; a graph per image size."""

    def __init__(self, kernel, size: int):
        self.kernel, self.size = kernel, size

    def state(self):
        return {"kernel": self.kernel}

    @contextlib.contextmanager
    def bound(self, state):
        kept, self.kernel = self.kernel, state["kernel"]
        try:
            yield
        finally:
            self.kernel = kept

    def compiled_key(self):
        return (self.size,)

    def _value_and_gradient(self, image):
        from nst_tf.network.vgg import conv_relu
        from nst_tf.tensorflow_quietly import tf
        with tf.GradientTape() as tape:
            tape.watch(image)
            features = conv_relu(conv_relu(image, self.kernel, tf.zeros(3)), self.kernel,
                                 tf.zeros(3))
            summed = tf.reduce_sum(features)
        return summed, tape.gradient(summed, image)


def test_a_dropped_graph_takes_its_custom_gradients_with_it():
    """A cache of one graph traced for five shapes in turn keeps one graph alive and one
    trace's custom gradients registered, not five; the kept graph still computes the gradient
    its eager form does."""
    from nst_tf.tensorflow_quietly import tf
    kernel = tf.constant(np.random.default_rng(0).normal(size=(3, 3, 3, 3)), tf.float32)
    before_graphs, before_names = live("FuncGraph"), registered_custom_gradients()
    with own_evaluations(1) as evaluations:
        for size in (8, 10, 12, 14, 16):
            owner = Convolved(kernel, size)
            image = tf.constant(np.random.default_rng(size).normal(size=(1, size, size, 3)),
                                tf.float32)
            summed, gradient = evaluations.function(owner)(image, owner.state())
        assert evaluations.made == 5
        assert live("FuncGraph") - before_graphs == 1
        names = registered_custom_gradients() - before_names
        assert len(names) == 2  # the kept graph's two conv_relu calls, registered while kept
        eager_summed, eager_gradient = owner._value_and_gradient(image)
        np.testing.assert_allclose(summed.numpy(), eager_summed.numpy(), rtol=1e-5)
        np.testing.assert_allclose(gradient.numpy(), eager_gradient.numpy(), rtol=1e-4,
                                   atol=1e-4 * np.abs(eager_gradient.numpy()).max())
        evaluations.clear()  # its last graph dropped: its names go with it
    assert registered_custom_gradients() - before_names == set()
    assert live("FuncGraph") == before_graphs


@pytest.mark.slow
def test_runs_of_new_sizes_do_not_grow_the_live_graphs():
    """Runs of the network at ever new sizes, with room for one structure's evaluation and
    update: the live graphs and their operations after the fourth run are those after the
    second (each run's graphs replace the last's, of the same operations at another size)."""
    counts = []
    with own_evaluations(2) as evaluations:
        for size in (40, 48, 56, 64):
            config = TransferConfig(max_dim=size, iterations=1, weights="random",
                                    texture_weight=1e3)
            outcome = nst_tf.Engine().run(nst_tf.Request(
                random_image((size, size), 1), random_image((40, 40), 2), config))
            assert outcome.status == "done", outcome.message
            counts.append((live("FuncGraph"), live("Operation")))
        assert evaluations.made == 8  # every run traced its own evaluation and update
    assert counts[3] == counts[1]


MALLINFO_PROBE = r"""
import ctypes, sys
import nst_tf.tensorflow_quietly  # noqa: F401  (what every front end imports first)
libc = ctypes.CDLL("libc.so.6")
class Info(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in (
        "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks",
        "fordblks", "keepcost")]
libc.mallinfo2.restype = Info
libc.malloc.restype, libc.malloc.argtypes = ctypes.c_void_p, [ctypes.c_size_t]
libc.free.argtypes = [ctypes.c_void_p]
libc.free(libc.malloc(16 << 20))  # glibc's own threshold rises to 16 MiB here
before = libc.mallinfo2().hblks
block = libc.malloc(4 << 20)
print(libc.mallinfo2().hblks - before)
libc.free(block)
"""


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc's malloc only")
@pytest.mark.parametrize("environment,mapped", [({}, "1"),
                                                ({"MALLOC_MMAP_THRESHOLD_": str(64 << 20)}, "0")])
def test_large_blocks_are_mapped_on_their_own_unless_the_user_says(environment, mapped):
    # After a 16 MiB block is freed, glibc carves the next 4 MiB from the heap (its threshold
    # has risen to 16 MiB) unless the package fixed it at LARGE_BLOCK_BYTES; a threshold the
    # user set is left alone.
    import os
    env = {key: value for key, value in os.environ.items() if key != "MALLOC_MMAP_THRESHOLD_"}
    done = subprocess.run([sys.executable, "-c", MALLINFO_PROBE], capture_output=True,
                          text=True, timeout=120, env={**env, **environment}, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [mapped], (done.stdout, done.stderr)
