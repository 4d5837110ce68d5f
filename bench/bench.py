"""tvx against torchvision, in one process, on the same inputs.

    python bench/bench.py [--json out.json] [--only GROUP[,GROUP...]] (nms roi deform resnet transforms resize geometry io) [--quick] [--images DIR]

CPU cases are timed with perf_counter, CUDA cases with CUDA events; each number is the
median of many runs after warm-up. "speedup" is torchvision's time over tvx's; peak memory
is the most device memory allocated during one call beyond what was allocated before it.
"""
from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import torch
import torchvision

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "python"))
os.environ.setdefault("TVX_LIBRARY", str(ROOT / "build" / os.environ.get("TVX_PRESET", "dev") / "src" / "libtvx.so"))
import tvx  # noqa: E402


def median_time(fn, device: str, runs: int, warmup: int = 3) -> float:
    """Median seconds of fn() over `runs` calls."""
    for _ in range(warmup):
        fn()
    times = []
    if device == "cuda":
        torch.cuda.synchronize()
        for _ in range(runs):
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            fn()
            end.record()
            end.synchronize()
            times.append(start.elapsed_time(end) / 1e3)
    else:
        for _ in range(runs):
            t0 = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t0)
    return statistics.median(times)


def peak_memory(fn, device: str) -> int | None:
    if device != "cuda":
        return None
    torch.cuda.synchronize()
    base = torch.cuda.memory_allocated()
    torch.cuda.reset_peak_memory_stats()
    fn()
    torch.cuda.synchronize()
    return torch.cuda.max_memory_allocated() - base


