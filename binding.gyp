{
  "targets": [
    {
      "target_name": "vigil_native",
      "sources": [
        "native/src/addon.cc",
        "native/src/errors.cc",
        "native/src/loader.cc",
        "native/src/maps.cc",
        "native/src/memory.cc",
        "native/src/poller.cc",
        "native/src/probes.cc"
      ],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "probes",
        "dist/probes"
      ],
      "libraries": ["-lbpf", "-lelf", "-lz"],
      "cflags_cc": ["-std=c++17", "-Wall", "-Wextra", "-fexceptions"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti"],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS", "NODE_ADDON_API_DISABLE_DEPRECATED"]
    }
  ]
}
