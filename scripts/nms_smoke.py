"""Small CUDA nms runs, for compute-sanitizer: sizes around the 64-box block edges."""
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "python"))
import tvx  # noqa: E402

for n in (1, 2, 63, 64, 65, 129, 3000):
    boxes = torch.rand(n, 4) * 100
    boxes[:, 2:] += boxes[:, :2]
    scores = torch.rand(n)
    idxs = torch.randint(0, 3, (n,))
    assert torch.equal(tvx.ops.nms(boxes.cuda(), scores.cuda(), 0.5).cpu(), tvx.ops.nms(boxes, scores, 0.5))
    assert torch.equal(tvx.ops.batched_nms(boxes.cuda(), scores.cuda(), idxs.cuda(), 0.5).cpu(),
                       tvx.ops.batched_nms(boxes, scores, idxs, 0.5))
print("nms smoke: CUDA equals CPU at every size")
