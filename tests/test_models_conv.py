"""Image GAN builders: shapes, ranges, logits, the presentations' parameter counts, training,
saving."""

import dataclasses
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import tensorflow as tf  # noqa: E402

from gan_lib import get_config  # noqa: E402
from gan_lib.errors import GanLibError  # noqa: E402
from gan_lib.models import build_models, chollet64, conditional, dcgan, mlp, presentations64  # noqa: E402
from gan_lib.training.build import make_optimizer  # noqa: E402
from gan_lib.training.gan import GAN  # noqa: E402
from gan_lib.training.losses import get_loss  # noqa: E402

# (name, generator builder, discriminator builder, latent_dim, image shape)
PAIRS = [
    ("mlp", mlp.build_mlp_image_generator, mlp.build_mlp_image_discriminator, 100, (28, 28, 1)),
    ("dcgan28", lambda: dcgan.build_dcgan28_generator(width=16),
     lambda: dcgan.build_dcgan28_discriminator(width=16), 100, (28, 28, 1)),
    ("tutorial", dcgan.build_tutorial_generator, dcgan.build_tutorial_discriminator,
     100, (28, 28, 1)),
    ("cats64", presentations64.build_cats64_generator, presentations64.build_cats64_discriminator,
     128, (64, 64, 3)),
    ("dcgan64", presentations64.build_dcgan64_generator,
     presentations64.build_dcgan64_discriminator,
     100, (64, 64, 3)),
    ("faces", lambda: presentations64.build_faces_upsample_generator(latent_dim=64),
     presentations64.build_faces_mlp_discriminator, 64, (64, 64, 3)),
    ("russian64", lambda: chollet64.build_chollet64_generator(output_size=64, width=16),
     lambda: chollet64.build_chollet64_discriminator(image_size=64, width=16), 32,
     (64, 64, 3)),
]
PAIRS_28 = [p for p in PAIRS if p[4] == (28, 28, 1)]
IDS = [p[0] for p in PAIRS]


def _trainable_count(model: keras.Model) -> int:
    return sum(int(np.prod(w.shape)) for w in model.trainable_weights)


@pytest.mark.parametrize("name, build_g, build_d, latent_dim, shape", PAIRS, ids=IDS)
def test_shapes_ranges_and_logits(name, build_g, build_d, latent_dim, shape):
    keras.utils.set_random_seed(0)
    generator, discriminator = build_g(), build_d()
    assert generator.output_shape == (None, *shape)
    assert discriminator.output_shape == (None, 1)

    # Large noise pushes the pre-activations far out: outputs must still stay in [-1, 1].
    z = 100.0 * np.random.default_rng(0).standard_normal((2, latent_dim)).astype("float32")
    images = generator(z, training=False).numpy()
    assert images.shape == (2, *shape) and images.dtype == np.float32
    assert images.min() >= -1.0 and images.max() <= 1.0
    activations = [layer.get_config()["activation"] for layer in generator.layers
                   if "activation" in layer.get_config()]
    assert activations[-1] == "tanh"

    logits = discriminator(images, training=False).numpy()
    assert logits.shape == (2, 1) and np.all(np.isfinite(logits))
    assert discriminator.layers[-1].get_config().get("activation", "linear") == "linear"
    assert not any(layer.get_config().get("activation") == "sigmoid"
                   for layer in discriminator.layers)


def test_discriminator_outputs_are_unbounded_logits():
    discriminator = dcgan.build_dcgan28_discriminator(width=8, batch_norm=False)
    big = 1e3 * np.random.default_rng(1).standard_normal((16, 28, 28, 1)).astype("float32")
    logits = discriminator(big, training=False).numpy()
    assert np.any((logits < 0) | (logits > 1))  # a sigmoid would keep every value in [0, 1]


def test_mlp_image_parameter_counts():
    # The Russian presentation's nn.Linear stack: 100-256-512-1024-784 and 784-1024-512-256-1.
    def linear(sizes):
        return sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:]))
    assert mlp.build_mlp_image_generator().count_params() == linear([100, 256, 512, 1024, 784])
    assert mlp.build_mlp_image_discriminator().count_params() == linear([784, 1024, 512, 256, 1])


