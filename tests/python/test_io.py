"""Image I/O against torchvision.io 0.26 on the real files of ../shared/images (or
$TVX_IMAGES): schemas, pixel-equal JPEG and PNG decoding in every mode with and without
EXIF orientation, clear errors on every corrupt file, no leak."""
import os
import resource
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import pytest
import torch
import torchvision.io

import tvx

ROOT = Path(__file__).resolve().parents[2]


def _images() -> Path:
    """$TVX_IMAGES, else shared/images beside this checkout, else beside the checkout this
    one was cloned from (CI tests a fresh clone elsewhere, as `git clone . /tmp/x` makes)."""
    if "TVX_IMAGES" in os.environ:
        return Path(os.environ["TVX_IMAGES"])
    places = [ROOT]
    origin = subprocess.run(["git", "-C", str(ROOT), "config", "--get", "remote.origin.url"], capture_output=True,
                            text=True).stdout.strip()
    if origin and Path(origin).is_dir():
        places.append(Path(origin).resolve())
    for place in places:
        if (place.parent / "shared" / "images" / "jpeg-variants").is_dir():
            return place.parent / "shared" / "images"
    raise RuntimeError(f"test_io.py: no shared/images beside {' or '.join(map(str, places))}: set TVX_IMAGES "
                       "to the images/ folder")


IMAGES = _images()

JPEGS = sorted(p for d in ("jpeg-variants", "photo-500", "photo-1080p", "photo-2560") for p in (IMAGES / d).glob("*.jpg"))
PNGS = sorted((IMAGES / "png").glob("*.png"))
WEBPS = sorted((IMAGES / "webp").glob("*.webp"))
GIFS = sorted((IMAGES / "gif").glob("*.gif"))
CORRUPT = sorted((IMAGES / "corrupt").iterdir())
tv, tx = torch.ops.image, torch.ops.tvx


@pytest.mark.parametrize("name", ["read_file", "write_file", "decode_jpeg", "decode_png", "decode_webp",
                                  "decode_gif", "decode_image", "encode_jpeg", "encode_png", "_jpeg_version", "_is_compiled_against_turbo",
                                  "decode_jpegs_cuda", "encode_jpegs_cuda"])
def test_schema_is_torchvision_s(name):
    assert str(getattr(tx, name).default._schema).split("::", 1)[1] == \
        str(getattr(tv, name).default._schema).split("::", 1)[1]


def test_image_read_mode_values_are_torchvision_s():
    assert {m.name: m.value for m in tvx.io.ImageReadMode} == \
        {m.name: m.value for m in torchvision.io.ImageReadMode}


def test_every_jpeg_decodes_as_torchvision_s():
    assert len(JPEGS) >= 25  # the variants (CMYK, progressive, arithmetic, EXIF 2..8, ...) and the photos
    for path in JPEGS:
        data = torchvision.io.read_file(str(path))
        assert torch.equal(tvx.io.read_file(path), data)
        for mode in (torchvision.io.ImageReadMode.UNCHANGED, torchvision.io.ImageReadMode.GRAY,
                     torchvision.io.ImageReadMode.RGB):
            for exif in (False, True):
                want = torchvision.io.decode_jpeg(data, mode=mode, apply_exif_orientation=exif)
                got = tvx.io.decode_jpeg(data, mode=mode.name, apply_exif_orientation=exif)
                assert got.dtype == torch.uint8 and torch.equal(got, want), (path.name, mode, exif)


def test_exif_orientations_follow_the_tiff_definitions():
    """exif_orientation_N.jpg carries tag N: the image comes back mirrored or rotated as the
    EXIF/TIFF definitions say (N = 6: stored rotated 90 degrees counter-clockwise, shown
    after a clockwise turn, ...), written here with rot90 and the diagonals, independently
    of the decoder's flips."""
    upright = {
        2: lambda x: x.flip(2),                                    # mirrored left-right
        3: lambda x: torch.rot90(x, 2, (1, 2)),                    # rotated 180
        4: lambda x: x.flip(1),                                    # mirrored top-bottom
        5: lambda x: x.transpose(1, 2),                            # mirrored along the main diagonal
        6: lambda x: torch.rot90(x, -1, (1, 2)),                   # turned clockwise
        7: lambda x: torch.rot90(x, 2, (1, 2)).transpose(1, 2),    # mirrored along the other diagonal
        8: lambda x: torch.rot90(x, 1, (1, 2)),                    # turned counter-clockwise
    }
    for n, turn in upright.items():
        data = tvx.io.read_file(IMAGES / "jpeg-variants" / f"exif_orientation_{n}.jpg")
        raw = tvx.io.decode_jpeg(data)
        assert torch.equal(tvx.io.decode_jpeg(data, apply_exif_orientation=True), turn(raw)), n
    plain = tvx.io.read_file(IMAGES / "jpeg-variants" / "q100.jpg")  # no EXIF orientation
    assert torch.equal(tvx.io.decode_jpeg(plain, apply_exif_orientation=True), tvx.io.decode_jpeg(plain))


def test_cmyk_converts_as_torchvision():
    data = tvx.io.read_file(IMAGES / "jpeg-variants" / "cmyk.jpg")
    cmyk = tvx.io.decode_jpeg(data).int()
    assert cmyk.shape[0] == 4
    rgb = (cmyk[:3] * cmyk[3] + 127) // 255
    assert torch.equal(tvx.io.decode_jpeg(data, mode="RGB").int(), rgb)


def test_every_png_decodes_as_torchvision_s():
    """8- and 16-bit (uint16), gray, gray+alpha, RGB, RGBA, palette and interlaced files, in
    every mode. One case differs on purpose: a palette without transparency in GRAY_ALPHA or
    RGB_ALPHA, where torchvision writes three channels into a four-channel image (its pixels
    come out shifted); tvx gives the colours and an opaque alpha."""
    assert len(PNGS) >= 10
    for path in PNGS:
        data = torchvision.io.read_file(str(path))
        for mode in torchvision.io.ImageReadMode:
            for exif in (False, True):
                got = tvx.io.decode_png(data, mode=mode.name, apply_exif_orientation=exif)
                if "palette" in path.name and mode.name.endswith("_ALPHA"):
                    colour = torchvision.io.decode_png(data, mode=torchvision.io.ImageReadMode[mode.name[:-6]])
                    want = torch.cat([colour, torch.full_like(colour[:1], 255)])
                else:
                    want = torchvision.io.decode_png(data, mode=mode, apply_exif_orientation=exif)
                assert got.dtype == want.dtype and got.shape == want.shape, (path.name, mode, exif)
                if mode.name.startswith("GRAY") and got.shape != torchvision.io.decode_png(data).shape:
                    # Colour to gray is libpng's png_set_rgb_to_gray, whose result moves between
                    # libpng versions on files with colour-space chunks: Debian 12's 1.6.39
                    # against the 1.6.55 torchvision bundles, up to 35 levels on astronaut.png
                    # (iCCP). A process that loaded another libpng16.so.16 first (Pillow's)
                    # lends it to tvx. Alpha stays exact.
                    assert (got[:1].int() - want[:1].int()).abs().max() <= 40, (path.name, mode, exif)
                    assert torch.equal(got[1:], want[1:]), (path.name, mode, exif)
                else:
                    assert torch.equal(got, want), (path.name, mode, exif)
        if "16" in path.name:
            assert tvx.io.decode_png(data).dtype == torch.uint16