def boxes(n: int, extent: float, size: float, device: str, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    xy = torch.rand(n, 2, generator=g) * extent
    wh = torch.rand(n, 2, generator=g) * size + 1
    return torch.cat([xy, xy + wh], 1).to(device), torch.rand(n, generator=g).to(device)


def detections(n: int, objects: int, device: str, seed: int = 0, jitter: float = 0.1):
    """A detector's raw output before nms: n boxes jittered around `objects` objects of 20 to
    400 px in a 1216 x 800 image (centre by `jitter` of the object's size, sides by the same),
    so boxes of one object overlap heavily and few are kept; scores uniform; and a class per
    box (the object's class 70% of the time, else any of 80)."""
    g = torch.Generator().manual_seed(seed)
    centre = torch.rand(objects, 2, generator=g) * torch.tensor([1216.0, 800.0])
    size = torch.exp(torch.empty(objects, 2).uniform_(3.0, 6.0, generator=g))
    pick = torch.randint(0, objects, (n,), generator=g)
    c = centre[pick] + torch.randn(n, 2, generator=g) * size[pick] * jitter
    half = size[pick] / 2 * (1 + jitter * torch.randn(n, 2, generator=g)).clamp(min=0.3)
    b = torch.cat([c - half, c + half], 1)
    cls = torch.where(torch.rand(n, generator=g) < 0.7, torch.randint(0, 80, (objects,), generator=g)[pick],
                      torch.randint(0, 80, (n,), generator=g))
    return b.to(device), torch.rand(n, generator=g).to(device), cls.to(device)


def nms_cases(quick: bool):
    """nms on a detector's output ("clustered": a few dozen objects, hundreds of boxes each;
    "heavy-overlap": 5 objects, thousands each, 5% jitter) and on uniform boxes (sides 1-101 px,
    corners uniform over a 1000 px square, "uniform-dense", or a 10000 px one, "uniform-sparse":
    almost no overlap, torchvision's quadratic worst case); batched_nms over 80 classes."""
    cases = []

    def add(name, theirs, ours, device, runs):
        cases.append(dict(case=name, torchvision=median_time(theirs, device, runs), tvx=median_time(ours, device, runs),
                          torchvision_mem=peak_memory(theirs, device), tvx_mem=peak_memory(ours, device)))

    for device, sizes in (("cpu", [1000, 10000]), ("cuda", [1000, 10000, 50000])):
        if device == "cuda" and not torch.cuda.is_available():
            continue
        for n in sizes:
            inputs = {"clustered": detections(n, 40, device, seed=n)[:2],
                      "heavy-overlap": detections(n, 5, device, seed=n, jitter=0.05)[:2],
                      "uniform-dense": boxes(n, 1000.0, 100.0, device, seed=n),
                      "uniform-sparse": boxes(n, 10000.0, 100.0, device, seed=n)}
            for layout, (b, s) in inputs.items():
                want = torchvision.ops.nms(b, s, 0.5)
                got = tvx.ops.nms(b, s, 0.5)
                assert torch.equal(want, got), f"nms results differ for {device} {n} {layout}"
                runs = 5 if quick else (10 if device == "cpu" and n >= 10000 else 50)
                add(f"nms {device} {n} {layout} (kept {got.numel()})", lambda: torchvision.ops.nms(b, s, 0.5),
                    lambda: tvx.ops.nms(b, s, 0.5), device, runs)
                if device == "cuda" and n == 10000 and layout != "uniform-sparse":  # 50k is chunked already
                    add(f"nms {device} {n} {layout}, tvx chunked", lambda: torchvision.ops.nms(b, s, 0.5),
                        chunked(lambda: tvx.ops.nms(b, s, 0.5)), device, runs)
        b, s, cls = detections(10000, 40, device, seed=7)
        want = torchvision.ops.batched_nms(b, s, cls, 0.5)
        got = tvx.ops.batched_nms(b, s, cls, 0.5)
        assert torch.equal(want, got), f"batched_nms results differ for {device}"
        add(f"batched_nms {device} 10000 clustered, 80 classes (kept {got.numel()})",
            lambda: torchvision.ops.batched_nms(b, s, cls, 0.5), lambda: tvx.ops.batched_nms(b, s, cls, 0.5), device,
            5 if quick else (10 if device == "cpu" else 50))
    if torch.cuda.is_available():  # beyond torchvision's reach (a 125 GB mask): tvx alone
        b, s = detections(1_000_000, 400, "cuda", seed=1)[:2]
        kept = tvx.ops.nms(b, s, 0.5).numel()
        t = median_time(lambda: tvx.ops.nms(b, s, 0.5), "cuda", 3)
        cases.append(dict(case=f"nms cuda 1000000 clustered (kept {kept}), tvx only", torchvision=float("nan"), tvx=t,
                          torchvision_mem=None, tvx_mem=peak_memory(lambda: tvx.ops.nms(b, s, 0.5), "cuda")))
    return cases


def chunked(fn):
    """fn with tvx's CUDA nms forced onto its chunked path (no suppression mask)."""
    def go():
        os.environ["TVX_NMS_MAX_MASK_BYTES"] = "0"
        try:
            return fn()
        finally:
            del os.environ["TVX_NMS_MAX_MASK_BYTES"]
    return go


def detector_rois(n: int, height: float, width: float, batch: int, device: str, seed: int = 0):
    """A detector's second-stage RoIs: boxes jittered around a few dozen objects (clustered,
    heavily overlapping), sizes from a few to a few hundred pixels, in image coordinates."""
    g = torch.Generator().manual_seed(seed)
    objects = 40
    centre = torch.rand(objects, 2, generator=g) * torch.tensor([width, height])
    size = torch.exp(torch.empty(objects, 2).uniform_(3.0, 6.0, generator=g))  # 20 to 400 px
    pick = torch.randint(0, objects, (n,), generator=g)
    c = centre[pick] + torch.randn(n, 2, generator=g) * size[pick] / 6
    s = size[pick] * (0.7 + 0.6 * torch.rand(n, 2, generator=g))
    b = torch.cat([c - s / 2, c + s / 2], 1)
    b[:, 0::2] = b[:, 0::2].clamp(0, width)
    b[:, 1::2] = b[:, 1::2].clamp(0, height)
    index = torch.randint(0, batch, (n, 1), generator=g).float()
    return torch.cat([index, b], 1).to(device)


def roi_cases(quick: bool):
    """The issue's cases: 2x256x200x304 float32 (an FPN level at stride 4 of 800x1216
    images), 1000 clustered RoIs, 7x7, sampling_ratio 2, aligned; ps ops with 10 x 7 x 7
    channels."""
    cases = []
    tv, tx = torch.ops.torchvision, torch.ops.tvx
    for device in ("cuda", "cpu"):
        if device == "cuda" and not torch.cuda.is_available():
            continue
        runs = 3 if quick or device == "cpu" else 30
        rois = detector_rois(1000, 800.0, 1216.0, 2, device)
        x = torch.randn(2, 256, 200, 304, device=device)
        xps = torch.randn(2, 490, 200, 304, device=device)

        def add(name, theirs, ours, check=True):
            if check:
                a, b = theirs(), ours()
                a, b = (a[0], b[0]) if isinstance(a, (tuple, list)) else (a, b)
                torch.testing.assert_close(b.float(), a.float(), rtol=1e-2, atol=1e-2, equal_nan=True)
            cases.append(dict(case=name, torchvision=median_time(theirs, device, runs),
                              tvx=median_time(ours, device, runs), torchvision_mem=peak_memory(theirs, device),
                              tvx_mem=peak_memory(ours, device)))

        def fwd_bwd(ns, op, inp, *args):
            def run():
                leaf = inp.detach().requires_grad_()
                out = getattr(ns, op)(leaf, rois, *args)
                out = out[0] if isinstance(out, (tuple, list)) else out
                out.backward(torch.ones_like(out))
                return leaf.grad
            return run

        align = (0.25, 7, 7, 2, True)
        add(f"roi_align {device} fwd", lambda: tv.roi_align(x, rois, *align), lambda: tx.roi_align(x, rois, *align))
        if device == "cpu":
            continue
        add("roi_align cuda fwd+bwd", fwd_bwd(tv, "roi_align", x, *align), fwd_bwd(tx, "roi_align", x, *align))
        xb = x.bfloat16()
        add("roi_align cuda fwd bf16 (tv: float32)", lambda: tv.roi_align(x, rois, *align),
            lambda: tx.roi_align(xb, rois, *align))
        add("roi_align cuda fwd+bwd bf16 (tv: float32)", fwd_bwd(tv, "roi_align", x, *align),
            fwd_bwd(tx, "roi_align", xb, *align))
        xcl = x.contiguous(memory_format=torch.channels_last)
        add("roi_align cuda fwd channels_last", lambda: tv.roi_align(xcl, rois, *align),
            lambda: tx.roi_align(xcl, rois, *align))
        adaptive = (0.25, 7, 7, 0, True)
        add("roi_align cuda fwd+bwd sampling_ratio 0", fwd_bwd(tv, "roi_align", x, *adaptive),
            fwd_bwd(tx, "roi_align", x, *adaptive))
        add("roi_pool cuda fwd", lambda: tv.roi_pool(x, rois, 0.25, 7, 7), lambda: tx.roi_pool(x, rois, 0.25, 7, 7))
        add("roi_pool cuda fwd+bwd", fwd_bwd(tv, "roi_pool", x, 0.25, 7, 7), fwd_bwd(tx, "roi_pool", x, 0.25, 7, 7))
        add("ps_roi_align cuda fwd", lambda: tv.ps_roi_align(xps, rois, 0.25, 7, 7, 2),
            lambda: tx.ps_roi_align(xps, rois, 0.25, 7, 7, 2))
        add("ps_roi_align cuda fwd+bwd", fwd_bwd(tv, "ps_roi_align", xps, 0.25, 7, 7, 2),
            fwd_bwd(tx, "ps_roi_align", xps, 0.25, 7, 7, 2))
        add("ps_roi_pool cuda fwd", lambda: tv.ps_roi_pool(xps, rois, 0.25, 7, 7),
            lambda: tx.ps_roi_pool(xps, rois, 0.25, 7, 7))
        add("ps_roi_pool cuda fwd+bwd", fwd_bwd(tv, "ps_roi_pool", xps, 0.25, 7, 7),
            fwd_bwd(tx, "ps_roi_pool", xps, 0.25, 7, 7), check=False)  # tv's gradient differs at the edge
    return cases


def deform_cases(quick: bool):
    """deform_conv2d as DCNv2 uses it in a ResNet-50's stage 3: 3x3, 256 -> 256 channels,
    padding 1, batch 8, offsets and masks predicted (offsets of a few pixels, sigmoid masks),
    at a 224 classification input (14 x 14) and an 800 x 1088 detection input (50 x 68).
    Forward + backward through each library's autograd, every argument needing a gradient."""
    cases = []
    if not torch.cuda.is_available():
        return cases
    runs = 3 if quick else 20
    for h, w in ((14, 14), (50, 68)):
        g = torch.Generator(device="cuda").manual_seed(0)
        x = torch.randn(8, 256, h, w, device="cuda", generator=g)
        weight = torch.randn(256, 256, 3, 3, device="cuda", generator=g) * 0.02
        bias = torch.randn(256, device="cuda", generator=g)
        offset = torch.randn(8, 18, h, w, device="cuda", generator=g) * 2
        mask = torch.randn(8, 9, h, w, device="cuda", generator=g).sigmoid()

        def run(lib, backward, dtype=torch.float32):
            def go():
                leaves = [t.detach().to(dtype).requires_grad_(backward) for t in (x, offset, weight, bias, mask)]
                out = lib.deform_conv2d(leaves[0], leaves[1], leaves[2], leaves[3], padding=1, mask=leaves[4])
                if backward:
                    out.backward(torch.ones_like(out))
                    return leaves[0].grad
                return out
            return go

        def add(name, theirs, ours):
            a, b = theirs(), ours()
            torch.testing.assert_close(b.float(), a.float(), rtol=5e-2, atol=5e-2 * a.abs().max().item())
            cases.append(dict(case=name, torchvision=median_time(theirs, "cuda", runs),
                              tvx=median_time(ours, "cuda", runs), torchvision_mem=peak_memory(theirs, "cuda"),
                              tvx_mem=peak_memory(ours, "cuda")))

        shape = f"8x256x{h}x{w}"
        add(f"deform_conv2d cuda fwd {shape}", run(torchvision.ops, False), run(tvx.ops, False))
        add(f"deform_conv2d cuda fwd+bwd {shape}", run(torchvision.ops, True), run(tvx.ops, True))
        add(f"deform_conv2d cuda fwd+bwd {shape} bf16 (tv: float32)", run(torchvision.ops, True),
            run(tvx.ops, True, torch.bfloat16))

        def deterministic(fn):
            def go():
                torch.use_deterministic_algorithms(True)
                try:
                    return fn()
                finally:
                    torch.use_deterministic_algorithms(False)
            return go
        add(f"deform_conv2d cuda fwd+bwd {shape} deterministic (tv: atomics)", run(torchvision.ops, True),
            deterministic(run(tvx.ops, True)))
    return cases


def profile_deform() -> None:
    """Kernel times of one deform_conv2d forward + backward of each library, at both shapes."""
    from torch.profiler import ProfilerActivity, profile
    for h, w in ((14, 14), (50, 68)):
        x = torch.randn(8, 256, h, w, device="cuda", requires_grad=True)
        offset = (torch.randn(8, 18, h, w, device="cuda") * 2).requires_grad_()
        mask = torch.randn(8, 9, h, w, device="cuda").sigmoid().requires_grad_()
        weight = (torch.randn(256, 256, 3, 3, device="cuda") * 0.02).requires_grad_()
        for lib in (tvx.ops, torchvision.ops):
            for _ in range(3):
                lib.deform_conv2d(x, offset, weight, padding=1, mask=mask).sum().backward()
            torch.cuda.synchronize()
            with profile(activities=[ProfilerActivity.CUDA, ProfilerActivity.CPU]) as prof:
                lib.deform_conv2d(x, offset, weight, padding=1, mask=mask).sum().backward()
                torch.cuda.synchronize()
            print(f"## {lib.__name__} deform_conv2d fwd+bwd 8x256x{h}x{w}")
            print(prof.key_averages().table(sort_by="cuda_time_total", row_limit=25, max_name_column_width=70))


def resnet_cases(quick: bool):
    if not torch.cuda.is_available():
        return []
    import tempfile
    cases = []
    ref = torchvision.models.resnet50().eval()
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "resnet50.pt")
        torch.save(ref.state_dict(), path)
        net = torch.classes.tvx.ResNet("resnet50", 1000)
        net.load_state_dict(path)
    batch = 256
    for dtype, name in ((torch.float32, "float32"), (torch.bfloat16, "bfloat16")):
        model = ref.to("cuda", dtype).to(memory_format=torch.channels_last)
        net.to(torch.device("cuda"), dtype, True)
        x = torch.randn(batch, 3, 224, 224, device="cuda", dtype=dtype).contiguous(memory_format=torch.channels_last)

        def run_tv():
            with torch.inference_mode():
                return model(x)

        want, got = run_tv(), net.forward(x)
        err = ((got.float() - want.float()).norm() / want.float().norm()).item()
        runs = 3 if quick else 20
        cases.append(dict(
            case=f"resnet50 cuda b{batch} {name} channels_last (rel err {err:.1e})",
            torchvision=median_time(run_tv, "cuda", runs),
            tvx=median_time(lambda: net.forward(x), "cuda", runs),
            torchvision_mem=peak_memory(run_tv, "cuda"),
            tvx_mem=peak_memory(lambda: net.forward(x), "cuda")))
    return cases


