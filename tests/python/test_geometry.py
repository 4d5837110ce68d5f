"""The geometric transforms against torchvision.transforms.v2.functional (0.26), on CPU and CUDA:
images (uint8, float32, float64; single, batched, channels_last; random and a real photo), masks
(uint8, bool, int64 labels; [H, W] and [N, H, W]) and bounding boxes (XYXY, XYWH, CXCYWH; float
and integer; boxes clustered around objects as a detector gives them) through every op. tvx
computes with ATen's operations in torchvision's order, so images and masks are equal, not
merely close; box corners through a matrix are compared to float32's rounding."""
import math
import os
import subprocess
import sys

import pytest
import torch
import torchvision.transforms.v2.functional as F
from torchvision import tv_tensors
from torchvision.io import decode_jpeg, read_file
from torchvision.transforms import InterpolationMode as IM

import tvx
from contract import Bad, Contract
from test_color import _float_image as _image
from test_io import IMAGES

T = tvx.transforms


def images(device):
    g = torch.Generator().manual_seed(1)
    out = [torch.randint(0, 256, (3, 17, 23), generator=g, dtype=torch.uint8),
           torch.randint(0, 256, (2, 3, 16, 16), generator=g, dtype=torch.uint8),
           torch.randint(0, 256, (1, 9, 30), generator=g, dtype=torch.uint8),
           decode_jpeg(read_file(str(sorted((IMAGES / "photo-500").glob("*.jpg"))[0])))]
    out += [out[0].float() / 255, out[1].double() / 255,
            (out[1].float() / 255).contiguous(memory_format=torch.channels_last),
            torch.randint(0, 256, (3, 1, 17), generator=g, dtype=torch.uint8),  # 1 x N and N x 1
            torch.rand(2, 13, 1, generator=g)]
    return [x.to(device) for x in out]


PERSPECTIVE = dict(startpoints=[[0, 0], [22, 0], [22, 16], [0, 16]], endpoints=[[3, 1], [20, 4], [21, 15], [1, 13]])

# (name, kwargs): each runs on every image.
IMAGE_CASES = [
    ("horizontal_flip", {}), ("vertical_flip", {}),
    ("crop", dict(top=2, left=3, height=7, width=9)), ("crop", dict(top=-3, left=5, height=10, width=30)),
    ("crop", dict(top=40, left=-5, height=4, width=8)),
    ("center_crop", dict(output_size=[5, 7])), ("center_crop", dict(output_size=[20, 40])), ("center_crop", dict(output_size=[8])),
    ("resized_crop", dict(top=1, left=2, height=9, width=11, size=[13, 7])),
    ("resized_crop", dict(top=0, left=0, height=8, width=8, size=[4], interpolation=IM.NEAREST)),
    ("pad", dict(padding=[3])), ("pad", dict(padding=[1, 2, 3, 4], fill=7)), ("pad", dict(padding=[2, 1], fill=[1, 2, 3])),
    ("pad", dict(padding=[1, 2, 3, 4], padding_mode="edge")), ("pad", dict(padding=[3, 2], padding_mode="reflect")),
    ("pad", dict(padding=[1, 2, 3, 4], padding_mode="symmetric")), ("pad", dict(padding=[-1, 2, 3, -2], padding_mode="symmetric")),
    ("pad", dict(padding=[-2, 3], fill=5)), ("pad", dict(padding=[40, 30], padding_mode="edge")),
    ("pad", dict(padding=[0, 7, 12, 0], padding_mode="reflect")), ("pad", dict(padding=[1, -1, 2, 0], padding_mode="edge")),
    ("affine", dict(angle=30, translate=[2, -3], scale=1.2, shear=[5, 7])),
    ("affine", dict(angle=-12.5, translate=[0, 0], scale=0.8, shear=10, interpolation=IM.BILINEAR, fill=[9])),
    ("affine", dict(angle=45, translate=[1, 1], scale=1.0, shear=[0.0], center=[3, 4], fill=200)),
    ("rotate", dict(angle=33)), ("rotate", dict(angle=33, expand=True, interpolation=IM.BILINEAR, fill=[10])),
    ("rotate", dict(angle=-90, expand=True)), ("rotate", dict(angle=180)), ("rotate", dict(angle=720)),
    ("rotate", dict(angle=90, center=[2, 3])), ("rotate", dict(angle=17, center=[1.5, 7], expand=True)),
    ("perspective", dict(PERSPECTIVE)), ("perspective", dict(PERSPECTIVE, interpolation=IM.NEAREST, fill=[0])),
    ("perspective", dict(startpoints=None, endpoints=None, coefficients=[1.1, 0.1, -2, -0.1, 1.3, -1, 0.001, 0.002])),
]