def test_tutorial_parameter_counts():
    # The TF DCGAN tutorial's model summaries.
    assert dcgan.build_tutorial_generator().count_params() == 2_330_944
    assert dcgan.build_tutorial_discriminator().count_params() == 212_865


def test_cats64_matches_the_english_seed_table():
    table = [264192, 0, 1638400, 2048, 0, 3276800, 1024, 0, 819200, 512, 0,
             204_800,  # the slide prints 284,800, which 5*5*128*C can never be: a misprint
             256, 0, 51200, 128, 0, 99]
    generator = presentations64.build_cats64_generator()
    assert [layer.count_params() for layer in generator.layers] == table
    assert generator.count_params() == sum(table) == 6_258_659
    assert generator.count_params() - _trainable_count(generator) == 1_984

    discriminator = presentations64.build_cats64_discriminator()
    assert [layer.count_params() for layer in discriminator.layers] == [
        3072, 0, 65536, 256, 0, 131072, 512, 0, 524288, 1024, 0, 0, 4097]
    assert discriminator.count_params() == 729_857
    assert _trainable_count(discriminator) == 728_961


def test_dcgan64_matches_pytorch_parameter_count():
    # PyTorch counts BatchNorm's gamma and beta as parameters and its running stats as buffers,
    # which is exactly Keras' trainable weights.
    g_convs = [100 * 512, 512 * 256, 256 * 128, 128 * 64, 64 * 3]
    g_expected = 16 * sum(g_convs) + 2 * (512 + 256 + 128 + 64)
    assert g_expected == 3_576_704  # the PyTorch DCGAN tutorial's generator
    assert _trainable_count(presentations64.build_dcgan64_generator()) == g_expected

    d_convs = [3 * 64, 64 * 128, 128 * 256, 256 * 512, 512 * 1]
    d_expected = 16 * sum(d_convs) + (256 + 512) + 2 * (128 + 256 + 512)  # bias on 256, 512
    d_count = _trainable_count(presentations64.build_dcgan64_discriminator())
    assert d_count == d_expected == 2_766_336


def test_faces_match_the_serbian_seed_tables():
    generator = presentations64.build_faces_upsample_generator()
    assert [layer.count_params() for layer in generator.layers] == [
        16781312, 0, 16384, 0, 0, 51328, 0, 512, 0, 9603]
    assert generator.count_params() == 16_859_139
    assert _trainable_count(generator) == 16_850_691
    discriminator = presentations64.build_faces_mlp_discriminator()
    assert [layer.count_params() for layer in discriminator.layers] == [
        0, 6291968, 0, 131328, 0, 257]
    assert discriminator.count_params() == 6_423_553


def test_chollet64_at_the_presentation_size():
    generator = chollet64.build_chollet64_generator()  # built, not run: ~160 GFLOP per image
    assert generator.output_shape == (None, 128, 128, 3)
    expected = (32 * 32768 + 32768 + 25 * 128 * 256 + 256 + 3 * (16 * 256 * 256 + 256)
                + 25 * 256 * 512 + 512 + 25 * 512 * 512 + 512 + 49 * 512 * 3 + 3)
    assert generator.count_params() == expected
    discriminator = chollet64.build_chollet64_discriminator()
    assert discriminator.count_params() == (9 * 3 * 256 + 256 + 16 * 256 * 256 + 256
                                            + 62 * 62 * 256 + 1)
    with pytest.raises(GanLibError, match="output_size must be 32, 64 or 128"):
        chollet64.build_chollet64_generator(output_size=100)


def _pytorch_conv_transpose(x, kernel, stride, padding):
    """NumPy reference of torch.nn.ConvTranspose2d; x [H, W, Cin], kernel [k, k, Cout, Cin]."""
    k, h = kernel.shape[0], x.shape[0]
    full = np.zeros(((h - 1) * stride + k, (h - 1) * stride + k, kernel.shape[2]))
    for i in range(h):
        for j in range(h):
            full[i * stride:i * stride + k, j * stride:j * stride + k] += kernel @ x[i, j]
    return full[padding:full.shape[0] - padding, padding:full.shape[1] - padding]


