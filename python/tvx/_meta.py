"""Fake (meta) kernels: output shapes for torch.compile / torch.export tracing.

The number of boxes nms keeps depends on the data, which only an unbacked SymInt from
the tracing context can stand for, so these live in Python (the C++ library names this
module through set_python_module). They check the same things the C++ kernels check.
"""
from __future__ import annotations

import torch


def _check(op: str, boxes, scores, idxs=None) -> None:
    torch._check(boxes.dim() == 2 and boxes.size(1) == 4,
                 lambda: f"{op}: boxes must have shape [N, 4], got {list(boxes.shape)}")
    torch._check(scores.dim() == 1, lambda: f"{op}: scores must have shape [N], got {list(scores.shape)}")
    torch._check(boxes.size(0) == scores.size(0),
                 lambda: f"{op}: boxes and scores must have the same length, got {boxes.size(0)} and {scores.size(0)}")
    torch._check(boxes.dtype.is_floating_point, lambda: f"{op}: boxes must be floating point, got {boxes.dtype}")
    torch._check(boxes.dtype == scores.dtype,
                 lambda: f"{op}: boxes and scores must have the same dtype, got {boxes.dtype} and {scores.dtype}")
    if idxs is not None:
        torch._check(idxs.dim() == 1 and idxs.size(0) == boxes.size(0),
                     lambda: f"{op}: idxs must have shape [{boxes.size(0)}], got {list(idxs.shape)}")


def _kept(boxes):
    kept = torch.library.get_ctx().new_dynamic_size()
    return boxes.new_empty((kept,), dtype=torch.int64)


@torch.library.register_fake("tvx::nms")
def _nms_fake(dets, scores, iou_threshold):
    _check("tvx.nms", dets, scores)
    return _kept(dets)


@torch.library.register_fake("tvx::batched_nms")
def _batched_nms_fake(boxes, scores, idxs, iou_threshold):
    _check("tvx.batched_nms", boxes, scores, idxs)
    return _kept(boxes)