def _channels_ok(name, kwargs, img):
    fill = kwargs.get("fill")
    return not (isinstance(fill, list) and len(fill) > 1 and len(fill) != img.shape[-3])


@pytest.mark.parametrize("name,kwargs", IMAGE_CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(IMAGE_CASES)])
def test_images_equal_torchvision(name, kwargs, device):
    for img in images(device):
        if not _channels_ok(name, kwargs, img):
            continue
        if name == "pad" and kwargs.get("padding_mode") in ("reflect", "symmetric") and min(img.shape[-2:]) <= 4:
            continue  # more padding than pixels: an error in both (tested in test_bad_inputs)
        try:
            want = getattr(F, name)(img, **kwargs)
        except RuntimeError:  # negative padding beyond the image: an error in both
            with pytest.raises(RuntimeError):
                getattr(T, name)(img, **kwargs)
            continue
        got = getattr(T, name)(img, **kwargs)
        assert got.shape == want.shape and got.dtype == want.dtype, (name, img.shape, got.shape, want.shape)
        # resized_crop's resize (see test_resize.py): float within 1e-5 of torchvision; uint8 equal on
        # the CPU, within 1 on CUDA (torchvision computes uint8 there in float32 and rounds).
        tol = 0
        if name == "resized_crop":
            tol = 1e-5 if img.is_floating_point() else (1 if device == "cuda" else 0)
        torch.testing.assert_close(got, want, rtol=0, atol=tol, msg=f"{name} {kwargs} {img.shape} {img.dtype}")


def test_crop_wholly_left_or_above_is_zeros(device):
    """A region that ends before the image's first column or row holds zeros of the region's size.
    (torchvision slices image[..., :right] there, a negative `right` counting from the end, and
    returns a region of the wrong size: [3, 4, 466] for a 4 x 8 region of a 500-wide photo.)"""
    img = images(device)[3]
    for top, left in ((40, -50), (-30, 10), (-30, -30)):
        out = T.crop(img, top, left, 4, 8)
        assert out.shape == (3, 4, 8) and not out.any()
    torch.testing.assert_close(T.crop(img, -2, -3, 6, 9)[:, 2:, 3:], img[:, :4, :6], rtol=0, atol=0)


def test_rotate90_is_rotate_with_expand(device):
    for img in images(device):
        for k in range(-2, 6):
            torch.testing.assert_close(T.rotate90(img, k), F.rotate(img, 90.0 * k, expand=True), rtol=0, atol=0)


def test_elastic_equals_torchvision(device):
    g = torch.Generator().manual_seed(3)
    for img in images(device):
        h, w = img.shape[-2:]
        disp = ((torch.rand(1, h, w, 2, generator=g) - 0.5) * 0.3).to(device)
        for kwargs in (dict(), dict(interpolation=IM.NEAREST, fill=[5])):
            torch.testing.assert_close(T.elastic(img, disp, **kwargs), F.elastic(img, disp, **kwargs), rtol=0, atol=0)


# Masks: labels 0..4 in blobs, in the dtypes segmentation uses.
def masks(device):
    g = torch.Generator().manual_seed(2)
    base = torch.nn.functional.interpolate(torch.rand(1, 1, 5, 6, generator=g), size=(19, 26)).mul(5).long()[0, 0]
    out = [base.to(torch.uint8), base, base.bool(), torch.stack([base, base.flip(0)]).to(torch.uint8),
           base[None].to(torch.uint8)]
    return [m.to(device) for m in out]


