"""The roi family (roi_align, roi_pool, ps_roi_align, ps_roi_pool) against torchvision 0.26,
on CPU and CUDA: the shared contract, then each op's own cases."""
import os
import subprocess
import sys

import pytest
import torch
import torchvision

import tvx
from conftest import CUDA
from contract import Bad, Contract, deterministic

tv = torch.ops.torchvision
tx = torch.ops.tvx

N, C, H, W = 2, 8, 24, 32       # roi_align / roi_pool input
PS_C = 2 * 3 * 4                # ps ops: 2 output channels of 3 x 4 bins
SCALE = 0.5


def detector_rois(n, seed, batch=N, height=H / SCALE, width=W / SCALE, dtype=torch.float32, device="cpu",
                  awkward=True):
    """RoIs as a detector's second stage sees them: boxes jittered around a few objects,
    plus the awkward ones: partly and wholly outside the image, x2 < x1, zero size."""
    g = torch.Generator().manual_seed(seed)
    objects = max(1, n // 20)
    centre = torch.rand(objects, 2, generator=g, dtype=torch.float64) * torch.tensor([width, height])
    size = (0.1 + torch.rand(objects, 2, generator=g, dtype=torch.float64)) * torch.tensor([width, height]) / 3
    pick = torch.randint(0, objects, (n,), generator=g)
    c = centre[pick] + torch.randn(n, 2, generator=g, dtype=torch.float64) * size[pick] / 6
    s = size[pick] * (0.7 + 0.6 * torch.rand(n, 2, generator=g, dtype=torch.float64))
    boxes = torch.cat([c - s / 2, c + s / 2], 1)
    odd = torch.rand(n, generator=g) if awkward else torch.ones(n)
    boxes[odd < 0.05] += torch.tensor([width, height, width, height], dtype=torch.float64)  # outside
    boxes[(odd >= 0.05) & (odd < 0.08)] = boxes[(odd >= 0.05) & (odd < 0.08)][:, [2, 3, 0, 1]]  # x2 < x1
    boxes[(odd >= 0.08) & (odd < 0.1), 2:] = boxes[(odd >= 0.08) & (odd < 0.1), :2]  # empty
    index = torch.randint(0, batch, (n, 1), generator=g).double()
    return torch.cat([index, boxes], 1).to(dtype=dtype, device=device)


def feature_map(channels, seed, device, dtype=torch.float32):
    g = torch.Generator().manual_seed(100 + seed)
    return torch.randn(N, channels, H, W, generator=g, dtype=torch.float64).to(dtype=dtype, device=device)


def native_args(args):
    """What the native autocast kernels hand on: the RoIs in float32, the rest unchanged."""
    return (args[0], args[1].float()) + tuple(args[2:])


def bad_inputs(op, extra, channels=C):
    x = lambda d: feature_map(channels, 0, d)  # noqa: E731
    r = lambda d: detector_rois(4, 0, device=d)  # noqa: E731
    name = op.__name__.split(".")[0] if hasattr(op, "__name__") else op
    return [
        Bad("input rank 3", lambda d: (x(d)[0], r(d), SCALE, 3, 4) + extra, r"input must have shape \[N, C, H, W\]"),
        Bad("rois [K, 4]", lambda d: (x(d), r(d)[:, 1:], SCALE, 3, 4) + extra, r"rois must have shape \[K, 5\]"),
        Bad("int input", lambda d: (x(d).int(), r(d), SCALE, 3, 4) + extra, "input must be float32"),
        Bad("float64 rois", lambda d: (x(d), r(d).double(), SCALE, 3, 4) + extra, "rois must be float32"),
        Bad("negative size", lambda d: (x(d), r(d), SCALE, -3, 4) + extra, "pooled_height and pooled_width must be positive"),
        Bad("nan scale", lambda d: (x(d), r(d), float("nan"), 3, 4) + extra, "spatial_scale must be finite"),
        Bad("batch index", lambda d: (x(d), r(d) + torch.tensor([5.0, 0, 0, 0, 0], device=d), SCALE, 3, 4) + extra,
            r"rois\[:, 0\] must be batch indices in \[0, 2\)", cpu_only=True),
    ]


def contract(name, channels, extra, **kw):
    op = getattr(tx, name).default
    ours = Contract(
        op=op,
        make=lambda device, n, seed: (feature_map(channels, seed, device), detector_rois(n, seed, device=device), SCALE,
                                      3, 4) + extra,
        oracle=getattr(tv, name),
        torchvision=name,
        schemas=(f"_{name}_backward",),
        rtol=1e-5, atol=1e-5,
        grad_args=(0,),
        nondet_tol=1e-12,  # CUDA adds the input's gradient with atomics (unless deterministic)
        autocast_native=True,
        native_args=native_args,
        bad=bad_inputs(name, extra, channels) + kw.pop("bad", []),
        # ps_roi_align averages an empty RoI to 0/0 = NaN (as torchvision): no gradcheck there.
        make_smooth=lambda device, n, seed: (feature_map(channels, seed, device),
                                             detector_rois(n, seed, device=device, awkward=False), SCALE, 3, 4) + extra,
        **kw)
    return ours


ROI_ALIGN = [contract("roi_align", C, (sr, aligned)) for sr, aligned in [(2, True), (0, False), (0, True), (1, False)]]
ROI_POOL = contract("roi_pool", C, ())
PS_ROI_ALIGN = [contract("ps_roi_align", PS_C, (sr,)) for sr in (2, 0)]
PS_ROI_POOL = contract("ps_roi_pool", PS_C, ())
PS_ROI_POOL.bad.append(Bad("channels", lambda d: (feature_map(10, 0, d), detector_rois(3, 0, device=d), SCALE, 3, 4),
                           "input channels must be a multiple of pooled_height \\* pooled_width = 12"))

CASES = ([(f"roi_align_sr{c.make('cpu', 1, 0)[5]}_{'aligned' if c.make('cpu', 1, 0)[6] else 'legacy'}", c)
          for c in ROI_ALIGN] + [("roi_pool", ROI_POOL)]
         + [(f"ps_roi_align_sr{c.make('cpu', 1, 0)[5]}", c) for c in PS_ROI_ALIGN] + [("ps_roi_pool", PS_ROI_POOL)])


@pytest.mark.parametrize("case,check", [(name, check) for name, c in CASES for check in c.checks()])
def test_contract(case, check, device):
    dict(CASES)[case].run(check, device)


# --- gradients against torchvision's backward operators ----------------------------------

@pytest.mark.parametrize("sr,aligned", [(2, True), (0, False), (-1, True)])
def test_roi_align_gradient_matches_torchvision(device, sr, aligned):
    x = feature_map(C, 1, device)
    rois = detector_rois(200, 1, device=device)
    grad = torch.randn(200, C, 7, 7, device=device)
    args = (grad, rois, SCALE, 7, 7, N, C, H, W, sr, aligned)
    want = tv._roi_align_backward(*args)
    got = tx._roi_align_backward(*args)
    torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-5)
    if device == "cpu":  # same additions in the same order
        assert torch.equal(got, want)


