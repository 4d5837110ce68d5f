"""Operators with torchvision.ops' signatures; the kernels are libtvx's."""
from __future__ import annotations

import math
from typing import Optional

import torch
from torch import Tensor

__all__ = ["nms", "batched_nms", "roi_align", "roi_pool", "ps_roi_align", "ps_roi_pool", "deform_conv2d", "DeformConv2d", "box_area", "box_iou",
           "generalized_box_iou", "distance_box_iou", "complete_box_iou", "generalized_box_iou_loss",
           "distance_box_iou_loss", "complete_box_iou_loss", "box_convert", "clip_boxes_to_image",
           "remove_small_boxes", "masks_to_boxes", "sigmoid_focal_loss"]


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


def _rois(boxes, input: Tensor) -> Tensor:
    """torchvision's two box formats as a [K, 5] tensor: a [K, 5] tensor is used as it is;
    a list of [L_i, 4] tensors (one per image) gets the image index as its first column."""
    if isinstance(boxes, Tensor):
        if boxes.dim() != 2 or boxes.size(1) != 5:
            raise RuntimeError(f"rois must have shape [K, 5], got {list(boxes.shape)}")
        return boxes
    if not isinstance(boxes, (list, tuple)) or not all(isinstance(b, Tensor) for b in boxes):
        raise TypeError("boxes must be a Tensor[K, 5] or a list of Tensor[L, 4]")
    for b in boxes:
        if b.dim() != 2 or b.size(1) != 4:
            raise RuntimeError(f"each boxes tensor must have shape [L, 4], got {list(b.shape)}")
    if not boxes:
        return torch.empty(0, 5, dtype=input.dtype, device=input.device)
    cat = torch.cat(list(boxes), 0)
    idx = torch.cat([torch.full((len(b), 1), i, dtype=cat.dtype, device=cat.device) for i, b in enumerate(boxes)], 0)
    return torch.cat([idx, cat], 1)


def _pair(output_size) -> tuple[int, int]:
    if isinstance(output_size, int):
        return output_size, output_size
    h, w = output_size
    return int(h), int(w)


def roi_align(input: Tensor, boxes, output_size, spatial_scale: float = 1.0, sampling_ratio: int = -1,
              aligned: bool = False) -> Tensor:
    """RoIAlign, as ``torchvision.ops.roi_align``: [K, C, PH, PW] from input [N, C, H, W]
    and boxes (Tensor[K, 5] or a list of Tensor[L, 4] per image)."""
    ph, pw = _pair(output_size)
    return torch.ops.tvx.roi_align(input, _rois(boxes, input), spatial_scale, ph, pw, sampling_ratio, aligned)


def roi_pool(input: Tensor, boxes, output_size, spatial_scale: float = 1.0) -> Tensor:
    """RoIPool (max per bin), as ``torchvision.ops.roi_pool``."""
    ph, pw = _pair(output_size)
    return torch.ops.tvx.roi_pool(input, _rois(boxes, input), spatial_scale, ph, pw)[0]


def ps_roi_align(input: Tensor, boxes, output_size, spatial_scale: float = 1.0, sampling_ratio: int = -1) -> Tensor:
    """Position-sensitive RoIAlign, as ``torchvision.ops.ps_roi_align``: [K, C / (PH * PW), PH, PW]."""
    ph, pw = _pair(output_size)
    return torch.ops.tvx.ps_roi_align(input, _rois(boxes, input), spatial_scale, ph, pw, sampling_ratio)[0]


def ps_roi_pool(input: Tensor, boxes, output_size, spatial_scale: float = 1.0) -> Tensor:
    """Position-sensitive RoIPool, as ``torchvision.ops.ps_roi_pool``."""
    ph, pw = _pair(output_size)
    return torch.ops.tvx.ps_roi_pool(input, _rois(boxes, input), spatial_scale, ph, pw)[0]