MASK_CASES = [
    ("horizontal_flip_mask", {}), ("vertical_flip_mask", {}),
    ("resize_mask", dict(size=[40, 13])), ("resize_mask", dict(size=[7], max_size=9)),
    ("crop_mask", dict(top=-2, left=3, height=12, width=30)), ("center_crop_mask", dict(output_size=[30, 10])),
    ("resized_crop_mask", dict(top=1, left=2, height=10, width=12, size=[33, 21])),
    ("pad_mask", dict(padding=[1, 2, 3, 4])), ("pad_mask", dict(padding=[2], fill=255, padding_mode="constant")),
    ("pad_mask", dict(padding=[2, 3], padding_mode="symmetric")),
    ("affine_mask", dict(angle=20, translate=[1, 2], scale=1.1, shear=[3, 4])),
    ("affine_mask", dict(angle=-40, translate=[0, 0], scale=0.9, shear=[0, 0], fill=[255], center=[4, 4])),
    ("rotate_mask", dict(angle=25, expand=True)), ("rotate_mask", dict(angle=270)),
    ("perspective_mask", dict(startpoints=PERSPECTIVE["startpoints"], endpoints=PERSPECTIVE["endpoints"])),
]


@pytest.mark.parametrize("name,kwargs", MASK_CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(MASK_CASES)])
def test_masks_equal_torchvision(name, kwargs, device):
    for m in masks(device):
        if name == "pad_mask" and m.dtype == torch.bool and kwargs.get("fill") == 255:
            continue
        want = getattr(F, name)(m, **kwargs)
        got = getattr(T, name)(m, **kwargs)
        assert got.shape == want.shape and got.dtype == want.dtype, (name, m.shape, got.shape, want.shape)
        assert torch.equal(got, want), (name, kwargs, m.shape, m.dtype)


def test_mask_follows_image(device):
    """A mask moved with its image marks the same pixels: rotate an image whose pixels equal
    their mask label, and the mask (nearest, same map) still equals the image's labels."""
    m = masks(device)[0]
    img = m[None].expand(3, -1, -1).contiguous()
    for name, kwargs in (("rotate", dict(angle=31, expand=True)), ("affine", dict(angle=10, translate=[2, 1], scale=1.3, shear=[4])),
                         ("perspective", dict(PERSPECTIVE)), ("crop", dict(top=-1, left=2, height=9, width=40)),
                         ("center_crop", dict(output_size=[25, 25])), ("horizontal_flip", {})):
        kw = dict(kwargs, interpolation=IM.NEAREST) if name in ("rotate", "affine", "perspective") else kwargs
        moved_img = getattr(T, name)(img, **kw)
        moved_mask = getattr(T, name + "_mask")(m, **kwargs)
        assert torch.equal(moved_img[0], moved_mask), name


# Boxes as a detector gives them: clustered around a few objects, some near or over the border.
def boxes(device, dtype=torch.float32, n=40, canvas=(60, 80), seed=0):
    g = torch.Generator().manual_seed(seed)
    centres = torch.tensor([[20.0, 15.0], [60.0, 40.0], [5.0, 55.0]])
    c = centres[torch.randint(0, 3, (n,), generator=g)] + torch.randn(n, 2, generator=g) * 4
    wh = torch.rand(n, 2, generator=g) * 25 + 2
    xyxy = torch.cat([c - wh / 2, c + wh / 2], 1)
    if not dtype.is_floating_point:
        xyxy = xyxy.round()
    return xyxy.to(dtype).to(device)


FORMATS = ["XYXY", "XYWH", "CXCYWH"]
CANVAS = (60, 80)


def _in_format(xyxy, fmt):
    return F.convert_bounding_box_format(xyxy, old_format="XYXY", new_format=fmt)


def _bbox(x, fmt):
    return tv_tensors.BoundingBoxes(x, format=fmt, canvas_size=CANVAS)


