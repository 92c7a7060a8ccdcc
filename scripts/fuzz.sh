#!/usr/bin/env bash
# Builds the libFuzzer targets of Fuzz/ and runs each for a time or a number of executions,
# then prints the executions and crashes of every target.
#
#   scripts/fuzz.sh [--smoke] [--no-build] [--keep-going] [--workers=N] [BUDGET] [TARGET...]
#
#   BUDGET    seconds per target (60, 60s, 10m) or executions per target (1000000runs);
#             default 60 seconds; --smoke means 1000 executions.
#   TARGET    target names (scripts/fuzz.sh --list); default: all of them.
#   --smoke       1000 executions per target from a fixed seed (-seed=1), for CI: the same
#                 inputs on every run of a fresh clone, so a smoke failure reproduces.
#   --no-build    use the fuzzers already built in Fuzz/.build.
#   --keep-going  after a crash, timeout or out-of-memory, start the target again with what is
#                 left of its budget (up to 100 times), for long unattended runs; every failing
#                 input is kept.
#   --workers=N   run N fuzzer processes per target on its one corpus (one a core): an
#                 execution budget is shared out between them, a time budget applies to each.
#   --list        print the target names and exit.
#
# Environment:
#   FUZZ_SANITIZERS  sanitizers to build with (default "fuzzer address"; falls back to "fuzzer"
#                    when the toolchain cannot build with AddressSanitizer). "fuzzer" alone runs
#                    the string-heavy targets (tokenizer-text) about ten times faster.
#   FUZZ_FLAGS       extra libFuzzer flags for every target (e.g. "-jobs=2 -workers=2").
#   FINETUNE_MODELS, FINETUNE_SHARED   where the tokenizer-text target finds the real tokenizers.
#
# Each target keeps a growing corpus in Fuzz/corpus/<target>/ (seeded from Fuzz/Seeds/<target>/)
# and writes every failing input to Fuzz/crashes/<target>/ (crash-*, timeout-*, oom-*), which
# the target binary replays: Fuzz/.build/release/Fuzz<Name> Fuzz/crashes/<target>/crash-...
# Inputs run under -rss_limit_mb=2048 -malloc_limit_mb=2048 -timeout=1: an input that takes more
# than a second, or allocates absurdly, counts as a crash.
# The exit status is 1 when any target found a failing input in this run.
set -euo pipefail

repository=$(cd "$(dirname "$0")/.." && pwd)
fuzz="$repository/Fuzz"
# The default build (libFuzzer and AddressSanitizer) lives in Fuzz/.build; another set of
# sanitizers (FUZZ_SANITIZERS) gets its own folder, Fuzz/.build-<sanitizers>.
sanitizers=${FUZZ_SANITIZERS:-fuzzer address}
if [[ "$sanitizers" == "fuzzer address" ]]; then scratch="$fuzz/.build"; else scratch="$fuzz/.build-${sanitizers// /-}"; fi

# target name, executable, largest input in bytes, dictionary.
targets=(
    "safetensors FuzzSafeTensors 65536 json.dict"
    "gguf FuzzGGUF 65536 -"
    "wordpiece-tokenizer FuzzWordPieceTokenizer 65536 json.dict"
    "bpe-tokenizer FuzzBytePairTokenizer 65536 json.dict"
    "encoder-config FuzzEncoderConfig 16384 json.dict"
    "decoder-config FuzzDecoderConfig 16384 json.dict"
    "adapter-config FuzzAdapterConfig 16384 json.dict"
    "jsonl-dataset FuzzJSONLinesDataset 16384 json.dict"
    "csv-dataset FuzzCSVDataset 16384 -"
    "preference-data FuzzPreferenceData 16384 json.dict"
    "chat-template FuzzChatTemplate 16384 chat-template.dict"
    "run-config FuzzRunConfig 16384 run-config.dict"
    "tokenizer-text FuzzTokenizerText 1024 -"
)

usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; }

smoke=0 build=1 keep_going=0 workers=1 budget="" selected=()
for argument in "$@"; do
    case "$argument" in
        --smoke) smoke=1 ;;
        --no-build) build=0 ;;
        --keep-going) keep_going=1 ;;
        --workers=*) workers=${argument#--workers=} ;;
        --list) for target in "${targets[@]}"; do echo "${target%% *}"; done; exit 0 ;;
        -h|--help) usage; exit 0 ;;
        -*) echo "fuzz.sh: unknown option $argument" >&2; usage >&2; exit 2 ;;
        [0-9]*) budget=$argument ;;
        *) selected+=("$argument") ;;
    esac
