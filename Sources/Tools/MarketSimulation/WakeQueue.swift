/// The simulated clock's agenda: a binary min-heap of (time, insertion number, agent).
///
/// Ties in time break by insertion order, so the order of wakes is a pure function of the
/// seed. Rescheduling an agent pushes a new entry; the old one is skipped when popped because
/// it no longer equals the agent's ``Agent/scheduledWake`` (lazy deletion).
struct WakeQueue {
    struct Entry {
        /// Simulated time in ns.
        var time: UInt64
        /// Insertion number: breaks ties in time.
        var order: UInt64
        /// Index of the agent in the day's population.
        var agent: Int32
    }

    private var heap: [Entry] = []
    private var inserted: UInt64 = 0

    var isEmpty: Bool { heap.isEmpty }

    mutating func removeAll() {
        heap.removeAll(keepingCapacity: true)
        inserted = 0
    }

    /// Adds an entry, O(log n).
    mutating func push(time: UInt64, agent: Int) {
        heap.append(Entry(time: time, order: inserted, agent: Int32(agent)))
        inserted += 1
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard Self.precedes(heap[child], heap[parent]) else { break }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    /// Removes and returns the earliest entry, O(log n).
    mutating func pop() -> Entry? {
        guard let first = heap.first else { return nil }
        let last = heap.removeLast()
        if !heap.isEmpty {
            heap[0] = last
            var parent = 0
            while true {
                let left = 2 * parent + 1
                guard left < heap.count else { break }
                let right = left + 1
                let child = right < heap.count && Self.precedes(heap[right], heap[left]) ? right : left
                guard Self.precedes(heap[child], heap[parent]) else { break }
                heap.swapAt(child, parent)
                parent = child
            }
        }
        return first
    }

    private static func precedes(_ a: Entry, _ b: Entry) -> Bool {
        a.time < b.time || (a.time == b.time && a.order < b.order)
    }
}