BOX_CASES = [
    ("horizontal_flip", {}), ("vertical_flip", {}),
    ("resize", dict(size=[30, 200])), ("resize", dict(size=[45])),
    ("crop", dict(top=5, left=-4, height=40, width=50)), ("center_crop", dict(output_size=[30, 100])),
    ("resized_crop", dict(top=3, left=4, height=30, width=40, size=[64, 32])),
    ("pad", dict(padding=[3, 4, 5, 6])), ("pad", dict(padding=[-3, 2])),
    ("affine", dict(angle=25, translate=[3, -2], scale=1.1, shear=[4, 6])),
    ("affine", dict(angle=-40, translate=[0, 0], scale=0.7, shear=12, center=[10, 20])),
    ("rotate", dict(angle=30)), ("rotate", dict(angle=-75, expand=True)), ("rotate", dict(angle=90, expand=True)),
    ("rotate", dict(angle=12, expand=True, center=[30, 10])),
    ("perspective", dict(startpoints=[[0, 0], [79, 0], [79, 59], [0, 59]], endpoints=[[4, 2], [75, 6], [77, 55], [3, 57]])),
]


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.int64], ids=str)
@pytest.mark.parametrize("name,kwargs", BOX_CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(BOX_CASES)])
def test_boxes_equal_torchvision(name, kwargs, fmt, dtype, device):
    b = _in_format(boxes(device, dtype), fmt)
    want = getattr(F, name)(_bbox(b, fmt), **kwargs)
    fn = getattr(T, f"{name}_bounding_boxes")
    if name in ("horizontal_flip", "vertical_flip", "affine", "perspective"):
        got, canvas = fn(b, fmt, CANVAS, **kwargs), CANVAS
    elif name in ("crop", "resized_crop"):
        got, canvas = fn(b, fmt, **kwargs)
    elif name == "resize":
        got, canvas = fn(b, CANVAS, format=fmt, **kwargs)
    else:
        got, canvas = fn(b, fmt, CANVAS, **kwargs)
    assert tuple(canvas) == tuple(want.canvas_size), (canvas, want.canvas_size)
    want = want.as_subclass(torch.Tensor)
    assert got.dtype == want.dtype and got.shape == want.shape
    if name in ("affine", "rotate", "perspective") and not (name == "rotate" and kwargs["angle"] == 90):
        # Corners through a float matrix: tvx and torchvision may round one ulp apart, and an integer
        # box truncates back (a coordinate at n - 1e-6 becomes n - 1).
        torch.testing.assert_close(got.double(), want.double(), rtol=1e-5, atol=1 if not dtype.is_floating_point else 1e-4)
    else:
        assert torch.equal(got, want), (name, kwargs, fmt, dtype)


@pytest.mark.parametrize("fmt", FORMATS)
def test_box_conversion_and_clamping(fmt, device):
    for dtype in (torch.float32, torch.int64, torch.float64):
        b = boxes(device, dtype) * (3 if not dtype.is_floating_point else 1.7)
        for new in FORMATS:
            assert torch.equal(T.convert_bounding_box_format(_in_format(b, fmt), fmt, new),
                               F.convert_bounding_box_format(_in_format(b, fmt), old_format=fmt, new_format=new))
        for mode in ("soft", "hard", None):
            want = F.clamp_bounding_boxes(_in_format(b, fmt), format=fmt, canvas_size=CANVAS, clamping_mode=mode)
            assert torch.equal(T.clamp_bounding_boxes(_in_format(b, fmt), fmt, CANVAS, mode), want)
    unclamped = F.crop(tv_tensors.BoundingBoxes(b := boxes(device), format="XYXY", canvas_size=CANVAS, clamping_mode=None),
                       top=5, left=5, height=20, width=20)
    assert torch.equal(T.crop_bounding_boxes(b, "XYXY", 5, 5, 20, 20, clamping_mode=None)[0], unclamped.as_subclass(torch.Tensor))


def test_rotate90_boxes_follow_the_image(device):
    """rotate90 of the boxes equals torchvision's rotate(90 k, expand=True) of them, and a box
    drawn into an image lands where the rotated image has it."""
    b = boxes(device)
    for k in range(-1, 5):
        got, canvas = T.rotate90_bounding_boxes(b, "XYXY", CANVAS, k)
        want = F.rotate(_bbox(b, "XYXY"), 90.0 * k, expand=True)
        assert canvas == want.canvas_size
        torch.testing.assert_close(got, want.as_subclass(torch.Tensor), rtol=0, atol=2e-5)
    img = torch.zeros(1, *CANVAS, device=device)
    img[0, 10:20, 30:50] = 1
    box = torch.tensor([[30.0, 10.0, 50.0, 20.0]], device=device)
    for k in range(4):
        rotated = T.rotate90(img, k)
        (x1, y1, x2, y2), _ = T.rotate90_bounding_boxes(box, "XYXY", CANVAS, k)[0][0].tolist(), None
        ys, xs = torch.nonzero(rotated[0], as_tuple=True)
        assert (xs.min().item(), ys.min().item(), xs.max().item() + 1, ys.max().item() + 1) == (x1, y1, x2, y2), k


