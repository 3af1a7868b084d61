{
  # The optional native addon (pgas/native). Built by pgas/native/build.mjs at install, and only where
  # UCX's development files are installed (pkg-config ucx); see README "Native transport".
  "targets": [
    {
      "target_name": "pgas_ucx",
      "sources": ["pgas/native/ucx.cc"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NODE_ADDON_API_DISABLE_DEPRECATED"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions"],
      "cflags_cc": ["-std=c++17", "-O2", "<!@(pkg-config --cflags ucx)"],
      "libraries": ["<!@(pkg-config --libs ucx)"]
    }
  ]
}
