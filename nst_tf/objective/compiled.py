"""Compiled evaluations (and optimiser updates) kept for the next run of the same shape and
settings.

Tracing an objective's value and gradient into a graph costs a second or more on a CPU, which a
run of many steps hardly notices, but a video's later frame (20 steps), a batch of same-size
photos or the web page's runs pay it every time, and every new graph stays in memory. So the
graph is made once per structure: a function of the image and of the run's state (the content,
the targets, the masks, a video frame's anchors), kept in a bounded cache. A later run with the
same network, settings and shapes passes its own state to the same graph; no new graph is made
and none piles up (COMPILED_KEPT, the least recently used dropped first).

The objective (or the optimiser) supplies `compiled_key()` (everything the graph depends on
besides the state: the network, the layers, the precision, the weights, the shapes), `state()`
(a nested structure of tensors and variables) and `bound(state)` (a context in which its
attributes are that state), and the method traced (`_value_and_gradient(image)`, an update).
"""
from __future__ import annotations

import functools
import threading
import weakref

from nst_tf.kept import Kept
from nst_tf.tensorflow_quietly import tf  # started without its C++ log lines

# Compiled graphs kept (an evaluation and an update per structure): a server's runs of a few
# sizes, a video's first and later frames.
COMPILED_KEPT = 16
# tf.custom_gradient's names for the gradients it registers in graph mode (custom_gradient.py).
CUSTOM_GRADIENT_PREFIX = "CustomGradient-"


class CompiledEvaluations:
    """tf.functions by the objective's compiled_key(), the `kept` most recently used."""

    def __init__(self, kept: int = COMPILED_KEPT):
        self.kept = kept
        self._functions = Kept(kept)

    @property
    def made(self) -> int:
        """Graphs made so far (a measure: reuse shows as no new ones)."""
        return self._functions.made

    def evaluation(self, objective, jit_compile: bool = False):
        """value_and_gradient(image) of `objective`: the kept graph of its structure (looked up
        at each call, so a setting changed between calls gets its own), its state passed in."""
        return self.bound_method(objective, "_value_and_gradient", jit_compile)

    def bound_method(self, owner, name: str, jit_compile: bool = False):
        """owner.name(*args) through the kept graph of the owner's structure, the owner's
        state() passed in: an objective's value and gradient, an optimiser's update."""
        return lambda *args: self.function(owner, name, jit_compile)(*args, owner.state())

    def function(self, owner, name: str = "_value_and_gradient", jit_compile: bool = False):
        """The kept tf.function of `owner`'s method `name` for its structure, made on first
        use."""
        key = (type(owner).__name__, name, owner.compiled_key(), bool(jit_compile))

        def make():
            # The first owner of a structure is the template its graph is traced from; during
            # the trace its attributes are the symbolic state.
            template = owner

            def traced(*args):
                *inputs, state = args
                with template.bound(state):
                    return getattr(template, name)(*inputs)

            return releasing_function(traced, jit_compile=jit_compile, reduce_retracing=False)

        return self._functions.get(key, make)

    def clear(self) -> None:
        self._functions.clear()


def releasing_function(python_function, **options):
    """tf.function(python_function, **options) whose graphs go when it goes: the custom
    gradients its traces registered leave TensorFlow's registry with it (unregister_gradients),
    and until then stay, so its graphs can still be differentiated from outside. Its traces
    must not call a tf.function that outlives it: the names found in its graph include the
    called function's, whose gradients would go with this one.
    """
    registered = []  # names only: the finalizer must not hold the function or its graphs

    @functools.wraps(python_function)
    def traced(*args, **kwargs):
        outputs = python_function(*args, **kwargs)
        registered.extend(custom_gradient_names(tf.compat.v1.get_default_graph()))
        return outputs

    # No autograph: the traced code has no control flow on tensors (its Python loops, over
    # layers and textures, are meant to unroll), and autograph's conversion cost about a second
    # a graph and read the functions' source files at trace time, so a file edited under a
    # running process broke its next trace.
    function = tf.function(traced, autograph=False, **options)
    weakref.finalize(function, unregister_gradients, registered).atexit = False
    return function


def custom_gradient_names(graph) -> list:
    """The names under which tf.custom_gradient registered the gradients of `graph`'s calls
    (and of the function graphs it calls)."""
    names, graphs, seen = [], [graph], set()
    while graphs:
        graph = graphs.pop()
        if id(graph) in seen:
            continue
        seen.add(id(graph))
        for op in graph.get_operations():
            if op.type == "IdentityN":
                try:
                    name = op.get_attr("_gradient_op_type").decode()
                except ValueError:  # an IdentityN of no custom gradient
                    continue
                if name.startswith(CUSTOM_GRADIENT_PREFIX):
                    names.append(name)
        graphs.extend(getattr(f, "graph", None) for f in getattr(graph, "_functions", {}).values()
                      if getattr(f, "graph", None) is not None)
    return names


def unregister_gradients(names) -> None:
    """Drops the gradients registered under `names` from TensorFlow's registry (what
    custom_gradient_names found), once the graphs that use them have gone.

    Why: tf.custom_gradient (the network's conv_relu, the terms' Gram and projection
    gradients) traced into a graph registers each call's gradient function in TensorFlow's
    process-wide gradient registry, under a fresh name ("CustomGradient-<uid>"), and nothing
    ever takes it out. That function holds the call's tensors, and through them the whole
    graph: a graph dropped from the kept ones stayed alive, with its operations and their
    C++ side, about 500 operations and 3.4-4.1 MiB a run for runs of ever new shapes
    (docs/measurements/2026-12-under-load.md). The registry is TensorFlow's own (no public
    way to remove an entry): without it, nothing is dropped and the graphs stay, as before.
    """
    from tensorflow.python.framework import ops  # TensorFlow is running: tf is imported above
    registry = getattr(getattr(ops, "_gradient_registry", None), "_registry", None)
    if isinstance(registry, dict):
        for name in names:
            registry.pop(name, None)


_SHARED = None
_SHARED_LOCK = threading.Lock()


def shared_evaluations() -> CompiledEvaluations:
    """This process's kept evaluations."""
    global _SHARED
    with _SHARED_LOCK:
        if _SHARED is None:
            _SHARED = CompiledEvaluations()
        return _SHARED
