#!/usr/bin/env bash
# Speed and memory of this toolkit against the reference stack (PyTorch + transformers + PEFT) on
# the same machine in the same run: the two run alternately (A B A B …), and the ratios of each
# pair and their medians are printed.
#
#   bench/compare.sh JOB [PAIRS]     JOB: seqcls_lora | seqcls_lora_imdb | seqcls_full | seqcls_head
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
  *) echo "unknown job $JOB" >&2; exit 2 ;;
esac

swift build -c release --product finetune >/dev/null
FINETUNE=.build/release/finetune

HAVE_REFERENCE=0
if [ -x "$VENV/bin/python" ] && "$VENV/bin/python" -c "import torch, transformers, peft" 2>/dev/null; then
  HAVE_REFERENCE=1
else
  echo "the reference stack is not installed in $VENV: running this toolkit only" >&2
  echo "(install it with: VENV=$VENV bash $SHARED/bench/run.sh setup)" >&2
fi

for pair in $(seq 1 "$PAIRS"); do
  if [ "$HAVE_REFERENCE" = 1 ]; then
    echo "pair $pair: reference $JOB" >&2
    HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 BENCH_ABORT_ON_CONTENTION=0 RT_POLARITY_DIR="$SHARED/bench/data" \
      IMDB_DIR="$SHARED/data/imdb" "$VENV/bin/python" "$SHARED/bench/seq_cls_lora.py" "${REFERENCE_ARGS[@]}" \
      --epochs 1 --json-out "$OUT/reference-$pair.json" > "$OUT/reference-$pair.log" 2>&1
  fi
  echo "pair $pair: finetune $JOB" >&2
  "$FINETUNE" bench --job "$JOB" --shared "$SHARED" > "$OUT/finetune-$pair.json"
done

python3 - "$OUT" "$PAIRS" "$HAVE_REFERENCE" "$JOB" <<'PY'
import json, statistics, sys
out, pairs, have_reference, job = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "1", sys.argv[4]
rows = []
for pair in range(1, pairs + 1):
    ours = json.loads(open(f"{out}/finetune-{pair}.json").read().strip().splitlines()[-1])
    row = {"pair": pair, "tok/s": ours["train_tokens_per_s"], "peak MiB": ours["peak_rss_mib"],
           "step GFLOP/s": ours["step_gflops"], "sgemm GFLOP/s": ours["sgemm_gflops"]}
    if have_reference:
        ref = json.load(open(f"{out}/reference-{pair}.json"))
        working = ref["peak_rss_mib"] - ref["rss_mib"]["after_import_mib"]
        row.update({"ref tok/s": ref["train_tokens_per_s_nonpad"], "ref working MiB": working,
                    "speed ratio": ours["train_tokens_per_s"] / ref["train_tokens_per_s_nonpad"],
                    "memory ratio": ours["peak_rss_mib"] / working})
    rows.append(row)
keys = list(rows[0].keys())
print(f"job {job}")
print(" | ".join(keys))
for row in rows:
    print(" | ".join(f"{row[k]:.3f}" if isinstance(row[k], float) else str(row[k]) for k in keys))
for key in ["speed ratio", "memory ratio", "tok/s", "peak MiB"]:
    if key in keys:
        print(f"median {key}: {statistics.median(r[key] for r in rows):.3f}")
print("median step GFLOP/s / sgemm GFLOP/s: "
      f"{statistics.median(r['step GFLOP/s'] / r['sgemm GFLOP/s'] for r in rows):.3f}")
PY
