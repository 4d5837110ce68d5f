// Batched JPEG decoding on the GPU with nvJPEG, on the caller's current stream.
//
// Every file's header is parsed on the host first (on the thread pool). Those nvJPEG can take
// (Huffman-coded baseline, extended or progressive; 1 or 3 components) decode to Y (one plane,
// into the [1, H, W] output) or, for colour, to the YCbCr planes at their coded sizes, which
// ycc.cu upsamples and converts to RGB exactly as libjpeg-turbo does, so that the GPU's pixels
// differ from the CPU's only by the IDCT's rounding. Two decoders share them:
// - The hardware engine (where the GPU has one) takes what it supports (one scan, not
//   4:1:0/4:1:1): one nvjpegDecodeBatched call per output and chroma subsampling. A batch that
//   mixes subsamplings with planar output runs 4x slower on an H100's engines (82 ms against
//   20 ms for 64 1080p photos) than the same images in one call each.
// - nvJPEG's decoupled decoder takes the rest (all of them on GPUs without engines), on the
//   thread pool: one worker per thread, each with its own state, buffers and stream (forked
//   from and joined back to the caller's), since the entropy decoding is host work (the
//   batched call does it on one thread). Beside the engine it runs on a thread of its own and
//   a handle of its own (nvjpeg::decoupled_handle), while the engine works
//   (TVX_NVJPEG_REFUSED=cpu sends the engine's refusals to libjpeg instead).
// The rest (CMYK, arithmetic coding, DCT-scaled sizes, headers nvJPEG refuses) are decoded by
// libjpeg-turbo on CPU threads while nvJPEG works, and uploaded, so a batch can mix them
// freely. Images nvJPEG fails on are decoded on the CPU instead: each good file still decodes,
// and a corrupt one raises libjpeg's message, naming the image.
#include "io/nvjpeg/nvjpeg.h"

#include <ATen/Parallel.h>
#include <ATen/ThreadLocalState.h>
#include <ATen/cuda/CUDAContext.h>
#include <ATen/cuda/CUDAEvent.h>
#include <ATen/ops/empty.h>
#include <c10/cuda/CUDAGuard.h>

#include <array>
#include <atomic>
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
using detail::jpeg_dct_scale, detail::jpeg_exif_orientation, detail::jpeg_is_ycc, detail::kGray, detail::kRgb;

// nvJPEG's chroma subsamplings are 0..7 (NVJPEG_CSS_444 .. NVJPEG_CSS_410V); a group is an
// output (Y: 0, YCbCr: 1) and a subsampling.
constexpr int kSubsamplings = 8;
constexpr int kGroups = 2 * kSubsamplings;

// One group's nvjpegDecodeBatched state on the hardware engine. A state per group, each
// initialised when its batch size changes: initialising one state again whenever the group
// changed took the 64 1080p photos from 20 to 93 ms on an H100.
struct EngineGroup {
  nvjpegJpegState_t state = nullptr;
  int batch = -1;  // what nvjpegDecodeBatchedInitialize was last given
};

// A decoupled-decode worker: a state per decoder, and two sets of pinned
// buffer and parsed stream, alternating from image to image so the host stage of one overlaps
// the previous one's device stage. A state's next transfer waits for its previous device stage
// (as NVIDIA's decoupled samples do): they share the state's device buffer.
struct Worker {
  std::array<nvjpegJpegState_t, 2> state{};  // per decoder (kGpuHybrid, kHybrid)
  // Recorded after the state's last device stage. An event never recorded is complete:
  // cudaEventSynchronize returns at once.
  std::array<cudaEvent_t, 2> state_done{};
  std::array<nvjpegBufferDevice_t, 2> device{};
  std::array<nvjpegBufferPinned_t, 2> pinned{};
  std::array<nvjpegJpegStream_t, 2> stream{};
  std::array<cudaEvent_t, 2> pinned_free{};  // recorded after the image that used pinned[k]
  std::array<nvjpegDecodeParams_t, 2> params{};  // Y, YCbCr
};
constexpr int kGpuHybrid = 0, kHybrid = 1;