def test_roi_pool_and_ps_gradients_match_torchvision(device):
    x = feature_map(PS_C, 2, device)
    rois = detector_rois(150, 2, device=device)
    out, argmax = tv.roi_pool(x, rois, SCALE, 3, 4)
    grad = torch.randn_like(out)
    torch.testing.assert_close(tx._roi_pool_backward(grad, rois, argmax, SCALE, 3, 4, N, PS_C, H, W),
                               tv._roi_pool_backward(grad, rois, argmax, SCALE, 3, 4, N, PS_C, H, W))
    out, mapping = tv.ps_roi_align(x, rois, SCALE, 3, 4, 2)
    grad = torch.randn_like(out)
    torch.testing.assert_close(tx._ps_roi_align_backward(grad, rois, mapping, SCALE, 3, 4, 2, N, PS_C, H, W),
                               tv._ps_roi_align_backward(grad, rois, mapping, SCALE, 3, 4, 2, N, PS_C, H, W),
                               rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("layout", ["contiguous", "offset", "strided", "channels_last"])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float16])
def test_roi_pool_ties_nan_and_wide_rois_match_torchvision(device, layout, dtype):
    """roi_pool's maximum and argmax where they are easy to get wrong: ties everywhere (a map of
    three values: the first maximum in row-major order wins; -0 beside +0, the first with its
    sign), NaN and -inf (skipped, as by torchvision's comparison), a channel of -inf only
    (-FLT_MAX, argmax -1), RoIs wider than 32 columns, pooled widths of 1, 33 and 40, and 7
    channels, then 1 (the CUDA kernel pools four channels a thread on NCHW input: the last
    thread has three; a 1-channel input has stride(1) == 1 but is not channels_last). Layouts:
    contiguous, a view one column in (unit stride, odd storage offset), strided,
    channels_last."""
    g = torch.Generator().manual_seed(7)
    x = torch.randint(0, 3, (2, 7, 40, 150), generator=g).double()
    x[0, 0, 3:9, 10:20] = float("nan")
    x[1, 1, :, 50:60] = float("-inf")
    x[1, 2] = float("-inf")
    x[0, 3, 5:25] = -x[0, 3, 5:25]  # values 0, -1, -2: the maxima there are zeros, -0 ...
    x[0, 3, 5:25, 0::3] += 0.0  # ... and +0 in every third column: the first zero wins, with its sign
    x = x.to(dtype=dtype, device=device)
    if layout == "strided":
        x = x[..., ::2]
    elif layout == "offset":
        x = x[..., 1:]
    elif layout == "channels_last":
        x = x.contiguous(memory_format=torch.channels_last)
    width = x.shape[-1]
    rois = detector_rois(120, 4, batch=2, height=40.0, width=float(width), device=device)
    wide = torch.tensor([[0, 0.0, 0.0, width - 1.0, 39.0], [1, 3.0, 1.0, 70.0, 30.0], [1, 30.0, 2.0, 33.0, 38.0]],
                        device=device)
    rois = torch.cat([rois, wide]).to(dtype)
    cases = [(x, ph, pw) for ph, pw in [(7, 7), (2, 1), (5, 33), (3, 40)]] + [(x[:, 2:3], 7, 7)]
    minus_inf = (rois[:, 0] == 1).nonzero()[:, 0]
    assert minus_inf.numel() > 0  # channel 2 of image 1 is all -inf: -FLT_MAX, argmax -1
    for inp, ph, pw in cases:
        out, arg = tx.roi_pool(inp, rois, 1.0, ph, pw)
        # float16 against torchvision's float32 on the same values (-FLT_MAX rounds to -inf):
        # tvx computes a RoI's bins in float32 (its opmath type), torchvision's CPU kernel in float16.
        want, want_arg = tv.roi_pool(inp.float(), rois.float(), 1.0, ph, pw)
        torch.testing.assert_close(out, want.to(dtype), rtol=0, atol=0, equal_nan=True, msg=f"{ph}x{pw}")
        assert torch.equal(out.signbit(), want.to(dtype).signbit()), f"{ph}x{pw}"
        if inp.shape[1] > 3:
            assert ((want == 0) & want.signbit()).any() and ((want == 0) & ~want.signbit()).any()
        assert torch.equal(arg, want_arg), f"{ph}x{pw}"
        assert (arg[minus_inf, 2 if inp.shape[1] > 1 else 0] == -1).all()


