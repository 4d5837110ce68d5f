"""The shared contract every tvx operator's Python tests run, on CPU and CUDA.

An op's test file describes the op once (a ``Contract``) and runs every check that applies:

    NMS = Contract(op=torch.ops.tvx.nms.default, make=..., oracle=torchvision.ops.nms, torchvision="nms", ...)

    @pytest.mark.parametrize("check", NMS.checks())
    def test_nms_contract(check, device):
        NMS.run(check, device)

Checks: schema equality with torchvision (where it has the op, and for its backward
operators), parity with the oracle, ``torch.library.opcheck``, gradcheck in float64 (or: no
gradient where the op has none), empty input, non-contiguous input, channels_last input,
autocast, bitwise-reproducible backward under ``torch.use_deterministic_algorithms``, and
bad inputs. An op that returns several tensors is differentiated in its first.
"""
from __future__ import annotations

import dataclasses
from typing import Any, Callable, Optional

import pytest
import torch

Args = tuple


def _strided(t):
    """The same values in a non-contiguous layout: every other element of a wider buffer."""
    if not isinstance(t, torch.Tensor) or t.dim() == 0 or t.numel() == 0:
        return t
    wide = torch.zeros(*t.shape[:-1], 2 * t.shape[-1], dtype=t.dtype, device=t.device)
    view = wide[..., ::2]
    view.copy_(t)
    return view


def _first(out):
    return out[0] if isinstance(out, (tuple, list)) else out


class deterministic:
    """with deterministic(): torch.use_deterministic_algorithms(True) inside, restored after."""

    def __enter__(self):
        self.was = torch.are_deterministic_algorithms_enabled()
        torch.use_deterministic_algorithms(True)

    def __exit__(self, *exc):
        torch.use_deterministic_algorithms(self.was)


def _map(args: Args, fn) -> Args:
    """fn over the tensor arguments, those inside a Tensor[] argument (a list) too."""
    def one(a):
        if isinstance(a, torch.Tensor):
            return fn(a)
        if isinstance(a, list) and a and all(isinstance(t, torch.Tensor) for t in a):
            return [fn(t) for t in a]
        return a
    return tuple(one(a) for a in args)


def _tensors(args: Args) -> list:
    return [t for a in args for t in (a if isinstance(a, list) else [a]) if isinstance(t, torch.Tensor)]


def _assert_same(got, want, rtol: float, atol: float, what: str) -> None:
    if isinstance(want, torch.Tensor) and not want.is_floating_point():
        rtol = atol = 0
    torch.testing.assert_close(got, want, rtol=rtol, atol=atol, equal_nan=True, msg=lambda m: f"{what}: {m}")


@dataclasses.dataclass
class Bad:
    what: str
    make: Callable[[str], Args]  # device -> arguments
    message: str                 # regex the error must match
    cpu_only: bool = False       # on CUDA the kernel asserts instead (tested in a child process)


