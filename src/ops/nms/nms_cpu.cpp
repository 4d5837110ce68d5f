// CPU NMS: greedy suppression in score order, as torchvision, but each candidate is tested
// only against kept boxes that share a cell of a uniform grid (boxes with positive overlap
// share a cell), so the cost is about O(N log N + N * kept-neighbours) rather than O(N^2).
// Bytes moved: the N boxes once into a sorted copy (batched_nms on threads copies each
// category's once more), plus the grid (~ a few words per box).
// From 4096 boxes, with threads, candidates are tested in batches in parallel against the
// boxes kept before their batch; the few survivors settle in order (see nms_sorted). From 4
// threads the score sort and the gather into score order run on the threads too. batched_nms
// on threads scans its categories side by side (nms_by_category).
#include "ops/nms/nms.h"

#include <ATen/Dispatch.h>
#include <ATen/Parallel.h>
#include <ATen/ops/empty.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "core/registration.h"

namespace tvx::ops {
namespace {

using detail::box_area;
using detail::iou_above;

// Below this many boxes, or on one thread, the whole call runs on the calling thread: the
// threads' fork and join would cost more than they save. Chosen for the candidates' batches;
// the threaded sort and batched_nms's side-by-side categories take it over, measured at 10k
// boxes only. (Also the size from which one category of batched_nms takes the threads on
// its own.)
constexpr std::int64_t kParallelBoxes = 4096;

// (Inside another parallel region ATen would run our parallel loops on one thread.)
bool on_threads(std::int64_t n) {
  return n >= kParallelBoxes && at::get_num_threads() > 1 && !at::in_parallel_region();
}

// The score sort (and the gather that follows it) runs on threads from this many on. The H200
// machine's 16 cores, 10k clustered boxes, both sorts in one process, nms a call with the
// parallel sort against the one-thread sort: 2 threads 0.81 against 0.76 ms, 4 threads 0.50
// against 0.58 ms, 8 threads 0.36 against 0.51 ms, 16 threads 0.34 against 0.48 ms.
constexpr int kParallelSortThreads = 4;

// n elements left uninitialised: each is written before it is read, so a std::vector's
// zeroing would be a pass over memory on the calling thread for nothing.
template <typename T>
std::unique_ptr<T[]> uninitialised(std::int64_t n) {
  return std::make_unique_for_overwrite<T[]>(std::size_t(n));
}

// Score order as torch.sort(scores, stable=True, descending=True) gives it, by radix sorts
// of detail::order_key. ATen's sort took half of a 10k-box nms on two cores, and more with 16
// threads.
using detail::order_key;

// How the score sort handles a score type: the element it sorts for position i (which holds
// i, so no two are equal), the Digit-bit digits of a least-significant-digit radix sort over
// bits [kFirst, kEnd) (ties keep index order), the same order as a comparison, and i back.
template <typename S>
struct ScoreOrder;

template <>
struct ScoreOrder<float> {  // (key << 32 | index) words, three 11-bit passes over the key half
  using Element = std::uint64_t;
  static constexpr int kDigit = 11, kFirst = 32, kEnd = 64;
  static Element make(const float* scores, std::int64_t i) {
    return (std::uint64_t(order_key<float, std::uint32_t>(scores[i])) << 32) | std::uint64_t(i);
  }
  static std::size_t digit(Element e, int shift) { return (e >> shift) & 0x7ff; }
  static bool less(Element x, Element y) { return x < y; }
  static std::int64_t index(Element e) { return std::int64_t(e & 0xffffffffu); }
};

template <>
struct ScoreOrder<double> {  // (64-bit key, index) pairs, eight 8-bit passes
  struct Element {
    std::uint64_t key;
    std::int64_t index;
  };
  static constexpr int kDigit = 8, kFirst = 0, kEnd = 64;
  static Element make(const double* scores, std::int64_t i) { return {order_key<double, std::uint64_t>(scores[i]), i}; }
  static std::size_t digit(const Element& e, int shift) { return (e.key >> shift) & 0xff; }
  static bool less(const Element& x, const Element& y) { return x.key < y.key || (x.key == y.key && x.index < y.index); }
  static std::int64_t index(const Element& e) { return e.index; }
};

// A stable least-significant-digit radix sort of a[0, n) by Order's digits; `scratch` holds
// n elements. One read of `a` counts every pass's digits (32-bit counts: nms_cpu_impl takes
// fewer than 2^31 boxes); a pass whose digit every element shares is skipped.
template <typename Order, typename E = typename Order::Element>
void radix_sort(E* a, E* scratch, std::size_t n) {
  using Count = std::uint32_t;
  constexpr int kDigit = Order::kDigit, kPasses = (Order::kEnd - Order::kFirst + kDigit - 1) / kDigit;
  constexpr std::size_t kBins = std::size_t(1) << kDigit;
  if (n == 0) return;
  std::vector<Count> count(kBins * kPasses, 0);
  for (std::size_t i = 0; i < n; ++i)
    for (int p = 0; p < kPasses; ++p) ++count[p * kBins + Order::digit(a[i], Order::kFirst + p * kDigit)];
  E *from = a, *to = scratch;
  for (int p = 0; p < kPasses; ++p) {
    const int shift = Order::kFirst + p * kDigit;
    Count* const c = count.data() + p * kBins;
    if (std::size_t(c[Order::digit(from[0], shift)]) == n) continue;
    Count sum = 0;
    for (std::size_t d = 0; d < kBins; ++d) {
      const Count here = c[d];
      c[d] = sum;
      sum += here;
    }
    for (std::size_t i = 0; i < n; ++i) to[c[Order::digit(from[i], shift)]++] = from[i];
    std::swap(from, to);
  }
  if (from != a) std::copy(from, from + n, a);
}

// The positions 0 .. n - 1 in score order. From kParallelSortThreads threads, a sample sort:
// splitters from a sample; each of `parts` chunks of positions makes its elements and counts
// them by bucket (a bucket's elements all order before the next bucket's, by Order::less);
// a stable scatter puts them in their buckets, still in index order; each bucket is
// radix-sorted on its own. So the order is the one-thread radix sort's on any thread count.
//
// visit(begin, end, order) is called on ranges that cover [0, n) once order[begin, end) is
// known, on the thread that sorted them (concurrently for disjoint ranges): the caller's
// work in score order joins the sort's last pass.
template <typename S, typename Visit>
std::unique_ptr<std::int64_t[]> score_order(const S* scores, std::int64_t n, Visit visit) {
  using Order = ScoreOrder<S>;
  using E = typename Order::Element;
  const std::size_t size = std::size_t(n);
  const auto a = uninitialised<E>(n), b = uninitialised<E>(n);
  auto order = uninitialised<std::int64_t>(n);
  // Sorts elements[begin, end) (scratch: the same range of the other array), then sets and
  // visits order[begin, end).
  auto sort_range = [&](E* elements, E* scratch, std::size_t begin, std::size_t end) {
    if (begin == end) return;
    radix_sort<Order>(elements + begin, scratch + begin, end - begin);
    for (std::size_t i = begin; i < end; ++i) order[i] = Order::index(elements[i]);
    visit(std::int64_t(begin), std::int64_t(end), order.get());
  };
  const int threads = at::get_num_threads();
  if (!on_threads(n) || threads < kParallelSortThreads) {
    for (std::size_t i = 0; i < size; ++i) a[i] = Order::make(scores, std::int64_t(i));
    sort_range(a.get(), b.get(), 0, size);
    return order;
  }
  const std::size_t parts = std::size_t(threads);  // chunks, and buckets
  constexpr std::size_t kOversample = 16;  // samples a splitter: buckets within about +-25% of n / parts
  std::vector<E> splitters(kOversample * parts);
  for (std::size_t k = 0; k < splitters.size(); ++k)
    splitters[k] = Order::make(scores, std::int64_t(k * size / splitters.size()));
  std::sort(splitters.begin(), splitters.end(), Order::less);
  for (std::size_t k = 1; k < parts; ++k) splitters[k - 1] = splitters[k * kOversample];
  splitters.resize(parts - 1);
  auto chunk = [&](std::size_t c) { return c * size / parts; };
  const auto bucket = uninitialised<std::uint32_t>(n);
  // [chunk][bucket]: how many, then where the next goes. Each chunk counts and moves on a
  // copy of its row: neighbouring rows share cache lines at their ends.
  std::vector<std::size_t> offset(parts * parts);
  auto each_part = [&](auto&& body) {
    at::parallel_for(0, std::int64_t(parts), 1, [&](std::int64_t p0, std::int64_t p1) {
      for (std::size_t p = std::size_t(p0); p < std::size_t(p1); ++p) body(p);
    });
  };
  each_part([&](std::size_t c) {
    std::vector<std::size_t> count(parts, 0);
    for (std::size_t i = chunk(c); i < chunk(c + 1); ++i) {
      a[i] = Order::make(scores, std::int64_t(i));
      bucket[i] = std::uint32_t(std::upper_bound(splitters.begin(), splitters.end(), a[i], Order::less) -
                                splitters.begin());
      ++count[bucket[i]];
    }
    std::copy(count.begin(), count.end(), offset.begin() + c * parts);
  });
  std::vector<std::size_t> start(parts + 1);
  std::size_t sum = 0;
  for (std::size_t k = 0; k < parts; ++k) {
    start[k] = sum;
    for (std::size_t c = 0; c < parts; ++c) {
      const std::size_t here = offset[c * parts + k];
      offset[c * parts + k] = sum;
      sum += here;
    }
  }
  start[parts] = size;
  each_part([&](std::size_t c) {
    std::vector<std::size_t> next(offset.begin() + c * parts, offset.begin() + (c + 1) * parts);
    for (std::size_t i = chunk(c); i < chunk(c + 1); ++i) b[next[bucket[i]]++] = a[i];
  });
  each_part([&](std::size_t k) { sort_range(b.get(), a.get(), start[k], start[k + 1]); });
  return order;
}

template <typename T>
bool has_area(const T* b) {
  return b[2] > b[0] && b[3] > b[1];
}

// The bounding rectangle of boxes with area, and how many there are.
struct Extent {
  double lo_x = INFINITY, lo_y = INFINITY, hi_x = -INFINITY, hi_y = -INFINITY;
  std::size_t boxes_with_area = 0;

