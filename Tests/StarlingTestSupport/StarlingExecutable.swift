import Foundation

/// The `starling` executable that `swift build --build-tests` puts beside the test bundle, for
/// tests that run the command line as a child process.
public enum StarlingExecutable {
    public static var url: URL {
        var dir = (Bundle.main.executableURL ?? URL(fileURLWithPath: CommandLine.arguments[0])).deletingLastPathComponent()
        while !FileManager.default.fileExists(atPath: dir.appendingPathComponent("starling").path) && dir.path != "/" {
            dir = dir.deletingLastPathComponent()
        }
        return dir.appendingPathComponent("starling")
    }
}
