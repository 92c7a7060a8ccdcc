#!/usr/bin/env bash
# Proves that a training run killed at random moments and resumed ends bit-identical to a run
# that was never interrupted.
#
#   scripts/kill-resume.sh [--kills N] [--seed N] [--no-build] [--keep] [--work-dir DIR]
#
# It trains examples/kill-resume.yaml (MiniLM, LoRA with dropout, a 96-row slice of the
# rt-polarity training data, a 32-row validation slice, checkpoints every 2 steps) twice with
# .build/release/finetune:
#   1. once straight through (the reference);
#   2. once with SIGKILL at random moments, at least N times (default 20), restarting after
#      each kill with --resume-from-checkpoint latest (or from scratch while no checkpoint
#      exists yet) until the run finishes.
# Kill times are drawn from the whole run, model loading and checkpoint writing included, and
# shrink as the run advances so that the kills spread over all of it.
# Then it compares, byte for byte: adapter_model.safetensors, adapter_config.json,
# trainer_state.json (with the output folder's path replaced, so log history, best metric and
# best checkpoint all count; only each evaluation's wall-clock eval_runtime is left out) and
# the run record; and in the last checkpoint the adapter, the optimizer state, the random state
# and the trainer state. No half-written checkpoint folder may be left behind. It prints the
# kills survived and the verdict, and exits 1 on any difference.
#
#   --kills N       how many SIGKILLs at least (default 20).
#   --seed N        seeds the kill times (default: from the clock), printed for a replay.
#   --no-build      use .build/release/finetune as it is.
#   --keep          keep the work folder (default: removed when the runs are identical).
#   --work-dir DIR  where the slices and both runs go (default: runs/kill-resume-<time>).
#
# Environment: FINETUNE_MODELS (default models/) holds all-MiniLM-L6-v2; FINETUNE_SHARED
# (default ../shared) holds bench/data/rt_train.jsonl and rt_validation.jsonl.
set -euo pipefail

repository=$(cd "$(dirname "$0")/.." && pwd)
cd "$repository"

wanted_kills=20 seed="" build=1 keep=0 work=""
while [[ $# -gt 0 ]]; do
    case "$1" in
        --kills) wanted_kills=$2; shift 2 ;;
        --seed) seed=$2; shift 2 ;;
        --no-build) build=0; shift ;;
        --keep) keep=1; shift ;;
        --work-dir) work=$2; shift 2 ;;
        -h|--help) sed -n '2,30p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "kill-resume.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done
seed=${seed:-$(( $(date +%s) % 100000 ))}
RANDOM=$seed

models=${FINETUNE_MODELS:-$repository/models}
shared=${FINETUNE_SHARED:-$repository/../shared}
model="$models/all-MiniLM-L6-v2"
config="$repository/examples/kill-resume.yaml"
binary="$repository/.build/release/finetune"
for needed in "$model/config.json" "$shared/bench/data/rt_train.jsonl" "$shared/bench/data/rt_validation.jsonl"; do
    [[ -f "$needed" ]] || { echo "kill-resume.sh: $needed is missing (set FINETUNE_MODELS / FINETUNE_SHARED)" >&2; exit 1; }
done

if [[ $build -eq 1 ]]; then
    echo "== building finetune (release)"
    swift build -c release --product finetune
fi
[[ -x "$binary" ]] || { echo "kill-resume.sh: $binary is not built" >&2; exit 1; }

