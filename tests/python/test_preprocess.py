"""tvx.transforms.preprocess against torchvision's four calls (resize -> center_crop ->
to_dtype(scale=True) -> normalize), on CPU and CUDA: photos and random images of different
sizes and layouts, padding crops, every mode, dtypes and memory formats, errors."""
import pytest
import torch
import torchvision.transforms.v2.functional as F
from torchvision.io import decode_jpeg, read_file
from torchvision.transforms import InterpolationMode

import tvx
from contract import Bad, Contract
from test_io import IMAGES

MEAN, STD = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]


def chain(img, resize, crop, mean, std, dtype=torch.float32, mode="bilinear", antialias=True, max_size=None):
    x = img
    if resize is not None:
        x = F.resize(x, resize, interpolation=InterpolationMode(mode), antialias=antialias, max_size=max_size)
    if crop is not None:
        x = F.center_crop(x, crop)
    x = F.to_dtype(x, torch.float64 if dtype == torch.float64 else torch.float32, scale=True)
    if mean is not None:
        x = F.normalize(x, mean, std)
    return x.to(dtype)


def images(device):
    g = torch.Generator().manual_seed(0)
    out = [torch.randint(0, 256, (3, h, w), generator=g, dtype=torch.uint8) for h, w in ((100, 200), (333, 250), (64, 64))]
    out.append(torch.randint(0, 256, (300, 401, 3), generator=g, dtype=torch.uint8).permute(2, 0, 1))  # HWC view
    out += [decode_jpeg(read_file(str(p))) for p in sorted((IMAGES / "photo-500").glob("*.jpg"))[:3]]
    return [img.to(device) for img in out]


def assert_close(got, want, device, what):
    assert got.shape == want.shape and got.dtype == want.dtype, what
    if device == "cpu":
        torch.testing.assert_close(got, want, rtol=0, atol=0, msg=what)  # the same arithmetic
    else:
        # CUDA: a float32 resample sum a rounding apart may round to the neighbouring uint8:
        # within 1 LSB before normalisation, 1 / (255 * min(std)) after it.
        lsb = 1 / 255 / min(STD) + 1e-5
        torch.testing.assert_close(got.double(), want.double(), rtol=0.01 if got.dtype in (torch.float16, torch.bfloat16) else 0,
                                   atol=lsb, msg=what)


@pytest.mark.parametrize("resize,crop,max_size", [([256], [224, 224], None), ([224, 224], None, None),
                                                   (None, [50, 50], None), ([100], [120, 90], None),
                                                   ([60], [60, 60], 100), ([97, 131], [97, 131], None)])
def test_equals_the_four_calls(resize, crop, max_size, device):
    imgs = images(device)
    got = tvx.transforms.preprocess(imgs, resize=resize, crop=crop, mean=MEAN, std=STD, max_size=max_size)
    want = torch.stack([chain(i, resize, crop, MEAN, STD, max_size=max_size) for i in imgs])
    assert_close(got, want, device, f"{resize} {crop}")
    assert got.is_contiguous()


@pytest.mark.parametrize("mode", ["nearest", "nearest-exact", "bilinear", "bicubic"])
@pytest.mark.parametrize("antialias", [True, False])
def test_every_mode(mode, antialias, device):
    imgs = images(device)
    got = tvx.transforms.preprocess(imgs, resize=[80], crop=[72, 72], mean=MEAN, std=STD, interpolation=mode,
                                    antialias=antialias)
    want = torch.stack([chain(i, [80], [72, 72], MEAN, STD, mode=mode, antialias=antialias) for i in imgs])
    assert_close(got, want, device, mode)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.float16, torch.bfloat16], ids=str)
@pytest.mark.parametrize("channels_last", [False, True])
def test_dtypes_and_layouts(dtype, channels_last, device):
    imgs = images(device)
    got = tvx.transforms.preprocess(imgs, resize=[64], crop=[56, 48], mean=MEAN, std=STD, dtype=dtype,
                                    channels_last=channels_last)
    want = torch.stack([chain(i, [64], [56, 48], MEAN, STD, dtype=dtype) for i in imgs])
    assert_close(got, want, device, str(dtype))
    assert got.is_contiguous(memory_format=torch.channels_last if channels_last else torch.contiguous_format)


def test_without_normalisation_and_gray(device):
    g = torch.Generator().manual_seed(3)
    gray = [torch.randint(0, 256, (1, h, w), generator=g, dtype=torch.uint8).to(device) for h, w in ((30, 50), (41, 29))]
    got = tvx.transforms.preprocess(gray, resize=[20, 20])
    assert_close(got, torch.stack([chain(i, [20, 20], None, None, None) for i in gray]), device, "scale only")
    got = tvx.transforms.preprocess(gray, resize=[20, 20], mean=[0.5], std=[0.25])
    assert_close(got, torch.stack([chain(i, [20, 20], None, [0.5], [0.25]) for i in gray]), device, "one mean")


