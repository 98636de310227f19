"""The loss parts over the steps of a run, drawn from its StepReports (or the metrics file)."""
from __future__ import annotations

from typing import Sequence, Tuple

from nst_tf.errors import NSTError
from nst_tf.io.files import atomic_output
from nst_tf.steps import LOSS_PARTS

PLOT_SIZE_PX = (960, 540)  # width, height
_DPI = 100


def plot_losses(records: Sequence[dict], path, size_px: Tuple[int, int] = PLOT_SIZE_PX) -> None:
    """Writes a PNG of `size_px` (width, height): the total and each part that is ever above 0,
    against the step, log scale; a run of several levels counts its steps on from level to
    level, with a dashed line where each level begins. records: StepReport.as_dict()s or the
    metrics file's lines (nst_tf.report.steplog.read_metrics)."""
    if not records:
        raise NSTError("nothing to plot: the run made no step")
    try:
        import matplotlib
        matplotlib.use("Agg")  # files only: no display needed
        from matplotlib.figure import Figure
    except ImportError:
        raise NSTError("--plot needs matplotlib: pip install matplotlib") from None
    steps, starts, offset, level = [], [], 0, records[0].get("level", 0)
    for index, record in enumerate(records):
        if record.get("level", 0) != level:
            offset = steps[-1] + 1
            level = record.get("level", 0)
            starts.append(offset)
        steps.append(offset + record["step"])
    figure = Figure(figsize=(size_px[0] / _DPI, size_px[1] / _DPI), dpi=_DPI)
    axes = figure.subplots()
    for name in ("total",) + LOSS_PARTS:
        values = [record.get(name, 0.0) for record in records]
        if max(values) > 0:
            axes.plot(steps, values, label=name, linewidth=2.2 if name == "total" else 1.2)
    for start in starts:
        axes.axvline(start, color="gray", linestyle="--", linewidth=0.8)
    axes.set_yscale("log")
    axes.set_xlabel("step" + (" (levels one after another)" if starts else ""))
    axes.set_ylabel("weighted loss")
    axes.grid(True, which="major", alpha=0.3)
    axes.legend(loc="upper right")
    figure.tight_layout()
    with atomic_output(path) as temporary:
        figure.savefig(temporary, format="png", dpi=_DPI)
