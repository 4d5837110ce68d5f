"""Box utilities against torchvision.ops 0.26, on CPU and CUDA: values (bit for bit: the same
ATen operations in the same order), dtype promotion, batched and empty inputs, gradients,
and errors."""
import pytest
import torch
import torchvision.ops as tvo

import tvx.ops as txo


def boxes(n, seed, dtype=torch.float32, device="cpu", batch=()):
    """Overlapping boxes, some degenerate (zero width, x2 < x1) and some identical."""
    g = torch.Generator().manual_seed(seed)
    xy = torch.rand(*batch, n, 2, generator=g, dtype=torch.float64) * 100
    wh = torch.rand(*batch, n, 2, generator=g, dtype=torch.float64) * 60
    b = torch.cat([xy, xy + wh], -1)
    if n > 3:
        b[..., 0, 2] = b[..., 0, 0]          # zero width
        b[..., 1, :] = b[..., 2, :]          # identical pair
        b[..., 3, 2] = b[..., 3, 0] - 5      # x2 < x1
    if not dtype.is_floating_point:
        b = b.round()
    return b.to(dtype=dtype, device=device)


DTYPES = [torch.float32, torch.float64, torch.float16, torch.int64, torch.int32, torch.uint8]
PAIRWISE = ["box_iou", "generalized_box_iou", "distance_box_iou", "complete_box_iou"]
LOSSES = ["generalized_box_iou_loss", "distance_box_iou_loss", "complete_box_iou_loss"]


def same(got, want):
    assert got.dtype == want.dtype and got.shape == want.shape and got.device == want.device
    torch.testing.assert_close(got, want, rtol=0, atol=0, equal_nan=True)


@pytest.mark.parametrize("name", PAIRWISE)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("batch", [(), (3,)])
def test_pairwise(device, name, dtype, batch):
    a, b = boxes(7, 0, dtype, device, batch), boxes(5, 1, dtype, device, batch)
    same(getattr(txo, name)(a, b), getattr(tvo, name)(a, b))
    same(getattr(txo, name)(a[..., :0, :], b), getattr(tvo, name)(a[..., :0, :], b))


@pytest.mark.parametrize("fmt", ["xyxy", "xywh", "cxcywh"])
@pytest.mark.parametrize("dtype", [torch.float32, torch.int64, torch.float16])
def test_area_and_iou_formats(device, fmt, dtype):
    a, b = boxes(6, 2, dtype, device), boxes(4, 3, dtype, device)
    same(txo.box_area(a, fmt), tvo.box_area(a, fmt))
    same(txo.box_iou(a, b, fmt), tvo.box_iou(a, b, fmt))


@pytest.mark.parametrize("name", LOSSES)
@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.int64])
def test_losses(device, name, reduction, dtype):
    a, b = boxes(9, 4, dtype, device), boxes(9, 5, dtype, device)
    for eps in (1e-7, 0.1):
        same(getattr(txo, name)(a, b, reduction, eps), getattr(tvo, name)(a, b, reduction, eps))
    same(getattr(txo, name)(a[:0], b[:0], reduction), getattr(tvo, name)(a[:0], b[:0], reduction))


@pytest.mark.parametrize("name", PAIRWISE + LOSSES)
def test_gradients_equal_torchvision_s(device, name):
    a, b = boxes(6, 6, torch.float64, device), boxes(6, 7, torch.float64, device)
    grads = []
    for fn in (getattr(txo, name), getattr(tvo, name)):
        x, y = a.clone().requires_grad_(), b.clone().requires_grad_()
        out = fn(x, y)
        out.nan_to_num().sum().backward()
        grads.append((x.grad, y.grad))
    for ours, theirs in zip(*grads):  # the losses mask with where() where torchvision indexes: 1 ulp apart
        torch.testing.assert_close(ours, theirs, rtol=1e-14, atol=1e-16, equal_nan=True)
    x = torch.tensor([[0, 0, 10, 12], [3, 2, 20, 9.0], [5, 5, 9, 30]], dtype=torch.float64, device=device)
    y = torch.tensor([[1, 1, 11, 10], [4, 0, 18, 12], [6, 7, 10, 25.0]], dtype=torch.float64, device=device)
    if name not in ("complete_box_iou", "complete_box_iou_loss"):  # alpha is detached: not the full derivative
        assert torch.autograd.gradcheck(getattr(txo, name), (x.requires_grad_(), y.requires_grad_()))


CONVERSIONS = [("xyxy", "xywh"), ("xyxy", "cxcywh"), ("xywh", "xyxy"), ("cxcywh", "xyxy"), ("xywh", "cxcywh"),
               ("cxcywh", "xywh"), ("xyxy", "xyxy"), ("xywhr", "cxcywhr"), ("cxcywhr", "xywhr"),
               ("xywhr", "xyxyxyxy"), ("xyxyxyxy", "xywhr"), ("cxcywhr", "xyxyxyxy"), ("xyxyxyxy", "cxcywhr")]


