"""tvx.ops.nms / batched_nms against torchvision 0.26 (the oracle), on CPU and CUDA."""
import math

import pytest
import torch
import torchvision

import tvx
from conftest import CUDA
from contract import Bad, Contract


def random_boxes(n, extent=1000.0, size=100.0, dtype=torch.float32, device="cpu", seed=0):
    g = torch.Generator().manual_seed(seed)
    xy = torch.rand(n, 2, generator=g, dtype=torch.float64) * extent
    wh = torch.rand(n, 2, generator=g, dtype=torch.float64) * size
    scores = torch.rand(n, generator=g, dtype=torch.float64)
    return torch.cat([xy, xy + wh], 1).to(dtype=dtype, device=device), scores.to(dtype=dtype, device=device)


@pytest.mark.parametrize("n", [1, 10, 100, 1000, 5000])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("thr", [0.0, 0.3, 0.5, 0.9])
def test_matches_torchvision_on_random_boxes(device, n, dtype, thr):
    for seed, (extent, size) in enumerate([(1000.0, 100.0), (300.0, 300.0), (1000.0, 20.0)]):
        boxes, scores = random_boxes(n, extent, size, dtype, device, seed)
        want = torchvision.ops.nms(boxes, scores, thr)
        got = tvx.ops.nms(boxes, scores, thr)
        assert got.dtype == torch.int64 and got.device == boxes.device
        torch.testing.assert_close(got, want, rtol=0, atol=0)


@pytest.mark.skipif(not CUDA, reason="no CUDA device")
@pytest.mark.parametrize("n", [63, 64, 65, 4097, 20000, 50000])
def test_cuda_matches_cpu(n):
    boxes, scores = random_boxes(n, 2000.0, 120.0, seed=n)
    want = tvx.ops.nms(boxes, scores, 0.5)
    got = tvx.ops.nms(boxes.cuda(), scores.cuda(), 0.5)
    torch.testing.assert_close(got.cpu(), want, rtol=0, atol=0)
    # Same on a side stream: the kernels follow the current stream.
    s = torch.cuda.Stream()
    with torch.cuda.stream(s):
        got = tvx.ops.nms(boxes.cuda(), scores.cuda(), 0.5)
    s.synchronize()
    torch.testing.assert_close(got.cpu(), want, rtol=0, atol=0)


ADVERSARIAL = {
    "equal_scores": (torch.tensor([[0, 0, 10, 10], [1, 1, 11, 11], [0, 0, 10, 10], [50, 50, 60, 60.0]] * 8),
                     torch.ones(32)),
    "identical_boxes": (torch.tensor([[5.0, 5.0, 20.0, 30.0]]).repeat(100, 1), torch.rand(100)),
    "identical_boxes_equal_scores": (torch.tensor([[5.0, 5.0, 20.0, 30.0]]).repeat(70, 1), torch.full((70,), 0.5)),
    "zero_area": (torch.tensor([[0, 0, 0, 0], [0, 0, 0, 0], [1, 1, 1, 5], [3, 3, 3, 3.0]]), torch.rand(4)),
    "zero_area_among_boxes": (torch.tensor([[0, 0, 10, 10], [5, 5, 5, 5], [0, 0, 10, 10], [2, 2, 2, 8.0]]),
                              torch.tensor([0.1, 0.9, 0.5, 0.7])),
    "single": (torch.tensor([[1.0, 2.0, 3.0, 4.0]]), torch.tensor([0.5])),
    "nested": (torch.tensor([[0, 0, 100, 100], [0, 0, 50, 50], [0, 0, 25, 25], [0, 0, 12, 12.0]]),
               torch.tensor([0.4, 0.3, 0.2, 0.1])),
    "touching_edges": (torch.tensor([[0, 0, 1, 1], [1, 0, 2, 1], [0, 1, 1, 2], [1, 1, 2, 2.0]]), torch.rand(4)),
    "huge_and_tiny": (torch.cat([torch.tensor([[0, 0, 1e4, 1e4]]), random_boxes(500, 1e4, 10.0)[0]]),
                      torch.rand(501)),
    "grid_of_duplicates": (torch.cat([random_boxes(50, 500, 50, seed=5)[0]] * 40), torch.rand(2000)),
}


