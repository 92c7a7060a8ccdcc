import Data
import Tensors

/// What a reward model's scores say about ranked completions, with TRL's names: `accuracy` (the
/// share of comparisons whose better completion scores higher), `margin` (the mean score
/// difference, better minus worse), `mean_reward`, `min_reward`, `max_reward`; and, for rankings
/// of more than two completions, `top1_accuracy` (the share of prompts whose best completion
/// scores highest) and `kendall_tau` (the mean rank correlation of scores and people's ranking).
struct RewardMetrics {
    private var comparisonCount = 0, correct = 0
    private var marginSum = 0.0
    private var rewardSum = 0.0, rewardCount = 0
    private var minimum = Double.infinity, maximum = -Double.infinity
    private var rankedPrompts = 0, topOneCorrect = 0
    private var tauSum = 0.0

    /// Adds `rows` and their scores (one per completion, the rows' completions in order).
    mutating func add(_ rows: [RankedCompletions], scores: Tensor) {
        var first = 0
        for row in rows {
            add(row, rewards: (first..<first + row.count).map { Double(scores.pointer[$0]) })
            first += row.count
        }
    }

    /// Adds one prompt's completions and their scores.
    mutating func add(_ row: RankedCompletions, rewards: [Double]) {
        let comparisons = row.comparisons
        for comparison in comparisons {
            let difference = rewards[comparison.better] - rewards[comparison.worse]
            comparisonCount += 1
            correct += difference > 0 ? 1 : 0
            marginSum += difference
        }
        for reward in rewards {
            rewardSum += reward
            rewardCount += 1
            minimum = min(minimum, reward)
            maximum = max(maximum, reward)
        }
        guard row.count > 2 else { return }
        rankedPrompts += 1
        let highest = rewards.indices.max { rewards[$0] < rewards[$1] }!
        topOneCorrect += row.ranking[highest] == 0 ? 1 : 0
        var concordance = 0.0
        for comparison in comparisons {
            let difference = rewards[comparison.better] - rewards[comparison.worse]
            concordance += difference > 0 ? 1 : (difference < 0 ? -1 : 0)
        }
        tauSum += concordance / Double(comparisons.count)
    }

    var values: [String: Double] {
        var values = ["accuracy": Double(correct) / Double(max(comparisonCount, 1)), "margin": marginSum / Double(max(comparisonCount, 1)),
                      "mean_reward": rewardSum / Double(max(rewardCount, 1)), "min_reward": minimum, "max_reward": maximum]
        if rankedPrompts > 0 {
            values["top1_accuracy"] = Double(topOneCorrect) / Double(rankedPrompts)
            values["kendall_tau"] = tauSum / Double(rankedPrompts)
        }
        return values
    }
}
