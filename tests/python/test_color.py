"""The colour transforms against torchvision.transforms.v2.functional (0.26), on CPU and CUDA:
uint8 and float images, random and real photos, several factors, batches, errors. tvx computes
with ATen's operations in torchvision's order, so the results are equal, not merely close."""
import pytest
import torch
import torchvision.transforms.v2.functional as F
from torchvision.io import decode_jpeg, read_file

import tvx
from contract import Bad, Contract
from test_io import IMAGES


def images(device):
    g = torch.Generator().manual_seed(0)
    out = [torch.randint(0, 256, (3, 17, 23), generator=g, dtype=torch.uint8),
           torch.randint(0, 256, (2, 3, 9, 8), generator=g, dtype=torch.uint8),
           torch.randint(0, 256, (1, 12, 10), generator=g, dtype=torch.uint8),
           decode_jpeg(read_file(str(sorted((IMAGES / "photo-500").glob("*.jpg"))[0])))]
    out += [x.float() / 255 for x in out[:2]] + [x.to(torch.float16) / 255 for x in out[:2]] + \
        [x.to(torch.bfloat16) / 255 for x in out[:2]] + [x.float() / 255 for x in out[2:]]
    return [x.to(device) for x in out]


CASES = [
    ("adjust_brightness", dict(brightness_factor=0.0), "any"), ("adjust_brightness", dict(brightness_factor=1.7), "any"),
    ("adjust_contrast", dict(contrast_factor=0.3), "any"), ("adjust_contrast", dict(contrast_factor=2.2), "any"),
    ("adjust_saturation", dict(saturation_factor=0.0), "any"), ("adjust_saturation", dict(saturation_factor=1.9), "any"),
    ("adjust_sharpness", dict(sharpness_factor=0.2), "any"), ("adjust_sharpness", dict(sharpness_factor=3.0), "any"),
    ("adjust_hue", dict(hue_factor=-0.4), "any"), ("adjust_hue", dict(hue_factor=0.25), "any"),
    ("adjust_gamma", dict(gamma=0.5), "any"), ("adjust_gamma", dict(gamma=2.2, gain=1.3), "any"),
    ("posterize", dict(bits=3), "any"), ("posterize", dict(bits=8), "any"), ("posterize", dict(bits=0), "any"),
    ("solarize", dict(threshold=0.5), "float"), ("solarize", dict(threshold=128), "uint8"),
    ("solarize", dict(threshold=-1), "uint8"),
    ("autocontrast", dict(), "any"), ("equalize", dict(), "any"), ("invert", dict(), "any"),
    ("rgb_to_grayscale", dict(), "any"), ("rgb_to_grayscale", dict(num_output_channels=3), "any"),
    ("gaussian_blur", dict(kernel_size=[3, 5]), "any"), ("gaussian_blur", dict(kernel_size=[7, 7], sigma=[1.5, 0.7]), "any"),
]


@pytest.mark.parametrize("name,kwargs,kind", CASES, ids=[f"{n}-{'-'.join(map(str, k.values()))}-{t}" for n, k, t in CASES])
def test_equals_torchvision(name, kwargs, kind, device):
    ours, theirs = getattr(tvx.transforms, name), getattr(F, name)
    for img in images(device):
        if kind != "any" and (kind == "float") != img.is_floating_point():
            continue
        if name == "gaussian_blur" and min(img.shape[-2:]) <= 3:
            continue  # reflect padding needs more pixels than the kernel's half
        want = theirs(img, **kwargs)
        got = ours(img, **kwargs)
        assert got.shape == want.shape and got.dtype == want.dtype, (name, img.shape)
        if device == "cpu":
            torch.testing.assert_close(got, want, rtol=0, atol=0, msg=f"{name} {img.shape} {img.dtype}")
        else:  # the same operations; CUDA's reductions may associate differently
            torch.testing.assert_close(got.double(), want.double(), rtol=0, atol=1 if img.dtype == torch.uint8 else 1e-5)


@pytest.mark.parametrize("dtype", [torch.uint8, torch.int16, torch.float32, torch.float64, torch.uint16], ids=str)
@pytest.mark.parametrize("to", [torch.uint8, torch.int16, torch.int32, torch.float32, torch.float16, torch.uint16], ids=str)
@pytest.mark.parametrize("scale", [True, False])
def test_to_dtype(dtype, to, scale, device):
    g = torch.Generator().manual_seed(1)
    x = torch.rand(3, 5, 7, generator=g, dtype=torch.float64)
    x = x.to(dtype) if dtype.is_floating_point else (x * 250).to(dtype)
    x = x.to(device)
    try:
        want = F.to_dtype(x, to, scale=scale)
    except RuntimeError as e:
        # An unsafe conversion, or one without a kernel (uint16 on CUDA): tvx refuses it too.
        with pytest.raises(RuntimeError):
            tvx.transforms.to_dtype(x, to, scale=scale)
        assert "cannot be performed safely" in str(e) or device == "cuda", e
        return
    got = tvx.transforms.to_dtype(x, to, scale=scale)
    assert got.dtype == want.dtype
    torch.testing.assert_close(got, want, rtol=0, atol=0)


def test_gradients_flow_like_torchvision():
    """Where torchvision's transform is differentiable (hue's aminmax and sharpness's in-place
    blend are not, in torchvision either), tvx's gives the same gradient."""
    x = torch.rand(3, 8, 9, dtype=torch.float64, requires_grad=True)
    for name, kwargs in (("adjust_contrast", dict(contrast_factor=1.4)), ("adjust_brightness", dict(brightness_factor=0.7)),
                         ("adjust_saturation", dict(saturation_factor=1.6)), ("adjust_gamma", dict(gamma=1.7)),
                         ("gaussian_blur", dict(kernel_size=[3, 3])), ("rgb_to_grayscale", dict())):
        want = torch.autograd.grad(getattr(F, name)(x, **kwargs).sum(), x)[0]
        got = torch.autograd.grad(getattr(tvx.transforms, name)(x, **kwargs).sum(), x)[0]
        torch.testing.assert_close(got, want)