def deform_conv2d(input: Tensor, offset: Tensor, weight: Tensor, bias: Optional[Tensor] = None,
                  stride=(1, 1), padding=(0, 0), dilation=(1, 1), mask: Optional[Tensor] = None) -> Tensor:
    """Deformable convolution, as ``torchvision.ops.deform_conv2d``: v2 (modulated) with a
    ``mask``, v1 without. offset [N, offset_groups * kh * kw * 2, out_h, out_w] holds a (dy, dx)
    per kernel tap; groups and offset_groups follow from the shapes."""
    kh, kw = weight.shape[-2:]
    offset_groups = offset.shape[1] // (2 * kh * kw)
    if offset_groups == 0:
        raise RuntimeError(f"tvx.deform_conv2d: offset.shape[1] must be a positive multiple of 2 * kernel_h * "
                           f"kernel_w = {2 * kh * kw}, got {offset.shape[1]}")
    use_mask = mask is not None
    if mask is None:
        mask = torch.zeros((input.shape[0], 1), device=input.device, dtype=input.dtype)
    if bias is None:
        bias = torch.zeros(weight.shape[0], device=input.device, dtype=input.dtype)
    (sh, sw), (ph, pw), (dh, dw) = _pair(stride), _pair(padding), _pair(dilation)
    return torch.ops.tvx.deform_conv2d(input, weight, offset, mask, bias, sh, sw, ph, pw, dh, dw,
                                       input.shape[1] // weight.shape[1], offset_groups, use_mask)


class DeformConv2d(torch.nn.Module):
    """A deformable convolution layer, as ``torchvision.ops.DeformConv2d`` (same parameters,
    same initialisation, so torchvision's state dicts load)."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0, dilation=1,
                 groups: int = 1, bias: bool = True):
        super().__init__()
        if in_channels % groups != 0:
            raise ValueError("in_channels must be divisible by groups")
        if out_channels % groups != 0:
            raise ValueError("out_channels must be divisible by groups")
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        self.kernel_size, self.stride = _pair(kernel_size), _pair(stride)
        self.padding, self.dilation = _pair(padding), _pair(dilation)
        self.weight = torch.nn.Parameter(torch.empty(out_channels, in_channels // groups, *self.kernel_size))
        self.bias = torch.nn.Parameter(torch.empty(out_channels)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        torch.nn.init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = torch.nn.init._calculate_fan_in_and_fan_out(self.weight)
            bound = 1 / math.sqrt(fan_in)
            torch.nn.init.uniform_(self.bias, -bound, bound)

    def forward(self, input: Tensor, offset: Tensor, mask: Optional[Tensor] = None) -> Tensor:
        return deform_conv2d(input, offset, self.weight, self.bias, self.stride, self.padding, self.dilation, mask)


def box_area(boxes: Tensor, fmt: str = "xyxy") -> Tensor:
    """Areas of boxes [..., 4], as ``torchvision.ops.box_area``."""
    return torch.ops.tvx.box_area(boxes, fmt)


def box_iou(boxes1: Tensor, boxes2: Tensor, fmt: str = "xyxy") -> Tensor:
    """Pairwise IoU [..., N, M], as ``torchvision.ops.box_iou``."""
    return torch.ops.tvx.box_iou(boxes1, boxes2, fmt)


def generalized_box_iou(boxes1: Tensor, boxes2: Tensor) -> Tensor:
    return torch.ops.tvx.generalized_box_iou(boxes1, boxes2)


def distance_box_iou(boxes1: Tensor, boxes2: Tensor, eps: float = 1e-7) -> Tensor:
    return torch.ops.tvx.distance_box_iou(boxes1, boxes2, eps)


def complete_box_iou(boxes1: Tensor, boxes2: Tensor, eps: float = 1e-7) -> Tensor:
    return torch.ops.tvx.complete_box_iou(boxes1, boxes2, eps)


def generalized_box_iou_loss(boxes1: Tensor, boxes2: Tensor, reduction: str = "none", eps: float = 1e-7) -> Tensor:
    return torch.ops.tvx.generalized_box_iou_loss(boxes1, boxes2, reduction, eps)


def distance_box_iou_loss(boxes1: Tensor, boxes2: Tensor, reduction: str = "none", eps: float = 1e-7) -> Tensor:
    return torch.ops.tvx.distance_box_iou_loss(boxes1, boxes2, reduction, eps)


def complete_box_iou_loss(boxes1: Tensor, boxes2: Tensor, reduction: str = "none", eps: float = 1e-7) -> Tensor:
    return torch.ops.tvx.complete_box_iou_loss(boxes1, boxes2, reduction, eps)


def box_convert(boxes: Tensor, in_fmt: str, out_fmt: str) -> Tensor:
    return torch.ops.tvx.box_convert(boxes, in_fmt, out_fmt)


def clip_boxes_to_image(boxes: Tensor, size: tuple[int, int]) -> Tensor:
    """Clamps boxes to an image of size (height, width)."""
    return torch.ops.tvx.clip_boxes_to_image(boxes, [int(size[0]), int(size[1])])


def remove_small_boxes(boxes: Tensor, min_size: float) -> Tensor:
    return torch.ops.tvx.remove_small_boxes(boxes, min_size)


def masks_to_boxes(masks: Tensor) -> Tensor:
    return torch.ops.tvx.masks_to_boxes(masks)


def sigmoid_focal_loss(inputs: Tensor, targets: Tensor, alpha: float = 0.25, gamma: float = 2,
                       reduction: str = "none") -> Tensor:
    return torch.ops.tvx.sigmoid_focal_loss(inputs, targets, alpha, gamma, reduction)
