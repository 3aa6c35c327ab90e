#!/usr/bin/env bash
# Sets DaemonEye up on a fresh Debian/Ubuntu machine: system packages, Node 24 (from the npm
# registry's node-linux-<arch> package when the machine's Node is older), dependencies built against
# that Node's headers (offline: no header download), the TypeScript build, and `daemoneye` on PATH.
# Idempotent: a second run only checks and finishes in seconds.
set -euo pipefail
cd "$(dirname "$0")/.."
root_dir=$(pwd)
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
say() { printf '\033[1msetup:\033[0m %s\n' "$*"; }

# 1. System packages: a compiler toolchain and python3 for node-gyp (better-sqlite3 builds from
#    source here), procps for `ps` in the benchmark, openssl for the TLS tests' certificates, and the
#    eBPF toolchain (clang, libbpf, bpftool) for the kernel sensor in native/.
packages=(ca-certificates build-essential python3 procps git openssl clang llvm libbpf-dev bpftool libelf-dev zlib1g-dev pkg-config
  libpcap-dev tcpdump tshark gcc-mingw-w64-x86-64 python3-sklearn python3-scipy postgresql iproute2)
missing=()
for p in "${packages[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  say "installing system packages: ${missing[*]}"
  as_root apt-get update
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
fi

# 2. Node 24 LTS.
node_major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }
if [ "$(node_major)" -lt 24 ]; then
  case "$(uname -m)" in x86_64) arch=x64 ;; aarch64) arch=arm64 ;; *) arch=$(uname -m) ;; esac
  node_home=/opt/daemoneye-node
  node_bin="$node_home/node_modules/node-linux-$arch/bin/node"
  if [ ! -x "$node_bin" ]; then
    say "installing Node 24 (node-linux-$arch@24) into $node_home"
    as_root mkdir -p "$node_home"
    as_root npm install --prefix "$node_home" --no-save --no-audit --no-fund "node-linux-$arch@24"
  fi
  as_root ln -sf "$node_bin" /usr/local/bin/node
  hash -r
  export PATH="/usr/local/bin:$PATH"
fi
say "node $(node --version) at $(command -v node)"

# 3. Native addons compile against the headers of the Node that runs them, never a download.
node_prefix=$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")
if [ -f "$node_prefix/include/node/node.h" ]; then export npm_config_nodedir="$node_prefix"; fi

# 4. Dependencies (skipped when package-lock.json and the Node version are unchanged), then build.
stamp="node_modules/.daemoneye-setup"
want="$(sha256sum package-lock.json | cut -d' ' -f1) $(node --version)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  say "installing dependencies (npm ci; builds better-sqlite3 from source, about a minute)"
  npm ci --no-audit --no-fund
  echo "$want" > "$stamp"
fi
say "building"
npm run --silent build

# 5. The native addons (eBPF sensor, pcap capture, XDP flows). Linux only; rebuilt when any of their
#    sources change (every file under native/ except build output).
if [ "$(uname -s)" = Linux ]; then
  native_stamp="native/build/.daemoneye-setup"
  native_want="$( (find native -path '*/build' -prune -o -type f -print | LC_ALL=C sort | xargs cat; cat scripts/build-native.sh) | sha256sum | cut -d' ' -f1) $(node --version)"
  if [ ! -f native/build/Release/daemoneye_bpf.node ] || [ ! -f native/pcap/build/Release/daemoneye_pcap.node ] \
     || [ ! -f "$native_stamp" ] || [ "$(cat "$native_stamp")" != "$native_want" ]; then
    say "building the eBPF kernel sensor (native/)"
    npm run --silent build:native
    echo "$native_want" > "$native_stamp"
  fi
fi

# 6. `daemoneye` on PATH.
if [ "$(id -u)" -eq 0 ]; then
  ln -sf "$root_dir/bin/daemoneye" /usr/local/bin/daemoneye
  say "daemoneye -> /usr/local/bin/daemoneye"
else
  mkdir -p "$HOME/.local/bin"
  ln -sf "$root_dir/bin/daemoneye" "$HOME/.local/bin/daemoneye"
  say "daemoneye -> $HOME/.local/bin/daemoneye (make sure it is on your PATH)"
fi
say "done: try \`daemoneye doctor\`, then \`daemoneye run\`"
