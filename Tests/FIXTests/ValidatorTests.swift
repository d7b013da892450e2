import Testing

@testable import FIX

@Suite struct ValidatorTests {
    let validator = FIXValidator()
    let header = "8=FIX.4.4|35=D|34=2|49=TW|52=20240102-03:04:05|56=ISLD|"
    let order = "11=ID|21=1|40=1|54=1|38=200.00|55=INTC|60=20240102-03:04:05|"

    func check(_ text: String, _ validator: FIXValidator? = nil) -> FIXRejection? {
        guard let message = FIXMessage(frame: fix(text)) else {
            Issue.record("does not parse: \(text)")
            return nil
        }
        return (validator ?? self.validator).validate(message)
    }

    @Test func validOrderPasses() {
        #expect(check(header + order) == nil)
        #expect(check(header + order + "453=2|448=A|447=D|452=1|448=B|") == nil)
        #expect(check("8=FIX.4.4|35=A|34=1|49=TW|52=20240102-03:04:05|56=ISLD|98=0|108=30|384=1|372=D|") == nil)
        #expect(check("8=FIX.4.4|35=d|34=2|49=TW|56=ISLD|52=20240102-03:04:05|320=J|322=1|323=6|55=TBS|454=0|") == nil)
        #expect(check(header + order + "5001=x|") == nil)
    }

    @Test(arguments: [
        ("35=0|34=2|49=TW|52=20240102-03:04:05|56=ISLD|999=HI|", FIXSessionRejectReason.invalidTagNumber, 999),
        ("35=0|34=2|49=TW|52=20240102-03:04:05|56=ISLD|0=HI|", .invalidTagNumber, 0),
        ("35=0|34=2|49=TW|52=20240102-03:04:05|56=ISLD|-1=HI|", .invalidTagNumber, -1),
        ("35=0|34=2|49=TW|52=20240102-03:04:05|", .requiredTagMissing, 56),
        (
            "35=D|49=TW|34=3|56=ISLD|52=20240102-03:04:05|40=1|60=20240102-03:04:05|54=1|21=3|11=id|",
            .requiredTagMissing, 55
        ),
        ("35=0|34=2|49=TW|52=20240102-03:04:05|56=ISLD|55=MSFT|", .tagNotDefinedForMessageType, 55),
        ("35=0|34=2|49=TW|52=20240102-03:04:05|56=|", .tagSpecifiedWithoutValue, 56),
        (
            "35=D|34=2|49=TW|52=20240102-03:04:05|56=ISLD|11=ID|21=4|40=1|54=1|38=002000.00|55=INTC|60=20240102-03:04:05|",
            .valueIsIncorrect, 21
        ),
        (
            "35=D|34=2|49=TW|52=20240102-03:04:05|56=ISLD|11=ID|21=1|40=1|54=1|38=2|55=INTC|60=20240102-03:04:05|167=BOO|",
            .valueIsIncorrect, 167
        ),
        (
            "35=D|34=2|49=TW|52=20240102-03:04:05|56=ISLD|11=ID|21=1|40=1|54=1|38=+200.00|55=INTC|60=20240102-03:04:05|",
            .incorrectDataFormat, 38
        ),
        (
            "35=D|34=2|49=TW|52=20240102-03:04:05|56=ISLD|11=ID|21=3|38=100|40=1|54=1|55=IVP|60=20240102-03:04:05|"
                + "126=20040415|", .incorrectDataFormat, 126
        ),
        (
            "35=D|11=id|21=3|40=1|54=1|55=MSFT|60=20240102-03:04:05|34=2|49=TW|52=20240102-03:04:05|56=ISLD|",
            .tagSpecifiedOutOfRequiredOrder, 34
        ),
        (
            "35=D|34=2|49=TW|52=20240102-03:04:05|56=ISLD|11=ID|21=1|40=1|40=2|54=1|38=200.00|55=INTC|"
                + "60=20240102-03:04:05|", .tagAppearsMoreThanOnce, 40
        ),
        (
            "35=D|34=2|49=TW|52=20240102-03:04:05|56=ISLD|11=ID|21=1|40=1|54=1|38=200.00|55=INTC|386=3|336=PRE-OPEN|"
                + "336=AFTER-HOURS|60=20240102-03:04:05|", .incorrectNumInGroupCount, 386
        ),
        (
            "35=D|34=2|49=TW|52=20240102-03:04:05|56=ISLD|11=ID|21=1|40=1|54=1|38=200.00|55=INTC|453=1|447=D|448=A|"
                + "60=20240102-03:04:05|", .repeatingGroupFieldsOutOfOrder, 447
        ),
        ("35=A|34=1|49=TW|52=20240102-03:04:05|56=ISLD|98=0|108=30|384=1|", .incorrectNumInGroupCount, 384),
    ])
    func rejects(body: String, reason: FIXSessionRejectReason, tag: Int) {
        let rejection = check("8=FIX.4.4|" + body)
        #expect(rejection?.reason == reason)
        #expect(rejection?.refTagID == tag)
        #expect(rejection?.text == reason.text)
    }

    @Test func invalidMsgTypeHasNoRefTag() {
        #expect(check("8=FIX.4.4|35=*|34=2|49=TW|52=20240102-03:04:05|56=ISLD|") == FIXRejection(.invalidMsgType))
        #expect(FIXDictionary.fix44.isValidMessageType("8"))
        #expect(FIXDictionary.fix44.isValidMessageType("BE"))
        #expect(!FIXDictionary.fix44.isValidMessageType("ZZ"))
    }

    @Test func userDefinedFieldsCanBeRefused() {
        let strict = FIXValidator(allowsUserDefinedFields: false)
        let rejection = check("8=FIX.4.4|35=0|34=5|49=TW|52=20240102-03:04:05|56=ISLD|5000=HI|", strict)
        #expect(rejection == FIXRejection(.invalidTagNumber, refTagID: 5000))
    }

    @Test func dictionaryKnowsEveryField() {
        let dictionary = FIXDictionary.fix44
        #expect(dictionary.fieldType(44) == .float)
        #expect(dictionary.fieldType(52) == .utcTimestamp)
        #expect(dictionary.fieldType(453) == .numInGroup)
        #expect(dictionary.fieldName(35) == "MsgType")
        #expect(dictionary.fieldType(956) != nil)
        #expect(dictionary.fieldType(957) == nil)
        #expect(dictionary.messageDefinition("D")?.groups[453]?.delimiter == 448)
        #expect(dictionary.messageDefinition("A")?.groups[384]?.delimiter == 372)
        #expect(dictionary.header.groups[627]?.delimiter == 628)
        for type in ["0", "1", "2", "3", "4", "5", "A", "D", "F", "G", "8", "9", "j"] {
            #expect(dictionary.messageDefinition(type) != nil, "\(type)")
        }
    }
}