  template <typename T>
  void add(const T* b) {
    if (!has_area(b)) return;
    ++boxes_with_area;
    lo_x = std::min(lo_x, double(b[0]));
    lo_y = std::min(lo_y, double(b[1]));
    hi_x = std::max(hi_x, double(b[2]));
    hi_y = std::max(hi_y, double(b[3]));
  }
  void merge(const Extent& e) {
    lo_x = std::min(lo_x, e.lo_x);
    lo_y = std::min(lo_y, e.lo_y);
    hi_x = std::max(hi_x, e.hi_x);
    hi_y = std::max(hi_y, e.hi_y);
    boxes_with_area += e.boxes_with_area;
  }
};

// The boxes in score order and what the scan needs to know of them: made as the score sort
// visits its sorted ranges (nms_cpu_impl), or one category's of those (nms_by_category).
template <typename T>
struct SortedBoxes {
  explicit SortedBoxes(std::int64_t n) : boxes(uninitialised<T>(4 * n)), area(uninitialised<T>(n)) {}

  // Puts `box` at position i, its area beside it; adds it to `all_finite` and `e`.
  void put(std::int64_t i, const T* box, bool& all_finite, Extent& e) {
    T* b = &boxes[4 * i];
    std::memcpy(b, box, 4 * sizeof(T));
    area[i] = box_area(b);
    for (int k = 0; k < 4; ++k) all_finite &= std::isfinite(b[k]);
    e.add(b);
  }

