#!/usr/bin/env bash
# GPU smoke test: ViT-B-16 (random init) through evaluate and one method in bf16.
# Usage: bash measurements/gpu_smoke.sh [extra gpu_smoke.py options]
# Needs a CUDA GPU and the harness plus salmu-baselines installed in the active Python.
set -euo pipefail
if ! command -v nvidia-smi >/dev/null 2>&1; then
  echo "no nvidia-smi: this script is for a machine with a CUDA GPU" >&2
  exit 2
fi
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
PYTHON="${PYTHON:-python}"
exec "$PYTHON" "$(dirname "$0")/gpu_smoke.py" "$@"
