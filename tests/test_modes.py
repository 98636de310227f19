"""The four recipes (--mode), their losses against NumPy, blends, colours, progress, plot, sheet."""
import io

import imageio.v3 as iio
import numpy as np
import pytest
import tensorflow as tf

from conftest import built, SHARED_WEIGHTS, needs_shared_weights, random_image, run_script
from nst_tf.config import TransferConfig
from nst_tf.network.layers import ALL_CONV1
from nst_tf.presets import MODE_PRESETS, MODES, PRESETS
from nst_tf.errors import NSTError
from nst_tf.objective.whole import WholeObjective
from nst_tf.objective.terms import total_variation
from nst_tf.optimize.schedules import ExponentialDecay
from nst_tf.steps import StepReport
from nst_tf.report.progress import StepProgress, format_report
from nst_tf.run.texture_transfer import original_colors
from nst_tf.network.vgg import FeatureExtractor, preprocess

TINY = ["--max_dim=48", "--iterations=2", "--weights=random", "--log_every=1"]


# --- the config -------------------------------------------------------------------------------
def test_every_mode_and_preset_has_every_mode_field():
    fields = set(MODE_PRESETS[("texture", "imagenet")])
    assert {(mode, preset) for mode in MODES for preset in PRESETS} == set(MODE_PRESETS)
    assert all(set(values) == fields for values in MODE_PRESETS.values())


def test_mode_defaults_fill_what_is_not_given_and_what_is_given_wins():
    texture = TransferConfig(faithful=True)
    # The original's; TV off; the temporal weight a video's later frames use (a picture has no
    # temporal part).
    assert texture.loss_weights == (5.0, 1.0, 0.0, 5e-5, 0.0, 3.0)
    # The default: the original's weights carried to Gatys' normalized VGG19.
    assert TransferConfig().loss_weights == (5.0, 1.0, 0.0, 2500.0, 0.0, 3.0)
    assert texture.init == "content" and texture.gray_texture
    style = TransferConfig(mode="style")
    assert style.texture_layers == ALL_CONV1 and style.content_layers == ("block5_conv2",)
    assert not style.gray_texture and style.direct_weight == 0 and style.tv_weight > 0
    assert TransferConfig(mode="style", original_colors=True).gray_texture  # luminance only
    assert not TransferConfig(mode="style", original_colors=True, gray_texture=False).gray_texture
    assert TransferConfig(mode="synthesize").init == "noise"
    reconstruct = TransferConfig(mode="reconstruct", content_layers=("relu3_1",))
    assert reconstruct.content_layers == ("block3_conv1",) and reconstruct.texture_weight == 0
    assert TransferConfig(mode="style", texture_weight=7.0).texture_weight == 7.0
    assert TransferConfig(mode="style", preset="normalized").texture_layer_weights == ()
    # A resolved config survives the trip through JSON that the batch and metrics make.
    import dataclasses
    assert TransferConfig.from_dict(dataclasses.asdict(style)) == style


def test_full_resolution_has_its_own_first_level_defaults_and_given_values_win():
    from nst_tf.presets import (CALIBRATED_STEPS, FULL_RESOLUTION_EPSILON, FULL_RESOLUTION_STEPS,
                                NORMALIZED_BETA_1, NORMALIZED_EPSILON)
    full = TransferConfig(max_dim=0, preset="normalized")
    assert full.coarse_to_fine
    assert (full.beta_1, full.epsilon, full.settle_fraction, full.steps,
            full.refine_iterations) == (0.99, FULL_RESOLUTION_EPSILON, 0.0, FULL_RESOLUTION_STEPS, 2)
    assert (FULL_RESOLUTION_EPSILON, FULL_RESOLUTION_STEPS) == (0.001, 45)
    at_512 = TransferConfig(preset="normalized")
    assert (at_512.beta_1, at_512.epsilon, at_512.settle_fraction, at_512.steps) == (
        NORMALIZED_BETA_1, NORMALIZED_EPSILON, 0.0, CALIBRATED_STEPS)
    assert (NORMALIZED_BETA_1, NORMALIZED_EPSILON, CALIBRATED_STEPS) == (0.9, 0.001, 80)
    # Per-tile statistics at max_dim 0 is no coarse-to-fine run; Keras' file keeps the original's.
    tiles = TransferConfig(max_dim=0, preset="normalized", statistics="tile")
    assert not tiles.coarse_to_fine
    assert (tiles.beta_1, tiles.epsilon, tiles.steps) == (0.9, 0.001, CALIBRATED_STEPS)
    keras = TransferConfig(max_dim=0, faithful=True)
    assert (keras.epsilon, keras.settle_fraction, keras.steps) == (0.1, 0.0, 1000)
    assert TransferConfig(max_dim=0).steps == FULL_RESOLUTION_STEPS  # the file every user gets
    given = TransferConfig(max_dim=0, preset="normalized", epsilon=0.1, iterations=7,
                           settle_fraction=0.5)
    assert (given.epsilon, given.steps, given.settle_fraction) == (0.1, 7, 0.5)
    assert TransferConfig(max_dim=0, preset="normalized", optimizer="lbfgs").steps == 100


