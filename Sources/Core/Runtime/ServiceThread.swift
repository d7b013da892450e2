import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A service's own OS thread (an engine shard, the gateway's bridge, the risk sidecar): it first
/// sets itself up — binds sockets, loads what it owns — and the starter waits for that; a setup
/// that fails is thrown to the starter and the thread ends. Then the thread runs its loop until
/// the loop returns; ``join()`` waits for that.
///
/// ZeroMQ sockets and the risk model belong to the thread that creates them, which is why setup
/// runs on the new thread rather than before it.
public final class ServiceThread: @unchecked Sendable {
    /// Set once in `init`; read by `join`.
    private var handle: pthread_t?

    /// Starts a thread that runs `setup` and, when it returns a loop, that loop. Returns once
    /// setup finished; throws setup's error (the thread has ended by then) or a `pthread_create` failure.
    public init(_ setup: @escaping () throws -> () -> Void) throws {
        let context = StartContext(setup)
        let box = Unmanaged.passRetained(context)
        var thread = pthread_t()
        let rc = pthread_create(
            &thread, nil,
            { raw in
                let context = Unmanaged<StartContext>.fromOpaque(raw!).takeRetainedValue()
                context.main()
                return nil
            }, box.toOpaque())
        guard rc == 0 else {
            box.release()
            throw ServiceThreadError.create(rc)
        }
        // Setup is short (binding sockets, loading a model): poll for its outcome.
        while true {
            let state = context.state.withLock { $0 }
            if case .starting = state {
                usleep(100)
                continue
            }
            if case .failed(let error) = state {
                pthread_join(thread, nil)
                throw error
            }
            break
        }
        handle = thread
    }

    /// Waits for the loop to return (at most once; later calls return at once).
    public func join() {
        if let handle {
            pthread_join(handle, nil)
            self.handle = nil
        }
    }

    private enum State {
        case starting
        case running
        case failed(any Error)
    }

    private final class StartContext: @unchecked Sendable {
        let setup: () throws -> () -> Void
        let state = Mutex<State>(.starting)

        init(_ setup: @escaping () throws -> () -> Void) { self.setup = setup }

        func main() {
            let loop: () -> Void
            do {
                loop = try setup()
            } catch {
                state.withLock { $0 = .failed(error) }
                return
            }
            state.withLock { $0 = .running }
            loop()
        }
    }
}

/// The thread could not be created.
public enum ServiceThreadError: Error, CustomStringConvertible {
    case create(Int32)

    public var description: String { "pthread_create failed: \(String(cString: strerror(self.code)))" }

    private var code: Int32 {
        switch self {
        case .create(let rc): rc
        }
    }
}
