"""Operators with torchvision.ops' signatures; the kernels are libtvx's."""
from __future__ import annotations

import torch
from torch import Tensor

__all__ = ["nms", "batched_nms"]


def nms(boxes: Tensor, scores: Tensor, iou_threshold: float) -> Tensor:
    """Non-maximum suppression, as ``torchvision.ops.nms``.

    Returns the int64 indices of the kept boxes, sorted by decreasing score. A box is
    dropped when its IoU with a kept box of higher score is > ``iou_threshold``. NaN scores
    sort first (as ``torch.sort``); a box with a NaN coordinate neither suppresses nor is
    suppressed.
    """
    return torch.ops.tvx.nms(boxes, scores, iou_threshold)


def batched_nms(boxes: Tensor, scores: Tensor, idxs: Tensor, iou_threshold: float) -> Tensor:
    """NMS per category, as ``torchvision.ops.batched_nms``: boxes whose ``idxs`` differ
    never suppress each other. Same result order as :func:`nms`."""
    return torch.ops.tvx.batched_nms(boxes, scores, idxs, iou_threshold)