def test_every_webp_decodes_as_torchvision_s():
    """Lossy and lossless, with and without alpha, in every mode (WebP holds no gray: the
    GRAY modes give the file's colours, as torchvision's)."""
    assert len(WEBPS) >= 4
    for path in WEBPS:
        data = torchvision.io.read_file(str(path))
        for mode in torchvision.io.ImageReadMode:
            want = torch.ops.image.decode_webp(data, mode.value)
            assert torch.equal(tvx.io.decode_webp(data, mode=mode.name), want), (path.name, mode)


def test_decode_image_finds_the_format():
    for path in JPEGS[:8] + PNGS + WEBPS:
        data = tvx.io.read_file(path)
        decode = {".jpg": tvx.io.decode_jpeg, ".png": tvx.io.decode_png}.get(path.suffix)
        for mode in ("UNCHANGED", "GRAY", "RGB", "RGB_ALPHA"):
            if path.suffix == ".jpg" and mode == "RGB_ALPHA":
                continue
            got = tvx.io.decode_image(data, mode=mode, apply_exif_orientation=True)
            want = (decode(data, mode=mode, apply_exif_orientation=True) if decode else tvx.io.decode_webp(data, mode=mode))
            assert torch.equal(got, want), (path.name, mode)
            if path.suffix != ".png":  # PNG's differences from torchvision are test_every_png_...'s
                assert torch.equal(got, torchvision.io.decode_image(torchvision.io.read_file(str(path)), mode=mode,
                                                                    apply_exif_orientation=True)), (path.name, mode)
    for path in GIFS:  # RGB frames whatever the mode, as torchvision's decode_image
        data = tvx.io.read_file(path)
        for mode in ("UNCHANGED", "GRAY", "RGB_ALPHA"):
            assert torch.equal(tvx.io.decode_image(data, mode=mode), tvx.io.decode_gif(data)), (path.name, mode)
            assert torch.equal(tvx.io.decode_image(data, mode=mode),
                               torchvision.io.decode_image(data, mode=torchvision.io.ImageReadMode[mode])), (path.name, mode)
    with pytest.raises(RuntimeError, match="tvx.decode_image: unknown image format .* starts with 1 2 3 4"):
        tvx.io.decode_image(torch.tensor([1, 2, 3, 4, 5], dtype=torch.uint8))