@pytest.mark.parametrize("case", sorted(ADVERSARIAL))
@pytest.mark.parametrize("thr", [0.0, 0.5, 1.0])
def test_adversarial_inputs_match_torchvision(device, case, thr):
    boxes, scores = (t.to(device) for t in ADVERSARIAL[case])
    torch.testing.assert_close(tvx.ops.nms(boxes, scores, thr), torchvision.ops.nms(boxes, scores, thr),
                               rtol=0, atol=0)


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_half_precision_is_computed_in_float32(device, dtype):
    g = torch.Generator().manual_seed(3)
    xy = torch.randint(0, 200, (250, 2), generator=g).float()
    boxes = torch.cat([xy, xy + torch.randint(1, 50, (250, 2), generator=g)], 1)  # exact in 16 bits
    scores = torch.randperm(250, generator=g).float() / 256  # distinct and exact in 16 bits
    want = torchvision.ops.nms(boxes, scores, 0.5)
    got = tvx.ops.nms(boxes.to(device, dtype), scores.to(device, dtype), 0.5)
    torch.testing.assert_close(got.cpu(), want, rtol=0, atol=0)


def test_nan_semantics_match_torchvision():
    nan = math.nan
    boxes = torch.tensor([[0, 0, 10, 10], [0, 0, nan, 10], [0, 0, 10, 10], [1, 1, 9, 9], [nan] * 4])
    scores = torch.tensor([0.9, 0.95, 0.8, nan, 0.1])
    got = tvx.ops.nms(boxes, scores, 0.5)
    # NaN score first; the NaN-coordinate boxes (1, 4) take part in no suppression.
    assert got.tolist() == [3, 1, 4]
    torch.testing.assert_close(got, torchvision.ops.nms(boxes, scores, 0.5), rtol=0, atol=0)
    assert tvx.ops.nms(boxes[:1].repeat(3, 1), torch.rand(3), nan).numel() == 3


@pytest.mark.skipif(not CUDA, reason="no CUDA device")
def test_nan_semantics_cuda_match_cpu():
    nan = math.nan
    boxes = torch.tensor([[0, 0, 10, 10], [0, 0, nan, 10], [0, 0, 10, 10], [1, 1, 9, 9], [nan] * 4])
    scores = torch.tensor([0.9, 0.95, 0.8, nan, 0.1])
    assert tvx.ops.nms(boxes.cuda(), scores.cuda(), 0.5).tolist() == tvx.ops.nms(boxes, scores, 0.5).tolist()


@pytest.mark.parametrize("n", [500, 6000])  # torchvision switches algorithm above 4000 boxes
def test_batched_nms_matches_torchvision(device, n):
    boxes, scores = random_boxes(n, 500.0, 80.0, torch.float64, device, seed=n)
    idxs = torch.randint(0, 10, (n,), generator=torch.Generator().manual_seed(n)).to(device)
    want = torchvision.ops.batched_nms(boxes, scores, idxs, 0.5)
    got = tvx.ops.batched_nms(boxes, scores, idxs, 0.5)
    torch.testing.assert_close(got, want, rtol=0, atol=0)


@pytest.mark.skipif(not CUDA, reason="no CUDA device")
def test_mismatched_devices():
    with pytest.raises(RuntimeError, match="tvx.nms: boxes and scores must be on the same device"):
        tvx.ops.nms(torch.rand(3, 4, device="cuda"), torch.rand(3), 0.5)


@pytest.mark.parametrize("spread", ["offset", "sparse", "table"])
def test_batched_nms_categories_far_apart(device, spread):
    """The CPU grid numbers the categories in order of first sight: through an array over their
    range where it is small (negative ids too; ids far apart in it), a hash table where it is
    not (ids near the int64 limits); each gives torchvision's per-class result."""
    n = 6000
    boxes, scores = clustered(device, n, seed=5, objects=20)
    g = torch.Generator().manual_seed(5)
    if spread == "offset":
        idxs = torch.randint(-40, 40, (n,), generator=g)
    elif spread == "sparse":  # two ids far apart within the array's range: two categories, not 20001
        idxs = torch.randint(0, 2, (n,), generator=g) * 20000
    else:
        values = torch.tensor([-2**63, -2**40, -1, 0, 7, 2**40, 2**63 - 1])
        idxs = values[torch.randint(0, len(values), (n,), generator=g)]
    idxs = idxs.to(device)
    want = torchvision.ops.boxes._batched_nms_vanilla(boxes, scores, idxs, 0.5)
    got = tvx.ops.batched_nms(boxes, scores, idxs, 0.5)
    assert want.numel() < n // 2
    torch.testing.assert_close(got.sort()[0], want.sort()[0], rtol=0, atol=0)


