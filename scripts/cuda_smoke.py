"""Small runs of every CUDA kernel, for compute-sanitizer: nms at sizes around the 64-box
block edges, to_tensor on HWC/CHW/strided images, normalize in and out of place in every
dtype. Each compared with the CPU."""
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

for shape in ((1, 1, 3), (7, 13, 3), (31, 17, 4), (5, 9, 1), (2, 6, 8, 3)):
    img = torch.randint(0, 256, shape, dtype=torch.uint8)
    for view, layout in ((img, "HWC"), (img.movedim(-1, -3), "CHW"), (img.flip(-2), "HWC")):
        assert torch.equal(tvx.transforms.to_tensor(view.cuda(), layout).cpu(), tvx.transforms.to_tensor(view, layout))

mean, std = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]
for dtype in (torch.float32, torch.float64, torch.float16, torch.bfloat16):
    for shape in ((3, 1, 1), (3, 7, 5), (2, 3, 33, 17)):
        x = torch.rand(shape).to(dtype)
        want = tvx.transforms.normalize(x, mean, std)
        assert torch.equal(tvx.transforms.normalize(x.cuda(), mean, std).cpu(), want), (dtype, shape)
        y = x.cuda()
        tvx.transforms.normalize(y, mean, std, inplace=True)
        assert torch.equal(y.cpu(), want), (dtype, shape)
print("cuda smoke: every CUDA kernel equals the CPU")
