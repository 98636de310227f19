"""Video: a clip with the texture, steady from frame to frame (nst_tf.video.transfer)."""
