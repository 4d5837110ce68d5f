"""deform_conv2d against torchvision 0.26, on CPU and CUDA: the shared contract, then the op's
own cases (gradients against torchvision's backward operator, awkward offsets, reduced
precision, the Python API and module, a tensor above 2^31 elements)."""
import pytest
import torch
import torchvision

import tvx
from conftest import CUDA
from contract import Bad, Contract

tv = torch.ops.torchvision
tx = torch.ops.tvx


def make_args(device, batch, seed, *, c=6, h=9, w=11, c_out=4, kernel=(3, 2), stride=(1, 2), pad=(1, 0),
              dilation=(1, 2), groups=2, offset_groups=3, use_mask=True, offset_scale=2.0, integer=False,
              dtype=torch.float32):
    """The op's 14 arguments. Offsets of a few pixels move many taps outside the image;
    `integer` puts every sample exactly on pixels (and on the -1 and H edges)."""
    g = torch.Generator().manual_seed(seed)
    kh, kw = kernel
    oh = (h + 2 * pad[0] - (dilation[0] * (kh - 1) + 1)) // stride[0] + 1
    ow = (w + 2 * pad[1] - (dilation[1] * (kw - 1) + 1)) // stride[1] + 1
    t = lambda *shape: torch.randn(*shape, generator=g, dtype=torch.float64)  # noqa: E731
    x = t(batch, c, h, w)
    weight = t(c_out, c // groups, kh, kw)
    offset = t(batch, offset_groups * kh * kw * 2, oh, ow) * offset_scale
    if integer:
        offset = offset.round()
    mask = (torch.rand(batch, offset_groups * kh * kw, oh, ow, generator=g, dtype=torch.float64) if use_mask
            else torch.zeros(batch, 1, dtype=torch.float64))
    bias = t(c_out)
    to = lambda a: a.to(dtype=dtype, device=device)  # noqa: E731
    return (to(x), to(weight), to(offset), to(mask), to(bias), stride[0], stride[1], pad[0], pad[1], dilation[0],
            dilation[1], groups, offset_groups, use_mask)


def smooth(**kw):
    """gradcheck's inputs: small, and offsets away from pixel edges (the op is not
    differentiable where a sample crosses one)."""
    return lambda device, n, seed: make_args(device, 1, seed, c=4, h=5, w=5, c_out=2, kernel=(2, 2), stride=(1, 1),
                                             pad=(1, 1), dilation=(1, 1), groups=2, offset_groups=2,
                                             offset_scale=0.7, **kw)


def bad_inputs(use_mask):
    a = lambda d, **kw: make_args(d, 2, 0, use_mask=use_mask, **kw)  # noqa: E731
    swap = lambda args, i, v: args[:i] + (v,) + args[i + 1:]  # noqa: E731
    out = [
        Bad("input rank 3", lambda d: swap(a(d), 0, a(d)[0][0]), r"input must have shape \[N, C, H, W\]"),
        Bad("int input", lambda d: swap(a(d), 0, a(d)[0].int()), "input must be float32"),
        Bad("float64 weight", lambda d: swap(a(d), 1, a(d)[1].double()), "input and weight must have the same dtype"),
        Bad("offset channels", lambda d: swap(a(d), 2, a(d)[2][:, 1:]), r"offset must have shape \[2, 36, 9, 5\]"),
        Bad("offset size", lambda d: swap(a(d), 2, a(d)[2][..., 1:]), r"offset must have shape"),
        Bad("zero stride", lambda d: swap(a(d), 5, 0), r"stride must be positive, got \(0, 2\)"),
        Bad("negative padding", lambda d: swap(a(d), 8, -1), r"padding must be >= 0"),
        Bad("groups", lambda d: swap(a(d), 11, 4), r"weight.shape\[1\] \* groups must equal the input channels 6"),
        Bad("offset_groups", lambda d: swap(swap(a(d), 12, 4), 2, torch.zeros(2, 48, 9, 5, device=d)),
            "input channels must be a multiple of offset_groups = 4"),
        Bad("bias", lambda d: swap(a(d), 4, a(d)[4][:3]), r"bias must have shape \[4\]"),
        Bad("empty output", lambda d: make_args(d, 1, 0, h=2, w=2, pad=(0, 0), use_mask=use_mask),
            "the output would be empty"),
    ]
    if use_mask:
        out.append(Bad("mask shape", lambda d: swap(a(d), 3, a(d)[3][:, 1:]), r"mask must have shape \[2, 18, 9, 5\]"))
    return out


def contract(use_mask, **kw):
    return Contract(
        op=tx.deform_conv2d.default,
        make=lambda device, n, seed: make_args(device, min(n, 8), seed, use_mask=use_mask, **kw),
        oracle=tv.deform_conv2d,
        torchvision="deform_conv2d",
        schemas=("_deform_conv2d_backward",),
        sizes=(1, 3),
        rtol=1e-5, atol=1e-5,
        grad_args=(0, 1, 2, 3, 4) if use_mask else (0, 1, 2, 4),
        make_smooth=smooth(use_mask=use_mask),
        nondet_tol=1e-12,  # CUDA adds the input's gradient with atomics (unless deterministic)
        autocast_native=True,
        native_args=lambda args: args,
        bad=bad_inputs(use_mask))


CASES = {
    "v2_groups_stride_dilation": contract(True),
    "v1_no_mask": contract(False),
    "v2_plain_3x3": contract(True, kernel=(3, 3), stride=(1, 1), pad=(1, 1), dilation=(1, 1), groups=1,
                             offset_groups=1),
}


@pytest.mark.parametrize("case,check", [(name, check) for name, c in CASES.items() for check in c.checks()])
def test_contract(case, check, device):
    CASES[case].run(check, device)


# --- the op's own cases ---------------------------------------------------------------------

ADVERSARIAL = {
    "integer_offsets": dict(integer=True),            # samples on pixels, on y = -1 and on y = H - 1
    "far_outside": dict(offset_scale=20.0),           # most taps outside the image
    "no_mask": dict(use_mask=False),
    "one_by_one": dict(kernel=(1, 1), dilation=(1, 1), groups=1, offset_groups=2),
    "many_groups": dict(c=12, c_out=12, groups=6, offset_groups=6),
    "stride_3_pad_2": dict(stride=(3, 3), pad=(2, 2), dilation=(1, 1)),
}


@pytest.mark.parametrize("case", ADVERSARIAL)
def test_forward_and_gradients_match_torchvision(case, device):
    """The forward and all five gradients, from torchvision's backward operator on the same
    output gradient, in float64 (the same arithmetic; only the order of some sums differs)."""
    args = make_args(device, 3, 11, dtype=torch.float64, **ADVERSARIAL[case])
    torch.testing.assert_close(tx.deform_conv2d(*args), tv.deform_conv2d(*args), rtol=1e-12, atol=1e-12)
    grad = torch.randn(tv.deform_conv2d(*args).shape, dtype=torch.float64, device=device)
    got = tx._deform_conv2d_backward(grad, *args)
    want = tv._deform_conv2d_backward(grad, *args)
    for name, a, b in zip(("input", "weight", "offset", "mask", "bias"), got, want):
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-10, msg=lambda m: f"grad {name}: {m}")


