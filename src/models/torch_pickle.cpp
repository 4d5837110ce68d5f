// A small pickle machine for torch.save files. Cost: one pass over data.pkl; each storage
// record is read once from the archive and shared by the tensors that view it.
#include "models/torch_pickle.h"

#include <ATen/ops/empty.h>
#include <c10/core/Storage.h>
#include <caffe2/serialize/inline_container.h>

#include <cstring>
#include <map>
#include <memory>
#include <variant>

namespace tvx::models::detail {
namespace {

struct Value;
using Items = std::vector<Value>;
struct Global {
  std::string module, name;
};
struct Tuple {
  std::shared_ptr<Items> items;
};
struct List {
  std::shared_ptr<Items> items;
};
struct Dict {
  std::shared_ptr<std::vector<std::pair<Value, Value>>> items;
};
struct None {};

struct Value {
  std::variant<None, bool, std::int64_t, double, std::string, Tuple, List, Dict, Global, at::Tensor> v;
};

class Machine {
 public:
  Machine(caffe2::serialize::PyTorchStreamReader& archive, std::string pickle, std::string path)
      : archive_(archive), data_(std::move(pickle)), path_(std::move(path)) {}

  Value run() {
    for (;;) {
      const auto op = static_cast<unsigned char>(byte());
      switch (op) {
        case 0x80: byte(); break;           // PROTO
        case 0x95: bytes(8); break;         // FRAME
        case '(': marks_.push_back(stack_.size()); break;
        case '.': check(stack_.size() == 1, "bad stack at STOP"); return pop();
        case '0': pop(); break;
        case '1': popmark(); break;
        case '2': push(top()); break;
        case 'N': push(None{}); break;
        case 0x88: push(true); break;
        case 0x89: push(false); break;
        case 'K': push(std::int64_t(static_cast<unsigned char>(byte()))); break;
        case 'M': push(std::int64_t(le<std::uint16_t>())); break;
        case 'J': push(std::int64_t(le<std::int32_t>())); break;
        case 0x8a: push(long1()); break;
        case 'G': push(be_double()); break;
        case 'X': push(bytes(le<std::uint32_t>())); break;
        case 0x8c: push(bytes(static_cast<unsigned char>(byte()))); break;
        case 0x8d: push(bytes(le<std::uint64_t>())); break;
        case 'c': {
          std::string module = line(), name = line();
          push(Global{std::move(module), std::move(name)});
          break;
        }
        case 0x93: {  // STACK_GLOBAL
          std::string name = as<std::string>(pop()), module = as<std::string>(pop());
          push(Global{std::move(module), std::move(name)});
          break;
        }
        case 'q': memo_[static_cast<unsigned char>(byte())] = top(); break;
        case 'r': memo_[le<std::uint32_t>()] = top(); break;
        case 0x94: memo_[memo_.size()] = top(); break;
        case 'h': push(memo(static_cast<unsigned char>(byte()))); break;
        case 'j': push(memo(le<std::uint32_t>())); break;
        case ')': push(Tuple{std::make_shared<Items>()}); break;
        case 't': push(Tuple{std::make_shared<Items>(popmark())}); break;
        case 0x85: case 0x86: case 0x87: {
          Items items(op - 0x84);
          for (auto it = items.rbegin(); it != items.rend(); ++it) *it = pop();
          push(Tuple{std::make_shared<Items>(std::move(items))});
          break;
        }
        case ']': push(List{std::make_shared<Items>()}); break;
        case 'l': push(List{std::make_shared<Items>(popmark())}); break;
        case 'a': { Value x = pop(); as<List>(top()).items->push_back(std::move(x)); break; }
        case 'e': {
          Items xs = popmark();
          auto& items = *as<List>(top()).items;
          items.insert(items.end(), xs.begin(), xs.end());
          break;
        }
        case '}': push(Dict{std::make_shared<std::vector<std::pair<Value, Value>>>()}); break;
        case 'd': push(Dict{std::make_shared<std::vector<std::pair<Value, Value>>>()}); set_items(popmark_into_top()); break;
        case 's': { Value v = pop(), k = pop(); as<Dict>(top()).items->emplace_back(std::move(k), std::move(v)); break; }
        case 'u': set_items(popmark()); break;
        case 'R': { Value args = pop(), fn = pop(); push(call(as<Global>(fn), *as<Tuple>(args).items)); break; }
        case 0x81: { Value args = pop(), cls = pop(); push(call(as<Global>(cls), *as<Tuple>(args).items)); break; }
        case 'b': pop(); break;  // BUILD: an OrderedDict's state is its _metadata, which loading ignores
        case 'Q': push(persistent(pop())); break;
        default: fail("unsupported pickle opcode " + std::to_string(op));
      }
    }
  }

