"""The motion between frames: optical flow, warping, and where the warp can be trusted.

The flow is OpenCV's DIS (Kroeger et al. 2016, from the opencv-python-headless wheel): about 0.05
s a frame pair at 1024x436 on 2 CPU cores. Reliability follows Ruder et al. (2016, "Artistic
style transfer for videos"): a pixel whose forward and backward flows do not cancel was covered
or uncovered between the frames (a disocclusion), and one where the flow's gradient is large
sits on a motion boundary; neither gets a temporal loss.

Flows are (h, w, 2) float32 in pixels, (dx, dy); frames uint8 or float RGB (h, w, 3). No
TensorFlow here.
"""
from __future__ import annotations

import numpy as np

from nst_tf.errors import NSTError
from nst_tf.io.images import to_uint8


def _cv2():
    try:
        import cv2
    except ImportError:
        raise NSTError("video needs imageio-ffmpeg and opencv-python-headless: "
                       "pip install 'nst-tf[video]' (in a checkout: pip install "
                       "'.[video]')") from None
    return cv2


def optical_flow(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """The flow from `first` to `second`: second(x + flow(x)) matches first(x). DIS, medium
    preset, on the frames' luma."""
    cv2 = _cv2()
    gray = [cv2.cvtColor(np.ascontiguousarray(to_uint8(frame)), cv2.COLOR_RGB2GRAY)
            for frame in (first, second)]
    dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
    return dis.calc(gray[0], gray[1], None).astype(np.float32)


def warp(image: np.ndarray, flow: np.ndarray, sharp: bool = False) -> np.ndarray:
    """`image` sampled at x + flow(x) (outside the frame, its edge): with the flow from frame t
    to frame t-1, frame t-1's picture carried onto frame t. float32. Bilinear, or with `sharp`
    bicubic (a picture carried along: bilinear sampling at fractional offsets blurs its finest
    texture a little every frame, bicubic much less), clipped to the input's range."""
    cv2 = _cv2()
    height, width = flow.shape[:2]
    grid_x, grid_y = np.meshgrid(np.arange(width, dtype=np.float32),
                                 np.arange(height, dtype=np.float32))
    image = np.asarray(image, np.float32)
    carried = cv2.remap(image, grid_x + flow[..., 0], grid_y + flow[..., 1],
                        interpolation=cv2.INTER_CUBIC if sharp else cv2.INTER_LINEAR,
                        borderMode=cv2.BORDER_REPLICATE)
    return np.clip(carried, image.min(), image.max()) if sharp else carried


def reliability(backward: np.ndarray, forward: np.ndarray) -> np.ndarray:
    """Where a picture warped by `backward` (frame t to t-1) can be trusted, (h, w) float32 of 0
    and 1: x + b(x) falls inside frame t-1 (what enters the frame was never seen), forward
    (t-1 to t) and backward flows cancel (Ruder et al.'s test,
    |b + f(x + b)|^2 <= 0.01 (|b|^2 + |f(x + b)|^2) + 0.5), and x is not on a motion boundary
    (|grad b_x|^2 + |grad b_y|^2 <= 0.01 |b|^2 + 0.002)."""
    height, width = backward.shape[:2]
    grid_y, grid_x = np.mgrid[0:height, 0:width].astype(np.float32)
    source_x, source_y = grid_x + backward[..., 0], grid_y + backward[..., 1]
    inside = ((source_x >= 0) & (source_x <= width - 1) & (source_y >= 0)
              & (source_y <= height - 1))
    carried = warp(forward, backward)  # f at x + b(x)
    mismatch = np.sum((backward + carried) ** 2, axis=-1)
    consistent = mismatch <= 0.01 * (np.sum(backward ** 2, -1) + np.sum(carried ** 2, -1)) + 0.5
    gradients = sum(np.sum(np.square(np.gradient(backward[..., k])), axis=0) for k in range(2))
    boundary = gradients > 0.01 * np.sum(backward ** 2, -1) + 0.002
    return (inside & consistent & ~boundary).astype(np.float32)


def warping_error(previous: np.ndarray, current: np.ndarray, backward: np.ndarray,
                  weights: np.ndarray) -> float:
    """The warping error of Lai et al. (2018): the mean over the reliable pixels (`weights`) of
    the squared difference between frame t (`current`) and frame t-1 warped onto it, per
    channel, in 0..1 units."""
    warped = warp(np.asarray(previous, np.float32) / 255.0, backward)
    difference = np.sum((np.asarray(current, np.float32) / 255.0 - warped) ** 2, axis=-1)
    total = float(np.sum(weights))
    return float(np.sum(weights * difference) / (3.0 * total)) if total else 0.0
