# The ETW consumer addon: Windows only. Build it on Windows with
#   cd native/etw && npx node-gyp rebuild
# (MSVC or clang-cl; Windows SDK for evntrace.h/tdh.h). scripts/build-native.sh builds native/ only
# and never this folder. On Linux, test/platform-etw-compile.test.ts cross-compiles the same C with
# MinGW-w64 against the real Windows headers (compile only, warnings as errors).
{
  "targets": [
    {
      "target_name": "daemoneye_etw",
      "conditions": [
        ["OS=='win'", {
          "sources": ["src/etw_addon.c", "src/etw_session.c", "src/etw_decode.c"],
          "defines": ["UNICODE", "_UNICODE", "WIN32_LEAN_AND_MEAN", "NAPI_VERSION=8"],
          "libraries": ["advapi32.lib", "tdh.lib", "ntdll.lib"],
          "msvs_settings": { "VCCLCompilerTool": { "WarningLevel": 3, "CompileAs": 1 } }
        }, {
          "type": "none"
        }]
      ]
    }
  ]
}