def photos(images: Path):
    """Real photos (HWC uint8): the 1080p and 2560x1600 sets of shared/images, decoded by Pillow."""
    import numpy as np
    from PIL import Image
    out = []
    for sub in ("photo-1080p", "photo-2560"):
        files = sorted((images / sub).glob("*.jpg"))[:2]
        out += [(f"{sub}/{f.name}", np.asarray(Image.open(f).convert("RGB"))) for f in files]
    return out


def transforms_cases(quick: bool, images: Path):
    """to_tensor + normalize of one photo (the usual preprocessing), against torchvision's
    functional transforms: F.to_tensor of the array (CPU) or permute/float/div of the uint8
    tensor (CUDA, torchvision has no tensor to_tensor), then F.normalize; in place on both sides."""
    import torchvision.transforms.functional as F
    if not (images / "photo-1080p").is_dir():
        print(f"# transforms: no photos under {images}; skipped (pass --images)")
        return []
    mean, std = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]
    cases = []
    for name, arr in photos(images):
        for device in ("cpu", "cuda"):
            if device == "cuda" and not torch.cuda.is_available():
                continue
            img = torch.from_numpy(arr.copy()).to(device)
            if device == "cpu":
                def tv():
                    return F.normalize(F.to_tensor(arr), mean, std, inplace=True)
            else:
                def tv():
                    return F.normalize(img.permute(2, 0, 1).float().div(255), mean, std, inplace=True)

            def ours():
                return tvx.transforms.normalize(tvx.transforms.to_tensor(img), mean, std, inplace=True)

            # tvx divides by 255, as torchvision's to_tensor does on the CPU; on CUDA, ATen's
            # division by a scalar multiplies by 1/255, which differs by 1 ulp on some values.
            want, got = tv().to(device), ours()
            if device == "cpu":
                assert torch.equal(want, got), f"to_tensor+normalize differ on {name} {device}"
            else:
                torch.testing.assert_close(got, want, rtol=1e-6, atol=1e-6)
            runs = 5 if quick else (20 if device == "cpu" else 100)
            cases.append(dict(
                case=f"to_tensor+normalize {device} {name} {arr.shape[1]}x{arr.shape[0]}",
                torchvision=median_time(tv, device, runs), tvx=median_time(ours, device, runs),
                torchvision_mem=peak_memory(tv, device), tvx_mem=peak_memory(ours, device)))
    return cases


