import ChronosCore
import FencedCollections

// The price tree: each book side's levels, besides their list in price order (better/worse, for
// matching and iteration), form a treap keyed by price, so that the level of any price is found,
// or a new one placed between its neighbours, in O(log levels) — deep books (thousands of levels
// per side) no longer cost a walk along the list.
//
// Invariants (per book side, checked by `Engine.invariantViolations()`):
// - Binary search tree by price over `lower`/`higher`: every level in a level's `lower` subtree
//   has a lower price, every one in its `higher` subtree a higher price. `parent` is the level's
//   parent, -1 for the root (`BookState.root`).
// - Heap by `treePriority(price)`: a parent's priority is ≥ its children's. Priorities are a
//   fixed hash of the price, so the tree's shape depends only on the set of prices (a rebuilt or
//   recovered book has the same tree) and clients cannot steer it without knowing the hash.
//   With distinct random-looking priorities the expected depth is O(log n).
// - The tree and the list hold the same levels: an in-order walk of the tree is the list from
//   the lowest price to the highest.
// - No allocation: the links live in the level slots; a rotation rewrites six links at most;
//   insertion and removal are loops, not recursion.
// Safe because every handle followed is a live level of the same book side (the links are only
// ever set to such handles or -1).

/// The treap priority of a level at `price`.
@inline(__always)
func treePriority(_ price: Int64) -> UInt64 { mix64(UInt64(bitPattern: price) ^ 0x5851_F42D_4C95_7F2D) }

extension EngineCore {
    /// Levels walked from the touch before the tree is searched: most passive orders rest a few
    /// ticks behind the touch, where a short walk along the list beats a descent from the root.
    static let touchWalk = 4

    /// The level at `price` on `side`, created in price order when missing. O(1) near the touch
    /// and for a new best or worst price, O(log levels) expected otherwise.
    mutating func findOrCreateLevel(_ b: Int, _ side: Side, _ price: Int64) -> Int32 {
        let best = books[b].best(side)
        if best < 0 { return createLevel(b, side, price, better: -1, worse: -1) }
        if price == levels[best].price { return best }
        if isBetter(price, than: levels[best].price, on: side) {
            return createLevel(b, side, price, better: -1, worse: best)
        }
        // Near the touch: walk a few levels inward along the list.
        var better = best
        for _ in 0..<Self.touchWalk {
            let next = levels[better].worse
            if next < 0 { return createLevel(b, side, price, better: better, worse: -1) }
            let nextPrice = levels[next].price
            if nextPrice == price { return next }
            if isBetter(price, than: nextPrice, on: side) {
                return createLevel(b, side, price, better: better, worse: next)
            }
            better = next
        }
        let worst = books[b].worst(side)
        if price == levels[worst].price { return worst }
        if isBetter(levels[worst].price, than: price, on: side) {
            return createLevel(b, side, price, better: worst, worse: -1)
        }
        // Deeper: descend from the root, remembering the nearest lower and higher levels.
        var node = books[b].root(side)
        var lower: Int32 = -1
        var higher: Int32 = -1
        while node >= 0 {
            let p = levels[node].price
            if p == price { return node }
            if price < p {
                higher = node
                node = levels[node].lower
            } else {
                lower = node
                node = levels[node].higher
            }
        }
        return side == .buy
            ? createLevel(b, side, price, better: higher, worse: lower)
            : createLevel(b, side, price, better: lower, worse: higher)
    }

    /// The level at `price` on `side`, or -1. O(log levels) expected.
    func findLevel(_ b: Int, _ side: Side, _ price: Int64) -> Int32 {
        var node = books[b].root(side)
        while node >= 0 {
            let p = levels[node].price
            if p == price { return node }
            node = price < p ? levels[node].lower : levels[node].higher
        }
        return -1
    }

