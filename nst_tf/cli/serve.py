"""A web page for transfers: choose the photos and the settings in a browser, watch the picture
change, stop it, download the result (docs/guide/web.md).

    nst-tf serve                          # http://127.0.0.1:8000/
    nst-tf serve --port 0 --weights random
    nst-tf serve --host 0.0.0.0 --token SECRET

(python scripts/serve.py ... from a checkout.) One run at a time; the others wait in line.
Ctrl-C stops the run and exits.
"""
import secrets
import sys
import threading

from absl import app, flags

from nst_tf.cli import common
from nst_tf.web.server import (DEFAULT_MAX_CLIP_MB, DEFAULT_MAX_MEGAPIXELS, DEFAULT_MAX_UPLOAD_MB,
                              DEFAULT_PORT)

USAGE = "[--port N] [--host ADDRESS] [--token TOKEN] [--weights imagenet|FILE|random] [flags]"
DESCRIPTION = """\
Serves a page on which to put a texture into a photo: choose or upload the content and the
texture, the mode and the settings, start, watch the picture every few steps, stop (the best
image so far is kept), download the result, the contact sheet and the command line that makes
the same run from a terminal. One run at a time; others wait in line. Listens on 127.0.0.1
unless --host says otherwise. Ctrl-C stops the run and exits."""

flags.DEFINE_string("host", "127.0.0.1", "The address to listen on. 127.0.0.1: this machine "
                    "only; 0.0.0.0: every network interface (anyone who can reach the port can "
                    "run jobs: give --token).")
flags.DEFINE_integer("port", DEFAULT_PORT, "The port; 0: any free port (the address is printed).")
flags.DEFINE_string("token", None, "A secret the page and the API require (the printed address "
                    "carries it); --token=generate makes one.")
flags.DEFINE_string("weights", "imagenet", "'imagenet' (Keras' VGG19, downloaded into weights/ "
                    "when missing), a path to a VGG19 notop .h5 file, or 'random' (untrained, "
                    "for trying the page).")
flags.DEFINE_float("max_megapixels", DEFAULT_MAX_MEGAPIXELS, "Largest photo (from its header, "
                   "before decoding) and largest result the server takes, in megapixels.")
flags.DEFINE_float("max_upload_mb", DEFAULT_MAX_UPLOAD_MB, "Largest upload the server takes, in MB.")
flags.DEFINE_float("max_clip_mb", DEFAULT_MAX_CLIP_MB, "Largest clip the server takes, in MB "
                   "(written to a private temporary folder while the server runs).")
flags.DEFINE_integer("max_waiting", 20, "Most runs waiting in line; more are refused.")
flags.DEFINE_float("preview_every", 1.0, "Seconds between two live pictures (at most one per step).")
FLAGS = flags.FLAGS

GROUPS = [("server", ("host", "port", "token", "weights")),
          ("limits", ("max_megapixels", "max_upload_mb", "max_clip_mb", "max_waiting", "preview_every"))]
SHORT_HELP = {
    "host": "127.0.0.1: this machine only; 0.0.0.0: every interface (then give --token).",
    "token": "A secret the page and the API require; --token=generate makes one.",
    "weights": "imagenet (Keras' VGG19, downloaded on first use), a VGG19 notop .h5 file, or "
               "random (untrained, for trying the page).",
}

@common.guarded
def run(argv):
    from nst_tf.web.server import make_server
    token = secrets.token_urlsafe(16) if FLAGS.token == "generate" else FLAGS.token
    if FLAGS.port < 0 or FLAGS.port > 65535:
        raise common.NSTError(f"--port must be 0..65535, got {FLAGS.port}")
    try:
        server = make_server(weights=FLAGS.weights, host=FLAGS.host, port=FLAGS.port,
                             token=token, max_megapixels=FLAGS.max_megapixels,
                             max_upload_mb=FLAGS.max_upload_mb,
                             max_clip_mb=FLAGS.max_clip_mb, max_waiting=FLAGS.max_waiting,
                             preview_seconds=FLAGS.preview_every)
    except OSError as error:
        raise common.NSTError(f"cannot listen on {FLAGS.host}:{FLAGS.port} "
                              f"({error.strerror or error})") from None
    from nst_tf.web.server import is_loopback
    if not is_loopback(FLAGS.host):  # once listening: a server that failed to start risks none
        common.say(f"warning: listening on {FLAGS.host or 'every interface'}: " + (
            f"anyone who can reach port {server.port} and knows the token can run jobs on this "
            "machine (plain HTTP: the token is readable on the network)" if token else
            f"anyone who can reach port {server.port} can run jobs on this machine; give "
            "--token to require a secret"))
    serving = threading.Thread(target=server.serve_forever, name="nst-tf http", daemon=True)
    serving.start()
    # The address at once (with --port 0 it is the only way to learn the port); TensorFlow then
    # starts here, not when the first user presses Start.
    print(f"nst-tf serve: {server.url}  (weights {FLAGS.weights}; Ctrl-C stops)", flush=True)
    try:
        common.import_tensorflow_quietly()
        while serving.is_alive():
            serving.join(0.5)
    except KeyboardInterrupt as interrupt:
        current = server.queue.current
        common.say("stopping" + (f" run {current.id}" if current is not None else "")
                   + " and exiting")
        try:
            server.close()
        except KeyboardInterrupt:
            pass
        sys.exit(common.exit_code(interrupt))


def main(argv=None):
    """The `nst-tf serve` command (argv: the program name, then the flags)."""
    app.run(run, argv, flags_parser=common.flags_parser(
        "serve", USAGE, DESCRIPTION, GROUPS, short_help=SHORT_HELP))


if __name__ == "__main__":
    main()
