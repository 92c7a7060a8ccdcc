import Foundation

/// Ctrl-C (SIGINT) or a preemption's SIGTERM asks a run to stop after saving a checkpoint; a
/// second one stops at once. A file-size limit reached while saving (SIGXFSZ) becomes a write
/// error naming the file, like a full disk, instead of killing the process mid-save.
enum InterruptFlag {
    nonisolated(unsafe) private static var flag: sig_atomic_t = 0
    static var isSet: Bool { flag != 0 }

    static func install() {
        for interrupt in [SIGINT, SIGTERM] {
            signal(interrupt) { number in
                if InterruptFlag.flag != 0 { _exit(128 + number) }
                InterruptFlag.flag = 1
            }
        }
        signal(SIGXFSZ, SIG_IGN)
    }
}
