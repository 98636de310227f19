"""Many texture transfers: in this process by default, as Ray tasks on a cluster on request.

    python scripts/batch.py --content_dir photos/ --texture cracks.jpg --output_dir out/
    python scripts/batch.py --jobs jobs.csv --output_dir out/ --iterations 300
    python scripts/batch.py --jobs jobs.csv --output_dir /shared/out --ray_address auto

A re-run skips the jobs its report (OUTPUT_DIR/report.jsonl) says are finished.
"""
import sys
from pathlib import Path

import cli_common
from absl import app, flags

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
flags.DEFINE_float("gpus_per_job", 0.0, "Ray: GPUs each job asks for (fractions share a GPU).")
flags.DEFINE_float("cpus_per_job", 1.0, "Ray: CPUs each job asks for.")
flags.DEFINE_integer("ray_cpus", None, "Ray 'local': CPUs of the instance (default: all).")
flags.DEFINE_boolean("progress", True, "A progress bar over jobs on a terminal (a line per job "
                     "otherwise).")
cli_common.define_transfer_flags()
flags.mark_flag_as_required("output_dir")
FLAGS = flags.FLAGS


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


@cli_common.guarded
def main(argv):
    from nst_tf.batch.runner import REPORT_NAME, run_batch, run_local
    from nst_tf.batch.jobs import jobs_from_folder, read_jobs

    if (FLAGS.jobs is None) == (FLAGS.content_dir is None):
        cli_common.fail("give either --jobs FILE.csv or --content_dir FOLDER (with --texture)")
    base = cli_common.config_from_flags()
    output_dir = Path(FLAGS.output_dir).resolve()  # absolute: Ray workers run elsewhere
    if FLAGS.jobs:
        jobs = read_jobs(FLAGS.jobs, output_dir, base, FLAGS.texture)
    else:
        if FLAGS.texture is None:
            cli_common.fail("--content_dir needs --texture")
        jobs = jobs_from_folder(FLAGS.content_dir, FLAGS.texture, output_dir, base)
    if FLAGS.ray_address:
        from nst_tf.batch import ray_runner as ray_batch
        ray_batch.connect(FLAGS.ray_address, FLAGS.ray_cpus)
        runner = ray_batch.ray_runner(FLAGS.gpus_per_job, FLAGS.cpus_per_job)
    else:
        cli_common.import_tensorflow_quietly()
        runner = run_local
    progress = JobProgress(len(jobs))
    try:
        summary = run_batch(jobs, output_dir, runner, progress)
    except KeyboardInterrupt as interrupt:
        print(f"interrupted: the finished jobs are in {output_dir / REPORT_NAME}; run the same "
              "command again to go on", file=sys.stderr)
        sys.exit(cli_common.exit_code(interrupt))
    finally:
        if FLAGS.ray_address:
            ray_batch.disconnect()
    print(f"{summary.line()}; report: {output_dir / REPORT_NAME}", file=sys.stderr)
    if summary.failed:
        sys.exit(cli_common.EXIT_FAILED)


if __name__ == "__main__":
    app.run(main)
