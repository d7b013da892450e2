import Replay
import Testing
import Workload

/// The strict JSON scanner on its own: what is a valid command line and what is not.
@Suite struct JSONLineScannerTests {
    private func scan(_ text: String, _ body: (JSONLineScanner) -> Void = { _ in }) -> Bool {
        var scanner = JSONLineScanner()
        defer { scanner.deallocate() }
        let bytes = Array(text.utf8)
        let ok = bytes.withUnsafeBufferPointer { scanner.scan($0) }
        if ok { body(scanner) }
        return ok
    }

    @Test(arguments: [
        #"{}"#, #" { } "#, #"{"op":"new"}"#, #"{"a":[1,2,{"b":null}],"op":"x"}"#, #"{"id":0}"#,
        #"{"id":18446744073709551615}"#, #"{"x":-0.5e+10}"#, #"{"s":"\u00e9\ud83d\ude00\n\"\\\/"}"#,
        "{\"s\":\"caf\u{e9} \u{1F600}\"}", "{\t\"op\" :\r\n\"new\" }",
    ])
    func acceptsValidObjects(_ text: String) {
        #expect(scan(text))
    }

    @Test(arguments: ["[]", "1", "\"op\"", "null", "true", "-2.5"])
    func rejectsValuesThatAreNotObjects(_ text: String) {
        #expect(!scan(text))
        #expect(scan("{\"x\":" + text + "}"))
    }

    @Test(arguments: [
        "", "{", "}", #"{"op":"new",}"#, #"{"op" "new"}"#, #"{op:"new"}"#,
        #"{"op":'new'}"#, #"{"id":01}"#, #"{"id":1.}"#, #"{"id":.5}"#, #"{"id":-}"#, #"{"id":1e}"#,
        #"{"id":NaN}"#, #"{"id":Infinity}"#, #"{"id":+1}"#, #"{"a":tru}"#, #"{"a":nul}"#, #"{} {}"#, #"{}x"#,
        #"{"s":"\x"}"#, #"{"s":"\u12"}"#, #"{"s":"\ud800"}"#, #"{"s":"\udc00"}"#, "{\"s\":\"a\u{01}\"}",
        #"{"a":[1,2}"#, #"{"a":{"b"}}"#, #"{"a":[}"#, #"{"s":"unterminated}"#,
        String(repeating: "[", count: 100) + String(repeating: "]", count: 100),
    ])
    func rejectsInvalidJSON(_ text: String) {
        #expect(!scan(text))
        #expect(!scan("{\"x\":" + text + "}"))
    }

    @Test func rejectsInvalidUTF8AndOverlongEncodings() {
        for bad: [UInt8] in [
            [0xC0, 0xAF], [0xE0, 0x80, 0xAF], [0xED, 0xA0, 0x80], [0xF5, 0x80, 0x80, 0x80], [0xFF], [0xC3],
        ] {
            var scanner = JSONLineScanner()
            defer { scanner.deallocate() }
            let line = Array(#"{"s":""#.utf8) + bad + Array(#""}"#.utf8)
            #expect(!line.withUnsafeBufferPointer { scanner.scan($0) }, "\(bad)")
        }
    }

    @Test func recordsKnownKeysWithTypesAndLastDuplicateWins() {
        var values: [CommandKey: ScannedValue] = [:]
        var texts: [CommandKey: Bool] = [:]
        let ok = scan(
            #"{"op":"new","id":7,"qty":-3,"price":99999999999999999999,"post_only":true,"tif":null,"side":"b\u0075y","id":8,"account":{"x":1},"type":1.5}"#
        ) { s in
            for key in CommandKey.allCases { values[key] = s[key] }
            texts[.op] = s.string(s[.op], equals: "new")
            texts[.side] = s.string(s[.side], equals: "buy")
        }
        #expect(ok)
        #expect(texts[.op] == true)
        #expect(texts[.side] == true)
        #expect(values[.id]?.uint64 == 8)
        #expect(values[.qty]?.kind == .integer && values[.qty]?.negative == true && values[.qty]?.magnitude == 3)
        #expect(values[.qty]?.positiveInt64OrZero == 0)
        #expect(values[.price]?.kind == .integer && values[.price]?.overflow == true)
        #expect(values[.price]?.positiveInt64OrZero == 0)
        #expect(values[.postOnly]?.kind == .boolean && values[.postOnly]?.boolean == true)
        #expect(values[.tif]?.kind == .null)
        #expect(values[.account]?.kind == .compound)
        #expect(values[.type]?.kind == .float)
        #expect(values[.symbol]?.kind == .absent)
    }

    @Test(
        arguments: [
            (#"{"id":-1}"#, nil), (#"{"id":18446744073709551616}"#, nil), (#"{"id":-0}"#, 0), (#"{"id":"5"}"#, nil),
            (#"{"id":5.0}"#, nil), (#"{"id":18446744073709551615}"#, UInt64.max),
        ] as [(String, UInt64?)])
    func idIsReadableOnlyAsAnUnsignedInteger(_ text: String, _ expected: UInt64?) {
        var id: UInt64?? = .none
        let ok = scan(text) { id = $0[.id].uint64 }
        #expect(ok)
        #expect(id == .some(expected))
    }

    @Test func randomBytesNeverTrapAndMutatedCommandsStayBounded() {
        var scanner = JSONLineScanner()
        defer { scanner.deallocate() }
        var rng = SplitMix64(seed: 99)
        let seed = Array(
            #"{"op":"new","id":1,"account":"A1","symbol":"AAPL","side":"buy","type":"limit","price":10050,"qty":100,"x":[1,{"y":"\u00e9"}]}"#
                .utf8)
        var accepted = 0
        for round in 0..<50_000 {
            var line: [UInt8]
            if round % 2 == 0 {
                line = (0..<Int(rng.next() % 80)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            } else {
                line = seed
                for _ in 0..<(1 + rng.next() % 4) {
                    let i = Int(rng.next() % UInt64(line.count))
                    switch rng.next() % 3 {
                    case 0: line[i] = UInt8(truncatingIfNeeded: rng.next())
                    case 1: line.remove(at: i)
                    default: line.insert(UInt8(truncatingIfNeeded: rng.next()), at: i)
                    }
                }
            }
            if line.withUnsafeBufferPointer({ scanner.scan($0) }) { accepted += 1 }
        }
        #expect(accepted > 0)
    }

    @Test func lineLongerThanTheLimitIsRejected() {
        var scanner = JSONLineScanner()
        defer { scanner.deallocate() }
        let long =
            Array(#"{"x":""#.utf8) + Array(repeating: UInt8(ascii: "a"), count: JSONLineScanner.maxLineLength)
            + Array(#""}"#.utf8)
        #expect(!long.withUnsafeBufferPointer { scanner.scan($0) })
    }
}
