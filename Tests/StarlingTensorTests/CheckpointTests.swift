import Foundation
import StarlingTensor
import Testing

@Suite("safetensors checkpoints")
struct CheckpointTests {
    func temporaryDirectory() -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("starling-ckpt-\(UUID().uuidString)")
        try! FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    @Test func roundTripKeepsValuesAndMetadata() throws {
        var rng = RandomGenerator(seed: 1)
        let file = SafeTensorsFile(
            tensors: ["a.weight": .normal(shape: [3, 4], using: &rng), "b": Tensor([1, 2]), "scalar": Tensor(scalar: 7), "empty": Tensor(shape: [0, 3])],
            integerTensors: ["ids": .init(shape: [2, 2], values: [0, -7, 2_000_000_000, 42])],
            metadata: ["model": "test", "note": "ünïcödé \"quoted\""])
        let url = temporaryDirectory().appendingPathComponent("x.safetensors")
        try file.write(to: url)
        let back = try SafeTensorsFile(contentsOf: url)
        #expect(back.metadata == file.metadata)
        #expect(Set(back.tensors.keys) == Set(file.tensors.keys))
        for (k, t) in file.tensors { #expect(back.tensors[k]!.isIdentical(to: t)) }
        #expect(back.integerTensors == file.integerTensors)
        // The header is padded to 8 bytes, as the reference implementation does.
        let data = try Data(contentsOf: url)
        let n = data.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }
        #expect(n % 8 == 0)
    }

    @Test func malformedFilesGiveErrorsNamingTheProblem() throws {
        let dir = temporaryDirectory()
        let short = dir.appendingPathComponent("short.safetensors")
        try Data([1, 2, 3]).write(to: short)
        #expect { try SafeTensorsFile(contentsOf: short) } throws: { "\($0)".contains("short.safetensors") }
        // Offsets pointing past the data.
        var header = Data(#"{"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}"#.utf8)
        var bytes = Data()
        withUnsafeBytes(of: UInt64(header.count).littleEndian) { bytes.append(contentsOf: $0) }
        bytes.append(header); bytes.append(Data(count: 8))
        #expect { try SafeTensorsFile(data: bytes, path: "bad.safetensors") } throws: { "\($0)".contains("'w'") }
        header = Data(#"{"w":{"dtype":"C64","shape":[1],"data_offsets":[0,8]}}"#.utf8)
        bytes = Data()
        withUnsafeBytes(of: UInt64(header.count).littleEndian) { bytes.append(contentsOf: $0) }
        bytes.append(header); bytes.append(Data(count: 8))
        #expect { try SafeTensorsFile(data: bytes) } throws: { "\($0)".contains("C64") }
        #expect(throws: CheckpointError.self) { try SafeTensorsFile(contentsOf: dir.appendingPathComponent("missing.safetensors")) }
    }

    @Test func moduleStateLoadsOnlyWhenEveryShapeFits() throws {
        var rng = RandomGenerator(seed: 2)
        let a = Linear(inputs: 3, outputs: 2, name: "fc", rng: &rng)
        let b = Linear(inputs: 3, outputs: 2, name: "fc", rng: &rng)
        try b.loadStateDictionary(a.stateDictionary())
        #expect(b.weight.value.isIdentical(to: a.weight.value))
        let c = Linear(inputs: 4, outputs: 2, name: "fc", rng: &rng)
        #expect(throws: TensorError.shapeMismatch(name: "fc.weight", expected: [2, 4], actual: [2, 3])) {
            try c.loadStateDictionary(a.stateDictionary())
        }
        #expect(throws: TensorError.missingTensor(name: "fc.weight")) { try c.loadStateDictionary([:]) }
    }

    /// Starling writes, Python's `safetensors` + NumPy read (values compared bit for bit), Python
    /// writes (F32 and F16, with metadata), Starling reads.
    @Test func interoperatesWithPythonSafetensors() throws {
        let dir = temporaryDirectory()
        var rng = RandomGenerator(seed: 3)
        let weights = Tensor.normal(shape: [5, 7], using: &rng)
        let starlingFile = dir.appendingPathComponent("from_starling.safetensors")
        try SafeTensorsFile(tensors: ["layer.weight": weights, "bias": Tensor([0.5, -1.25, 3])],
                            integerTensors: ["ids": .init(shape: [3], values: [5, -1, 123_456_789])],
                            metadata: ["model": "neumf"]).write(to: starlingFile)
        // The exact bit patterns Python must find.
        let expectedBits = weights.scalars.map { String($0.bitPattern) }.joined(separator: ",")
        let pythonFile = dir.appendingPathComponent("from_python.safetensors")
        let script = """
        import sys, numpy as np
        from safetensors.numpy import load_file, save_file
        from safetensors import safe_open
        t = load_file(sys.argv[1])
        w = t["layer.weight"]
        assert w.dtype == np.float32 and w.shape == (5, 7), (w.dtype, w.shape)
        bits = [int(b) for b in sys.argv[3].split(",")]
        assert w.view(np.uint32).ravel().tolist() == bits, "weights differ bit-wise"
        assert t["bias"].tolist() == [0.5, -1.25, 3.0]
        assert t["ids"].dtype == np.int32 and t["ids"].tolist() == [5, -1, 123456789]
        with safe_open(sys.argv[1], framework="numpy") as f:
            assert f.metadata() == {"model": "neumf"}, f.metadata()
        out = {"doubled": (w * 2).astype(np.float32),
               "ramp": (np.arange(12, dtype=np.float32).reshape(3, 4) / 8).astype(np.float32),
               "half": np.array([1.5, -2.0, 65504.0, 6.1e-5], dtype=np.float16),
               "counts": np.array([[1, 2], [3, 2**40]], dtype=np.int64)}
        save_file(out, sys.argv[2], metadata={"writer": "python"})
        print("ok")
        """
        let output = try runPython(script, arguments: [starlingFile.path, pythonFile.path, expectedBits])
        #expect(output.contains("ok"))
        let back = try SafeTensorsFile(contentsOf: pythonFile)
        #expect(back.metadata == ["writer": "python"])
        #expect(try back.tensor("doubled").isIdentical(to: weights * 2))
        #expect(try back.tensor("ramp").scalars == (0..<12).map { Float($0) / 8 })
        #expect(try back.integerTensor("counts").values[0..<3] == [1, 2, 3])
        let half = try back.tensor("half").scalars
        #expect(half[0] == 1.5 && half[1] == -2 && half[2] == 65504 && abs(half[3] - 6.1e-5) < 1e-7)
    }

    func runPython(_ script: String, arguments: [String]) throws -> String {
        let process = Process()
        // scripts/test.sh points STARLING_PYTHON at a Python with numpy and safetensors.
        if let python = ProcessInfo.processInfo.environment["STARLING_PYTHON"] {
            process.executableURL = URL(fileURLWithPath: python)
            process.arguments = ["-c", script] + arguments
        } else {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["python3", "-c", script] + arguments
        }
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        try #require(process.terminationStatus == 0, "python3 failed (is the safetensors package installed?): \(text)")
        return text
    }
}
