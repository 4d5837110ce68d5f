"""Small runs of every CUDA kernel, for compute-sanitizer: nms at sizes around the 64-box
block edges and in chunks, to_tensor on HWC/CHW/strided images, normalize in and out of place in every
dtype, resize and preprocess (every mode, lists, odd sizes, padding crops), the roi family and deform_conv2d forward and backward, nvJPEG's decode (ycc.cu) and
encode. Each compared with the CPU."""
import os
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "python"))
import tvx  # noqa: E402

# TVX_SMOKE_SKIP=ops,transforms,deform,io: leave those sections out (a shorter sanitizer run;
# ops: nms and the roi family).
SKIP = set(os.environ.get("TVX_SMOKE_SKIP", "").split(","))

if "ops" not in SKIP:
    for n in (1, 2, 63, 64, 65, 129, 3000, 16384, 16385):  # 16384: the one-block sort's and the mask's edge
        boxes = torch.rand(n, 4) * 100
        boxes[:, 2:] += boxes[:, :2]
        scores = torch.rand(n)
        idxs = torch.randint(0, 3, (n,))
        assert torch.equal(tvx.ops.nms(boxes.cuda(), scores.cuda(), 0.5).cpu(), tvx.ops.nms(boxes, scores, 0.5))
        assert torch.equal(tvx.ops.batched_nms(boxes.cuda(), scores.cuda(), idxs.cuda(), 0.5).cpu(),
                           tvx.ops.batched_nms(boxes, scores, idxs, 0.5))
    # The chunked path (no mask budget): several rounds of 4096 live boxes.
    os.environ["TVX_NMS_MAX_MASK_BYTES"] = "0"
    for n in (100, 4097, 9000):
        boxes = torch.rand(n, 4) * 1000
        boxes[:, 2:] += boxes[:, :2] * 0.05 + 1
        scores = torch.rand(n)
        idxs = torch.randint(0, 3, (n,))
        assert torch.equal(tvx.ops.nms(boxes.cuda(), scores.cuda(), 0.5).cpu(), tvx.ops.nms(boxes, scores, 0.5))
        assert torch.equal(tvx.ops.batched_nms(boxes.cuda(), scores.cuda(), idxs.cuda(), 0.5).cpu(),
                           tvx.ops.batched_nms(boxes, scores, idxs, 0.5))
    del os.environ["TVX_NMS_MAX_MASK_BYTES"]

if "transforms" not in SKIP:
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

    # resize (tensor and list, every mode, odd sizes, HWC views) and preprocess (padding crops,
    # every dtype, NHWC): against torchvision on the GPU.
    import torchvision.transforms.v2.functional as F
    from torchvision.transforms import InterpolationMode as IM
    imgs = [torch.randint(0, 256, (c, h, w), dtype=torch.uint8).cuda() for c, h, w in
            ((3, 1, 1), (3, 7, 13), (1, 31, 17), (4, 5, 9), (3, 64, 48), (2, 9, 9))]
    imgs.append(torch.randint(0, 256, (40, 30, 3), dtype=torch.uint8).cuda().permute(2, 0, 1))
    big = torch.randint(0, 256, (3, 150, 220), dtype=torch.uint8).cuda()  # several tiles of the tiled kernel
    for mode in ("nearest", "nearest-exact", "bilinear", "bicubic"):
        for aa in (True, False):
            for size in ([5, 3], [40, 70]):
                for img in imgs + ([big] if size == [40, 70] else []):
                    want = F.resize(img, size, interpolation=IM(mode), antialias=aa)
                    got = tvx.transforms.resize(img, size, interpolation=mode, antialias=aa)
                    assert (got.int() - want.int()).abs().max() <= 1, (mode, aa, size, img.shape)
                    f = img.double() / 255
                    assert (tvx.transforms.resize(f, size, mode, antialias=aa) - F.resize(f, size, IM(mode), antialias=aa)).abs().max() < 1e-9
                for got, img in zip(tvx.transforms.resize(imgs, size, interpolation=mode, antialias=aa), imgs):
                    assert (got.int() - F.resize(img, size, IM(mode), antialias=aa).int()).abs().max() <= 1
    rgb = [img for img in imgs if img.shape[0] == 3]
    for dtype in (torch.float32, torch.float64, torch.float16, torch.bfloat16):
        for cl in (False, True):
            got = tvx.transforms.preprocess(rgb, resize=[6], crop=[8, 5], mean=mean, std=std, dtype=dtype, channels_last=cl)
            want = torch.stack([F.normalize(F.to_dtype(F.center_crop(F.resize(i, [6]), [8, 5]), torch.float32, scale=True),
                                            mean, std) for i in rgb]).to(dtype)
            assert (got.double() - want.double()).abs().max() < 0.05, (dtype, cl)

