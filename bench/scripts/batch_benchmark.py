"""Photos per minute for 12 small photos, three ways: 12 transfer.py runs, the local batch, Ray.

    python bench/scripts/batch_benchmark.py --work /tmp/batch_bench -- --max_dim=256 --iterations=20

With --cluster, side by side in one run instead: the local batch, Ray on one node (started by
batch.py, and started before), and a three-node Ray cluster on this machine (ray.cluster_utils:
a head that runs no job, two worker nodes of one CPU each) with tasks and with an actor per
worker, alternating; the bytes each Ray way moved, and the cost of shipping the --weights file
when it is one:

    python bench/scripts/batch_benchmark.py --cluster -- --max_dim=128 --iterations=10 \\
        --weights=$NST_TF_REAL_WEIGHTS --texture_weight=1000

Flags after `--` go to every transfer (the same for all ways).
"""
import datetime
import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))  # cli_common
import cli_common  # noqa: E402
from absl import app, flags

flags.DEFINE_string("source", str(cli_common.ROOT / "examples" / "cat.jpg"),
                    "Image the 12 photos are cut from.")
flags.DEFINE_string("texture", str(cli_common.ROOT / "examples" / "gravel.jpg"), "The texture.")
flags.DEFINE_integer("photos", 12, "How many photos.")
flags.DEFINE_string("work", None, "Folder for photos and outputs (default: a temporary one).")
flags.DEFINE_integer("ray_cpus", 2, "CPUs of the local Ray instance.")
flags.DEFINE_float("cpus_per_job", 2.0, "CPUs each Ray job asks for (2 on a 2-core machine: one "
                   "job at a time, as the other two ways). --cluster: one CPU a job, always.")
flags.DEFINE_boolean("cluster", False, "The local batch, Ray on one node and a three-node "
                     "cluster on this machine, side by side, with the bytes moved per job.")
flags.DEFINE_integer("rounds", 2, "--cluster: how many times the three-node cluster runs the "
                     "batch with tasks, then with actors (alternating, against drift in the "
                     "machine's load).")
flags.DEFINE_boolean("tasks_vs_actors", False, "Only the three-node cluster: an actor per "
                     "worker, then tasks, --rounds times.")
FLAGS = flags.FLAGS


def _where() -> str:
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True, cwd=cli_common.ROOT).stdout.strip()
    return (f"{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC, commit "
            f"{commit or '?'}, {os.cpu_count()} CPUs, load average "
            f"{' '.join(f'{x:.1f}' for x in os.getloadavg())} at the end")


@cli_common.guarded
def main(argv):
    from bench.batch_speed import (cluster_table, compare_cluster, compare_tasks_actors,
                                   compare_ways, make_photos, table)

    work = FLAGS.work or tempfile.mkdtemp(prefix="nst_tf_batch_")
    transfer_flags = sys.argv[sys.argv.index("--") + 1:] if "--" in sys.argv else []
    photos = make_photos(FLAGS.source, f"{work}/photos", FLAGS.photos)
    if FLAGS.tasks_vs_actors:
        ways = compare_tasks_actors(photos, FLAGS.texture, work, transfer_flags, FLAGS.rounds)
        print(cluster_table(ways))
        print(f"(outputs identical across the ways; work folder {work}; {_where()})")
        return
    if FLAGS.cluster:
        weights = [f.split("=", 1)[1] for f in transfer_flags if f.startswith("--weights=")]
        weights_file = weights[-1] if weights and Path(weights[-1]).is_file() else None
        ways, startup, cost = compare_cluster(photos, FLAGS.texture, work, transfer_flags,
                                              FLAGS.ray_cpus, weights_file, FLAGS.rounds)
        print(cluster_table(ways))
        print("\nclusters started before their ways, in " + ", ".join(
            f"{seconds:.1f} s ({name})" for name, seconds in startup.items()))
        if cost:
            print(f"\nweights file: {cost['bytes']} bytes; ray.put on the driver "
                  f"{cost['put_s']:.2f} s; first fetch and write per worker node "
                  f"{', '.join(f'{s:.2f}' for s in cost['first_s'])} s (all {cost['nodes']} "
                  f"nodes at once: {cost['wall_s']:.2f} s); the next job's lookup "
                  f"{max(cost['again_s']) * 1e6:.0f} us")
        print(f"(outputs identical across the ways; work folder {work}; {_where()})")
        return
    ways = compare_ways(photos, FLAGS.texture, work, transfer_flags,
                        ["--ray_address=local", f"--ray_cpus={FLAGS.ray_cpus}",
                         f"--cpus_per_job={FLAGS.cpus_per_job}"])
    print(table(ways))
    print(f"(outputs identical across the three ways; work folder {work})")


if __name__ == "__main__":
    argv = sys.argv[:sys.argv.index("--")] if "--" in sys.argv else sys.argv
    app.run(main, argv=argv)