// A device's decode state; one caller at a time (the mutex).
struct BatchState {
  std::mutex mutex;
  std::vector<nvjpegJpegStream_t> headers;  // one per pool thread, for the header pass
  std::array<EngineGroup, kGroups> groups;
  // The decoupled API's (kGpuHybrid, kHybrid) and its workers, on nvjpeg::decoupled_handle.
  std::array<nvjpegJpegDecoder_t, 2> decoders{};
  std::vector<std::unique_ptr<Worker>> workers;
  nvjpeg::StreamOrder order;  // the callers' streams' uses of the state
};

BatchState& batch_state(int device) {
  static nvjpeg::PerDevice<BatchState> states;
  return states.get(device, [&](int) { return std::make_unique<BatchState>(); });
}

// What the header pass found for one image: its group (-1: libjpeg decodes it), whether the
// engine takes it (else the decoupled decoder), the output's shape and, for colour, the planes'
// layout (pointers set later).
struct Plan {
  int group = -1;
  bool engine = false;
  int channels = 0, height = 0, width = 0, orientation = 1;
  nvjpeg::YccImage ycc{};
};

Plan inspect(const nvjpeg::Api& nv, const nvjpeg::Handle& h, nvjpegJpegStream_t header, const at::Tensor& data,
             std::int64_t mode, bool apply_exif_orientation, at::OptionalIntArrayRef min_size) {
  Plan plan;
  const auto* bytes = data.const_data_ptr<std::uint8_t>();
  const std::size_t size = std::size_t(data.numel());
  if (nv.nvjpegJpegStreamParseHeader(h.handle, bytes, size, header) != NVJPEG_STATUS_SUCCESS) return plan;
  unsigned components = 0, width = 0, height = 0;
  nvjpegJpegEncoding_t encoding = NVJPEG_ENCODING_UNKNOWN;
  nvjpegChromaSubsampling_t subsampling = NVJPEG_CSS_UNKNOWN;
  if (nv.nvjpegJpegStreamGetComponentsNum(header, &components) != NVJPEG_STATUS_SUCCESS ||
      nv.nvjpegJpegStreamGetFrameDimensions(header, &width, &height) != NVJPEG_STATUS_SUCCESS ||
      nv.nvjpegJpegStreamGetJpegEncoding(header, &encoding) != NVJPEG_STATUS_SUCCESS ||
      nv.nvjpegJpegStreamGetChromaSubsampling(header, &subsampling) != NVJPEG_STATUS_SUCCESS)
    return plan;
  if ((components != 1 && components != 3) || subsampling < 0 || subsampling >= kSubsamplings || width == 0 ||
      height == 0)
    return plan;
  // nvJPEG's Y and YCbCr outputs assume YCbCr: RGB-coded files (Adobe transform 0, 'R' 'G' 'B'
  // component IDs) go to libjpeg, which reads them as RGB.
  if (components == 3 && !jpeg_is_ycc(bytes, size)) return plan;
  bool engine = false;
  if (h.hardware) {
    int unsupported = 1;  // nvJPEG's convention: 0 means supported
    engine = nv.nvjpegDecodeBatchedSupported(h.handle, header, &unsupported) == NVJPEG_STATUS_SUCCESS && !unsupported;
    if (!engine && !h.refused_on_decoupled) return plan;
  }
  if (!engine && encoding != NVJPEG_ENCODING_BASELINE_DCT &&
      encoding != NVJPEG_ENCODING_EXTENDED_SEQUENTIAL_DCT_HUFFMAN && encoding != NVJPEG_ENCODING_PROGRESSIVE_DCT_HUFFMAN)
    return plan;
  if (apply_exif_orientation) plan.orientation = jpeg_exif_orientation(bytes, size);
  if (min_size && jpeg_dct_scale(height, width, plan.orientation, *min_size) < 8) return plan;  // libjpeg scales it
  plan.channels = mode == kGray ? 1 : mode == kRgb ? 3 : int(components);
  plan.height = int(height), plan.width = int(width);
  if (plan.channels == 3) {
    // The chroma's coded size: 1 or 2 times smaller than the image each way, Cb as Cr.
    unsigned cw = 0, ch = 0, cw2 = 0, ch2 = 0, yw = 0, yh = 0;
    if (nv.nvjpegJpegStreamGetComponentDimensions(header, 0, &yw, &yh) != NVJPEG_STATUS_SUCCESS ||
        nv.nvjpegJpegStreamGetComponentDimensions(header, 1, &cw, &ch) != NVJPEG_STATUS_SUCCESS ||
        nv.nvjpegJpegStreamGetComponentDimensions(header, 2, &cw2, &ch2) != NVJPEG_STATUS_SUCCESS)
      return plan;
    const int hf = cw ? int((width + cw - 1) / cw) : 0, vf = ch ? int((height + ch - 1) / ch) : 0;
    if (yw != width || yh != height || cw != cw2 || ch != ch2 || !nvjpeg::ycc_supported(hf, vf, int(cw)) ||
        (width + hf - 1) / hf != cw || (height + vf - 1) / vf != ch)
      return plan;
    plan.ycc = {nullptr, nullptr, nullptr, nullptr, int(height), int(width), int(ch), int(cw), int(width), int(cw), hf, vf};
  }
  plan.group = (plan.channels == 1 ? 0 : kSubsamplings) + int(subsampling);
  plan.engine = engine;
  return plan;
}

