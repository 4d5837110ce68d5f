"""Fake (meta) kernels: output shapes for torch.compile / torch.export tracing.

The number of boxes nms keeps depends on the data, which only an unbacked SymInt from
the tracing context can stand for, so these live in Python (the C++ library names this
module through set_python_module). They check what the C++ kernels check, with the same
messages. Every other tvx operator has its Meta kernel in C++.
"""
from __future__ import annotations

import torch

_COMPLEX = (torch.complex32, torch.complex64, torch.complex128)


def _check(op: str, boxes, scores, idxs=None) -> None:
    torch._check(boxes.dim() == 2 and boxes.size(1) == 4,
                 lambda: f"{op}: boxes must have shape [N, 4], got {list(boxes.shape)}")
    torch._check(scores.dim() == 1, lambda: f"{op}: scores must have shape [N], got {list(scores.shape)}")
    torch._check(boxes.size(0) == scores.size(0),
                 lambda: f"{op}: boxes and scores must have the same length, got {boxes.size(0)} boxes and "
                         f"{scores.size(0)} scores")
    torch._check(boxes.dtype in (torch.float32, torch.float64, torch.float16, torch.bfloat16),
                 lambda: f"{op}: boxes must be float32, float64, float16 or bfloat16, got {boxes.dtype}")
    torch._check(boxes.dtype == scores.dtype,
                 lambda: f"{op}: boxes and scores must have the same dtype, got {boxes.dtype} and {scores.dtype}")
    torch._check(boxes.device == scores.device,
                 lambda: f"{op}: boxes and scores must be on the same device, got {boxes.device} and {scores.device}")
    if idxs is not None:
        torch._check(idxs.dim() == 1 and idxs.size(0) == boxes.size(0),
                     lambda: f"{op}: idxs must have shape [{boxes.size(0)}], got {list(idxs.shape)}")
        torch._check(idxs.dtype not in _COMPLEX, lambda: f"{op}: idxs must be real numbers, got {idxs.dtype}")


def _kept(boxes):
    kept = torch.library.get_ctx().new_dynamic_size()
    return boxes.new_empty((kept,), dtype=torch.int64)


_registered: set[str] = set()


def register_fakes(ns: str) -> None:
    """Fake kernels of the data-dependent operators in namespace ``ns`` (once per namespace)."""
    if ns in _registered:
        return

    def nms_fake(dets, scores, iou_threshold):
        _check(f"{ns}.nms", dets, scores)
        return _kept(dets)

    def batched_nms_fake(boxes, scores, idxs, iou_threshold):
        _check(f"{ns}.batched_nms", boxes, scores, idxs)
        return _kept(boxes)

    torch.library.register_fake(f"{ns}::nms", nms_fake)
    torch.library.register_fake(f"{ns}::batched_nms", batched_nms_fake)
    _registered.add(ns)


register_fakes("tvx")