def test_keras_same_equals_pytorch_padding_1_for_kernel_4_stride_2():
    layer = keras.layers.Conv2DTranspose(3, 4, strides=2, padding="same", use_bias=False)
    x = np.random.default_rng(2).standard_normal((1, 4, 4, 2)).astype("float32")
    out = layer(x).numpy()[0]
    assert out.shape == (8, 8, 3)
    reference = _pytorch_conv_transpose(x[0], layer.kernel.numpy(), stride=2, padding=1)
    np.testing.assert_allclose(out, reference, rtol=1e-4, atol=1e-5)


def _weights(model):
    return [w.numpy().copy() for w in model.trainable_weights]


@pytest.mark.parametrize("name, build_g, build_d, latent_dim, shape", PAIRS_28,
                         ids=[p[0] for p in PAIRS_28])
def test_one_train_step_changes_weights(name, build_g, build_d, latent_dim, shape):
    keras.utils.set_random_seed(0)
    generator, discriminator = build_g(), build_d()
    gan = GAN(generator, discriminator, make_optimizer(2e-4), make_optimizer(2e-4),
              get_loss("non_saturating"), latent_dim)
    g_before, d_before = _weights(generator), _weights(discriminator)
    real = tf.random.uniform((4, *shape), -1.0, 1.0, seed=0)
    metrics = gan.train_step(real)
    assert all(np.isfinite(float(v)) for v in metrics.values())
    for before, model in ((g_before, generator), (d_before, discriminator)):
        changed = [not np.array_equal(b, a) for b, a in zip(before, _weights(model))]
        assert all(changed), f"{model.name}: some weights did not move"


@pytest.mark.parametrize("conditioning", ["projection", "channel"])
def test_conditional_pair_uses_labels_and_trains(conditioning):
    keras.utils.set_random_seed(0)
    generator = conditional.build_cgan28_generator(width=8)
    discriminator = conditional.build_cgan28_discriminator(width=8, conditioning=conditioning)
    z = tf.random.normal((4, 100), seed=0)
    labels = tf.constant([0, 3, 7, 9], dtype=tf.int32)
    images = generator([z, labels], training=False)
    assert images.shape == (4, 28, 28, 1)
    other = generator([z, (labels + 1) % 10], training=False)
    assert not np.allclose(images.numpy(), other.numpy())  # the label reaches the image

    loss = get_loss("non_saturating")
    optimizer = make_optimizer(1e-2)
    real = tf.random.uniform((4, 28, 28, 1), -1.0, 1.0, seed=1)
    before = _weights(discriminator)
    with tf.GradientTape() as tape:
        d_real, d_fake = loss.discriminator(discriminator([real, labels], training=True),
                                            discriminator([images, labels], training=True))
        d_loss = d_real + d_fake
    grads = tape.gradient(d_loss, discriminator.trainable_variables)
    optimizer.apply_gradients(zip(grads, discriminator.trainable_variables))
    assert np.isfinite(float(d_loss))
    assert all(not np.array_equal(b, a) for b, a in zip(before, _weights(discriminator)))
    # After one step the label embedding has moved, so D now depends on the label.
    logits = discriminator([real, labels], training=False).numpy()
    relabelled = discriminator([real, (labels + 1) % 10], training=False).numpy()
    assert not np.allclose(logits, relabelled)


def test_conditional_rejects_unknown_conditioning():
    with pytest.raises(GanLibError, match="'projection' or 'channel'"):
        conditional.build_cgan28_discriminator(conditioning="concat")


def _round_trip(model, inputs, path):
    model.save(path)
    loaded = keras.models.load_model(path)
    np.testing.assert_allclose(model(inputs, training=False).numpy(),
                               loaded(inputs, training=False).numpy(), rtol=1e-6, atol=1e-6)


