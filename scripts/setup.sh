#!/usr/bin/env bash
# One entry point for a fresh Debian 12 machine (run as root):
#   scripts/setup.sh main   install what is missing, build, run the main job
#   scripts/setup.sh test   install what is missing, build, run every test
#   scripts/setup.sh build  install and build only
# Environment: BUILD_DIR (default build), JOBS (default: nproc).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BUILD_DIR=${BUILD_DIR:-build}
JOBS=${JOBS:-$(nproc)}
what=${1:-main}

say() { printf '[setup] %s\n' "$*" >&2; }

# ------------------------------------------------------------ packages ------
PKGS=(build-essential cmake ninja-build pkg-config git
      libopenblas-dev liblapacke-dev nlohmann-json3-dev libcli11-dev
      libsentencepiece-dev libgtest-dev libgmock-dev libbenchmark-dev
      clang libclang-rt-14-dev python3 python3-venv)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  say "installing: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# CUDA 13 is expected under /usr/local/cuda (nvcc, cuBLAS); without it the
# kernels are skipped and everything else still builds.
[ -x /usr/local/cuda/bin/nvcc ] && export PATH=/usr/local/cuda/bin:$PATH

# ---------------------------------------------------------------- build -----
if [ ! -f "$BUILD_DIR/build.ninja" ]; then
  cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
fi
say "building in $BUILD_DIR with $JOBS jobs"
cmake --build "$BUILD_DIR" -j "$JOBS"

# ------------------------------------------------------------------ run -----
case "$what" in
  build) ;;
  main)
    # The main job: MR-GPTQ (MXFP4, W4A4) on the default model, with the
    # perplexity before and after on held-out text.
    SHARED=${SHARED:-$ROOT/../shared}
    mkdir -p out
    "$BUILD_DIR/mrgptq" quantize --model "$SHARED/models/stories260K" --format mxfp4 --method mr-gptq \
      --calib "$SHARED/data/tinystories-calib.txt" --eval "$SHARED/data/tinystories-eval.txt" \
      --out out/stories260K-mxfp4-mr-gptq --force
    ;;
  test)
    ctest --test-dir "$BUILD_DIR" --output-on-failure -j "$JOBS" --timeout 1500
    ;;
  *) say "unknown action '$what' (main | test | build)"; exit 2 ;;
esac
