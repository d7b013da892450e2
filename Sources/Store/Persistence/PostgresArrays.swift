import NIOCore
import PostgresNIO

/// A one-dimensional PostgreSQL array written element by element straight into its binary wire
/// format, so that a batch's column is bound as one parameter (`$1::int8[]`, read back with
/// `unnest`) without an intermediate Swift array per row or per column:
///
/// | bytes | field |
/// |---|---|
/// | 4 | dimensions: 1 (0 for an empty array, which then ends here) |
/// | 4 | 1 when an element is NULL, else 0 |
/// | 4 | the elements' type OID |
/// | 4 | element count |
/// | 4 | lower bound: 1 |
/// | per element: 4, n | the element's length in bytes (-1 for NULL, no bytes follow), its binary value |
///
/// Integers are big-endian, as everywhere in PostgreSQL's binary format.
struct PostgresArrayColumn: PostgresDynamicTypeEncodable {
    let psqlType: PostgresDataType
    var psqlFormat: PostgresFormat { .binary }
    private let elementType: PostgresDataType
    private var elements = ByteBuffer()
    private var count: Int32 = 0
    private var hasNull = false

    /// An empty `int8[]`, `text[]` or `bytea[]`.
    private init(array: PostgresDataType, element: PostgresDataType, capacity: Int, bytesPerElement: Int) {
        psqlType = array
        elementType = element
        elements.reserveCapacity(capacity * (4 + bytesPerElement))
    }

    static func int8(capacity: Int) -> Self {
        Self(array: .int8Array, element: .int8, capacity: capacity, bytesPerElement: 8)
    }

    static func text(capacity: Int) -> Self {
        Self(array: .textArray, element: .text, capacity: capacity, bytesPerElement: 8)
    }

    static func bytea(capacity: Int, bytesPerElement: Int) -> Self {
        Self(array: .byteaArray, element: .bytea, capacity: capacity, bytesPerElement: bytesPerElement)
    }

    /// Appends an `int8` (NULL for nil).
    mutating func append(_ value: Int64?) {
        count += 1
        guard let value else {
            hasNull = true
            elements.writeInteger(Int32(-1))
            return
        }
        elements.writeInteger(Int32(8))
        elements.writeInteger(value)
    }

    /// Appends a `text`.
    mutating func append(text: String) {
        count += 1
        elements.writeInteger(Int32(text.utf8.count))
        elements.writeString(text)
    }

    /// Appends a `bytea`.
    mutating func append(bytes: ArraySlice<UInt8>) {
        count += 1
        elements.writeInteger(Int32(bytes.count))
        elements.writeBytes(bytes)
    }

    func encode<JSONEncoder: PostgresJSONEncoder>(
        into byteBuffer: inout ByteBuffer, context: PostgresEncodingContext<JSONEncoder>
    ) {
        byteBuffer.writeInteger(Int32(count == 0 ? 0 : 1))
        byteBuffer.writeInteger(Int32(hasNull ? 1 : 0))
        byteBuffer.writeInteger(elementType.rawValue)
        guard count > 0 else { return }
        byteBuffer.writeInteger(count)
        byteBuffer.writeInteger(Int32(1))
        byteBuffer.writeImmutableBuffer(elements)
    }
}

/// Reads the one-dimensional arrays of a result cell in binary format (the layout above);
/// a NULL cell (`array_agg` over no rows) is an empty array.
enum PostgresArrayReader {
    /// The elements of an `int8[]` cell, nil for NULL.
    static func int8(_ cell: PostgresCell) throws -> [Int64?] {
        try elements(cell, type: .int8) { buffer, length in
            guard length == 8, let value = buffer.readInteger(as: Int64.self) else { throw malformed(cell) }
            return value
        }
    }

    /// The elements of a `text[]` cell, nil for NULL.
    static func text(_ cell: PostgresCell) throws -> [String?] {
        try elements(cell, type: .text) { buffer, length in
            guard let value = buffer.readString(length: length) else { throw malformed(cell) }
            return value
        }
    }

    private static func elements<T>(
        _ cell: PostgresCell, type: PostgresDataType, _ element: (inout ByteBuffer, Int) throws -> T
    ) throws -> [T?] {
        guard var buffer = cell.bytes else { return [] }
        guard cell.format == .binary, let dimensions = buffer.readInteger(as: Int32.self),
            buffer.readInteger(as: Int32.self) != nil, let oid = buffer.readInteger(as: UInt32.self),
            oid == type.rawValue
        else { throw malformed(cell) }
        if dimensions == 0 { return [] }
        guard dimensions == 1, let count = buffer.readInteger(as: Int32.self), count >= 0,
            buffer.readInteger(as: Int32.self) != nil
        else { throw malformed(cell) }
        var values: [T?] = []
        values.reserveCapacity(Int(count))
        for _ in 0..<count {
            guard let length = buffer.readInteger(as: Int32.self) else { throw malformed(cell) }
            if length < 0 {
                values.append(nil)
            } else {
                guard var slice = buffer.readSlice(length: Int(length)) else { throw malformed(cell) }
                values.append(try element(&slice, Int(length)))
            }
        }
        return values
    }

    private static func malformed(_ cell: PostgresCell) -> EventStoreError {
        EventStoreError("postgresql: column \(cell.columnName) is not the array expected")
    }
}