  std::unique_ptr<T[]> boxes, area;     // [n, 4], [n]
  std::unique_ptr<std::int64_t[]> cls;  // [n] categories 0 .. categories - 1 (batched_nms), or null
  bool finite = true;                   // every coordinate
  Extent extent;
};

// torchvision's quadratic scan over m boxes in score order: exact for any threshold and
// coordinates. keep(i) for each kept i, in order; `removed` holds m flags, all clear.
template <typename Suppresses, typename Keep>
void quadratic_scan(std::int64_t m, char* removed, Suppresses suppresses, Keep keep) {
  for (std::int64_t i = 0; i < m; ++i) {
    if (removed[i]) continue;
    keep(i);
    for (std::int64_t j = i + 1; j < m; ++j)
      if (!removed[j] && suppresses(i, j)) removed[j] = 1;
  }
}

// Boxes that cover more cells than this are kept out of the grid: they are tested, and
// test candidates, one by one.
constexpr std::int64_t kMaxCellsPerBox = 64;

// A kept box as the grid stores it: its corners and area next to the link, so that a
// query walks one array.
template <typename T>
struct KeptBox {
  T x1, y1, x2, y2, area;
  std::int32_t pos;  // position in score order
};

// Whether kept box k suppresses candidate b (area a), for thresholds >= 0 or NaN only:
// then a pair that does not overlap never suppresses, so it is rejected before the
// division. Otherwise the same arithmetic as detail::iou_above.
template <typename T>
inline bool overlaps_above(const KeptBox<T>& k, const T* b, T a, double thr) {
  const T w = std::min(k.x2, b[2]) - std::max(k.x1, b[0]);
  if (!(w > 0)) return false;
  const T h = std::min(k.y2, b[3]) - std::max(k.y1, b[1]);
  if (!(h > 0)) return false;
  const T inter = detail::mul_rn(w, h);
  return inter / (k.area + a - inter) > thr;
}

// Uniform grid over the kept boxes: per cell the kept boxes that touch it. With categories
// (batched_nms), each category has a grid of its own, so a query meets only its own
// category's boxes.
template <typename T>
class KeptGrid {
 public:
  struct Span {
    std::int64_t x0, y0, x1, y1;
    std::int64_t base;  // the category's first cell
    std::int64_t cells() const { return (x1 - x0 + 1) * (y1 - y0 + 1); }
  };

