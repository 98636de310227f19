"""Many texture transfers: in this process by default, as Ray tasks on a cluster on request.

    nst-tf batch --content_dir photos/ --texture cracks.jpg --output_dir out/
    nst-tf batch --jobs jobs.csv --output_dir out/ --iterations 300
    nst-tf batch --jobs jobs.csv --output_dir out/ --ray_address auto

A re-run skips the jobs its report (OUTPUT_DIR/report.jsonl) says are finished.
(python scripts/batch.py ... from a checkout.)
"""
import sys
import time
from pathlib import Path

from absl import app, flags

from nst_tf.cli import common

USAGE = "(--jobs FILE.csv | --content_dir FOLDER --texture PHOTO) --output_dir FOLDER [flags]"
DESCRIPTION = """\
Runs many transfers with one command: the rows of a CSV (columns content, texture, output, and
any transfer flag by name, overriding the command line for its row), or every photo of a folder
with one texture. Every job is checked before any runs; each is recorded in
OUTPUT_DIR/report.jsonl, and a re-run skips the finished ones. The transfer flags below apply to
every job (the preset follows the --weights file unless given)."""

flags.DEFINE_string("jobs", None, "CSV of jobs: columns content, texture, output (optional), and "
                    "any transfer flag by name (a cell overrides the command line for its job); "
                    "relative paths from the CSV's folder.")
flags.DEFINE_string("content_dir", None, "Instead of --jobs: every image in this folder, each "
                    "with --texture, outputs named after the photos.")
flags.DEFINE_string("texture", None, "The texture for --content_dir, or for CSV rows that have "
                    "none.")
flags.DEFINE_string("output_dir", None, "Where outputs and report.jsonl go.")
flags.DEFINE_string("ray_address", None, "Run the jobs as Ray tasks: 'local' (a Ray instance "
                    "started here), 'auto' (the cluster this machine joined with `ray start`), "
                    "or HOST:PORT. Unset: in this process.")
flags.DEFINE_float("gpus_per_job", 0.0, "Ray: GPUs each job asks for (fractions share a GPU); "
                   "a job asking for one runs only on a node that has one.")
flags.DEFINE_float("cpus_per_job", 1.0, "Ray: CPUs each job asks for.")
flags.DEFINE_integer("ray_cpus", None, "Ray 'local': CPUs of the instance (default: all).")
flags.DEFINE_boolean("progress", True, "A progress bar over jobs on a terminal (a line per job "
                     "otherwise).")
common.define_transfer_flags(aliases=True)
flags.mark_flag_as_required("output_dir")
FLAGS = flags.FLAGS

GROUPS = [("jobs", ("jobs", "content_dir", "texture", "output_dir", "progress")),
          ("ray", ("ray_address", "gpus_per_job", "cpus_per_job", "ray_cpus"))] + \
    common.transfer_groups(first=("mode", "max_dim", "iterations", "weights", "faithful", "preset"),
                           title="transfer settings of every job",
                           skip=("content", "texture", "output"), prefix="transfer: ",
                           output_files=False)


class JobProgress:
    """A keras Progbar over jobs on a terminal; a line per job when stderr is not one."""

    def __init__(self, total: int):
        self.total, self.ended, self.failed = total, 0, 0
        self.bar = None
        if FLAGS.progress and sys.stderr.isatty():
            import keras
            self.bar = keras.utils.Progbar(total, unit_name="job")

    def __call__(self, line: dict) -> None:
        self.ended += 1
        self.failed += line["status"] == "failed"
        if self.bar is not None:
            self.bar.update(self.ended, values=[("failed", self.failed)], finalize=False)
        else:
            error = f": {line['error']}" if line["error"] else ""
            print(f"[{self.ended}/{self.total}] {line['status']} {line['job']} "
                  f"({line['seconds']:.1f} s){error}", file=sys.stderr, flush=True)