def test_keras_round_trip(tmp_path):
    z = tf.random.normal((3, 100), seed=2)
    labels = tf.constant([1, 5, 8], dtype=tf.int32)
    _round_trip(dcgan.build_dcgan28_generator(width=8), z, tmp_path / "g28.keras")
    generator = conditional.build_cgan28_generator(width=8)
    _round_trip(generator, [z, labels], tmp_path / "g.keras")
    images = generator([z, labels], training=False)
    _round_trip(conditional.build_cgan28_discriminator(width=8), [images, labels],
                tmp_path / "d.keras")


@pytest.mark.parametrize("width", [16, 32, 64])
def test_dcgan64_width_scales_every_layer_as_pytorch_ngf_and_ndf(width):
    """Trainable weights of the PyTorch DCGAN at ngf = ndf = width, counted layer by layer:
    4x4 kernels, BatchNorm's gamma and beta, the biases of D's 4w and 8w convolutions."""
    w = width
    g_expected = 16 * (100 * 8 * w + 8 * w * 4 * w + 4 * w * 2 * w + 2 * w * w + w * 3)
    g_expected += 2 * (8 * w + 4 * w + 2 * w + w)
    d_expected = 16 * (3 * w + w * 2 * w + 2 * w * 4 * w + 4 * w * 8 * w + 8 * w)
    d_expected += (4 * w + 8 * w) + 2 * (2 * w + 4 * w + 8 * w)
    generator = presentations64.build_dcgan64_generator(100, width=w)
    discriminator = presentations64.build_dcgan64_discriminator(width=w)
    count = lambda m: sum(int(np.prod(v.shape)) for v in m.trainable_weights)  # noqa: E731
    assert (count(generator), count(discriminator)) == (g_expected, d_expected)
    assert generator.output_shape == (None, 64, 64, 3)
    assert discriminator.output_shape == (None, 1)


@pytest.mark.parametrize("size", [32, 64, 128])
def test_the_dcgan_pair_at_32_64_and_128_has_one_block_per_doubling(size):
    """The PyTorch tutorial's pattern at any side: from 4x4, one stride-2 layer per doubling;
    the filters halve on the way up (G) and double on the way down (D), counted by hand."""
    w, ups = 16, {32: 3, 64: 4, 128: 5}[size]
    g_filters = [w * 2 ** k for k in reversed(range(ups))]  # 4x4 ... last hidden layer
    g_expected = 16 * (100 * g_filters[0] + sum(a * b for a, b in zip(g_filters, g_filters[1:]))
                       + g_filters[-1] * 3) + 2 * sum(g_filters)
    d_filters = [w * 2 ** k for k in range(ups)]
    d_expected = 16 * (3 * d_filters[0] + sum(a * b for a, b in zip(d_filters, d_filters[1:]))
                       + d_filters[-1]) + sum(f for f in d_filters if f >= 4 * w) \
        + 2 * sum(d_filters[1:])
    generator = presentations64.build_dcgan64_generator(100, width=w, image_size=size)
    discriminator = presentations64.build_dcgan64_discriminator(width=w, image_size=size)
    count = lambda m: sum(int(np.prod(v.shape)) for v in m.trainable_weights)  # noqa: E731
    assert (count(generator), count(discriminator)) == (g_expected, d_expected)
    z = np.random.default_rng(0).standard_normal((2, 100)).astype(np.float32)
    fake = generator(z, training=False)
    assert fake.shape == (2, size, size, 3) and np.abs(fake).max() <= 1.0
    assert discriminator(fake).shape == (2, 1)


