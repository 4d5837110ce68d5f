"""tvx.transforms.to_tensor / normalize against torchvision 0.26, on CPU and CUDA."""
import numpy as np
import pytest
import torch
import torchvision.transforms.functional as F

import tvx
from contract import Bad, Contract

MEAN, STD = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]


def image(device, n, seed, channels=3):
    g = torch.Generator().manual_seed(seed)
    return torch.randint(0, 256, (n, n + 3, channels), generator=g, dtype=torch.uint8).to(device)


def tv_to_tensor(img, layout="HWC"):
    """torchvision's to_tensor reads arrays as HWC; a CHW tensor is its pil_to_tensor layout."""
    hwc = img if layout == "HWC" else img.permute(1, 2, 0)
    return F.to_tensor(np.ascontiguousarray(hwc.cpu().numpy())).to(img.device)


TO_TENSOR = Contract(
    op=torch.ops.tvx.to_tensor.default,
    make=lambda device, n, seed: (image(device, n, seed), "HWC"),
    oracle=tv_to_tensor,
    bad=[
        Bad("float32 image", lambda d: (torch.rand(4, 4, 3, device=d), "HWC"), "tvx.to_tensor: image must be uint8, got float32"),
        Bad("1-D image", lambda d: (torch.zeros(4, dtype=torch.uint8, device=d), "HWC"), r"tvx.to_tensor: image must have shape \[H, W\]"),
        Bad("unknown layout", lambda d: (torch.zeros(4, 4, 3, dtype=torch.uint8, device=d), "WHC"),
            'tvx.to_tensor: layout must be "HWC" or "CHW", got "WHC"'),
        Bad("[3, 224, 224] read as HWC", lambda d: (torch.zeros(3, 224, 224, dtype=torch.uint8, device=d), "HWC"),
            'the layout is ambiguous; pass layout="CHW"'),
    ],
)

NORMALIZE = Contract(
    op=torch.ops.tvx.normalize.default,
    make=lambda device, n, seed: (torch.rand(2, 3, n, n + 1, generator=torch.Generator().manual_seed(seed)).to(device), MEAN, STD),
    oracle=F.normalize,
    grad_args=(0,),
    bad=[
        Bad("uint8 tensor", lambda d: (torch.zeros(3, 4, 4, dtype=torch.uint8, device=d), MEAN, STD),
            "tvx.normalize: tensor must be float32, float64, float16 or bfloat16, got uint8"),
        Bad("[4, 4] tensor", lambda d: (torch.rand(4, 4, device=d), MEAN, STD), r"tvx.normalize: tensor must have shape \[..., C, H, W\]"),
        Bad("2 channels, 3 means", lambda d: (torch.rand(2, 4, 4, device=d), MEAN, STD), "tvx.normalize: mean must have 1 or 2 values"),
        Bad("zero std", lambda d: (torch.rand(3, 4, 4, device=d), MEAN, [1.0, 0.0, 1.0]), "std evaluated to zero"),
    ],
)


@pytest.mark.parametrize("check", TO_TENSOR.checks())
def test_to_tensor_contract(check, device):
    TO_TENSOR.run(check, device)


@pytest.mark.parametrize("check", NORMALIZE.checks())
def test_normalize_contract(check, device):
    NORMALIZE.run(check, device)


def test_chw_tensor_keeps_its_shape(device):
    # The defect this guards: a CHW [3, 224, 224] uint8 tensor came back as [224, 3, 224].
    chw = torch.randint(0, 256, (3, 224, 224), dtype=torch.uint8, device=device)
    out = tvx.transforms.to_tensor(chw, layout="CHW")
    assert out.shape == (3, 224, 224)
    torch.testing.assert_close(out, tv_to_tensor(chw, "CHW"), rtol=0, atol=0)
    with pytest.raises(RuntimeError, match='ambiguous; pass layout="CHW"'):
        tvx.transforms.to_tensor(chw)
    with pytest.raises(RuntimeError, match='ambiguous; pass layout="HWC"'):
        tvx.transforms.to_tensor(chw.permute(1, 2, 0), layout="CHW")