def test_replace_carries_a_default_to_the_new_mode_and_keeps_what_was_given():
    assert TransferConfig().replace(mode="style").optimizer == "lbfgs"
    assert TransferConfig().replace(mode="style") == TransferConfig(mode="style")
    assert TransferConfig(epsilon=0.2).replace(mode="style").epsilon == 0.2
    assert TransferConfig(preset="normalized").replace(max_dim=0) == TransferConfig(
        preset="normalized", max_dim=0)
    assert TransferConfig(preset="normalized", max_dim=0).replace(max_dim=512).beta_1 == 0.9
    assert TransferConfig(mode="style").replace(iterations=3).optimizer == "lbfgs"


@pytest.mark.parametrize("values,message", [
    (dict(mode="paint"), "mode must be one of texture, style, synthesize, reconstruct"),
    (dict(preset="caffe"), "preset must be one of imagenet, normalized"),
    (dict(texture_blend=(1.0, -1.0)), "texture_blend needs weights >= 0"),
    (dict(tv_weight=-1.0), "tv_weight must be >= 0"),
    (dict(optimizer="sgd", decay_rate=1.5), "decay_rate in (0, 1]"),
])
def test_bad_mode_settings_are_one_line(values, message):
    with pytest.raises(NSTError, match=message.replace("(", r"\(").replace(")", r"\)")):
        TransferConfig(**values)


def test_exponential_decay_is_keras_schedule():
    schedule = ExponentialDecay(100.0, 100, 0.96)
    assert schedule.update(99, 1.0) == pytest.approx(96.0)  # after 100 steps
    assert schedule.update(199, 1.0) == pytest.approx(100 * 0.96 ** 2)
    assert not schedule.stopped


# --- losses against NumPy -----------------------------------------------------------------------
def _numpy_gram(features):
    flat = features.reshape(-1, features.shape[-1]).astype(np.float64)
    return flat.T @ flat / flat.shape[0]


def test_style_colour_gram_loss_and_tv_match_numpy(random_vgg):
    layers = ("block1_conv1", "block2_conv1", "block3_conv1")
    extractor = FeatureExtractor(random_vgg, layers, ("block5_conv2",))
    content, style, image = (random_image((40, 56), seed) for seed in (1, 2, 3))
    layer_weights = (2.0, 1.0, 0.5)
    graph = WholeObjective(extractor, content[None], style[None], (0, 0, 0, 1.0, 0.25),
                                 layer_weights, gray_texture=False)
    parts = {k: float(v[0]) for k, v in graph.loss_parts(preprocess(image[None])).items()}
    # Independent: the features of the colour images (no gray), Gram and mean squares in NumPy.
    ours = [f.numpy()[0] for f in extractor.texture_features(preprocess(image[None]))]
    theirs = [f.numpy()[0] for f in extractor.texture_features(preprocess(style[None]))]
    expected = np.mean([w * np.mean((_numpy_gram(a) - _numpy_gram(b)) ** 2)
                        for w, a, b in zip(layer_weights, ours, theirs)])
    assert parts["texture"] == pytest.approx(expected, rel=1e-4)
    bgr = image[..., ::-1].astype(np.float64)
    tv = np.mean(np.diff(bgr, axis=0) ** 2) + np.mean(np.diff(bgr, axis=1) ** 2)
    assert parts["tv"] == pytest.approx(0.25 * tv, rel=1e-5)
    assert parts["direct"] == parts["content"] == parts["raw"] == 0.0
    # The gray texture branch gives another number: colour matters here.
    gray_graph = WholeObjective(extractor, content[None], style[None], (0, 0, 0, 1.0, 0),
                                      layer_weights)
    assert float(gray_graph.loss_parts(preprocess(image[None]))["texture"][0]) != pytest.approx(
        parts["texture"], rel=1e-2)


