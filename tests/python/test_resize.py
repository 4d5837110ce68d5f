"""tvx.transforms.resize against torchvision.transforms.v2.functional.resize (0.26), on CPU and
CUDA: every mode with and without antialias, uint8 / float32 / float64, contiguous and
channels_last, random images and real photos, odd sizes, large factors; lists of images of
different sizes; the output-size rule; errors; gradients."""
from pathlib import Path

import pytest
import torch
import torchvision.transforms.v2.functional as F
from torchvision.io import decode_jpeg, read_file
from torchvision.transforms import InterpolationMode

import tvx
from contract import Bad, Contract
from test_io import IMAGES

MODES = ["nearest", "nearest-exact", "bilinear", "bicubic"]
# (h, w) -> (oh, ow): shrink, enlarge, one axis, 1xN and Nx1, large factors both ways.
SHAPES = [((37, 53), (13, 17)), ((37, 53), (80, 90)), ((50, 50), (50, 20)), ((50, 50), (20, 50)), ((5, 7), (3, 30)),
          ((1, 9), (4, 2)), ((9, 1), (3, 7)), ((1, 1), (5, 6)), ((300, 400), (7, 5)), ((6, 4), (240, 200)),
          ((480, 640), (224, 224))]


# torchvision's uint8 bilinear is native (fixed point) on AVX2/AVX-512 CPUs only; elsewhere it
# resizes in float32 and rounds, where tvx can differ by 1 (see assert_matches).
NATIVE_UINT8 = torch.backends.cpu.get_cpu_capability() in ("AVX2", "AVX512")


def tv(image, size, mode, antialias):
    """torchvision's resize; where its CUDA kernel refuses (antialiased shrinking by large
    factors needs more shared memory than it has), its CPU result on the same image."""
    try:
        return F.resize(image, list(size), interpolation=InterpolationMode(mode), antialias=antialias)
    except RuntimeError as e:
        if image.device.type != "cuda" or "Too much shared memory" not in str(e):
            raise
        cpu = image.cpu() if image.dtype != torch.uint8 else image.cpu().float()
        out = F.resize(cpu, list(size), interpolation=InterpolationMode(mode), antialias=antialias)
        if image.dtype == torch.uint8:  # torchvision's CUDA uint8 path: float, clamp, round
            out = out.clamp(0, 255).round().to(torch.uint8)
        return out.to(image.device)


def random_image(dtype, shape, seed, channels=3, batch=(2,)):
    g = torch.Generator().manual_seed(seed)
    x = torch.randint(0, 256, (*batch, channels, *shape), generator=g, dtype=torch.uint8)
    return x if dtype == torch.uint8 else x.to(dtype) / 255


def assert_matches(got, want, what):
    assert got.shape == want.shape and got.dtype == want.dtype and got.device == want.device, what
    if got.dtype == torch.uint8 and got.device.type == "cpu" and NATIVE_UINT8:
        # The CPU computes ATen's uint8 path (its fixed-point weights and rounding): equal.
        assert torch.equal(got, want), f"{what}: max diff {(got.int() - want.int()).abs().max()}"
    elif got.dtype == torch.uint8:
        # CUDA resamples in float32 and rounds, as torchvision; a sum a rounding apart may round
        # the other way: within 1 LSB.
        diff = (got.int() - want.int()).abs()
        assert diff.max() <= 1, f"{what}: max diff {diff.max()}"
    else:
        torch.testing.assert_close(got, want, rtol=0, atol=1e-5, msg=what)


@pytest.mark.parametrize("dtype", [torch.uint8, torch.float32, torch.float64], ids=str)
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("antialias", [True, False])
def test_parity_random(dtype, mode, antialias, device):
    for i, (shape, size) in enumerate(SHAPES):
        x = random_image(dtype, shape, i).to(device)
        for memory in (torch.contiguous_format, torch.channels_last):
            xi = x.contiguous(memory_format=memory)
            got, want = tvx.transforms.resize(xi, size, interpolation=mode, antialias=antialias), tv(xi, size, mode, antialias)
            assert_matches(got, want, f"{shape}->{size} {memory}")
            assert got.stride() == want.stride(), f"{shape}->{size} {memory}"  # the memory format kept