@pytest.mark.parametrize("size", [32, 64, 128])
def test_the_resize_conv_generator_upsamples_then_convolves_once_per_doubling(size):
    """dcgan_resize's G (dcgan128_fast's): from 4x4, nearest-neighbour x2 and a 3x3 convolution
    per doubling, filters halving; weights counted by hand; its D is the DCGAN one."""
    from gan_lib.models.resize_conv import build_resize_conv_generator

    w, ups = 16, {32: 3, 64: 4, 128: 5}[size]
    filters = [w * 2 ** k for k in reversed(range(ups))]  # 4x4 ... last hidden layer
    expected = (16 * 100 * filters[0] + 9 * sum(a * b for a, b in zip(filters, filters[1:]))
                + 9 * filters[-1] * 3 + 3 + 2 * sum(filters))  # image bias; BN gamma, beta
    generator = build_resize_conv_generator(100, width=w, image_size=size)
    assert sum(int(np.prod(v.shape)) for v in generator.trainable_weights) == expected
    assert sum(isinstance(layer, keras.layers.UpSampling2D) for layer in generator.layers) == ups
    assert sum(isinstance(layer, keras.layers.Conv2DTranspose)
               for layer in generator.layers) == 1  # only the 1x1 -> 4x4 layer transposes
    z = np.random.default_rng(0).standard_normal((2, 100)).astype(np.float32)
    fake = generator(z, training=False)
    assert fake.shape == (2, size, size, 3) and np.abs(fake).max() <= 1.0
    config = dataclasses.replace(get_config("dcgan128_fast"), image_size=size)
    g, d = build_models(config)
    assert g.output_shape == (None, size, size, 3) and d(fake).shape == (2, 1)


def test_an_architecture_asked_for_a_size_it_cannot_draw_is_one_sentence():
    for name, size in (("cats64", 128), ("faces64_upsample", 32), ("mnist_dcgan", 64)):
        with pytest.raises(GanLibError, match=rf"draws .* images, not {size}x{size}; for 128"):
            dataclasses.replace(get_config(name), image_size=size).validate()
    for name in ("faces64_fast", "faces64_rmsprop"):
        assert dataclasses.replace(get_config(name), image_size=128).validate().image_size == 128
    with pytest.raises(GanLibError, match="draws 32, 64, 128-pixel images, not 48"):
        presentations64.build_dcgan64_generator(100, image_size=48)


def test_multiply_adds_match_a_count_by_hand():
    from gan_lib.models.cost import multiply_adds, step_multiply_adds

    model = keras.Sequential([
        keras.Input((8, 8, 3)),
        keras.layers.Conv2D(4, 3, strides=2, padding="same"),  # 4x4 out: 16 * 3*3*3*4
        keras.layers.Conv2DTranspose(2, 4, strides=2, padding="same"),  # 4x4 in: 16 * 4*4*4*2
        keras.layers.Dense(5),  # on each of 8x8 pixels: 64 * 2*5
        keras.layers.Flatten(),
        keras.layers.Dense(1),  # 8*8*5 inputs
    ])
    expected = 16 * 3 * 3 * 3 * 4 + 16 * 4 * 4 * 4 * 2 + 64 * 2 * 5 + 8 * 8 * 5
    assert multiply_adds(model) == expected
    generator = keras.Sequential([keras.Input((2,)), keras.layers.Dense(3)])
    discriminator = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    assert step_multiply_adds(generator, discriminator, 10) == 3 * 10 * (6 + 2 * 3)
    # alternating: G forward for D's update, D's update on 2 batches, then G and D once more
    assert step_multiply_adds(generator, discriminator, 10, "alternating") == 10 * (
        6 + 3 * 2 * 3 + 3 * (6 + 3))


def test_a_registered_architecture_builds_and_validates():
    """Lesson 06's exercise 1: a new pair of networks under a new name."""
    import dataclasses

    from gan_lib import get_config, models, names

    models.register_architecture("tiny_pair", lambda c: (
        presentations64.build_dcgan64_generator(c.latent_dim, width=4),
        presentations64.build_dcgan64_discriminator(width=4)), fields=("model_width",))
    try:
        config = dataclasses.replace(get_config("faces64", quick=True), architecture="tiny_pair")
        config.validate()
        generator, discriminator = models.build_models(config)
        assert generator.output_shape == (None, 64, 64, 3)
        assert "model_width" in config.to_dict() and "dropout" not in config.to_dict()
    finally:
        models.BUILDERS.pop("tiny_pair", None)
        names.ARCHITECTURE_FIELDS.pop("tiny_pair", None)
    with pytest.raises(GanLibError, match="architecture must be one of .*; got 'tiny_pair'"):
        dataclasses.replace(get_config("faces64", quick=True), architecture="tiny_pair").validate()