// Where nvJPEG writes image i: its [1, H, W] output, or its Y, Cb and Cr planes.
nvjpegImage_t destination(const Plan& plan, const at::Tensor& image) {
  nvjpegImage_t out{};
  if (plan.channels == 1) {
    out.channel[0] = image.mutable_data_ptr<std::uint8_t>();
    out.pitch[0] = std::size_t(plan.width);
  } else {
    const nvjpeg::YccImage& im = plan.ycc;
    out.channel[0] = const_cast<std::uint8_t*>(im.y), out.pitch[0] = std::size_t(im.y_pitch);
    out.channel[1] = const_cast<std::uint8_t*>(im.cb), out.pitch[1] = std::size_t(im.chroma_pitch);
    out.channel[2] = const_cast<std::uint8_t*>(im.cr), out.pitch[2] = std::size_t(im.chroma_pitch);
  }
  return out;
}

// The hardware engine: one batched call per group. Returns the images it failed on.
std::vector<std::size_t> decode_on_engine(const nvjpeg::Api& nv, const nvjpeg::Handle& h, BatchState& s,
                                          const std::vector<at::Tensor>& data, const std::vector<Plan>& plans,
                                          const std::vector<at::Tensor>& images, cudaStream_t stream) {
  std::array<std::vector<std::size_t>, kGroups> members;
  for (std::size_t i = 0; i < plans.size(); ++i)
    if (plans[i].group >= 0 && plans[i].engine) members[plans[i].group].push_back(i);
  std::vector<std::size_t> failed;
  for (int g = 0; g < kGroups; ++g) {
    const std::vector<std::size_t>& group = members[g];
    if (group.empty()) continue;
    EngineGroup& e = s.groups[g];
    if (!e.state) TVX_NVJPEG_CHECK(kOp, nv.nvjpegJpegStateCreate(h.handle, &e.state));
    const int k = int(group.size());
    if (e.batch != k) {
      TVX_NVJPEG_CHECK(kOp, nv.nvjpegDecodeBatchedInitialize(h.handle, e.state, k, 1,
                                                             g < kSubsamplings ? NVJPEG_OUTPUT_Y : NVJPEG_OUTPUT_YUV));
      e.batch = k;
    }
    std::vector<const unsigned char*> bitstreams(k);
    std::vector<std::size_t> lengths(k);
    std::vector<nvjpegImage_t> outputs(k);
    for (int j = 0; j < k; ++j) {
      const std::size_t i = group[j];
      bitstreams[j] = data[i].const_data_ptr<std::uint8_t>();
      lengths[j] = std::size_t(data[i].numel());
      outputs[j] = destination(plans[i], images[i]);
    }
    if (nv.nvjpegDecodeBatched(h.handle, e.state, bitstreams.data(), lengths.data(), outputs.data(), stream) !=
        NVJPEG_STATUS_SUCCESS) {
      failed.insert(failed.end(), group.begin(), group.end());
      e.batch = -1;  // nvJPEG: re-initialise after a failed batch
    }
  }
  return failed;
}