 private:
  [[noreturn]] void fail(const std::string& why) const {
    TORCH_CHECK(false, "tvx.models.load_state_dict: '", path_, "' is not a file torch.save wrote as expected: ", why);
  }
  void check(bool ok, const char* why) const {
    if (!ok) fail(why);
  }
  char byte() {
    check(pos_ < data_.size(), "pickle ends early");
    return data_[pos_++];
  }
  std::string bytes(std::size_t n) {
    check(n <= data_.size() - pos_, "pickle ends early");
    std::string s = data_.substr(pos_, n);
    pos_ += n;
    return s;
  }
  std::string line() {
    const auto end = data_.find('\n', pos_);
    check(end != std::string::npos, "pickle ends early");
    std::string s = data_.substr(pos_, end - pos_);
    pos_ = end + 1;
    return s;
  }
  template <typename T>
  T le() {
    const std::string b = bytes(sizeof(T));
    T v;
    std::memcpy(&v, b.data(), sizeof v);  // pickle is little-endian, as are tvx's targets
    return v;
  }
  double be_double() {
    std::string b = bytes(8);
    std::reverse(b.begin(), b.end());
    double d;
    std::memcpy(&d, b.data(), 8);
    return d;
  }
  std::int64_t long1() {
    const std::size_t n = static_cast<unsigned char>(byte());
    check(n <= 8, "integer too large");
    const std::string b = bytes(n);
    std::uint64_t u = 0;
    for (std::size_t i = 0; i < n; ++i) u |= std::uint64_t(static_cast<unsigned char>(b[i])) << (8 * i);
    if (n > 0 && n < 8 && (b[n - 1] & 0x80)) u |= ~std::uint64_t{0} << (8 * n);  // sign-extend
    return static_cast<std::int64_t>(u);
  }

  void push(Value v) { stack_.push_back(std::move(v)); }
  template <typename T>
  void push(T v) { stack_.push_back(Value{std::move(v)}); }
  Value& top() {
    check(!stack_.empty(), "pickle stack underflow");
    return stack_.back();
  }
  Value pop() {
    check(!stack_.empty(), "pickle stack underflow");
    Value v = std::move(stack_.back());
    stack_.pop_back();
    return v;
  }
  Items popmark() {
    check(!marks_.empty() && marks_.back() <= stack_.size(), "pickle mark missing");
    const std::size_t m = marks_.back();
    marks_.pop_back();
    Items items(std::make_move_iterator(stack_.begin() + m), std::make_move_iterator(stack_.end()));
    stack_.resize(m);
    return items;
  }
  Items popmark_into_top() {  // DICT: the new dict was pushed above the marked items
    Value d = pop();
    Items items = popmark();
    push(std::move(d));
    return items;
  }
  void set_items(Items kv) {
    check(kv.size() % 2 == 0, "odd number of dict items");
    auto& items = *as<Dict>(top()).items;
    for (std::size_t i = 0; i < kv.size(); i += 2) items.emplace_back(std::move(kv[i]), std::move(kv[i + 1]));
  }
  Value memo(std::size_t k) {
    const auto it = memo_.find(k);
    check(it != memo_.end(), "pickle memo entry missing");
    return it->second;
  }
  template <typename T>
  T& as(Value& v) {
    T* p = std::get_if<T>(&v.v);
    if (!p) fail("unexpected value type in pickle");
    return *p;
  }
  template <typename T>
  T as(Value&& v) {
    return std::move(as<T>(v));
  }