def test_elastic_boxes_equal_torchvision(device):
    g = torch.Generator().manual_seed(5)
    disp = ((torch.rand(1, *CANVAS, 2, generator=g) - 0.5) * 0.1).to(device)
    b = boxes(device).clamp(0, 58)
    for fmt in FORMATS:
        want = F.elastic(_bbox(_in_format(b, fmt), fmt), disp).as_subclass(torch.Tensor)
        got = T.elastic_bounding_boxes(_in_format(b, fmt), fmt, CANVAS, disp)
        torch.testing.assert_close(got, want, rtol=0, atol=1e-4)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
def test_photo_pipeline_on_cuda_equals_cpu():
    img = images("cpu")[3]
    for name, kwargs in (("rotate", dict(angle=17, expand=True, interpolation=IM.BILINEAR, fill=[0, 128, 255])),
                         ("affine", dict(angle=5, translate=[10, -4], scale=0.9, shear=[3, 1], interpolation=IM.BILINEAR)),
                         ("perspective", dict(PERSPECTIVE)), ("pad", dict(padding=[20, 10], padding_mode="symmetric"))):
        cpu = getattr(T, name)(img, **kwargs)
        gpu = getattr(T, name)(img.cuda(), **kwargs).cpu()
        # grid_sampler's float32 arithmetic may contract differently on the GPU: 1 LSB at most.
        torch.testing.assert_close(gpu.int(), cpu.int(), rtol=0, atol=1)


def test_gradients_flow_like_torchvision():
    x = torch.rand(2, 3, 9, 11, dtype=torch.float64, requires_grad=True)
    # (torchvision's bilinear warps with a fill blend in place and cannot be differentiated; tvx's
    # can: gradcheck below.)
    for name, kwargs in (("affine", dict(angle=20, translate=[1, 2], scale=1.1, shear=[3], interpolation=IM.BILINEAR)),
                         ("rotate", dict(angle=40, expand=True, interpolation=IM.BILINEAR)),
                         ("perspective", dict(PERSPECTIVE, interpolation=IM.BILINEAR)),
                         ("pad", dict(padding=[2, 3], padding_mode="reflect")), ("crop", dict(top=-1, left=2, height=5, width=12)),
                         ("resized_crop", dict(top=1, left=1, height=6, width=7, size=[12, 5]))):
        (got,) = torch.autograd.grad(getattr(T, name)(x, **kwargs).square().sum(), x)
        (want,) = torch.autograd.grad(getattr(F, name)(x, **kwargs).square().sum(), x)
        torch.testing.assert_close(got, want, rtol=1e-12, atol=1e-12, msg=name)
    torch.autograd.gradcheck(lambda t: T.affine(t, 15, [1, 0], 1.2, [2], interpolation="bilinear", fill=[0.3]),
                             (torch.rand(1, 2, 5, 6, dtype=torch.float64, requires_grad=True),))


def test_opcheck():
    x = torch.rand(2, 3, 8, 9)
    u8 = (x * 255).to(torch.uint8)
    b = boxes("cpu")
    for op, args in ((torch.ops.tvx.affine.default, (u8, 20.0, [1.0, 2.0], 1.1, [3.0], "bilinear", [4.0], None)),
                     (torch.ops.tvx.rotate.default, (x, 33.0, "nearest", True, None, None)),
                     (torch.ops.tvx.perspective.default, (x, [1.1, 0.1, -2, -0.1, 1.3, -1, 0.001, 0.002], "bilinear", None)),
                     (torch.ops.tvx.pad.default, (u8, [1, 2, 3, 4], [1.0, 2.0, 3.0], "constant")),
                     (torch.ops.tvx.pad.default, (x, [1, 2], None, "symmetric")),
                     (torch.ops.tvx.crop.default, (x, -1, 2, 6, 12)), (torch.ops.tvx.center_crop.default, (x, [10, 4])),
                     (torch.ops.tvx.rotate90.default, (x, 3)), (torch.ops.tvx.horizontal_flip.default, (x,)),
                     (torch.ops.tvx.resize_mask.default, (u8[0], [12, 5], None)),
                     (torch.ops.tvx.clamp_bounding_boxes.default, (b, "CXCYWH", [60, 80], "soft")),
                     (torch.ops.tvx.affine_bounding_boxes.default, (b, "XYWH", [60, 80], 20.0, [1.0, 1.0], 1.0, [0.0], None, "soft")),
                     # the CPU's fused sampler, which the warps call (no gradient: the warps take ATen's chain then)
                     (torch.ops.tvx._warp_sample.default, (u8, torch.rand(1, 5, 7, 2) * 2 - 1, False, [3.0])),
                     (torch.ops.tvx._warp_affine_sample.default,
                      (x, torch.linspace(-3, 3, 7), torch.linspace(-2, 2, 5), torch.rand(3, 2), torch.rand(3, 2) + 1, True, None))):
        torch.library.opcheck(op, args)