@pytest.mark.parametrize("size", [(8, 12), (180, 180)])
@pytest.mark.parametrize("memory_format", [torch.contiguous_format, torch.channels_last])
def test_memory_formats_give_the_same_gradients(device, size, memory_format):
    """Every 4-D argument in the memory format; all five gradients against the CPU's on
    contiguous float32 arguments (float32 too: at 2M offsets a few samples lie within float32
    rounding of a pixel edge, where the offset's gradient jumps)."""
    args = make_args(device, 2, 9, c=64, h=size[0], w=size[1], c_out=8, kernel=(3, 3), stride=(1, 1), pad=(1, 1),
                     dilation=(1, 1), groups=2, offset_groups=2)
    leaves = [a.contiguous(memory_format=memory_format) if a.dim() == 4 else a.clone() for a in args[:5]]
    leaves = [a.requires_grad_() for a in leaves]
    out = tx.deform_conv2d(*leaves, *args[5:])
    grad = torch.randn(out.shape, device=device)
    out.backward(grad)
    assert leaves[0].grad.is_contiguous(memory_format=memory_format)
    cpu = tuple(a.detach().cpu().contiguous() if isinstance(a, torch.Tensor) else a for a in args)
    torch.testing.assert_close(out.detach().cpu(), tx.deform_conv2d(*cpu), rtol=1e-4, atol=1e-3)
    for name, leaf, want in zip(("input", "weight", "offset", "mask", "bias"), leaves,
                                tx._deform_conv2d_backward(grad.cpu(), *cpu)):
        scale = want.abs().max().item()
        torch.testing.assert_close(leaf.grad.cpu(), want, rtol=1e-4, atol=1e-5 * scale,
                                   msg=lambda m: f"grad {name}: {m}")


