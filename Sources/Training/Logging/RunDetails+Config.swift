import Foundation
import Reporting

extension RunDetails {
    /// The details of a run of `config`: titled by its output folder, with the settings that
    /// differ from the defaults (and always the model, task and method).
    public init(config: FineTuneConfig, parameterLine: String?, samplesBefore: [Sample] = []) {
        let defaults = FineTuneConfig()
        let shown = FineTuneConfig.settings.filter { setting in
            ["model", "task", "method"].contains(setting.key) || setting.valueText(in: config) != setting.valueText(in: defaults)
        }
        self.init(title: URL(fileURLWithPath: config.training.outputDir).lastPathComponent, model: config.model,
                  task: config.task.rawValue, method: config.method.rawValue,
                  settings: shown.map { Setting(key: $0.key, value: $0.valueText(in: config)) },
                  parameterLine: parameterLine, samplesBefore: samplesBefore)
    }
}