def test_batched_nms_float_idxs_match_torchvision(device):
    boxes, scores = random_boxes(800, 300.0, 80.0, torch.float64, device, seed=9)
    idxs = (torch.randint(0, 5, (800,), generator=torch.Generator().manual_seed(9)).double()).to(device)  # whole numbers: torchvision offsets boxes by idxs
    torch.testing.assert_close(tvx.ops.batched_nms(boxes, scores, idxs, 0.5),
                               torchvision.ops.batched_nms(boxes, scores, idxs, 0.5), rtol=0, atol=0)


def test_inputs_requiring_grad():
    boxes, scores = random_boxes(50)
    got = tvx.ops.nms(boxes.requires_grad_(), scores.requires_grad_(), 0.5)
    torch.testing.assert_close(got, torchvision.ops.nms(boxes.detach(), scores.detach(), 0.5), rtol=0, atol=0)


def test_torch_compile_fullgraph(device):
    def detect(boxes, scores):
        keep = torch.ops.tvx.nms(boxes, scores, 0.5)
        return boxes[keep], scores[keep]

    compiled = torch.compile(detect, fullgraph=True, dynamic=True)
    for n in (100, 300):
        boxes, scores = random_boxes(n, device=device, seed=n)
        got_boxes, got_scores = compiled(boxes, scores)
        keep = torchvision.ops.nms(boxes, scores, 0.5)
        torch.testing.assert_close(got_boxes, boxes[keep])
        torch.testing.assert_close(got_scores, scores[keep])




