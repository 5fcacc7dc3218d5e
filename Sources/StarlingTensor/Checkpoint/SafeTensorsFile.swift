import Foundation

/// A problem reading or writing a safetensors checkpoint, naming the file and, where it applies,
/// the tensor.
public enum CheckpointError: Error, CustomStringConvertible {
    case unreadable(path: String, reason: String)
    case unwritable(path: String, reason: String)
    case malformedHeader(path: String, reason: String)
    case unsupportedType(path: String, tensor: String, dtype: String)
    case badOffsets(path: String, tensor: String, reason: String)
    case missingMetadata(path: String, key: String)

    public var description: String {
        switch self {
        case let .unreadable(path, reason): return "\(path): cannot read checkpoint: \(reason)"
        case let .unwritable(path, reason): return "\(path): cannot write checkpoint: \(reason)"
        case let .malformedHeader(path, reason): return "\(path): malformed safetensors header: \(reason)"
        case let .unsupportedType(path, tensor, dtype):
            return "\(path): tensor '\(tensor)' has dtype \(dtype); supported: F32, F64, F16, BF16, I64, I32, I16, I8, U8, BOOL"
        case let .badOffsets(path, tensor, reason): return "\(path): tensor '\(tensor)': \(reason)"
        case let .missingMetadata(path, key): return "\(path): checkpoint metadata has no '\(key)'"
        }
    }
}

/// Named tensors plus string metadata, stored in the safetensors format
/// (<https://github.com/huggingface/safetensors>): an 8-byte little-endian header length, a JSON
/// header of `{name: {dtype, shape, data_offsets}, "__metadata__": {…}}` padded with spaces to a
/// multiple of 8 bytes, then the raw little-endian tensor bytes.
///
/// Starling writes `F32`. It reads `F32` as is and converts `F64`, `F16`, `BF16` and integer types
/// to `Float`, so checkpoints saved by PyTorch, NumPy or JAX load too.
public struct SafeTensorsFile: Sendable {
    /// An exact integer array (ids, offsets) stored as `I32`.
    public struct IntegerTensor: Sendable, Equatable {
        public var shape: [Int]
        public var values: [Int32]
        public init(shape: [Int], values: [Int32]) {
            precondition(Tensor.elementCount(shape) == values.count, "IntegerTensor: shape \(shape) needs \(Tensor.elementCount(shape)) values, got \(values.count)")
            self.shape = shape
            self.values = values
        }
    }

    /// The floating-point tensors by name (stored as `F32`; `F64`, `F16` and `BF16` are read too).
    public var tensors: [String: Tensor]
    /// The integer tensors by name (stored as `I32`; `I64`, `I16`, `I8`, `U8` and `BOOL` are read too).
    public var integerTensors: [String: IntegerTensor]
    /// Free-form string metadata (model name, hyper-parameters, dataset, …).
    public var metadata: [String: String]

    public init(tensors: [String: Tensor] = [:], integerTensors: [String: IntegerTensor] = [:], metadata: [String: String] = [:]) {
        self.tensors = tensors
        self.integerTensors = integerTensors
        self.metadata = metadata
    }

    /// The integer tensor called `name`, or ``TensorError/missingTensor(name:)``.
    public func integerTensor(_ name: String) throws(TensorError) -> IntegerTensor {
        guard let t = integerTensors[name] else { throw .missingTensor(name: name) }
        return t
    }

    /// The tensor called `name`, or ``TensorError/missingTensor(name:)``.
    public func tensor(_ name: String) throws(TensorError) -> Tensor {
        guard let t = tensors[name] else { throw .missingTensor(name: name) }
        return t
    }

    /// The metadata value for `key`, or ``CheckpointError/missingMetadata(path:key:)``.
    public func metadata(_ key: String, path: String = "checkpoint") throws(CheckpointError) -> String {
        guard let v = metadata[key] else { throw .missingMetadata(path: path, key: key) }
        return v
    }