def test_total_variation_of_a_flat_and_a_striped_image():
    flat = tf.fill((1, 8, 9, 3), 17.0)
    assert float(total_variation(flat)[0]) == 0.0
    stripes = np.zeros((1, 8, 9, 3), np.float32)
    stripes[:, :, 1::2] = 10.0  # columns alternate: every horizontal step is 10, vertical 0
    assert float(total_variation(stripes)[0]) == pytest.approx(100.0)


def test_blended_gram_targets_are_the_weighted_sum_of_the_single_ones(random_vgg):
    extractor = FeatureExtractor(random_vgg, ("block1_conv1", "block2_conv1"), ("block5_conv2",))
    content, first, second = (random_image((32, 40), seed)[None] for seed in (1, 2, 3))
    weights = (0, 1.0, 1.0, 1.0, 0)

    def targets(textures, blend=()):
        graph = WholeObjective(extractor, content, textures, weights, blend=blend)
        return graph.gram_targets, graph.raw_targets

    (gram_a, raw_a), (gram_b, raw_b) = targets(first), targets(second)
    gram_mix, raw_mix = targets([first, second], blend=(3.0, 1.0))  # normalised: 0.75, 0.25
    for mixed, a, b in list(zip(gram_mix, gram_a, gram_b)) + list(zip(raw_mix, raw_a, raw_b)):
        np.testing.assert_allclose(mixed.numpy(), 0.75 * a.numpy() + 0.25 * b.numpy(),
                                   rtol=1e-5, atol=1e-5)
    with pytest.raises(NSTError, match="texture_blend has 1 weights for 2 textures"):
        targets([first, second], blend=(1.0,))


def test_original_colors_keeps_the_results_luminance_and_the_contents_chroma():
    # Mid-range colours, so that no mixed pixel leaves the RGB cube (clipping would move it).
    result = (80 + random_image((20, 30), 1) / 3).astype(np.uint8)
    content = 80 + random_image((20, 30), 2) / 3
    mixed = original_colors(result, content).astype(np.float32) / 255
    yiq = lambda rgb: tf.image.rgb_to_yiq(np.asarray(rgb, np.float32)).numpy()
    np.testing.assert_allclose(yiq(mixed)[..., 0], yiq(result / 255.0)[..., 0], atol=0.003)
    np.testing.assert_allclose(yiq(mixed)[..., 1:], yiq(content / 255.0)[..., 1:], atol=0.003)


# --- the runs -----------------------------------------------------------------------------------
def test_each_mode_runs_two_steps_on_the_command_line(tmp_path, image_files):
    content, texture = image_files  # 96x72 and 60x50
    cases = {  # the texture mode's run: test_cli.py
        "style": ([f"--content={content}", f"--style={texture}", "--original_colors",
                   "--optimizer=sgd", "--learning_rate=1"], (36, 48)),
        "synthesize": ([f"--texture={texture},{content}", "--texture_blend=0.7,0.3",
                        "--size=64x48"], (48, 64)),  # an explicit size is the output's
        "reconstruct": ([f"--content={content}", "--content_layers=relu4_2"], (36, 48)),
    }
    for mode, (photos, shape) in cases.items():
        output, plot = tmp_path / f"out_{mode}.png", tmp_path / f"{mode}_plot.png"
        sheet = tmp_path / f"{mode}_sheet.png"
        done = run_script("transfer.py", f"--mode={mode}", *photos, f"--output={output}",
                          f"--plot={plot}", f"--sheet={sheet}", *TINY)
        assert done.returncode == 0, (mode, done.stderr)
        # The sheet shows the photos the mode used (sheet.py: 320 px high, 8 px gaps): style
        # content 96x72 | style 60x50 | result; synthesis texture 1 | texture 2 | result;
        # reconstruction content | result.
        widths = {"style": 427 + 384 + 427, "synthesize": 384 + 427 + 427,
                  "reconstruct": 427 + 427}[mode]
        panels = 2 if mode == "reconstruct" else 3
        assert iio.imread(sheet).shape == (364, widths + (panels + 1) * 8, 3), mode
        assert iio.imread(output).shape == shape + (3,), mode
        assert iio.imread(plot).shape[:2] == (540, 960), mode
        assert "step 2/2  total" in done.stderr and "steps/s" in done.stderr, mode


