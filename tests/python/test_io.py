"""Image I/O against torchvision.io 0.26 on the real files of ../shared/images (or
$TVX_IMAGES): schemas, pixel-equal JPEG and PNG decoding in every mode with and without
EXIF orientation, clear errors on every corrupt file, no leak."""
import os
import resource
import struct
import subprocess
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
CORRUPT = sorted((IMAGES / "corrupt").iterdir())
tv, tx = torch.ops.image, torch.ops.tvx


@pytest.mark.parametrize("name", ["read_file", "write_file", "decode_jpeg", "decode_png", "decode_webp",
                                  "decode_image", "encode_jpeg", "encode_png", "_jpeg_version", "_is_compiled_against_turbo"])
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
    gif = tvx.io.read_file(IMAGES / "gif" / "chelsea.gif")
    with pytest.raises(RuntimeError, match="tvx.decode_image: GIF files are not decoded yet"):
        tvx.io.decode_image(gif)
    with pytest.raises(RuntimeError, match="tvx.decode_image: unknown image format .* starts with 1 2 3 4"):
        tvx.io.decode_image(torch.tensor([1, 2, 3, 4, 5], dtype=torch.uint8))


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
    with pytest.raises(RuntimeError, match=r"tvx.decode_jpeg: invalid JPEG data: \w"):
        tvx.io.decode_jpeg(data)
    with pytest.raises(RuntimeError, match=r"tvx.decode_png: invalid PNG data: \w"):
        tvx.io.decode_png(data)
    with pytest.raises(RuntimeError, match=r"tvx.decode_webp: invalid WebP data: \w"):
        tvx.io.decode_webp(data)
    with pytest.raises(RuntimeError, match=r"tvx.decode_(image|jpeg|png|webp): (invalid (JPEG|PNG|WebP) data|GIF files|unknown image format)"):
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
    bad = [tvx.io.read_file(p) for p in CORRUPT if p.stat().st_size > 0]

    def rounds(n):
        for i in range(n):
            tvx.io.decode_jpeg(good)
            tvx.io.decode_png(good_png)
            tvx.io.decode_webp(good_webp)
            for decode in (tvx.io.decode_jpeg, tvx.io.decode_png, tvx.io.decode_webp):
                try:
                    decode(bad[i % len(bad)])
                except RuntimeError:
                    pass

    rounds(100)  # warm: allocator pools, libjpeg's tables
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    rounds(1000)
    grown_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert grown_kib < 8 * 1024, f"resident set grew by {grown_kib} KiB over 1000 decodes"