  // ('storage', torch.<Type>Storage, key, location, numel) -> a 1-D tensor over the record.
  Value persistent(Value pid) {
    auto& t = *as<Tuple>(pid).items;
    check(t.size() >= 5 && as<std::string>(t[0]) == "storage", "unknown persistent id");
    const at::ScalarType dtype = storage_dtype(as<Global>(t[1]).name);
    const std::string key = as<std::string>(t[2]);
    auto it = storages_.find(key);
    if (it == storages_.end()) {
      auto [ptr, nbytes] = archive_.getRecord("data/" + key);
      c10::Storage storage(c10::Storage::use_byte_size_t(), nbytes, std::move(ptr), nullptr, false);
      at::Tensor flat = at::empty({0}, at::TensorOptions(dtype));
      flat.set_(storage, 0, {std::int64_t(nbytes / c10::elementSize(dtype))}, {1});
      it = storages_.emplace(key, flat).first;
    }
    return Value{it->second};
  }

  at::ScalarType storage_dtype(const std::string& name) {
    static const std::map<std::string, at::ScalarType> types{
        {"FloatStorage", at::kFloat}, {"DoubleStorage", at::kDouble}, {"HalfStorage", at::kHalf},
        {"BFloat16Storage", at::kBFloat16}, {"LongStorage", at::kLong}, {"IntStorage", at::kInt},
        {"ShortStorage", at::kShort}, {"CharStorage", at::kChar}, {"ByteStorage", at::kByte},
        {"BoolStorage", at::kBool}};
    const auto it = types.find(name);
    if (it == types.end()) fail("unsupported storage type " + name);
    return it->second;
  }

  Value call(const Global& g, Items& args) {
    if (g.module == "collections" && g.name == "OrderedDict")
      return Value{Dict{std::make_shared<std::vector<std::pair<Value, Value>>>()}};
    if (g.module == "torch._utils" && g.name == "_rebuild_tensor_v2") {
      check(args.size() >= 4, "bad _rebuild_tensor_v2 arguments");
      const at::Tensor flat = as<at::Tensor>(args[0]);
      auto ints = [&](Value& v) {
        std::vector<std::int64_t> r;
        for (auto& x : *as<Tuple>(v).items) r.push_back(as<std::int64_t>(x));
        return r;
      };
      const auto size = ints(args[2]), stride = ints(args[3]);
      at::Tensor t = at::empty({0}, flat.options());
      t.set_(flat.storage(), as<std::int64_t>(args[1]), size, stride);
      return Value{t};
    }
    if (g.module == "torch._utils" && g.name == "_rebuild_parameter") {
      check(!args.empty(), "bad _rebuild_parameter arguments");
      return args[0];
    }
    fail("unsupported object " + g.module + "." + g.name);
  }

  caffe2::serialize::PyTorchStreamReader& archive_;
  std::string data_, path_;
  std::size_t pos_ = 0;
  Items stack_;
  std::vector<std::size_t> marks_;
  std::map<std::size_t, Value> memo_;
  std::map<std::string, at::Tensor> storages_;
};

}  // namespace

std::vector<std::pair<std::string, at::Tensor>> load_tensor_dict(const std::string& path) {
  std::unique_ptr<caffe2::serialize::PyTorchStreamReader> archive;
  std::string pickle;
  try {
    archive = std::make_unique<caffe2::serialize::PyTorchStreamReader>(path);
    auto [ptr, size] = archive->getRecord("data.pkl");
    pickle.assign(static_cast<const char*>(ptr.get()), size);
  } catch (const c10::Error& e) {
    TORCH_CHECK(false, "tvx.models.load_state_dict: '", path, "' is not a file written by torch.save: ",
                e.what_without_backtrace());
  }
  Value top = Machine(*archive, std::move(pickle), path).run();
  auto* dict = std::get_if<Dict>(&top.v);
  TORCH_CHECK(dict, "tvx.models.load_state_dict: '", path, "' does not hold a dict (a state dict)");
  std::vector<std::pair<std::string, at::Tensor>> out;
  for (auto& [k, v] : *dict->items) {
    auto* name = std::get_if<std::string>(&k.v);
    auto* tensor = std::get_if<at::Tensor>(&v.v);
    TORCH_CHECK(name && tensor, "tvx.models.load_state_dict: '", path,
                "' is not a state dict: entries must map names to tensors");
    out.emplace_back(*name, *tensor);
  }
  return out;
}

}  // namespace tvx::models::detail