@pytest.mark.skipif(not CUDA, reason="needs CUDA")
def test_images_in_several_chunks_match_one_at_a_time():
    """Columns of 302 MiB per image: a batch of 3 runs as 3 chunks of the 512 MiB budget. The
    output and the gradients must equal those of each image alone (sums over the batch for
    weight and bias)."""
    args = make_args("cuda", 3, 4, c=128, h=256, w=256, c_out=16, kernel=(3, 3), stride=(1, 1), pad=(1, 1),
                     dilation=(1, 1), groups=2, offset_groups=2)
    out = tx.deform_conv2d(*args)
    grad = torch.randn(out.shape, device="cuda")
    got = tx._deform_conv2d_backward(grad, *args)
    want_w = torch.zeros_like(args[1], dtype=torch.float64)
    want_b = torch.zeros_like(args[4], dtype=torch.float64)
    for i in range(3):
        one = tuple(a[i:i + 1] if isinstance(a, torch.Tensor) and a.dim() == 4 and a is not args[1] else a
                    for a in args)
        torch.testing.assert_close(out[i:i + 1], tx.deform_conv2d(*one), rtol=1e-5, atol=1e-4)
        gi, gw, goff, gm, gb = tx._deform_conv2d_backward(grad[i:i + 1], *one)
        torch.testing.assert_close(got[0][i:i + 1], gi, rtol=1e-5, atol=1e-5)
        torch.testing.assert_close(got[2][i:i + 1], goff, rtol=1e-5, atol=1e-4)
        torch.testing.assert_close(got[3][i:i + 1], gm, rtol=1e-5, atol=1e-4)
        want_w += gw.double()
        want_b += gb.double()
    torch.testing.assert_close(got[1].double(), want_w, rtol=1e-4, atol=1e-2)
    torch.testing.assert_close(got[4].double(), want_b, rtol=1e-4, atol=1e-2)


@pytest.mark.skipif(not CUDA, reason="needs CUDA")
@pytest.mark.parametrize("groups,offset_groups", [(1, 1), (2, 1), (3, 2)])
def test_deterministic_input_gradient_equals_the_atomic_one(groups, offset_groups):
    """The ordered scatter (64 channels: the warp gather) gives the atomic path's values."""
    args = make_args("cuda", 2, 6, c=96, c_out=12, groups=groups, offset_groups=offset_groups)
    grad = torch.randn(tx.deform_conv2d(*args).shape, device="cuda")
    atomic = tx._deform_conv2d_backward(grad, *args)
    torch.use_deterministic_algorithms(True)
    try:
        ordered = tx._deform_conv2d_backward(grad, *args)
    finally:
        torch.use_deterministic_algorithms(False)
    for a, b in zip(ordered, atomic):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-5)


