// Batched JPEG decoding on the GPU with nvJPEG, on the caller's current stream.
//
// Every file's header is parsed on the host first. Those nvJPEG's batched decoder takes (on
// the hardware engine: baseline, one scan, not 4:1:0/4:1:1; on the GPU backend: baseline and
// progressive; 1 or 3 components either way) are decoded in one nvjpegDecodeBatched call per
// output format: Y straight into the [1, H, W] outputs; for colour, the YCbCr planes at their
// coded sizes, which ycc.cu upsamples and converts to RGB exactly as libjpeg-turbo does, so
// that the GPU's pixels differ from the CPU's only by the IDCT's rounding.
// The rest (CMYK, the hardware engine's exceptions, DCT-scaled sizes, headers nvJPEG refuses)
// are decoded by libjpeg-turbo on CPU threads and uploaded, so a batch can mix them freely. A
// batch that nvJPEG fails is decoded on the CPU instead: each good file still decodes, and a
// corrupt one raises libjpeg's message, naming the image.
#include "io/nvjpeg/nvjpeg.h"

#include <ATen/ThreadLocalState.h>
#include <ATen/cuda/CUDAContext.h>
#include <ATen/ops/empty.h>
#include <c10/cuda/CUDAGuard.h>

#include <exception>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include "io/io.h"
#include "io/nvjpeg/ycc.h"
#include <tvx/io.h>