def cuda_photo_batch(decoded):
    """The photos in one list (the CUDA list cases take 64 of them) and the uint8 batch
    64x3x512x512 on CUDA: photos cropped square and resized to 512."""
    import torchvision.transforms.v2.functional as F
    pool = [img for sub in ("photo-1080p", "photo-2560", "photo-500") for img in decoded[sub]]
    batch = torch.stack([F.resize(F.center_crop(img, [min(img.shape[-2:])] * 2), [512, 512]) for img in
                         (pool * 8)[:64]]).cuda()
    return pool, batch


def profile_resize(images: Path) -> None:
    """tvx's CUDA resize kernels one against another (TVX_RESIZE_KERNEL=direct|tiled) on the
    bench cases: ms per call, the kernel's own time and bytes moved (input once, output once)
    per second of it; then where a call's host time goes."""
    from torchvision.io import decode_jpeg, read_file
    decoded = {sub: [decode_jpeg(read_file(str(f))) for f in sorted((images / sub).glob("*.jpg"))]
               for sub in ("photo-500", "photo-1080p", "photo-2560")}
    pool, batch = cuda_photo_batch(decoded)
    varlen = [img.cuda() for img in (pool * 4)[:64]]
    mean, std = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]
    u8_out, f32_out = 64 * 3 * 224 * 224, 64 * 3 * 224 * 224 * 4
    calls = [("resize u8 bilinear 64x512x512->224", lambda: tvx.transforms.resize(batch, [224, 224]),
              batch.numel() + u8_out),
             ("resize u8 bicubic 64x512x512->224",
              lambda: tvx.transforms.resize(batch, [224, 224], interpolation="bicubic"), batch.numel() + u8_out),
             ("preprocess 64x512x512->224 f32", lambda: tvx.transforms.preprocess(batch, resize=[224, 224], mean=mean,
                                                                                  std=std), batch.numel() + f32_out),
             ("resize list of 64 photos ->224", lambda: tvx.transforms.resize(varlen, [224, 224]),
              sum(i.numel() for i in varlen) + u8_out),
             ("preprocess list resize 256 crop 224",
              lambda: tvx.transforms.preprocess(varlen, resize=[256], crop=[224, 224], mean=mean, std=std),
              sum(i.numel() for i in varlen) + f32_out)]
    from torch.profiler import ProfilerActivity, profile
    for name, call, moved in calls:
        times = []
        for kernel in ("direct", "tiled"):
            os.environ["TVX_RESIZE_KERNEL"] = kernel
            t = median_time(call, "cuda", 100)
            with profile(activities=[ProfilerActivity.CUDA]) as prof:
                for _ in range(20):
                    call()
                torch.cuda.synchronize()
            gpu = sum(e.device_time_total for e in prof.key_averages() if "resample" in e.key) / 20 / 1e6
            times.append(f"{kernel} {fmt_time(t)} per call, kernel {fmt_time(gpu)} ({moved / gpu / 1e9:.0f} GB/s)")
        os.environ.pop("TVX_RESIZE_KERNEL")
        # The host's share (the default kernel): calls enqueued back to back without waiting.
        torch.cuda.synchronize()
        t0 = time.perf_counter()
        for _ in range(50):
            call()
        host = (time.perf_counter() - t0) / 50
        torch.cuda.synchronize()
        print(f"# {name}: " + "; ".join(times) + f"; host {host * 1e6:.0f} us a call")
    # Where the host time of a call goes (the kernel runs after it).
    for name, call, _ in calls[::2]:
        with profile(activities=[ProfilerActivity.CPU]) as prof:
            for _ in range(20):
                call()
            torch.cuda.synchronize()
        print(f"# host time of {name}, 20 calls:")
        print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=10))