def test_autocast_runs_in_the_low_dtype(device):
    """float32 arguments under autocast: the op runs (and returns) in float16/bfloat16, the
    result of the same call on arguments cast down (PyTorch's convolutions do the same;
    torchvision computes in float32)."""
    low = torch.float16 if device == "cuda" else torch.bfloat16
    args = make_args(device, 2, 3)
    with torch.autocast(device, dtype=low):
        got = tx.deform_conv2d(*args)
    assert got.dtype == low
    want = tx.deform_conv2d(*(a.to(low) if isinstance(a, torch.Tensor) else a for a in args))
    assert torch.equal(got, want)


def test_batch_of_zero_images(device):
    args = make_args(device, 0, 0)
    out = tx.deform_conv2d(*args)
    assert out.shape == (0, 4, 9, 5)
    grads = tx._deform_conv2d_backward(torch.zeros_like(out), *args)
    for g, a in zip(grads, args[:5]):
        assert g.shape == a.shape
    assert not grads[1].any() and not grads[4].any()


def test_cpu_forward_is_torchvision_s_bit_for_bit():
    # The same samples in the same order, and the same matrix product.
    args = make_args("cpu", 2, 3)
    assert torch.equal(tx.deform_conv2d(*args), tv.deform_conv2d(*args))


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_reduced_precision(dtype, device):
    """float16/bfloat16 run natively: samples in float32, rounded once into the columns, and
    matrix products with float32 sums. Documented tolerance: within 2 ulp of the output's
    dtype at its scale (rtol 2 * eps, atol 2 * eps * max |output|) of the float32 result on
    the same (rounded) inputs; 4 ulp for the gradients (the columns' gradient is rounded too)."""
    args = make_args(device, 2, 5, c=16, c_out=8, groups=1, offset_groups=2, dtype=dtype)
    ref = tuple(a.float() if isinstance(a, torch.Tensor) else a for a in args)
    eps = torch.finfo(dtype).eps
    out, want = tx.deform_conv2d(*args), tx.deform_conv2d(*ref)
    assert out.dtype == dtype
    torch.testing.assert_close(out.float(), want, rtol=2 * eps, atol=2 * eps * want.abs().max().item())
    grad = torch.randn(out.shape, device=device).to(dtype)
    for a, b in zip(tx._deform_conv2d_backward(grad, *args), tx._deform_conv2d_backward(grad.float(), *ref)):
        assert a.dtype == dtype
        torch.testing.assert_close(a.float(), b, rtol=4 * eps, atol=4 * eps * b.abs().max().item())


def test_python_api_and_module_match_torchvision(device):
    torch.manual_seed(0)
    theirs = torchvision.ops.DeformConv2d(6, 4, 3, stride=2, padding=1, dilation=1, groups=2).to(device)
    ours = tvx.ops.DeformConv2d(6, 4, 3, stride=2, padding=1, dilation=1, groups=2).to(device)
    ours.load_state_dict(theirs.state_dict())
    x = torch.randn(2, 6, 10, 12, device=device)
    offset = torch.randn(2, 2 * 3 * 9 * 1, 5, 6, device=device) * 2
    mask = torch.rand(2, 9, 5, 6, device=device)
    for m in (None, mask):
        torch.testing.assert_close(ours(x, offset[:, :18], m), theirs(x, offset[:, :18], m), rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(tvx.ops.deform_conv2d(x, offset, ours.weight, padding=1, stride=(2, 2)),
                               torchvision.ops.deform_conv2d(x, offset, theirs.weight, padding=1, stride=(2, 2)),
                               rtol=1e-5, atol=1e-5)


def test_training_step_matches_torchvision(device):
    """One backward through each library's autograd (its module and functional API): the same
    gradients of weight, bias, offset and mask."""
    torch.manual_seed(1)
    x = torch.randn(2, 4, 8, 8, device=device)
    offset = (torch.randn(2, 18, 8, 8, device=device) * 1.5).requires_grad_()
    mask = torch.rand(2, 9, 8, 8, device=device).requires_grad_()
    results = []
    for lib in (torchvision.ops, tvx.ops):
        torch.manual_seed(2)
        layer = lib.DeformConv2d(4, 3, 3, padding=1).to(device)
        off, m = offset.detach().clone().requires_grad_(), mask.detach().clone().requires_grad_()
        out = layer(x, off, m)
        out.square().mean().backward()
        results.append([layer.weight.grad, layer.bias.grad, off.grad, m.grad])
    for a, b in zip(*results):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)