def test_ps_roi_pool_gradient_is_the_forward_s(device):
    """torchvision's ps_roi_pool pools bins clipped to H - 1 but spreads their gradient over
    bins clipped to H: at the last row and column its gradient is not its forward's. tvx's
    is: equal to torchvision's away from that edge, and to finite differences everywhere."""
    x = feature_map(PS_C, 3, device, torch.float64)
    inside = torch.tensor([[0, 4.0, 4.0, 30.0, 26.0], [1, 10.0, 2.0, 40.0, 40.0]], dtype=torch.float64, device=device)
    _, mapping = tv.ps_roi_pool(x, inside, SCALE, 3, 4)
    grad = torch.randn(2, 2, 3, 4, dtype=torch.float64, device=device)
    torch.testing.assert_close(tx._ps_roi_pool_backward(grad, inside, mapping, SCALE, 3, 4, N, PS_C, H, W),
                               tv._ps_roi_pool_backward(grad, inside, mapping, SCALE, 3, 4, N, PS_C, H, W))
    edge = torch.tensor([[0, 0.0, 0.0, 2.0 * W, 2.0 * H]], dtype=torch.float64, device=device)
    xr = x.clone().requires_grad_()
    assert torch.autograd.gradcheck(lambda t: tx.ps_roi_pool(t, edge, SCALE, 3, 4)[0], (xr,))
    _, mapping = tv.ps_roi_pool(x, edge, SCALE, 3, 4)
    grad = torch.ones(1, 2, 3, 4, dtype=torch.float64, device=device)
    theirs = tv._ps_roi_pool_backward(grad, edge, mapping, SCALE, 3, 4, N, PS_C, H, W)
    ours = tx._ps_roi_pool_backward(grad, edge, mapping, SCALE, 3, 4, N, PS_C, H, W)
    assert not torch.equal(ours, theirs) and ours[:, :, H - 1].abs().sum() == 0


# --- reduced precision --------------------------------------------------------------------

@pytest.mark.parametrize("dtype,tol", [(torch.float16, 2 ** -10), (torch.bfloat16, 2 ** -7)])
@pytest.mark.parametrize("name,channels,extra", [("roi_align", C, (2, True)), ("roi_pool", C, ()),
                                                 ("ps_roi_align", PS_C, (0,)), ("ps_roi_pool", PS_C, ())])
def test_reduced_precision_is_float32_rounded_once(device, dtype, tol, name, channels, extra):
    """float16/bfloat16 inputs are read as they are and summed in float32: the result is the
    float32 result on the same values, rounded once (documented tolerance: 1 ulp relative)."""
    x = feature_map(channels, 4, device).to(dtype)
    rois = detector_rois(100, 4, device=device)
    op = getattr(tx, name)
    got = op(x, rois, SCALE, 3, 4, *extra)
    want = op(x.float(), rois, SCALE, 3, 4, *extra)
    got, want = (got[0], want[0]) if isinstance(got, tuple) else (got, want)
    assert got.dtype == dtype
    torch.testing.assert_close(got.float(), want, rtol=tol, atol=tol * want.nan_to_num().abs().max().item(),
                               equal_nan=True)
    xr = x.detach().requires_grad_()
    out = op(xr, rois, SCALE, 3, 4, *extra)
    (out[0] if isinstance(out, tuple) else out).float().sum().backward()
    xf = x.float().requires_grad_()
    out = op(xf, rois, SCALE, 3, 4, *extra)
    (out[0] if isinstance(out, tuple) else out).sum().backward()
    assert xr.grad.dtype == dtype
    torch.testing.assert_close(xr.grad.float(), xf.grad, rtol=tol, atol=tol * xf.grad.abs().max().item())


# --- autograd -----------------------------------------------------------------------------

def test_double_backward_is_a_clear_error(device):
    x = feature_map(C, 5, device, torch.float64).requires_grad_()
    rois = detector_rois(20, 5, dtype=torch.float64, device=device)
    w = torch.randn(C, 3, 4, dtype=torch.float64, device=device, requires_grad=True)
    loss = (tvx.ops.roi_align(x, rois, (3, 4), SCALE, 2, True) * w).sum()
    # Recording the backward (grad depends on w) is where a second derivative would begin.
    with pytest.raises(RuntimeError, match="tvx._roi_align_backward: double backward is not supported"):
        torch.autograd.grad(loss, x, create_graph=True)
    (g,) = torch.autograd.grad(loss, x)  # a first derivative still works
    assert g.shape == x.shape