def clustered(device, n, seed, dtype=torch.float32, objects=None):
    """Detector-like boxes: about 40 per object (or n / objects), jittered around it (centre by
    5% of its size, sides by 10%), so they overlap heavily and few survive."""
    g = torch.Generator().manual_seed(seed)
    objects = objects or max(1, n // 40 + 1)
    centre = torch.rand(objects, 2, generator=g, dtype=torch.float64) * 600
    half = torch.rand(objects, 2, generator=g, dtype=torch.float64) * 40 + 10
    pick = torch.randint(0, objects, (n,), generator=g)
    c = centre[pick] + torch.randn(n, 2, generator=g, dtype=torch.float64) * half[pick] * 0.1
    h = half[pick] * (1 + 0.1 * torch.randn(n, 2, generator=g, dtype=torch.float64)).clamp(min=0.5)
    boxes = torch.cat([c - h, c + h], 1).to(dtype=dtype, device=device)
    return boxes, torch.rand(n, generator=g, dtype=torch.float64).to(dtype=dtype, device=device)


def on_threads(count, call):
    """call() with torch's thread count set to `count` (more threads than cores is fine)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(count)
    try:
        return call()
    finally:
        torch.set_num_threads(threads)


def _bad(op, batched=False):
    def args(boxes, scores):
        return (boxes, scores) + ((torch.zeros(boxes.shape[0], dtype=torch.int64, device=boxes.device),) if batched else ()) + (0.5,)
    cases = [
        Bad("boxes [3, 5]", lambda d: args(torch.rand(3, 5, device=d), torch.rand(3, device=d)),
            rf"{op}: boxes must have shape \[N, 4\], got \[3, 5\]"),
        Bad("1-D boxes", lambda d: args(torch.rand(3, device=d), torch.rand(3, device=d)), rf"{op}: boxes must have shape"),
        Bad("4 scores for 3 boxes", lambda d: args(torch.rand(3, 4, device=d), torch.rand(4, device=d)),
            rf"{op}: boxes and scores must have the same length"),
        Bad("scores [3, 1]", lambda d: args(torch.rand(3, 4, device=d), torch.rand(3, 1, device=d)),
            rf"{op}: scores must have shape \[N\]"),
        Bad("int64 boxes", lambda d: args(torch.ones(3, 4, dtype=torch.int64, device=d), torch.rand(3, device=d)),
            rf"{op}: boxes must be float32, float64, float16 or bfloat16, got int64"),
        Bad("float32 boxes, float64 scores",
            lambda d: args(torch.rand(3, 4, device=d), torch.rand(3, dtype=torch.float64, device=d)),
            rf"{op}: boxes and scores must have the same dtype"),
    ]
    if batched:
        cases.append(Bad("idxs [2] for 3 boxes",
                         lambda d: (torch.rand(3, 4, device=d), torch.rand(3, device=d),
                                    torch.zeros(2, dtype=torch.int64, device=d), 0.5),
                         rf"{op}: idxs must have shape \[3\], got \[2\]"))
        cases.append(Bad("complex idxs",
                         lambda d: (torch.rand(3, 4, device=d), torch.rand(3, device=d),
                                    torch.zeros(3, dtype=torch.complex64, device=d), 0.5),
                         rf"{op}: idxs must be real numbers"))
    return cases


NMS = Contract(
    op=torch.ops.tvx.nms.default,
    make=lambda device, n, seed: (*clustered(device, n, seed), 0.5),
    oracle=torchvision.ops.nms,
    torchvision="nms",
    bad=_bad("tvx.nms"),
    autocast_fp32=True,
)

BATCHED_NMS = Contract(
    op=torch.ops.tvx.batched_nms.default,
    make=lambda device, n, seed: (*clustered(device, n, seed),
                                  torch.randint(0, 3, (n,), generator=torch.Generator().manual_seed(seed)).to(device), 0.5),
    oracle=torchvision.ops.batched_nms,
    bad=_bad("tvx.batched_nms", batched=True),
    autocast_fp32=True,
)


@pytest.mark.parametrize("check", NMS.checks())
def test_nms_contract(check, device):
    NMS.run(check, device)


@pytest.mark.parametrize("check", BATCHED_NMS.checks())
def test_batched_nms_contract(check, device):
    BATCHED_NMS.run(check, device)


@pytest.mark.parametrize("n", [1000, 5000])
@pytest.mark.parametrize("thr", [0.3, 0.5, 0.7])
@pytest.mark.parametrize("objects", [None, 30, 3])  # ~40 boxes per object; hundreds; thousands (heavy overlap)
def test_clustered_boxes_match_torchvision(device, n, thr, objects):
    boxes, scores = clustered(device, n, seed=n, objects=objects)
    want = torchvision.ops.nms(boxes, scores, thr)
    assert want.numel() < n // 4  # heavy overlap: most boxes suppressed
    torch.testing.assert_close(tvx.ops.nms(boxes, scores, thr), want, rtol=0, atol=0)
    idxs = torch.randint(0, 80, (n,), generator=torch.Generator().manual_seed(n)).to(device)
    # torchvision's batched_nms on CUDA below 20000 coordinates shifts each class's boxes by
    # idx * (max coordinate + 1) and runs one nms: the shifted coordinates round, and a pair
    # near the threshold can flip (here 2885 kept instead of 2886 at 0.7). tvx runs each class
    # on its own coordinates, as torchvision's per-class path (its CPU path at this size) does.
    want = torchvision.ops.boxes._batched_nms_vanilla(boxes, scores, idxs, thr)
    got = tvx.ops.batched_nms(boxes, scores, idxs, thr)
    same_batched(got, want, scores)  # 5000 float32 scores hold a tie or two


def same_batched(got, want, scores):
    """torchvision orders the kept boxes of all classes with an unstable sort: boxes of equal
    score may come in either order; tvx keeps them in index order. Same boxes, same scores."""
    torch.testing.assert_close(got.sort()[0], want.sort()[0], rtol=0, atol=0)
    torch.testing.assert_close(scores[got], scores[want], rtol=0, atol=0)


@pytest.mark.parametrize("threads", [2, 4, 13])
@pytest.mark.parametrize("layout", ["uniform", "clustered"])
def test_cpu_batches_in_parallel_equal_one_thread(layout, threads):
    """From 4096 boxes the CPU kernel tests batches of candidates on all threads against the
    boxes kept before the batch, then settles the survivors in order: the decisions of one
    thread's scan, whether few boxes survive a batch (clustered) or most (uniform). From 4
    threads the score sort and the gather run on the threads too (13: uneven buckets).
    batched_nms's 5 categories go side by side on 2 and 4 threads (each on one thread); on 13
    they are fewer than half the threads, so they take the one scan's batches."""
    n = 9000
    boxes, scores = random_boxes(n, 1000.0, 100.0, seed=3) if layout == "uniform" else clustered("cpu", n, seed=3)
    idxs = torch.randint(0, 5, (n,), generator=torch.Generator().manual_seed(3))

    def both():
        assert torch.get_num_threads() in (1, threads)
        return tvx.ops.nms(boxes, scores, 0.5), tvx.ops.batched_nms(boxes, scores, idxs, 0.5)
    one = on_threads(1, both)
    many = on_threads(threads, both)
    assert torch.equal(one[0], many[0]) and torch.equal(one[1], many[1])
    assert torch.equal(many[0], torchvision.ops.nms(boxes, scores, 0.5))
    same_batched(many[1], torchvision.ops.boxes._batched_nms_vanilla(boxes, scores, idxs, 0.5), scores)
    if layout == "uniform":
        assert many[0].numel() > n // 2  # most boxes kept: survivors settle through the grid


@pytest.mark.parametrize("n", [4096, 9001])
@pytest.mark.parametrize("threads", [4, 13])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("scores", ["ties", "equal"])
def test_cpu_sort_on_threads_is_torch_sort_s(dtype, scores, threads, n):
    """From 4 threads and 4096 boxes the CPU kernel sorts the scores on threads (buckets cut
    by splitters from a sample, each radix-sorted on its own): the kept boxes' order is
    torch.sort(stable, descending)'s, with ties, +-0, NaN and infinities, and with all scores
    equal (the splitters then cut by index). (Empty buckets, from more than 256 threads, are
    not reached here.)"""
    g = torch.Generator().manual_seed(2)
    if scores == "ties":
        s = torch.randint(-50, 50, (n,), generator=g).to(dtype) / 8
        s[::97] = -0.0
        s[::89] = float("nan")
        s[::211] = float("inf")
        s[::307] = -float("inf")
    else:
        s = torch.full((n,), 0.25, dtype=dtype)
    x = torch.arange(n, dtype=dtype) * 3  # disjoint boxes: all kept, in score order
    boxes = torch.stack([x, torch.zeros(n, dtype=dtype), x + 1, torch.ones(n, dtype=dtype)], 1)

    def call():
        assert torch.get_num_threads() == threads
        return tvx.ops.nms(boxes, s, 0.5)
    torch.testing.assert_close(on_threads(threads, call), torch.sort(s, stable=True, descending=True).indices,
                               rtol=0, atol=0)


@pytest.mark.parametrize("threads", [1, 4])
def test_cpu_non_finite_coordinates_on_threads(threads):
    """A NaN or infinite coordinate anywhere (here in low-score boxes: on 4 threads, in the
    score sort's last bucket) sends the CPU kernel to the quadratic scan; batched_nms on
    threads does so for that box's category only. Both give torchvision's result."""
    n = 4500
    boxes, scores = clustered("cpu", n, seed=8)
    low = scores.argsort()[:3]
    boxes[low[0], 0] = float("nan")
    boxes[low[1], 2] = float("inf")
    boxes[low[2], 1] = -float("inf")
    idxs = torch.randint(0, 9, (n,), generator=torch.Generator().manual_seed(8))
    got = on_threads(threads, lambda: (tvx.ops.nms(boxes, scores, 0.5), tvx.ops.batched_nms(boxes, scores, idxs, 0.5)))
    assert torch.equal(got[0], torchvision.ops.nms(boxes, scores, 0.5))
    same_batched(got[1], torchvision.ops.boxes._batched_nms_vanilla(boxes, scores, idxs, 0.5), scores)


@pytest.mark.parametrize("threads", [2, 4])
@pytest.mark.parametrize("case", ["finite", "non-finite", "thr -0.1", "thr nan"])
def test_cpu_batched_nms_large_and_small_categories(threads, case):
    """batched_nms on threads scans the categories side by side; one of 4096 boxes or more
    takes the threads' batches on its own, after them. 5000 clustered boxes of one class beside
    4000 over 40 others and a class of one box; also with NaN and infinite coordinates among
    the best boxes of the large class and of a small one (their categories take the quadratic
    scan), and with thresholds below zero and NaN: torchvision's result, one thread's."""
    big, rest = clustered("cpu", 5000, seed=11), clustered("cpu", 4000, seed=12)
    boxes, scores = torch.cat([big[0], rest[0]]), torch.cat([big[1], rest[1]])
    idxs = torch.cat([torch.full((5000,), 7), torch.randint(100, 140, (4000,), generator=torch.Generator().manual_seed(1))])
    idxs[-1] = -5
    thr = {"thr -0.1": -0.1, "thr nan": float("nan")}.get(case, 0.5)
    if case == "non-finite":
        best = scores[:5000].argsort(descending=True)[:2]
        boxes[best[0], 0], boxes[best[1], 3] = float("nan"), float("inf")
        boxes[5000 + scores[5000:].argmax(), 2] = -float("inf")

    def call():
        assert torch.get_num_threads() in (1, threads)
        return tvx.ops.batched_nms(boxes, scores, idxs, thr)
    one, many = on_threads(1, call), on_threads(threads, call)
    assert torch.equal(one, many)
    same_batched(many, torchvision.ops.boxes._batched_nms_vanilla(boxes, scores, idxs, thr), scores)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("per_class", [1, 2, 16, 40])
@pytest.mark.parametrize("thr", [0.5, -0.1])
def test_cpu_batched_nms_many_small_categories(per_class, dtype, thr):
    """6000 boxes in categories of 1, 2, 16 (scanned in place, by the quadratic scan) or 40
    boxes (copied and gridded), handed out to 4 threads, with NaN and infinite coordinates in
    a few and a threshold below zero: torchvision's result, one thread's."""
    n = 6000
    boxes, scores = clustered("cpu", n, seed=13, dtype=dtype)
    boxes[::997, 0] = float("nan")
    boxes[5::1499, 3] = float("inf")
    idxs = torch.randperm(n, generator=torch.Generator().manual_seed(13)) // per_class
    one = on_threads(1, lambda: tvx.ops.batched_nms(boxes, scores, idxs, thr))
    many = on_threads(4, lambda: tvx.ops.batched_nms(boxes, scores, idxs, thr))
    assert torch.equal(one, many)
    want = torchvision.ops.boxes._batched_nms_vanilla(boxes, scores, idxs, thr)
    if per_class == 1:
        assert want.numel() == n
    same_batched(many, want, scores)


@pytest.mark.parametrize("thr", [-0.1, -0.0, 0.0, float("nan")])
def test_thresholds_at_and_below_zero(device, thr):
    """Below zero a disjoint pair suppresses too (IoU 0 > thr): no pair may be skipped for not
    overlapping. NaN coordinates give NaN IoUs, which suppress nothing."""
    boxes, scores = random_boxes(300, 1000.0, 50.0, seed=9)
    boxes[::37, 1] = float("nan")
    want = torchvision.ops.nms(boxes, scores, thr)
    got = tvx.ops.nms(boxes.to(device), scores.to(device), thr).cpu()
    torch.testing.assert_close(got, want, rtol=0, atol=0)


def test_fake_kernels_check_what_the_kernels_check():
    from torch._subclasses.fake_tensor import FakeTensorMode
    from torch.fx.experimental.symbolic_shapes import ShapeEnv
    with FakeTensorMode(shape_env=ShapeEnv()):
        boxes, scores = torch.rand(5, 4), torch.rand(5)
        with pytest.raises(RuntimeError, match="tvx.batched_nms: idxs must be real numbers"):
            torch.ops.tvx.batched_nms(boxes, scores, torch.zeros(5, dtype=torch.complex64), 0.5)
        with pytest.raises(RuntimeError, match="tvx.nms: boxes and scores must be on the same device"):
            torch.ops.tvx.nms(boxes, torch.rand(5, device="meta"), 0.5)
        with pytest.raises(RuntimeError, match="tvx.nms: boxes must be float32, float64, float16 or bfloat16"):
            torch.ops.tvx.nms(torch.ones(5, 4, dtype=torch.int64), scores, 0.5)


@pytest.mark.skipif(not CUDA, reason="no CUDA device")
def test_cuda_takes_a_million_boxes_within_4_gb():
    """1M detector boxes (a 125 GB mask) run in chunks: torchvision's CPU result, in under
    4 GB of GPU memory."""
    n = 1_000_000
    boxes, scores = clustered("cpu", n, seed=3, objects=300)
    want = torchvision.ops.nms(boxes, scores, 0.5)
    boxes, scores = boxes.cuda(), scores.cuda()
    torch.cuda.synchronize()
    torch.cuda.reset_peak_memory_stats()
    before = torch.cuda.memory_allocated()
    got = tvx.ops.nms(boxes, scores, 0.5)
    assert torch.cuda.max_memory_allocated() - before < (4 << 30)
    torch.testing.assert_close(got.cpu(), want, rtol=0, atol=0)


@pytest.mark.skipif(not CUDA, reason="no CUDA device")
@pytest.mark.parametrize("kind", ["clustered", "uniform", "batched"])
@pytest.mark.parametrize("n", [4095, 4096, 4097, 12345])
def test_cuda_chunked_path_matches_torchvision(monkeypatch, kind, n):
    """The chunked path (forced by a zero mask budget) at and around the 4096-box chunk edges."""
    monkeypatch.setenv("TVX_NMS_MAX_MASK_BYTES", "0")
    if kind == "uniform":
        boxes, scores = _uniform_boxes(n, seed=n)
    else:
        boxes, scores = clustered("cpu", n, seed=n)
    if kind == "batched":
        idxs = torch.randint(0, 80, (n,), generator=torch.Generator().manual_seed(n))
        want = torchvision.ops.boxes._batched_nms_vanilla(boxes, scores, idxs, 0.5)
        got = tvx.ops.batched_nms(boxes.cuda(), scores.cuda(), idxs.cuda(), 0.5).cpu()
        torch.testing.assert_close(got.sort()[0], want.sort()[0], rtol=0, atol=0)
        torch.testing.assert_close(scores[got], scores[want], rtol=0, atol=0)
    else:
        want = torchvision.ops.nms(boxes, scores, 0.5)
        torch.testing.assert_close(tvx.ops.nms(boxes.cuda(), scores.cuda(), 0.5).cpu(), want, rtol=0, atol=0)


@pytest.mark.parametrize("n", [8000, 14000])  # with n // 8 more: one mask (<= 16384 boxes)
def test_kept_density_changing_along_the_order_matches_torchvision(device, n):
    """Clustered boxes with disjoint ones among them: many among the highest scores (blocks of
    64 that keep all their boxes, whose later words every thread of the CUDA reduce loads),
    few below (blocks that keep a box or a few, where most of its threads leave the step
    early); one call takes both."""
    boxes, scores = clustered("cpu", n, seed=n)
    g = torch.Generator().manual_seed(n + 1)
    m = n // 8
    x = torch.arange(m, dtype=torch.float32) * 3
    # 2 x 2 boxes in a row below the clusters' centres: a cluster box that reaches them (sides
    # at least 10) overlaps one by at most 4 of its 100 or more: IoU < 0.5, none suppressed.
    lone = torch.stack([x, torch.full_like(x, -50.0), x + 2, torch.full_like(x, -48.0)], 1)
    lone_scores = torch.cat([1 + torch.rand(m // 2, generator=g, dtype=torch.float64),  # above every cluster box
                             torch.rand(m - m // 2, generator=g, dtype=torch.float64)])
    boxes = torch.cat([boxes, lone]).to(device)
    scores = torch.cat([scores, lone_scores.to(scores.dtype)]).to(device)
    want = torchvision.ops.nms(boxes, scores, 0.5)
    assert (want >= n).sum() == m  # every disjoint box kept
    torch.testing.assert_close(tvx.ops.nms(boxes, scores, 0.5), want, rtol=0, atol=0)


def _uniform_boxes(n, seed):
    g = torch.Generator().manual_seed(seed)
    xy = torch.rand(n, 2, generator=g) * 1000
    wh = torch.rand(n, 2, generator=g) * 100 + 1
    return torch.cat([xy, xy + wh], 1), torch.rand(n, generator=g)


@pytest.mark.parametrize("n", [1000, 1024, 1025, 4096, 4097, 5000, 10240, 10241, 16384, 16385])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_kept_order_is_torch_sort_s(device, dtype, n):
    """Disjoint boxes are all kept, in score order: torch.sort(stable, descending) of scores
    with ties, -0.0 and +0.0, NaN, infinities and negative values (the CPU's radix sort; on
    CUDA one block's radix sort up to 16384 boxes, float32's in blocks of 1024, 4096, 10240
    or 16384 keys: each edge here; ATen's sort and the rounds above)."""
    g = torch.Generator().manual_seed(1)
    scores = (torch.randint(-50, 50, (n,), generator=g).to(dtype) / 8)  # many ties
    scores[::97] = -0.0
    scores[::89] = float("nan")
    scores[::211] = float("inf")
    scores[::307] = -float("inf")
    x = torch.arange(n, dtype=dtype) * 3
    boxes = torch.stack([x, torch.zeros(n, dtype=dtype), x + 1, torch.ones(n, dtype=dtype)], 1)
    want = torch.sort(scores, stable=True, descending=True).indices
    got = tvx.ops.nms(boxes.to(device), scores.to(device), 0.5).cpu()
    torch.testing.assert_close(got, want, rtol=0, atol=0)
