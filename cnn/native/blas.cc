// The native kernels of the CNN. GEMM: cblas_sgemm of the system BLAS (Debian libopenblas-dev) behind
// the same signature as the TypeScript kernel, gemm(transA, transB, M, N, K, alpha, A, aOff, B, bOff,
// beta, C, cOff), row-major. Besides it, the memory-bound loops around the GEMMs of a convolution net,
// which in TypeScript cost more than the GEMMs themselves once the GEMM is native: im2col / col2im over
// a batch of images, the scatter of a batched convolution output into NCHW (and its gather), and MAX
// pooling forward / backward. Each has a TypeScript twin (cnn/math/) that the tests compare it with.
// Thin on purpose: the C++ checks only what keeps memory safe (ranges inside the typed arrays); every
// other check and the choice of path live in TypeScript (cnn/math/blas.ts).
#include <napi.h>
#include <cblas.h>
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>

extern "C" {
// OpenBLAS extensions (declared here so that a reference CBLAS without them fails at link time, not
// silently at run time).
void openblas_set_num_threads(int num_threads);
char* openblas_get_config(void);
}

namespace {

bool checkRange(Napi::Env env, const Napi::Float32Array& a, int64_t off, int64_t count, const char* name) {
  if (off < 0 || count < 0 || off + count > static_cast<int64_t>(a.ElementLength())) {
    Napi::RangeError::New(env, std::string("gemm: matrix ") + name + " (offset " + std::to_string(off) + ", " +
                                   std::to_string(count) + " values) exceeds its array of " +
                                   std::to_string(a.ElementLength()))
        .ThrowAsJavaScriptException();
    return false;
  }
  return true;
}

Napi::Value Gemm(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() != 13 || !info[6].IsTypedArray() || !info[8].IsTypedArray() || !info[11].IsTypedArray()) {
    Napi::TypeError::New(env, "gemm(transA, transB, M, N, K, alpha, A, aOff, B, bOff, beta, C, cOff)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  const bool ta = info[0].ToBoolean();
  const bool tb = info[1].ToBoolean();
  const int64_t M = info[2].As<Napi::Number>().Int64Value();
  const int64_t N = info[3].As<Napi::Number>().Int64Value();
  const int64_t K = info[4].As<Napi::Number>().Int64Value();
  const float alpha = info[5].As<Napi::Number>().FloatValue();
  Napi::Float32Array A = info[6].As<Napi::Float32Array>();
  const int64_t aOff = info[7].As<Napi::Number>().Int64Value();
  Napi::Float32Array B = info[8].As<Napi::Float32Array>();
  const int64_t bOff = info[9].As<Napi::Number>().Int64Value();
  const float beta = info[10].As<Napi::Number>().FloatValue();
  Napi::Float32Array C = info[11].As<Napi::Float32Array>();
  const int64_t cOff = info[12].As<Napi::Number>().Int64Value();
  if (M < 0 || N < 0 || K < 0) {
    Napi::RangeError::New(env, "gemm: negative dimension").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  if (!checkRange(env, A, aOff, M * K, "A") || !checkRange(env, B, bOff, K * N, "B") || !checkRange(env, C, cOff, M * N, "C")) {
    return env.Undefined();
  }
  if (M == 0 || N == 0) return env.Undefined();
  cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans,
              static_cast<int>(M), static_cast<int>(N), static_cast<int>(K), alpha,
              A.Data() + aOff, static_cast<int>(ta ? M : K),
              B.Data() + bOff, static_cast<int>(tb ? K : N), beta,
              C.Data() + cOff, static_cast<int>(N));
  return env.Undefined();
}

// ---- helpers for the loops ----------------------------------------------------------------------------

bool argsOk(const Napi::CallbackInfo& info, size_t n, const char* usage) {
  if (info.Length() != n) {
    Napi::TypeError::New(info.Env(), usage).ThrowAsJavaScriptException();
    return false;
  }
  return true;
}

int64_t intArg(const Napi::CallbackInfo& info, size_t i) { return info[i].As<Napi::Number>().Int64Value(); }

bool f32Arg(const Napi::CallbackInfo& info, size_t i, Napi::Float32Array* out, const char* usage) {
  if (!info[i].IsTypedArray() || info[i].As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
    Napi::TypeError::New(info.Env(), usage).ThrowAsJavaScriptException();
    return false;
  }
  *out = info[i].As<Napi::Float32Array>();
  return true;
}

bool rangeOk(Napi::Env env, int64_t length, int64_t off, int64_t count, const char* what) {
  if (off < 0 || count < 0 || off + count > length) {
    Napi::RangeError::New(env, std::string(what) + ": range (offset " + std::to_string(off) + ", " + std::to_string(count) +
                                   " values) exceeds its array of " + std::to_string(length))
        .ThrowAsJavaScriptException();
    return false;
  }
  return true;
}

// Convolution geometry, as cnn/math/im2col.ts ConvGeometry, passed as an Int32Array of 13 values:
// channels, height, width, kernelH, kernelW, padH, padW, strideH, strideW, dilationH, dilationW, outH, outW.
struct Geom {
  int64_t c, h, w, kh, kw, ph, pw, sh, sw, dh, dw, oh, ow;
};

bool geomArg(const Napi::CallbackInfo& info, size_t i, Geom* g) {
  if (!info[i].IsTypedArray() || info[i].As<Napi::TypedArray>().TypedArrayType() != napi_int32_array ||
      info[i].As<Napi::Int32Array>().ElementLength() != 13) {
    Napi::TypeError::New(info.Env(), "geometry: an Int32Array of 13 values").ThrowAsJavaScriptException();
    return false;
  }
  const int32_t* v = info[i].As<Napi::Int32Array>().Data();
  *g = Geom{v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9], v[10], v[11], v[12]};
  bool ok = g->c > 0 && g->h > 0 && g->w > 0 && g->kh > 0 && g->kw > 0 && g->ph >= 0 && g->pw >= 0 && g->sh > 0 &&
            g->sw > 0 && g->dh > 0 && g->dw > 0 && g->oh > 0 && g->ow > 0;
  // every output position must be one that convOutputSize allows, or the loops below would not be
  // the adjoint pair the TypeScript twins are (and could index outside the image rows they assume)
  ok = ok && (g->oh - 1) * g->sh + g->dh * (g->kh - 1) + 1 <= g->h + 2 * g->ph &&
       (g->ow - 1) * g->sw + g->dw * (g->kw - 1) + 1 <= g->w + 2 * g->pw;
  if (!ok) Napi::RangeError::New(info.Env(), "geometry: inconsistent convolution geometry").ThrowAsJavaScriptException();
  return ok;
}

// The batched loops run row by row of the column matrix (kernel position outside, images inside), so
// that the 8 MB column matrix of LeNet's conv2 at batch 64 is written (or read) front to back while the
// images, 0.7 MB together, stay in cache; image by image, every image touched all 500 rows 16 KB apart,
// which measured about twice as slow.

// Row (c, ki, kj) of image `im` into d[0 .. outH·outW).
inline void im2colRow(const Geom& g, const float* plane, int64_t ki, int64_t kj, float* d) {
  int64_t y = ki * g.dh - g.ph;
  const int64_t x0 = kj * g.dw - g.pw;
  const bool inside = g.sw == 1 && x0 >= 0 && x0 + g.ow <= g.w;
  for (int64_t oy = 0; oy < g.oh; oy++, y += g.sh, d += g.ow) {
    if (y < 0 || y >= g.h) {
      std::fill(d, d + g.ow, 0.f);
    } else if (inside) {
      std::memcpy(d, plane + y * g.w + x0, sizeof(float) * g.ow);
    } else {
      const float* r = plane + y * g.w;
      for (int64_t ox = 0, x = x0; ox < g.ow; ox++, x += g.sw) d[ox] = x >= 0 && x < g.w ? r[x] : 0.f;
    }
  }
}

// The adjoint: s[0 .. outH·outW) added into the image plane.
inline void col2imRow(const Geom& g, const float* s, int64_t ki, int64_t kj, float* plane) {
  int64_t y = ki * g.dh - g.ph;
  const int64_t x0 = kj * g.dw - g.pw;
  const bool inside = g.sw == 1 && x0 >= 0 && x0 + g.ow <= g.w;
  for (int64_t oy = 0; oy < g.oh; oy++, y += g.sh, s += g.ow) {
    if (y < 0 || y >= g.h) continue;
    float* r = plane + y * g.w;
    if (inside) {
      float* d = r + x0;
      for (int64_t ox = 0; ox < g.ow; ox++) d[ox] += s[ox];
    } else {
      for (int64_t ox = 0, x = x0; ox < g.ow; ox++, x += g.sw) {
        if (x >= 0 && x < g.w) r[x] += s[ox];
      }
    }
  }
}

void im2colBatch(const Geom& g, int64_t n, const float* im, float* col, int64_t ld) {
  const int64_t inSize = g.c * g.h * g.w, P = g.oh * g.ow;
  float* row = col;
  for (int64_t c = 0; c < g.c; c++) {
    for (int64_t ki = 0; ki < g.kh; ki++) {
      for (int64_t kj = 0; kj < g.kw; kj++, row += ld) {
        for (int64_t i = 0; i < n; i++) im2colRow(g, im + i * inSize + c * g.h * g.w, ki, kj, row + i * P);
      }
    }
  }
}

void col2imBatch(const Geom& g, int64_t n, const float* col, float* im, int64_t ld) {
  const int64_t inSize = g.c * g.h * g.w, P = g.oh * g.ow;
  std::fill(im, im + n * inSize, 0.f);
  const float* row = col;
  for (int64_t c = 0; c < g.c; c++) {
    for (int64_t ki = 0; ki < g.kh; ki++) {
      for (int64_t kj = 0; kj < g.kw; kj++, row += ld) {
        for (int64_t i = 0; i < n; i++) col2imRow(g, row + i * P, ki, kj, im + i * inSize + c * g.h * g.w);
      }
    }
  }
}

// im2colBatch(geom, n, im, imOff, col, colOff, ld): image i (at imOff + i·C·H·W) goes to the columns
// starting at colOff + i·outH·outW of a column matrix whose rows are ld long.
Napi::Value Im2colBatch(const Napi::CallbackInfo& info) {
  const char* usage = "im2colBatch(geometry, n, im, imOff, col, colOff, ld)";
  Napi::Env env = info.Env();
  Geom g;
  Napi::Float32Array im, col;
  if (!argsOk(info, 7, usage) || !geomArg(info, 0, &g) || !f32Arg(info, 2, &im, usage) || !f32Arg(info, 4, &col, usage)) return env.Undefined();
  const int64_t n = intArg(info, 1), imOff = intArg(info, 3), colOff = intArg(info, 5), ld = intArg(info, 6);
  const int64_t inSize = g.c * g.h * g.w, P = g.oh * g.ow, rows = g.c * g.kh * g.kw;
  if (n < 0 || ld < n * P) {
    Napi::RangeError::New(env, "im2colBatch: ld must hold n·outH·outW columns").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  if (n == 0) return env.Undefined();
  if (!rangeOk(env, im.ElementLength(), imOff, n * inSize, "im2colBatch image") ||
      !rangeOk(env, col.ElementLength(), colOff, (rows - 1) * ld + n * P, "im2colBatch columns")) return env.Undefined();
  im2colBatch(g, n, im.Data() + imOff, col.Data() + colOff, ld);
  return env.Undefined();
}

// col2imBatch(geom, n, col, colOff, ld, im, imOff): the adjoint; each image is overwritten.
Napi::Value Col2imBatch(const Napi::CallbackInfo& info) {
  const char* usage = "col2imBatch(geometry, n, col, colOff, ld, im, imOff)";
  Napi::Env env = info.Env();
  Geom g;
  Napi::Float32Array im, col;
  if (!argsOk(info, 7, usage) || !geomArg(info, 0, &g) || !f32Arg(info, 2, &col, usage) || !f32Arg(info, 5, &im, usage)) return env.Undefined();
  const int64_t n = intArg(info, 1), colOff = intArg(info, 3), ld = intArg(info, 4), imOff = intArg(info, 6);
  const int64_t inSize = g.c * g.h * g.w, P = g.oh * g.ow, rows = g.c * g.kh * g.kw;
  if (n < 0 || ld < n * P) {
    Napi::RangeError::New(env, "col2imBatch: ld must hold n·outH·outW columns").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  if (n == 0) return env.Undefined();
  if (!rangeOk(env, im.ElementLength(), imOff, n * inSize, "col2imBatch image") ||
      !rangeOk(env, col.ElementLength(), colOff, (rows - 1) * ld + n * P, "col2imBatch columns")) return env.Undefined();
  col2imBatch(g, n, col.Data() + colOff, im.Data() + imOff, ld);
  return env.Undefined();
}

// scatterRows(src, O, n, P, bias|null, dst, dstOff): src is O × (n·P) (row o holds channel o of the n
// images side by side); dst gets n images of O × P (NCHW), plus bias[o] when a bias is given.
Napi::Value ScatterRows(const Napi::CallbackInfo& info) {
  const char* usage = "scatterRows(src, O, n, P, bias|null, dst, dstOff)";
  Napi::Env env = info.Env();
  Napi::Float32Array src, dst, bias;
  if (!argsOk(info, 7, usage) || !f32Arg(info, 0, &src, usage) || !f32Arg(info, 5, &dst, usage)) return env.Undefined();
  const bool hasBias = !info[4].IsNull();
  if (hasBias && !f32Arg(info, 4, &bias, usage)) return env.Undefined();
  const int64_t O = intArg(info, 1), n = intArg(info, 2), P = intArg(info, 3), dstOff = intArg(info, 6);
  if (O < 0 || n < 0 || P < 0 || !rangeOk(env, src.ElementLength(), 0, O * n * P, "scatterRows source") ||
      !rangeOk(env, dst.ElementLength(), dstOff, O * n * P, "scatterRows destination") ||
      (hasBias && !rangeOk(env, bias.ElementLength(), 0, O, "scatterRows bias"))) return env.Undefined();
  const float* s = src.Data();
  float* d = dst.Data() + dstOff;
  for (int64_t i = 0; i < n; i++) {
    for (int64_t o = 0; o < O; o++) {
      const float* from = s + o * n * P + i * P;
      float* to = d + (i * O + o) * P;
      if (hasBias) {
        const float b = bias.Data()[o];
        for (int64_t p = 0; p < P; p++) to[p] = from[p] + b;
      } else {
        std::memcpy(to, from, sizeof(float) * P);
      }
    }
  }
  return env.Undefined();
}

// gatherRows(src, srcOff, O, n, P, dst): the inverse layout change, n images of O × P -> O × (n·P).
Napi::Value GatherRows(const Napi::CallbackInfo& info) {
  const char* usage = "gatherRows(src, srcOff, O, n, P, dst)";
  Napi::Env env = info.Env();
  Napi::Float32Array src, dst;
  if (!argsOk(info, 6, usage) || !f32Arg(info, 0, &src, usage) || !f32Arg(info, 5, &dst, usage)) return env.Undefined();
  const int64_t srcOff = intArg(info, 1), O = intArg(info, 2), n = intArg(info, 3), P = intArg(info, 4);
  if (O < 0 || n < 0 || P < 0 || !rangeOk(env, src.ElementLength(), srcOff, O * n * P, "gatherRows source") ||
      !rangeOk(env, dst.ElementLength(), 0, O * n * P, "gatherRows destination")) return env.Undefined();
  const float* s = src.Data() + srcOff;
  float* d = dst.Data();
  for (int64_t i = 0; i < n; i++) {
    for (int64_t o = 0; o < O; o++) std::memcpy(d + o * n * P + i * P, s + (i * O + o) * P, sizeof(float) * P);
  }
  return env.Undefined();
}

// maxPoolForward(x, y, mask, planes, H, W, OH, OW, kh, kw, sh, sw, ph, pw): Caffe's MAX pooling; mask
// gets the index (into x) of each output's first maximum, as the TypeScript layer does.
Napi::Value MaxPoolForward(const Napi::CallbackInfo& info) {
  const char* usage = "maxPoolForward(x, y, mask, planes, H, W, OH, OW, kh, kw, sh, sw, ph, pw)";
  Napi::Env env = info.Env();
  Napi::Float32Array x, y;
  if (!argsOk(info, 14, usage) || !f32Arg(info, 0, &x, usage) || !f32Arg(info, 1, &y, usage)) return env.Undefined();
  if (!info[2].IsTypedArray() || info[2].As<Napi::TypedArray>().TypedArrayType() != napi_int32_array) {
    Napi::TypeError::New(env, usage).ThrowAsJavaScriptException();
    return env.Undefined();
  }
  Napi::Int32Array mask = info[2].As<Napi::Int32Array>();
  int64_t v[11];
  for (int i = 0; i < 11; i++) v[i] = intArg(info, 3 + i);
  const int64_t planes = v[0], H = v[1], W = v[2], OH = v[3], OW = v[4], kh = v[5], kw = v[6], sh = v[7], sw = v[8], ph = v[9], pw = v[10];
  if (planes < 0 || H < 1 || W < 1 || OH < 1 || OW < 1 || kh < 1 || kw < 1 || sh < 1 || sw < 1 || ph < 0 || pw < 0 ||
      planes * H * W > std::numeric_limits<int32_t>::max()) {
    Napi::RangeError::New(env, "maxPoolForward: bad geometry").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  if (!rangeOk(env, x.ElementLength(), 0, planes * H * W, "maxPoolForward input") ||
      !rangeOk(env, y.ElementLength(), 0, planes * OH * OW, "maxPoolForward output") ||
      !rangeOk(env, mask.ElementLength(), 0, planes * OH * OW, "maxPoolForward mask")) return env.Undefined();
  const float* xs = x.Data();
  float* ys = y.Data();
  int32_t* ms = mask.Data();
  int64_t o = 0;
  const bool lenet22 = kh == 2 && kw == 2 && sh == 2 && sw == 2 && ph == 0 && pw == 0 && 2 * OH <= H && 2 * OW <= W;
  for (int64_t pl = 0; pl < planes; pl++) {
    const int64_t base = pl * H * W;
    for (int64_t oy = 0; oy < OH; oy++) {
      if (lenet22) {
        // the common 2×2/2 window, every window inside the image
        const int64_t r0 = base + 2 * oy * W;
        // branch-free: on real activations which of the four wins is unpredictable, and GCC turns
        // ternaries here into jumps (measured 6x slower on random data). max keeps the first on ties
        // (std::max(a, b) is b only when a < b), as the sequential scan of the generic loop does.
        const int32_t W32 = static_cast<int32_t>(W);
        for (int64_t ox = 0; ox < OW; ox++, o++) {
          const int32_t a = static_cast<int32_t>(r0 + 2 * ox);
          const float v0 = xs[a], v1 = xs[a + 1], v2 = xs[a + W32], v3 = xs[a + W32 + 1];
          const float m01 = std::max(v0, v1), m23 = std::max(v2, v3);
          const int32_t i01 = a + static_cast<int32_t>(v1 > v0);
          const int32_t i23 = a + W32 + static_cast<int32_t>(v3 > v2);
          const int32_t later = static_cast<int32_t>(m23 > m01);
          ys[o] = std::max(m01, m23);
          ms[o] = i01 + later * (i23 - i01);
        }
        continue;
      }
      const int64_t hs = oy * sh - ph, he = std::min(hs + kh, H), h0 = std::max<int64_t>(hs, 0);
      for (int64_t ox = 0; ox < OW; ox++, o++) {
        const int64_t ws = ox * sw - pw, we = std::min(ws + kw, W), w0 = std::max<int64_t>(ws, 0);
        float best = -std::numeric_limits<float>::infinity();
        int64_t arg = -1;
        for (int64_t hh = h0; hh < he; hh++) {
          for (int64_t ww = w0; ww < we; ww++) {
            const int64_t i = base + hh * W + ww;
            if (xs[i] > best) {
              best = xs[i];
              arg = i;
            }
          }
        }
        ys[o] = best;
        ms[o] = static_cast<int32_t>(arg);
      }
    }
  }
  return env.Undefined();
}

// maxPoolBackward(dy, count, mask, dx, dxCount): dx = 0, then dx[mask[o]] += dy[o].
Napi::Value MaxPoolBackward(const Napi::CallbackInfo& info) {
  const char* usage = "maxPoolBackward(dy, count, mask, dx, dxCount)";
  Napi::Env env = info.Env();
  Napi::Float32Array dy, dx;
  if (!argsOk(info, 5, usage) || !f32Arg(info, 0, &dy, usage) || !f32Arg(info, 3, &dx, usage)) return env.Undefined();
  if (!info[2].IsTypedArray() || info[2].As<Napi::TypedArray>().TypedArrayType() != napi_int32_array) {
    Napi::TypeError::New(env, usage).ThrowAsJavaScriptException();
    return env.Undefined();
  }
  Napi::Int32Array mask = info[2].As<Napi::Int32Array>();
  const int64_t count = intArg(info, 1), dxCount = intArg(info, 4);
  if (!rangeOk(env, dy.ElementLength(), 0, count, "maxPoolBackward top diff") ||
      !rangeOk(env, mask.ElementLength(), 0, count, "maxPoolBackward mask") ||
      !rangeOk(env, dx.ElementLength(), 0, dxCount, "maxPoolBackward bottom diff")) return env.Undefined();
  float* d = dx.Data();
  const float* s = dy.Data();
  const int32_t* m = mask.Data();
  std::fill(d, d + dxCount, 0.f);
  for (int64_t o = 0; o < count; o++) {
    const int32_t i = m[o];
    if (i >= 0 && i < dxCount) d[i] += s[o];  // an index outside dx cannot come from forward: ignore it safely
  }
  return env.Undefined();
}

Napi::Value SetThreads(const Napi::CallbackInfo& info) {
  openblas_set_num_threads(info[0].As<Napi::Number>().Int32Value());
  return info.Env().Undefined();
}

Napi::Value Describe(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), std::string("OpenBLAS cblas_sgemm (") + openblas_get_config() + ")");
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("gemm", Napi::Function::New(env, Gemm, "gemm"));
  exports.Set("im2colBatch", Napi::Function::New(env, Im2colBatch, "im2colBatch"));
  exports.Set("col2imBatch", Napi::Function::New(env, Col2imBatch, "col2imBatch"));
  exports.Set("scatterRows", Napi::Function::New(env, ScatterRows, "scatterRows"));
  exports.Set("gatherRows", Napi::Function::New(env, GatherRows, "gatherRows"));
  exports.Set("maxPoolForward", Napi::Function::New(env, MaxPoolForward, "maxPoolForward"));
  exports.Set("maxPoolBackward", Napi::Function::New(env, MaxPoolBackward, "maxPoolBackward"));
  exports.Set("setThreads", Napi::Function::New(env, SetThreads, "setThreads"));
  exports.Set("describe", Napi::Function::New(env, Describe, "describe"));
  return exports;
}

}  // namespace

NODE_API_MODULE(cnn_blas, Init)