class _DropsGradient(torch.autograd.Function):
    """The identity, whose backward gives no gradient: the op before it gets an undefined one."""

    @staticmethod
    def forward(ctx, a):
        return a.clone()

    @staticmethod
    def backward(ctx, g):
        return None


@pytest.mark.parametrize("name,extra", [("roi_align", (2, True)), ("roi_pool", ()), ("ps_roi_align", (2,)),
                                        ("ps_roi_pool", ())])
def test_undefined_output_gradient_gives_none(device, name, extra):
    """The ops leave gradients unmaterialised (no zero gradient filled for their index output
    on every backward): an undefined gradient of the output is a zero gradient of the input,
    and a defined one still flows."""
    x = feature_map(PS_C, 8, device, torch.float64).requires_grad_()
    rois = detector_rois(12, 8, dtype=torch.float64, device=device)

    def run(ns, inp):  # the op's pooled output (not its index output)
        out = getattr(ns, name)(inp, rois, SCALE, 3, 4, *extra)
        return out[0] if isinstance(out, (tuple, list)) else out

    out = run(tx, x)
    (_DropsGradient.apply(out).sum() + (3 * x).sum()).backward()
    torch.testing.assert_close(x.grad, torch.full_like(x, 3.0))
    x.grad = None
    # The op's backward gets an undefined gradient and gives none (a materialised zero would
    # have given zeros here).
    assert torch.autograd.grad(_DropsGradient.apply(run(tx, x)).sum(), x, allow_unused=True) == (None,)
    out = run(tx, x)
    g = torch.randn_like(out)
    (out * g).sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    if name != "ps_roi_pool":  # torchvision's ps_roi_pool gradient differs at the edge (see its test)
        xt = x.detach().requires_grad_()
        (run(tv, xt) * g).sum().backward()
        torch.testing.assert_close(x.grad, xt.grad)


def test_python_wrappers_take_torchvision_arguments(device):
    x = feature_map(PS_C, 6, device)
    boxes = [detector_rois(5, 6, device=device)[:, 1:], detector_rois(3, 7, device=device)[:, 1:]]
    rois = torchvision.ops._utils.convert_boxes_to_roi_format(boxes)
    for ours, theirs, kw in [(tvx.ops.roi_align, torchvision.ops.roi_align, dict(sampling_ratio=2, aligned=True)),
                             (tvx.ops.roi_pool, torchvision.ops.roi_pool, {}),
                             (tvx.ops.ps_roi_align, torchvision.ops.ps_roi_align, dict(sampling_ratio=2)),
                             (tvx.ops.ps_roi_pool, torchvision.ops.ps_roi_pool, {})]:
        for b in (boxes, rois):
            torch.testing.assert_close(ours(x, b, (3, 4), SCALE, **kw), theirs(x, b, (3, 4), SCALE, **kw),
                                       rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.float16, torch.bfloat16])
@pytest.mark.parametrize("sr,aligned", [(2, True), (0, False)])
def test_cpu_roi_align_on_channels_last_equals_contiguous(dtype, sr, aligned):
    """The CPU's channels_last roi_align (all channels of a bin at once, vectorised) gives the
    contiguous kernel's values bit for bit, at a channel count no vector width divides."""
    x = torch.randn(N, 37, H, W, dtype=dtype)
    rois = detector_rois(60, 12, dtype=torch.float64 if dtype == torch.float64 else torch.float32)
    want = tx.roi_align(x, rois, SCALE, 3, 4, sr, aligned)
    got = tx.roi_align(x.contiguous(memory_format=torch.channels_last), rois, SCALE, 3, 4, sr, aligned)
    assert torch.equal(got, want)


@pytest.mark.parametrize("channels", [1, 2, 3, 7, 8, 9, 16, 37])
@pytest.mark.parametrize("sr,aligned", [(2, True), (0, False)])
def test_cpu_roi_align_channel_blocks_match_torchvision(channels, sr, aligned):
    """The CPU's NCHW roi_align takes channels in blocks of up to 8 (a sample's geometry shared
    by the block; narrower blocks for fewer channels and the last block): channel counts
    below, at, between and above whole blocks equal torchvision, and a strided view and an
    expanded map equal their contiguous copies bit for bit."""
    x = feature_map(channels, 5, "cpu")
    rois = detector_rois(40, 13)
    want = tv.roi_align(x, rois, SCALE, 3, 4, sr, aligned)
    got = tx.roi_align(x, rois, SCALE, 3, 4, sr, aligned)
    assert torch.equal(got, want)  # same operations in the same order
    wide = feature_map(2 * channels, 5, "cpu")[:, ::2]  # channel stride 2 planes
    assert torch.equal(tx.roi_align(wide, rois, SCALE, 3, 4, sr, aligned),
                       tx.roi_align(wide.contiguous(), rois, SCALE, 3, 4, sr, aligned))
    expanded = feature_map(1, 5, "cpu").expand(-1, channels, -1, -1)  # channel stride 0
    assert torch.equal(tx.roi_align(expanded, rois, SCALE, 3, 4, sr, aligned),
                       tx.roi_align(expanded.contiguous(), rois, SCALE, 3, 4, sr, aligned))