def resize_cases(quick: bool, images: Path):
    """resize and preprocess on real photos (shared/images), against torchvision v2 on the same
    tensors (decode_jpeg's CHW views of HWC data, as a pipeline has them), and on the CPU also
    against OpenCV (INTER_AREA) and Pillow (BILINEAR) on the HWC arrays: the "torchvision"
    column is the best of those, each named with its time.
    - CPU: uint8 1080p -> 224x224 antialiased bilinear and bicubic, all threads; float32 too,
      interleaved and planar.
    - CUDA: a uint8 batch 64x3x512x512 (photos cropped and resized to 512) -> 224x224
      antialiased bilinear; a list of 64 photos of different sizes (500x375 to 2560x1600) ->
      224x224 (tvx: one launch; torchvision: a loop); resize + to_dtype + normalize of the
      batch (tvx.preprocess, one kernel) against torchvision's three calls. Bytes moved (input
      read once, output written once) over time is printed against the H100's ~3 TB/s."""
    import torchvision.transforms.v2.functional as F
    from torchvision.io import decode_jpeg, read_file
    from torchvision.transforms import InterpolationMode as IM
    if not (images / "photo-1080p").is_dir():
        print(f"# resize: no photos under {images}; skipped (pass --images)")
        return []
    mean, std = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]
    cases = []
    files = {sub: sorted((images / sub).glob("*.jpg")) for sub in ("photo-500", "photo-1080p", "photo-2560")}
    decoded = {sub: [decode_jpeg(read_file(str(f))) for f in fs] for sub, fs in files.items()}
    runs = 5 if quick else 30
    try:
        import cv2
    except ImportError:
        cv2 = None
    from PIL import Image
    # uint8 as decoded (a CHW view of HWC data); float32 so (img.float() keeps the strides) and
    # planar (contiguous CHW, as after .contiguous() or a planar decode).
    for mode in ("bilinear", "bicubic"):
        for dtype, layout in ((torch.uint8, ""), (torch.float32, ""), (torch.float32, " planar")):
            img = decoded["photo-1080p"][0]
            x = img if dtype == torch.uint8 else img.float()
            if layout:
                x = x.contiguous()
            tv = lambda: F.resize(x, [224, 224], interpolation=IM(mode), antialias=True)
            ours = lambda: tvx.transforms.resize(x, [224, 224], interpolation=mode)
            got, want = ours(), tv()
            # (float: values 0..255 here, so within a few float32 ulps of 255)
            assert (got.double() - want.double()).abs().max() <= (0 if dtype == torch.uint8 else 2e-6 * 255)
            peers = {"tv": median_time(tv, "cpu", runs)}
            if dtype == torch.uint8:
                arr = img.permute(1, 2, 0).contiguous().numpy()
                # OpenCV's antialiased shrink is INTER_AREA; its INTER_CUBIC does not antialias
                # (it samples 4x4 pixels), so it is no peer for antialiased bicubic.
                if cv2 is not None and mode == "bilinear":
                    peers["cv2"] = median_time(lambda: cv2.resize(arr, (224, 224), interpolation=cv2.INTER_AREA),
                                               "cpu", runs)
                pil = Image.fromarray(arr)
                filt = Image.BILINEAR if mode == "bilinear" else Image.BICUBIC
                peers["PIL"] = median_time(lambda: pil.resize((224, 224), filt), "cpu", runs)
            named = " ".join(f"{k} {fmt_time(v)}" for k, v in peers.items())
            cases.append(dict(case=f"resize cpu {str(dtype)[6:]}{layout} {mode} AA 1920x1080->224 (best of {named})",
                              torchvision=min(peers.values()), tvx=median_time(ours, "cpu", runs),
                              torchvision_mem=None, tvx_mem=None))
    if not torch.cuda.is_available():
        return cases
    runs = 10 if quick else 100
    pool, batch = cuda_photo_batch(decoded)
    bytes_moved = batch.numel() + 64 * 3 * 224 * 224
    for mode in ("bilinear", "bicubic"):
        tv = lambda: F.resize(batch, [224, 224], interpolation=IM(mode), antialias=True)
        ours = lambda: tvx.transforms.resize(batch, [224, 224], interpolation=mode)
        assert (ours().int() - tv().int()).abs().max() <= 1
        t = median_time(ours, "cuda", runs)
        cases.append(dict(case=f"resize cuda u8 {mode} AA 64x512x512->224 ({bytes_moved / t / 1e9:.0f} GB/s)",
                          torchvision=median_time(tv, "cuda", runs), tvx=t,
                          torchvision_mem=peak_memory(tv, "cuda"), tvx_mem=peak_memory(ours, "cuda")))
    varlen = [img.cuda() for img in (pool * 4)[:64]]
    tv = lambda: [F.resize(img, [224, 224], antialias=True) for img in varlen]
    ours = lambda: tvx.transforms.resize(varlen, [224, 224])
    assert all((a.int() - b.int()).abs().max() <= 1 for a, b in zip(ours(), tv()))
    cases.append(dict(case="resize cuda u8 list of 64 photos 375..2560 px ->224 (1 launch)",
                      torchvision=median_time(tv, "cuda", runs), tvx=median_time(ours, "cuda", runs),
                      torchvision_mem=peak_memory(tv, "cuda"), tvx_mem=peak_memory(ours, "cuda")))
    tv = lambda: F.normalize(F.to_dtype(F.resize(batch, [224, 224], antialias=True), torch.float32, scale=True), mean, std)
    ours = lambda: tvx.transforms.preprocess(batch, resize=[224, 224], mean=mean, std=std)
    torch.testing.assert_close(ours(), tv(), rtol=0, atol=1 / 255 / 0.224 + 1e-5)
    t = median_time(ours, "cuda", runs)
    moved = batch.numel() + 64 * 3 * 224 * 224 * 4
    cases.append(dict(case=f"preprocess cuda 64x512x512 u8->224 f32 normalized ({moved / t / 1e9:.0f} GB/s)",
                      torchvision=median_time(tv, "cuda", runs), tvx=t,
                      torchvision_mem=peak_memory(tv, "cuda"), tvx_mem=peak_memory(ours, "cuda")))
    tv = lambda: torch.stack([F.normalize(F.to_dtype(F.resize(F.center_crop(F.resize(img, [256], antialias=True),
                                                                               [224, 224]), [224, 224]), torch.float32,
                                                      scale=True), mean, std) for img in varlen])
    ours = lambda: tvx.transforms.preprocess(varlen, resize=[256], crop=[224, 224], mean=mean, std=std)
    cases.append(dict(case="preprocess cuda list of 64 photos resize 256 crop 224 normalize",
                      torchvision=median_time(tv, "cuda", runs), tvx=median_time(ours, "cuda", runs),
                      torchvision_mem=peak_memory(tv, "cuda"), tvx_mem=peak_memory(ours, "cuda")))
    return cases