@pytest.mark.parametrize("channels", [1, 2, 3, 4, 5])
def test_to_tensor_every_channel_count_and_view(device, channels):
    img = image(device, 33, channels, channels)
    want = tv_to_tensor(img)
    for got in (tvx.transforms.to_tensor(img),
                tvx.transforms.to_tensor(img.permute(2, 0, 1), layout="CHW"),           # a view, read through strides
                tvx.transforms.to_tensor(img.permute(2, 0, 1).contiguous(), layout="CHW")):
        assert got.is_contiguous()
        torch.testing.assert_close(got, want, rtol=0, atol=0)
    flipped = img.flip(1)
    torch.testing.assert_close(tvx.transforms.to_tensor(flipped), tv_to_tensor(flipped), rtol=0, atol=0)


def test_to_tensor_views_whose_channels_are_not_adjacent(device):
    # Interleaved-looking strides that are not: an expanded channel axis (stride 0) and a
    # channel axis sliced out of a wider buffer. Read through the strides, not as RGB triples.
    rgb = image(device, 24, 3)
    expanded = rgb[:, :, :1].expand(24, 27, 3)
    torch.testing.assert_close(tvx.transforms.to_tensor(expanded), tv_to_tensor(expanded), rtol=0, atol=0)
    wide = torch.randint(0, 256, (3, 24, 27, 3), dtype=torch.uint8, device=device)
    sliced = wide[:, :, :, 0].permute(1, 2, 0)
    torch.testing.assert_close(tvx.transforms.to_tensor(sliced), tv_to_tensor(sliced), rtol=0, atol=0)


def test_to_tensor_batch_and_gray(device):
    batch = torch.randint(0, 256, (3, 20, 30, 3), dtype=torch.uint8, device=device)
    out = tvx.transforms.to_tensor(batch)
    assert out.shape == (3, 3, 20, 30)
    for i in range(3):
        torch.testing.assert_close(out[i], tv_to_tensor(batch[i]), rtol=0, atol=0)
    gray = torch.randint(0, 256, (20, 30), dtype=torch.uint8, device=device)
    torch.testing.assert_close(tvx.transforms.to_tensor(gray), tv_to_tensor(gray[..., None]), rtol=0, atol=0)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.float16, torch.bfloat16])
def test_normalize_dtypes_match_torchvision(device, dtype):
    x = torch.rand(2, 3, 31, 47, device=device).to(dtype)
    torch.testing.assert_close(tvx.transforms.normalize(x, MEAN, STD), F.normalize(x, MEAN, STD), rtol=0, atol=0)


def test_normalize_in_place(device):
    x = torch.rand(2, 3, 33, 65, device=device)
    want = F.normalize(x, MEAN, STD)
    y = x.clone()
    assert tvx.transforms.normalize(y, MEAN, STD, inplace=True) is y
    torch.testing.assert_close(y, want, rtol=0, atol=0)
    z = x.clone().contiguous(memory_format=torch.channels_last)
    tvx.transforms.normalize(z, MEAN, STD, inplace=True)
    torch.testing.assert_close(z, want, rtol=0, atol=0)
    v = x.clone()
    version = v._version
    torch.ops.tvx.normalize_(v, MEAN, STD)
    assert v._version > version  # autograd sees the write


def test_normalize_in_place_with_autograd():
    x = torch.rand(1, 3, 4, 5, requires_grad=True)
    y = x * 2
    tvx.transforms.normalize(y, MEAN, STD, inplace=True)
    y.sum().backward()
    torch.testing.assert_close(x.grad, (2 / torch.tensor(STD)).view(1, 3, 1, 1).expand_as(x))


def test_compile_fullgraph(device):
    def pre(img):
        return tvx.transforms.normalize(tvx.transforms.to_tensor(img), MEAN, STD)

    compiled = torch.compile(pre, fullgraph=True, dynamic=True)
    for n in (20, 37):
        img = image(device, n, n)
        torch.testing.assert_close(compiled(img), F.normalize(tv_to_tensor(img), MEAN, STD), rtol=0, atol=0)