if "ops" not in SKIP:
    # The roi family: forward and backward in every dtype, NCHW and channels_last, the atomic
    # and deterministic roi_pool backward, and a backward that takes several chunks (large RoIs,
    # adaptive sampling, a small grad_input).
    rois = torch.tensor([[0, 1.0, 1.0, 20.0, 14.0], [1, -5.0, 3.0, 9.0, 40.0], [0, 30.0, 30.0, 2.0, 2.0],
                         [1, 4.0, 4.0, 4.0, 4.0], [0, 0.0, 0.0, 31.0, 23.0]])
    for dtype in (torch.float32, torch.float64, torch.float16, torch.bfloat16):
        x = torch.randn(2, 12, 24, 32).to(dtype)
        for layout in (torch.contiguous_format, torch.channels_last):
            xc = x.cuda().contiguous(memory_format=layout)
            for name, extra in (("roi_align", (0, True)), ("roi_align", (2, False)), ("roi_pool", ()),
                                ("ps_roi_align", (2,)), ("ps_roi_pool", ())):
                op = getattr(torch.ops.tvx, name)
                want = op(x, rois.to(dtype), 0.5, 2, 3, *extra)
                got = op(xc, rois.cuda().to(dtype), 0.5, 2, 3, *extra)
                first = lambda o: o[0] if isinstance(o, (tuple, list)) else o  # noqa: E731
                tol = 1e-5 if dtype in (torch.float32, torch.float64) else 1e-2
                torch.testing.assert_close(first(got).cpu(), first(want), rtol=tol, atol=tol, equal_nan=True)
                for deterministic in (False, True):
                    torch.use_deterministic_algorithms(deterministic)
                    xg = xc.detach().requires_grad_()
                    first(op(xg, rois.cuda().to(dtype), 0.5, 2, 3, *extra)).float().sum().backward()
                    torch.use_deterministic_algorithms(False)
                    xw = x.detach().requires_grad_()
                    first(op(xw, rois.to(dtype), 0.5, 2, 3, *extra)).float().sum().backward()
                    torch.testing.assert_close(xg.grad.cpu(), xw.grad, rtol=tol, atol=tol)
    # roi_align's atomics 4, 2 and 1 channels wide; 40 channels: the ordered scatter's warp path
    # (32 channels per warp) and its partial second warp.
    for channels in (40, 6, 3):
        grad = torch.randn(5, channels, 2, 3)
        for deterministic in (False, True):
            torch.use_deterministic_algorithms(deterministic)
            got = torch.ops.tvx._roi_align_backward(grad.cuda(), rois.cuda(), 0.5, 2, 3, 2, channels, 24, 32, 2, True)
            torch.use_deterministic_algorithms(False)
            torch.testing.assert_close(got.cpu(), torch.ops.tvx._roi_align_backward(grad, rois, 0.5, 2, 3, 2, channels, 24,
                                                                                    32, 2, True), rtol=1e-5, atol=1e-5)
    # roi_pool with many RoIs, NCHW (four channels a thread; 7 channels leave the last thread three;
    # also a view one column in) and channels_last: RoIs wider than 32 columns on the 100-wide
    # map, ties on its three values.
    for x in (torch.randn(2, 12, 24, 32), torch.randint(0, 3, (2, 7, 30, 100)).float()):
        dense = torch.cat([torch.randint(0, 2, (300, 1)).float(), torch.rand(300, 2) * 40,
                           torch.rand(300, 2) * torch.tensor([x.shape[-1] * 2.0, 40.0]) + 20], 1)
        for layout in (torch.contiguous_format, torch.channels_last, "offset"):
            on_gpu = x.cuda()[..., 1:] if layout == "offset" else x.cuda().contiguous(memory_format=layout)
            got = torch.ops.tvx.roi_pool(on_gpu, dense.cuda(), 0.5, 7, 7)
            for g, w in zip(got, torch.ops.tvx.roi_pool(on_gpu.cpu(), dense, 0.5, 7, 7)):
                assert torch.equal(g.cpu(), w)
    # The band backward of roi_pool and the ps ops: 100 x 130 takes two bands a plane (RoIs
    # cross them; ps_roi_pool's corner bands, a sum and a count a pixel: three), 5 x 6000 a
    # row a corner band, 3 x 13000 a row a band (wider than a band's 48 KiB).
    # float32 against the CPU at 1e-4: nvcc fuses the sample coordinates' multiply-adds.
    for h, w in ((100, 130), (5, 6000), (3, 13000)):
        g = torch.Generator().manual_seed(h)
        x = torch.randn(2, 12, h, w, generator=g)
        xy = torch.rand(200, 2, generator=g) * torch.tensor([2.0 * w, 2.0 * h])
        boxes = torch.cat([torch.randint(0, 2, (200, 1), generator=g).float(), xy,
                           xy + torch.rand(200, 2, generator=g) * torch.tensor([w, h])], 1)
        for name, extra in (("roi_pool", ()), ("ps_roi_align", (2,)), ("ps_roi_pool", ())):
            op = getattr(torch.ops.tvx, name)
            xg = x.cuda().requires_grad_()
            op(xg, boxes.cuda(), 0.5, 2, 3, *extra)[0].nan_to_num().sum().backward()
            xw = x.clone().requires_grad_()
            op(xw, boxes, 0.5, 2, 3, *extra)[0].nan_to_num().sum().backward()
            torch.testing.assert_close(xg.grad.cpu(), xw.grad, rtol=1e-4, atol=1e-4)
    many = torch.tensor([[0, 0.0, 0.0, 399.0, 299.0]] * 6)
    grad = torch.randn(6, 4, 7, 7)
    torch.testing.assert_close(
        torch.ops.tvx._roi_align_backward(grad.cuda(), many.cuda(), 1.0, 7, 7, 1, 4, 300, 400, 0, True).cpu(),
        torch.ops.tvx._roi_align_backward(grad, many, 1.0, 7, 7, 1, 4, 300, 400, 0, True), rtol=1e-4, atol=1e-4)