@pytest.mark.parametrize("out_channels", [1, 3, 9])
def test_cpu_ps_roi_align_channel_blocks_match_torchvision(out_channels):
    """ps_roi_align's NCHW blocks: output channels c .. c + 7 of a bin read input channels
    PH * PW apart; block tails and a channels_last copy (its per-channel path) agree."""
    x = feature_map(out_channels * 12, 6, "cpu")
    rois = detector_rois(40, 14)
    for sr in (2, 0):
        want = tv.ps_roi_align(x, rois, SCALE, 3, 4, sr)
        got = tx.ps_roi_align(x, rois, SCALE, 3, 4, sr)
        torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-5, equal_nan=True)
        cl = tx.ps_roi_align(x.contiguous(memory_format=torch.channels_last), rois, SCALE, 3, 4, sr)
        torch.testing.assert_close(cl, got, rtol=0, atol=0, equal_nan=True)


@pytest.mark.parametrize("channels", [20, 14])  # blocks of 8, 8, 4 and of 8, 6
def test_cpu_roi_align_blocks_across_threads(channels):
    """Enough RoIs and channels that the blocks split over two or more threads: the same
    values as one thread and as torchvision."""
    x = feature_map(channels, 7, "cpu")
    rois = detector_rois(600, 15)
    threads = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        one = tx.roi_align(x, rois, SCALE, 7, 7, 2, True)
        torch.set_num_threads(max(threads, 2))
        many = tx.roi_align(x, rois, SCALE, 7, 7, 2, True)
    finally:
        torch.set_num_threads(threads)
    assert torch.equal(many, one)
    assert torch.equal(many, tv.roi_align(x, rois, SCALE, 7, 7, 2, True))


# --- CUDA only ----------------------------------------------------------------------------

@pytest.mark.skipif(not CUDA, reason="no CUDA device")
def test_cuda_matches_cpu_on_a_detector_batch():
    x = torch.randn(2, 64, 50, 76)
    rois = detector_rois(1000, 8, height=200.0, width=304.0)
    want = tx.roi_align(x, rois, 0.25, 7, 7, 2, True)
    got = tx.roi_align(x.cuda(), rois.cuda(), 0.25, 7, 7, 2, True)
    torch.testing.assert_close(got.cpu(), want, rtol=1e-4, atol=1e-4)  # nvcc fuses multiply-adds
    cl = tx.roi_align(x.cuda().contiguous(memory_format=torch.channels_last), rois.cuda(), 0.25, 7, 7, 2, True)
    assert torch.equal(cl, got)


def atomic_equals_deterministic(name, extra, dtype, channels, h, w, against_cpu=(torch.float32, torch.float64),
                                poison=False):
    """The default CUDA backward against the ordered scatter of use_deterministic_algorithms
    (and, in the dtypes `against_cpu`, the CPU's), on an N x channels x h x w map. poison:
    some gradient values are inf, -inf or NaN, which must land on the same pixels in both."""
    x = torch.randn(N, channels, h, w, device="cuda", dtype=dtype)
    rois = detector_rois(300, 11, height=h / SCALE, width=w / SCALE, device="cuda",
                         dtype=torch.float64 if dtype == torch.float64 else torch.float32)
    out = getattr(tx, name)(x, rois, SCALE, 3, 4, *extra)
    grad = torch.randn_like(out[0] if isinstance(out, tuple) else out)
    if poison:
        flat = grad.view(-1)
        for i, v in enumerate([float("inf"), float("-inf"), float("nan")] * 3):
            flat[(2 * i + 1) * flat.numel() // 19] = v
    backward = getattr(tx, f"_{name}_backward")
    if name in ("roi_pool", "ps_roi_pool"):
        args = (grad, rois, out[1], SCALE, 3, 4, N, channels, h, w)
    elif name == "ps_roi_align":
        args = (grad, rois, out[1], SCALE, 3, 4, extra[0], N, channels, h, w)
    else:
        args = (grad, rois, SCALE, 3, 4, N, channels, h, w) + extra
    atomic = backward(*args)
    with deterministic():
        ordered = backward(*args)
    assert atomic.dtype == dtype and atomic.is_contiguous() and atomic.shape == x.shape
    if poison:
        assert ordered.isnan().any() and ordered.isinf().any()
        assert torch.equal(atomic.isnan(), ordered.isnan())
        infinite = ordered.isinf()
        assert torch.equal(atomic.isinf(), infinite) and torch.equal(atomic[infinite], ordered[infinite])
        atomic, ordered = atomic.nan_to_num(0, 0, 0), ordered.nan_to_num(0, 0, 0)
    assert ordered.abs().max() > 0
    tol = {torch.float32: 1e-5, torch.float64: 1e-12, torch.float16: 2 ** -10, torch.bfloat16: 2 ** -7}[dtype]
    torch.testing.assert_close(atomic, ordered, rtol=tol, atol=tol * ordered.abs().max().item())
    if name in ("roi_pool", "ps_roi_pool"):  # exact zeros where nothing adds (no rounding residue)
        with deterministic():
            reached = backward(torch.ones_like(grad), *args[1:]) != 0
        assert not atomic[~reached].any()
    if dtype in against_cpu and not poison:
        cpu = backward(*(a.cpu() if torch.is_tensor(a) else a for a in args))
        # A bilinear weight is a sample coordinate's fraction: at column 12000 the two devices'
        # differently rounded coordinates leave it max(h, w) * eps apart. (The pool ops'
        # geometry is exact.)
        bilinear = name in ("roi_align", "ps_roi_align")
        tol_cpu = max(tol, 4 * max(h, w) * torch.finfo(dtype).eps) if bilinear else tol
        torch.testing.assert_close(atomic.cpu(), cpu, rtol=tol_cpu, atol=tol_cpu * cpu.abs().max().item())


@pytest.mark.skipif(not CUDA, reason="no CUDA device")
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.float16, torch.bfloat16])
@pytest.mark.parametrize("name,extra", [("roi_align", (2, True)), ("roi_align", (0, False)), ("roi_pool", ()),
                                        ("ps_roi_align", (2,)), ("ps_roi_pool", ())])