@pytest.mark.parametrize("mode", ["bilinear", "bicubic"])
def test_parity_photos(mode, device):
    """Real photos, uint8 CHW (decode_image's layout) and float, to the sizes models take."""
    photos = sorted((IMAGES / "photo-500").glob("*.jpg"))[:4] + sorted((IMAGES / "photo-1080p").glob("*.jpg"))[:2]
    assert photos
    for path in photos:
        img = decode_jpeg(read_file(str(path))).to(device)
        for size in ([224, 224], [256], [97, 333], [900, 1700]):
            for antialias in (True, False):
                got = tvx.transforms.resize(img, size, interpolation=mode, antialias=antialias)
                assert_matches(got, tv(img, size, mode, antialias), f"{path.name} {size} {antialias}")
        f = img[:, :300, :400].float() / 255
        assert_matches(tvx.transforms.resize(f, [224, 224], mode), tv(f, [224, 224], mode, True), f"{path.name} float")


def test_hwc_view_stays_interleaved(device):
    """A CHW view of HWC data (a decoded image permuted) is read and written interleaved."""
    hwc = random_image(torch.uint8, (40, 60), 3, batch=()).permute(1, 2, 0).contiguous().to(device)
    chw = hwc.permute(2, 0, 1)
    got = tvx.transforms.resize(chw, [20, 25])
    assert_matches(got, tv(chw, [20, 25], "bilinear", True), "HWC view")
    assert got.stride() == (1, 25 * 3, 3)


@pytest.mark.parametrize("shape,size,max_size", [((40, 60), 20, None), ((60, 40), [20], None), ((40, 60), 20, 25),
                                                 ((50, 50), 30, None), ((40, 60), None, 33), ((61, 17), 9, 100),
                                                 ((40, 60), [21, 31], None)])
def test_output_size_rule(shape, size, max_size):
    x = random_image(torch.float32, shape, 5)
    want = F.resize(x, size, max_size=max_size)
    got = tvx.transforms.resize(x, size, max_size=max_size)
    assert got.shape == want.shape
    torch.testing.assert_close(got, want, rtol=0, atol=1e-5)
    h, w = torch.ops.tvx.resize(x, list(want.shape[-2:]), "bilinear", True).shape[-2:]
    assert [h, w] == list(want.shape[-2:])


def test_output_size_errors_match_torchvision():
    x = random_image(torch.float32, (40, 60), 5)
    for size, max_size in ((20, 20), ([20, 30], 40), (None, None)):
        with pytest.raises(ValueError) as theirs:
            F.resize(x, size, max_size=max_size)
        with pytest.raises(ValueError) as ours:
            tvx.transforms.resize(x, size, max_size=max_size)
        assert str(ours.value).split()[:3] == str(theirs.value).split()[:3]


def test_same_size_returns_the_input():
    x = random_image(torch.uint8, (8, 9), 1)
    assert tvx.transforms.resize(x, [8, 9]) is x


def test_half_and_bfloat16_resample_in_float(device):
    for dtype in (torch.float16, torch.bfloat16):
        x = random_image(torch.float32, (30, 40), 2).to(dtype).to(device)
        for mode in MODES:
            got = tvx.transforms.resize(x, [17, 23], interpolation=mode)
            want = tv(x.float(), [17, 23], mode, True).to(dtype) if "nearest" not in mode else tv(x, [17, 23], mode, True)
            assert got.dtype == dtype
            # float32 sums a rounding apart (ATen's kernels differ by shape) may round to the
            # neighbouring float16/bfloat16 value: within one unit of the last place.
            torch.testing.assert_close(got.float(), want.float(), rtol=2 ** -7 if dtype == torch.bfloat16 else 2 ** -10,
                                       atol=1e-3)