def test_bad_inputs():
    x = torch.rand(3, 8, 8)
    b = boxes("cpu")
    for call, message in (
        (lambda: T.pad(x, [1, 2, 3]), "padding must have 1, 2 or 4 values, got 3"),
        (lambda: T.pad(x, [1], padding_mode="wrap"), "padding_mode must be constant, edge, reflect or symmetric"),
        (lambda: T.pad(x, [1], fill=[1, 2], padding_mode="edge"), "a fill of several values needs padding_mode constant"),
        (lambda: T.pad(x, [9], padding_mode="symmetric"), r"must be at most the image's size \[8, 8\]"),
        (lambda: T.affine(x, 0, [0, 0], 0.0, [0]), "scale must be positive, got 0"),
        (lambda: T.affine(x, 0, [0, 0], 1.0, [0], fill=[1, 2]), "fill has 2 values, the image 3 channels"),
        (lambda: T.rotate(x, 10, interpolation="bicubic"), "interpolation must be nearest or bilinear, got bicubic"),
        (lambda: T.rotate(torch.rand(8, 8), 10), r"image must have shape \[..., C, H, W\]"),
        (lambda: T.crop(x, 0, 0, -1, 3), "height and width must not be negative"),
        (lambda: T.center_crop(x, [1, 2, 3]), "output_size must have 1 or 2 values"),
        (lambda: T.perspective(x, [[0, 0]] * 4, [[0, 0]] * 4), "degenerate"),
        (lambda: T.elastic(x, torch.zeros(1, 8, 7, 2)), r"displacement must have shape \[1, 8, 8, 2\]"),
        (lambda: T.horizontal_flip_bounding_boxes(b[:, :3], "XYXY", CANVAS), r"boxes must have shape \[..., 4\]"),
        (lambda: T.clamp_bounding_boxes(b, "XYWHR", CANVAS), "format must be XYXY, XYWH or CXCYWH, got 'XYWHR'"),
        (lambda: T.clamp_bounding_boxes(b, "XYXY", CANVAS, "loose"), "clamping_mode must be soft, hard or None"),
        (lambda: T.clamp_bounding_boxes(b, "XYXY", (-1, 3)), "canvas_size must not be negative"),
        (lambda: T.perspective_bounding_boxes(b, "XYXY", CANVAS, None, None, coefficients=[0, 1, 0, 0, 0, 0, 0, 0]),
         "cannot be inverted"),
    ):
        with pytest.raises(RuntimeError, match=message):
            call()
    with pytest.raises(ValueError, match="not supported with bounding boxes"):
        T.pad_bounding_boxes(b, "XYXY", CANVAS, [1], padding_mode="edge")
    with pytest.raises(ValueError, match="Non-scalar fill"):
        T.pad_mask(x[0], [1], fill=[1, 2])


def test_empty():
    for name, kwargs in IMAGE_CASES:
        img = torch.empty(0, 3, 17, 23)
        if not _channels_ok(name, kwargs, img):
            continue
        assert getattr(T, name)(img, **kwargs).shape == getattr(F, name)(img, **kwargs).shape, name
    e = torch.empty(0, 4)
    for name in ("affine", "rotate", "perspective"):
        kwargs = dict(BOX_CASES[[n for n, _ in BOX_CASES].index(name)][1])
        fn = getattr(T, f"{name}_bounding_boxes")
        out = fn(e, "XYXY", CANVAS, **kwargs)
        assert (out[0] if isinstance(out, tuple) else out).shape == (0, 4)


# Two of the family on the shared operator contract, on CPU and CUDA.


