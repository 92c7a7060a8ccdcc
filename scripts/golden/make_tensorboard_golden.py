#!/usr/bin/env python3
"""TensorBoard event files written by PyTorch, for the Reporting tests, and a checker.

    make_tensorboard_golden.py [OUT_DIR]   writes the golden files (default: Tests/ReportingTests/Golden)
    make_tensorboard_golden.py --check DIR prints the scalars TensorBoard reads from DIR as JSON

The golden files hold the scalars of SCALARS below at steps 1..3, through
torch.utils.tensorboard.SummaryWriter.add_scalar:
  pytorch-simple-value.tfevents  the default (Summary.Value.simple_value, a float)
  pytorch-tensor.tfevents        new_style=True (a DT_FLOAT tensor's float_val); eval/accuracy with
                                 double_precision=True (a DT_DOUBLE tensor's double_val), and
                                 eval/loss as a DT_FLOAT tensor's tensor_content, as other writers do
Scalar records get wall time 1700000000 + step; the first record's wall time is the writing time
(SummaryWriter does not let it be set). Run with the reference venv's python
(~/.venvs/finetune-reference/bin/python); the tests read the files without Python.
"""
import json
import os
import shutil
import struct
import sys
import tempfile

# tag -> values at steps 1, 2, 3 (the tests repeat this table).
SCALARS = {
    "train/loss": [0.6931, 0.5123, 0.3877],
    "train/learning_rate": [1e-3, 6.667e-4, 3.333e-4],
    "train/grad_norm": [1.5, 1.25, 0.875],
    "eval/accuracy": [0.5, 0.75, 0.8125],
}
TENSOR_CONTENT_SCALARS = {"eval/loss": [0.7, 0.6, 0.55]}
WALL_TIME_ORIGIN = 1_700_000_000.0


def write_file(out_dir, name, write):
    """Runs `write(writer)` on a SummaryWriter in a scratch folder and moves its one event file
    to OUT_DIR/NAME (torch names files after the time, host and process)."""
    from torch.utils.tensorboard import SummaryWriter

    scratch = tempfile.mkdtemp()
    try:
        writer = SummaryWriter(log_dir=scratch)
        write(writer)
        writer.close()
        (written,) = [f for f in os.listdir(scratch) if "tfevents" in f]
        shutil.move(os.path.join(scratch, written), os.path.join(out_dir, name))
    finally:
        shutil.rmtree(scratch)


def write_simple_values(writer):
    for step in (1, 2, 3):
        for tag, values in SCALARS.items():
            writer.add_scalar(tag, values[step - 1], global_step=step, walltime=WALL_TIME_ORIGIN + step)


def write_tensors(writer):
    from tensorboard.compat.proto.summary_pb2 import Summary
    from tensorboard.compat.proto.tensor_pb2 import TensorProto

    for step in (1, 2, 3):
        for tag, values in SCALARS.items():
            double = tag == "eval/accuracy"
            writer.add_scalar(tag, values[step - 1], global_step=step, walltime=WALL_TIME_ORIGIN + step,
                              new_style=True, double_precision=double)
        for tag, values in TENSOR_CONTENT_SCALARS.items():
            tensor = TensorProto(dtype="DT_FLOAT", tensor_content=struct.pack("<f", values[step - 1]))
            summary = Summary(value=[Summary.Value(tag=tag, tensor=tensor)])
            writer._get_file_writer().add_summary(summary, step, WALL_TIME_ORIGIN + step)


def check(directory):
    """The scalars TensorBoard's EventAccumulator loads from DIRECTORY: tag -> [[step, value, wall_time]]."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator, TENSORS, SCALARS as SCALAR_KIND
    from tensorboard.util import tensor_util

    accumulator = EventAccumulator(directory, size_guidance={SCALAR_KIND: 0, TENSORS: 0})
    accumulator.Reload()
    tags = accumulator.Tags()
    scalars = {tag: [[e.step, e.value, e.wall_time] for e in accumulator.Scalars(tag)] for tag in tags["scalars"]}
    tensors = {tag: [[e.step, tensor_util.make_ndarray(e.tensor_proto).item(), e.wall_time] for e in accumulator.Tensors(tag)]
               for tag in tags["tensors"]}
    return {"file_version": accumulator.file_version, "scalars": scalars, "tensors": tensors}


def one_tag_a_line(report):
    """REPORT as JSON, with each tag's points on one line."""
    def group(name):
        rows = [f"  {json.dumps(tag)}: {json.dumps(points)}" for tag, points in sorted(report[name].items())]
        return f' "{name}": {{' + ("\n" + ",\n".join(rows) + "\n }" if rows else "}")
    return "{\n" + f' "file_version": {json.dumps(report["file_version"])},\n' + group("scalars") + ",\n" + group("tensors") + "\n}"


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--check":
        print(one_tag_a_line(check(sys.argv[2])))
        return
    if len(sys.argv) > 2 or (len(sys.argv) == 2 and sys.argv[1].startswith("-")):
        sys.exit(__doc__)
    default = os.path.join(os.path.dirname(__file__), "..", "..", "Tests", "ReportingTests", "Golden")
    out_dir = os.path.normpath(sys.argv[1] if len(sys.argv) == 2 else default)
    os.makedirs(out_dir, exist_ok=True)
    write_file(out_dir, "pytorch-simple-value.tfevents", write_simple_values)
    write_file(out_dir, "pytorch-tensor.tfevents", write_tensors)
    print(f"wrote {out_dir}/pytorch-simple-value.tfevents and pytorch-tensor.tfevents")


if __name__ == "__main__":
    main()