Worker& worker(const nvjpeg::Api& nv, const nvjpeg::Handle& h, BatchState& s, std::size_t w) {
  while (s.workers.size() <= w) {
    auto x = std::make_unique<Worker>();
    for (int d = 0; d < 2; ++d) {
      TVX_NVJPEG_CHECK(kOp, nv.nvjpegDecoderStateCreate(h.handle, s.decoders[d], &x->state[d]));
      TVX_NVJPEG_CHECK(kOp, nv.nvjpegBufferDeviceCreate(h.handle, nullptr, &x->device[d]));
      TVX_NVJPEG_CHECK(kOp, nv.nvjpegStateAttachDeviceBuffer(x->state[d], x->device[d]));
      C10_CUDA_CHECK(cudaEventCreateWithFlags(&x->state_done[d], cudaEventDisableTiming));
    }
    for (int k = 0; k < 2; ++k) {
      TVX_NVJPEG_CHECK(kOp, nv.nvjpegBufferPinnedCreate(h.handle, nullptr, &x->pinned[k]));
      TVX_NVJPEG_CHECK(kOp, nv.nvjpegJpegStreamCreate(h.handle, &x->stream[k]));
      C10_CUDA_CHECK(cudaEventCreateWithFlags(&x->pinned_free[k], cudaEventDisableTiming));
      TVX_NVJPEG_CHECK(kOp, nv.nvjpegDecodeParamsCreate(h.handle, &x->params[k]));
      TVX_NVJPEG_CHECK(kOp, nv.nvjpegDecodeParamsSetOutputFormat(x->params[k], k == 0 ? NVJPEG_OUTPUT_Y : NVJPEG_OUTPUT_YUV));
    }
    s.workers.push_back(std::move(x));
  }
  return *s.workers[w];
}

// Streams forked from the caller's: each starts after the work the caller's stream held when
// this was made, and the caller's stream waits for all of them at join(), or when this is
// destroyed (also when a call throws: the caller's stream must not run ahead of work that
// writes its tensors). One thread adds streams; the caller's thread joins, once that one is
// done, so that only it enqueues on the caller's stream.
class ForkedStreams {
 public:
  ForkedStreams(cudaStream_t caller, int device) : caller_(caller), device_(c10::DeviceIndex(device)) {
    fork_.record(at::cuda::getStreamFromExternal(caller, device_));
  }
  ForkedStreams(const ForkedStreams&) = delete;
  ~ForkedStreams() { join(); }

  cudaStream_t add() {
    streams_.push_back(at::cuda::getStreamFromPool(false, device_));
    fork_.block(streams_.back());
    return streams_.back().stream();
  }

  void join() noexcept {
    if (streams_.empty()) return;
    cudaEvent_t done = nullptr;
    if (cudaEventCreateWithFlags(&done, cudaEventDisableTiming) == cudaSuccess) {
      // A wait takes the event as recorded at that moment: one event serves every stream.
      for (const at::cuda::CUDAStream& ws : streams_)
        if (cudaEventRecord(done, ws.stream()) == cudaSuccess) (void)cudaStreamWaitEvent(caller_, done, 0);
      (void)cudaEventDestroy(done);
    }
    streams_.clear();
  }

 private:
  cudaStream_t caller_;
  c10::DeviceIndex device_;
  at::cuda::CUDAEvent fork_;
  std::vector<at::cuda::CUDAStream> streams_;
};