CONTRACTS = {
    "rotate": Contract(
        op=torch.ops.tvx.rotate.default,
        make=lambda device, n, seed: (_image(device, n, seed), 27.0, "bilinear", True, None, [0.25]),
        oracle=lambda image, angle, mode, expand, center, fill: F.rotate(image, angle, IM(mode), expand, center, fill),
        grad_args=(0,), deterministic=False,  # grid_sampler's CUDA backward adds with atomics
        bad=[Bad("bicubic", lambda d: (torch.rand(3, 4, 4, device=d), 10.0, "bicubic", False, None, None),
                 "interpolation must be nearest or bilinear"),
             Bad("[H, W] image", lambda d: (torch.rand(4, 4, device=d), 10.0, "nearest", False, None, None),
                 r"must have shape \[..., C, H, W\]")]),
    "pad": Contract(
        op=torch.ops.tvx.pad.default,
        make=lambda device, n, seed: (_image(device, n, seed), [1, 2, 3, 1], None, "symmetric"),
        oracle=lambda image, padding, fill, mode: F.pad(image, padding, fill, mode),
        grad_args=(0,), deterministic=False,
        bad=[Bad("5 values", lambda d: (torch.rand(3, 4, 4, device=d), [1, 2, 3, 4, 5], None, "constant"),
                 "padding must have 1, 2 or 4 values")]),
}


@pytest.mark.parametrize("name,check", [(n, c) for n, contract in CONTRACTS.items() for c in contract.checks()])
def test_contract(name, check, device):
    CONTRACTS[name].run(check, device)


def test_review_cases(device):
    """Cases a review found: empty masks through pad, integer CXCYWH boxes through rotate90,
    torchvision's keyword names and Pillow's interpolation codes, exact integer fills, integer
    images through resized_crop, and clear errors for NaN angles and overflowing sizes."""
    for m in (torch.zeros(0, 10, 12, dtype=torch.uint8, device=device), torch.zeros(3, 0, 5, device=device)):
        assert T.pad_mask(m, [2]).shape == F.pad_mask(m, [2]).shape
        # (torchvision's edge padding refuses an empty image; tvx gives the padded empty shape)
        assert T.pad(m, [1, 2], padding_mode="edge").shape == F.pad(m, [1, 2]).shape
    b = torch.tensor([[5, 5, 3, 3], [7, 2, 4, 2]], device=device)
    for k in range(4):
        got, canvas = T.rotate90_bounding_boxes(b, "CXCYWH", (10, 20), k)
        want = F.rotate(tv_tensors.BoundingBoxes(b, format="CXCYWH", canvas_size=(10, 20)), 90.0 * k, expand=True)
        assert torch.equal(got, want.as_subclass(torch.Tensor)) and canvas == want.canvas_size, k
        back, _ = T.rotate90_bounding_boxes(got, "CXCYWH", canvas, 4 - k)
        assert torch.equal(back, b)
    xyxy = boxes(device)
    copy = xyxy.clone()
    assert T.convert_bounding_box_format(copy, "XYXY", "XYWH", inplace=True) is copy
    assert torch.equal(copy, F.convert_bounding_box_format(xyxy, old_format="XYXY", new_format="XYWH"))
    m = masks(device)[0]
    assert torch.equal(T.horizontal_flip_mask(mask=m), F.horizontal_flip_mask(mask=m))
    img = images(device)[0]
    assert torch.equal(T.rotate(img, 30, interpolation=2), F.rotate(img, 30, interpolation=2))
    ints = torch.zeros(3, 4, 4, dtype=torch.int32, device=device)
    assert torch.equal(T.pad(ints, [1], fill=[16777217, 0, 0]), F.pad(ints, [1], fill=[16777217, 0, 0]))
    i16 = (images(device)[0].to(torch.int16) * 100)
    torch.testing.assert_close(T.resized_crop(i16, 1, 2, 9, 11, [13, 7]), F.resized_crop(i16, 1, 2, 9, 11, [13, 7]),
                               rtol=0, atol=1 if device == "cuda" else 0)
    with pytest.raises(RuntimeError, match="not finite"):
        T.rotate(img, float("nan"), expand=True)
    with pytest.raises(RuntimeError, match="must fit in 64 bits"):
        T.crop(img, 2, 0, 2**63 - 1, 3)
    # a coefficient beyond float32's range is inf there, as torch.tensor makes it
    huge = [1e39, 0, 0, 0, 1, 0, 0, 0]
    assert torch.equal(T.perspective(img, None, None, coefficients=huge), F.perspective(img, None, None, coefficients=huge))
    with pytest.raises(RuntimeError, match="canvas_size must be positive"):
        T.resize_bounding_boxes(xyxy, (0, 7), [5, 5])