    /// The file's bytes.
    public func serialized() throws(CheckpointError) -> Data {
        var header: [String: Any] = [:]
        var offset = 0
        let names = tensors.keys.sorted(), integerNames = integerTensors.keys.sorted()
        if let clash = integerNames.first(where: { tensors[$0] != nil }) {
            throw .unwritable(path: "<memory>", reason: "'\(clash)' is both a float and an integer tensor")
        }
        for name in names {
            let t = tensors[name]!
            let bytes = t.count * 4
            header[name] = ["dtype": "F32", "shape": t.shape, "data_offsets": [offset, offset + bytes]]
            offset += bytes
        }
        for name in integerNames {
            let t = integerTensors[name]!
            let bytes = t.values.count * 4
            header[name] = ["dtype": "I32", "shape": t.shape, "data_offsets": [offset, offset + bytes]]
            offset += bytes
        }
        if !metadata.isEmpty { header["__metadata__"] = metadata }
        var json: Data
        do { json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys]) } catch {
            throw .unwritable(path: "<memory>", reason: "header is not valid JSON: \(error)")
        }
        let padding = (8 - json.count % 8) % 8
        json.append(contentsOf: [UInt8](repeating: 0x20, count: padding))
        var data = Data(capacity: 8 + json.count + offset)
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { data.append(contentsOf: $0) }
        data.append(json)
        for name in names {
            tensors[name]!.withUnsafeBufferPointer { buf in
                // Little-endian hosts (x86-64, arm64) store Float exactly as safetensors does.
                data.append(UnsafeBufferPointer(start: UnsafeRawPointer(buf.baseAddress!).assumingMemoryBound(to: UInt8.self),
                                                count: buf.count * 4))
            }
        }
        for name in integerNames {
            integerTensors[name]!.values.withUnsafeBytes { data.append(contentsOf: $0) }
        }
        return data
    }

    /// Writes the file atomically (a temporary file renamed into place), creating parent folders.
    public func write(to url: URL) throws(CheckpointError) {
        let data = try serialized()
        do {
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try data.write(to: url, options: .atomic)
        } catch {
            throw .unwritable(path: url.path, reason: error.localizedDescription)
        }
    }

    /// Reads a safetensors file.
    public init(contentsOf url: URL) throws(CheckpointError) {
        let data: Data
        do { data = try Data(contentsOf: url, options: .mappedIfSafe) } catch {
            throw .unreadable(path: url.path, reason: error.localizedDescription)
        }
        try self.init(data: data, path: url.path)
    }

    /// Parses safetensors bytes; `path` names the source in error messages.
    public init(data: Data, path: String = "<memory>") throws(CheckpointError) {
        guard data.count >= 8 else { throw .malformedHeader(path: path, reason: "file has \(data.count) bytes, fewer than the 8-byte length prefix") }
        let headerLength = data.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
        guard headerLength <= UInt64(data.count - 8) else {
            throw .malformedHeader(path: path, reason: "header length \(headerLength) exceeds the file size \(data.count)")
        }
        let headerEnd = 8 + Int(headerLength)
        let object: Any
        do { object = try JSONSerialization.jsonObject(with: data.subdata(in: 8..<headerEnd)) } catch {
            throw .malformedHeader(path: path, reason: "not valid JSON (\(error.localizedDescription))")
        }
        guard let header = object as? [String: Any] else { throw .malformedHeader(path: path, reason: "header is not a JSON object") }
        var metadata: [String: String] = [:]
        if let m = header["__metadata__"] {
            guard let m = m as? [String: Any] else { throw .malformedHeader(path: path, reason: "__metadata__ is not an object") }
            for (k, v) in m {
                guard let s = v as? String else { throw .malformedHeader(path: path, reason: "__metadata__[\(k)] is not a string") }
                metadata[k] = s
            }
        }
        let bufferLength = data.count - headerEnd
        var tensors: [String: Tensor] = [:]
        var integerTensors: [String: IntegerTensor] = [:]
        for (name, entry) in header where name != "__metadata__" {
            guard let e = entry as? [String: Any], let dtype = e["dtype"] as? String,
                  let shape = (e["shape"] as? [Any])?.compactMap({ ($0 as? NSNumber)?.intValue }),
                  let offsets = (e["data_offsets"] as? [Any])?.compactMap({ ($0 as? NSNumber)?.intValue }),
                  offsets.count == 2, shape.count == (e["shape"] as? [Any])?.count
            else { throw .malformedHeader(path: path, reason: "entry '\(name)' needs dtype, shape and data_offsets") }
            guard shape.allSatisfy({ $0 >= 0 }) else { throw .badOffsets(path: path, tensor: name, reason: "negative dimension in shape \(shape)") }
            guard let width = SafeTensorsFile.byteWidth(dtype) else { throw .unsupportedType(path: path, tensor: name, dtype: dtype) }
            let count = Tensor.elementCount(shape)
            let (begin, end) = (offsets[0], offsets[1])
            guard begin >= 0, begin <= end, end <= bufferLength else {
                throw .badOffsets(path: path, tensor: name, reason: "data_offsets [\(begin), \(end)] outside the \(bufferLength)-byte data buffer")
            }
            guard end - begin == count * width else {
                throw .badOffsets(path: path, tensor: name, reason: "shape \(shape) of \(dtype) needs \(count * width) bytes, offsets span \(end - begin)")
            }
            if ["I32", "I64", "I16", "I8", "U8", "BOOL"].contains(dtype) {
                let values: [Int32] = data.withUnsafeBytes { raw in
                    let src = raw.baseAddress! + headerEnd + begin
                    return (0..<count).map { i in
                        switch dtype {
                        case "I32": return Int32(littleEndian: src.loadUnaligned(fromByteOffset: 4 * i, as: Int32.self))
                        case "I64": return Int32(truncatingIfNeeded: Int64(littleEndian: src.loadUnaligned(fromByteOffset: 8 * i, as: Int64.self)))
                        case "I16": return Int32(Int16(littleEndian: src.loadUnaligned(fromByteOffset: 2 * i, as: Int16.self)))
                        case "I8": return Int32(src.load(fromByteOffset: i, as: Int8.self))
                        default: return Int32(src.load(fromByteOffset: i, as: UInt8.self))
                        }
                    }
                }
                integerTensors[name] = IntegerTensor(shape: shape, values: values)
                continue
            }
            var t = Tensor(uninitializedShape: shape)
            let dst = t.writePointer()
            data.withUnsafeBytes { raw in
                SafeTensorsFile.decode(dtype, raw.baseAddress! + headerEnd + begin, count, into: dst)
            }
            tensors[name] = t
        }
        self.init(tensors: tensors, integerTensors: integerTensors, metadata: metadata)
    }

    static func byteWidth(_ dtype: String) -> Int? {
        switch dtype {
        case "F32", "I32": return 4
        case "F64", "I64": return 8
        case "F16", "BF16", "I16": return 2
        case "I8", "U8", "BOOL": return 1
        default: return nil
        }
    }

    static func decode(_ dtype: String, _ src: UnsafeRawPointer, _ n: Int, into dst: UnsafeMutablePointer<Float>) {
        switch dtype {
        case "F32": for i in 0..<n { dst[i] = Float(bitPattern: UInt32(littleEndian: src.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self))) }
        case "F64": for i in 0..<n { dst[i] = Float(Double(bitPattern: UInt64(littleEndian: src.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self)))) }
        case "F16": for i in 0..<n { dst[i] = halfToFloat(UInt16(littleEndian: src.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))) }
        case "BF16": for i in 0..<n { dst[i] = Float(bitPattern: UInt32(UInt16(littleEndian: src.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))) << 16) }
        case "I64": for i in 0..<n { dst[i] = Float(Int64(littleEndian: src.loadUnaligned(fromByteOffset: 8 * i, as: Int64.self))) }
        case "I32": for i in 0..<n { dst[i] = Float(Int32(littleEndian: src.loadUnaligned(fromByteOffset: 4 * i, as: Int32.self))) }
        case "I16": for i in 0..<n { dst[i] = Float(Int16(littleEndian: src.loadUnaligned(fromByteOffset: 2 * i, as: Int16.self))) }
        case "I8": for i in 0..<n { dst[i] = Float(src.load(fromByteOffset: i, as: Int8.self)) }
        default: for i in 0..<n { dst[i] = Float(src.load(fromByteOffset: i, as: UInt8.self)) }
        }
    }

    /// IEEE 754 half precision to single precision, including subnormals, infinities and NaN.
    static func halfToFloat(_ h: UInt16) -> Float {
        let sign = UInt32(h >> 15) << 31
        let exponent = Int((h >> 10) & 0x1F)
        var mantissa = UInt32(h & 0x3FF)
        if exponent == 0 {
            if mantissa == 0 { return Float(bitPattern: sign) }
            var e = -1
            repeat { mantissa <<= 1; e += 1 } while mantissa & 0x400 == 0
            return Float(bitPattern: sign | UInt32(127 - 15 - e) << 23 | (mantissa & 0x3FF) << 13)
        }
        if exponent == 31 { return Float(bitPattern: sign | 0x7F80_0000 | mantissa << 13) }
        return Float(bitPattern: sign | UInt32(exponent - 15 + 127) << 23 | mantissa << 13)
    }
}