@pytest.mark.parametrize("mode", MODES)
def test_list_of_sizes(mode, device):
    """A list of images of different sizes and layouts (one launch on CUDA) equals resizing each."""
    images = [random_image(torch.uint8, shape, i, batch=())[:, :, :].to(device) for i, (shape, _) in enumerate(SHAPES)]
    images.append(random_image(torch.uint8, (70, 90), 7, batch=()).permute(1, 2, 0).contiguous().permute(2, 0, 1).to(device))
    images.append(random_image(torch.uint8, (33, 44), 8, channels=1, batch=()).to(device))
    for size, max_size in (([31, 47], None), (25, None), (20, 45)):
        got = tvx.transforms.resize(images, size, interpolation=mode, max_size=max_size)
        assert len(got) == len(images)
        for i, (g, img) in enumerate(zip(got, images)):
            want = F.resize(img, size if isinstance(size, list) else [size], interpolation=InterpolationMode(mode),
                            max_size=max_size)
            assert_matches(g, want, f"image {i} {size} {max_size}")
    floats = [img.float() / 255 for img in images]
    for g, img in zip(tvx.transforms.resize(floats, [19, 23], interpolation=mode), floats):
        assert_matches(g, F.resize(img, [19, 23], interpolation=InterpolationMode(mode)), "float list")
    assert tvx.transforms.resize([], [4, 4]) == []
    with pytest.raises(RuntimeError, match=r"tvx.resize_list: image 0 must have shape \[C, H, W\]"):
        torch.ops.tvx.resize_list([images[0][None]], [4, 4], "bilinear", True)
    with pytest.raises(RuntimeError, match="tvx.resize_list: sizes must hold"):
        torch.ops.tvx.resize_list(images[:2], [4, 4], "bilinear", True)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
@pytest.mark.parametrize("dtype", [torch.uint8, torch.float32, torch.float64, torch.float16], ids=str)
@pytest.mark.parametrize("mode", ["bilinear", "bicubic"])
@pytest.mark.parametrize("antialias", [True, False])
def test_cuda_kernels_give_the_same_bits(dtype, mode, antialias, monkeypatch):
    """CUDA resamples with a thread per output pixel (direct) or by tiles whose row sums go
    through shared memory (tiled, the default where they fit); TVX_RESIZE_KERNEL=direct forces
    the first. Both compute the same products and sums in the same order, so they give the same
    bits: batches in both layouts, lists of different sizes, channel counts and strides, tiles
    of every height."""
    g = torch.Generator().manual_seed(3)

    def img(c, h, w, interleaved=False, batch=()):
        x = torch.randint(0, 256, (*batch, c, h, w), generator=g, dtype=torch.uint8)
        x = x if dtype == torch.uint8 else (x.double() / 255).to(dtype)
        return (x.movedim(-3, -1).contiguous().movedim(-1, -3) if interleaved else x).cuda()

    def run(kernel):
        monkeypatch.setenv("TVX_RESIZE_KERNEL", kernel)
        out = [tvx.transforms.resize(img(3, 512, 512, batch=(2,)), [224, 224], interpolation=mode, antialias=antialias),
               tvx.transforms.resize(img(4, 100, 75, True, batch=(2,)), [33, 170], interpolation=mode, antialias=antialias)]
        # odd widths, 1xN and Nx1, an HWC view, one channel, four, a transposed view (no unit
        # stride), a view that does not start at its storage, a planar image
        small = [img(3, 37, 53), img(3, 9, 1), img(3, 1, 9), img(3, 301, 401, True), img(1, 64, 48), img(4, 20, 30),
                 img(3, 60, 90).transpose(1, 2), img(3, 70, 129)[:, :, 1:], img(3, 96, 160)]
        sizes = [[13, 17], [3, 7], [4, 2], [224, 224], [100, 70], [7, 61], [33, 25], [40, 51], [50, 70]]
        out += torch.ops.tvx.resize_list(small, [v for s in sizes for v in s], mode, antialias)
        # a tall shrink by 20 that leaves the list's tiles 1 to 4 rows high (by mode and dtype),
        # and a shrink by 60 (antialiased: no tile fits, the direct kernel takes it)
        out += torch.ops.tvx.resize_list(small + [img(3, 300, 40)], [v for s in sizes + [[15, 20]] for v in s], mode,
                                         antialias)
        out.append(tvx.transforms.resize(img(3, 900, 1200), [15, 20], interpolation=mode, antialias=antialias))
        return out

    g.manual_seed(3)
    want = run("direct")
    g.manual_seed(3)
    for i, (got, w) in enumerate(zip(run("tiled"), want)):
        assert got.stride() == w.stride(), f"output {i}"
        where = (got != w).nonzero()
        assert where.numel() == 0, (f"output {i} {tuple(got.shape)}: {where.shape[0]} values differ, first at "
                                    f"{where[0].tolist()}: {got[tuple(where[0])]} != {w[tuple(where[0])]}")
    monkeypatch.setenv("TVX_RESIZE_KERNEL", "staged")
    with pytest.raises(RuntimeError, match="TVX_RESIZE_KERNEL: expected direct or tiled, got staged"):
        tvx.transforms.resize(img(3, 8, 8), [4, 4], interpolation=mode, antialias=antialias)