def _run_fresh(code: str, **env) -> subprocess.CompletedProcess:
    """code in a fresh interpreter (the CPU warps' check runs once, at a process's first warp)
    that imports the tvx this process imported, with env added."""
    package = os.path.dirname(os.path.dirname(tvx.__file__))
    env = dict(os.environ, **env, PYTHONPATH=os.pathsep.join([package, *filter(None, [os.environ.get("PYTHONPATH")])]))
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)


def test_cpu_warp_check_runs_outside_the_callers_transforms():
    """The first CPU warp of a process checks the fused sampler against ATen; inside a
    functorch transform (or a fake-tensor trace) that check must still see real tensors."""
    code = (
        "import torch, tvx, torchvision.transforms.v2.functional as F\n"
        "img = torch.arange(3 * 40 * 50).remainder(251).to(torch.uint8).view(3, 40, 50)\n"
        "f = lambda s: s * tvx.transforms.rotate(img, 17.0, interpolation='bilinear').float().mean()\n"
        "g = torch.func.grad(f)(torch.tensor(1.0))\n"
        "assert torch.equal(g, F.rotate(img, 17.0, interpolation=F.InterpolationMode.BILINEAR).float().mean())\n"
        "print('ok')\n")
    out = _run_fresh(code)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr[-2000:]
    out = _run_fresh("import torch, tvx\ntvx.transforms.rotate(torch.zeros(3, 8, 8), 10.0)\n", TVX_CPU_WARPS="bogus")
    assert out.returncode != 0 and "TVX_CPU_WARPS: expected stored-grid or aten, got bogus" in out.stderr


@pytest.mark.parametrize("force", ["stored-grid", "aten"])
def test_cpu_warp_fallbacks_give_torchvision_bits(force):
    """Where this machine's grid_sampler or BLAS sums otherwise than the fused sampler, the CPU
    warps fall back to the stored grid (bmm's) or to ATen's whole chain (each step is checked
    once against ATen on probe warps). TVX_CPU_WARPS forces each fallback: both must still give
    torchvision's bits."""
    code = (
        "import torch, tvx, torchvision.transforms.v2.functional as F\n"
        "from torchvision.transforms import InterpolationMode as IM\n"
        "g = torch.Generator().manual_seed(5)\n"
        "img = torch.randint(0, 256, (3, 61, 83), generator=g, dtype=torch.uint8)\n"
        "cases = [('affine', dict(angle=11, translate=[5, -3], scale=1.1, shear=[2, 3], interpolation=IM.BILINEAR, fill=[7, 8, 9])),\n"
        "         ('rotate', dict(angle=-29, expand=True, interpolation=IM.NEAREST, fill=[1])),\n"
        "         ('perspective', dict(startpoints=[[0, 0], [82, 0], [82, 60], [0, 60]], endpoints=[[3, 2], [80, 5], [79, 58], [1, 57]], interpolation=IM.BILINEAR))]\n"
        "for x in (img, img.float() / 3):\n"
        "    for name, kw in cases:\n"
        "        assert torch.equal(getattr(tvx.transforms, name)(x, **kw), getattr(F, name)(x, **kw)), (name, x.dtype)\n"
        "print('ok')\n")
    out = _run_fresh(code, TVX_CPU_WARPS=force)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr[-2000:]


def test_cpu_fused_sampler_equals_the_aten_chain():
    """On the CPU, uint8 and float32 warps without a gradient go through tvx's fused sampler
    (the grid computed point by point); with a gradient through ATen's grid_sampler chain. Both
    must give torchvision's bits, so each other's."""
    img = images("cpu")[3]
    x = img.float()
    for name, kwargs in (("affine", dict(angle=11, translate=[5, -3], scale=1.1, shear=[2, 3], interpolation=IM.BILINEAR, fill=[7, 8, 9])),
                         ("rotate", dict(angle=-29, expand=True, interpolation=IM.NEAREST, fill=[1])),
                         ("perspective", dict(PERSPECTIVE, interpolation=IM.BILINEAR))):
        fused = getattr(T, name)(x, **kwargs)
        chain = getattr(T, name)(x.clone().requires_grad_(), **kwargs).detach()
        assert torch.equal(fused, chain), name
        assert torch.equal(getattr(T, name)(img, **kwargs), getattr(F, name)(img, **kwargs)), name