def test_double_backward_is_a_clear_error():
    args = make_args("cpu", 1, 0, dtype=torch.float64)
    x = args[0].requires_grad_()
    out = tx.deform_conv2d(*args)
    (g,) = torch.autograd.grad(out.sum(), x, create_graph=False)
    assert g.shape == x.shape
    out = tx.deform_conv2d(*args)
    with pytest.raises(RuntimeError, match="tvx._deform_conv2d_backward: double backward is not supported"):
        torch.autograd.grad(out.square().sum(), x, create_graph=True)


def test_compiles_with_symbolic_shapes():
    args = make_args("cpu", 2, 0)
    fn = torch.compile(lambda *a: tx.deform_conv2d(*a), backend="eager", dynamic=True, fullgraph=True)
    torch.testing.assert_close(fn(*args), tx.deform_conv2d(*args))


@pytest.mark.skipif(not CUDA or torch.cuda.mem_get_info()[0] < (48 << 30), reason="needs a GPU with 48 GB free")
def test_input_and_columns_above_2_31_elements():
    """64-bit offsets: input [1, 4, 23200, 23200] (2.15e9 elements) and its columns. A 1 x 1
    kernel with offset (0, 0.5) averages horizontal neighbours; checked on the last rows."""
    h = w = 23200
    x = torch.randn(1, h, w, 4, device="cuda").permute(0, 3, 1, 2)  # channels_last, as the kernels read it
    weight = torch.tensor([1.0, -2.0, 0.5, 3.0], device="cuda").view(1, 4, 1, 1)
    offset = torch.zeros(1, 2, h, w, device="cuda")
    offset[:, 1] = 0.5
    bias = torch.zeros(1, device="cuda")
    out = tx.deform_conv2d(x, weight, offset, torch.zeros(1, 1, device="cuda"), bias, 1, 1, 0, 0, 1, 1, 1, 1, False)
    tail = x[0, :, -3:]                                        # [4, 3, W]
    shifted = torch.cat([tail[..., 1:], torch.zeros_like(tail[..., :1])], -1)
    want = ((tail + shifted) / 2 * weight.view(4, 1, 1)).sum(0)
    want[:, -1] = (tail[..., -1] * 0.5 * weight.view(4, 1)).sum(0)  # the right edge: half a pixel outside
    torch.testing.assert_close(out[0, 0, -3:], want, rtol=1e-5, atol=1e-4)
    del out
    grad = torch.zeros(1, 1, h, w, device="cuda")
    grad[0, 0, -1, -2:] = 1.0
    gi, gw, goff, _, gb = tx._deform_conv2d_backward(grad, x, weight, offset, torch.zeros(1, 1, device="cuda"), bias,
                                                     1, 1, 0, 0, 1, 1, 1, 1, False)
    # Output pixel (H-1, W-2) takes half of input columns W-2 and W-1, (H-1, W-1) half of W-1.
    torch.testing.assert_close(gi[0, :, -1, -3:], torch.stack([torch.zeros(4, device="cuda"), 0.5 * weight.view(4),
                                                               weight.view(4)], 1), rtol=1e-6, atol=1e-6)
    assert gb.item() == 2.0
