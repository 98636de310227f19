"""`nst-tf`: one command with subcommands (the console script that `pip install .` puts on the
PATH; also `python -m nst_tf.cli`).

    nst-tf transfer --content cat.jpg --texture cracks.jpg --output cat_cracked.png
    nst-tf batch --content_dir photos/ --texture cracks.jpg --output_dir out/
    nst-tf download-weights
    nst-tf download-weights --from ~/Downloads/vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5

Each subcommand is a module of nst_tf.cli with its own flags; only the one asked for is
imported, so their flags (both have --texture) never meet in one process.
"""
import importlib
import sys

# name -> (module, what it does)
COMMANDS = {
    "transfer": ("nst_tf.cli.transfer", "put a texture (or a style) into a photo; --mode for "
                                        "style transfer, synthesis, reconstruction"),
    "batch": ("nst_tf.cli.batch", "run many transfers from a CSV or a folder, here or on Ray"),
    "download-weights": ("nst_tf.cli.download_weights", "fetch Keras' ImageNet VGG19 (or "
                                                        "VGG16) weights, or install a copy you "
                                                        "have (--from FILE)"),
    "serve": ("nst_tf.cli.serve", "a web page to start transfers from a browser"),
    "video": ("nst_tf.cli.video", "a clip with the texture, steady from frame to frame"),
}

USAGE = "usage: nst-tf COMMAND [flags]   (nst-tf COMMAND --help: the command's flags)"


def usage() -> str:
    width = max(map(len, COMMANDS))
    lines = [USAGE, "", "Neural Texture Transfer in TensorFlow/Keras.", "", "commands:"]
    lines += [f"  {name.ljust(width)}  {what}" for name, (_, what) in COMMANDS.items()]
    lines += ["", "From a checkout without installing: python scripts/transfer.py, "
              "scripts/batch.py, scripts/download_weights.py, scripts/serve.py, "
              "scripts/video.py."]
    return "\n".join(lines)


def main(argv=None) -> None:
    argv = list(sys.argv if argv is None else argv)
    args = argv[1:]
    if not args:
        print(f"error: give a command: {', '.join(COMMANDS)} (nst-tf --help)", file=sys.stderr)
        sys.exit(2)
    if args[0] in ("-h", "--help", "-help", "help"):
        print(usage())
        sys.exit(0)
    name = args[0].replace("_", "-")
    if name not in COMMANDS:
        import difflib
        close = difflib.get_close_matches(name, list(COMMANDS), n=1, cutoff=0.6)
        tip = f"; did you mean {close[0]}?" if close else f"; choose from {', '.join(COMMANDS)}"
        print(f"error: unknown command {args[0]!r}{tip}", file=sys.stderr)
        sys.exit(2)
    module = importlib.import_module(COMMANDS[name][0])
    module.main([f"nst-tf {name}", *args[1:]])


if __name__ == "__main__":
    main()