def test_batch_tensor_and_empty(device):
    batch = torch.randint(0, 256, (4, 3, 40, 50), dtype=torch.uint8).to(device)
    got = tvx.transforms.preprocess(batch, resize=[20, 25], mean=MEAN, std=STD)
    assert_close(got, torch.stack([chain(i, [20, 25], None, MEAN, STD) for i in batch]), device, "batch")
    empty = tvx.transforms.preprocess([], resize=[20], crop=[16, 16], mean=MEAN, std=STD)
    assert empty.shape == (0, 0, 16, 16)
    # The batch goes to the op whole: as the list's one element, its images unviewed.
    hwc = torch.randint(0, 256, (3, 30, 41, 3), dtype=torch.uint8).to(device).permute(0, 3, 1, 2)
    got = torch.ops.tvx.preprocess([hwc], [16], None, [16, 16], MEAN, STD, torch.float32, True, "bicubic", True)
    assert_close(got, torch.stack([chain(i, [16], [16, 16], MEAN, STD, mode="bicubic") for i in hwc]), device, "HWC batch")
    assert got.is_contiguous(memory_format=torch.channels_last)
    assert tvx.transforms.preprocess(batch[:0], resize=[20, 25]).shape == (0, 3, 20, 25)
    assert tvx.transforms.preprocess(batch[:0, :, :0], resize=[20, 25]).shape == (0, 3, 20, 25)
    # Batches that are views (an offset, a batch stride, a crop of each image) equal their lists.
    for view in (batch[1:], batch[::2], batch[:, :, 3:, 5:], hwc[1:]):
        args = dict(resize=[16], crop=[16, 16], mean=MEAN, std=STD)
        torch.testing.assert_close(tvx.transforms.preprocess(view, **args),
                                   tvx.transforms.preprocess(list(view.unbind(0)), **args), rtol=0, atol=0)
    with pytest.raises(RuntimeError, match=r"image 0 must have shape \[C, H, W\] \(or be the one \[N, C, H, W\] batch\)"):
        torch.ops.tvx.preprocess([batch, batch], [20], None, [], [], [], torch.float32, False, "bilinear", True)
    with pytest.raises(RuntimeError, match="the batch must be uint8"):
        tvx.transforms.preprocess(batch.float(), resize=[20, 25])
    with pytest.raises(RuntimeError, match="the batch's images are empty"):
        tvx.transforms.preprocess(batch[:, :, :0], resize=[20, 25])


def test_opcheck(device):
    imgs = images(device)[:3]
    torch.library.opcheck(torch.ops.tvx.preprocess.default,
                          (imgs, [64], None, [32, 32], MEAN, STD, torch.float32, False, "bilinear", True))


def test_bad_inputs(device):
    img = torch.zeros(3, 10, 10, dtype=torch.uint8, device=device)
    cases = [
        (dict(images=[img.float()]), "tvx.preprocess: image 0 must be uint8, got float32"),
        (dict(images=[img[0]]), r"tvx.preprocess: image 0 must have shape \[C, H, W\]"),
        (dict(images=[img, img[:1]]), "tvx.preprocess: image 1 has 1 channels, image 0 has 3"),
        (dict(images=[img, torch.zeros(3, 10, 12, dtype=torch.uint8, device=device)]), "a batch needs one size"),
        (dict(images=[img], mean=MEAN[:2], std=STD[:2]), "mean and std must have 1 or 3 values"),
        (dict(images=[img], mean=MEAN, std=[0.2, 0.0, 0.1]), "std evaluated to zero"),
        (dict(images=[img], dtype=torch.int32), "dtype must be float32, float16, bfloat16 or float64, got int32"),
        (dict(images=[img], crop=[0, 4]), "crop must be positive"),
        (dict(images=[img], resize=[4, 4, 4]), "resize must be"),
        (dict(images=[img], interpolation="area"), 'interpolation must be "nearest"'),
    ]
    for kwargs, message in cases:
        with pytest.raises(RuntimeError, match=message):
            tvx.transforms.preprocess(**kwargs)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.bfloat16], ids=str)
