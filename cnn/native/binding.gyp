{
  # The optional BLAS addon of the CNN (cnn/native/blas.cc): cblas_sgemm from Debian's libopenblas-dev.
  # Build: cd cnn/native && node-gyp rebuild --nodedir=/usr  (or merge this target into the root
  # binding.gyp with "sources": ["cnn/native/blas.cc"]). Without it the TypeScript GEMM runs.
  "targets": [
    {
      "target_name": "cnn_blas",
      "sources": ["blas.cc"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NODE_ADDON_API_DISABLE_DEPRECATED", "NAPI_DISABLE_CPP_EXCEPTIONS"],
      "cflags_cc": ["-std=c++17", "-O2"],
      "libraries": ["-lopenblas"]
    }
  ]
}