  // Cells are about the median box size (which minimises the boxes a query visits for
  // boxes of one size; a sample's median is as good), and no more than ~2 per box over all
  // categories' grids (0 .. categories - 1).
  KeptGrid(const T* boxes, std::int64_t n, std::int64_t categories, const Extent& extent) {
    const auto [lo_x, lo_y, hi_x, hi_y, boxes_with_area] = extent;
    // The sizes at every (n / 512)-th position (512 to 1023 positions, all of fewer boxes),
    // of the boxes there with area; the first box with area where none of those has one.
    std::vector<double> w, h;
    auto sample = [&](std::int64_t i) {
      w.push_back(double(boxes[4 * i + 2]) - double(boxes[4 * i]));
      h.push_back(double(boxes[4 * i + 3]) - double(boxes[4 * i + 1]));
    };
    const std::int64_t stride = std::max<std::int64_t>(1, n / 512);
    for (std::int64_t i = 0; i < n; i += stride)
      if (has_area(boxes + 4 * i)) sample(i);
    for (std::int64_t i = 0; i < n && w.empty() && boxes_with_area > 0; ++i)
      if (has_area(boxes + 4 * i)) sample(i);
    if (w.empty()) return;
    // float64 corners near +-DBL_MAX are finite, yet their span is not: no grid then.
    usable_ = std::isfinite(hi_x - lo_x) && std::isfinite(hi_y - lo_y);
    if (!usable_) return;
    auto median = [](std::vector<double>& v) {
      std::nth_element(v.begin(), v.begin() + v.size() / 2, v.end());
      return v[v.size() / 2];
    };
    double cw = std::max(median(w), (hi_x - lo_x) * 1e-6), ch = std::max(median(h), (hi_y - lo_y) * 1e-6);
    const double max_cells = std::max(2.0 * double(boxes_with_area) + 16.0, double(categories));
    for (;;) {
      const double gx = std::floor((hi_x - lo_x) / cw) + 1, gy = std::floor((hi_y - lo_y) / ch) + 1;
      if (gx * gy * double(categories) <= max_cells) {
        gx_ = std::int64_t(gx);
        gy_ = std::int64_t(gy);
        break;
      }
      const double grow = std::max(1.05, std::sqrt(gx * gy * double(categories) / max_cells));
      cw *= grow;
      ch *= grow;
    }
    ox_ = lo_x;
    oy_ = lo_y;
    sx_ = 1.0 / cw;
    sy_ = 1.0 / ch;
    head_.assign(std::size_t(gx_ * gy_ * categories), -1);
    tail_.assign(std::size_t(gx_ * gy_ * categories), -1);
    chunks_.reserve(std::size_t(n));
  }