def _pillow_draft(path, scale):
    """Pillow's JPEG draft mode: libjpeg's own DCT scaling to 1/scale, an independent decode."""
    from PIL import Image
    import numpy as np
    im = Image.open(path)
    im.draft(im.mode, (im.size[0] // scale, im.size[1] // scale))
    a = torch.from_numpy(np.array(im))
    return a[None] if a.dim() == 2 else a.permute(2, 0, 1)


def test_scaled_decode_is_libjpeg_s_dct_scaling():
    """min_size picks the DCT scale: pixel-equal to Pillow's draft decode at 1/2, 1/4 and 1/8
    (the scales Pillow offers) on the photos and every RGB and gray variant."""
    checked = 0
    for path in JPEGS:
        if path.name == "cmyk.jpg" or path.parent.name == "photo-2560" and path.name > "B":
            continue  # Pillow keeps CMYK; three 2560 photos suffice
        data = tvx.io.read_file(path)
        full = tvx.io.decode_jpeg(data)
        for scale in (2, 4, 8):
            if min(full.shape[1:]) < scale:
                continue
            want = _pillow_draft(path, scale)
            if want.shape == full.shape:
                continue
            got = tvx.io.decode_jpeg(data, min_size=tuple(want.shape[1:]))
            assert got.shape == want.shape and torch.equal(got, want), (path.name, scale)
            checked += 1
    assert checked >= 40


def test_scaled_decode_picks_the_smallest_covering_scale():
    path = IMAGES / "photo-2560" / "Kite.jpg"
    data = tvx.io.read_file(path)
    full = tvx.io.decode_jpeg(data)
    height, width = full.shape[1:]
    for min_size in [(1, 1), (224, 224), (200, 320), (201, 320), (224, 500), (1600, 2560), (1600, 2561), (9000, 9000)]:
        got = tvx.io.decode_jpeg(data, min_size=min_size)
        # libjpeg's output for scale s/8 is ceil(size * s / 8); the chosen s is the least of 1, 2, 4, 8 that covers.
        sizes = [(-(-height * s // 8), -(-width * s // 8)) for s in (1, 2, 4, 8)]
        want = next((hw for hw in sizes if hw[0] >= min_size[0] and hw[1] >= min_size[1]), sizes[-1])
        assert tuple(got.shape[1:]) == want, (min_size, got.shape)
    assert torch.equal(tvx.io.decode_jpeg(data, min_size=(0, 0)), tvx.io.decode_jpeg(data, min_size=(1, 1)))
    assert torch.equal(tvx.io.decode_jpeg(data, min_size=(9000, 9000)), full)
    # In the upright orientation: orientation 6 turns a 375 x 500 file into 500 x 375.
    turned = tvx.io.read_file(IMAGES / "jpeg-variants" / "exif_orientation_6.jpg")
    upright = tvx.io.decode_jpeg(turned, apply_exif_orientation=True)
    assert upright.shape[1] > upright.shape[2]
    got = tvx.io.decode_jpeg(turned, apply_exif_orientation=True, min_size=(10, 100))
    assert got.shape[1:] == (250, 188), got.shape  # 1/2: 1/4 would give 94 columns
    stored = tvx.io.decode_jpeg(turned, min_size=(100, 10))
    assert torch.equal(got, tvx.io.decode_jpeg(turned, apply_exif_orientation=True, min_size=(10, 100)))
    assert stored.shape[1:] == got.shape[1:][::-1]
    for bad in [(-1, 5), (1, 2, 3)]:
        with pytest.raises(RuntimeError, match=r"tvx.decode_jpeg_scaled: min_size must be \(height, width\), each 0 or more"):
            tx.decode_jpeg_scaled(data, 0, list(bad), False)
        with pytest.raises(RuntimeError, match=r"tvx.decode_jpegs: min_size must be \(height, width\), each 0 or more"):
            tvx.io.decode_jpeg([], min_size=bad)  # checked once, before any image


def test_batch_forms_decode_each_image():
    paths = JPEGS[:12]
    data = [tvx.io.read_file(p) for p in paths]
    got = tvx.io.decode_jpeg(data, mode="RGB", apply_exif_orientation=True)
    assert all(torch.equal(g, tvx.io.decode_jpeg(d, mode="RGB", apply_exif_orientation=True)) for g, d in zip(got, data))
    got = tvx.io.decode_jpeg(data, min_size=(64, 64))
    assert all(torch.equal(g, tvx.io.decode_jpeg(d, min_size=(64, 64))) for g, d in zip(got, data))
    mixed = [tvx.io.read_file(p) for p in JPEGS[:3] + PNGS[:3] + WEBPS[:2] + GIFS]
    got = tvx.io.decode_image(mixed, mode="RGB")
    assert all(torch.equal(g, tvx.io.decode_image(d, mode="RGB")) for g, d in zip(got, mixed))
    assert tvx.io.decode_jpeg([]) == [] and tvx.io.decode_image([]) == []
    with pytest.raises(RuntimeError, match="tvx.decode_jpegs: image 2 of 3: tvx.decode_jpeg: invalid JPEG data"):
        tvx.io.decode_jpeg(data[:2] + [mixed[4]])
    with pytest.raises(RuntimeError, match="tvx.decode_images: image 1 of 2: tvx.decode_image: unknown image format"):
        tvx.io.decode_image([mixed[0], torch.tensor([1, 2, 3, 4], dtype=torch.uint8)])


def _avif_built():
    """Whether this tvx has libavif (it is optional; `tvx info` says). Without it, decode_avif
    must say so."""
    try:
        tx.decode_avif(torch.tensor([0, 0, 0, 12, 102, 116, 121, 112, 97, 118, 105, 102], dtype=torch.uint8), 0)
    except RuntimeError as e:
        if "built without libavif" in str(e):
            return False
    return True


def _pillow_avif(image, **options):
    import io as _io
    buffer = _io.BytesIO()
    image.save(buffer, format="AVIF", **options)
    return torch.frombuffer(bytearray(buffer.getvalue()), dtype=torch.uint8)


def _pillow_decode(data):
    import io as _io
    import numpy as np
    from PIL import Image
    a = torch.from_numpy(np.array(Image.open(_io.BytesIO(data.numpy().tobytes()))))
    return a[None] if a.dim() == 2 else a.permute(2, 0, 1)


def test_avif_decodes_as_pillow_s():
    """AVIF files written by Pillow (RGB 4:2:0 and 4:4:4, RGBA, an odd size) and by avifenc at 10
    and 12 bits: 8-bit files pixel-equal to Pillow's decode (libavif too, another version);
    deeper ones as uint16 over the full range, within 3 of Pillow's 8-bit decode once scaled."""
    from PIL import Image
    if not _avif_built():
        with pytest.raises(RuntimeError, match=r"tvx.decode_avif: this tvx was built without libavif \(see `tvx info`\)"):
            tvx.io.decode_avif(torch.zeros(8, dtype=torch.uint8))
        return
    photo = Image.open(IMAGES / "photo-500" / "Autumn_center.jpg").convert("RGB")
    files = {"rgb": _pillow_avif(photo, quality=80), "444": _pillow_avif(photo, quality=90, subsampling="4:4:4"),
             "rgba": _pillow_avif(Image.merge("RGBA", (*photo.split(), photo.convert("L"))), quality=90),
             "odd": _pillow_avif(photo.crop((0, 0, 301, 203)), quality=70)}
    for name, data in files.items():
        want = _pillow_decode(data)
        got = tvx.io.decode_avif(data)
        assert got.dtype == torch.uint8 and torch.equal(got, want), name
        assert torch.equal(tvx.io.decode_image(data), got)
        assert torch.equal(tvx.io.decode_avif(data, mode="RGB"), want[:3])
        rgba = tvx.io.decode_avif(data, mode="RGB_ALPHA")
        assert rgba.shape[0] == 4 and torch.equal(rgba[:3], want[:3])
        if want.shape[0] == 3:
            assert bool((rgba[3] == 255).all())
    import shutil
    assert shutil.which("avifenc"), "avifenc (Debian's libavif-bin, scripts/setup.sh installs it) writes the deep files"
    import tempfile
    with tempfile.TemporaryDirectory() as tmp:
        for depth, source in [(10, "chelsea.png"), (10, "astronaut_rgba.png"), (12, "coffee_16bit.png")]:
            out = Path(tmp) / f"{depth}-{source}.avif"
            subprocess.run(["avifenc", "-d", str(depth), str(IMAGES / "png" / source), str(out)], check=True,
                           capture_output=True)
            data = tvx.io.read_file(out)
            got, want = tvx.io.decode_avif(data), _pillow_decode(data)
            assert got.dtype == torch.uint16 and got.shape == want.shape, (source, got.shape, want.shape)
            assert int(got.int().max()) > 4095  # scaled to 16 bits, not left at 10 or 12
            assert ((got.int() >> 8) - want.int()).abs().max() <= 3, source
    with pytest.raises(RuntimeError, match="tvx.decode_avif: mode GRAY is not supported for AVIF files"):
        tvx.io.decode_avif(files["rgb"], mode="GRAY")
    with pytest.raises(RuntimeError, match=r"tvx.decode_avif: invalid AVIF data: \w"):
        tvx.io.decode_avif(files["rgb"][:200])
    with pytest.raises(RuntimeError, match=r"tvx.decode_avif: invalid AVIF data: \w"):
        tvx.io.decode_avif(files["rgb"][:40])


def test_every_gif_decodes_as_torchvision_s():
    assert len(GIFS) >= 2  # a still and an animation
    for path in GIFS:
        data = torchvision.io.read_file(str(path))
        got, want = tvx.io.decode_gif(data), torchvision.io.decode_gif(data)
        assert got.is_contiguous() and torch.equal(got, want), path.name
    assert tvx.io.decode_gif(tvx.io.read_file(IMAGES / "gif" / "coffee_anim.gif")).dim() == 4


def _lzw(indices):
    """GIF image data for colour indices, in 9-bit literal codes (a clear code every 250
    pixels keeps the code width at 9): valid LZW that any decoder reads."""
    codes = []
    for i in range(0, len(indices), 250):
        codes += [256] + list(indices[i:i + 250])
    codes.append(257)
    bits = sum(c << (9 * i) for i, c in enumerate(codes))
    raw = bits.to_bytes((9 * len(codes) + 7) // 8, "little")
    return bytes([8]) + b"".join(bytes([len(raw[i:i + 255])]) + raw[i:i + 255] for i in range(0, len(raw), 255)) + b"\0"


def _gif(width, height, frames, palette=None, background=0):
    """A GIF89a file: `frames` are dicts of w, h, pixels (indices), and optionally left, top,
    palette (a local colour map), transparent (an index), disposal (0..3), interlace."""
    def table(colors):
        size, bits = 2, 0
        while size < len(colors):
            size, bits = size * 2, bits + 1
        return bits, b"".join(bytes(c) for c in colors) + bytes(3 * (size - len(colors)))

    out = b"GIF89a" + struct.pack("<HH", width, height)
    if palette is None:
        out += bytes([0, background, 0])
    else:
        bits, t = table(palette)
        out += bytes([0x80 | bits, background, 0]) + t
    for f in frames:
        transparent = f.get("transparent")
        out += struct.pack("<BBBBHBB", 0x21, 0xF9, 4, (f.get("disposal", 0) << 2) | (transparent is not None), 10,
                           transparent or 0, 0)
        flags, local = 0x40 if f.get("interlace") else 0, b""
        if f.get("palette"):
            bits, local = table(f["palette"])
            flags |= 0x80 | bits
        out += struct.pack("<BHHHHB", 0x2C, f.get("left", 0), f.get("top", 0), f["w"], f["h"], flags) + local
        rows = [f["pixels"][r * f["w"]:(r + 1) * f["w"]] for r in range(f["h"])]
        order = [*range(0, f["h"], 8), *range(4, f["h"], 8), *range(2, f["h"], 4), *range(1, f["h"], 2)] \
            if f.get("interlace") else range(f["h"])
        out += _lzw([v for r in order for v in rows[r]])
    return torch.frombuffer(bytearray(out + b"\x3b"), dtype=torch.uint8)


PALETTE = [(i, 255 - i, i * 7 % 256) for i in range(256)]
GIF_CASES = {
    "offset frame, background elsewhere": _gif(4, 3, [dict(left=1, top=1, w=2, h=2, pixels=[1, 2, 3, 4])], PALETTE, 5),
    "transparent pixels show the background": _gif(4, 3, [dict(w=4, h=3, pixels=[9] * 6 + [1] * 6, transparent=9)], PALETTE, 5),
    "frame clipped to the canvas": _gif(2, 2, [dict(left=1, top=1, w=2, h=2, pixels=[1, 2, 3, 4])], PALETTE),
    "first frame larger than the screen": _gif(2, 2, [dict(w=3, h=3, pixels=list(range(9)))], PALETTE),
    "empty screen size": _gif(0, 0, [dict(w=2, h=1, pixels=[1, 2])], PALETTE),
    "local colour map, no global (black background)": _gif(2, 1, [dict(left=1, w=1, h=1, pixels=[0], palette=[(100, 50, 25), (1, 2, 3)])], None, 1),
    "background index beyond the map": _gif(2, 1, [dict(left=1, w=1, h=1, pixels=[0])], PALETTE[:2], 7),
    "pixel index beyond the map": _gif(2, 1, [dict(w=2, h=1, pixels=[0, 3])], PALETTE[:2]),
    "interlaced": _gif(3, 11, [dict(w=3, h=11, pixels=list(range(33)), interlace=True)], PALETTE),
    **{f"frame 2's disposal {d}": _gif(3, 2, [dict(w=3, h=2, pixels=list(range(10, 16))), dict(w=1, h=1, pixels=[1]),
                                              dict(left=1, w=2, h=1, pixels=[2, 9], disposal=d, transparent=9),
                                              dict(left=2, top=1, w=1, h=1, pixels=[3])], PALETTE, 5) for d in range(4)},
    "transparent first frames": _gif(2, 1, [dict(w=2, h=1, pixels=[9, 1], transparent=9),
                                            dict(w=2, h=1, pixels=[9, 2], transparent=9, disposal=1)], PALETTE, 5),
}


@pytest.mark.parametrize("case", GIF_CASES)
def test_gif_composition_is_torchvision_s(case):
    """Canvas, offsets, clipping, transparency, background and the four disposal methods, on
    small GIFs written here: the frames torchvision 0.26 composes, pixel for pixel."""
    data = GIF_CASES[case]
    got, want = tvx.io.decode_gif(data), torchvision.io.decode_gif(data)
    assert got.shape == want.shape and torch.equal(got, want), (got, want)


def test_gif_errors():
    no_map = _gif(2, 1, [dict(w=2, h=1, pixels=[0, 1])])
    with pytest.raises(RuntimeError, match="tvx.decode_gif: invalid GIF data: frame 0 has no colour map"):
        tvx.io.decode_gif(no_map)
    header_only = torch.frombuffer(bytearray(b"GIF89a" + bytes([2, 0, 1, 0, 0, 0, 0]) + b"\x3b"), dtype=torch.uint8)
    with pytest.raises(RuntimeError, match="tvx.decode_gif: invalid GIF data: the file holds no image"):
        tvx.io.decode_gif(header_only)
    # 60000 x 60000 screen over a 2x1 frame: refused from the sizes, not by a 10 GB canvas.
    huge = _gif(60000, 60000, [dict(w=2, h=1, pixels=[0, 1])], PALETTE[:2])
    with pytest.raises(RuntimeError, match="tvx.decode_gif: invalid GIF data: a canvas of 60000 x 60000 pixels from a file of"):
        tvx.io.decode_gif(huge)
    # 400 one-pixel frames on a 4000 x 4000 screen: 19 GB of frames from 11 KB (torchvision
    # allocates them); refused once the frames outgrow what the file could hold.
    many = _gif(4000, 4000, [dict(w=1, h=1, pixels=[1])] * 400, PALETTE)
    with pytest.raises(RuntimeError, match="tvx.decode_gif: invalid GIF data: 45 frames of 4000 x 4000 pixels from a file of"):
        tvx.io.decode_gif(many)
    with pytest.raises(RuntimeError, match=r"tvx.decode_gif: invalid GIF data: frame 0 is empty \(2 x 0\)"):
        tvx.io.decode_gif(_gif(2, 2, [dict(w=0, h=2, pixels=[])], PALETTE))
    # A graphic control block of the wrong length leaves the defaults, as in torchvision.
    odd = bytearray(_gif(2, 1, [dict(w=2, h=1, pixels=[1, 2], transparent=1)], PALETTE).numpy().tobytes())
    at = odd.index(b"\x21\xf9\x04")
    odd[at + 2] = 3
    del odd[at + 6]
    odd = torch.frombuffer(odd, dtype=torch.uint8)
    assert torch.equal(tvx.io.decode_gif(odd), torchvision.io.decode_gif(odd))
    truncated = _gif(4, 4, [dict(w=4, h=4, pixels=[1] * 16)], PALETTE[:2])[:-8]
    with pytest.raises(RuntimeError, match="tvx.decode_gif: invalid GIF data: frame 0 is truncated or corrupt"):
        tvx.io.decode_gif(truncated)
    with pytest.raises(RuntimeError, match="tvx.decode_gif: invalid GIF data: cannot read the header"):
        tvx.io.decode_gif(torch.tensor([71, 73, 70], dtype=torch.uint8))


@pytest.mark.parametrize("quality", [1, 50, 75, 95, 100])
def test_encode_jpeg_decodes_as_torchvision_s_encoding(quality):
    """RGB and gray photos, odd sizes, 1x1: libjpeg's defaults at `quality`, as torchvision's
    encoder. The bytes may differ between libjpeg-turbo versions (headers); the pixels they
    decode to are equal."""
    images = [torchvision.io.decode_jpeg(torchvision.io.read_file(str(p)), mode=m)
              for p in JPEGS if p.parent.name in ("jpeg-variants", "photo-500")
              for m in (torchvision.io.ImageReadMode.RGB, torchvision.io.ImageReadMode.GRAY)][:16]
    images.append(torch.randint(0, 256, (3, 1, 1), dtype=torch.uint8))
    for image in images + [images[0][:, 1:, 3:].flip(-1)]:  # a strided view too
        ours = tvx.io.encode_jpeg(image, quality=quality)
        theirs = torchvision.io.encode_jpeg(image, quality=quality)
        assert ours.dtype == torch.uint8 and ours.dim() == 1
        assert torch.equal(torchvision.io.decode_jpeg(ours), torchvision.io.decode_jpeg(theirs)), image.shape


def test_encode_jpeg_bad_arguments():
    image = torch.zeros(3, 4, 4, dtype=torch.uint8)
    with pytest.raises(RuntimeError, match=r"tvx.encode_jpeg: quality must be in \[1, 100\], got 0"):
        tvx.io.encode_jpeg(image, quality=0)
    with pytest.raises(RuntimeError, match=r"tvx.encode_jpeg: image must have shape \[C, H, W\] with C = 1 or 3, got \[4, 4, 4\]"):
        tvx.io.encode_jpeg(torch.zeros(4, 4, 4, dtype=torch.uint8))
    with pytest.raises(RuntimeError, match="tvx.encode_jpeg: image must be uint8"):
        tvx.io.encode_jpeg(image.float())
    with pytest.raises(RuntimeError, match="tvx.encode_jpeg: JPEG images are 1 to 65500 pixels a side, got 0 x 4"):
        tvx.io.encode_jpeg(torch.zeros(3, 0, 4, dtype=torch.uint8))


@pytest.mark.parametrize("level", [0, 6, 9])
def test_encode_png_round_trips(level):
    """PNG is lossless: every image comes back as it went in, through tvx's and torchvision's
    decoders, for torchvision's 1 and 3 channels and beyond them 2, 4 and 16-bit."""
    g = torch.Generator().manual_seed(level)
    for channels in (1, 2, 3, 4):
        for dtype, top in ((torch.uint8, 256), (torch.uint16, 65536)):
            image = torch.randint(0, top, (channels, 13, 17), generator=g, dtype=torch.int64).to(dtype)
            encoded = tvx.io.encode_png(image[:, :, ::1], compression_level=level)
            assert torch.equal(tvx.io.decode_png(encoded), image)
            assert torch.equal(torchvision.io.decode_png(encoded), image)
    photo = tvx.io.decode_png(tvx.io.read_file(IMAGES / "png" / "astronaut.png"))
    ours = tvx.io.encode_png(photo, level)
    assert torch.equal(tvx.io.decode_png(ours), photo)
    assert torch.equal(torchvision.io.decode_png(torchvision.io.encode_png(photo, level)), photo)


def test_encode_png_bad_arguments():
    image = torch.zeros(3, 4, 4, dtype=torch.uint8)
    with pytest.raises(RuntimeError, match=r"tvx.encode_png: compression_level must be in \[0, 9\], got 10"):
        tvx.io.encode_png(image, 10)
    with pytest.raises(RuntimeError, match="tvx.encode_png: image must be uint8 or uint16, got Float"):
        tvx.io.encode_png(image.float())
    with pytest.raises(RuntimeError, match=r"tvx.encode_png: image must have shape \[C, H, W\] with C = 1"):
        tvx.io.encode_png(torch.zeros(5, 4, 4, dtype=torch.uint8))


def chunk(kind, payload):
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def _png_chunks(data):
    b, i, out = bytes(data.numpy()), 8, []
    while i + 12 <= len(b):
        n = struct.unpack(">I", b[i:i + 4])[0]
        out.append((b[i + 4:i + 8], b[i + 8:i + 8 + n]))
        i += 12 + n
    return out


def _png_variants():
    """Files that take libpng's own path in tvx (the libdeflate path sets them aside) or that
    stress that path: each decodes as torchvision's decoder does, or fails where it fails."""
    src = _png_chunks(torchvision.io.read_file(str(IMAGES / "png" / "coffee.png")))
    head = [c for c in src if c[0] not in (b"IDAT", b"IEND")]
    stream = b"".join(d for t, d in src if t == b"IDAT")
    raw = zlib.decompress(stream)
    sig = b"\x89PNG\r\n\x1a\n"

    def png(*chunks):
        return sig + b"".join(chunk(t, d) for t, d in chunks)

    def split(s, n):
        return [(b"IDAT", s[k:k + n]) for k in range(0, len(s), n)]
    iend = (b"IEND", b"")
    bad_crc = bytearray(png(*head, (b"tEXt", b"Comment\0bad crc"), *split(stream, 8192), iend))
    at = bytes(bad_crc).index(b"tEXt") + 4 + len(b"Comment\0bad crc")
    bad_crc[at] ^= 0xFF
    return {
        "one IDAT": png(*head, (b"IDAT", stream), iend),
        "IDATs of 7 bytes": png(*head, *split(stream, 7), iend),
        "stored deflate blocks": png(*head, *split(zlib.compress(raw, 0), 10000), iend),
        "ancillary chunk with a bad CRC": bytes(bad_crc),
        "bytes after the zlib stream": png(*head, (b"IDAT", stream + b"\0\0\0"), iend),
        "zlib stream cut short": png(*head, (b"IDAT", stream[:-100]), iend),
        "IDATs apart": png(*head, *split(stream[:5000], 5000), (b"tEXt", b"a\0b"), *split(stream[5000:], 8192), iend),
        "image data a row short": png(*head, (b"IDAT", zlib.compress(raw[:-(len(raw) // 400)])), iend),
        "no IEND": png(*head, *split(stream, 8192)),
        # CINFO 0 (a 256-byte window) over references reaching 32 KiB back: libpng's zlib
        # refuses them (libdeflate alone would not).
        "zlib window smaller than its references": png(*head, (b"IDAT", bytes([0x08, 0x1D]) + stream[2:]), iend),
        "trailing bytes after IEND": png(*head, *split(stream, 8192), iend) + b"junk",
    }


@pytest.mark.parametrize("name", list(_png_variants()))
def test_png_variants_decode_as_torchvision_s(name):
    data = torch.frombuffer(bytearray(_png_variants()[name]), dtype=torch.uint8)
    if name == "no IEND":  # torchvision stops after the image; tvx reads to the end, as libpng asks
        with pytest.raises(RuntimeError, match="tvx.decode_png: invalid PNG data: the data ends before the image does"):
            tvx.io.decode_png(data)
        return
    try:
        want = torchvision.io.decode_png(data)
    except RuntimeError:
        with pytest.raises(RuntimeError, match=r"tvx.decode_png: invalid PNG data: \w"):
            tvx.io.decode_png(data)
        return
    assert torch.equal(tvx.io.decode_png(data), want), name


def test_png_larger_than_its_data_is_refused_before_allocating():
    """A valid header that declares 60000 x 60000 RGB pixels over a few bytes of data: refused
    from the sizes alone (deflate expands at most 1032 times), not by a 10 GB allocation."""
    header = struct.pack(">IIBBBBB", 60000, 60000, 8, 2, 0, 0, 0)
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 100)) + chunk(b"IEND", b"")
    data = torch.frombuffer(bytearray(png), dtype=torch.uint8)
    with pytest.raises(RuntimeError, match="tvx.decode_png: invalid PNG data: the header declares 60000 x 60000 pixels"):
        tvx.io.decode_png(data)


@pytest.mark.parametrize("path", CORRUPT, ids=lambda p: p.name)
def test_corrupt_files_give_a_clear_error(path):
    if path.stat().st_size == 0:
        with pytest.raises(RuntimeError, match=f"tvx.read_file: .*{path.name} is empty"):
            tvx.io.read_file(path)
        return
    data = tvx.io.read_file(path)
    for decode, message in [(tvx.io.decode_jpeg, r"tvx.decode_jpeg: invalid JPEG data: \w"),
                            (tvx.io.decode_png, r"tvx.decode_png: invalid PNG data: \w"),
                            (tvx.io.decode_webp, r"tvx.decode_webp: invalid WebP data: \w"),
                            (tvx.io.decode_gif, r"tvx.decode_gif: invalid GIF data: \w"),
                            (tvx.io.decode_avif, r"tvx.decode_avif: (invalid AVIF data: \w|this tvx was built without libavif)")]:
        with pytest.raises(RuntimeError, match=message):
            decode(data)
    with pytest.raises(RuntimeError, match=r"tvx.decode_(image|jpeg|png|webp|gif): (invalid (JPEG|PNG|WebP|GIF) data|unknown image format)"):
        tvx.io.decode_image(data)


def test_bad_arguments_give_clear_errors(tmp_path):
    data = tvx.io.read_file(IMAGES / "jpeg-variants" / "tiny_16x9.jpg")
    for mode in ("GRAY_ALPHA", "RGB_ALPHA"):
        with pytest.raises(RuntimeError, match=f"tvx.decode_jpeg: mode {mode} is not supported for JPEG files"):
            tvx.io.decode_jpeg(data, mode=mode)
    with pytest.raises(RuntimeError, match=r"tvx.decode_jpeg: mode must be an ImageReadMode \(0 to 4\), got 7"):
        tx.decode_jpeg(data, 7, False)
    with pytest.raises(RuntimeError, match="tvx.decode_jpeg: data must be uint8"):
        tx.decode_jpeg(data.float(), 0, False)
    with pytest.raises(RuntimeError, match=r"tvx.decode_jpeg: data must be a non-empty 1-D tensor of encoded bytes, got shape \[2, 3\]"):
        tx.decode_jpeg(torch.zeros(2, 3, dtype=torch.uint8), 0, False)
    with pytest.raises(RuntimeError, match="non-empty 1-D"):
        tx.decode_jpeg(torch.zeros(0, dtype=torch.uint8), 0, False)
    with pytest.raises(RuntimeError, match="tvx.read_file: cannot open .*missing.jpg: No such file or directory"):
        tvx.io.read_file(tmp_path / "missing.jpg")
    if torch.cuda.is_available():
        with pytest.raises(RuntimeError, match="tvx.decode_jpeg: data must be on the CPU"):
            tx.decode_jpeg(data.cuda(), 0, False)


def test_write_file_round_trips(tmp_path):
    data = tvx.io.read_file(IMAGES / "jpeg-variants" / "q10.jpg")
    tvx.io.write_file(tmp_path / "copy.jpg", data[::1])
    assert torch.equal(tvx.io.read_file(tmp_path / "copy.jpg"), data)
    assert torch.equal(torchvision.io.read_file(str(tmp_path / "copy.jpg")), data)
    with pytest.raises(RuntimeError, match="tvx.write_file: data must be a 1-D tensor of bytes"):
        tvx.io.write_file(tmp_path / "x", torch.zeros(2, 2, dtype=torch.uint8))


def test_decoding_leaks_nothing():
    """1000 decodes of good and corrupt files: the resident set stays put (libjpeg's state
    is released on errors too)."""
    good = tvx.io.read_file(IMAGES / "photo-500" / sorted(os.listdir(IMAGES / "photo-500"))[0])
    good_png = tvx.io.read_file(IMAGES / "png" / "chelsea_interlaced.png")
    good_webp = tvx.io.read_file(IMAGES / "webp" / "chelsea_lossless.webp")
    good_gif = tvx.io.read_file(IMAGES / "gif" / "coffee_anim.gif")
    bad = [tvx.io.read_file(p) for p in CORRUPT if p.stat().st_size > 0]

    def rounds(n):
        for i in range(n):
            tvx.io.decode_jpeg(good)
            tvx.io.decode_png(good_png)
            tvx.io.decode_webp(good_webp)
            tvx.io.decode_gif(good_gif)
            for decode in (tvx.io.decode_jpeg, tvx.io.decode_png, tvx.io.decode_webp, tvx.io.decode_gif):
                try:
                    decode(bad[i % len(bad)])
                except RuntimeError:
                    pass

    rounds(100)  # warm: allocator pools, libjpeg's tables
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    rounds(1000)
    grown_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert grown_kib < 8 * 1024, f"resident set grew by {grown_kib} KiB over 1000 decodes"


# GPU JPEG (nvJPEG). tvx upsamples and converts colour exactly as libjpeg-turbo does (ycc.cu);
# nvJPEG's IDCT rounds its own way, so pixels may differ by a little. A broken batch (the
# hardware path's reported corruption) moves whole blocks, far past these bounds.
# Measured on an H100 over the whole corpus: the hardware engine's images equal libjpeg-turbo's
# (its IDCT rounds as libjpeg's islow does); the decoupled decoder's (GPU backend; on engine
# GPUs, the files the engine refuses) are within 3 (mean 0.035).
needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
_BACKEND = tx._nvjpeg_backend(torch.device("cuda")) if torch.cuda.is_available() else ""
_HARDWARE = _BACKEND.startswith("hardware")
_REFUSED_DECOUPLED = _HARDWARE and "decoupled decoder" in _BACKEND  # unless TVX_NVJPEG_REFUSED=cpu
ENGINE_BOUNDS, DECOUPLED_BOUNDS = (0, 0.0), (4, 0.1)


def _engine_takes(data):
    """Whether an engine GPU's batched decoder takes this file, as far as its markers tell:
    sequential Huffman (SOF0/SOF1) in one scan, gray or colour whose luma is sampled 1 or 2
    times the chroma each way (not 4:1:1)."""
    b = bytes(data.numpy())
    i, scans, frame = 2, 0, None
    while i + 4 <= len(b) and b[i] == 0xFF:
        marker = b[i + 1]
        if marker == 0xFF:  # a fill byte
            i += 1
            continue
        if marker == 0xD9:  # EOI
            break
        length = int.from_bytes(b[i + 2:i + 4], "big")
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            if marker not in (0xC0, 0xC1):
                return False  # progressive, lossless or arithmetic
            n = b[i + 9]
            frame = [(b[i + 11 + 3 * k] >> 4, b[i + 11 + 3 * k] & 15) for k in range(n)]
        i += 2 + length
        if marker == 0xDA:  # a scan: skip its entropy-coded data to the next marker (not RSTn)
            scans += 1
            while i + 1 < len(b) and not (b[i] == 0xFF and b[i + 1] not in (0x00, *range(0xD0, 0xD8))):
                i += 1
    if frame is None or scans != 1:
        return False
    return len(frame) == 1 or (len(frame) == 3 and frame[0][0] in (1, 2) and frame[0][1] in (1, 2)
                               and frame[1:] == [(1, 1), (1, 1)])


def _gpu_bounds(data=None):
    """(max, mean) |GPU - CPU| for a file (a baseline photo when not given): exact on the
    engine and for libjpeg's uploads, within the decoupled decoder's bounds where it decodes
    (GPUs without engines; on engine GPUs, the files the engine refuses, unless
    TVX_NVJPEG_REFUSED=cpu sends them to libjpeg)."""
    if not _HARDWARE:
        return DECOUPLED_BOUNDS
    if not _REFUSED_DECOUPLED or data is None:
        return ENGINE_BOUNDS
    return ENGINE_BOUNDS if _engine_takes(data) else DECOUPLED_BOUNDS


def _mean_diff(a, b):
    return (a.cpu().int() - b.cpu().int()).abs().float().mean().item()


def _close_to_cpu(gpu, cpu, what, data=None):
    assert gpu.is_cuda and gpu.dtype == torch.uint8 and gpu.shape == cpu.shape, (what, gpu.shape, cpu.shape)
    diff = (gpu.cpu().int() - cpu.int()).abs()
    worst, mean = diff.max().item() if diff.numel() else 0, diff.float().mean().item()
    max_diff, mean_diff = _gpu_bounds(data)
    assert worst <= max_diff and mean <= mean_diff, f"{what}: max |diff| {worst}, mean {mean:.4f}"


def test_engine_takes_follows_the_markers():
    """The bounds' choice of decoder: baseline 4:2:0/4:2:2/4:4:4, gray, restart markers and an
    EXIF block on the engine; not progressive, arithmetic-coded, 4:1:1 or multi-scan files."""
    files = {p.name: tvx.io.read_file(p) for p in JPEGS}
    for name in ("subsampling_420_odd.jpg", "subsampling_422_odd.jpg", "subsampling_444_odd.jpg", "grayscale.jpg",
                 "restart_markers.jpg", "with_icc_and_exif.jpg"):
        assert _engine_takes(files[name]), name
    for name in ("progressive.jpg", "arithmetic.jpg", "subsampling_411_odd.jpg"):
        assert not _engine_takes(files[name]), name
    # A sequential file in two scans (Y, then Cb and Cr), by hand from a one-scan one.
    import io as _io
    from PIL import Image
    buffer = _io.BytesIO()
    Image.open(IMAGES / "photo-500" / "Autumn_center.jpg").save(buffer, format="JPEG", quality=90)
    assert _engine_takes(torch.frombuffer(bytearray(buffer.getvalue()), dtype=torch.uint8))
    two_scans = buffer.getvalue()[:-2] + b"\xff\xda\x00\x08\x01\x01\x00\x00\x3f\x00\x00\xff\xd9"
    assert not _engine_takes(torch.frombuffer(bytearray(two_scans), dtype=torch.uint8))


def _rgb_coded_jpeg():
    """A JPEG whose components are R, G and B (Adobe transform 0), as Pillow's keep_rgb writes."""
    import io as _io
    from PIL import Image
    buffer = _io.BytesIO()
    Image.open(IMAGES / "photo-500" / "Autumn_center.jpg").save(buffer, format="JPEG", quality=90, keep_rgb=True)
    return torch.frombuffer(bytearray(buffer.getvalue()), dtype=torch.uint8)


def test_rgb_coded_jpeg_decodes_as_torchvision_s():
    data = _rgb_coded_jpeg()
    for mode in ("UNCHANGED", "GRAY", "RGB"):
        assert torch.equal(tvx.io.decode_jpeg(data, mode=mode),
                           torchvision.io.decode_jpeg(data, mode=torchvision.io.ImageReadMode[mode])), mode


def test_libtvx_loads_nvjpeg_only_when_used():
    """libtvx does not link nvJPEG (it is loaded on first use), so it loads where nvJPEG is
    absent; `tvx info` reports the version it loaded, or why it could not."""
    out = subprocess.run(["readelf", "-d", str(tvx.library_path)], capture_output=True, text=True, check=True).stdout
    needed = [line for line in out.splitlines() if "(NEEDED)" in line]
    assert needed and not any("nvjpeg" in line for line in needed), needed


@needs_cuda
def test_gpu_decode_uses_the_hardware_engine():
    backend = tx._nvjpeg_backend(torch.device("cuda"))
    major = torch.cuda.get_device_capability()[0]
    if major in (8, 9) and torch.cuda.get_device_properties(0).multi_processor_count > 100:  # A100, H100: NVJPG engines
        assert backend.startswith("hardware ("), backend
    else:
        assert backend == "gpu" or backend.startswith("hardware ("), backend


@needs_cuda
@pytest.mark.parametrize("mode", ["UNCHANGED", "GRAY", "RGB"])
def test_gpu_decode_matches_the_cpu_on_every_file(mode):
    """Every JPEG of the corpus (variants: CMYK, progressive, arithmetic, 4:1:1, restart markers,
    1x1; and every photo), in one mixed batch and again in batches of other sizes and orders:
    each image within the IDCT bounds of libjpeg's, whichever path (GPU engine or CPU threads)
    took it. The hardware batched path has been reported to corrupt some batches (torchcodec):
    this checks every photo, in several batch compositions."""
    data = [tvx.io.read_file(p) for p in JPEGS] + [_rgb_coded_jpeg()]
    names = [p.name for p in JPEGS] + ["RGB-coded"]
    want = [tvx.io.decode_jpeg(d, mode=mode) for d in data]
    order = list(range(len(data)))
    for batch in (len(data), 7, 1):
        for start in range(0, len(order), batch):
            chunk = order[start:start + batch]
            got = tvx.io.decode_jpeg([data[i] for i in chunk], mode=mode, device="cuda")
            for i, g in zip(chunk, got):
                _close_to_cpu(g, want[i], (names[i], mode, batch), data[i])
        order = order[::-1]


@needs_cuda
def test_gpu_decode_on_the_callers_stream_and_threads():
    data = [tvx.io.read_file(p) for p in JPEGS if "photo-500" in str(p)][:16]
    want = [tvx.io.decode_jpeg(d) for d in data]
    stream = torch.cuda.Stream()
    with torch.cuda.stream(stream):
        got = tvx.io.decode_jpeg(data, device="cuda")
        sums = torch.stack([g.sum() for g in got])  # consumed on the same stream, no device-wide sync
    stream.synchronize()
    for g, w in zip(got, want):
        _close_to_cpu(g, w, "side stream")
    assert torch.equal(sums.cpu(), torch.stack([g.cpu().sum() for g in got]))
    # Concurrent callers share the device's decoder: each gets its own images.
    import threading
    results, errors = {}, []

    def work(k):
        try:
            with torch.cuda.stream(torch.cuda.Stream()):
                results[k] = [x.cpu() for x in tvx.io.decode_jpeg(data[k::4], device="cuda")]
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)
    threads = [threading.Thread(target=work, args=(k,)) for k in range(4) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    for k in range(4):
        for g, w in zip(results[k], want[k::4]):
            _close_to_cpu(g.cuda(), w, ("thread", k))


@needs_cuda
def test_gpu_decode_exif_and_min_size_follow_the_cpu():
    data = [tvx.io.read_file(p) for p in JPEGS if p.name.startswith("exif_orientation")]
    assert len(data) == 7
    want = [tvx.io.decode_jpeg(d, apply_exif_orientation=True) for d in data]
    for g, w in zip(tvx.io.decode_jpeg(data, device="cuda", apply_exif_orientation=True), want):
        _close_to_cpu(g, w, "exif")
    photos = [tvx.io.read_file(p) for p in JPEGS if "photo-" in str(p)][::5]
    for min_size in [(224, 224), (1, 1), (10000, 10000)]:
        want = [tvx.io.decode_jpeg(d, min_size=min_size, apply_exif_orientation=True) for d in photos + data]
        got = tvx.io.decode_jpeg(photos + data, device="cuda", min_size=min_size, apply_exif_orientation=True)
        for g, w, d in zip(got, want, photos + data):
            _close_to_cpu(g, w, ("min_size", min_size), d)


@needs_cuda
@pytest.mark.parametrize("path", CORRUPT, ids=lambda p: p.name)
def test_gpu_decode_of_corrupt_files_names_the_image(path):
    """Every corrupt file nvJPEG refuses goes to libjpeg, whose error names the image. One does
    not: bitflips.jpg's damage is inside the entropy-coded data, which nvJPEG decodes without a
    check (strict mode included; torchvision's GPU decoder too); libjpeg notices only at the
    end, from the bytes left over. The GPU gives an image there: its shape is checked."""
    if path.stat().st_size == 0:
        return  # read_file refuses it (test_corrupt_files_give_a_clear_error)
    good = tvx.io.read_file(JPEGS[0])
    bad = tvx.io.read_file(path)
    if path.name == "bitflips.jpg":
        images = tvx.io.decode_jpeg([good, bad, good], device="cuda")
        assert images[1].shape == (3, 375, 500) and images[1].is_cuda
        return
    with pytest.raises(RuntimeError, match=r"tvx.decode_jpegs: image 1 of 3: tvx.decode_jpeg: invalid JPEG data: \w"):
        tvx.io.decode_jpeg([good, bad, good], device="cuda")


@needs_cuda
def test_gpu_decode_bad_arguments():
    data = tvx.io.read_file(JPEGS[0])
    with pytest.raises(RuntimeError, match="tvx.decode_jpegs: mode RGB_ALPHA is not supported for JPEG files"):
        tvx.io.decode_jpeg([data], mode="RGB_ALPHA", device="cuda")
    with pytest.raises(RuntimeError, match=r"tvx.decode_jpegs: image 1 of 2: tvx.decode_jpegs: data must be on the CPU"):
        tvx.io.decode_jpeg([data, data.cuda()], device="cuda")
    assert tvx.io.decode_jpeg([], device="cuda") == []


@needs_cuda
def test_gpu_decode_agrees_with_torchvision_s():
    """torchvision's GPU decoder (nvJPEG's default backend) on the same photos: within the same
    bounds as the CPU's, and torchvision's CUDA schema gives tvx's images."""
    data = [tvx.io.read_file(p) for p in JPEGS if "photo-" in str(p) or "subsampling" in p.name]
    ours = tvx.io.decode_jpeg(data, device="cuda")
    theirs = torchvision.io.decode_jpeg(data, device="cuda")
    for d, g, t in zip(data, ours, theirs):
        assert g.shape == t.shape
        cpu = tvx.io.decode_jpeg(d)
        # tvx's GPU images are nearer libjpeg's than torchvision's GPU images are (by up to 2.9 on average).
        assert _mean_diff(g, cpu) <= _mean_diff(t, cpu) + 1e-3
    for g, t in zip(ours, tx.decode_jpegs_cuda(data, 0, torch.device("cuda"))):
        assert torch.equal(g, t)


@needs_cuda
def test_gpu_encode_decodes_like_the_cpu_encoding():
    """encode_jpeg of CUDA images (nvJPEG; bytes on the GPU, as torchvision's): decoded, each is
    as near the image as libjpeg's encoding at that quality; 4:2:0 chroma as libjpeg's defaults
    (torchvision's GPU encoder keeps 4:4:4, a larger file)."""
    images = [tvx.io.decode_jpeg(tvx.io.read_file(p), mode="RGB") for p in JPEGS if "photo-500" in str(p)][:8]
    images.append(images[0][:1, 1:50, 3:70])  # gray, odd size
    gpu = [i.cuda() for i in images]
    for quality in (50, 90):
        encoded = tvx.io.encode_jpeg(gpu, quality=quality)
        theirs = torchvision.io.encode_jpeg(gpu[:-1], quality=quality)  # torchvision's takes no gray
        for image, e, t in zip(images, encoded, theirs + [None]):
            assert e.is_cuda and e.dtype == torch.uint8 and e.dim() == 1
            if t is not None:  # torchvision's keeps full-size chroma (4:4:4); tvx's is 4:2:0, as on the CPU
                assert e.numel() < t.numel(), (e.numel(), t.numel())
            # Two encoders (their DCT and quantisation round differently): as faithful as libjpeg's.
            gpu_error = _mean_diff(tvx.io.decode_jpeg(e.cpu()), image)
            cpu_error = _mean_diff(tvx.io.decode_jpeg(tvx.io.encode_jpeg(image, quality=quality)), image)
            assert gpu_error <= 1.25 * cpu_error + 0.25, (quality, gpu_error, cpu_error)
    assert torch.equal(tvx.io.encode_jpeg(gpu[0], quality=75), tvx.io.encode_jpeg([gpu[0]], quality=75)[0])
    with pytest.raises(RuntimeError, match="tvx.encode_jpegs: image 0 must have shape"):
        tvx.io.encode_jpeg([gpu[0][None]])


def _env_with(env_vars):
    """This process's environment with `env_vars` set (a None value: unset) and tvx importable."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    for name, value in env_vars.items():
        env.pop(name, None)
        if value is not None:
            env[name] = value
    return env


def _backend_in_fresh_process(env_vars):
    """The GPU decoder's description (tvx._nvjpeg_backend) in a fresh process under `env_vars`."""
    code = "import torch, tvx; print(torch.ops.tvx._nvjpeg_backend(torch.device('cuda')))"
    return subprocess.run([sys.executable, "-c", code], env=_env_with(env_vars), capture_output=True, text=True,
                          timeout=300)


def _gpu_suite_with(env_vars, backend):
    """The every-file (GRAY and RGB), EXIF and min_size GPU tests in a fresh process under
    `env_vars`, whose decoder's description must pass `backend`."""
    out = _backend_in_fresh_process(env_vars)
    assert out.returncode == 0 and backend(out.stdout.strip()), out.stdout + out.stderr
    env = _env_with(env_vars)
    script = f"""
import torch, tvx, sys
sys.path.insert(0, {str(Path(__file__).parent)!r})
import test_io
test_io.test_gpu_decode_matches_the_cpu_on_every_file("GRAY")
test_io.test_gpu_decode_matches_the_cpu_on_every_file("RGB")
test_io.test_gpu_decode_exif_and_min_size_follow_the_cpu()
print("ok")
"""
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0 and out.stdout.strip().endswith("ok"), out.stdout + out.stderr


@needs_cuda
def test_gpu_decode_on_the_gpu_backend():
    """TVX_NVJPEG_BACKEND=gpu: nvJPEG's GPU (hybrid) backend, as on GPUs without JPEG engines."""
    _gpu_suite_with({"TVX_NVJPEG_BACKEND": "gpu"}, lambda backend: backend == "gpu")


@needs_cuda
@pytest.mark.skipif(not _HARDWARE, reason="needs a GPU with JPEG engines")
def test_gpu_decode_with_the_engines_refusals_on_cpu_threads():
    """TVX_NVJPEG_REFUSED=cpu: the files the engine refuses (progressive; 4:1:1 in GRAY mode)
    on libjpeg's CPU threads instead of nvJPEG's decoupled decoder beside the engine (the
    default when the variable is unset or empty): every image then equals the CPU's exactly."""
    _gpu_suite_with({"TVX_NVJPEG_REFUSED": "cpu"},
                    lambda backend: backend.startswith("hardware (") and "refused files on CPU threads" in backend)
    for value in ("decoupled", "", None):  # None: unset
        out = _backend_in_fresh_process({"TVX_NVJPEG_REFUSED": value})
        assert out.returncode == 0 and "refused files on the decoupled decoder" in out.stdout, (value, out.stdout + out.stderr)
    out = _backend_in_fresh_process({"TVX_NVJPEG_REFUSED": "gpu"})
    assert out.returncode != 0 and "TVX_NVJPEG_REFUSED must be cpu or decoupled, got 'gpu'" in out.stderr, out.stderr
