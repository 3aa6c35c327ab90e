# Built by scripts/build-native.sh, which first generates build/gen/process.skel.h
# (the BPF object embedded by bpftool) that addon.c includes.
{
  "targets": [
    {
      "target_name": "daemoneye_bpf",
      "sources": ["src/addon.c", "src/proc-connector.c", "src/sink.c"],
      "include_dirs": ["bpf", "build/gen", "common"],
      "cflags": ["-std=gnu11", "-Wall", "-Wextra", "-Wno-unused-parameter", "-O2"],
      # Debian's libbpf1/libelf1/zlib1g, linked dynamically so security updates apply.
      "libraries": ["-lbpf", "-lelf", "-lz"]
    }
  ]
}
