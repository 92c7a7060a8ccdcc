import ArgumentParser

@main
struct FineTuneCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "finetune",
        abstract: "Fine-tune pre-trained language models on a CPU: LoRA, head-only or full training.",
        subcommands: [
            TrainCommand.self, PredictCommand.self, EvaluateCommand.self, TokenizeCommand.self, GenerateCommand.self,
            CompareCommand.self, ExportCommand.self, BenchCommand.self, ReportCommand.self, RewardCommand.self,
        ]
    )
}