def test_a_mode_without_its_photo_says_so(tmp_path, image_files):
    content, texture = image_files
    done = run_script("transfer.py", "--mode=synthesize", f"--output={tmp_path / 'o.png'}", *TINY)
    assert done.returncode == 2
    assert done.stderr.strip() == "error: mode synthesize needs a texture photo (--texture)"
    done = run_script("transfer.py", f"--content={content}", f"--texture={texture},{content}",
                      "--texture_blend=1", f"--output={tmp_path / 'o.png'}", *TINY)
    assert done.returncode == 2
    assert "texture_blend has 1 weights for 2 textures" in done.stderr
    assert not (tmp_path / "o.png").exists()


def test_a_weight_in_the_2018_units_under_the_calibrated_loop_is_named_in_one_line(
        tmp_path, image_files):
    from nst_tf.config import TransferConfig
    calibrated = TransferConfig(weights="random", preset="normalized", texture_weight=5e-5,
                                raw_weight=0.3)
    assert calibrated.texture_weight == 5e-5  # taken as given: the flag is in the loop's units
    assert calibrated.units_warnings(["texture_weight", "raw_weight", "direct_weight"]) == [
        "warning: texture_weight 5e-05 looks like a weight for Keras' file under the 2018 loop; "
        "the calibrated loop takes it as it is (its default is 2500), and in its units it "
        "would be 2500 (or add --faithful for the 2018 loop)",
        "warning: raw_weight 0.3 looks like a weight for Keras' file under the 2018 loop; the "
        "calibrated loop takes it as it is (its default is 0), and in its units it would be "
        "3000 (or add --faithful for the 2018 loop)"]
    # The loop's own units, the 2018 loop, and other modes: nothing to say. The boundary is the
    # geometric middle of the two units (5e-5 x 5e7**0.5 = 0.354 for the texture).
    assert calibrated.replace(texture_weight=2500.0, raw_weight=3000.0).units_warnings(
        ["texture_weight", "raw_weight"]) == []
    assert calibrated.replace(texture_weight=0.36).units_warnings(["texture_weight"]) == []
    assert len(calibrated.replace(texture_weight=0.35).units_warnings(["texture_weight"])) == 1
    assert TransferConfig(weights="random", faithful=True, texture_weight=5e-5).units_warnings(
        ["texture_weight"]) == []
    assert calibrated.replace(mode="style", texture_weight=5e-5).units_warnings(
        ["texture_weight"]) == []
    # On the command line, the flag's spelling, before the inputs are read.
    content, texture = image_files
    done = run_script("transfer.py", f"--content={tmp_path / 'missing.png'}",
                      f"--texture={texture}", "--weights=random", "--preset=normalized",
                      "--texture_weight=5e-5", f"--output={tmp_path / 'o.png'}", *TINY)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert lines[0].startswith("warning: --texture_weight 5e-05 looks like a weight for Keras' "
                               "file") and "would be 2500" in lines[0]
    assert lines[-1].startswith("error: ") and "missing.png" in lines[-1]


def test_synthesis_keeps_the_textures_own_scale_and_sizes_the_output(random_vgg):
    texture = random_image((30, 40), 4)
    config = TransferConfig(mode="synthesize", weights="random", iterations=1, max_dim=0,
                            size=(100, 50))
    job = built(None, texture, config, network=random_vgg)
    assert job.run().shape == (50, 100, 3)
    # The texture is mirror-extended to the output, not stretched: its pixels are kept.
    np.testing.assert_array_equal(job.texture[:30, :40], texture)
    np.testing.assert_array_equal(job.texture[:30, 40:80], texture[:, ::-1])


def test_an_explicit_synthesis_size_is_the_output_size_whatever_max_dim(random_vgg):
    config = TransferConfig(mode="synthesize", weights="random", iterations=1, max_dim=64,
                            size=(80, 48))
    job = built(None, random_image((30, 40), 4), config, network=random_vgg)
    assert job.run().shape == (48, 80, 3)
    # Without a size, the texture's size scaled by max_dim: 48x36 -> 64x48.
    unsized = TransferConfig(mode="synthesize", weights="random", iterations=1, max_dim=64)
    assert built(None, random_image((36, 48), 4), unsized,
                           network=random_vgg).run().shape == (48, 64, 3)