def test_solarize_integer_thresholds_are_exact():
    big = torch.tensor([[[16777216, 16777217, 16777218]]], dtype=torch.int32)
    assert torch.equal(tvx.transforms.solarize(big, 16777217), F.solarize(big, 16777217))
    with pytest.raises(RuntimeError, match="threshold should be at most"):
        tvx.transforms.solarize(big.long(), float(2 ** 63))  # torchvision refuses it too
    with pytest.raises((RuntimeError, OverflowError)):
        tvx.transforms.solarize(big.long(), 2 ** 63)  # not an int64 at all


def test_nan_factors_pass_as_in_torchvision():
    x = torch.rand(3, 6, 7)
    for name, kwargs in (("adjust_brightness", dict(brightness_factor=float("nan"))),
                         ("adjust_gamma", dict(gamma=float("nan"))), ("solarize", dict(threshold=float("nan")))):
        torch.testing.assert_close(getattr(tvx.transforms, name)(x, **kwargs), getattr(F, name)(x, **kwargs),
                                   rtol=0, atol=0, equal_nan=True)


def test_python_arguments_checked_as_torchvision():
    x = torch.rand(3, 6, 7)
    with pytest.raises(TypeError):
        tvx.transforms.posterize(x, 3.0)
    with pytest.raises(ValueError):
        tvx.transforms.gaussian_blur(x, [3])
    assert torch.equal(tvx.transforms.equalize((x[0] * 255).to(torch.uint8)), F.equalize((x[0] * 255).to(torch.uint8)))


def test_opcheck():
    x = torch.rand(2, 3, 6, 7)
    u8 = (x * 255).to(torch.uint8)
    for op, args in ((torch.ops.tvx.adjust_hue.default, (x, 0.2)), (torch.ops.tvx.equalize.default, (u8,)),
                     (torch.ops.tvx.gaussian_blur.default, (x, [3, 5], [0.8])), (torch.ops.tvx.to_dtype.default, (x, torch.uint8, True)),
                     (torch.ops.tvx.adjust_sharpness.default, (u8, 1.5)), (torch.ops.tvx.autocontrast.default, (x,)),
                     (torch.ops.tvx.adjust_contrast.default, (x, 0.5)), (torch.ops.tvx.rgb_to_grayscale.default, (x, 3))):
        torch.library.opcheck(op, args)


def test_bad_inputs():
    x = torch.rand(3, 8, 8)
    for call, message in (
        (lambda: tvx.transforms.adjust_brightness(x, -1), r"brightness_factor \(-1\) is not non-negative"),
        (lambda: tvx.transforms.adjust_hue(x, 0.7), r"hue_factor \(0.7\) is not in \[-0.5, 0.5\]"),
        (lambda: tvx.transforms.adjust_contrast(torch.rand(2, 8, 8), 1.0), "must have 1 or 3 channels, got 2"),
        (lambda: torch.ops.tvx.posterize(x, 9), r"bits must be an integer in \[0, 8\], got 9"),
        (lambda: tvx.transforms.solarize((x * 255).to(torch.uint8), 300), "threshold should be at most"),
        (lambda: tvx.transforms.gaussian_blur(x, [4, 3]), "odd and positive integers"),
        (lambda: tvx.transforms.gaussian_blur(x, [3, 3], [0.0]), "sigma should have positive values"),
        (lambda: tvx.transforms.rgb_to_grayscale(x, 2), "num_output_channels must be 1 or 3"),
        (lambda: tvx.transforms.invert(torch.rand(8, 8)), None),
    ):
        if message is None:
            call()  # torchvision's invert takes any shape
            continue
        with pytest.raises(RuntimeError, match=message):
            call()


# Two of the family on the shared operator contract (parity, opcheck, gradients, empty,
# strided and channels_last inputs, no autocast kernel, bad inputs), on CPU and CUDA.
def _float_image(device, n, seed):
    g = torch.Generator().manual_seed(seed)
    return torch.rand(min(n, 2), 3, n // 4 + 4, n // 3 + 5, generator=g).to(device)


CONTRACTS = {
    "adjust_contrast": Contract(
        op=torch.ops.tvx.adjust_contrast.default,
        make=lambda device, n, seed: (_float_image(device, n, seed), 1.7),
        oracle=lambda image, factor: F.adjust_contrast(image, factor),
        grad_args=(0,),
        bad=[Bad("2 channels", lambda d: (torch.rand(2, 4, 4, device=d), 1.0), "must have 1 or 3 channels, got 2"),
             Bad("negative factor", lambda d: (torch.rand(3, 4, 4, device=d), -1.0), "is not non-negative")]),
    "gaussian_blur": Contract(
        op=torch.ops.tvx.gaussian_blur.default,
        make=lambda device, n, seed: (_float_image(device, n, seed), [3, 5], [0.9, 1.3]),
        oracle=lambda image, k, s: F.gaussian_blur(image, k, s),
        grad_args=(0,),
        bad=[Bad("even kernel", lambda d: (torch.rand(3, 8, 8, device=d), [4, 3], None), "odd and positive integers"),
             Bad("[H, W] image", lambda d: (torch.rand(8, 8, device=d), [3, 3], None), r"must have shape \[..., C, H, W\]")]),
}


@pytest.mark.parametrize("name,check", [(n, c) for n, contract in CONTRACTS.items() for c in contract.checks()])
def test_contract(name, check, device):
    CONTRACTS[name].run(check, device)
