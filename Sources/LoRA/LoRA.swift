// LoRA