# deform_conv2d: im2col, col2im (one chunk and several, atomic and ordered), every dtype.
if "deform" not in SKIP:
    for dtype, tol in ((torch.float32, 1e-4), (torch.float64, 1e-9), (torch.float16, 2e-2), (torch.bfloat16, 5e-2)):
        for c, og, groups in ((4, 2, 2), (64, 1, 2), (12, 2, 3), (40, 1, 1)):  # channel blocks, padded warps
            g = torch.Generator().manual_seed(c)
            args = [torch.randn(2, c, 7, 9, generator=g), torch.randn(6, c // groups, 3, 3, generator=g) * 0.2,
                    torch.randn(2, og * 18, 4, 5, generator=g) * 2, torch.rand(2, og * 9, 4, 5, generator=g),
                    torch.randn(6, generator=g)]
            ints = (2, 2, 1, 1, 1, 1, groups, og, True)
            cpu_dtype = torch.float32 if dtype in (torch.float16, torch.bfloat16) else dtype
            want = torch.ops.tvx.deform_conv2d(*[a.to(dtype).to(cpu_dtype) for a in args], *ints)
            got = torch.ops.tvx.deform_conv2d(*[a.to(dtype).cuda() for a in args], *ints)
            torch.testing.assert_close(got.cpu().to(cpu_dtype), want, rtol=tol, atol=tol * 10)
            grad = torch.randn(want.shape, generator=g)
            want = torch.ops.tvx._deform_conv2d_backward(grad.to(dtype).to(cpu_dtype),
                                                         *[a.to(dtype).to(cpu_dtype) for a in args], *ints)
            for deterministic in (False, True):
                torch.use_deterministic_algorithms(deterministic)
                got = torch.ops.tvx._deform_conv2d_backward(grad.to(dtype).cuda(), *[a.to(dtype).cuda() for a in args],
                                                            *ints)
                for a, b in zip(got, want):
                    torch.testing.assert_close(a.cpu().to(cpu_dtype), b, rtol=tol, atol=tol * 20)
            torch.use_deterministic_algorithms(False)

# GPU JPEG: nvJPEG's batched decode and ycc.cu's upsampling and conversion on 4:2:0 colour and
# gray files of odd sizes (written here by tvx's CPU encoder), in every mode, and the GPU
# encoder; a progressive file of each size (Pillow's) goes to the decoupled decoder, beside the
# engine where the GPU has one. The engine's images equal libjpeg's; the decoupled decoder's
# are within 4 (as test_io.py).
if "io" not in SKIP:
    import io as _io
    from PIL import Image
    gen = torch.Generator().manual_seed(0)
    files, progressive = [], []
    for h, w in ((1, 1), (9, 16), (17, 33), (64, 48), (301, 203)):
        base = torch.randint(0, 256, (3, (h + 7) // 8, (w + 7) // 8), generator=gen, dtype=torch.uint8)
        image = base.repeat_interleave(8, 1).repeat_interleave(8, 2)[:, :h, :w].contiguous()  # photo-like blocks
        files += [tvx.io.encode_jpeg(image, quality=q) for q in (50, 95)] + [tvx.io.encode_jpeg(image[:1], quality=90)]
        buffer = _io.BytesIO()
        Image.fromarray(image.permute(1, 2, 0).numpy()).save(buffer, format="JPEG", quality=85, progressive=True)
        files.append(torch.frombuffer(bytearray(buffer.getvalue()), dtype=torch.uint8))
        progressive.append(len(files) - 1)
    hardware = torch.ops.tvx._nvjpeg_backend(torch.device("cuda")).startswith("hardware")
    for mode in ("UNCHANGED", "GRAY", "RGB"):
        got = tvx.io.decode_jpeg(files, mode=mode, device="cuda")
        for i, (g, f) in enumerate(zip(got, files)):
            want = tvx.io.decode_jpeg(f, mode=mode)
            limit = 0 if hardware and i not in progressive else 4
            assert g.shape == want.shape and (g.cpu().int() - want.int()).abs().max() <= limit, (mode, want.shape, i)
    images = [tvx.io.decode_jpeg(f, mode="RGB", device="cuda") for f in files[:6]]
    encoded = tvx.io.encode_jpeg(images + [images[0][:1]], quality=80)
    assert all(e.is_cuda and e.numel() > 100 for e in encoded)
print("cuda smoke: every CUDA kernel equals the CPU")