// nvJPEG's decoupled decoder on the thread pool, for the images nvJPEG takes and the engine
// does not. `h` is nvjpeg::decoupled_handle; the workers' streams are forked by `forked`,
// which the caller joins. Returns the images it failed on.
std::vector<std::size_t> decode_decoupled(const nvjpeg::Api& nv, const nvjpeg::Handle& h, BatchState& s,
                                          const std::vector<at::Tensor>& data, const std::vector<Plan>& plans,
                                          const std::vector<at::Tensor>& images, int device, ForkedStreams& forked) {
  std::vector<std::size_t> todo;
  for (std::size_t i = 0; i < plans.size(); ++i)
    if (plans[i].group >= 0 && !plans[i].engine) todo.push_back(i);
  if (todo.empty()) return {};
  if (!s.decoders[kGpuHybrid] || !s.decoders[kHybrid]) {  // both or neither
    std::array<nvjpegJpegDecoder_t, 2> made{};
    TVX_NVJPEG_CHECK(kOp, nv.nvjpegDecoderCreate(h.handle, NVJPEG_BACKEND_GPU_HYBRID, &made[kGpuHybrid]));
    TVX_NVJPEG_CHECK(kOp, nv.nvjpegDecoderCreate(h.handle, NVJPEG_BACKEND_HYBRID, &made[kHybrid]));
    s.decoders = made;
  }
  const std::size_t count = std::min<std::size_t>(todo.size(), std::size_t(std::max(1, at::get_num_threads())));
  for (std::size_t w = 0; w < count; ++w) worker(nv, h, s, w);
  std::vector<cudaStream_t> streams;
  for (std::size_t w = 0; w < count; ++w) streams.push_back(forked.add());
  std::vector<char> failed(plans.size(), 0);
  std::atomic<std::size_t> next{0};
  at::parallel_for(0, std::int64_t(count), 1, [&](std::int64_t begin, std::int64_t end) {
    c10::cuda::CUDAGuard guard(static_cast<c10::DeviceIndex>(device));
    for (std::int64_t w = begin; w < end; ++w) {
      Worker& x = *s.workers[w];
      const cudaStream_t ws = streams[w];
      int k = 0;  // the pinned buffer and parsed stream of this image: alternating
      for (std::size_t j; (j = next.fetch_add(1)) < todo.size(); k ^= 1) {
        const std::size_t i = todo[j];
        if (cudaEventSynchronize(x.pinned_free[k]) != cudaSuccess) {
          failed[i] = 1;
          continue;
        }
        const Plan& plan = plans[i];
        nvjpegImage_t out = destination(plan, images[i]);
        nvjpegDecodeParams_t params = x.params[plan.channels == 1 ? 0 : 1];
        bool ok = nv.nvjpegJpegStreamParse(h.handle, data[i].const_data_ptr<std::uint8_t>(), std::size_t(data[i].numel()),
                                           0, 0, x.stream[k]) == NVJPEG_STATUS_SUCCESS;
        // The GPU-assisted decoder for large images, the host one for small (nvJPEG's guidance;
        // on an H100: 2x faster at 1080p, 1.2x slower at 500x375), and wherever it cannot.
        int d = std::int64_t(plan.height) * plan.width >= 1 << 20 ? kGpuHybrid : kHybrid;
        int unsupported = 1;
        if (ok && d == kGpuHybrid &&
            (nv.nvjpegDecoderJpegSupported(s.decoders[d], x.stream[k], params, &unsupported) != NVJPEG_STATUS_SUCCESS ||
             unsupported))
          d = kHybrid;
        ok = ok && nv.nvjpegStateAttachPinnedBuffer(x.state[d], x.pinned[k]) == NVJPEG_STATUS_SUCCESS &&
             nv.nvjpegDecodeJpegHost(h.handle, s.decoders[d], x.state[d], params, x.stream[k]) == NVJPEG_STATUS_SUCCESS &&
             cudaEventSynchronize(x.state_done[d]) == cudaSuccess &&
             nv.nvjpegDecodeJpegTransferToDevice(h.handle, s.decoders[d], x.state[d], x.stream[k], ws) ==
                 NVJPEG_STATUS_SUCCESS &&
             nv.nvjpegDecodeJpegDevice(h.handle, s.decoders[d], x.state[d], &out, ws) == NVJPEG_STATUS_SUCCESS;
        ok = cudaEventRecord(x.state_done[d], ws) == cudaSuccess && ok;
        ok = cudaEventRecord(x.pinned_free[k], ws) == cudaSuccess && ok;
        if (!ok) failed[i] = 1;
      }
    }
  });
  std::vector<std::size_t> out;
  for (std::size_t i = 0; i < failed.size(); ++i)
    if (failed[i]) out.push_back(i);
  return out;
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
  BatchState& s = batch_state(index);
  std::vector<Plan> plans(n);
  std::vector<std::size_t> failed;  // images nvJPEG failed on: the CPU decodes them afterwards
  {
    std::lock_guard<std::mutex> lock(s.mutex);
    // The header pass, on the thread pool: nvJPEG's parse reads the whole file (it counts the
    // scans), about 55 us for a 1080p photo.
    const std::size_t threads = std::size_t(std::max(1, at::get_num_threads()));
    while (s.headers.size() < threads) {
      nvjpegJpegStream_t header = nullptr;
      TVX_NVJPEG_CHECK(kOp, nv.nvjpegJpegStreamCreate(h.handle, &header));
      s.headers.push_back(header);
    }
    at::parallel_for(0, std::int64_t(n), 4, [&](std::int64_t begin, std::int64_t end) {
      nvjpegJpegStream_t header = s.headers[std::size_t(at::get_thread_num()) % s.headers.size()];
      for (std::int64_t i = begin; i < end; ++i)
        plans[i] = inspect(nv, h, header, data[i], mode, apply_exif_orientation, min_size);
    });
    std::int64_t plane_bytes = 0;
    for (std::size_t i = 0; i < n; ++i) {
      if (plans[i].group < 0) {
        rest.push_back(i);
        continue;
      }
      images[i] = at::empty({plans[i].channels, plans[i].height, plans[i].width}, options);
      const nvjpeg::YccImage& im = plans[i].ycc;
      if (plans[i].channels == 3)  // Y, Cb and Cr
        plane_bytes += std::int64_t(im.width) * im.height + 2 * std::int64_t(im.chroma_width) * im.chroma_height;
    }
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
    const at::Tensor planes = at::empty({plane_bytes}, options);
    std::uint8_t* next = planes.mutable_data_ptr<std::uint8_t>();
    for (std::size_t i = 0; i < n; ++i) {
      if (plans[i].group < 0 || plans[i].channels != 3) continue;
      nvjpeg::YccImage& im = plans[i].ycc;
      im.y = next, next += std::int64_t(im.width) * im.height;
      im.cb = next, next += std::int64_t(im.chroma_width) * im.chroma_height;
      im.cr = next, next += std::int64_t(im.chroma_width) * im.chroma_height;
      im.rgb = images[i].mutable_data_ptr<std::uint8_t>();
    }

    if (n > rest.size()) {
      // The state's buffers may still be in use by another stream's work (StreamOrder).
      nvjpeg::StreamOrder::Use use(s.order, stream);
      bool to_engine = false, to_decoupled = false;
      for (const Plan& plan : plans) {
        to_engine |= plan.group >= 0 && plan.engine;
        to_decoupled |= plan.group >= 0 && !plan.engine;
      }
      // The decoupled decoder's streams start after the caller's work so far, not after the
      // engine's; declared before the thread below, so that it is joined first.
      std::optional<ForkedStreams> forked;
      if (to_decoupled) forked.emplace(stream, index);
      auto decoupled = [&] {
        return decode_decoupled(nv, nvjpeg::decoupled_handle(index), s, data, plans, images, index, *forked);
      };
      // Both: the decoupled decoder on a thread of its own while this one drives the engine.
      std::vector<std::size_t> failed_beside;
      std::exception_ptr beside_error;
      std::thread beside;
      Join join_beside{beside};
      if (to_engine && to_decoupled) {
        beside = std::thread([&, state = at::ThreadLocalState()] {
          at::ThreadLocalStateGuard guard(state);
          c10::cuda::CUDAGuard device_guard(static_cast<c10::DeviceIndex>(index));
          try {
            failed_beside = decoupled();
          } catch (...) {
            beside_error = std::current_exception();
          }
        });
      } else if (to_decoupled) {
        failed = decoupled();
      }
      if (to_engine) failed = decode_on_engine(nv, h, s, data, plans, images, stream);
      if (beside.joinable()) beside.join();
      if (forked) forked->join();
      if (beside_error) std::rethrow_exception(beside_error);
      failed.insert(failed.end(), failed_beside.begin(), failed_beside.end());
      for (std::size_t i : failed) plans[i].group = -1;
      std::vector<nvjpeg::YccImage> colour;
      for (const Plan& plan : plans)
        if (plan.group >= 0 && plan.channels == 3) colour.push_back(plan.ycc);
      if (!colour.empty()) nvjpeg::ycc_to_rgb(colour.data(), int(colour.size()), stream);
    }
  }
  if (cpu.joinable()) cpu.join();
  if (cpu_error) std::rethrow_exception(cpu_error);
  decode_on_cpu(failed);
  // The CPU's images, uploaded on the same stream.
  for (std::size_t i = 0; i < n; ++i)
    if (plans[i].group < 0) images[i] = images[i].to(options).contiguous();
  for (std::size_t i = 0; i < n; ++i)
    if (plans[i].group >= 0) images[i] = apply_orientation(images[i], plans[i].orientation);
  return images;
}

std::string nvjpeg_backend(at::Device device) {
  TORCH_CHECK(device.is_cuda(), "tvx._nvjpeg_backend: needs a CUDA device, got ", device);
  return nvjpeg::handle(device.has_index() ? device.index() : c10::cuda::current_device()).describe();
}

}  // namespace detail
}  // namespace tvx::io
