"""The command line: `nst-tf transfer|batch|download-weights` (nst_tf.cli.main), also run as
scripts/transfer.py, scripts/batch.py and scripts/download_weights.py from a checkout.

Importing this package does not start TensorFlow; each command checks its flags and inputs
first and imports TensorFlow only to run.
"""
