import sys, torch
sys.path.insert(0, "python"); sys.path.insert(0, "tests/python")
import tvx
from test_deform_conv import make_args, ADVERSARIAL
for name, kw in [("base", {})] + list(ADVERSARIAL.items()):
    a = make_args("cpu", 3, 11, dtype=torch.float64, **kw)
    ac = tuple(t.cuda() if isinstance(t, torch.Tensor) else t for t in a)
    o = torch.ops.tvx.deform_conv2d(*a); oc = torch.ops.tvx.deform_conv2d(*ac).cpu()
    g = torch.randn(o.shape, dtype=torch.float64)
    r = torch.ops.tvx._deform_conv2d_backward(g, *a); rc = torch.ops.tvx._deform_conv2d_backward(g.cuda(), *ac)
    print(name, "fwd", (o - oc).abs().max().item(), "grads", [round((x - y.cpu()).abs().max().item(), 12) for x, y in zip(r, rc)])
