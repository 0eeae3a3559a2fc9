#!/usr/bin/env bash
# Creates .venv and installs procure-ai into it. `--test` adds what the tests need.
# torch 2.13.0 (CPU) goes in first: a bare `torch` requirement would pull a multi-GB CUDA build.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3.11}
command -v "$PYTHON" >/dev/null || PYTHON=python3
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip 2>&1 | grep -v "^WARNING: Location" || true
.venv/bin/pip install -q "torch==2.13.0" 2>&1 | grep -v "^WARNING: Location" || true
extra=""
links=()
if [ "${1:-}" = "--test" ]; then
  extra="[test]"
  # llama-cpp-python builds from source. A native build uses AMX/AVX-512 kernels that crash
  # (general protection fault) on virtual machines that advertise but do not allow them, so
  # build a portable AVX2 wheel once and keep it in a cache folder of our own.
  wheels=${PROCURE_AI_WHEELS:-$HOME/.cache/procure-ai/wheels}
  mkdir -p "$wheels"
  if ! ls "$wheels"/llama_cpp_python-0.3.36-*.whl >/dev/null 2>&1; then
    echo "building llama-cpp-python (portable, about 10 minutes, once)"
    CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_AVX512=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_TILE=OFF -DGGML_AMX_BF16=OFF" \
      .venv/bin/pip wheel -q --no-cache-dir --no-deps -w "$wheels" "llama-cpp-python==0.3.36" 2>&1 | grep -v "^WARNING: Location" || true
  fi
  links=(--find-links "$wheels")
fi
.venv/bin/pip install -q "${links[@]}" -e ".${extra}" 2>&1 | grep -v "^WARNING: Location" || true
.venv/bin/python -c "import assistant, ingest, index, corpus, evals" # fails loudly if the install did not take
echo "procure-ai installed in .venv${extra:+ (with test extras)}"
