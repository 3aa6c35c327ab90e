# Built by scripts/build-native.sh (after the eBPF addon, whose vmlinux.h flow.bpf.c uses):
#   daemoneye_pcap.node  libpcap capture and offline reading (pcap-addon.c)
#   daemoneye_xdp.node   XDP flow accounting (../xdp/xdp-addon.c + build/gen/flow.skel.h)
{
  "targets": [
    {
      "target_name": "daemoneye_pcap",
      "sources": ["pcap-addon.c"],
      "include_dirs": ["../common"],
      "cflags": ["-std=gnu11", "-Wall", "-Wextra", "-Wno-unused-parameter", "-O2"],
      # Debian's libpcap0.8, linked dynamically so security updates apply.
      "libraries": ["-lpcap", "-lpthread"]
    },
    {
      "target_name": "daemoneye_xdp",
      "sources": ["../xdp/xdp-addon.c"],
      "include_dirs": ["../xdp", "build/gen", "../common"],
      "cflags": ["-std=gnu11", "-Wall", "-Wextra", "-Wno-unused-parameter", "-O2"],
      "libraries": ["-lbpf", "-lelf", "-lz"]
    }
  ]
}