def geometry_cases(quick: bool, images: Path):
    """The geometric transforms on a decoded 1080p photo (uint8 CHW view of HWC data, as a
    pipeline has it) and, on CUDA, on a batch of 16 of them, against torchvision v2 on the same
    inputs: flips, crop (in and out of bounds), pad (reflect), rotate (bilinear, expand, fill),
    affine (bilinear), perspective (bilinear); plus 10k boxes through rotate. tvx writes these
    with the same ATen operations as torchvision, so the ratios say what that costs or saves."""
    import torchvision.transforms.v2.functional as F
    from torchvision import tv_tensors
    from torchvision.io import decode_jpeg, read_file
    from torchvision.transforms import InterpolationMode as IM
    photos = sorted((images / "photo-1080p").glob("*.jpg"))
    if not photos:
        print(f"# geometry: no photos under {images}; skipped (pass --images)")
        return []
    cases = []
    img = decode_jpeg(read_file(str(photos[0])))
    persp = dict(startpoints=[[0, 0], [1919, 0], [1919, 1079], [0, 1079]],
                 endpoints=[[40, 20], [1880, 60], [1900, 1050], [10, 1000]])
    ops = [("horizontal_flip", {}), ("crop", dict(top=100, left=200, height=600, width=900)),
           ("crop", dict(top=-50, left=1500, height=600, width=900)),
           ("pad", dict(padding=[30, 20], padding_mode="reflect")),
           ("rotate", dict(angle=17.0, interpolation=IM.BILINEAR, expand=True, fill=[0, 0, 0])),
           ("affine", dict(angle=8.0, translate=[20, -10], scale=0.9, shear=[4.0, 2.0], interpolation=IM.BILINEAR)),
           ("perspective", dict(persp, interpolation=IM.BILINEAR))]
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    for device in devices:
        runs = (5 if quick else 20) if device == "cpu" else (10 if quick else 100)
        x = img.to(device) if device == "cpu" else torch.stack([img] * 16).to(device)
        what = "1920x1080" if device == "cpu" else "16x1920x1080"
        for name, kwargs in ops:
            tv = lambda: getattr(F, name)(x, **kwargs)
            ours = lambda: getattr(tvx.transforms, name)(x, **kwargs)
            got, want = ours(), tv()
            assert got.shape == want.shape and (got.int() - want.int()).abs().max() <= (0 if device == "cpu" else 1)
            label = name if name != "crop" else ("crop out of bounds" if kwargs["top"] < 0 else "crop")
            cases.append(dict(case=f"{label} {device} u8 {what}", torchvision=median_time(tv, device, runs),
                              tvx=median_time(ours, device, runs), torchvision_mem=peak_memory(tv, device),
                              tvx_mem=peak_memory(ours, device)))
        b = detections(10000, 40, device)[0]
        bb = tv_tensors.BoundingBoxes(b, format="XYXY", canvas_size=(800, 1216))
        tv = lambda: F.rotate(bb, 17.0, expand=True)
        ours = lambda: tvx.transforms.rotate_bounding_boxes(b, "XYXY", (800, 1216), 17.0, expand=True)
        cases.append(dict(case=f"rotate_bounding_boxes {device} 10k", torchvision=median_time(tv, device, runs),
                          tvx=median_time(ours, device, runs), torchvision_mem=None, tvx_mem=None))
    return cases


def wall_time(fn, device: str, runs: int, warmup: int = 2) -> float:
    """Median wall seconds of fn() (synchronised when on CUDA): decoders do host work too."""
    return statistics.median(wall_times(fn, device, runs, warmup))