  // Monotone in the coordinates, so two boxes with an interior point in common share a cell.
  Span span(const T* b, std::int64_t category) const {
    auto cell = [](double v, double o, double s, std::int64_t g) {
      return std::clamp<std::int64_t>(std::int64_t((v - o) * s), 0, g - 1);
    };
    return {cell(b[0], ox_, sx_, gx_), cell(b[1], oy_, sy_, gy_), cell(b[2], ox_, sx_, gx_),
            cell(b[3], oy_, sy_, gy_), category * gx_ * gy_};
  }

  /// False when the boxes' extent is too wide for a grid of doubles.
  bool usable() const { return usable_; }

  template <typename Pred>
  bool any(const Span& s, Pred&& pred) const {
    for (std::int64_t y = s.y0; y <= s.y1; ++y)
      for (std::int64_t x = s.x0; x <= s.x1; ++x)
        for (std::int64_t c = head_[s.base + y * gx_ + x]; c >= 0; c = chunks_[c].next)
          for (int i = 0; i < chunks_[c].count; ++i)
            if (pred(chunks_[c].boxes[i])) return true;
    return false;
  }

  // Appends: a cell's boxes stay in score order, so a query meets an object's best boxes,
  // the likeliest to suppress it, first.
  void insert(const Span& s, const KeptBox<T>& box) {
    for (std::int64_t y = s.y0; y <= s.y1; ++y)
      for (std::int64_t x = s.x0; x <= s.x1; ++x) {
        const std::int64_t cell = s.base + y * gx_ + x;
        std::int64_t& tail = tail_[cell];
        if (tail < 0 || chunks_[tail].count == kChunkBoxes) {
          chunks_.push_back(Chunk{-1, 0, {}});
          const std::int64_t added = std::int64_t(chunks_.size()) - 1;
          (tail < 0 ? head_[cell] : chunks_[tail].next) = added;
          tail = added;
        }
        Chunk& c = chunks_[tail];
        c.boxes[c.count++] = box;
      }
  }

