"""Photos per minute for 12 small photos, three ways: 12 transfer.py runs, the local batch, Ray.

    python bench/scripts/batch_benchmark.py --work /tmp/batch_bench -- --max_dim=256 --iterations=20

Flags after `--` go to every transfer (the same for all three ways).
"""
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
                   "job at a time, as the other two ways).")
FLAGS = flags.FLAGS


@cli_common.guarded
def main(argv):
    from bench.batch_speed import compare_ways, make_photos, table

    work = FLAGS.work or tempfile.mkdtemp(prefix="nst_tf_batch_")
    transfer_flags = sys.argv[sys.argv.index("--") + 1:] if "--" in sys.argv else []
    photos = make_photos(FLAGS.source, f"{work}/photos", FLAGS.photos)
    ways = compare_ways(photos, FLAGS.texture, work, transfer_flags,
                        ["--ray_address=local", f"--ray_cpus={FLAGS.ray_cpus}",
                         f"--cpus_per_job={FLAGS.cpus_per_job}"])
    print(table(ways))
    print(f"(outputs identical across the three ways; work folder {work})")


if __name__ == "__main__":
    argv = sys.argv[:sys.argv.index("--")] if "--" in sys.argv else sys.argv
    app.run(main, argv=argv)