def wall_times(fn, device: str, runs: int, warmup: int = 2) -> list:
    """Wall seconds of each of `runs` calls of fn(), after `warmup` calls."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(runs):
        if device == "cuda":
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        fn()
        if device == "cuda":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - t0)
    return times


def io_cases(quick: bool, images: Path, cpu: bool = True):
    """Image decoding on real photos (shared/images: 40 at 500x375, 8 at 1920x1080, 8 at
    2560x1600; every file of a set, so no friendly photo is picked).
    - CPU, one thread: tvx.decode_jpeg against the best of torchvision, OpenCV (imdecode to
      RGB) and Pillow (open, load, to an array): all use libjpeg-turbo.
    - Decode to 224 (one thread): tvx's DCT-scaled decode (min_size 224 x 224) then resize of
      the shorter side to 224, against torchvision's full decode and the same resize.
    - CPU batch on all threads: tvx's list form (thread pool) against torchvision's (a loop).
    - CUDA batches: nvJPEG in tvx (hardware engine) against torchvision's decode_jpeg and
      encode_jpeg on the GPU, on the same files; decode also against nvImageCodec where it
      is installed.
    - PNG, one thread: every PNG of shared/images/png against torchvision and Pillow.
    cpu=False (group io-gpu): the CUDA rows only, e.g. under TVX_NVJPEG_BACKEND=gpu."""
    import io as _io
    import numpy as np
    import torchvision.transforms.v2.functional as F
    from PIL import Image
    try:
        import cv2
    except ImportError:
        cv2 = None
    try:  # PyPI's nvidia-nvimgcodec-cu13, where installed (scripts/gpu_check.sh carries it)
        from nvidia import nvimgcodec
    except ImportError:
        nvimgcodec = None
    sets = {"500x375": "photo-500", "1920x1080": "photo-1080p", "2560x1600": "photo-2560"}
    if not all((images / d).is_dir() for d in sets.values()):
        print(f"# io: no photo sets under {images}; skipped (pass --images shared/images)")
        return []
    cases = []
    threads = torch.get_num_threads()
    for label, sub in sets.items():
        files = sorted((images / sub).glob("*.jpg"))
        data = [torchvision.io.read_file(str(f)) for f in files]
        raw = [d.numpy().tobytes() for d in data]
        arrays = [np.frombuffer(r, np.uint8) for r in raw]
        if cpu:
            runs = 3 if quick else 15
            torch.set_num_threads(1)
            peers = {"tv": lambda: [torchvision.io.decode_jpeg(d) for d in data],
                     "PIL": lambda: [np.asarray(Image.open(_io.BytesIO(r)).convert("RGB")) for r in raw]}
            if cv2 is not None:
                cv2.setNumThreads(1)
                if hasattr(cv2, "IMREAD_COLOR_RGB"):
                    peers["cv2"] = lambda: [cv2.imdecode(a, cv2.IMREAD_COLOR_RGB) for a in arrays]
                else:
                    peers["cv2"] = lambda: [cv2.cvtColor(cv2.imdecode(a, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB) for a in arrays]
            peer_times = {k: wall_time(f, "cpu", runs) / len(data) for k, f in peers.items()}
            best = min(peer_times, key=peer_times.get)
            ours = wall_time(lambda: [tvx.io.decode_jpeg(d) for d in data], "cpu", runs) / len(data)
            cases.append(dict(case=f"decode_jpeg cpu 1 thread {label} (best peer: {best})", torchvision=peer_times[best],
                              tvx=ours, torchvision_mem=None, tvx_mem=None,
                              peers={k: v for k, v in peer_times.items()}))

            def tv_224():
                return [F.resize(torchvision.io.decode_jpeg(d), 224, antialias=True) for d in data]

            def tvx_224():
                return [F.resize(tvx.io.decode_jpeg(d, min_size=(224, 224)), 224, antialias=True) for d in data]
            cases.append(dict(case=f"decode+resize to 224 cpu 1 thread {label}", torchvision=wall_time(tv_224, "cpu", runs) / len(data),
                              tvx=wall_time(tvx_224, "cpu", runs) / len(data), torchvision_mem=None, tvx_mem=None))
            torch.set_num_threads(threads)
        many = data * max(1, 64 // len(data))
        if cpu:
            cases.append(dict(case=f"decode_jpeg cpu batch of {len(many)} {label}, {threads} threads",
                              torchvision=wall_time(lambda: torchvision.io.decode_jpeg(many), "cpu", runs),
                              tvx=wall_time(lambda: tvx.io.decode_jpeg(many), "cpu", runs), torchvision_mem=None, tvx_mem=None))
        if torch.cuda.is_available():
            runs = 5 if quick else 20
            ours = wall_time(lambda: tvx.io.decode_jpeg(many, device="cuda"), "cuda", runs)  # against both peers
            cases.append(dict(
                case=f"decode_jpeg cuda batch of {len(many)} {label}",
                torchvision=wall_time(lambda: torchvision.io.decode_jpeg(many, device="cuda"), "cuda", runs),
                tvx=ours,
                torchvision_mem=peak_memory(lambda: torchvision.io.decode_jpeg(many, device="cuda"), "cuda"),
                tvx_mem=peak_memory(lambda: tvx.io.decode_jpeg(many, device="cuda"), "cuda")))
            if nvimgcodec is not None:
                # NVIDIA's nvImageCodec (its default backends: engine, GPU, CPU), to its own
                # output (interleaved HWC on the device, taken by torch without a copy).
                decoder = nvimgcodec.Decoder()
                raw_many = [d.numpy().tobytes() for d in many]

                def nvimg():
                    out = decoder.decode([nvimgcodec.CodeStream(r) for r in raw_many])
                    assert all(o is not None for o in out)
                    return [torch.as_tensor(o, device="cuda") for o in out]
                cases.append(dict(
                    case=f"decode_jpeg cuda batch of {len(many)} {label} (peer: nvImageCodec {nvimgcodec.__version__})",
                    torchvision=wall_time(nvimg, "cuda", runs), tvx=ours, torchvision_mem=None, tvx_mem=None))
            pixels = [tvx.io.decode_jpeg(d, device="cuda") for d in many]
            cases.append(dict(
                case=f"encode_jpeg cuda batch of {len(many)} {label}",
                torchvision=wall_time(lambda: torchvision.io.encode_jpeg(pixels), "cuda", runs),
                tvx=wall_time(lambda: tvx.io.encode_jpeg(pixels), "cuda", runs),
                torchvision_mem=None, tvx_mem=None))
    # PNG, one thread: every PNG of shared/images/png (8- and 16-bit, gray, gray+alpha, RGB,
    # RGBA, palette, interlaced), against the best of torchvision and Pillow (all inflate
    # with zlib).
    pngs = sorted((images / "png").glob("*.png"))
    if pngs and cpu:
        data = [torchvision.io.read_file(str(f)) for f in pngs]
        raw = [d.numpy().tobytes() for d in data]
        runs = 3 if quick else 15
        torch.set_num_threads(1)
        peers = {"tv": lambda: [torchvision.io.decode_png(d) for d in data],
                 "PIL": lambda: [np.asarray(Image.open(_io.BytesIO(r))) for r in raw]}
        peer_times = {k: wall_time(f, "cpu", runs) / len(data) for k, f in peers.items()}
        best = min(peer_times, key=peer_times.get)
        cases.append(dict(case=f"decode_png cpu 1 thread, {len(pngs)} PNGs (best peer: {best})",
                          torchvision=peer_times[best],
                          tvx=wall_time(lambda: [tvx.io.decode_png(d) for d in data], "cpu", runs) / len(data),
                          torchvision_mem=None, tvx_mem=None, peers=dict(peer_times)))
        torch.set_num_threads(threads)
    if torch.cuda.is_available():
        cases.append(dict(case=f"(nvJPEG backend: {torch.ops.tvx._nvjpeg_backend(torch.device('cuda'))})",
                          torchvision=float("nan"), tvx=float("nan"), torchvision_mem=None, tvx_mem=None))
    return cases


def profile_nms() -> None:
    """Kernel-level times of tvx's CUDA nms on detector output (where the time goes): the
    kernels' sum against the wall time per call shows the launch and synchronisation gaps."""
    from torch.profiler import ProfilerActivity, profile
    for n, force_rounds in ((10000, False), (10000, True), (50000, False)):
        b, s = detections(n, 40, "cuda", seed=n)[:2]
        call = lambda: tvx.ops.nms(b, s, 0.5)  # noqa: E731
        call = chunked(call) if force_rounds else call
        for _ in range(3):
            call()
        torch.cuda.synchronize()
        with profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA]) as prof:
            t0 = time.perf_counter()
            for _ in range(10):
                call()
            torch.cuda.synchronize()
            wall = (time.perf_counter() - t0) / 10
        print(f"# tvx nms cuda {n} clustered{', rounds forced' if force_rounds else ''}: {wall * 1e3:.3f} ms per call "
              "(wall, profiled), 10 calls")
        print(prof.key_averages().table(sort_by="cuda_time_total", row_limit=12))


def profile_nms_threads() -> None:
    """CPU nms on 10k clustered boxes by thread count: where more threads stop helping."""
    b, s = detections(10000, 40, "cpu", seed=10000)[:2]
    most = torch.get_num_threads()
    counts = sorted({k for k in (1, 2, 4, 8, 16, 32, 64) if k < most} | {most})
    for k in counts:
        torch.set_num_threads(k)
        ours = median_time(lambda: tvx.ops.nms(b, s, 0.5), "cpu", 50)
        theirs = median_time(lambda: torchvision.ops.nms(b, s, 0.5), "cpu", 10)
        print(f"# nms cpu 10000 clustered, {k:>2} threads: tvx {ours * 1e3:.3f} ms, torchvision {theirs * 1e3:.3f} ms, "
              f"{theirs / ours:.2f}x")
    torch.set_num_threads(most)