 private:
  bool usable_ = true;
  double ox_ = 0, oy_ = 0, sx_ = 1, sy_ = 1;
  std::int64_t gx_ = 1, gy_ = 1;
  // A cell's kept boxes live in a list of chunks from one pool: few allocations, and a
  // query reads boxes that sit together.
  static constexpr int kChunkBoxes = 4;
  struct Chunk {
    std::int64_t next;
    int count;
    KeptBox<T> boxes[kChunkBoxes];
  };
  std::vector<std::int64_t> head_, tail_;  // a cell's first and last chunk
  std::vector<Chunk> chunks_;
};

// The kept positions (into the score order), increasing. threads: test candidates in
// parallel batches (below).
template <typename T>
std::vector<std::int64_t> nms_sorted(const SortedBoxes<T>& sorted, std::int64_t categories, std::int64_t n, double thr,
                                     bool threads) {
  const T* boxes = sorted.boxes.get();
  const T* area = sorted.area.get();
  const std::int64_t* cls = sorted.cls.get();
  auto same_class = [cls](std::int64_t a, std::int64_t b) { return !cls || cls[a] == cls[b]; };
  auto suppresses = [&](std::int64_t kept, std::int64_t cand) {
    return same_class(kept, cand) && iou_above(boxes + 4 * kept, area[kept], boxes + 4 * cand, area[cand], thr);
  };
  std::vector<std::int64_t> keep;

  // A pair with no overlap has IoU 0 (or NaN), which exceeds no threshold >= 0 (nor NaN):
  // only then is suppression local and the grid exact. Otherwise (a negative threshold,
  // infinite or NaN coordinates, or an extent too wide for a grid) take torchvision's
  // quadratic scan.
  auto quadratic = [&] {
    std::vector<char> removed(n, 0);
    quadratic_scan(n, removed.data(), suppresses, [&](std::int64_t i) { keep.push_back(i); });
    return keep;
  };
  if (!sorted.finite || thr < 0) return quadratic();
  KeptGrid<T> grid(boxes, n, cls ? categories : 1, sorted.extent);
  auto category = [cls](std::int64_t i) { return cls ? cls[i] : 0; };
  if (!grid.usable()) return quadratic();
  std::vector<KeptBox<T>> kept_all, kept_big;  // kept_big: kept boxes too large for the grid
  auto suppressor = [&](std::int64_t i) {
    return [&, i](const KeptBox<T>& k) __attribute__((always_inline)) {
      return same_class(k.pos, i) && overlaps_above(k, boxes + 4 * i, area[i], thr);
    };
  };
  // Whether a kept box in the grid or the lists (as they are) suppresses candidate i.
  auto suppressed_by_kept = [&](std::int64_t i, const typename KeptGrid<T>::Span& span, bool big) {
    const auto pred = suppressor(i);
    return big ? std::any_of(kept_all.begin(), kept_all.end(), pred)
               : grid.any(span, pred) || std::any_of(kept_big.begin(), kept_big.end(), pred);
  };
  auto keep_box = [&](std::int64_t i, const typename KeptGrid<T>::Span& span, bool big) {
    keep.push_back(i);
    const T* b = boxes + 4 * i;
    const KeptBox<T> k{b[0], b[1], b[2], b[3], area[i], std::int32_t(i)};
    kept_all.push_back(k);
    if (big)
      kept_big.push_back(k);
    else
      grid.insert(span, k);
  };
  // Batches of candidates in score order: all of a batch test the boxes kept before it in
  // parallel (the grid is only read), then the few that survive settle in order against the
  // boxes kept within the batch, and join the grid. Each candidate meets exactly the kept
  // boxes before it: the sequential scan's decisions. Batches grow from 64 (the first boxes
  // are mostly kept, each object's best) to 4096 (later ones mostly fall to the grid).
  // Where most candidates survive their batch (few overlaps: uniform boxes), the parallel
  // tests save nothing; from a batch of 512 on where more than half survived, the rest is one
  // sequential scan.
  std::vector<char> gone;
  for (std::int64_t first = 0, batch = threads ? 64 : n; first < n;) {
    const std::int64_t end = std::min(n, first + batch);
    std::int64_t survivors = 0;
    if (threads) {
      gone.assign(std::size_t(end - first), 0);
      at::parallel_for(first, end, 64, [&](std::int64_t begin, std::int64_t stop) {
        for (std::int64_t i = begin; i < stop; ++i) {
          if (!has_area(boxes + 4 * i)) continue;
          const auto span = grid.span(boxes + 4 * i, category(i));
          gone[i - first] = suppressed_by_kept(i, span, span.cells() > kMaxCellsPerBox);
        }
      });
    }
    const std::size_t kept_before = kept_all.size();
    for (std::int64_t i = first; i < end; ++i) {
      if (!has_area(boxes + 4 * i)) {  // empty boxes overlap nothing
        keep.push_back(i);
        continue;
      }
      if (threads && gone[i - first]) continue;
      ++survivors;
      const auto span = grid.span(boxes + 4 * i, category(i));
      const bool big = span.cells() > kMaxCellsPerBox;
      // A survivor meets the boxes kept in its batch: in a list while few, through the grid
      // (which holds them too, beside the earlier ones) where most boxes are kept.
      const bool few = kept_all.size() - kept_before <= 32;
      const bool removed = threads && few ? std::any_of(kept_all.begin() + kept_before, kept_all.end(), suppressor(i))
                                          : suppressed_by_kept(i, span, big);
      if (!removed) keep_box(i, span, big);
    }
    if (threads && end - first >= 512 && 2 * survivors > end - first) threads = false;
    batch = threads ? std::min<std::int64_t>(batch * 2, 4096) : n;
    first = end;
  }
  return keep;
}

// Whether batched_nms scans its categories side by side (nms_by_category): on threads, where
// they are enough to keep half the threads busy. Otherwise one scan over all, whose batches
// use every thread. H200 machine, 10k clustered boxes, a call: 80 classes on 16 threads 0.43
// ms side by side against 1.31 ms in one scan; 3 classes 0.59 against 0.51 ms on 16 threads,
// 0.71 against 0.82 ms on 4. (Between 3 and 80 categories the crossover is not measured:
// "half the threads" splits those two cases.)
bool by_category(std::int64_t categories, std::int64_t n) {
  return categories > 1 && on_threads(n) && 2 * categories >= at::get_num_threads();
}

// batched_nms on threads: categories never suppress one another, so each category's boxes
// are scanned on their own, on one thread, many categories at once (largest first); one of
// kParallelBoxes boxes or more is scanned afterwards with the threads' batches, and one of
// kFewBoxes or fewer by the quadratic scan in place (at most 32 * 31 / 2 IoUs: less than the
// copy, grid and lists a category costs otherwise; not measured against other sizes). The
// kept positions of all, marked in one array, come out in score order.
template <typename T>
std::vector<std::int64_t> nms_by_category(const SortedBoxes<T>& sorted, std::int64_t categories, std::int64_t n,
                                          double thr) {
  constexpr std::int64_t kFewBoxes = 32;
  const std::int64_t* cls = sorted.cls.get();
  std::vector<std::int64_t> start(std::size_t(categories) + 1, 0);  // a category's first member
  for (std::int64_t i = 0; i < n; ++i) ++start[cls[i] + 1];
  for (std::int64_t c = 0; c < categories; ++c) start[c + 1] += start[c];
  const auto members = uninitialised<std::int64_t>(n);  // positions by category, in score order
  {
    std::vector<std::int64_t> next(start.begin(), start.end() - 1);
    for (std::int64_t i = 0; i < n; ++i) members[next[cls[i]]++] = i;
  }
  std::vector<char> kept(std::size_t(n), 0);
  auto scan = [&](std::int64_t c, bool threads) {
    const std::int64_t m = start[c + 1] - start[c];
    const std::int64_t* position = members.get() + start[c];
    if (m <= kFewBoxes) {
      char removed[kFewBoxes] = {};
      auto box = [&](std::int64_t j) { return &sorted.boxes[4 * position[j]]; };
      quadratic_scan(
          m, removed,
          [&](std::int64_t a, std::int64_t b) {
            return iou_above(box(a), sorted.area[position[a]], box(b), sorted.area[position[b]], thr);
          },
          [&](std::int64_t j) { kept[position[j]] = 1; });
      return;
    }
    SortedBoxes<T> boxes(m);
    for (std::int64_t j = 0; j < m; ++j) boxes.put(j, &sorted.boxes[4 * position[j]], boxes.finite, boxes.extent);
    for (const std::int64_t j : nms_sorted(boxes, 1, m, thr, threads)) kept[position[j]] = 1;
  };
  std::vector<std::int64_t> small, large;
  for (std::int64_t c = 0; c < categories; ++c) (start[c + 1] - start[c] < kParallelBoxes ? small : large).push_back(c);
  std::sort(small.begin(), small.end(),
            [&](std::int64_t a, std::int64_t b) { return start[a + 1] - start[a] > start[b + 1] - start[b]; });
  // Categories of more than kFewBoxes boxes are handed out one at a time, largest first; the
  // few-box ones `grain` at a time: one shared counter taken once a category by 16 threads
  // cost more than the scans themselves (H200 machine, 10000 one-box classes: 3.15 ms side by
  // side against 1.38 ms in one scan, before the grain).
  const std::size_t singly = std::size_t(std::partition_point(small.begin(), small.end(), [&](std::int64_t c) {
                                           return start[c + 1] - start[c] > kFewBoxes;
                                         }) - small.begin());
  if (!small.empty()) {
    const std::int64_t tasks = std::min<std::int64_t>(at::get_num_threads(), std::int64_t(small.size()));
    const std::size_t grain = std::max<std::size_t>(1, (small.size() - singly) / std::size_t(8 * tasks));
    std::atomic<std::size_t> next_single{0}, next_group{singly};
    at::parallel_for(0, tasks, 1, [&](std::int64_t, std::int64_t) {
      for (std::size_t k; (k = next_single.fetch_add(1, std::memory_order_relaxed)) < singly;) scan(small[k], false);
      for (std::size_t k; (k = next_group.fetch_add(grain, std::memory_order_relaxed)) < small.size();)
        for (const std::size_t e = std::min(k + grain, small.size()); k < e; ++k) scan(small[k], false);
    });
  }
  for (const std::int64_t c : large) scan(c, true);
  std::vector<std::int64_t> keep;
  for (std::int64_t i = 0; i < n; ++i)
    if (kept[i]) keep.push_back(i);
  return keep;
}

// The categories renumbered 0 .. categories - 1 in order of first sight (the same values share
// a number; categories counts the distinct ones), for the grid's per-category cells: through
// an array over their range where it is small (detectors' class ids), else a hash table.
std::vector<std::int64_t> dense_categories(const std::int64_t* labels, std::int64_t n, std::int64_t& categories) {
  const auto [lo, hi] = std::minmax_element(labels, labels + n);
  std::vector<std::int64_t> dense(static_cast<std::size_t>(n));
  categories = 0;
  // The range as unsigned: hi - lo may not fit in int64.
  if (std::uint64_t(*hi) - std::uint64_t(*lo) < std::uint64_t(4 * n + 16)) {
    std::vector<std::int64_t> number(std::size_t(*hi - *lo) + 1, -1);
    for (std::int64_t i = 0; i < n; ++i) {
      std::int64_t& k = number[std::size_t(labels[i] - *lo)];
      if (k < 0) k = categories++;
      dense[i] = k;
    }
    return dense;
  }
  std::unordered_map<std::int64_t, std::int64_t> number;
  number.reserve(std::size_t(n));
  for (std::int64_t i = 0; i < n; ++i) dense[i] = number.emplace(labels[i], std::int64_t(number.size())).first->second;
  categories = std::int64_t(number.size());
  return dense;
}

at::Tensor nms_cpu_impl(const char* op, const at::Tensor& dets, const at::Tensor& scores,
                        const std::optional<at::Tensor>& idxs, double thr) {
  detail::check_nms_args(op, dets, scores, idxs);
  const std::int64_t n = dets.size(0);
  if (n == 0) return at::empty({0}, dets.options().dtype(at::kLong));
  // Positions are 32-bit here (the sort's index half, KeptBox::pos, the sort's counts).
  TORCH_CHECK(n <= std::numeric_limits<std::int32_t>::max(), op, ": the CPU kernel takes fewer than 2^31 boxes, got ", n);

  // The boxes and categories are gathered into score order here rather than by ATen's
  // index_select and copies, so that the whole call is one thread's below kParallelBoxes.
  const at::ScalarType compute = detail::nms_compute_dtype(dets.scalar_type());
  const at::Tensor s = scores.to(compute).contiguous();
  const at::Tensor d = dets.to(compute).contiguous();
  const at::Tensor labels = idxs ? detail::category_labels(*idxs, dets.device()).contiguous() : at::Tensor();
  std::unique_ptr<std::int64_t[]> order;
  std::vector<std::int64_t> keep;
  AT_DISPATCH_FLOATING_TYPES(compute, "tvx_nms_cpu", [&] {
    std::int64_t categories = 1;
    std::vector<std::int64_t> dense;
    if (labels.defined()) dense = dense_categories(labels.const_data_ptr<std::int64_t>(), n, categories);
    const scalar_t* src = d.const_data_ptr<scalar_t>();
    SortedBoxes<scalar_t> sorted(n);
    if (!dense.empty()) sorted.cls = uninitialised<std::int64_t>(n);
    std::mutex merge;
    order = score_order(s.const_data_ptr<scalar_t>(), n, [&](std::int64_t begin, std::int64_t end, const std::int64_t* idx) {
      bool finite = true;
      Extent extent;
      for (std::int64_t i = begin; i < end; ++i) {
        sorted.put(i, src + 4 * idx[i], finite, extent);
        if (!dense.empty()) sorted.cls[i] = dense[idx[i]];
      }
      const std::lock_guard<std::mutex> lock(merge);
      sorted.finite &= finite;
      sorted.extent.merge(extent);
    });
    keep = by_category(categories, n) ? nms_by_category(sorted, categories, n, thr)
                                      : nms_sorted(sorted, categories, n, thr, on_threads(n));
  });

  at::Tensor out = at::empty({std::int64_t(keep.size())}, dets.options().dtype(at::kLong));
  std::int64_t* o = out.mutable_data_ptr<std::int64_t>();
  for (std::size_t k = 0; k < keep.size(); ++k) o[k] = order[keep[k]];
  return out;
}

at::Tensor nms_cpu(const at::Tensor& dets, const at::Tensor& scores, double thr) {
  return nms_cpu_impl("tvx.nms", dets, scores, std::nullopt, thr);
}

at::Tensor batched_nms_cpu(const at::Tensor& boxes, const at::Tensor& scores, const at::Tensor& idxs, double thr) {
  return nms_cpu_impl("tvx.batched_nms", boxes, scores, idxs, thr);
}

}  // namespace

TVX_LIBRARY_IMPL(CPU, m) {
  m.impl("nms", &nms_cpu);
  m.impl("batched_nms", &batched_nms_cpu);
}

}  // namespace tvx::ops
