// The native GEMM of the CNN: cblas_sgemm of the system BLAS (Debian libopenblas-dev) behind the same
// signature as the TypeScript kernel, gemm(transA, transB, M, N, K, alpha, A, aOff, B, bOff, beta, C,
// cOff), row-major. Thin on purpose: it checks only what keeps memory safe (ranges inside the typed
// arrays); every other check and the choice of path live in TypeScript (cnn/math/blas.ts).
#include <napi.h>
#include <cblas.h>
#include <cstdint>
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

Napi::Value SetThreads(const Napi::CallbackInfo& info) {
  openblas_set_num_threads(info[0].As<Napi::Number>().Int32Value());
  return info.Env().Undefined();
}

Napi::Value Describe(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), std::string("OpenBLAS cblas_sgemm (") + openblas_get_config() + ")");
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("gemm", Napi::Function::New(env, Gemm, "gemm"));
  exports.Set("setThreads", Napi::Function::New(env, SetThreads, "setThreads"));
  exports.Set("describe", Napi::Function::New(env, Describe, "describe"));
  return exports;
}

}  // namespace

NODE_API_MODULE(cnn_blas, Init)
