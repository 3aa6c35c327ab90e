# Built by scripts/build-native.sh (after the eBPF addon): native/pcap/build/Release/
#   daemoneye_pcap.node  libpcap capture and offline reading (pcap-addon.c)
{
  "targets": [
    {
      "target_name": "daemoneye_pcap",
      "sources": ["pcap-addon.c"],
      "cflags": ["-std=gnu11", "-Wall", "-Wextra", "-Wno-unused-parameter", "-O2"],
      # Debian's libpcap0.8, linked dynamically so security updates apply.
      "libraries": ["-lpcap", "-lpthread"]
    }
  ]
}
