import Foundation

/// Finds the folder that holds the offline datasets (`ncf-ml-1m/`, `ml-100k/`, …).
public enum DataRoot {
    /// The explicit path if one is given (it must exist: a mistyped `--data` is an error, never
    /// silently replaced); otherwise the first of `$STARLING_DATA`, `../shared/datasets`,
    /// `shared/datasets` (relative to the working directory) that exists.
    public static func resolve(explicit: String? = nil,
                               environment: [String: String] = ProcessInfo.processInfo.environment) throws(DataError) -> URL {
        var candidates: [String] = []
        if let explicit {
            candidates = [explicit]
        } else {
            if let env = environment["STARLING_DATA"], !env.isEmpty { candidates.append(env) }
            candidates += ["../shared/datasets", "shared/datasets"]
        }
        for c in candidates {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: c, isDirectory: &isDirectory), isDirectory.boolValue {
                return URL(fileURLWithPath: c).standardizedFileURL
            }
        }
        throw .noDataRoot(tried: candidates)
    }

    /// `root/name`, checking that the folder exists.
    public static func dataset(_ name: String, in root: URL) throws(DataError) -> URL {
        let url = root.appendingPathComponent(name)
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw .missingFile(path: url.path, hint: "dataset folder '\(name)' is not under \(root.path)")
        }
        return url
    }
}
