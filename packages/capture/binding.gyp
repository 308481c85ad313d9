{
  "targets": [
    {
      "target_name": "mseg_capture",
      "sources": [
        "src/addon.cc",
        "src/bpf.cc",
        "src/js_errors.cc",
        "src/options.cc",
        "src/capture.cc",
        "src/ring.cc",
        "src/netns_socket.cc",
        "src/netlink.cc",
        "src/sys_error.cc"
      ],
      "defines": ["NAPI_VERSION=8"],
      "cflags_cc": ["-std=c++17", "-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"]
    }
  ]
}