@pytest.mark.parametrize("conversion", CONVERSIONS, ids=lambda c: f"{c[0]}-{c[1]}")
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.int64])
def test_box_convert(device, conversion, dtype):
    in_fmt, out_fmt = conversion
    width = {"xywhr": 5, "cxcywhr": 5, "xyxyxyxy": 8}.get(in_fmt, 4)
    g = torch.Generator().manual_seed(9)
    b = (torch.rand(2, 11, width, generator=g, dtype=torch.float64) * 90).to(dtype=dtype, device=device)
    if in_fmt == "xyxyxyxy":  # the corners of rotated boxes
        xywhr = torch.rand(2, 11, 5, generator=g, dtype=torch.float64) * 90
        b = tvo.box_convert(xywhr, "xywhr", "xyxyxyxy").to(dtype=dtype, device=device)
    same(txo.box_convert(b, in_fmt, out_fmt), tvo.box_convert(b, in_fmt, out_fmt))


@pytest.mark.parametrize("dtype", [torch.float32, torch.int64])
def test_clip_remove_masks(device, dtype):
    b = boxes(20, 10, dtype, device) - 30
    for size in [(50, 80), (0, 0), (1000, 1000)]:
        same(txo.clip_boxes_to_image(b, size), tvo.clip_boxes_to_image(b, size))
    same(txo.clip_boxes_to_image(b.view(4, 5, 4), (40, 60)), tvo.clip_boxes_to_image(b.view(4, 5, 4), (40, 60)))
    for min_size in (0.0, 5.0, 30.0, 1e9):
        same(txo.remove_small_boxes(b, min_size), tvo.remove_small_boxes(b, min_size))
    masks = torch.zeros(5, 20, 30, dtype=torch.uint8, device=device)
    masks[0, 3:9, 4:20] = 1
    masks[1, 0, 0] = 7
    masks[2, 19, 29] = 1
    masks[4, 5:6, 2:28:3] = 1                     # masks[3] stays empty
    same(txo.masks_to_boxes(masks), tvo.masks_to_boxes(masks))
    same(txo.masks_to_boxes(masks.bool()), tvo.masks_to_boxes(masks.bool()))
    same(txo.masks_to_boxes(masks[:0]), tvo.masks_to_boxes(masks[:0]))


@pytest.mark.parametrize("alpha,gamma", [(0.25, 2), (-1, 0), (0.0, 1.5), (1.0, 3)])
@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_sigmoid_focal_loss(device, alpha, gamma, reduction):
    g = torch.Generator().manual_seed(11)
    x = (torch.randn(6, 9, generator=g, dtype=torch.float64) * 4).to(device).requires_grad_()
    t = (torch.rand(6, 9, generator=g) > 0.7).double().to(device)
    ours = txo.sigmoid_focal_loss(x, t, alpha, gamma, reduction)
    (gx,) = torch.autograd.grad(ours.sum(), x)
    theirs = tvo.sigmoid_focal_loss(x, t, alpha, gamma, reduction)
    (tx,) = torch.autograd.grad(theirs.sum(), x)
    same(ours.detach(), theirs.detach())
    same(gx, tx)


def test_errors_name_the_op(device):
    b = boxes(5, 12, device=device)
    with pytest.raises(ValueError, match="tvx.box_iou: fmt must be 'xyxy', 'xywh' or 'cxcywh', got 'xy'"):
        txo.box_iou(b, b, "xy")
    with pytest.raises(RuntimeError, match=r"tvx.box_area: boxes must have shape \[\.\.\., 4\], got \[5, 3\]"):
        txo.box_area(b[:, :3])
    with pytest.raises(ValueError, match="tvx.generalized_box_iou_loss: reduction must be 'none', 'mean' or 'sum'"):
        txo.generalized_box_iou_loss(b, b, "avg")
    with pytest.raises(ValueError, match="tvx.box_convert: in_fmt and out_fmt must be"):
        txo.box_convert(b, "xyxy", "yxyx")
    with pytest.raises(NotImplementedError, match="no conversion between axis-aligned and rotated"):
        txo.box_convert(b, "xyxy", "xywhr")
    with pytest.raises(ValueError, match=r"tvx.sigmoid_focal_loss: alpha must be in \[0, 1\] or -1"):
        txo.sigmoid_focal_loss(b, b, 2.0)
    with pytest.raises(RuntimeError, match=r"tvx.masks_to_boxes: masks must have shape \[N, H, W\]"):
        txo.masks_to_boxes(torch.ones(4, 5, device=device))


def test_torch_compile_traces_them():
    a, b = boxes(8, 13), boxes(6, 14)
    fn = torch.compile(lambda x, y: txo.generalized_box_iou(x, y) + txo.box_iou(x, y), fullgraph=True)
    same(fn(a, b), tvo.generalized_box_iou(a, b) + tvo.box_iou(a, b))