def profile_jpeg_small(images: Path) -> None:
    """The GPU decode of small photos (500x375), where tvx trails torchvision: wall time by
    batch size and mode (GRAY skips the colour conversion), the spread of single calls, and
    where a call's time goes (host ops and kernels)."""
    from torch.profiler import ProfilerActivity, profile
    files = sorted((images / "photo-500").glob("*.jpg"))
    if not files:
        return
    data = [torchvision.io.read_file(str(f)) for f in files]
    for k in (1, 8, len(data)):
        for mode in ("RGB", "GRAY"):
            tv_mode = getattr(torchvision.io.ImageReadMode, mode)
            ours = lambda: tvx.io.decode_jpeg(data[:k], mode=mode, device="cuda")  # noqa: E731
            theirs = lambda: torchvision.io.decode_jpeg(data[:k], mode=tv_mode, device="cuda")  # noqa: E731
            t_ours, t_theirs = wall_time(ours, "cuda", 30), wall_time(theirs, "cuda", 30)
            print(f"# decode_jpeg cuda 500x375 batch of {k:>2} {mode:<4}: tvx {t_ours * 1e3:.3f} ms, "
                  f"torchvision {t_theirs * 1e3:.3f} ms, {t_theirs / t_ours:.2f}x")
    call = lambda: tvx.io.decode_jpeg(data, device="cuda")  # noqa: E731
    singles = sorted(t * 1e3 for t in wall_times(call, "cuda", 30))
    print(f"# tvx batch of {len(data)}: calls min {singles[0]:.3f}, median {statistics.median(singles):.3f}, "
          f"max {singles[-1]:.3f} ms")
    with profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA]) as prof:
        for _ in range(10):
            call()
        torch.cuda.synchronize()
    print(prof.key_averages().table(sort_by="cpu_time_total", row_limit=15))


def profile_roi() -> None:
    """Kernel times of tvx's and torchvision's RoI ops, forward + backward, on the bench cases."""
    from torch.profiler import ProfilerActivity, profile
    rois = detector_rois(1000, 800.0, 1216.0, 2, "cuda")
    x = torch.randn(2, 256, 200, 304, device="cuda", requires_grad=True)
    xps = torch.randn(2, 490, 200, 304, device="cuda", requires_grad=True)
    ops = [("roi_align", x, (0.25, 7, 7, 2, True)), ("roi_pool", x, (0.25, 7, 7)),
           ("ps_roi_align", xps, (0.25, 7, 7, 2)), ("ps_roi_pool", xps, (0.25, 7, 7))]
    for (name, inp, args), lib in itertools.product(ops, ("tvx", "torchvision")):
        op = getattr(getattr(torch.ops, lib), name)

        def step():
            out = op(inp, rois, *args)
            out = out[0] if isinstance(out, (tuple, list)) else out
            out.backward(torch.ones_like(out))

        for _ in range(3):
            step()
        torch.cuda.synchronize()
        with profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA]) as prof:
            for _ in range(10):
                step()
            torch.cuda.synchronize()
        print(f"# {lib} {name} forward + backward, 10 steps")
        print(prof.key_averages().table(sort_by="cuda_time_total", row_limit=10))


def fmt_time(s: float) -> str:
    return f"{s * 1e3:.3f} ms"


def fmt_mem(b):
    return "-" if b is None else f"{b / 2**20:.1f} MiB"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", help="write the results here")
    groups = ["nms", "roi", "deform", "resnet", "transforms", "resize", "geometry", "io", "io-gpu"]
    ap.add_argument("--only", help="groups to run, comma-separated: " + ", ".join(groups))
    ap.add_argument("--images", type=Path, default=ROOT.parent / "shared" / "images",
                    help="shared/images (the photos for the transforms cases)")
    ap.add_argument("--quick", action="store_true", help="few runs (a smoke test, not a measurement)")
    ap.add_argument("--profile", action="store_true", help="also print kernel-level times of the CUDA nms, roi_align, deform_conv2d, resize and small-photo JPEG decode, "
                    "and the CPU nms by thread count")
    args = ap.parse_args()
    only = {g.strip() for g in args.only.split(",")} if args.only else set(groups)
    if only - set(groups):
        ap.error(f"--only: unknown groups {sorted(only - set(groups))}; groups: {', '.join(groups)}")
    want = only.__contains__
    torch.backends.cudnn.benchmark = True

    cases = []
    if want("nms"):
        cases += nms_cases(args.quick)
    if want("roi"):
        cases += roi_cases(args.quick)
    if want("deform"):
        cases += deform_cases(args.quick)
    if want("resnet"):
        cases += resnet_cases(args.quick)
    if want("transforms"):
        cases += transforms_cases(args.quick, args.images)
    if want("resize"):
        cases += resize_cases(args.quick, args.images)
    if want("geometry"):
        cases += geometry_cases(args.quick, args.images)
    if want("io"):
        cases += io_cases(args.quick, args.images)
    elif want("io-gpu"):
        cases += io_cases(args.quick, args.images, cpu=False)
    for c in cases:
        c["speedup"] = c["torchvision"] / c["tvx"]

    env = dict(torch=torch.__version__, torchvision=torchvision.__version__, tvx=str(tvx.library_path),
               cpu=platform.processor() or platform.machine(), threads=torch.get_num_threads(),
               gpu=torch.cuda.get_device_name(0) if torch.cuda.is_available() else None)
    print(f"# torch {env['torch']}, torchvision {env['torchvision']}, {env['threads']} CPU threads, GPU {env['gpu']}")
    print(f"| {'case':<58} | {'torchvision':>12} | {'tvx':>12} | {'speedup':>8} | {'tv peak mem':>11} | {'tvx peak mem':>12} |")
    print(f"|{'-' * 60}|{'-' * 14}|{'-' * 14}|{'-' * 10}|{'-' * 13}|{'-' * 14}|")
    for c in cases:
        print(f"| {c['case']:<58} | {fmt_time(c['torchvision']):>12} | {fmt_time(c['tvx']):>12} | "
              f"{c['speedup']:>7.2f}x | {fmt_mem(c['torchvision_mem']):>11} | {fmt_mem(c['tvx_mem']):>12} |")
    if args.json:
        Path(args.json).write_text(json.dumps(dict(env=env, cases=cases), indent=2))
    if args.profile and want("nms"):
        profile_nms_threads()
    if args.profile and torch.cuda.is_available():
        if want("nms"):
            profile_nms()
        if want("roi"):
            profile_roi()
        if want("deform"):
            profile_deform()
        if want("resize"):
            profile_resize(args.images)
        if want("io") or want("io-gpu"):
            profile_jpeg_small(args.images)


if __name__ == "__main__":
    main()
