// Native part of the UCX transport (pgas/transports/ucx). Thin on purpose: memory allocation and
// registration, the UCX calls, the progress thread. Validation, protocol and errors live in TypeScript
// (pgas/transports/ucx/*.ts); the few range checks here exist only because this is the last code that
// touches raw memory.
//
// Shared-memory contracts with TypeScript (keep in sync with pgas/transports/ucx/layout.ts):
//   ctl     Int32 words, each on its own cache line: TAIL (JS writes), HEAD (native writes),
//           STATE (native: 0 running, 1 sleeping), WAKE (1 while a JS wake-up is pending)
//   ring    `entries` descriptors of 8 Int32 each (see Entry below), single producer (the JS thread),
//           consumed under the worker lock by the progress thread or, inline, by kick()
//   atomics slots of 32 bytes: int64 a, int64 b, int64 result, int32 status, int32 done
//   queues  SharedState's per-queue words: completed, errorStatus, errorPeer, errorCount
#include <napi.h>
#include <uv.h>
#include <v8.h>
#include <ucp/api/ucp.h>

#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <time.h>

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {

// ---- constants shared with TypeScript ---------------------------------------------------------

enum OpCode : uint32_t { OP_PUT = 1, OP_GET = 2, OP_NOTIFY = 3, OP_PUT_NOTIFY = 4, OP_FETCH_ADD = 5, OP_COMPARE_SWAP = 6 };
enum Wire : int32_t { WIRE_OK = 0, WIRE_OUT_OF_RANGE = 1, WIRE_UNKNOWN_SEGMENT = 2, WIRE_PEER_DEAD = 3, WIRE_PROTOCOL = 4, WIRE_CLOSED = 5, WIRE_INVALID = 6 };
constexpr int CTL_TAIL = 0, CTL_HEAD = 16, CTL_STATE = 32, CTL_WAKE = 48, CTL_WORDS = 64;
constexpr int ENTRY_WORDS = 8;
constexpr int Q_COMPLETED = 0, Q_ERROR_STATUS = 1, Q_ERROR_PEER = 2, Q_ERROR_COUNT = 3, QUEUE_WORDS = 4;
constexpr unsigned AM_CONTROL = 1, AM_WAKE = 2;
// Not an active message: an event telling JavaScript that UCX failed an operation on a peer's path.
constexpr unsigned EV_PEER_FAILED = 3;
constexpr uint32_t NO_SLOT = 0xffff;
constexpr unsigned INLINE_COMPLETED = 1, INLINE_EVENTS = 2;

struct AtomicSlot {
  int64_t a, b, result;
  int32_t status, done;
};

struct AmHeader {
  uint32_t from;
  uint32_t arg;  // control: message kind chosen by TypeScript; wake: segment slot
};

// ---- V8 bridging (the one place this addon leaves N-API: SharedArrayBuffer over foreign memory) -----

napi_value ToNapi(v8::Local<v8::Value> value) {
  napi_value out;
  static_assert(sizeof(out) == sizeof(value), "napi_value and v8::Local share a representation");
  std::memcpy(&out, &value, sizeof(value));
  return out;
}

v8::Local<v8::Value> ToV8(napi_value value) {
  v8::Local<v8::Value> out;
  std::memcpy(static_cast<void*>(&out), &value, sizeof(value));  // as Node's V8LocalValueFromJsValue
  return out;
}

/** The backing store of a JavaScript SharedArrayBuffer, kept alive for as long as we hold it. */
std::shared_ptr<v8::BackingStore> SharedStore(const Napi::Value& value, const char* what) {
  v8::Local<v8::Value> v = ToV8(value);
  if (!v->IsSharedArrayBuffer()) {
    throw Napi::TypeError::New(value.Env(), std::string(what) + " must be a SharedArrayBuffer");
  }
  return v.As<v8::SharedArrayBuffer>()->GetBackingStore();
}

int64_t NowNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

std::string StatusText(ucs_status_t s) { return ucs_status_string(s); }

/** UCX failures that mean the peer (or the path to it) is gone. */
int32_t WireFromUcs(ucs_status_t s) {
  switch (s) {
    case UCS_OK: return WIRE_OK;
    case UCS_ERR_CONNECTION_RESET:
    case UCS_ERR_ENDPOINT_TIMEOUT:
    case UCS_ERR_UNREACHABLE:
    case UCS_ERR_CANCELED:
    case UCS_ERR_REJECTED:
    case UCS_ERR_IO_ERROR:
      return WIRE_PEER_DEAD;
    default:
      return WIRE_INVALID;
  }
}

// ---- UCX context and memory regions ------------------------------------------------------------

/**
 * The UCX context outlives the engine while any segment memory is still referenced from JavaScript.
 * Memory is unmapped by whoever drops it last, possibly a V8 background thread: while the engine's
 * worker lives, the unmap is handed to the progress thread (which owns UCX), afterwards done directly.
 */
struct Context {
  ucp_context_h h = nullptr;
  std::mutex gyMu;
  ucp_worker_h worker = nullptr;  // set while an engine's worker lives
  std::vector<ucp_mem_h> graveyard;
  std::atomic<bool> hasGraves{false};
  void Unmap(ucp_mem_h memh) {
    std::lock_guard<std::mutex> g(gyMu);
    if (worker) {
      graveyard.push_back(memh);
      hasGraves.store(true);
      ucp_worker_signal(worker);  // thread-safe by UCX's contract
    } else {
      ucp_mem_unmap(h, memh);
    }
  }
  /** Called with the worker lock held (or with no worker left). */
  void Bury() {
    std::vector<ucp_mem_h> graves;
    {
      std::lock_guard<std::mutex> g(gyMu);
      graves.swap(graveyard);
      hasGraves.store(false);
    }
    for (ucp_mem_h m : graves) ucp_mem_unmap(h, m);
  }
  ~Context() {
    Bury();
    if (h) ucp_cleanup(h);
  }
};

// Bytes released by backing-store deleters (they may run on a V8 background thread, where no N-API call
// is allowed); the next call from JavaScript reports them to V8 as freed external memory.
std::atomic<int64_t> g_freedBytes{0};

/**
 * One segment's memory: data, then (at notifOffset) the notification words, in one ucp_mem_map
 * allocation so that one rkey covers both and peers can write either. Unmapped when the last owner
 * lets go: the engine's table, each SharedArrayBuffer's deleter, in-flight operations.
 */
struct Region {
  std::shared_ptr<Context> ctx;
  ucp_mem_h memh = nullptr;
  uint8_t* base = nullptr;
  size_t bytes = 0;        // data bytes
  size_t notifOffset = 0;  // byte offset of the notification words
  size_t notifWords = 0;   // ids + the change counter
  size_t mapped = 0;
  std::atomic<int64_t>* freed = nullptr;  // where to report the bytes given back (GC accounting)
  ~Region() {
    if (memh) ctx->Unmap(memh);
    if (freed) freed->fetch_add(int64_t(mapped));
  }
};

struct Remote {
  ucp_rkey_h rkey = nullptr;
  uint64_t address = 0;
  size_t bytes = 0;
  size_t notifOffset = 0;
  size_t notifWords = 0;
};

struct Engine;

/** Operations issued to one peer since its last flush, and what to do when that flush completes. */
struct FlushRecord {
  Engine* engine = nullptr;
  int peer = -1;
  bool abandoned = false;  // the peer died: counts were already reported, the callback only frees
  std::vector<std::pair<uint32_t, uint32_t>> counts;  // (queue, ops)
  std::vector<uint32_t> wakeSlots;                    // notification segments to wake at the peer
  std::deque<uint32_t> values;                        // notification values (stable addresses until done)
  std::vector<std::shared_ptr<Region>> holds;         // local memory the operations read or write
  void add(uint32_t queue) {
    for (auto& c : counts) {
      if (c.first == queue) { c.second++; return; }
    }
    counts.emplace_back(queue, 1);
  }
  void hold(const std::shared_ptr<Region>& r) {
    if (holds.empty() || holds.back() != r) holds.push_back(r);
  }
};

struct PendingAtomic {
  Engine* engine;
  int peer;
  uint32_t slot;
  bool abandoned;
};

struct Peer {
  ucp_ep_h ep = nullptr;
  bool dead = false;
  bool reported = false;                   // EV_PEER_FAILED was sent for it
  std::vector<Remote> remotes;             // by slot
  FlushRecord* current = nullptr;          // being filled by the running batch
  std::vector<FlushRecord*> inflight;      // flushes issued, not yet complete
  std::vector<PendingAtomic*> atomics;     // atomic operations issued, not yet complete
  uint32_t unordered = 0;                  // ops issued since the last fence
  ucp_rkey_h attentionKey = nullptr;       // the peer's attention word (see Engine::attention)
  volatile int32_t* attention = nullptr;   // ... mapped here when UCX can give a pointer (shared memory)
};

struct Event {
  uint32_t from;
  uint32_t id;   // AM_CONTROL (arg: the message kind TypeScript chose) or AM_WAKE (arg: segment slot)
  uint32_t arg;
  std::vector<uint8_t> data;
};

/** Owned buffer of an outgoing active message, freed when UCX is done with it. */
struct Outgoing {
  AmHeader header;
  std::vector<uint8_t> data;
};

/** An incoming rendezvous active message being received into our buffer. */
struct Incoming {
  Engine* engine;
  Event event;
};

thread_local bool t_inline = false;  // true while kick() runs the engine on the JavaScript thread

std::mutex g_enginesMu;
std::vector<Engine*> g_engines;  // live engines, stopped at process exit before UCX unloads

// ---- the engine ---------------------------------------------------------------------------------

struct Engine : public Napi::ObjectWrap<Engine> {
  static Napi::Function Define(Napi::Env env);
  explicit Engine(const Napi::CallbackInfo& info);
  ~Engine() override;

  // JavaScript methods
  Napi::Value Address(const Napi::CallbackInfo& info);
  Napi::Value Connect(const Napi::CallbackInfo& info);
  Napi::Value MapSegment(const Napi::CallbackInfo& info);
  Napi::Value UnmapSegment(const Napi::CallbackInfo& info);
  Napi::Value AddRemote(const Napi::CallbackInfo& info);
  Napi::Value RemoveRemote(const Napi::CallbackInfo& info);
  Napi::Value Kick(const Napi::CallbackInfo& info);
  Napi::Value Send(const Napi::CallbackInfo& info);
  Napi::Value Take(const Napi::CallbackInfo& info);
  Napi::Value PeerDead(const Napi::CallbackInfo& info);
  Napi::Value Info(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);
  Napi::Value Attention(const Napi::CallbackInfo& info);
  Napi::Value AddAttention(const Napi::CallbackInfo& info);

  // engine internals (worker lock held unless stated)
  void Loop();
  unsigned Drain(size_t inlineLimit);
  void Process(const int32_t* e);
  void Complete(uint32_t queue, int32_t status, int peer, uint32_t count);
  FlushRecord* Record(int peer);
  void Order(Peer& p);
  void FlushAll();
  void FinishRecord(FlushRecord* r, int32_t status);
  void Recycle(FlushRecord* r);
  void FinishAtomic(uint32_t slot, int32_t status);
  void SendWake(int peer, uint32_t slot);
  void SendPendingWakes();
  bool SendAm(int peer, unsigned id, uint32_t arg, const uint8_t* data, size_t len);
  void FailPeer(int peer, int32_t status);
  int32_t Failed(int peer, ucs_status_t status);
  void PushEvent(Event&& ev);
  void WakeJs();
  void Stop();
  void Teardown();
  void ReportFreed(Napi::Env env);

  static void OnFlush(void* request, ucs_status_t status, void* user);
  static void OnAtomic(void* request, ucs_status_t status, void* user);
  static void OnSent(void* request, ucs_status_t status, void* user);
  static void OnRndvData(void* request, ucs_status_t status, size_t length, void* user);
  static ucs_status_t OnAm(unsigned id, void* arg, const void* header, size_t headerLength, void* data, size_t length,
                           const ucp_am_recv_param_t* param);
  template <unsigned ID>
  static ucs_status_t OnAmId(void* arg, const void* header, size_t headerLength, void* data, size_t length,
                             const ucp_am_recv_param_t* param) {
    return OnAm(ID, arg, header, headerLength, data, length, param);
  }

  int rank = 0, size = 0, slots = 0, queueCount = 0;
  std::shared_ptr<Context> ctx;
  ucp_worker_h worker = nullptr;
  int efd = -1;
  std::recursive_mutex mu;  // the worker lock: UCX is used by one thread at a time
  std::thread thread;
  std::atomic<bool> stopping{false};
  bool closed = false;
  bool inlineEnabled = true;
  size_t inlineMax = 16384;
  int64_t spinNs = 0;

  std::shared_ptr<v8::BackingStore> ctlStore, ringStore, atomicStore, queueStore;
  int32_t* ctl = nullptr;
  int32_t* ring = nullptr;
  uint32_t ringMask = 0;
  AtomicSlot* atomicSlots = nullptr;
  uint32_t atomicCount = 0;
  int32_t* queues = nullptr;

  std::vector<std::shared_ptr<Region>> local;  // by slot
  std::vector<Peer> peers;
  std::vector<int> touched;  // peers with a current record in this batch
  // What running inline produced, returned by kick(): INLINE_COMPLETED (queue counters or atomic slots
  // moved: JavaScript notifies their waiters), INLINE_EVENTS (events wait in `events`: JavaScript takes them).
  unsigned inlineFlags = 0;
  std::vector<FlushRecord*> spareRecords;  // finished records kept for reuse: no allocation per batch
  // Wake messages owed to peers: a record may finish inside a UCX callback (OnFlush, during
  // ucp_worker_progress), where sending is not allowed (UCX's arbiter asserts), so they are sent after.
  std::vector<std::pair<int, uint32_t>> pendingWakes;
  std::vector<std::pair<int, uint32_t>> sendingWakes;
  // Records and atomics of a dead peer whose UCX request is still out: UCX may call back later, or (a
  // TCP peer that died, with no error-handling mode) never. Freed by the callback if it comes, else
  // after the worker is destroyed, when no callback can come any more.
  std::vector<FlushRecord*> orphanRecords;
  std::vector<PendingAtomic*> orphanAtomics;

  // Attention: one word in UCX-mapped memory that says whether this rank's JavaScript event loop sits
  // blocked in poll (1) or is running (0). Peers on shared memory read it directly (ucp_rkey_ptr) and
  // send the wake-up message of a notification only when it is 1; when it is 0 the prepare hook below
  // finds the changed counters before the loop next blocks. Without it every notification would wake
  // this rank's progress thread, which costs more than the notification itself.
  std::shared_ptr<Region> attentionRegion;  // also held by the SharedArrayBuffer JavaScript writes it through
  int32_t* attention = nullptr;
  uv_prepare_t* prepare = nullptr;  // heap: uv_close finishes after this object may be gone
  uv_check_t* check = nullptr;
  void StopLoopHooks();
  std::vector<int32_t> seenCounters;  // by slot, as of the last prepare hook
  bool PeerListening(int peer);
  void BeforePoll();

  std::mutex evMu;
  std::vector<Event> events;
  Napi::ThreadSafeFunction wake;
  bool wakeReleased = false;
  std::string lastError;
};

Napi::Function Engine::Define(Napi::Env env) {
  return DefineClass(env, "Engine", {
    InstanceMethod<&Engine::Address>("address"),
    InstanceMethod<&Engine::Connect>("connect"),
    InstanceMethod<&Engine::MapSegment>("mapSegment"),
    InstanceMethod<&Engine::UnmapSegment>("unmapSegment"),
    InstanceMethod<&Engine::AddRemote>("addRemote"),
    InstanceMethod<&Engine::RemoveRemote>("removeRemote"),
    InstanceMethod<&Engine::Kick>("kick"),
    InstanceMethod<&Engine::Send>("send"),
    InstanceMethod<&Engine::Take>("take"),
    InstanceMethod<&Engine::PeerDead>("peerDead"),
    InstanceMethod<&Engine::Info>("info"),
    InstanceMethod<&Engine::Close>("close"),
    InstanceMethod<&Engine::Attention>("attention"),
    InstanceMethod<&Engine::AddAttention>("addAttention"),
  });
}

void ThrowUcs(Napi::Env env, const char* what, ucs_status_t s) {
  throw Napi::Error::New(env, std::string(what) + ": " + StatusText(s));
}

uint32_t U32(const Napi::Object& o, const char* key) { return o.Get(key).As<Napi::Number>().Uint32Value(); }

Engine::Engine(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Engine>(info) {
  Napi::Env env = info.Env();
  Napi::Object o = info[0].As<Napi::Object>();
  rank = int(U32(o, "rank"));
  size = int(U32(o, "size"));
  slots = int(U32(o, "slots"));
  queueCount = int(U32(o, "queueCount"));
  spinNs = int64_t(U32(o, "spinMicros")) * 1000;
  inlineEnabled = o.Get("inline").ToBoolean();
  inlineMax = U32(o, "inlineMaxBytes");

  ctlStore = SharedStore(o.Get("ctl"), "ctl");
  ringStore = SharedStore(o.Get("ring"), "ring");
  atomicStore = SharedStore(o.Get("atomics"), "atomics");
  queueStore = SharedStore(o.Get("queues"), "queues");
  uint32_t entries = U32(o, "ringEntries");
  if (entries == 0 || (entries & (entries - 1)) != 0 || ringStore->ByteLength() < size_t(entries) * ENTRY_WORDS * 4 ||
      ctlStore->ByteLength() < CTL_WORDS * 4) {
    throw Napi::RangeError::New(env, "ring layout does not match the buffers");
  }
  atomicCount = U32(o, "atomicSlots");
  if (atomicStore->ByteLength() < atomicCount * sizeof(AtomicSlot)) throw Napi::RangeError::New(env, "atomics buffer too small");
  uint32_t queuesOffset = U32(o, "queuesOffset");
  if (queueStore->ByteLength() < queuesOffset + size_t(queueCount) * QUEUE_WORDS * 4) {
    throw Napi::RangeError::New(env, "queue words outside the shared state buffer");
  }
  ctl = static_cast<int32_t*>(ctlStore->Data());
  ring = static_cast<int32_t*>(ringStore->Data());
  ringMask = entries - 1;
  atomicSlots = static_cast<AtomicSlot*>(atomicStore->Data());
  queues = reinterpret_cast<int32_t*>(static_cast<uint8_t*>(queueStore->Data()) + queuesOffset);

  // Context: RMA, both atomic widths (64-bit user atomics, 32-bit notification counters), active
  // messages for control traffic and wake-ups, and wakeup so that the progress thread can sleep.
  ucp_config_t* config = nullptr;
  ucs_status_t s = ucp_config_read(nullptr, nullptr, &config);
  if (s != UCS_OK) ThrowUcs(env, "ucp_config_read", s);
  // Segment memory must come out zeroed, as a SharedArrayBuffer does: drop "heap" (malloc) from the
  // allocation methods unless the user chose them; every other method maps fresh pages.
  if (!getenv("UCX_ALLOC_PRIO")) ucp_config_modify(config, "ALLOC_PRIO", "md:sysv,md:posix,huge,thp,md:*,mmap");
  ucp_params_t params{};
  params.field_mask = UCP_PARAM_FIELD_FEATURES | UCP_PARAM_FIELD_MT_WORKERS_SHARED | UCP_PARAM_FIELD_ESTIMATED_NUM_EPS;
  params.features = UCP_FEATURE_RMA | UCP_FEATURE_AMO32 | UCP_FEATURE_AMO64 | UCP_FEATURE_AM | UCP_FEATURE_WAKEUP;
  params.mt_workers_shared = 1;  // segment memory is unmapped from whichever thread drops it last
  params.estimated_num_eps = size;
  ctx = std::make_shared<Context>();
  s = ucp_init(&params, config, &ctx->h);
  ucp_config_release(config);
  if (s != UCS_OK) ThrowUcs(env, "ucp_init", s);

  ucp_worker_params_t wp{};
  wp.field_mask = UCP_WORKER_PARAM_FIELD_THREAD_MODE;
  wp.thread_mode = UCS_THREAD_MODE_SERIALIZED;  // our lock serialises every use
  s = ucp_worker_create(ctx->h, &wp, &worker);
  if (s != UCS_OK) ThrowUcs(env, "ucp_worker_create", s);
  auto failAfterWorker = [&](const char* what) {
    ucp_worker_destroy(worker);
    worker = nullptr;
    ThrowUcs(env, what, s);
  };
  s = ucp_worker_get_efd(worker, &efd);
  if (s != UCS_OK) failAfterWorker("ucp_worker_get_efd");

  for (unsigned id : {AM_CONTROL, AM_WAKE}) {
    ucp_am_handler_param_t hp{};
    hp.field_mask = UCP_AM_HANDLER_PARAM_FIELD_ID | UCP_AM_HANDLER_PARAM_FIELD_CB | UCP_AM_HANDLER_PARAM_FIELD_ARG |
                    UCP_AM_HANDLER_PARAM_FIELD_FLAGS;
    hp.id = id;
    hp.cb = id == AM_CONTROL ? &Engine::OnAmId<AM_CONTROL> : &Engine::OnAmId<AM_WAKE>;
    hp.arg = this;
    hp.flags = UCP_AM_FLAG_WHOLE_MSG;
    s = ucp_worker_set_am_recv_handler(worker, &hp);
    if (s != UCS_OK) failAfterWorker("ucp_worker_set_am_recv_handler");
  }

  {
    std::lock_guard<std::mutex> g(ctx->gyMu);
    ctx->worker = worker;
  }
  local.resize(slots);
  peers.resize(size);
  for (auto& p : peers) p.remotes.resize(slots);

  {
    auto region = std::make_shared<Region>();
    region->ctx = ctx;
    ucp_mem_map_params_t mp{};
    mp.field_mask = UCP_MEM_MAP_PARAM_FIELD_LENGTH | UCP_MEM_MAP_PARAM_FIELD_FLAGS;
    mp.length = 4096;
    mp.flags = UCP_MEM_MAP_ALLOCATE;
    s = ucp_mem_map(ctx->h, &mp, &region->memh);
    if (s != UCS_OK) {
      region->memh = nullptr;
      failAfterWorker("ucp_mem_map (attention word)");
    }
    ucp_mem_attr_t attr{};
    attr.field_mask = UCP_MEM_ATTR_FIELD_ADDRESS;
    ucp_mem_query(region->memh, &attr);
    region->base = static_cast<uint8_t*>(attr.address);
    region->bytes = 4096;
    attentionRegion = region;
    attention = reinterpret_cast<int32_t*>(region->base);
    __atomic_store_n(attention, 1, __ATOMIC_SEQ_CST);  // until the loop says otherwise: wake us
  }
  seenCounters.assign(slots, 0);
  uv_loop_t* loop = nullptr;
  if (napi_get_uv_event_loop(env, &loop) == napi_ok && loop) {
    prepare = new uv_prepare_t;
    check = new uv_check_t;
    uv_prepare_init(loop, prepare);
    uv_check_init(loop, check);
    prepare->data = this;
    check->data = this;
    uv_prepare_start(prepare, [](uv_prepare_t* h) {
      if (h->data) static_cast<Engine*>(h->data)->BeforePoll();
    });
    uv_check_start(check, [](uv_check_t* h) {
      if (h->data) __atomic_store_n(static_cast<Engine*>(h->data)->attention, 0, __ATOMIC_SEQ_CST);
    });
    uv_unref(reinterpret_cast<uv_handle_t*>(prepare));  // they must not keep the process alive
    uv_unref(reinterpret_cast<uv_handle_t*>(check));
  }
  wake = Napi::ThreadSafeFunction::New(env, o.Get("onWake").As<Napi::Function>(), "pgas-ucx-wake", 0, 1);
  {
    std::lock_guard<std::mutex> g(g_enginesMu);
    g_engines.push_back(this);
  }
  thread = std::thread([this] { Loop(); });
}

Engine::~Engine() {
  StopLoopHooks();
  Stop();
  Teardown();
}

/** On the JavaScript thread (close, or the finalizer). */
void Engine::StopLoopHooks() {
  if (prepare) {
    prepare->data = nullptr;
    uv_prepare_stop(prepare);
    uv_close(reinterpret_cast<uv_handle_t*>(prepare), [](uv_handle_t* h) { delete reinterpret_cast<uv_prepare_t*>(h); });
    prepare = nullptr;
  }
  if (check) {
    check->data = nullptr;
    uv_check_stop(check);
    uv_close(reinterpret_cast<uv_handle_t*>(check), [](uv_handle_t* h) { delete reinterpret_cast<uv_check_t*>(h); });
    check = nullptr;
  }
}

Napi::Value Engine::Address(const Napi::CallbackInfo& info) {
  std::vector<uint8_t> copy;
  ucs_status_t s;
  {
    std::lock_guard<std::recursive_mutex> g(mu);
    ucp_address_t* addr = nullptr;
    size_t len = 0;
    s = ucp_worker_get_address(worker, &addr, &len);
    if (s == UCS_OK) {
      copy.assign(reinterpret_cast<uint8_t*>(addr), reinterpret_cast<uint8_t*>(addr) + len);
      ucp_worker_release_address(worker, addr);
    }
  }
  if (s != UCS_OK) ThrowUcs(info.Env(), "ucp_worker_get_address", s);
  return Napi::Buffer<uint8_t>::Copy(info.Env(), copy.data(), copy.size());
}

Napi::Value Engine::Connect(const Napi::CallbackInfo& info) {
  uint32_t peer = info[0].As<Napi::Number>().Uint32Value();
  auto addr = info[1].As<Napi::Uint8Array>();
  if (closed || peer >= uint32_t(size) || int(peer) == rank) throw Napi::RangeError::New(info.Env(), "connect: bad peer");
  ucs_status_t s = UCS_OK;
  {
    std::lock_guard<std::recursive_mutex> g(mu);
    if (!peers[peer].ep) {
      // No error-handling mode: UCX's peer mode excludes the shared-memory transports, so liveness
      // comes from the runtime's heartbeat and peerDead() (see DESIGN.md, "Native code").
      ucp_ep_params_t ep{};
      ep.field_mask = UCP_EP_PARAM_FIELD_REMOTE_ADDRESS;
      ep.address = reinterpret_cast<const ucp_address_t*>(addr.Data());
      s = ucp_ep_create(worker, &ep, &peers[peer].ep);
      if (s != UCS_OK) peers[peer].ep = nullptr;
    }
  }
  if (s != UCS_OK) ThrowUcs(info.Env(), "ucp_ep_create", s);
  ucp_worker_signal(worker);  // wire-up may need progress
  return info.Env().Undefined();
}

void FreeRegionHolder(void*, size_t, void* holder) { delete static_cast<std::shared_ptr<Region>*>(holder); }

Napi::Value MakeShared(Napi::Env env, const std::shared_ptr<Region>& region, void* data, size_t length) {
  v8::Isolate* isolate = v8::Isolate::GetCurrent();
  auto* holder = new std::shared_ptr<Region>(region);
  std::unique_ptr<v8::BackingStore> store = v8::SharedArrayBuffer::NewBackingStore(data, length, FreeRegionHolder, holder);
  v8::Local<v8::SharedArrayBuffer> sab = v8::SharedArrayBuffer::New(isolate, std::move(store));
  return Napi::Value(env, ToNapi(sab));
}

void Engine::ReportFreed(Napi::Env env) {
  int64_t freed = g_freedBytes.exchange(0);
  if (freed > 0) Napi::MemoryManagement::AdjustExternalMemory(env, -freed);
}

Napi::Value Engine::MapSegment(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ReportFreed(env);
  uint32_t slot = info[0].As<Napi::Number>().Uint32Value();
  double bytes = info[1].As<Napi::Number>().DoubleValue();
  uint32_t notifWords = info[2].As<Napi::Number>().Uint32Value();
  if (closed || slot >= uint32_t(slots) || bytes < 4 || notifWords < 2) throw Napi::RangeError::New(env, "mapSegment: bad arguments");
  auto region = std::make_shared<Region>();
  region->ctx = ctx;
  region->bytes = size_t(bytes);
  region->notifOffset = (region->bytes + 63) & ~size_t(63);
  region->notifWords = notifWords;
  size_t length = region->notifOffset + size_t(notifWords) * 4;
  ucp_mem_map_params_t mp{};
  mp.field_mask = UCP_MEM_MAP_PARAM_FIELD_LENGTH | UCP_MEM_MAP_PARAM_FIELD_FLAGS;
  mp.length = length;
  mp.flags = UCP_MEM_MAP_ALLOCATE;  // peers map this memory directly; registered JS memory would be emulated
  void* packed = nullptr;
  size_t packedLen = 0;
  const char* failed = nullptr;
  ucs_status_t s;
  {
    // UCX calls under the worker lock; no V8 call while it is held (a GC could wait on a thread that
    // waits for this lock).
    std::lock_guard<std::recursive_mutex> g(mu);
    s = ucp_mem_map(ctx->h, &mp, &region->memh);
    if (s != UCS_OK) {
      failed = "ucp_mem_map";
      region->memh = nullptr;
    } else {
      ucp_mem_attr_t attr{};
      attr.field_mask = UCP_MEM_ATTR_FIELD_ADDRESS | UCP_MEM_ATTR_FIELD_LENGTH;
      s = ucp_mem_query(region->memh, &attr);
      if (s != UCS_OK) {
        failed = "ucp_mem_query";
      } else {
        region->base = static_cast<uint8_t*>(attr.address);
        region->mapped = attr.length;
        region->freed = &g_freedBytes;
        s = ucp_rkey_pack(ctx->h, region->memh, &packed, &packedLen);
        if (s != UCS_OK) failed = "ucp_rkey_pack";
      }
    }
  }
  if (failed) ThrowUcs(env, failed, s);
  Napi::Buffer<uint8_t> rkey = Napi::Buffer<uint8_t>::Copy(env, static_cast<uint8_t*>(packed), packedLen);
  {
    std::lock_guard<std::recursive_mutex> g(mu);
    ucp_rkey_buffer_release(packed);
  }

  Napi::Object out = Napi::Object::New(env);
  out.Set("data", MakeShared(env, region, region->base, region->bytes));
  out.Set("notifications", MakeShared(env, region, region->base + region->notifOffset, size_t(notifWords) * 4));
  out.Set("rkey", rkey);
  out.Set("address", Napi::BigInt::New(env, uint64_t(reinterpret_cast<uintptr_t>(region->base))));
  out.Set("notifOffset", Napi::Number::New(env, double(region->notifOffset)));
  // Tell V8 about the mapping so that garbage (and with it the deleters that unmap) is collected under
  // memory pressure; shared backing stores are not counted by V8 itself.
  Napi::MemoryManagement::AdjustExternalMemory(env, int64_t(region->mapped));
  {
    std::lock_guard<std::recursive_mutex> g(mu);
    local[slot] = region;
  }
  return out;
}

Napi::Value Engine::UnmapSegment(const Napi::CallbackInfo& info) {
  uint32_t slot = info[0].As<Napi::Number>().Uint32Value();
  if (slot >= uint32_t(slots)) throw Napi::RangeError::New(info.Env(), "unmapSegment: bad slot");
  std::shared_ptr<Region> drop;
  {
    std::lock_guard<std::recursive_mutex> g(mu);
    drop.swap(local[slot]);
  }
  drop.reset();  // unmapped once JavaScript's views and in-flight operations let go as well
  ReportFreed(info.Env());
  return info.Env().Undefined();
}

Napi::Value Engine::AddRemote(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint32_t peer = info[0].As<Napi::Number>().Uint32Value();
  uint32_t slot = info[1].As<Napi::Number>().Uint32Value();
  double bytes = info[2].As<Napi::Number>().DoubleValue();
  double notifOffset = info[3].As<Napi::Number>().DoubleValue();
  uint32_t notifWords = info[4].As<Napi::Number>().Uint32Value();
  bool lossless = false;
  uint64_t address = info[5].As<Napi::BigInt>().Uint64Value(&lossless);
  auto rkey = info[6].As<Napi::Uint8Array>();
  if (peer >= uint32_t(size) || slot >= uint32_t(slots)) throw Napi::RangeError::New(env, "addRemote: bad peer or slot");
  ucs_status_t s = UCS_ERR_NO_ELEM;
  {
    std::lock_guard<std::recursive_mutex> g(mu);
    Peer& p = peers[peer];
    Remote& r = p.remotes[slot];
    if (r.rkey) ucp_rkey_destroy(r.rkey);
    r = Remote{};
    if (p.ep) s = ucp_ep_rkey_unpack(p.ep, rkey.Data(), &r.rkey);
    if (s == UCS_OK) {
      r.address = address;
      r.bytes = size_t(bytes);
      r.notifOffset = size_t(notifOffset);
      r.notifWords = notifWords;
    } else {
      r.rkey = nullptr;
    }
  }
  if (s != UCS_OK) ThrowUcs(env, "ucp_ep_rkey_unpack", s);
  return env.Undefined();
}

Napi::Value Engine::RemoveRemote(const Napi::CallbackInfo& info) {
  uint32_t peer = info[0].As<Napi::Number>().Uint32Value();
  uint32_t slot = info[1].As<Napi::Number>().Uint32Value();
  if (peer >= uint32_t(size) || slot >= uint32_t(slots)) throw Napi::RangeError::New(info.Env(), "removeRemote: bad peer or slot");
  std::lock_guard<std::recursive_mutex> g(mu);
  Remote& r = peers[peer].remotes[slot];
  // Operations still in the ring that name this segment now fail with UNKNOWN_SEGMENT. Those already
  // issued went out before the acknowledgement that JavaScript sends next, on the same endpoint.
  if (r.rkey) ucp_rkey_destroy(r.rkey);
  r = Remote{};
  return info.Env().Undefined();
}

// ---- posting -----------------------------------------------------------------------------------

void Engine::Complete(uint32_t queue, int32_t status, int peer, uint32_t count) {
  if (queue >= uint32_t(queueCount) || count == 0) return;
  int32_t* q = queues + queue * QUEUE_WORDS;
  if (status != WIRE_OK) {
    // As SharedState.complete: the first error of a queue is kept until `wait` collects it.
    if (__atomic_fetch_add(&q[Q_ERROR_COUNT], int32_t(count), __ATOMIC_SEQ_CST) == 0) {
      __atomic_store_n(&q[Q_ERROR_STATUS], status, __ATOMIC_SEQ_CST);
      __atomic_store_n(&q[Q_ERROR_PEER], peer, __ATOMIC_SEQ_CST);
    }
  }
  __atomic_fetch_add(&q[Q_COMPLETED], int32_t(count), __ATOMIC_SEQ_CST);
  WakeJs();  // Atomics.waitAsync waiters are V8's own: only JavaScript can wake them
}

FlushRecord* Engine::Record(int peer) {
  Peer& p = peers[peer];
  if (!p.current) {
    if (spareRecords.empty()) {
      p.current = new FlushRecord();
    } else {
      p.current = spareRecords.back();
      spareRecords.pop_back();
    }
    p.current->engine = this;
    p.current->peer = peer;
    p.current->abandoned = false;
    touched.push_back(peer);
  }
  return p.current;
}

/** Ops of one queue to one rank are applied in posting order: fence after anything still unordered. */
void Engine::Order(Peer& p) {
  if (p.unordered > 0) {
    ucp_worker_fence(worker);
    for (auto& q : peers) q.unordered = 0;  // the fence is worker-wide
  }
}

bool CheckStatusPtr(ucs_status_ptr_t sp, std::string* lastError) {
  if (sp == nullptr) return true;
  if (UCS_PTR_IS_ERR(sp)) {
    *lastError = StatusText(UCS_PTR_STATUS(sp));
    return false;
  }
  ucp_request_free(sp);  // completion is tracked by the flush that follows, not per request
  return true;
}

void Engine::Process(const int32_t* e) {
  uint32_t op = uint32_t(e[0]) & 0xff;
  uint32_t queue = uint32_t(e[0]) >> 8;
  uint32_t peer = uint32_t(e[1]);
  uint32_t lslot = uint32_t(e[2]) & 0xffff;
  uint32_t rslot = uint32_t(e[2]) >> 16;
  uint64_t loff = uint32_t(e[3]), roff = uint32_t(e[4]), len = uint32_t(e[5]);
  uint32_t nid = uint32_t(e[6]), nval = uint32_t(e[7]);
  bool isAtomic = op == OP_FETCH_ADD || op == OP_COMPARE_SWAP;
  auto fail = [&](int32_t status) {
    if (isAtomic) FinishAtomic(nid, status);
    else Complete(queue, status, int(peer), 1);
  };
  if (isAtomic && nid >= atomicCount) return;  // a corrupt slot number cannot be reported anywhere
  if (peer >= uint32_t(size) || int(peer) == rank || op < OP_PUT || op > OP_COMPARE_SWAP) return fail(WIRE_INVALID);
  Peer& p = peers[peer];
  if (closed || stopping.load()) return fail(WIRE_CLOSED);
  if (p.dead || !p.ep) return fail(WIRE_PEER_DEAD);
  if (rslot >= uint32_t(slots) || !p.remotes[rslot].rkey) return fail(WIRE_UNKNOWN_SEGMENT);
  const Remote& r = p.remotes[rslot];

  if (isAtomic) {
    if (roff % 8 != 0 || roff + 8 > r.bytes) return fail(WIRE_OUT_OF_RANGE);
    AtomicSlot& slot = atomicSlots[nid];
    auto* pending = new PendingAtomic{this, int(peer), nid, false};
    ucp_request_param_t rp{};
    rp.op_attr_mask = UCP_OP_ATTR_FIELD_CALLBACK | UCP_OP_ATTR_FIELD_USER_DATA | UCP_OP_ATTR_FIELD_DATATYPE |
                      UCP_OP_ATTR_FIELD_REPLY_BUFFER;
    rp.cb.send = &Engine::OnAtomic;
    rp.user_data = pending;
    rp.datatype = ucp_dt_make_contig(8);
    Order(p);
    ucs_status_ptr_t sp;
    if (op == OP_FETCH_ADD) {
      rp.reply_buffer = &slot.result;
      sp = ucp_atomic_op_nbx(p.ep, UCP_ATOMIC_OP_ADD, &slot.a, 1, r.address + roff, r.rkey, &rp);
    } else {
      slot.result = slot.b;  // CSWAP: the new value goes in through the reply buffer, the old comes back
      rp.reply_buffer = &slot.result;
      sp = ucp_atomic_op_nbx(p.ep, UCP_ATOMIC_OP_CSWAP, &slot.a, 1, r.address + roff, r.rkey, &rp);
    }
    p.unordered++;
    if (sp == nullptr) {
      delete pending;
      FinishAtomic(nid, WIRE_OK);
    } else if (UCS_PTR_IS_ERR(sp)) {
      delete pending;
      lastError = StatusText(UCS_PTR_STATUS(sp));
      FinishAtomic(nid, Failed(int(peer), UCS_PTR_STATUS(sp)));
    } else {
      p.atomics.push_back(pending);
    }
    return;
  }

  FlushRecord* rec = Record(int(peer));
  if (op != OP_NOTIFY) {
    if (lslot >= uint32_t(slots) || !local[lslot]) return fail(WIRE_UNKNOWN_SEGMENT);
    const std::shared_ptr<Region>& l = local[lslot];
    if (loff + len > l->bytes || roff + len > r.bytes) return fail(WIRE_OUT_OF_RANGE);
    ucp_request_param_t rp{};
    rp.op_attr_mask = UCP_OP_ATTR_FIELD_MEMH;
    rp.memh = l->memh;
    Order(p);
    ucs_status_ptr_t sp = op == OP_GET ? ucp_get_nbx(p.ep, l->base + loff, len, r.address + roff, r.rkey, &rp)
                                       : ucp_put_nbx(p.ep, l->base + loff, len, r.address + roff, r.rkey, &rp);
    p.unordered++;
    if (!CheckStatusPtr(sp, &lastError)) return fail(Failed(int(peer), UCS_PTR_STATUS(sp)));
    rec->hold(l);
  }
  if (op == OP_NOTIFY || op == OP_PUT_NOTIFY) {
    if (nid + 1 >= r.notifWords) return fail(WIRE_OUT_OF_RANGE);
    // GASPI write_notify: the value lands after the data (fence), then the change counter is bumped
    // (fence again, so that a waiter that sees the counter move also sees the value), and once the
    // flush confirms both at the target a wake-up message tells the target's JavaScript.
    rec->values.push_back(nval);
    Order(p);
    ucp_request_param_t rp{};
    ucs_status_ptr_t sp = ucp_put_nbx(p.ep, &rec->values.back(), 4, r.address + r.notifOffset + uint64_t(nid) * 4, r.rkey, &rp);
    p.unordered++;
    if (!CheckStatusPtr(sp, &lastError)) return fail(Failed(int(peer), UCS_PTR_STATUS(sp)));
    Order(p);
    static const uint32_t one = 1;
    ucp_request_param_t ap{};
    ap.op_attr_mask = UCP_OP_ATTR_FIELD_DATATYPE;
    ap.datatype = ucp_dt_make_contig(4);
    sp = ucp_atomic_op_nbx(p.ep, UCP_ATOMIC_OP_ADD, &one, 1, r.address + r.notifOffset + uint64_t(r.notifWords - 1) * 4, r.rkey, &ap);
    p.unordered++;
    if (!CheckStatusPtr(sp, &lastError)) return fail(Failed(int(peer), UCS_PTR_STATUS(sp)));
    bool seen = false;
    for (uint32_t s : rec->wakeSlots) seen = seen || s == rslot;
    if (!seen) rec->wakeSlots.push_back(rslot);
  }
  rec->add(queue);
}

void Engine::FinishAtomic(uint32_t slot, int32_t status) {
  if (slot >= atomicCount) return;
  __atomic_store_n(&atomicSlots[slot].status, status, __ATOMIC_SEQ_CST);
  __atomic_store_n(&atomicSlots[slot].done, 1, __ATOMIC_SEQ_CST);
  WakeJs();
}

void Engine::OnAtomic(void* request, ucs_status_t status, void* user) {
  auto* pending = static_cast<PendingAtomic*>(user);
  Engine* e = pending->engine;
  auto& list = pending->abandoned ? e->orphanAtomics : e->peers[pending->peer].atomics;
  for (size_t i = 0; i < list.size(); i++) {
    if (list[i] == pending) { list.erase(list.begin() + long(i)); break; }
  }
  if (!pending->abandoned) e->FinishAtomic(pending->slot, status == UCS_OK ? WIRE_OK : e->Failed(pending->peer, status));
  delete pending;
  ucp_request_free(request);
}

/** Take descriptors off the ring; with inlineLimit, stop before a transfer larger than it. */
unsigned Engine::Drain(size_t inlineLimit) {
  unsigned n = 0;
  uint32_t head = uint32_t(__atomic_load_n(&ctl[CTL_HEAD], __ATOMIC_RELAXED));
  uint32_t tail = uint32_t(__atomic_load_n(&ctl[CTL_TAIL], __ATOMIC_ACQUIRE));
  while (head != tail) {
    const int32_t* e = ring + size_t(head & ringMask) * ENTRY_WORDS;
    uint32_t op = uint32_t(e[0]) & 0xff;
    if (inlineLimit && (op == OP_PUT || op == OP_GET || op == OP_PUT_NOTIFY) && uint32_t(e[5]) > inlineLimit) break;
    Process(e);
    head++;
    n++;
    __atomic_store_n(&ctl[CTL_HEAD], int32_t(head), __ATOMIC_RELEASE);
    if (head == tail) tail = uint32_t(__atomic_load_n(&ctl[CTL_TAIL], __ATOMIC_ACQUIRE));
  }
  if (n) FlushAll();
  return n;
}

/** One flush per peer that got operations in this batch; its completion completes them. */
void Engine::FlushAll() {
  for (int peer : touched) {
    Peer& p = peers[peer];
    FlushRecord* rec = p.current;
    p.current = nullptr;
    if (!rec) continue;
    if (rec->counts.empty()) {  // everything in it failed before it was issued
      Recycle(rec);
      continue;
    }
    ucp_request_param_t rp{};
    rp.op_attr_mask = UCP_OP_ATTR_FIELD_CALLBACK | UCP_OP_ATTR_FIELD_USER_DATA;
    rp.cb.send = &Engine::OnFlush;
    rp.user_data = rec;
    ucs_status_ptr_t sp = ucp_ep_flush_nbx(p.ep, &rp);
    if (sp == nullptr) {
      FinishRecord(rec, WIRE_OK);
    } else if (UCS_PTR_IS_ERR(sp)) {
      lastError = StatusText(UCS_PTR_STATUS(sp));
      FinishRecord(rec, Failed(peer, UCS_PTR_STATUS(sp)));
    } else {
      p.inflight.push_back(rec);
    }
  }
  touched.clear();
  SendPendingWakes();
}

void Engine::FinishRecord(FlushRecord* rec, int32_t status) {
  if (!rec->abandoned) {
    Peer& p = peers[rec->peer];
    // Everything issued to this peer is complete: the next operation needs no fence before it.
    if (p.inflight.empty() && !p.current) p.unordered = 0;
    for (auto& c : rec->counts) Complete(c.first, status, rec->peer, c.second);
    if (status == WIRE_OK) {
      if (!rec->wakeSlots.empty() && PeerListening(rec->peer)) for (uint32_t slot : rec->wakeSlots) pendingWakes.emplace_back(rec->peer, slot);
    }
  }
  Recycle(rec);
}

/** Keep a finished record (its vectors keep their capacity) for the next batch; worker lock held. */
void Engine::Recycle(FlushRecord* rec) {
  rec->counts.clear();
  rec->wakeSlots.clear();
  rec->values.clear();
  rec->holds.clear();  // lets go of the memory the operations used
  if (spareRecords.size() < 64 && !closed) spareRecords.push_back(rec);
  else delete rec;
}

void Engine::OnFlush(void* request, ucs_status_t status, void* user) {
  auto* rec = static_cast<FlushRecord*>(user);
  Engine* e = rec->engine;
  auto& list = rec->abandoned ? e->orphanRecords : e->peers[rec->peer].inflight;
  for (size_t i = 0; i < list.size(); i++) {
    if (list[i] == rec) { list.erase(list.begin() + long(i)); break; }
  }
  e->FinishRecord(rec, status == UCS_OK || rec->abandoned ? WireFromUcs(status) : e->Failed(rec->peer, status));
  ucp_request_free(request);
}

void Engine::SendWake(int peer, uint32_t slot) { SendAm(peer, AM_WAKE, slot, nullptr, 0); }

/** Send the wakes that records owed; outside any UCX callback, worker lock held. */
void Engine::SendPendingWakes() {
  if (pendingWakes.empty()) return;
  sendingWakes.swap(pendingWakes);
  for (auto& w : sendingWakes) SendWake(w.first, w.second);
  sendingWakes.clear();
}

void Engine::OnSent(void* request, ucs_status_t, void* user) {
  delete static_cast<Outgoing*>(user);
  ucp_request_free(request);
}

bool Engine::SendAm(int peer, unsigned id, uint32_t arg, const uint8_t* data, size_t len) {
  Peer& p = peers[peer];
  if (p.dead || !p.ep || closed) return false;
  auto* out = new Outgoing{{uint32_t(rank), arg}, std::vector<uint8_t>(data, data + len)};
  ucp_request_param_t rp{};
  rp.op_attr_mask = UCP_OP_ATTR_FIELD_CALLBACK | UCP_OP_ATTR_FIELD_USER_DATA;
  rp.cb.send = &Engine::OnSent;
  rp.user_data = out;
  ucs_status_ptr_t sp = ucp_am_send_nbx(p.ep, id, &out->header, sizeof(out->header), out->data.data(), out->data.size(), &rp);
  if (sp == nullptr) {
    delete out;
    return true;
  }
  if (UCS_PTR_IS_ERR(sp)) {
    lastError = StatusText(UCS_PTR_STATUS(sp));
    delete out;
    return false;
  }
  return true;
}

// ---- receiving ---------------------------------------------------------------------------------

void Engine::PushEvent(Event&& ev) {
  {
    std::lock_guard<std::mutex> g(evMu);
    events.push_back(std::move(ev));
  }
  if (t_inline) inlineFlags |= INLINE_EVENTS;
  WakeJs();
}

void Engine::OnRndvData(void* request, ucs_status_t status, size_t, void* user) {
  auto* in = static_cast<Incoming*>(user);
  if (status == UCS_OK) in->engine->PushEvent(std::move(in->event));
  delete in;
  ucp_request_free(request);
}

ucs_status_t Engine::OnAm(unsigned id, void* arg, const void* header, size_t headerLength, void* data, size_t length,
                          const ucp_am_recv_param_t* param) {
  auto* e = static_cast<Engine*>(arg);
  if (headerLength != sizeof(AmHeader)) return UCS_OK;  // not ours: drop
  AmHeader h;
  std::memcpy(&h, header, sizeof(h));
  if (h.from >= uint32_t(e->size)) return UCS_OK;
  Event ev{h.from, id, h.arg, {}};
  if (length > 0 && (param->recv_attr & UCP_AM_RECV_ATTR_FLAG_RNDV)) {
    // A large control message (a passive message up to maxPassiveBytes): fetch it into our buffer.
    auto* in = new Incoming{e, std::move(ev)};
    in->event.data.resize(length);
    ucp_request_param_t rp{};
    rp.op_attr_mask = UCP_OP_ATTR_FIELD_CALLBACK | UCP_OP_ATTR_FIELD_USER_DATA;
    rp.cb.recv_am = &Engine::OnRndvData;
    rp.user_data = in;
    ucs_status_ptr_t sp = ucp_am_recv_data_nbx(e->worker, data, in->event.data.data(), length, &rp);
    if (sp == nullptr) {
      e->PushEvent(std::move(in->event));
      delete in;
    } else if (UCS_PTR_IS_ERR(sp)) {
      e->lastError = StatusText(UCS_PTR_STATUS(sp));
      delete in;
    }
    return UCS_OK;
  }
  ev.data.assign(static_cast<uint8_t*>(data), static_cast<uint8_t*>(data) + length);
  e->PushEvent(std::move(ev));
  return UCS_OK;
}

void Engine::WakeJs() {
  if (t_inline) {
    inlineFlags |= INLINE_COMPLETED;  // kick() returns it; JavaScript handles it after the call
    return;
  }
  if (__atomic_exchange_n(&ctl[CTL_WAKE], 1, __ATOMIC_SEQ_CST) == 0 && !wakeReleased) wake.NonBlockingCall();
}

// ---- attention -------------------------------------------------------------------------------------

/**
 * The event loop is about to block in poll: say so, then look for notifications that landed while it
 * ran (their senders saw 0 and sent no wake-up). Dekker with the sender, who bumps the counter and then
 * reads the word: one of the two sees the other.
 */
void Engine::BeforePoll() {
  if (closed) return;
  __atomic_store_n(attention, 1, __ATOMIC_SEQ_CST);
  bool changed = false;
  for (int slot = 0; slot < slots; slot++) {
    const std::shared_ptr<Region>& r = local[slot];  // only this (the JavaScript) thread changes `local`
    if (!r) continue;
    int32_t* counter = reinterpret_cast<int32_t*>(r->base + r->notifOffset) + (r->notifWords - 1);
    int32_t now = __atomic_load_n(counter, __ATOMIC_SEQ_CST);
    if (now != seenCounters[slot]) {
      seenCounters[slot] = now;
      changed = true;
    }
  }
  if (changed) WakeJs();  // an async send: the loop does not block, onWake runs and notifies
}

/** Does `peer` need a wake-up message? Only when its event loop is blocked, or when we cannot tell. */
bool Engine::PeerListening(int peer) {
  volatile int32_t* word = peers[peer].attention;
  if (!word) return true;
  __atomic_thread_fence(__ATOMIC_SEQ_CST);
  return *word != 0;
}

Napi::Value Engine::Attention(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  void* packed = nullptr;
  size_t len = 0;
  ucs_status_t s;
  {
    std::lock_guard<std::recursive_mutex> g(mu);
    s = ucp_rkey_pack(ctx->h, attentionRegion->memh, &packed, &len);
  }
  if (s != UCS_OK) ThrowUcs(env, "ucp_rkey_pack (attention word)", s);
  Napi::Object out = Napi::Object::New(env);
  out.Set("address", Napi::BigInt::New(env, uint64_t(reinterpret_cast<uintptr_t>(attention))));
  out.Set("rkey", Napi::Buffer<uint8_t>::Copy(env, static_cast<uint8_t*>(packed), len));
  // JavaScript clears the word whenever it runs (posting proves the loop is not blocked): the check
  // hook alone would miss a stretch that began inside the poll phase and never left it.
  out.Set("word", MakeShared(env, attentionRegion, attentionRegion->base, 4));
  {
    std::lock_guard<std::recursive_mutex> g(mu);
    ucp_rkey_buffer_release(packed);
  }
  return out;
}

/** A peer's attention word: readable directly where UCX maps it (shared memory); returns whether it is. */
Napi::Value Engine::AddAttention(const Napi::CallbackInfo& info) {
  uint32_t peer = info[0].As<Napi::Number>().Uint32Value();
  bool lossless = false;
  uint64_t address = info[1].As<Napi::BigInt>().Uint64Value(&lossless);
  auto rkey = info[2].As<Napi::Uint8Array>();
  if (peer >= uint32_t(size) || int(peer) == rank) throw Napi::RangeError::New(info.Env(), "addAttention: bad peer");
  bool direct = false;
  {
    std::lock_guard<std::recursive_mutex> g(mu);
    Peer& p = peers[peer];
    if (p.ep && !p.attentionKey && ucp_ep_rkey_unpack(p.ep, rkey.Data(), &p.attentionKey) == UCS_OK) {
      void* ptr = nullptr;
      if (ucp_rkey_ptr(p.attentionKey, address, &ptr) == UCS_OK && ptr) {
        p.attention = static_cast<volatile int32_t*>(ptr);
        direct = true;
      }
    }
  }
  return Napi::Boolean::New(info.Env(), direct);
}

// ---- the progress thread ------------------------------------------------------------------------

void Engine::Loop() {
  int64_t lastActive = NowNs();
  while (!stopping.load()) {
    unsigned did = 0;
    bool outstanding = false;
    {
      std::lock_guard<std::recursive_mutex> g(mu);
      if (ctx->hasGraves.load()) ctx->Bury();
      did += Drain(0);
      while (ucp_worker_progress(worker)) did++;
      SendPendingWakes();
      for (auto& p : peers) outstanding = outstanding || !p.inflight.empty() || !p.atomics.empty();
    }
    int64_t now = NowNs();
    if (did) {
      lastActive = now;
      continue;
    }
    if (now - lastActive < spinNs) {
      sched_yield();
      continue;
    }
    // Going to sleep: announce it, then look at the ring once more. A producer that published an entry
    // before our announcement is seen here; one that publishes after sees STATE=1 and signals.
    __atomic_store_n(&ctl[CTL_STATE], 1, __ATOMIC_SEQ_CST);
    if (__atomic_load_n(&ctl[CTL_HEAD], __ATOMIC_SEQ_CST) != __atomic_load_n(&ctl[CTL_TAIL], __ATOMIC_SEQ_CST)) {
      __atomic_store_n(&ctl[CTL_STATE], 0, __ATOMIC_SEQ_CST);
      continue;
    }
    ucs_status_t s;
    {
      std::lock_guard<std::recursive_mutex> g(mu);
      s = ucp_worker_arm(worker);  // UCS_ERR_BUSY: events (or a signal) arrived meanwhile
    }
    if (s == UCS_OK && !stopping.load()) {
      pollfd pfd{efd, POLLIN, 0};
      // Outstanding operations make progress on events too; the timeout is a safety net only.
      poll(&pfd, 1, outstanding ? 10 : -1);
    }
    __atomic_store_n(&ctl[CTL_STATE], 0, __ATOMIC_SEQ_CST);
    lastActive = NowNs();
  }
}

Napi::Value Engine::Kick(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (closed) return Napi::Number::New(env, 0);
  // Called by JavaScript only when the progress thread sleeps. With allowInline and the worker free,
  // run the small operations of the ring right here: no thread wake-up on the latency path. Everything
  // else, and whatever is left outstanding, goes to the progress thread, which then stays awake while
  // more arrives (so later posts need no call at all).
  unsigned events = 0;
  bool handOff = true;
  bool allowInline = info.Length() > 0 && info[0].ToBoolean();
  if (inlineEnabled && allowInline && mu.try_lock()) {
    t_inline = true;
    inlineFlags = 0;
    Drain(inlineMax);
    auto pending = [this] {
      for (auto& p : peers) if (!p.inflight.empty() || !p.atomics.empty()) return true;
      return false;
    };
    // On shared memory a batch usually completes inside Drain: then there is nothing to progress here
    // (incoming messages are the progress thread's business), and the call is saved on the latency path.
    if (pending()) ucp_worker_progress(worker);
    SendPendingWakes();
    bool outstanding = __atomic_load_n(&ctl[CTL_HEAD], __ATOMIC_SEQ_CST) != __atomic_load_n(&ctl[CTL_TAIL], __ATOMIC_SEQ_CST) || pending();
    events = inlineFlags;
    t_inline = false;
    mu.unlock();
    handOff = outstanding;
  }
  if (handOff) {
    __atomic_store_n(&ctl[CTL_STATE], 0, __ATOMIC_SEQ_CST);  // later posts need not signal again
    ucp_worker_signal(worker);
  }
  return Napi::Number::New(env, events);
}

Napi::Value Engine::Send(const Napi::CallbackInfo& info) {
  uint32_t peer = info[0].As<Napi::Number>().Uint32Value();
  uint32_t kind = info[1].As<Napi::Number>().Uint32Value();
  auto data = info[2].As<Napi::Uint8Array>();
  if (peer >= uint32_t(size) || int(peer) == rank) throw Napi::RangeError::New(info.Env(), "send: bad peer");
  bool ok;
  {
    std::lock_guard<std::recursive_mutex> g(mu);
    ok = SendAm(int(peer), AM_CONTROL, kind, data.Data(), data.ByteLength());
  }
  ucp_worker_signal(worker);  // the progress thread finishes what could not go out at once
  return Napi::Boolean::New(info.Env(), ok);
}

Napi::Value Engine::Take(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ReportFreed(env);
  __atomic_store_n(&ctl[CTL_WAKE], 0, __ATOMIC_SEQ_CST);  // before reading: a later event wakes us again
  std::vector<Event> taken;
  {
    std::lock_guard<std::mutex> g(evMu);
    taken.swap(events);
  }
  // Flat [from, id, arg, data, ...]: one array per call, not one object per event.
  Napi::Array out = Napi::Array::New(env, taken.size() * 4);
  for (size_t i = 0; i < taken.size(); i++) {
    Event& ev = taken[i];
    out.Set(uint32_t(i * 4), Napi::Number::New(env, ev.from));
    out.Set(uint32_t(i * 4 + 1), Napi::Number::New(env, ev.id));
    out.Set(uint32_t(i * 4 + 2), Napi::Number::New(env, ev.arg));
    out.Set(uint32_t(i * 4 + 3), ev.data.empty() ? env.Null() : Napi::Value(Napi::Buffer<uint8_t>::Copy(env, ev.data.data(), ev.data.size())));
  }
  return out;
}

/**
 * UCX failed an operation to `peer`. A connection-level failure means the peer is unreachable: tell
 * JavaScript (once), which declares it dead as the heartbeat would, so that health and errors agree.
 */
int32_t Engine::Failed(int peer, ucs_status_t status) {
  lastError = std::string("rank ") + std::to_string(peer) + ": " + StatusText(status);
  int32_t wire = WireFromUcs(status);
  if (wire == WIRE_PEER_DEAD && !peers[peer].dead && !peers[peer].reported) {
    peers[peer].reported = true;
    PushEvent(Event{uint32_t(peer), EV_PEER_FAILED, uint32_t(-int(status)), {}});
  }
  return wire;
}

/** The runtime's heartbeat says `peer` is gone: fail what is pending on it, refuse what comes. */
void Engine::FailPeer(int peer, int32_t status) {
  Peer& p = peers[peer];
  p.dead = true;
  if (p.current) {
    // Only between Drain and FlushAll, which run under the lock we hold: cannot happen here.
    FinishRecord(p.current, status);
    p.current = nullptr;
  }
  for (FlushRecord* rec : p.inflight) {
    for (auto& c : rec->counts) Complete(c.first, status, peer, c.second);
    rec->abandoned = true;  // UCX may still call back (or never): the callback only frees it
    orphanRecords.push_back(rec);
  }
  p.inflight.clear();
  for (PendingAtomic* a : p.atomics) {
    FinishAtomic(a->slot, status);
    a->abandoned = true;
    orphanAtomics.push_back(a);
  }
  p.atomics.clear();
}

Napi::Value Engine::PeerDead(const Napi::CallbackInfo& info) {
  uint32_t peer = info[0].As<Napi::Number>().Uint32Value();
  if (peer >= uint32_t(size) || int(peer) == rank) throw Napi::RangeError::New(info.Env(), "peerDead: bad peer");
  std::lock_guard<std::recursive_mutex> g(mu);
  if (!peers[peer].dead) FailPeer(int(peer), WIRE_PEER_DEAD);
  // The endpoint is not closed through UCX: without an error-handling mode a close would wait for a
  // peer that will never answer. It is released with the worker.
  return info.Env().Undefined();
}

Napi::Value Engine::Info(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object out = Napi::Object::New(env);
  // Which transports each endpoint uses, as UCX prints it (for `--info` and benchmarks).
  std::string lanes, error;
  {
    std::lock_guard<std::recursive_mutex> g(mu);
    error = lastError;
    for (int i = 0; i < size; i++) {
      if (!peers[i].ep) continue;
      char* buf = nullptr;
      size_t len = 0;
      FILE* f = open_memstream(&buf, &len);
      if (!f) continue;
      ucp_ep_print_info(peers[i].ep, f);
      fclose(f);
      lanes += "rank " + std::to_string(i) + ":\n" + std::string(buf, len);
      free(buf);
    }
  }
  out.Set("endpoints", lanes);
  out.Set("lastError", error);
  out.Set("inline", inlineEnabled);
  return out;
}

void Engine::Stop() {
  if (!thread.joinable()) return;
  stopping.store(true);
  ucp_worker_signal(worker);
  thread.join();
}

void Engine::Teardown() {
  {
    std::lock_guard<std::mutex> g(g_enginesMu);
    for (size_t i = 0; i < g_engines.size(); i++) {
      if (g_engines[i] == this) { g_engines.erase(g_engines.begin() + long(i)); break; }
    }
  }
  if (closed) return;
  std::lock_guard<std::recursive_mutex> g(mu);
  closed = true;
  if (!worker) return;  // construction failed before the worker existed
  // Whatever is still in the ring or in flight completes with CLOSED, as the Transport contract says.
  uint32_t head = uint32_t(ctl[CTL_HEAD]), tail = uint32_t(__atomic_load_n(&ctl[CTL_TAIL], __ATOMIC_ACQUIRE));
  for (; head != tail; head++) Process(ring + size_t(head & ringMask) * ENTRY_WORDS);
  __atomic_store_n(&ctl[CTL_HEAD], int32_t(head), __ATOMIC_RELEASE);
  for (int i = 0; i < size; i++) {
    if (!peers[i].dead) FailPeer(i, WIRE_CLOSED);
  }
  for (auto& p : peers) {
    for (auto& r : p.remotes) {
      if (r.rkey) ucp_rkey_destroy(r.rkey);
      r = Remote{};
    }
    p.attention = nullptr;
    if (p.attentionKey) ucp_rkey_destroy(p.attentionKey);
    p.attentionKey = nullptr;
  }
  // Endpoints to live peers are flushed and closed (bounded: a peer may die meanwhile); dead ones are
  // released with the worker.
  std::vector<void*> closing;
  for (auto& p : peers) {
    if (!p.ep || p.dead) continue;
    ucp_request_param_t rp{};
    void* req = ucp_ep_close_nbx(p.ep, &rp);
    if (req && !UCS_PTR_IS_ERR(req)) closing.push_back(req);
    p.ep = nullptr;
  }
  int64_t deadline = NowNs() + 1000000000LL;
  for (void* req : closing) {
    while (ucp_request_check_status(req) == UCS_INPROGRESS && NowNs() < deadline) ucp_worker_progress(worker);
    if (ucp_request_check_status(req) != UCS_INPROGRESS) ucp_request_free(req);
  }
  for (auto& r : local) r.reset();
  {
    std::lock_guard<std::mutex> g2(ctx->gyMu);
    ctx->worker = nullptr;  // from now on memory is unmapped by whoever drops it
  }
  ctx->Bury();
  attentionRegion.reset();  // unmapped once JavaScript's view of it is collected too
  ucp_worker_destroy(worker);
  worker = nullptr;
  // No callback can come now: free what a dead peer's requests left behind (and the memory they held).
  for (FlushRecord* r : orphanRecords) delete r;
  orphanRecords.clear();
  for (PendingAtomic* a : orphanAtomics) delete a;
  orphanAtomics.clear();
  for (FlushRecord* r : spareRecords) delete r;
  spareRecords.clear();
}

Napi::Value Engine::Close(const Napi::CallbackInfo& info) {
  StopLoopHooks();
  Stop();
  Teardown();
  if (!wakeReleased) {
    wakeReleased = true;
    wake.Release();
  }
  ReportFreed(info.Env());
  return info.Env().Undefined();
}

// At process exit (process.exit, end of the event loop) the progress threads are stopped before the UCX
// libraries run their destructors; nothing else is torn down, the process is going away.
void StopAllAtExit() {
  std::vector<Engine*> all;
  {
    std::lock_guard<std::mutex> g(g_enginesMu);
    all = g_engines;
  }
  for (Engine* e : all) e->Stop();
}

Napi::Value Version(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), ucp_get_version_string()); }