def test_list_gradients(device):
    """A list with an image that needs a gradient goes through resize's autograd, image by image."""
    images = [random_image(torch.float64, (9, 11), 1, batch=()).to(device).requires_grad_(),
              random_image(torch.float64, (5, 13), 2, batch=()).to(device)]
    out = tvx.transforms.resize(images, [4, 6], interpolation="bicubic")
    out[0].sum().backward()
    want = torch.autograd.grad(tv(images[0], [4, 6], "bicubic", True).sum(), images[0])[0]
    torch.testing.assert_close(images[0].grad, want)
    assert not out[1].requires_grad


def test_list_opcheck(device):
    images = [random_image(torch.float32, (9, 11), 1, batch=()).to(device), random_image(torch.float32, (5, 13), 2, batch=()).to(device)]
    torch.library.opcheck(torch.ops.tvx.resize_list.default, (images, [4, 5, 6, 7], "bicubic", True))


RESIZE = Contract(
    op=torch.ops.tvx.resize.default,
    make=lambda device, n, seed: (random_image(torch.float32, (n // 3 + 4, n // 2 + 5), seed, batch=(min(n, 2),)).to(device),
                                  [n // 5 + 3, n // 3 + 2], "bilinear", True),
    oracle=lambda image, size, mode, antialias: tv(image, size, mode, antialias),
    atol=1e-5,
    grad_args=(0,),
    # The gradient is ATen's upsample backward, which has no deterministic CUDA kernel (nor
    # has torchvision's resize): a deterministic backward is yet to be written.
    deterministic=False,
    bad=[
        Bad("[H, W] image", lambda d: (torch.rand(4, 4, device=d), [2, 2], "bilinear", True),
            r"tvx.resize: image must have shape \[..., C, H, W\]"),
        Bad("int32 image", lambda d: (torch.zeros(3, 4, 4, dtype=torch.int32, device=d), [2, 2], "bilinear", True),
            "tvx.resize: image must be uint8, float32, float64, float16 or bfloat16, got int32"),
        Bad("negative size", lambda d: (torch.rand(3, 4, 4, device=d), [-2, 2], "bilinear", True),
            r"tvx.resize: size must be positive, got \[-2, 2\]"),
        Bad("three sizes", lambda d: (torch.rand(3, 4, 4, device=d), [2, 2, 2], "bilinear", True),
            r"tvx.resize: size must be \[height, width\], got 3 values"),
        Bad("unknown mode", lambda d: (torch.rand(3, 4, 4, device=d), [2, 2], "area", True),
            'tvx.resize: interpolation must be "nearest", "nearest-exact", "bilinear" or "bicubic", got "area"'),
    ],
)


@pytest.mark.parametrize("check", RESIZE.checks())
def test_resize_contract(check, device):
    RESIZE.run(check, device)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("antialias", [True, False])
def test_gradients_every_mode(mode, antialias, device):
    x = random_image(torch.float64, (6, 7), 4).to(device).requires_grad_()
    for size in ([3, 4], [9, 11]):
        assert torch.autograd.gradcheck(lambda t: torch.ops.tvx.resize(t, size, mode, antialias), (x,))
        want = torch.autograd.grad(tv(x, size, mode, antialias).sum(), x)[0]
        got = torch.autograd.grad(torch.ops.tvx.resize(x, size, mode, antialias).sum(), x)[0]
        torch.testing.assert_close(got, want)


def test_float_windows_do_not_reach_past_their_taps():
    """A NaN or infinite pixel reaches only the outputs whose windows hold it: the SIMD pass's
    zero padding around a window is not multiplied in (0 * inf would be NaN)."""
    x = torch.arange(16.0).view(1, 1, 16)
    x[..., 0] = float("nan")
    for mode in ("bilinear", "bicubic"):
        for aa in (True, False):
            got = tvx.transforms.resize(x, [1, 24], mode, antialias=aa)
            want = F.resize(x, [1, 24], InterpolationMode(mode), antialias=aa)
            assert torch.equal(got.isnan(), want.isnan()), (mode, aa)
            torch.testing.assert_close(got, want, rtol=0, atol=1e-5, equal_nan=True)
