{
  "targets": [
    {
      "target_name": "loopy_capture",
      "sources": [
        "src/addon.c",
        "src/batch-pool.c",
        "src/capture-thread.c",
        "src/capabilities.c",
        "src/connect-program.c",
        "src/connect-trace.c",
        "src/devices.c",
        "src/linktype.c",
        "src/live-capture.c",
        "src/live-open.c",
        "src/memory.c",
        "src/napi-util.c",
        "src/offline-filter.c",
        "src/peer.c",
        "src/sock-diag.c",
        "src/socket-owners.c",
        "src/thread-cpu.c",
        "src/thread-name.c"
      ],
      "defines": ["NAPI_VERSION=8"],
      "cflags_c": ["-std=gnu11", "-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "libraries": ["-lpcap", "-lpthread"]
    }
  ]
}