namespace tvx::io {
namespace {

constexpr const char* kOp = "tvx.decode_jpegs";

// A device's batched-decode state; one caller at a time (the mutex).
struct BatchState {
  std::mutex mutex;
  nvjpegJpegState_t state = nullptr;
  nvjpegJpegStream_t header = nullptr;  // the parsed header of the file at hand
  nvjpeg::StreamOrder order;            // the callers' streams' uses of the state
  int batch = -1;                       // what nvjpegDecodeBatchedInitialize was last given
  nvjpegOutputFormat_t format = NVJPEG_OUTPUT_RGB;
};

BatchState& batch_state(int device, const nvjpeg::Handle& h) {
  static nvjpeg::PerDevice<BatchState> states;
  return states.get(device, [&](int) {
    const nvjpeg::Api& nv = nvjpeg::api();
    auto s = std::make_unique<BatchState>();
    TVX_NVJPEG_CHECK(kOp, nv.nvjpegJpegStateCreate(h.handle, &s->state));
    TVX_NVJPEG_CHECK(kOp, nv.nvjpegJpegStreamCreate(h.handle, &s->header));
    return s;
  });
}

}  // namespace

namespace detail {

std::vector<at::Tensor> decode_jpegs_cuda(const std::vector<at::Tensor>& data_arg, std::int64_t mode,
                                          at::Device device, bool apply_exif_orientation,
                                          at::OptionalIntArrayRef min_size) {
  check_jpeg_mode(kOp, mode);
  TORCH_CHECK(device.is_cuda(), kOp, ": the GPU decoder needs a CUDA device, got ", device);
  if (min_size) check_min_size(kOp, *min_size);
  const int index = device.has_index() ? device.index() : c10::cuda::current_device();
  c10::cuda::CUDAGuard guard(static_cast<c10::DeviceIndex>(index));
  const auto options = at::TensorOptions().dtype(at::kByte).device(at::kCUDA, index);
  const cudaStream_t stream = at::cuda::getCurrentCUDAStream(index);

  const std::size_t n = data_arg.size();
  std::vector<at::Tensor> data(n), images(n);
  for (std::size_t i = 0; i < n; ++i) {
    try {
      data[i] = check_encoded(kOp, data_arg[i]);
    } catch (const c10::Error& e) {
      TORCH_CHECK(false, kOp, ": image ", i, " of ", n, ": ", e.what_without_backtrace());
    }
  }
  std::vector<int> orientation(n, 1);
  std::vector<char> on_gpu(n, 0);
  if (n == 0) return images;

  // libjpeg-turbo on the thread pool for the images in `which`; errors name the caller's index.
  std::vector<std::int64_t> size;
  if (min_size) size = min_size->vec();
  auto decode_on_cpu = [&](const std::vector<std::size_t>& which) {
    for_each_image(
        kOp, which.size(), n,
        [&](std::size_t j) {
          const std::size_t i = which[j];
          images[i] = min_size ? decode_jpeg_scaled(data[i], mode, size, apply_exif_orientation)
                               : decode_jpeg(data[i], mode, apply_exif_orientation);
        },
        [&](std::size_t j) { return which[j]; });
  };
  // The CPU's share runs on a thread of its own while nvJPEG decodes the rest.
  std::vector<std::size_t> rest;
  std::exception_ptr cpu_error;
  std::thread cpu;
  struct Join {
    std::thread& t;
    ~Join() {
      if (t.joinable()) t.join();
    }
  } join{cpu};

  const nvjpeg::Api& nv = nvjpeg::api();
  const nvjpeg::Handle& h = nvjpeg::handle(index);
  BatchState& s = batch_state(index, h);
  std::vector<std::size_t> failed;  // images of a batch nvJPEG failed: the CPU decodes them afterwards
  {
    std::lock_guard<std::mutex> lock(s.mutex);
    std::vector<std::size_t> groups[2];  // by output: Y, YCbCr
    std::vector<nvjpeg::YccImage> ycc(n);  // the colour images' planes (pointers set below)
    std::int64_t scratch_bytes = 0;
    for (std::size_t i = 0; i < n; ++i) {
      const auto* bytes = data[i].const_data_ptr<std::uint8_t>();
      const std::size_t size = std::size_t(data[i].numel());
      if (nv.nvjpegJpegStreamParseHeader(h.handle, bytes, size, s.header) != NVJPEG_STATUS_SUCCESS) continue;
      unsigned components = 0, width = 0, height = 0;
      nvjpegJpegEncoding_t encoding = NVJPEG_ENCODING_UNKNOWN;
      nvjpegChromaSubsampling_t subsampling = NVJPEG_CSS_UNKNOWN;
      if (nv.nvjpegJpegStreamGetComponentsNum(s.header, &components) != NVJPEG_STATUS_SUCCESS ||
          nv.nvjpegJpegStreamGetFrameDimensions(s.header, &width, &height) != NVJPEG_STATUS_SUCCESS ||
          nv.nvjpegJpegStreamGetJpegEncoding(s.header, &encoding) != NVJPEG_STATUS_SUCCESS ||
          nv.nvjpegJpegStreamGetChromaSubsampling(s.header, &subsampling) != NVJPEG_STATUS_SUCCESS)
        continue;
      if ((components != 1 && components != 3) || subsampling == NVJPEG_CSS_UNKNOWN || width == 0 || height == 0)
        continue;
      // nvJPEG's Y and YCbCr outputs assume YCbCr: RGB-coded files (Adobe transform 0, 'R' 'G' 'B'
      // component IDs) go to libjpeg, which reads them as RGB.
      if (components == 3 && !jpeg_is_ycc(bytes, size)) continue;
      if (h.hardware) {
        int unsupported = 1;  // nvJPEG's convention: 0 means supported
        if (nv.nvjpegDecodeBatchedSupported(h.handle, s.header, &unsupported) != NVJPEG_STATUS_SUCCESS || unsupported)
          continue;
      } else if (encoding != NVJPEG_ENCODING_BASELINE_DCT && encoding != NVJPEG_ENCODING_EXTENDED_SEQUENTIAL_DCT_HUFFMAN &&
                 encoding != NVJPEG_ENCODING_PROGRESSIVE_DCT_HUFFMAN) {
        continue;
      }
      if (apply_exif_orientation) orientation[i] = jpeg_exif_orientation(bytes, size);
      if (min_size && jpeg_dct_scale(height, width, orientation[i], *min_size) < 8) continue;  // libjpeg scales it
      const int channels = mode == kGray ? 1 : mode == kRgb ? 3 : int(components);
      if (channels == 3) {
        // The chroma's coded size: 1 or 2 times smaller than the image each way, Cb as Cr.
        unsigned cw = 0, ch = 0, cw2 = 0, ch2 = 0, yw = 0, yh = 0;
        if (nv.nvjpegJpegStreamGetComponentDimensions(s.header, 0, &yw, &yh) != NVJPEG_STATUS_SUCCESS ||
            nv.nvjpegJpegStreamGetComponentDimensions(s.header, 1, &cw, &ch) != NVJPEG_STATUS_SUCCESS ||
            nv.nvjpegJpegStreamGetComponentDimensions(s.header, 2, &cw2, &ch2) != NVJPEG_STATUS_SUCCESS)
          continue;
        const int hf = cw ? int((width + cw - 1) / cw) : 0, vf = ch ? int((height + ch - 1) / ch) : 0;
        if (yw != width || yh != height || cw != cw2 || ch != ch2 || !nvjpeg::ycc_supported(hf, vf, int(cw)) ||
            (width + hf - 1) / hf != cw || (height + vf - 1) / vf != ch)
          continue;
        ycc[i] = {nullptr, nullptr, nullptr, nullptr, int(height), int(width), int(ch), int(cw), int(width), int(cw), hf, vf};
        scratch_bytes += std::int64_t(width) * height + 2 * std::int64_t(cw) * ch;
      }
      images[i] = at::empty({channels, std::int64_t(height), std::int64_t(width)}, options);
      groups[channels == 1 ? 0 : 1].push_back(i);
      on_gpu[i] = 1;
    }
    for (std::size_t i = 0; i < n; ++i)
      if (!on_gpu[i]) rest.push_back(i);
    if (!rest.empty()) {
      cpu = std::thread([&, state = at::ThreadLocalState()] {
        at::ThreadLocalStateGuard guard(state);
        try {
          decode_on_cpu(rest);
        } catch (...) {
          cpu_error = std::current_exception();
        }
      });
    }
    // nvJPEG writes the colour images' Y, Cb and Cr planes here.
    const at::Tensor scratch = at::empty({scratch_bytes}, options);
    std::uint8_t* next = scratch.mutable_data_ptr<std::uint8_t>();
    for (std::size_t i : groups[1]) {
      nvjpeg::YccImage& im = ycc[i];
      im.y = next, next += std::int64_t(im.width) * im.height;
      im.cb = next, next += std::int64_t(im.chroma_width) * im.chroma_height;
      im.cr = next, next += std::int64_t(im.chroma_width) * im.chroma_height;
      im.rgb = images[i].mutable_data_ptr<std::uint8_t>();
    }

    // The state's buffers may still be in use by another stream's work (StreamOrder).
    std::optional<nvjpeg::StreamOrder::Use> use;
    if (!groups[0].empty() || !groups[1].empty()) use.emplace(s.order, stream);
    for (int g = 0; g < 2; ++g) {
      const std::vector<std::size_t>& group = groups[g];
      if (group.empty()) continue;
      const nvjpegOutputFormat_t format = g == 0 ? NVJPEG_OUTPUT_Y : NVJPEG_OUTPUT_YUV;
      const int k = int(group.size());
      if (s.batch != k || s.format != format) {
        TVX_NVJPEG_CHECK(kOp, nv.nvjpegDecodeBatchedInitialize(h.handle, s.state, k, 1, format));
        s.batch = k, s.format = format;
      }
      std::vector<const unsigned char*> bitstreams(k);
      std::vector<std::size_t> lengths(k);
      std::vector<nvjpegImage_t> outputs(k);
      std::vector<nvjpeg::YccImage> colour;
      for (int j = 0; j < k; ++j) {
        const std::size_t i = group[j];
        bitstreams[j] = data[i].const_data_ptr<std::uint8_t>();
        lengths[j] = std::size_t(data[i].numel());
        outputs[j] = {};
        if (g == 0) {
          outputs[j].channel[0] = images[i].mutable_data_ptr<std::uint8_t>();
          outputs[j].pitch[0] = std::size_t(images[i].size(2));
        } else {
          const nvjpeg::YccImage& im = ycc[i];
          outputs[j].channel[0] = const_cast<std::uint8_t*>(im.y), outputs[j].pitch[0] = std::size_t(im.y_pitch);
          outputs[j].channel[1] = const_cast<std::uint8_t*>(im.cb), outputs[j].pitch[1] = std::size_t(im.chroma_pitch);
          outputs[j].channel[2] = const_cast<std::uint8_t*>(im.cr), outputs[j].pitch[2] = std::size_t(im.chroma_pitch);
          colour.push_back(im);
        }
      }
      const nvjpegStatus_t status =
          nv.nvjpegDecodeBatched(h.handle, s.state, bitstreams.data(), lengths.data(), outputs.data(), stream);
      if (status == NVJPEG_STATUS_SUCCESS && !colour.empty())
        nvjpeg::ycc_to_rgb(colour.data(), int(colour.size()), stream);
      if (status != NVJPEG_STATUS_SUCCESS) {  // decode the group on the CPU; libjpeg names a bad file
        for (std::size_t i : group) on_gpu[i] = 0, failed.push_back(i);
        s.batch = -1;  // nvJPEG: re-initialise after a failed batch
      }
    }
  }
  if (cpu.joinable()) cpu.join();
  if (cpu_error) std::rethrow_exception(cpu_error);
  decode_on_cpu(failed);
  // The CPU's images, uploaded on the same stream.
  for (std::size_t i = 0; i < n; ++i)
    if (!on_gpu[i]) images[i] = images[i].to(options).contiguous();
  for (std::size_t i = 0; i < n; ++i)
    if (on_gpu[i]) images[i] = apply_orientation(images[i], orientation[i]);
  return images;
}

std::string nvjpeg_backend(at::Device device) {
  TORCH_CHECK(device.is_cuda(), "tvx._nvjpeg_backend: needs a CUDA device, got ", device);
  return nvjpeg::handle(device.has_index() ? device.index() : c10::cuda::current_device()).describe();
}

}  // namespace detail
}  // namespace tvx::io
