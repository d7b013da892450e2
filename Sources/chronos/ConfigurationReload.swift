import ChronosConfig
import Dispatch
import Foundation
import Runtime

#if canImport(Glibc)
    import Glibc
#endif

/// SIGHUP: re-reads the configuration file and hands it to `apply` (the operator's way to change
/// risk account limits and kill switches at run time: edit `[[risk.accounts]]`, `kill -HUP`).
/// A file that no longer parses is reported on standard error and changes nothing. Without a
/// file (the embedded default) SIGHUP is ignored. Keep the returned source alive while serving.
func reloadOnHangup(
    _ path: String?, command: String, _ apply: @escaping @Sendable (ExchangeConfiguration) -> Void
) -> DispatchSourceSignal {
    signal(SIGHUP, SIG_IGN)
    let source = DispatchSource.makeSignalSource(signal: SIGHUP, queue: .global())
    source.setEventHandler {
        guard let path else {
            FileHandleOutput.standardError("chronos \(command): SIGHUP ignored (no --config file to reload)\n")
            return
        }
        do {
            apply(try ExchangeConfiguration.load(path: path))
        } catch {
            FileHandleOutput.standardError("chronos \(command): reload of \(path) refused, nothing changed: \(error)\n")
        }
    }
    source.resume()
    return source
}
