import Journal
import TOMLKit

/// The engine journal (`[journal]`, every key optional): where each shard's journal and snapshots
/// live, how durable a report is before it is released, and how often snapshots are taken
/// (docs/persistence.md, "The engine journal").
///
/// ```toml
/// [journal]
/// dir = ".chronos-state/journal"      # default: journal in [gateway] state_dir; shard k uses dir/shard-k
/// durability = "process"              # "process": page cache, survives a process crash (default)
///                                     # "machine": fdatasync'd in groups before reports are released
/// segment_events = 524288             # events per segment file (128 bytes each: 64 MiB)
/// snapshot_every_events = 2000000     # a snapshot after this many events (0: only at shutdown)
/// keep_snapshots = 2                  # newest snapshots kept
/// keep_segments = -1                  # segments kept behind the oldest kept snapshot (-1: all)
/// ```
extension TableReader {
    mutating func journal(_ table: TOMLTable, defaults: JournalSettings) -> JournalSettings {
        let path = "journal"
        rejectUnknownKeys(
            table, path: path,
            known: ["dir", "durability", "segment_events", "snapshot_every_events", "keep_snapshots", "keep_segments"])
        var settings = defaults
        if let dir = string(table, "dir", path: path) {
            if dir.isEmpty { errors.append("\(source): journal.dir: must not be empty") } else { settings.root = dir }
        }
        if let text = string(table, "durability", path: path) {
            if let durability = JournalDurability(rawValue: text) {
                settings.durability = durability
            } else {
                errors.append("\(source): journal.durability: must be \"process\" or \"machine\" (got \(text))")
            }
        }
        if let n = int(table, "segment_events", path: path) {
            if (1_024...(1 << 28)).contains(n) {
                settings.slotsPerSegment = n
            } else {
                errors.append("\(source): journal.segment_events: must be in 1024...\(1 << 28) (got \(n))")
            }
        }
        if let n = int(table, "snapshot_every_events", path: path) {
            if n >= 0 {
                settings.snapshotEveryEvents = n
            } else {
                errors.append("\(source): journal.snapshot_every_events: must be >= 0 (got \(n))")
            }
        }
        if let n = int(table, "keep_snapshots", path: path) {
            if n >= 1 {
                settings.keepSnapshots = n
            } else {
                errors.append("\(source): journal.keep_snapshots: must be >= 1 (got \(n))")
            }
        }
        if let n = int(table, "keep_segments", path: path) {
            if n >= -1 {
                settings.keepSegments = n
            } else {
                errors.append("\(source): journal.keep_segments: must be >= -1 (got \(n))")
            }
        }
        return settings
    }
}