/** Can UCX start here with the features the transport needs? "" if so, else why not (for `auto`). */
Napi::Value Probe(const Napi::CallbackInfo& info) {
  ucp_config_t* config = nullptr;
  ucs_status_t s = ucp_config_read(nullptr, nullptr, &config);
  if (s != UCS_OK) return Napi::String::New(info.Env(), std::string("ucp_config_read: ") + StatusText(s));
  ucp_params_t params{};
  params.field_mask = UCP_PARAM_FIELD_FEATURES;
  params.features = UCP_FEATURE_RMA | UCP_FEATURE_AMO32 | UCP_FEATURE_AMO64 | UCP_FEATURE_AM | UCP_FEATURE_WAKEUP;
  ucp_context_h h = nullptr;
  s = ucp_init(&params, config, &h);
  ucp_config_release(config);
  if (s != UCS_OK) return Napi::String::New(info.Env(), std::string("ucp_init: ") + StatusText(s));
  ucp_cleanup(h);
  return Napi::String::New(info.Env(), "");
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  static bool registered = false;
  if (!registered) {
    registered = true;
    std::atexit(StopAllAtExit);
  }
  exports.Set("Engine", Engine::Define(env));
  exports.Set("version", Napi::Function::New(env, Version));
  exports.Set("probe", Napi::Function::New(env, Probe));
  exports.Set("ctlWords", Napi::Number::New(env, CTL_WORDS));
  exports.Set("entryWords", Napi::Number::New(env, ENTRY_WORDS));
  exports.Set("atomicSlotBytes", Napi::Number::New(env, double(sizeof(AtomicSlot))));
  return exports;
}

}  // namespace

NODE_API_MODULE(pgas_ucx, Init)