    /// A new, empty level at `price`, linked into the list between its neighbours `better` and
    /// `worse` (-1 at an end) and into the tree as a leaf, then rotated up to its place. Of two
    /// neighbours in price order, the lower one has no higher child or the higher one has no
    /// lower child: the new level hangs there, so its place costs no search.
    private mutating func createLevel(_ b: Int, _ side: Side, _ price: Int64, better: Int32, worse: Int32) -> Int32 {
        let level = insertLevel(b, side, price, better: better, worse: worse)
        let (lowerNeighbour, higherNeighbour) = side == .buy ? (worse, better) : (better, worse)
        let parent: Int32
        if lowerNeighbour >= 0 && levels[lowerNeighbour].higher < 0 {
            parent = lowerNeighbour
            levels[parent].higher = level
        } else if higherNeighbour >= 0 {
            parent = higherNeighbour
            levels[parent].lower = level
        } else {
            books[b].setRoot(side, level)
            return level
        }
        levels[level].parent = parent
        let priority = treePriority(price)
        while true {
            let up = levels[level].parent
            if up < 0 || treePriority(levels[up].price) >= priority { break }
            rotateUp(level, b, side)
        }
        return level
    }

    /// Takes `level` out of its side's tree (its list links are left to the caller).
    mutating func removeFromTree(_ level: Int32, _ b: Int, _ side: Side) {
        // Rotate the level down, always lifting its higher-priority child, until it has one child
        // at most; then its child (or nothing) takes its place.
        while true {
            let lower = levels[level].lower
            let higher = levels[level].higher
            if lower < 0 || higher < 0 { break }
            let lift =
                treePriority(levels[lower].price) > treePriority(levels[higher].price) ? lower : higher
            rotateUp(lift, b, side)
        }
        let child = levels[level].lower >= 0 ? levels[level].lower : levels[level].higher
        let parent = levels[level].parent
        if child >= 0 { levels[child].parent = parent }
        replaceChild(of: parent, old: level, new: child, b, side)
    }

    /// Rotates `node` above its parent, keeping the price order.
    private mutating func rotateUp(_ node: Int32, _ b: Int, _ side: Side) {
        let parent = levels[node].parent
        let grandparent = levels[parent].parent
        if levels[parent].lower == node {
            let moved = levels[node].higher
            levels[parent].lower = moved
            if moved >= 0 { levels[moved].parent = parent }
            levels[node].higher = parent
        } else {
            let moved = levels[node].lower
            levels[parent].higher = moved
            if moved >= 0 { levels[moved].parent = parent }
            levels[node].lower = parent
        }
        levels[parent].parent = node
        levels[node].parent = grandparent
        replaceChild(of: grandparent, old: parent, new: node, b, side)
    }

    /// Points `parent`'s link to `old` (or the side's root when `parent` is -1) at `new`.
    private mutating func replaceChild(of parent: Int32, old: Int32, new: Int32, _ b: Int, _ side: Side) {
        if parent < 0 {
            books[b].setRoot(side, new)
        } else if levels[parent].lower == old {
            levels[parent].lower = new
        } else {
            levels[parent].higher = new
        }
    }
}

extension EngineCore {
    /// Every broken invariant of one side's price tree, described (for ``Engine/invariantViolations()``):
    /// the in-order walk must be the level list from the lowest price up, every parent link must
    /// match, and no child may outrank its parent.
    func priceTreeViolations(_ b: Int, _ side: Side) -> [String] {
        var problems: [String] = []
        var inOrder: [Int32] = []
        var stack: [Int32] = []
        let root = books[b].root(side)
        if root >= 0 && levels[root].parent != -1 { problems.append("book \(b) \(side): tree root has a parent") }
        var node = root
        while node >= 0 || !stack.isEmpty {
            while node >= 0 {
                if stack.count > Int(levels.liveCount) {
                    return problems + ["book \(b) \(side): price tree loops"]
                }
                stack.append(node)
                node = levels[node].lower
            }
            let visited = stack.removeLast()
            inOrder.append(visited)
            for child in [levels[visited].lower, levels[visited].higher] where child >= 0 {
                if levels[child].parent != visited {
                    problems.append("book \(b) \(side): level \(levels[child].price) has a wrong parent link")
                }
                if treePriority(levels[child].price) > treePriority(levels[visited].price) {
                    problems.append("book \(b) \(side): level \(levels[child].price) outranks its parent")
                }
            }
            node = levels[visited].higher
        }
        var list: [Int32] = []
        var level = side == .buy ? books[b].worst(side) : books[b].best(side)
        while level >= 0 && list.count <= Int(levels.liveCount) {
            list.append(level)
            level = side == .buy ? levels[level].better : levels[level].worse
        }
        if inOrder != list {
            problems.append(
                "book \(b) \(side): price tree (\(inOrder.count) levels) differs from the level list (\(list.count))")
        }
        return problems
    }
}