@pytest.mark.parametrize("per_bin", [3, 6, 8])  # channels per bin: 1-, 2- and 4-wide atomics
def test_atomic_backward_equals_the_deterministic_one(name, extra, dtype, per_bin):
    """roi_align's atomics into a channels-last float sum (vector atomics where the channels
    allow); the others' band sums (one band a plane here; W + 5: partial tiles in the
    transpose)."""
    channels = per_bin * 12 if name.startswith("ps") else per_bin
    atomic_equals_deterministic(name, extra, dtype, channels, H, W + 5)


@pytest.mark.skipif(not CUDA, reason="no CUDA device")
@pytest.mark.parametrize("name", ["roi_pool", "ps_roi_pool"])
def test_atomic_backward_keeps_inf_and_nan_on_their_pixels(name):
    """An inf or NaN in the gradient lands on its own pixels only, as in the ordered path
    (ps_roi_pool's corner sums would otherwise carry it along their prefix sums). The pool ops
    only: the bilinear ones multiply by weights that may be 0 (inf * 0)."""
    atomic_equals_deterministic(name, (), torch.float32, 36 if name == "ps_roi_pool" else 3, H, W + 5,
                                against_cpu=(), poison=True)


@pytest.mark.skipif(not CUDA, reason="no CUDA device")
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.float16, torch.bfloat16])
@pytest.mark.parametrize("name,extra", [("roi_pool", ()), ("ps_roi_align", (2,)), ("ps_roi_align", (0,)),
                                        ("ps_roi_pool", ())])
@pytest.mark.parametrize("h,w", [(150, 120), (90, 300), (5, 6000), (3, 12000), (2, 12300)])
def test_band_backward_on_tall_and_wide_maps(name, extra, dtype, h, w):
    """roi_pool's and the ps ops' default backward sums by bands of rows of about 48 KiB:
    150 x 120 takes 2 bands a plane in 4-byte sums and 3 in float64 (RoIs cross them);
    3 x 12000 a row a band; 2 x 12300 a row a band, wider than 48 KiB. ps_roi_pool's bands
    hold a sum and a count a pixel (8 bytes, float64 16): 150 x 120 takes 3 (float64: 6) a
    plane, 90 x 300 blocks of 320 threads (a thread a column), 5 x 6000 a row a band (float64:
    wider than a band), the wider maps its other path."""
    # Against the CPU in float64 only: nvcc fuses the float32 sample coordinates' multiply-adds,
    # so on these maps a sample at -1 or H may fall on the other side of the edge.
    atomic_equals_deterministic(name, extra, dtype, 36 if name.startswith("ps") else 3, h, w,
                                against_cpu=(torch.float64,))


@pytest.mark.skipif(not CUDA, reason="no CUDA device")
@pytest.mark.parametrize("name,extra", [("ps_roi_align", (2,)), ("ps_roi_pool", ())])
def test_band_backward_without_lists(name, extra):
    """The ps ops' band kernels walk lists of each band's RoIs unless the lists would pass a
    quarter of the gradient's size: 300 RoIs on a 4 x 4 map (lists of 1200 bytes, a
    gradient of 4608) walk all K RoIs in every block instead."""
    atomic_equals_deterministic(name, extra, torch.float32, 36, 4, 4)


def far_rois(n, seed, h, w):
    """RoIs from 1e7-5e7 rows above (or below) a map to a few thousand rows past its other
    side (map coordinates / SCALE), with adaptive sampling's sparse samples (800-4100 rows
    apart) of which a few land on the map."""
    g = torch.Generator().manual_seed(seed)
    far = -torch.empty(n, dtype=torch.float64).uniform_(1e7, 5e7, generator=g)
    end = torch.empty(n, dtype=torch.float64).uniform_(h + 50, 5000, generator=g)
    x1 = torch.rand(n, generator=g, dtype=torch.float64) * w / 2
    x2 = x1 + 4 + torch.rand(n, generator=g, dtype=torch.float64) * w / 2
    below = torch.rand(n, generator=g) < 0.5  # the far end below the map instead
    y1, y2 = torch.where(below, h - end, far), torch.where(below, h - far, end)
    index = torch.randint(0, N, (n,), generator=g).double()
    return (torch.stack([index, x1, y1, x2, y2], 1) / torch.tensor([1, SCALE, SCALE, SCALE, SCALE])).float()


