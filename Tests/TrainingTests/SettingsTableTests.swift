import Foundation
import LoRA
import Training
import XCTest

/// Each setting is declared once (`FineTuneConfig.settings`); the YAML keys, the flags, `--help`,
/// the defaults and `training_args.json` all come from that declaration.
final class SettingsTableTests: XCTestCase {
    private func write(_ yaml: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("settings-\(UUID().uuidString).yaml")
        try yaml.write(to: url, atomically: true, encoding: .utf8)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }

    private func message(_ body: () throws -> Void) -> String {
        do { try body(); return "no error" } catch { return String(describing: error) }
    }

    func testKeysAndFlagsAreUniqueAndEveryOneIsInTheHelp() {
        let settings = FineTuneConfig.settings
        XCTAssertEqual(Set(settings.map(\.key)).count, settings.count, "a key declared twice")
        XCTAssertEqual(Set(settings.map(\.flag)).count, settings.count, "a flag declared twice")
        let help = SettingFlags.helpText
        for setting in settings {
            XCTAssertTrue(help.contains("--\(setting.flag) <"), "--\(setting.flag) is not in --help")
            XCTAssertTrue(help.contains("\(setting.key): "), "\(setting.key) is not in --help")
        }
        XCTAssertTrue(help.contains("training.gradient_accumulation_steps: batches per optimizer step"), help)
        XCTAssertTrue(help.contains("(default: 5e-05)"), "the learning rate's default is shown: \(help)")
        XCTAssertTrue(help.split(separator: "\n").allSatisfy { $0.count <= 80 }, "help lines fit 80 columns")
    }

    /// Every default reads back as itself, through its text (a flag) and through YAML.
    func testEveryDefaultRoundTripsThroughItsText() throws {
        let defaults = FineTuneConfig()
        for setting in FineTuneConfig.settings {
            let text = setting.valueText(in: defaults)
            var config = defaults
            if text != "none" && !text.isEmpty {
                try SettingFlags.apply(["--\(setting.flag)=\(text)"], to: &config)
                XCTAssertEqual(config, defaults, "--\(setting.flag)=\(text) changed the defaults")
            }
        }
    }

    func testFlagsSetValuesByTheirDeclaredType() throws {
        var config = FineTuneConfig()
        try SettingFlags.apply([
            "--learning-rate", "1e-3", "--gradient-accumulation-steps=4", "--labels", "neg, pos", "--skip-bad-rows",
            "--load-best-model-at-end", "false", "--report-to", "jsonl,tensorboard", "--sample-texts", "a, b", "--sample-texts", "c",
            "--target-modules", "q_proj,v_proj", "--lora-r", "16", "--eval-strategy", "steps", "--max-steps", "-1", "--task", "sft",
        ], to: &config)
        XCTAssertEqual(config.training.learningRate, 1e-3)
        XCTAssertEqual(config.training.gradientAccumulationSteps, 4)
        XCTAssertEqual(config.data.labels, ["neg", "pos"])
        XCTAssertTrue(config.data.skipBadRows, "a true/false flag alone means true")
        XCTAssertFalse(config.training.loadBestModelAtEnd)
        XCTAssertEqual(config.training.reportTo, [.jsonl, .tensorboard])
        XCTAssertEqual(config.sampleTexts, ["a, b", "c"], "a repeated text flag adds texts, commas kept")
        XCTAssertEqual(config.lora.targetModules, .names(["q_proj", "v_proj"]))
        XCTAssertEqual(config.lora.rank, 16)
        XCTAssertEqual(config.training.evalStrategy, .steps)
        XCTAssertEqual(config.training.maxSteps, -1)
        XCTAssertEqual(config.task, .supervisedFineTuning)
    }