def check_setup(jobs, content_dir, output_dir) -> None:
    """The checks of the command line made before anything is read: NSTError with one line for
    --jobs and --content_dir both or neither, an --output_dir that is a file."""
    if (jobs is None) == (content_dir is None):
        raise common.NSTError("give either --jobs FILE.csv or --content_dir FOLDER (with "
                              "--texture)")
    common.check_output_dir("output_dir", output_dir)


def check_weights(configs) -> None:
    """Each weights file of the jobs (--weights, or a CSV's weights column), checked once before
    TensorFlow starts: NSTError with one line when it does not exist or is not a weights file of
    its network. Keras' file is found here, or downloaded once."""
    from nst_tf.network.weights import resolve_weights
    for weights, network in dict.fromkeys((c.weights, c.network) for c in configs):
        resolve_weights(weights, network=network)


def load_jobs(base, output_dir: Path) -> list:
    """The jobs of --jobs or --content_dir, every one checked; NSTError when there are none."""
    from nst_tf.batch.jobs import jobs_from_folder, read_jobs
    if FLAGS.jobs:
        jobs = read_jobs(FLAGS.jobs, output_dir, base, FLAGS.texture)
        if not jobs:
            raise common.NSTError(f"{FLAGS.jobs}: no jobs, only the header row; add a row per "
                                  "photo (content,texture,...)")
        return jobs
    if FLAGS.texture is None:
        raise common.NSTError("--content_dir needs --texture")
    return jobs_from_folder(FLAGS.content_dir, FLAGS.texture, output_dir, base)


@common.guarded
def run(argv):
    from nst_tf.batch.runner import REPORT_NAME, run_batch, run_local

    began = time.perf_counter()
    check_setup(FLAGS.jobs, FLAGS.content_dir, FLAGS.output_dir)
    base = common.config_from_flags()
    output_dir = Path(FLAGS.output_dir).resolve()
    jobs = load_jobs(base, output_dir)
    from nst_tf.batch.jobs import check_photos
    check_photos(jobs)
    check_weights([job.config for job in jobs])
    if base.network_choice.warning:
        common.say(base.network_choice.warning)
    if FLAGS.ray_address:
        from nst_tf.batch import ray_runner as ray_batch
        ray_batch.connect(FLAGS.ray_address, FLAGS.ray_cpus)
        try:
            ray_batch.check_resources(FLAGS.cpus_per_job, FLAGS.gpus_per_job)
        except common.NSTError:
            ray_batch.disconnect()
            raise
        runner = ray_batch.ray_runner(FLAGS.gpus_per_job, FLAGS.cpus_per_job)
        where = f"as Ray tasks ({FLAGS.ray_address})"
    else:
        common.import_tensorflow_quietly()
        runner = run_local
        where = f"here, on {common.device_name()}"
    if FLAGS.progress:
        common.say(f"batch: {len(jobs)} job{'s' if len(jobs) != 1 else ''} into {output_dir}, "
                   f"{base.mode} mode, {base.network_choice.summary}, {where}")
    progress = JobProgress(len(jobs))
    try:
        summary = run_batch(jobs, output_dir, runner, progress)
    except KeyboardInterrupt as interrupt:
        print(f"interrupted: the finished jobs are in {output_dir / REPORT_NAME}; run the same "
              "command again to go on", file=sys.stderr)
        sys.exit(common.exit_code(interrupt))
    finally:
        if FLAGS.ray_address:
            ray_batch.disconnect()
    if FLAGS.ray_address:
        print(runner.traffic.line(), file=sys.stderr)
    print(f"{summary.line()}; report: {output_dir / REPORT_NAME} (took "
          f"{common.duration(time.perf_counter() - began)})", file=sys.stderr)
    if summary.failed:
        sys.exit(common.EXIT_FAILED)


def main(argv=None):
    """The `nst-tf batch` command (argv: the program name, then the flags)."""
    app.run(run, argv, flags_parser=common.flags_parser(
        "batch", USAGE, DESCRIPTION, GROUPS,
        short_help={"texture": "The texture for --content_dir, or for CSV rows without one.",
                    "progress": "A progress bar over the jobs on a terminal, else a line per "
                                "job."}))


if __name__ == "__main__":
    main()