@pytest.mark.skipif(not CUDA, reason="no CUDA device")
def test_ps_roi_align_band_lists_hold_far_rois():
    """ps_roi_align's band backward walks lists of the RoIs whose rows meet each band: RoIs
    reaching a map from 1e7 rows away (float32) must still reach every band their samples
    land in, as in the ordered path. (Their spans cover the map: this checks the lists'
    clamping, not the span's rounding margin, which no sample can need: a bin's outermost
    samples lie half a sample step, hundreds of rows here, inside its span.)"""
    h, w, channels = 150, 120, 36  # 2 bands a plane
    far = far_rois(200, 5, h, w)
    rois = torch.cat([detector_rois(60, 13, height=h / SCALE, width=w / SCALE), far]).cuda()
    grad = torch.randn(rois.shape[0], channels // 12, 3, 4, generator=torch.Generator().manual_seed(5)).cuda()
    mapping = torch.empty(0, dtype=torch.int32, device="cuda")
    args = (SCALE, 3, 4, 0, N, channels, h, w)
    atomic = tx._ps_roi_align_backward(grad, rois, mapping, *args)
    with deterministic():
        ordered = tx._ps_roi_align_backward(grad, rois, mapping, *args)
        far_only = tx._ps_roi_align_backward(grad[60:], rois[60:], mapping, *args)
    assert (far_only[:, :, : h // 2] != 0).any() and (far_only[:, :, h // 2:] != 0).any()  # both bands
    torch.testing.assert_close(atomic, ordered, rtol=1e-5, atol=1e-5 * ordered.abs().max().item())


@pytest.mark.skipif(not CUDA, reason="no CUDA device")
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("k,ph,pw", [(200, 3, 4), (45, 7, 7), (7, 111, 112)])
def test_roi_pool_backward_routes_any_argmax(dtype, k, ph, pw):
    """_roi_pool_backward routes each gradient to its argmax whatever it holds (-1: nowhere),
    not only the forward's: random values in [-1, H * W) on a map of 2-3 bands a plane (the
    band sum reads a (RoI, channel) only where its argmax span meets the band), with 3 x 4,
    7 x 7 and 111 x 112 bins (1000, 225 and 35 (RoI, channel) pairs)."""
    g = torch.Generator().manual_seed(3)
    h, w, channels = 150, 120, 5
    rois = detector_rois(k, 12, height=h / SCALE, width=w / SCALE, dtype=dtype)
    grad = torch.randn(k, channels, ph, pw, generator=g, dtype=dtype)
    argmax = torch.randint(-1, h * w, (k, channels, ph, pw), generator=g, dtype=torch.int32)
    # Most pairs' values within 8 rows, so that their spans, not the whole map, decide which
    # bands read them; one value of some pairs far away, at the last bin, at bin 40 (past a
    # warp's first 32 values) or at bin 0; some pairs with -1 only (no span).
    flat = argmax.view(k * channels, ph * pw)
    rows = torch.randint(0, h - 8, (k * channels, 1), generator=g, dtype=torch.int32)
    flat.copy_(rows * w + torch.randint(0, 8 * w, flat.shape, generator=g, dtype=torch.int32))
    bins = ph * pw
    for i, b in enumerate((bins - 1, min(40, bins - 1), 0)):
        flat[i::7, b] = (flat[i::7, b] + (h // 2) * w) % (h * w)
    flat[3::7] = -1
    args = (SCALE, ph, pw, N, channels, h, w)
    cpu = tx._roi_pool_backward(grad, rois, argmax, *args)
    atomic = tx._roi_pool_backward(grad.cuda(), rois.cuda(), argmax.cuda(), *args)
    with deterministic():
        ordered = tx._roi_pool_backward(grad.cuda(), rois.cuda(), argmax.cuda(), *args)
    assert cpu.abs().sum() > 0
    torch.testing.assert_close(atomic.cpu(), cpu)
    torch.testing.assert_close(ordered.cpu(), cpu)


BAD_BATCH = """
import torch, tvx
tx = torch.ops.tvx
x = torch.randn(2, 24, 24, 32, device="cuda")
bad = torch.tensor([[0, 1., 1., 9., 9.], [{index}, 1., 1., 9., 9.]], device="cuda")
g = torch.ones(2, {channels}, 3, 4, device="cuda")
{call}
torch.cuda.synchronize()
print("no error")
"""


@pytest.mark.skipif(not CUDA, reason="no CUDA device")
@pytest.mark.parametrize("index", ["2", "-1", "float('nan')"])
@pytest.mark.parametrize("channels,call", [
    (24, "tx.roi_align(x, bad, 0.5, 3, 4, 2, True)"),
    (24, "tx.roi_pool(x, bad, 0.5, 3, 4)"),
    (2, "tx.ps_roi_align(x, bad, 0.5, 3, 4, 2)"),
    (2, "tx.ps_roi_pool(x, bad, 0.5, 3, 4)"),
    (24, "tx._roi_align_backward(g, bad, 0.5, 3, 4, 2, 24, 24, 32, 2, True)"),
    (2, "tx._ps_roi_pool_backward(g, bad, g.int(), 0.5, 3, 4, 2, 24, 24, 32)"),
    (24, "tx._roi_pool_backward(g, bad, g.int(), 0.5, 3, 4, 2, 24, 24, 32)"),
    (2, "tx._ps_roi_align_backward(g, bad, g.int(), 0.5, 3, 4, 2, 2, 24, 24, 32)"),
    (24, "torch.use_deterministic_algorithms(True); tx._roi_align_backward(g, bad, 0.5, 3, 4, 2, 24, 24, 32, 2, True)"),
])
def test_cuda_bad_batch_index_is_a_device_side_assert(index, channels, call):
    """On CUDA the batch indices are asserted in the kernels, as ATen asserts its indices: no
    host synchronisation. A bad one (out of range, NaN) ends the program's CUDA context with
    a device-side assert naming the rule, in a child process here."""
    script = BAD_BATCH.format(index=index, channels=channels, call=call)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    r = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode != 0 and "no error" not in r.stdout, r.stdout + r.stderr
    assert "device-side assert" in r.stderr, r.stderr
    assert "rois[:, 0] must be batch indices in [0, N)" in r.stdout + r.stderr, r.stdout + r.stderr


@pytest.mark.skipif(not CUDA, reason="no CUDA device")
def test_deterministic_backward_memory_stays_within_twice_torchvision_s():
    x = torch.randn(2, 256, 100, 152, device="cuda")
    rois = detector_rois(1000, 9, height=400.0, width=608.0, device="cuda")
    grad = torch.randn(1000, 256, 7, 7, device="cuda")
    args = (grad, rois, 0.25, 7, 7, 2, 256, 100, 152, 0, True)  # adaptive sampling: many samples per bin

    def peak(fn):
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated()
        out = fn()
        torch.cuda.synchronize()
        return out, torch.cuda.max_memory_allocated() - base

    want, theirs = peak(lambda: tv._roi_align_backward(*args))
    torch.use_deterministic_algorithms(True)
    try:
        first, ours = peak(lambda: tx._roi_align_backward(*args))
        second, _ = peak(lambda: tx._roi_align_backward(*args))
    finally:
        torch.use_deterministic_algorithms(False)
    assert torch.equal(first, second)
    torch.testing.assert_close(first, want, rtol=1e-4, atol=1e-4)
    assert ours <= 2 * theirs, f"peak {ours / 2**20:.0f} MiB, torchvision's {theirs / 2**20:.0f} MiB"


@pytest.mark.skipif(not CUDA, reason="no CUDA device")
def test_input_above_2_31_elements():
    free, _ = torch.cuda.mem_get_info()
    if free < 12 * 2**30:
        pytest.skip("needs 12 GiB of free GPU memory")
    channels = 2**31 // (32 * 32) + 64  # 2^31 + 64K elements
    x = torch.empty(1, channels, 32, 32, device="cuda", dtype=torch.float32)
    x[:, -16:].normal_()
    rois = torch.tensor([[0, 1.0, 2.0, 20.0, 30.0], [0, 5.0, 5.0, 31.0, 31.0]], device="cuda")
    out = tx.roi_align(x, rois, 1.0, 7, 7, 2, True)
    tail = tx.roi_align(x[:, -16:].clone(), rois, 1.0, 7, 7, 2, True)
    assert torch.equal(out[:, -16:], tail)
    out, arg = tx.roi_pool(x, rois, 1.0, 7, 7)
    tail, tail_arg = tx.roi_pool(x[:, -16:].clone(), rois, 1.0, 7, 7)
    assert torch.equal(out[:, -16:], tail) and torch.equal(arg[:, -16:], tail_arg)


# --- edges a user can reach ------------------------------------------------------------------

@pytest.mark.parametrize("h,w", [(0, 5), (4, 0), (0, 0)])
def test_empty_image_axes_sample_nothing(device, h, w):
    """An input with no rows or columns: every sample is outside it (torchvision reads
    memory before the input there). Outputs are zeros, gradients empty."""
    rois = torch.tensor([[0, 0.0, 0.0, 0.0, 0.0], [0, -2.0, -1.0, 3.0, 2.0]], device=device)
    for name, channels, extra in [("roi_align", 4, (2, True)), ("roi_align", 4, (0, False)), ("roi_pool", 4, ()),
                                  ("ps_roi_align", 8, (2,)), ("ps_roi_pool", 8, ())]:
        x = torch.randn(1, channels, h, w, device=device, requires_grad=True)
        out = getattr(tx, name)(x, rois, 1.0, 2, 2, *extra)
        out = out[0] if isinstance(out, tuple) else out
        assert torch.equal(out, torch.zeros_like(out)), name
        out.sum().backward()
        assert x.grad.shape == x.shape


def test_sizes_that_would_overflow_are_refused(device):
    x = feature_map(C, 0, device)
    rois = detector_rois(3, 0, device=device)
    with pytest.raises(RuntimeError, match="tvx.roi_align: sampling_ratio must be at most 4096"):
        tx.roi_align(x, rois, SCALE, 2, 2, 2**20, True)
    with pytest.raises(RuntimeError, match="tvx.ps_roi_pool: pooled_height \\* pooled_width must be below 2\\^31"):
        tx.ps_roi_pool(x, rois, SCALE, 2**32, 2**32)
    huge = rois[:1].clone()
    huge[:, 3:] = 1e30  # the adaptive grid clamps (4096^2 samples) instead of overflowing
    out = tx.roi_align(x, huge, SCALE, 1, 1, 0, True)
    assert out.isfinite().all()


def test_rois_that_require_grad_do_not_block_create_graph(device):
    x = feature_map(C, 1, device, torch.float64).requires_grad_()
    rois = detector_rois(5, 1, dtype=torch.float64, device=device).requires_grad_()
    loss = tvx.ops.roi_align(x, rois, (2, 2), SCALE, 2, True).sum()
    (g,) = torch.autograd.grad(loss, x, create_graph=True)
    assert g.shape == x.shape
