// GIF decoding on the CPU with Debian's giflib, as torchvision 0.26's decode_gif: uint8 RGB,
// [C, H, W] for one frame and [N, C, H, W] for an animation, every frame composed on the
// canvas. torchvision's composition rules, measured against it (tests/python/test_io.py):
// - the canvas is the screen size, grown to the first frame's size where that is larger;
// - frame 0, and every frame whose own disposal method is "restore to background", starts
//   from the background colour (the global colour map's background entry, black without one);
//   any other frame starts from the frame before it ("restore to previous" included);
// - the frame's pixels are drawn at its offset, clipped to the canvas, except its transparent
//   index; an index beyond the colour map draws black.
// The file is read a frame at a time (giflib's DGifGetLine, not DGifSlurp, which allocates each
// frame's declared size before reading it): a canvas too large for the file is refused up front.
#include "io/io.h"

#include <tvx/io.h>

#include <ATen/ops/empty.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <vector>

#include "core/registration.h"

#if TVX_HAS_GIF
#include <gif_lib.h>
#endif

namespace tvx::io {

#if TVX_HAS_GIF
namespace {

constexpr const char* kOp = "tvx.decode_gif";
// What a file may ask for. The canvas is not backed by pixel data (a 20-byte header can ask for
// 65535 x 65535), and neither are the frames composed on it (a 1x1 frame of a dozen bytes
// yields a whole canvas). A byte of LZW codes yields at most ~2730 pixels (a 12-bit code, a
// string of at most 4096 pixels), so the canvas is bounded by 4096 pixels a byte of the file,
// and all frames together by 16 times that; the floors (2^20 pixels of canvas, 2^26 in all)
// let a small sprite sit on a large screen and a small animation run long.
constexpr std::int64_t kPixelsPerByte = 4096, kMinCanvas = std::int64_t(1) << 20;
constexpr std::int64_t kFramesPerCanvas = 16, kMinTotal = std::int64_t(1) << 26;

struct Reader {
  const std::uint8_t* data;
  std::size_t size, at = 0;
};

int read_bytes(GifFileType* gif, GifByteType* buffer, int length) {
  auto* r = static_cast<Reader*>(gif->UserData);
  const std::size_t n = std::min(std::size_t(std::max(length, 0)), r->size - r->at);
  std::memcpy(buffer, r->data + r->at, n);
  r->at += n;
  return int(n);
}

struct Closer {
  void operator()(GifFileType* gif) const {
    int error = 0;
    DGifCloseFile(gif, &error);
  }
};

[[noreturn]] void fail(const char* what, int error) {
  const char* why = GifErrorString(error);
  TORCH_CHECK(false, kOp, ": invalid GIF data: ", what, " (giflib: ", why ? why : "unknown error", ")");
}

}  // namespace

at::Tensor decode_gif(const at::Tensor& data_arg) {
  const at::Tensor data = detail::check_encoded(kOp, data_arg);
  Reader reader{data.const_data_ptr<std::uint8_t>(), std::size_t(data.numel())};
  int error = 0;
  std::unique_ptr<GifFileType, Closer> gif(DGifOpen(&reader, &read_bytes, &error));
  if (!gif) fail("cannot read the header", error);

  const ColorMapObject* global = gif->SColorMap;
  std::uint8_t background[3] = {0, 0, 0};
  if (global && gif->SBackGroundColor >= 0 && gif->SBackGroundColor < global->ColorCount) {
    const GifColorType& c = global->Colors[gif->SBackGroundColor];
    background[0] = c.Red, background[1] = c.Green, background[2] = c.Blue;
  }

  std::int64_t height = 0, width = 0;  // the canvas, set by the first frame
  std::vector<at::Tensor> frames;      // [H, W, 3] each
  std::vector<GifPixelType> row;
  GraphicsControlBlock gcb{DISPOSAL_UNSPECIFIED, false, 0, NO_TRANSPARENT_COLOR};
  bool have_gcb = false;
  for (;;) {
    GifRecordType record;
    if (DGifGetRecordType(gif.get(), &record) == GIF_ERROR) fail("cannot read the next block", gif->Error);
    if (record == TERMINATE_RECORD_TYPE) break;
    if (record == EXTENSION_RECORD_TYPE) {
      int code = 0;
      GifByteType* block = nullptr;
      if (DGifGetExtension(gif.get(), &code, &block) == GIF_ERROR) fail("cannot read an extension", gif->Error);
      // A frame's graphic control block: the first one before it counts, as in DGifSlurp's files.
      // A malformed one leaves the defaults, as torchvision's decoder does.
      if (code == GRAPHICS_EXT_FUNC_CODE && block && !have_gcb) {
        if (DGifExtensionToGCB(block[0], block + 1, &gcb) == GIF_ERROR)
          gcb = {DISPOSAL_UNSPECIFIED, false, 0, NO_TRANSPARENT_COLOR};
        have_gcb = true;
      }
      while (block)
        if (DGifGetExtensionNext(gif.get(), &block) == GIF_ERROR) fail("cannot read an extension", gif->Error);
      continue;
    }
    if (record != IMAGE_DESC_RECORD_TYPE) continue;  // UNDEFINED/SCREEN_DESC: giflib skips them

    if (DGifGetImageDesc(gif.get()) == GIF_ERROR) fail("cannot read a frame's descriptor", gif->Error);
    const GifImageDesc& desc = gif->Image;
    const ColorMapObject* colors = desc.ColorMap ? desc.ColorMap : global;
    TORCH_CHECK(colors, kOp, ": invalid GIF data: frame ", frames.size(), " has no colour map (neither global nor local)");
    const std::int64_t fw = desc.Width, fh = desc.Height, left = desc.Left, top = desc.Top;
    if (frames.empty()) {
      height = std::max<std::int64_t>(gif->SHeight, fh);
      width = std::max<std::int64_t>(gif->SWidth, fw);
      TORCH_CHECK(height > 0 && width > 0, kOp, ": invalid GIF data: an empty canvas (", height, " x ", width, ")");
      TORCH_CHECK(height * width <= std::max(kMinCanvas, kPixelsPerByte * std::int64_t(reader.size)), kOp,
                  ": invalid GIF data: a canvas of ", height, " x ", width, " pixels from a file of ", reader.size,
                  " bytes (more than GIF's compression can hold)");
    }
    TORCH_CHECK(fw > 0 && fh > 0, kOp, ": invalid GIF data: frame ", frames.size(), " is empty (", fh, " x ", fw, ")");
    const std::int64_t total = std::int64_t(frames.size() + 1) * height * width;
    TORCH_CHECK(total <= std::max(kMinTotal, kFramesPerCanvas * kPixelsPerByte * std::int64_t(reader.size)), kOp,
                ": invalid GIF data: ", frames.size() + 1, " frames of ", height, " x ", width, " pixels from a file of ",
                reader.size, " bytes (more than GIF's compression can hold)");

    at::Tensor frame;
    if (frames.empty() || gcb.DisposalMode == DISPOSE_BACKGROUND) {
      frame = at::empty({height, width, 3}, at::kByte);
      std::uint8_t* p = frame.mutable_data_ptr<std::uint8_t>();
      for (std::int64_t i = 0; i < height * width; ++i, p += 3) std::memcpy(p, background, 3);
    } else {
      frame = frames.back().clone();
    }

    // Rows arrive in file order: interlaced frames in four passes.
    static constexpr int kStart[4] = {0, 4, 2, 1}, kStep[4] = {8, 8, 4, 2};
    const int passes = desc.Interlace ? 4 : 1;
    row.resize(std::size_t(std::max<std::int64_t>(fw, 1)));
    std::uint8_t* canvas = frame.mutable_data_ptr<std::uint8_t>();
    const std::int64_t x0 = std::max<std::int64_t>(left, 0), x1 = std::min(left + fw, width);
    for (int pass = 0; pass < passes; ++pass) {
      for (std::int64_t y = desc.Interlace ? kStart[pass] : 0; y < fh; y += desc.Interlace ? kStep[pass] : 1) {
        if (DGifGetLine(gif.get(), row.data(), int(fw)) == GIF_ERROR)
          fail(c10::str("frame ", frames.size(), " is truncated or corrupt").c_str(), gif->Error);
        const std::int64_t cy = top + y;
        if (cy >= height) continue;
        std::uint8_t* out = canvas + (cy * width) * 3;
        for (std::int64_t x = x0; x < x1; ++x) {
          const int index = row[std::size_t(x - left)];
          if (index == gcb.TransparentColor) continue;
          std::uint8_t* px = out + x * 3;
          if (index < colors->ColorCount) {
            const GifColorType& c = colors->Colors[index];
            px[0] = c.Red, px[1] = c.Green, px[2] = c.Blue;
          } else {
            px[0] = px[1] = px[2] = 0;
          }
        }
      }
    }
    frames.push_back(std::move(frame));
    gcb = {DISPOSAL_UNSPECIFIED, false, 0, NO_TRANSPARENT_COLOR};
    have_gcb = false;
  }
  TORCH_CHECK(!frames.empty(), kOp, ": invalid GIF data: the file holds no image");
  if (frames.size() == 1) return frames[0].permute({2, 0, 1}).contiguous();
  // Each frame into the [N, 3, H, W] result, released as it goes (a peak of twice the result).
  at::Tensor out = at::empty({std::int64_t(frames.size()), 3, height, width}, at::kByte);
  for (std::size_t i = 0; i < frames.size(); ++i) {
    out[std::int64_t(i)].copy_(frames[i].permute({2, 0, 1}));
    frames[i].reset();
  }
  return out;
}

namespace detail {
std::string gif_library() { return c10::str("giflib ", GIFLIB_MAJOR, ".", GIFLIB_MINOR, ".", GIFLIB_RELEASE); }
}  // namespace detail

#else  // no giflib

at::Tensor decode_gif(const at::Tensor&) {
  TORCH_CHECK(false, "tvx.decode_gif: this tvx was built without giflib (see `tvx info`)");
}
namespace detail {
std::string gif_library() { return ""; }
}  // namespace detail

#endif

}  // namespace tvx::io

TVX_LIBRARY(m) { m.def("decode_gif(Tensor _0) -> Tensor _0", &tvx::io::decode_gif); }
