import Foundation
import HubCore
import HubTopology

/// Writes to stdout and stderr, scrubbing every secret the topology brought in.
struct Console {
    var redactor = SecretRedactor()

    func out(_ text: String) {
        FileHandle.standardOutput.write(Data((redactor.redact(text) + "\n").utf8))
    }

    func error(_ text: String) {
        FileHandle.standardError.write(Data(("Error: " + redactor.redact(text) + "\n").utf8))
    }

    func hint(_ text: String) {
        FileHandle.standardError.write(Data(("Hint: " + redactor.redact(text) + "\n").utf8))
    }

    func note(_ text: String) {
        FileHandle.standardError.write(Data((redactor.redact(text) + "\n").utf8))
    }
}