def test_cuda_kernels_give_the_same_bits(dtype, monkeypatch):
    """The CUDA resample kernels (tiled, and direct where TVX_RESIZE_KERNEL=direct) compute the
    same sums in the same order: the same bits, crops that pad, a batch tensor and
    channels_last output included."""
    imgs = images("cuda")
    outs = {}
    batch = torch.stack([F.resize(i, [96, 128]) for i in imgs])
    gray, rgba = [i[:1] for i in imgs], [torch.cat([i, i[:1]]) for i in imgs]
    for kernel in ("direct", "tiled"):
        monkeypatch.setenv("TVX_RESIZE_KERNEL", kernel)
        outs[kernel] = [tvx.transforms.preprocess(imgs, resize=[100], crop=[120, 90], mean=MEAN, std=STD, dtype=dtype),
                        # crops wider and taller than the resized images: columns and rows padded
                        tvx.transforms.preprocess(imgs, resize=[40], crop=[70, 90], mean=MEAN, std=STD, dtype=dtype),
                        tvx.transforms.preprocess(gray, resize=[40], crop=[70, 90], mean=[0.5], std=[0.2], dtype=dtype),
                        tvx.transforms.preprocess(rgba, resize=[40], crop=[30, 90], mean=[0.5] * 4, std=[0.2] * 4,
                                                  dtype=dtype),
                        tvx.transforms.preprocess(batch, resize=[56], crop=[48, 48], mean=MEAN, std=STD, dtype=dtype),
                        tvx.transforms.preprocess(imgs, resize=[256], crop=[224, 224], mean=MEAN, std=STD, dtype=dtype,
                                                  channels_last=True, interpolation="bicubic")]
    for got, want in zip(outs["tiled"], outs["direct"]):
        assert got.stride() == want.stride() and torch.equal(got, want)


def _batch(device, n, seed):
    """min(n, 4) random uint8 images of one size that grows with n, as one [N, 3, H, W] batch."""
    g = torch.Generator().manual_seed(seed)
    return torch.randint(0, 256, (min(n, 4), 3, n // 3 + 12, n // 2 + 15), generator=g, dtype=torch.uint8).to(device)


def _chain_batch(images, resize, max_size, crop, mean, std, dtype, channels_last, mode, antialias):
    """torchvision's four calls on each image of the batch, stacked."""
    (batch,) = images
    one = lambda img: chain(img, resize, crop, mean, std, dtype, mode, antialias, max_size)  # noqa: E731
    if batch.shape[0] == 0:  # no image: the size an image of the batch's size would have
        return one(torch.zeros(batch.shape[1:], dtype=batch.dtype, device=batch.device)).unsqueeze(0)[:0]
    out = torch.stack([one(i) for i in batch])
    return out.contiguous(memory_format=torch.channels_last) if channels_last else out


# The shared contract, on the batch form (one [N, C, H, W] tensor as the list's element).
PREPROCESS = Contract(
    op=torch.ops.tvx.preprocess.default,
    make=lambda device, n, seed: ([_batch(device, n, seed)], [n // 4 + 9], None, [8, 10], MEAN, STD, torch.float32,
                                  False, "bilinear", True),
    oracle=_chain_batch,
    # CPU: the four calls' arithmetic (bit-exact, test_equals_the_four_calls); CUDA: a resample
    # sum a rounding apart may round to the neighbouring uint8 before normalisation.
    atol=1 / 255 / min(STD) + 1e-5,
    bad=[
        Bad("float batch", lambda d: ([torch.rand(2, 3, 8, 8, device=d)], [4], None, [], MEAN, STD, torch.float32, False,
                                      "bilinear", True), "tvx.preprocess: the batch must be uint8, got float32"),
        Bad("two batches", lambda d: ([_batch(d, 4, 0)] * 2, [4], None, [], MEAN, STD, torch.float32, False, "bilinear",
                                      True), r"tvx.preprocess: image 0 must have shape \[C, H, W\]"),
        Bad("negative crop", lambda d: ([_batch(d, 4, 0)], [4], None, [-2, 2], MEAN, STD, torch.float32, False,
                                        "bilinear", True), "tvx.preprocess: crop must be positive"),
        Bad("int dtype", lambda d: ([_batch(d, 4, 0)], [4], None, [], MEAN, STD, torch.int32, False, "bilinear", True),
            "tvx.preprocess: dtype must be float32, float16, bfloat16 or float64, got int32"),
        Bad("two means for three channels", lambda d: ([_batch(d, 4, 0)], [4], None, [], [0.5, 0.5], [0.2, 0.2],
                                                        torch.float32, False, "bilinear", True),
            "tvx.preprocess: mean and std must have 1 or 3 values"),
    ],
)


@pytest.mark.parametrize("check", PREPROCESS.checks())
def test_preprocess_contract(check, device):
    PREPROCESS.run(check, device)