work=${work:-$repository/runs/kill-resume-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$work"
work=$(cd "$work" && pwd)
head -n 96 "$shared/bench/data/rt_train.jsonl" >"$work/train.jsonl"
head -n 32 "$shared/bench/data/rt_validation.jsonl" >"$work/validation.jsonl"
reference="$work/reference" interrupted="$work/interrupted"
rm -rf "$reference" "$interrupted"

now_ms() { date +%s%3N; }

# Starts one training process into output folder $1 (more flags after it); sets `pid`.
start_run() {
    local output=$1
    shift
    "$binary" train --config "$config" --model "$model" --train-file "$work/train.jsonl" \
        --validation-file "$work/validation.jsonl" --output-dir "$output" "$@" >>"$output.log" 2>&1 &
    pid=$!
}

# The step of the newest complete checkpoint in $1, or 0.
latest_step() {
    local newest=0 folder step
    for folder in "$1"/checkpoint-*; do
        [[ -d "$folder" ]] || continue
        step=${folder##*checkpoint-}
        [[ "$step" =~ ^[0-9]+$ ]] && ((step > newest)) && newest=$step
    done
    echo "$newest"
}

echo "== reference run (uninterrupted) into ${reference#"$repository"/}"
mkdir -p "$reference"
started=$(now_ms)
start_run "$reference"
startup_ms=""
while kill -0 "$pid" 2>/dev/null; do
    if [[ -z "$startup_ms" ]] && grep -q '^training ' "$reference.log" 2>/dev/null; then
        startup_ms=$(($(now_ms) - started))
    fi
    sleep 0.02
done
wait "$pid" || { echo "kill-resume.sh: the reference run failed:" >&2; tail -20 "$reference.log" >&2; exit 1; }
total_ms=$(($(now_ms) - started))
startup_ms=${startup_ms:-$((total_ms / 4))}
training_ms=$((total_ms - startup_ms))
total_steps=$(jq '.max_steps' "$reference/trainer_state.json")
echo "   ${total_ms} ms: ${startup_ms} ms to start, ${training_ms} ms for ${total_steps} steps"

echo "== interrupted run into ${interrupted#"$repository"/}: at least $wanted_kills SIGKILLs (kill seed $seed)"
mkdir -p "$interrupted"
kills=0 kills_while_training=0 kills_leaving_partial_checkpoint=0 restarts_from_scratch=0 attempts=0
while true; do
    attempts=$((attempts + 1))
    resume=()
    if [[ $(latest_step "$interrupted") -gt 0 ]]; then
        resume=(--resume-from-checkpoint latest)
    elif [[ $attempts -gt 1 ]]; then
        restarts_from_scratch=$((restarts_from_scratch + 1))
    fi
    echo "-- attempt $attempts (${resume[*]:-from scratch})" >>"$interrupted.log"
    log_lines_before=$(wc -l <"$interrupted.log")
    start_run "$interrupted" "${resume[@]}"
    if [[ $kills -lt $wanted_kills ]]; then
        # The first kill and every fourth after it land while the process starts (loading the
        # model, restoring the checkpoint; the first one before any checkpoint exists); the
        # others uniformly in [20 ms, start-up + twice this kill's share of the training left].
        done_step=$(latest_step "$interrupted")
        left_ms=$((training_ms * (total_steps - done_step) / total_steps))
        upper_ms=$((startup_ms + 2 * left_ms / (wanted_kills - kills) + 100))
        ((kills % 4 == 0)) && upper_ms=$((startup_ms + 50))
        delay_ms=$((20 + (RANDOM * 32768 + RANDOM) % (upper_ms - 20)))
        partial_before=$(find "$interrupted" -maxdepth 1 -name '.checkpoint-*.tmp-*' | wc -l)
        sleep "$(printf '%d.%03d' $((delay_ms / 1000)) $((delay_ms % 1000)))"
        kill -KILL "$pid" 2>/dev/null || true
        status=0
        wait "$pid" 2>/dev/null || status=$?
        if [[ $status -eq 137 ]]; then
            kills=$((kills + 1))
            if tail -n +"$((log_lines_before + 1))" "$interrupted.log" | grep -q '^training '; then
                kills_while_training=$((kills_while_training + 1))
            fi
            # A checkpoint folder being written is hidden until complete; the kill leaves it behind.
            partial_after=$(find "$interrupted" -maxdepth 1 -name '.checkpoint-*.tmp-*' | wc -l)
            ((partial_after > partial_before)) && kills_leaving_partial_checkpoint=$((kills_leaving_partial_checkpoint + 1))
            printf '   kill %2d after %5d ms (newest checkpoint: step %s)\n' "$kills" "$delay_ms" "$(latest_step "$interrupted")"
            continue
        fi
    else
        status=0
        wait "$pid" || status=$?
    fi
    if [[ $status -ne 0 ]]; then
        echo "kill-resume.sh: a run failed with status $status (attempt $attempts):" >&2
        tail -20 "$interrupted.log" >&2
        exit 1
    fi
    [[ $kills -ge $wanted_kills ]] && break
    # It finished before enough kills: not a failure of resuming, but the check is not done.
    echo "kill-resume.sh: the run finished after only $kills kills; rerun with another --seed" >&2
    exit 1
done

echo "== comparing"
differences=0
# File $2 of a run whose output folder is $1, with that folder's path replaced by OUTPUT and,
# in a trainer state, each evaluation's wall-clock eval_runtime removed (it differs between any
# two runs, interrupted or not).
normalized() {
    if [[ "$(basename "$2")" == trainer_state.json ]]; then
        sed "s#$1#OUTPUT#g" "$2" | jq -S 'del(.log_history[].metrics.eval_runtime)'
    else
        sed "s#$1#OUTPUT#g" "$2"
    fi
}

# Compares file $1 of both runs, normalized.
compare() {
    local relative=$1 left="$reference/$1" right="$interrupted/$1"
    if [[ ! -f "$left" || ! -f "$right" ]]; then
        echo "   DIFFERENT  $relative (missing in one run)"
        differences=$((differences + 1))
        return
    fi
    if cmp -s <(normalized "$reference" "$left") <(normalized "$interrupted" "$right"); then
        echo "   identical  $relative"
    else
        echo "   DIFFERENT  $relative"
        differences=$((differences + 1))
    fi
}
compare adapter_model.safetensors
compare adapter_config.json
compare trainer_state.json
for record in "$reference"/*.json; do
    name=$(basename "$record")
    [[ "$name" == adapter_config.json || "$name" == trainer_state.json ]] && continue
    compare "$name"
done
final_checkpoint="checkpoint-$total_steps"
for name in adapter_model.safetensors optimizer.safetensors rng_state.json trainer_state.json; do
    compare "$final_checkpoint/$name"
done
history_length=$(jq '.log_history | length' "$reference/trainer_state.json")
if diff <(jq -S 'del(.log_history[].metrics.eval_runtime) | .log_history' "$reference/trainer_state.json") \
        <(jq -S 'del(.log_history[].metrics.eval_runtime) | .log_history' "$interrupted/trainer_state.json") >/dev/null; then
    echo "   identical  trainer_state.json log history ($history_length evaluations: losses, metrics, steps, epochs)"
else
    echo "   DIFFERENT  trainer_state.json log history"
    differences=$((differences + 1))
fi
abandoned=$(find "$interrupted" -maxdepth 1 -name '.checkpoint-*' | wc -l)
if [[ $abandoned -ne 0 ]]; then
    echo "   DIFFERENT  $abandoned half-written checkpoint folders left in the interrupted run"
    differences=$((differences + 1))
fi

echo
echo "kills survived: $kills ($kills_while_training after training had started, $kills_leaving_partial_checkpoint during a checkpoint write, $restarts_from_scratch restarts from scratch), $attempts processes"
if [[ $differences -eq 0 ]]; then
    echo "verdict: IDENTICAL: the interrupted run ends bit-identical to the uninterrupted one"
    [[ $keep -eq 0 ]] && rm -rf "$work"
    exit 0
fi
echo "verdict: DIFFERENT: $differences files differ; both runs are kept in ${work#"$repository"/}"
exit 1
