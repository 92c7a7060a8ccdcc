#!/usr/bin/env python3
"""Golden files for the reward model's parity with TRL 1.16 and PEFT, on the tiny Llama of
../shared/golden/tiny/llama: LlamaForSequenceClassification(num_labels=1, pad 2), a PEFT SEQ_CLS
LoRA adapter with random A and B (r 4, alpha 8, q_proj and v_proj, the score head as a module to
save), two preference pairs (the second with a margin), and TRL's own RewardTrainer.compute_loss
on them in training mode. Writes into Tests/TrainingTests/Golden/reward-tiny-llama/:
the adapter (PEFT's save_pretrained), expected.json (ids, margins, rewards, loss) and
expected.safetensors (the gradient of every trained tensor, by this toolkit's parameter path).

Run with the reference venv: ~/.venvs/finetune-reference/bin/python scripts/golden/make_reward_golden.py
"""
import json
import pathlib
import types

import torch
from peft import LoraConfig, get_peft_model
from safetensors.torch import save_file
from transformers import LlamaForSequenceClassification
from trl import RewardTrainer

root = pathlib.Path(__file__).resolve().parents[2]
tiny = root.parent / "shared" / "golden" / "tiny" / "llama"
out = root / "Tests" / "TrainingTests" / "Golden" / "reward-tiny-llama"
out.mkdir(parents=True, exist_ok=True)

torch.manual_seed(0)
model = LlamaForSequenceClassification.from_pretrained(tiny, num_labels=1, pad_token_id=2)
config = LoraConfig(task_type="SEQ_CLS", r=4, lora_alpha=8, lora_dropout=0.0, target_modules=["q_proj", "v_proj"],
                    init_lora_weights=False)
model = get_peft_model(model, config)
model.save_pretrained(out)
(out / "README.md").unlink(missing_ok=True)  # PEFT's model card

# Two pairs: prompt + completion + EOS (2, also the padding id), as TRL prepares them.
pairs = [
    {"prompt": [5, 17, 33, 9], "chosen": [44, 12, 2], "rejected": [61, 7, 8, 90, 2], "margin": 0.0},
    {"prompt": [11, 3], "chosen": [21, 22, 23, 2], "rejected": [99, 2], "margin": 0.5},
]
rows = [p["prompt"] + p["chosen"] for p in pairs] + [p["prompt"] + p["rejected"] for p in pairs]
length = max(len(r) for r in rows)
input_ids = torch.tensor([r + [2] * (length - len(r)) for r in rows])
attention_mask = torch.tensor([[1] * len(r) + [0] * (length - len(r)) for r in rows])
margin = torch.tensor([p["margin"] for p in pairs])

# TRL's compute_loss, called on a stand-in for the trainer with what it reads of it.
identity = lambda x: x  # noqa: E731
trainer = types.SimpleNamespace(
    model=model, args=types.SimpleNamespace(center_rewards_coefficient=None),
    accelerator=types.SimpleNamespace(gather=identity, gather_for_metrics=identity),
    _tp_size=1, _total_train_tokens=0, _metrics={"train": {}, "eval": {}})
trainer._metrics["train"] = __import__("collections").defaultdict(list)
model.train()
inputs = {"input_ids": input_ids, "attention_mask": attention_mask, "margin": margin}
loss, outputs = RewardTrainer.compute_loss(trainer, model, inputs, return_outputs=True)
loss.backward()

gradients = {}
for name, parameter in model.named_parameters():
    if parameter.grad is None:
        continue
    path = name.removeprefix("base_model.model.").replace(".default", "").replace("modules_to_save.", "")
    gradients[path] = parameter.grad.detach().contiguous()
save_file(gradients, out / "expected.safetensors")
json.dump({"pairs": pairs, "rewards": outputs.logits.squeeze(-1).tolist(), "loss": loss.item(),
           "metrics": {k: v[-1] for k, v in trainer._metrics["train"].items()}},
          open(out / "expected.json", "w"), indent=1)
print(json.dumps({"loss": loss.item(), "gradients": sorted(gradients)}, indent=1))
