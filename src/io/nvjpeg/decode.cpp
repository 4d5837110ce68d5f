// Batched JPEG decoding on the GPU with nvJPEG, on the caller's current stream.
//
// Every file's header is parsed on the host first. Those nvJPEG's batched decoder takes (on
// the hardware engine: baseline, one scan, not 4:1:0/4:1:1; on the GPU backend: baseline and
// progressive; 1 or 3 components either way) are decoded in one nvjpegDecodeBatched call per
// output format (Y for one channel, planar RGB for three) straight into the [C, H, W] outputs.
// The rest (CMYK, the hardware engine's exceptions, DCT-scaled sizes, headers nvJPEG refuses)
// are decoded by libjpeg-turbo on CPU threads meanwhile and uploaded, so a batch can mix them
// freely. A batch that nvJPEG fails is decoded on the CPU instead: each good file still
// decodes, and a corrupt one raises libjpeg's message, naming the image.
#include "io/nvjpeg/nvjpeg.h"

#include <ATen/cuda/CUDAContext.h>
#include <ATen/ops/empty.h>
#include <c10/cuda/CUDAGuard.h>

#include <memory>
#include <vector>

#include "io/io.h"
#include <tvx/io.h>

namespace tvx::io {
namespace {

constexpr const char* kOp = "tvx.decode_jpegs";

// A device's batched-decode state; one caller at a time (the mutex).
struct BatchState {
  std::mutex mutex;
  nvjpegJpegState_t state = nullptr;
  nvjpegJpegStream_t header = nullptr;  // the parsed header of the file at hand
  cudaEvent_t last_use = nullptr;       // the previous call's work: a caller on another stream waits for it
  int batch = -1;                       // what nvjpegDecodeBatchedInitialize was last given
  nvjpegOutputFormat_t format = NVJPEG_OUTPUT_RGB;
};

BatchState& batch_state(int device, const nvjpeg::Handle& h) {
  static nvjpeg::PerDevice<BatchState> states;
  return states.get(device, [&](int) {
    auto s = std::make_unique<BatchState>();
    TVX_NVJPEG_CHECK(kOp, nvjpegJpegStateCreate(h.handle, &s->state));
    TVX_NVJPEG_CHECK(kOp, nvjpegJpegStreamCreate(h.handle, &s->header));
    C10_CUDA_CHECK(cudaEventCreateWithFlags(&s->last_use, cudaEventDisableTiming));
    return s;
  });
}

// decode_jpeg_scaled's choice: the least s in 1, 2, 4 whose ceil(size * s / 8) covers the
// minimum (read in the upright orientation), 8 where none does.
int dct_scale(std::int64_t height, std::int64_t width, int orientation, at::IntArrayRef min_size) {
  const bool turned = orientation >= 5;
  const std::int64_t need_h = turned ? min_size[1] : min_size[0], need_w = turned ? min_size[0] : min_size[1];
  for (int s = 1; s < 8; s *= 2)
    if ((height * s + 7) / 8 >= need_h && (width * s + 7) / 8 >= need_w) return s;
  return 8;
}

}  // namespace

namespace detail {

std::vector<at::Tensor> decode_jpegs_cuda(const std::vector<at::Tensor>& data_arg, std::int64_t mode,
                                          at::Device device, bool apply_exif_orientation,
                                          at::OptionalIntArrayRef min_size) {
  mode_name(kOp, mode);
  TORCH_CHECK(mode == kUnchanged || mode == kGray || mode == kRgb, kOp, ": mode ", mode_name(kOp, mode),
              " is not supported for JPEG files (UNCHANGED, GRAY or RGB)");
  TORCH_CHECK(device.is_cuda(), kOp, ": the GPU decoder needs a CUDA device, got ", device);
  TORCH_CHECK(!min_size || (min_size->size() == 2 && (*min_size)[0] >= 0 && (*min_size)[1] >= 0), kOp,
              ": min_size must be (height, width), each 0 or more, got ", *min_size);
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

  const nvjpeg::Handle& h = nvjpeg::handle(index);
  BatchState& s = batch_state(index, h);
  {
    std::lock_guard<std::mutex> lock(s.mutex);
    std::vector<std::size_t> groups[2];  // by output: Y, RGB
    for (std::size_t i = 0; i < n; ++i) {
      const auto* bytes = data[i].const_data_ptr<std::uint8_t>();
      const std::size_t size = std::size_t(data[i].numel());
      if (nvjpegJpegStreamParseHeader(h.handle, bytes, size, s.header) != NVJPEG_STATUS_SUCCESS) continue;
      unsigned components = 0, width = 0, height = 0;
      nvjpegJpegEncoding_t encoding = NVJPEG_ENCODING_UNKNOWN;
      nvjpegChromaSubsampling_t subsampling = NVJPEG_CSS_UNKNOWN;
      if (nvjpegJpegStreamGetComponentsNum(s.header, &components) != NVJPEG_STATUS_SUCCESS ||
          nvjpegJpegStreamGetFrameDimensions(s.header, &width, &height) != NVJPEG_STATUS_SUCCESS ||
          nvjpegJpegStreamGetJpegEncoding(s.header, &encoding) != NVJPEG_STATUS_SUCCESS ||
          nvjpegJpegStreamGetChromaSubsampling(s.header, &subsampling) != NVJPEG_STATUS_SUCCESS)
        continue;
      if ((components != 1 && components != 3) || subsampling == NVJPEG_CSS_UNKNOWN || width == 0 || height == 0)
        continue;
      if (h.hardware) {
        int unsupported = 1;  // nvJPEG's convention: 0 means supported
        if (nvjpegDecodeBatchedSupported(h.handle, s.header, &unsupported) != NVJPEG_STATUS_SUCCESS || unsupported)
          continue;
      } else if (encoding != NVJPEG_ENCODING_BASELINE_DCT && encoding != NVJPEG_ENCODING_EXTENDED_SEQUENTIAL_DCT_HUFFMAN &&
                 encoding != NVJPEG_ENCODING_PROGRESSIVE_DCT_HUFFMAN) {
        continue;
      }
      if (apply_exif_orientation) orientation[i] = jpeg_exif_orientation(bytes, size);
      if (min_size && dct_scale(height, width, orientation[i], *min_size) < 8) continue;  // libjpeg scales it
      const int channels = mode == kGray ? 1 : mode == kRgb ? 3 : int(components);
      images[i] = at::empty({channels, std::int64_t(height), std::int64_t(width)}, options);
      groups[channels == 1 ? 0 : 1].push_back(i);
      on_gpu[i] = 1;
    }

    for (int g = 0; g < 2; ++g) {
      const std::vector<std::size_t>& group = groups[g];
      if (group.empty()) continue;
      const nvjpegOutputFormat_t format = g == 0 ? NVJPEG_OUTPUT_Y : NVJPEG_OUTPUT_RGB;
      const int k = int(group.size());
      if (s.batch != k || s.format != format) {
        TVX_NVJPEG_CHECK(kOp, nvjpegDecodeBatchedInitialize(h.handle, s.state, k, 1, format));
        s.batch = k, s.format = format;
      }
      std::vector<const unsigned char*> bitstreams(k);
      std::vector<std::size_t> lengths(k);
      std::vector<nvjpegImage_t> outputs(k);
      for (int j = 0; j < k; ++j) {
        const at::Tensor& image = images[group[j]];
        bitstreams[j] = data[group[j]].const_data_ptr<std::uint8_t>();
        lengths[j] = std::size_t(data[group[j]].numel());
        const std::int64_t plane = image.size(1) * image.size(2);
        outputs[j] = {};
        for (int c = 0; c < image.size(0); ++c) {
          outputs[j].channel[c] = image.mutable_data_ptr<std::uint8_t>() + c * plane;
          outputs[j].pitch[c] = std::size_t(image.size(2));
        }
      }
      C10_CUDA_CHECK(cudaStreamWaitEvent(stream, s.last_use, 0));
      const nvjpegStatus_t status =
          nvjpegDecodeBatched(h.handle, s.state, bitstreams.data(), lengths.data(), outputs.data(), stream);
      C10_CUDA_CHECK(cudaEventRecord(s.last_use, stream));
      if (status != NVJPEG_STATUS_SUCCESS) {  // decode the group on the CPU; libjpeg names a bad file
        for (std::size_t i : group) on_gpu[i] = 0;
        s.batch = -1;  // nvJPEG: re-initialise after a failed batch
      }
    }
  }

  // The CPU's share, on the thread pool, then uploaded on the same stream.
  std::vector<std::size_t> rest;
  for (std::size_t i = 0; i < n; ++i)
    if (!on_gpu[i]) rest.push_back(i);
  std::vector<std::int64_t> size;
  if (min_size) size = min_size->vec();
  for_each_image(
      kOp, rest.size(), n,
      [&](std::size_t j) {
        const std::size_t i = rest[j];
        images[i] = min_size ? decode_jpeg_scaled(data[i], mode, size, apply_exif_orientation)
                             : decode_jpeg(data[i], mode, apply_exif_orientation);
      },
      [&](std::size_t j) { return rest[j]; });
  for (std::size_t i : rest) images[i] = images[i].to(options).contiguous();
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