    func testBadFlagsAndValuesNameTheFlagAndTheAllowedValues() {
        var config = FineTuneConfig()
        XCTAssertEqual(message { try SettingFlags.apply(["--learning-rat", "1"], to: &config) },
                       "--learning-rat: unknown flag (see finetune train --help) (did you mean --learning-rate?)")
        XCTAssertEqual(message { try SettingFlags.apply(["--task", "foo"], to: &config) },
                       "--task: \"foo\" is not one of sequence-classification, causal-lm, sft, reward")
        XCTAssertEqual(message { try SettingFlags.apply(["--seed", "x"], to: &config) }, "--seed: expected a whole number, got \"x\"")
        XCTAssertEqual(message { try SettingFlags.apply(["--seed"], to: &config) }, "--seed: needs a value (integer)")
        XCTAssertEqual(message { try SettingFlags.apply(["stray"], to: &config) },
                       "stray: unexpected argument (settings are given as --name value; see finetune train --help)")
    }

    func testYAMLValuesAreReadByTheTableAndBadOnesNamed() throws {
        let config = try FineTuneConfig.load(from: try write("""
            model: m
            task: causal-lm
            data: {train_file: t.txt, block_length: 64}
            lora: {r: 4, target_modules: all-linear, modules_to_save: [score]}
            training:
              gradient_accumulation_steps: 2
              report_to: [jsonl, tensorboard]
              eval_steps: null
              early_stopping_patience: 3
            """))
        XCTAssertEqual(config.task, .causalLanguageModeling)
        XCTAssertEqual(config.data.blockLength, 64)
        XCTAssertEqual(config.lora.targetModules, .allLinear)
        XCTAssertEqual(config.lora.modulesToSave, ["score"])
        XCTAssertEqual(config.training.gradientAccumulationSteps, 2)
        XCTAssertEqual(config.training.reportTo, [.jsonl, .tensorboard])
        XCTAssertNil(config.training.evalSteps)
        XCTAssertEqual(config.training.earlyStoppingPatience, 3)

        let badTask = try write("model: m\ntask: foo\n")
        XCTAssertEqual(message { _ = try FineTuneConfig.load(from: badTask) },
                       "\(badTask.path): task: \"foo\" is not one of sequence-classification, causal-lm, sft, reward")
        let badStrategy = try write("training: {eval_strategy: [epoch]}\n")
        XCTAssertEqual(message { _ = try FineTuneConfig.load(from: badStrategy) },
                       "\(badStrategy.path): training.eval_strategy: expected no|steps|epoch, found a list")
        let unknownSection = try write("optimizer: {lr: 1}\n")
        XCTAssertTrue(message { _ = try FineTuneConfig.load(from: unknownSection) }.contains("optimizer: unknown setting (known: "))
    }

    func testSettingsThatNeedOthersAreRefused() {
        var config = FineTuneConfig()
        config.model = "m"
        config.data.trainFile = "t.jsonl"
        config.training.earlyStoppingPatience = 2
        config.training.evalStrategy = .epoch
        config.training.saveStrategy = .epoch
        XCTAssertTrue(message { try config.validate() }.contains("training.early_stopping_patience: needs load_best_model_at_end"))
        config.training.evalStrategy = .no
        XCTAssertTrue(message { try config.validate() }.contains("training.early_stopping_patience: needs evaluations"))
        config.training.earlyStoppingPatience = nil
        config.training.gradientAccumulationSteps = 0
        XCTAssertTrue(message { try config.validate() }.contains("training.gradient_accumulation_steps: must be at least 1, got 0"))
        config.training.gradientAccumulationSteps = 1
        config.training.reportTo = [.none, .jsonl]
        XCTAssertTrue(message { try config.validate() }.contains("training.report_to: none cannot be combined"))
    }

    func testTrainingArgumentsFileHoldsEverySetting() throws {
        var arguments = TrainingArguments()
        arguments.reportTo = [.tensorboard]
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: try arguments.json()) as? [String: Any])
        XCTAssertEqual(Set(object.keys), Set(TrainingArguments.settings.map(\.key)))
        XCTAssertEqual(object["learning_rate"] as? Double, 5e-5)
        XCTAssertEqual(object["report_to"] as? [String], ["tensorboard"])
        XCTAssertTrue(object["eval_steps"] is NSNull)
    }
}
