{
  # The optional native kernels of the CNN (cnn/native/blas.cc): cblas_sgemm from OpenBLAS (Debian
  # libopenblas-dev) plus im2col / col2im / layout / MAX-pooling loops. Built at install by
  # pgas/native/build.mjs (which finds OpenBLAS, test-links it and passes its flags in CNN_BLAS_CFLAGS
  # and CNN_BLAS_LIBS); by hand: npm run install:native. Without it the TypeScript kernels run.
  "targets": [
    {
      "target_name": "cnn_blas",
      "sources": ["blas.cc"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NODE_ADDON_API_DISABLE_DEPRECATED", "NAPI_DISABLE_CPP_EXCEPTIONS"],
      "cflags_cc": ["-std=c++17", "-O3", "<!@(node -p \"process.env.CNN_BLAS_CFLAGS || ''\")"],
      "libraries": ["<!@(node -p \"process.env.CNN_BLAS_LIBS || '-lopenblas'\")"]
    }
  ]
}