def test_texture_scale_on_tiles_takes_the_gram_of_the_resized_texture(random_vgg):
    content, texture = random_image((48, 64), 1), random_image((48, 64), 2)
    config = TransferConfig(weights="random", iterations=1, max_dim=64, texture_scale=0.5)
    job = built(content, texture, config, network=random_vgg)
    half = tf.image.resize(texture[None], (24, 32), antialias=True).numpy()
    direct = WholeObjective(job.extractor, content[None], texture[None], (0, 0, 0, 1, 0),
                                  gram_texture_tiles=half)
    for ours, theirs in zip(job.objective.gram_targets, direct.gram_targets):
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-4, atol=1e-6)


# On the shared real weights, each mode's normalized preset, 30 steps at 96 px on the cat and
# gravel, lowers its own objective at least this many times: about half of what it measured
# (texture/Adam 1.73, style/L-BFGS 19.2, synthesize 205, reconstruct 24.6).
LOWERS_BY = {"texture": 1.5, "style": 10.0, "synthesize": 100.0, "reconstruct": 12.0}



@needs_shared_weights
@pytest.mark.parametrize("mode", MODES)
def test_each_modes_normalized_preset_lowers_its_objective(mode, real_vgg):
    from conftest import ROOT
    config = TransferConfig(mode=mode, preset="normalized", weights=str(SHARED_WEIGHTS),
                            iterations=30, max_dim=96)
    content = None if mode == "synthesize" else ROOT / "examples" / "cat.jpg"
    texture = None if mode == "reconstruct" else ROOT / "examples" / "gravel.jpg"
    reports = []
    built(content, texture, config, network=real_vgg).run(reports.append)
    assert len(reports) == 30
    assert reports[0].total / reports[-1].total >= LOWERS_BY[mode], (
        mode, reports[0].total, reports[-1].total)


# --- progress, plot ---------------------------------------------------------------------------
def _report(step, level=0, levels=1, seconds=2.0, remaining=None):
    return StepReport(step=step, total=6.0, direct=1.0, content=2.0, raw=0.0, texture=3.0,
                      tv=0.0, temporal=0.0, lr=10.0, seconds=seconds, level=level, levels=levels,
                      remaining_s=remaining)


def test_progress_without_a_terminal_is_a_line_every_n_steps():
    stream = io.StringIO()  # not a terminal: no bar
    progress = StepProgress([10], every=4, stream=stream)
    for step in range(10):
        progress(_report(step, seconds=0.5 * (step + 1)))
    lines = stream.getvalue().splitlines()
    # Step 2 gives the first time left early; then every 4th step and the last.
    assert [line.split("  ")[0] for line in lines] == ["step 2/10", "step 4/10", "step 8/10",
                                                       "step 10/10"]
    assert lines[1] == ("step 4/10  total 6 (direct 1 content 2 raw 0 texture 3 tv 0)  lr 10  "
                        "2.00 steps/s  2.0 s  ~3 s left")
    quiet = io.StringIO()
    StepProgress([10], every=1, stream=quiet, enabled=False)(_report(0))
    assert quiet.getvalue() == ""


def test_progress_of_levels_names_the_level_and_uses_the_runs_estimate():
    line = format_report(_report(1, level=1, levels=3, remaining=600.0), 10)
    assert line.startswith("level 2/3  step 2/10  total 6")
    assert line.endswith("~10.0 min left")


def test_the_bar_on_a_terminal_is_keras_progbar(monkeypatch):
    stream = io.StringIO()
    progress = StepProgress([3], stream=stream, bar=True)
    for step in range(3):
        progress(_report(step))
    progress.close()
    text = stream.getvalue()
    assert "3/3" in text and "total: 6.0000" in text


def test_plot_is_a_png_of_the_promised_size_with_levels(tmp_path):
    from nst_tf.report.plot import PLOT_SIZE_PX, plot_losses
    records = [_report(step, level=level, levels=2).as_dict()
               for level in (0, 1) for step in range(5)]
    path = tmp_path / "losses.png"
    plot_losses(records, path)
    image = iio.imread(path)
    assert image.shape[:2] == (PLOT_SIZE_PX[1], PLOT_SIZE_PX[0])
    assert image[..., :3].std() > 10  # something is drawn
    with pytest.raises(NSTError, match="nothing to plot"):
        plot_losses([], tmp_path / "empty.png")
    assert not (tmp_path / "empty.png").exists()
