import ChronosCore

extension EngineCommand {
    /// The command as one `chronos replay` JSON line (no newline), naming account `n` as `"A<n>"`
    /// and symbol `n` as `"SYM<n>"` (the generator's symbol names).
    public var replayJSONLine: String {
        switch self {
        case .new(let o):
            var s =
                #"{"op":"new","id":\#(o.id.rawValue),"account":"A\#(o.account.rawValue)","#
                + #""symbol":"SYM\#(o.symbol.rawValue)","side":"\#(o.side)","type":"\#(o.type)""#
            if o.type == .limit { s += #","tif":"\#(o.timeInForce)","price":\#(o.price)"# }
            if o.postOnly { s += #","post_only":true"# }
            return s + #","qty":\#(o.quantity)}"#
        case .cancel(let c):
            return #"{"op":"cancel","id":\#(c.id.rawValue),"account":"A\#(c.account.rawValue)","#
                + #""symbol":"SYM\#(c.symbol.rawValue)"}"#
        case .replace(let r):
            var s =
                #"{"op":"replace","id":\#(r.id.rawValue),"account":"A\#(r.account.rawValue)","#
                + #""symbol":"SYM\#(r.symbol.rawValue)""#
            if let p = r.price { s += #","price":\#(p)"# }
            if let q = r.quantity { s += #","qty":\#(q)"# }
            return s + "}"
        }
    }
}