done
[[ -z "$budget" ]] && budget=$([[ $smoke -eq 1 ]] && echo 1000runs || echo 60)

# The budget as libFuzzer flags.
case "$budget" in
    *runs) budget_flags=(-runs="${budget%runs}") budget_text="${budget%runs} executions" ;;
    *m) budget_flags=(-max_total_time=$((${budget%m} * 60))) budget_text="${budget%m} minutes" ;;
    *s) budget_flags=(-max_total_time="${budget%s}") budget_text="${budget%s} seconds" ;;
    *) budget_flags=(-max_total_time="$budget") budget_text="$budget seconds" ;;
esac
if ! [[ "$workers" =~ ^[1-9][0-9]*$ ]]; then
    echo "fuzz.sh: --workers takes a positive number, not $workers" >&2
    exit 2
fi
if ! [[ "${budget%runs}" =~ ^[0-9]+[sm]?$ ]]; then
    echo "fuzz.sh: the budget must be seconds (60, 60s, 10m) or executions (1000000runs), not $budget" >&2
    exit 2
fi

# Check the selected names.
run_list=()
for target in "${targets[@]}"; do
    name=${target%% *}
    if [[ ${#selected[@]} -eq 0 ]]; then run_list+=("$target"); continue; fi
    for wanted in "${selected[@]}"; do [[ "$wanted" == "$name" ]] && run_list+=("$target"); done
done
for wanted in "${selected[@]}"; do
    if ! printf '%s\n' "${targets[@]}" | grep -q "^$wanted "; then
        echo "fuzz.sh: no target $wanted (scripts/fuzz.sh --list)" >&2
        exit 2
    fi
done

if [[ $build -eq 1 ]]; then
    build_with() {
        local flags=()
        for sanitizer in $1; do flags+=(--sanitize="$sanitizer"); done
        echo "== building the fuzz targets (release, sanitizers: $1)"
        swift build -c release --package-path "$fuzz" --scratch-path "$scratch" "${flags[@]}"
    }
    if ! build_with "$sanitizers"; then
        [[ "$sanitizers" == "fuzzer" ]] && exit 1
        echo "== the build with \"$sanitizers\" failed; building with libFuzzer alone" >&2
        scratch="$fuzz/.build-fuzzer"
        build_with fuzzer
    fi
fi

failed=0
summary=()
for target in "${run_list[@]}"; do
    read -r name executable max_length dictionary <<<"$target"
    binary="$scratch/release/$executable"
    if [[ ! -x "$binary" ]]; then
        echo "fuzz.sh: $binary is not built (run without --no-build)" >&2
        exit 1
    fi
    corpus="$fuzz/corpus/$name" crashes="$fuzz/crashes/$name"
    mkdir -p "$corpus" "$crashes"
    flags=(
        -rss_limit_mb=2048 -malloc_limit_mb=2048 -timeout=1 -max_len="$max_length"
        -detect_leaks=0 -print_final_stats=1 -artifact_prefix="$crashes/"
    )
    [[ "$dictionary" != "-" ]] && flags+=(-dict="$fuzz/Dictionaries/$dictionary")
    [[ $smoke -eq 1 ]] && flags+=(-seed=1)
    # shellcheck disable=SC2206
    [[ -n "${FUZZ_FLAGS:-}" ]] && flags+=($FUZZ_FLAGS)
    log="$crashes/last-run.log"
    : >"$log"
    count_failing() {
        find "$crashes" -maxdepth 1 -type f \( -name 'crash-*' -o -name 'timeout-*' -o -name 'oom-*' -o -name 'leak-*' \) | wc -l
    }
    # libFuzzer's timeout is wall-clock: on a busy machine a starved process times out on inputs
    # that take milliseconds. Each new timeout input is run again alone; one that finishes within
    # half the limit is moved to unconfirmed/ (kept, not counted) with what the replay measured.
    recheck_timeouts() {
        local input replay milliseconds
        unconfirmed_now=0
        for input in "$crashes"/timeout-*; do
            [[ -f "$input" ]] || continue
            replay=$(SWIFT_BACKTRACE=enable=no ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0} \
                "$binary" -runs=1 -timeout=60 -rss_limit_mb=2048 -malloc_limit_mb=2048 "$input" 2>&1 || true)
            milliseconds=$(grep -o 'Executed .* in [0-9]* ms' <<<"$replay" | grep -o '[0-9]* ms' | grep -o '[0-9]*' || true)
            if [[ -n "$milliseconds" && $milliseconds -lt 500 ]]; then
                mkdir -p "$crashes/unconfirmed"
                mv "$input" "$crashes/unconfirmed/" 2>/dev/null || continue  # another worker moved it
                unconfirmed_now=$((unconfirmed_now + 1))
                echo "   $(basename "$input"): took ${milliseconds} ms when run again alone; the machine was busy (kept in unconfirmed/)"
            fi
        done
    }
    echo "== $name: $budget_text$([[ $workers -gt 1 ]] && echo ", $workers workers") (log: ${log#"$repository"/})"
    recheck_timeouts  # those left by earlier runs too
    before=$(count_failing)
    # One fuzzer process: libFuzzer stops at the first failing input; with --keep-going it is
    # started again with what is left of its share of the budget (at most 100 times). Writes
    # "executions broken" to $2.
    fuzz_worker() {
        local worker_log=$1 result=$2 share=$3
        local started=$SECONDS executions=0 broken=0 attempt left status done_now failing_before
        local attempt_flags=()
        for attempt in $(seq 1 100); do
            case "$budget" in
                *runs) left=$((share - executions)); attempt_flags=(-runs="$left") ;;
                *) left=$((${budget_flags[0]#-max_total_time=} - (SECONDS - started))); attempt_flags=(-max_total_time="$left") ;;
            esac
            [[ $left -le 0 ]] && break
            failing_before=$(count_failing)
            status=0
            # The Swift runtime's crash reporter and AddressSanitizer get in each other's way: let
            # libFuzzer report traps.
            SWIFT_BACKTRACE=enable=no ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0} \
                "$binary" "${attempt_flags[@]}" "${flags[@]}" "$corpus" "$fuzz/Seeds/$name" >"$worker_log.attempt" 2>&1 || status=$?
            cat "$worker_log.attempt" >>"$worker_log"
            done_now=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$worker_log.attempt" | tail -1 | grep -o '[0-9]*$' || true)
            executions=$((executions + ${done_now:-0}))
            rm -f "$worker_log.attempt"
            [[ $status -eq 0 ]] && break
            recheck_timeouts
            if [[ $(count_failing) -eq $failing_before && $unconfirmed_now -gt 0 ]]; then
                [[ $keep_going -eq 1 ]] && continue
                break
            fi
            if [[ $(count_failing) -eq $failing_before ]]; then
                # libFuzzer stopped without leaving an input: a broken harness or build; show why.
                tail -20 "$worker_log" >&2
                broken=1
                break
            fi
            [[ $keep_going -eq 1 ]] || break
            echo "   failing input kept; going on"
        done
        echo "$executions $broken" >"$result"
    }
    total=0
    [[ "$budget" == *runs ]] && total=${budget%runs}
    if [[ $workers -eq 1 ]]; then
        fuzz_worker "$log" "$log.result" "$total"
    else
        for worker in $(seq 1 "$workers"); do
            share=$((total / workers + (worker <= total % workers ? 1 : 0)))
            fuzz_worker "$log.worker$worker" "$log.result$worker" "$share" &
        done
        wait
        for worker in $(seq 1 "$workers"); do
            { echo "==== worker $worker"; cat "$log.worker$worker"; } >>"$log"
            rm -f "$log.worker$worker"
            cat "$log.result$worker" >>"$log.result"
            rm -f "$log.result$worker"
        done
    fi
    executions=$(awk '{ sum += $1 } END { print sum + 0 }' "$log.result")
    broken=$(awk '{ if ($2 > 0) broken = 1 } END { print broken + 0 }' "$log.result")
    rm -f "$log.result"
    after=$(count_failing)
    found=$((after - before + broken))
    [[ $found -gt 0 ]] && failed=1
    summary+=("$(printf '%-20s %12s %8s %8s' "$name" "$executions" "$found" "$after")")
    echo "   executions $executions, failing inputs found $found"
done

echo
printf '%-20s %12s %8s %8s\n' target executions found kept
printf '%s\n' "${summary[@]}"
if [[ $failed -ne 0 ]]; then
    echo "failing inputs were found: see Fuzz/crashes/<target>/ and replay with Fuzz/.build/release/Fuzz<Name> <file>" >&2
fi
exit $failed