@dataclasses.dataclass
class Contract:
    op: torch._ops.OpOverload
    make: Callable[[str, int, int], Args]          # (device, n, seed) -> arguments; n = 0: empty
    oracle: Callable[..., Any]                      # torchvision (or a plain definition) on the same arguments
    bad: list[Bad]
    torchvision: Optional[str] = None               # torchvision's op of the same schema
    sizes: tuple = (1, 17, 300)
    rtol: float = 0.0
    atol: float = 0.0
    grad_args: tuple = ()                           # differentiable arguments (gradcheck in float64)
    autocast_fp32: bool = False                     # registers an autocast kernel computing in float32
    autocast_native: bool = False                   # registers an autocast kernel computing float16/bfloat16 natively
    schemas: tuple = ()                             # more ops (backward) whose schema equals torchvision's
    native_args: Optional[Callable[[Args], Args]] = None  # autocast_native: the arguments the kernel passes on
    make_smooth: Optional[Callable[[str, int, int], Args]] = None  # gradcheck's inputs, where make's are not smooth
    call: Optional[Callable[..., Any]] = None       # how to call it; default: the op itself
    nondet_tol: float = 0.0                         # gradcheck: backward may differ by this between runs (atomics)
    deterministic: bool = True                      # with grad_args: backward bitwise reproducible (checked)

    def checks(self) -> list[str]:
        out = ["parity", "opcheck", "gradients", "empty", "non_contiguous", "channels_last", "autocast", "bad_inputs"]
        if self.grad_args and self.deterministic:
            out.append("deterministic")
        return (["schema"] if self.torchvision else []) + out

    def __call__(self, *args):
        return (self.call or self.op)(*args)

    def run(self, check: str, device: str) -> None:
        getattr(self, f"_{check}")(device)

    def _schema(self, device):
        torchvision = pytest.importorskip("torchvision")  # noqa: F841 (registers torch.ops.torchvision)
        for name, ours in [(self.torchvision, self.op)] + [(n, getattr(torch.ops.tvx, n).default) for n in self.schemas]:
            theirs = getattr(torch.ops.torchvision, name).default._schema
            assert str(ours._schema) == str(theirs).replace("torchvision::", "tvx::")

    def _parity(self, device):
        for n in self.sizes:
            for seed in (0, 1):
                args = self.make(device, n, seed)
                _assert_same(self(*args), self.oracle(*args), self.rtol, self.atol, f"n={n} seed={seed}")

    def _opcheck(self, device):
        torch.library.opcheck(self.op, self.make(device, 40, 2))

    def _gradients(self, device):
        args = _map((self.make_smooth or self.make)(device, 5, 3), lambda t: t.double() if t.is_floating_point() else t)
        if self.grad_args:
            args = tuple(a.requires_grad_() if i in self.grad_args else a for i, a in enumerate(args))
            assert torch.autograd.gradcheck(lambda *g: _first(self(*(g[self.grad_args.index(i)] if i in self.grad_args
                                                                     else a for i, a in enumerate(args)))),
                                            tuple(args[i] for i in self.grad_args), nondet_tol=self.nondet_tol)
        else:
            args = _map(args, lambda t: t.requires_grad_() if t.is_floating_point() else t)
            assert not _first(self(*args)).requires_grad, "the op has no gradient, so its output must need none"

    def _empty(self, device):
        args = self.make(device, 0, 0)
        _assert_same(self(*args), self.oracle(*args), self.rtol, self.atol, "empty input")

    def _non_contiguous(self, device):
        args = self.make(device, 40, 4)
        strided = _map(args, _strided)
        assert any(not t.is_contiguous() for t in _tensors(strided))
        _assert_same(self(*strided), self(*args), 0, 0, "strided inputs")

    def _channels_last(self, device):
        # 4-D inputs in channels_last memory give the same values (an op without 4-D inputs
        # gets them unchanged and must be deterministic).
        args = self.make(device, 40, 5)
        cl = _map(args, lambda t: t.contiguous(memory_format=torch.channels_last) if t.dim() == 4 else t)
        _assert_same(self(*cl), self(*args), 0, 0, "channels_last inputs")

    def _autocast(self, device):
        low = torch.float16 if device == "cuda" else torch.bfloat16
        args = _map(self.make(device, 60, 6), lambda t: t.to(low) if t.is_floating_point() else t)
        key = "AutocastCUDA" if device == "cuda" else "AutocastCPU"
        has_kernel = self.autocast_fp32 or self.autocast_native
        assert torch._C._dispatch_has_kernel_for_dispatch_key(self.op._name, key) == has_kernel
        if self.autocast_native:
            want = self(*self.native_args(args))
        elif self.autocast_fp32:
            want = self(*_map(args, lambda t: t.float() if t.is_floating_point() else t))
        else:
            want = self(*args)
        with torch.autocast(device, dtype=low):
            got = self(*args)
        _assert_same(got, want, 0, 0, "under autocast")

    def _deterministic(self, device):
        # Two backward passes under torch.use_deterministic_algorithms(True): bitwise equal.
        args = self.make(device, 300, 7)
        grads = []
        with deterministic():
            for _ in range(2):
                leaves = [a.detach().requires_grad_() for i, a in enumerate(args) if i in self.grad_args]
                call = [leaves[self.grad_args.index(i)] if i in self.grad_args else a for i, a in enumerate(args)]
                out = _first(self(*call))
                gen = torch.Generator(device=out.device).manual_seed(0)
                out.backward(torch.rand(out.shape, generator=gen, device=out.device, dtype=out.dtype))
                grads.append([leaf.grad for leaf in leaves])
        for a, b in zip(*grads):
            assert torch.equal(a, b), "backward differs between two runs"

    def _bad_inputs(self, device):
        assert self.bad, "a contract lists bad inputs"
        for bad in self.bad:
            if bad.cpu_only and device != "cpu":
                continue
            with pytest.raises(RuntimeError, match=bad.message):
                self(*bad.make(device))
